# SPDX-License-Identifier: BSD-3-Clause
"""The surge experiment of the lab (demo.py step 6, scripts/bench/mesh.py):
the demand profile (demand_profile.py) replayed between all sites while one pair
surges on the mesh's busiest link, once with the gateways pricing forecast
link loads and once with the loads measured now only (the mesh policy's
"predict", switched at run time), same demand both times. Measured on the
surging link by the WAN emulator: datagrams it dropped (queue full) and
its queueing delay p99; end to end by the site receivers: what the surge
pair and all pairs lost; and from the gateways, polled every second: when
the flows that crossed the link moved off it, against the second the
offered load passes its capacity.
"""
import json
import os
import subprocess
import time

import mesh_lab
import demand_profile

PY = mesh_lab.PY
HERE = mesh_lab.HERE
DATAGRAM_BYTES = 1000  # UDP payload of the demand's datagrams


def wire_factor(payload=DATAGRAM_BYTES):
    """Bytes a datagram of the demand takes on a link (what wanem's rate
    limit counts: the Ethernet frame) per byte of its payload: inner IPv4
    and UDP, ESP (header, IV, padding to 4 with its 2 trailer bytes, ICV),
    outer UDP 4500, IPv4 and Ethernet."""
    inner = 20 + 8 + payload
    esp = 8 + 8 + inner + (-(inner + 2)) % 4 + 2 + 16
    return (14 + 20 + 8 + esp) / payload


def link_loads(lab, paths, rates, second):
    """{(u, v): kbit/s} the pairs' rates in one second put on the links of their paths."""
    loads = {}
    for a, by_dst in rates.items():
        for b, series in by_dst.items():
            path = paths.get((a, b)) or []
            for u, v in zip(path, path[1:]):
                loads[(u, v)] = loads.get((u, v), 0.0) + series[min(second, len(series) - 1)]
    return loads


def all_paths(lab):
    return {(a, b): p for a in lab.nodes for b, p in lab.active_paths(a).items()}


def wait_stable(lab, stable_s=None, timeout=20, changes=2):
    """Waits until at most `changes` active paths have moved in the last
    stable_s seconds (default: the longest hold and 2 s; a link restored or
    unloaded draws its flows back after the hold), or the timeout; returns
    the paths."""
    stable_s = stable_s if stable_s is not None else (1 + lab.path_hold_jitter) * lab.path_hold_ms / 1000 + 2
    end = time.monotonic() + timeout
    history = [(time.monotonic(), all_paths(lab))]
    while time.monotonic() < end:
        time.sleep(1)
        history.append((time.monotonic(), all_paths(lab)))
        old = [h for t, h in history if t <= history[-1][0] - stable_s]
        if old:
            then, now = old[-1], history[-1][1]
            if sum(1 for k in set(then) | set(now) if then.get(k) != now.get(k)) <= changes:
                break
    return history[-1][1]


def plan(lab, seconds, warmup_s, ramp_s, hold_s, mean_kbps=150, seed=1):
    """Chooses the surging link and pair from the paths in use and builds the
    profile: the link the background loads most (its capacity known), the
    background scaled so that it fills about a third of it, and a surge on a
    pair that crosses it (its two ends when they talk over it), peaking at
    95 % of its capacity (130 % together), all on the wire (ESP and headers
    counted: a surge over the capacity on its own would lose whatever the
    routing did): the surge, priced with its own rate on any other path,
    has nowhere better to go; the flows beside it must make room."""
    paths = wait_stable(lab)
    capacity = {}
    for l in lab.topo["links"]:
        capacity[(l["a"], l["b"])] = capacity[(l["b"], l["a"])] = l["rate_mbit"] * 1000
    base = demand_profile.build(lab.topo, seconds, mean_kbps=mean_kbps, seed=seed)
    mean_loads = {}
    for s in range(warmup_s):
        for k, v in link_loads(lab, paths, base["rates"], s).items():
            mean_loads[k] = mean_loads.get(k, 0.0) + v / warmup_s
    candidates = [(load / capacity[k], k) for k, load in mean_loads.items()
                  if k in capacity and any(k in zip(p, p[1:]) for p in paths.values())]
    if not candidates:
        raise mesh_lab.LabError("no link carries traffic: the surge has nowhere to go")
    share, link = max(candidates)
    wire = wire_factor()
    scale = min(4.0, max(0.25, 0.35 / (share * wire))) if share > 0 else 1.0
    crossing = sorted((pair for pair, p in paths.items() if link in zip(p, p[1:])),
                      key=lambda pair: (base["rates"][pair[0]][pair[1]][0], pair))
    # The link's own two ends surge when they talk over it: every other path
    # between them is longer and already carries traffic, so the surge stays
    # on the link (a pair from further away may find a way round it, and the
    # surge then fills some other link). Else the quietest pair crossing it.
    a, b = tuple(link) if tuple(link) in crossing else crossing[0]
    surge = {"from": a, "to": b, "peak_kbps": round(0.95 * capacity[link] / wire), "start_s": warmup_s,
             "ramp_s": ramp_s, "hold_s": hold_s}
    profile = demand_profile.build(lab.topo, seconds, mean_kbps=mean_kbps * scale, surge=surge, seed=seed)
    # The second the offered load on the link passes its capacity (on the paths of now).
    over = next((s for s in range(seconds)
                 if link_loads(lab, paths, profile["rates"], s).get(link, 0) * wire > capacity[link]), None)
    return {"link": list(link), "capacity_kbps": capacity[link], "pairs_crossing": [list(p) for p in crossing],
            "surge": surge, "saturates_at_s": over, "profile": profile, "paths": paths}


def set_predict(lab, on):
    """The mesh policy's "predict", the rest of the policy as it is; waits
    until every gateway has logged the new policy."""
    policy = lab.meshctl("policies")
    if policy.get("predict", True) == bool(on):
        return
    doc = {"edge_transit": policy.get("edge_transit", False), "predict": bool(on), "rules": policy.get("rules", [])}
    path = os.path.join(lab.dir, "policy.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    before = {n: log_count(lab, n, "mesh policy:") for n in lab.nodes}
    lab.meshctl("policies", "set", "--file", path)
    lab.wait_for("every gateway to take the policy",
                 lambda: all(log_count(lab, n, "mesh policy:") > before[n] for n in lab.nodes), 15, interval=0.2)


def log_count(lab, node, text):
    try:
        with open(os.path.join(lab.dir, f"{node}.log"), errors="replace") as f:
            return sum(1 for line in f if text in line)
    except FileNotFoundError:
        return 0


def link_counters(lab, link):
    for l in lab.wanem_ctl("stats")["links"]:
        if [l["from"], l["to"]] == list(link):
            return l
    raise mesh_lab.LabError(f"wanem has no link {link[0]} -> {link[1]}")


def run(lab, experiment, predict, port, on_host, during=None):
    """One replay of the profile; the figures of the surging link and the
    moves. during(second, predict), if given, is called once a second."""
    set_predict(lab, predict)
    start_paths = wait_stable(lab)
    as_planned = sum(1 for pair, p in experiment["paths"].items() if start_paths.get(pair) == p)
    profile = experiment["profile"]
    link = tuple(experiment["link"])
    seconds = profile["seconds"]
    receivers = {}
    for b in lab.nodes:
        receivers[b] = subprocess.Popen([*on_host(lab, b), PY, os.path.join(HERE, "demand.py"), "recv",
                                         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
    time.sleep(0.5)
    lab.wanem_ctl("reset")  # queueing-delay histograms from now
    before = link_counters(lab, link)
    senders = []
    for i, (a, by_dst) in enumerate(sorted(profile["rates"].items())):
        path = os.path.join(lab.dir, f"rates-{a}-{port}.json")
        with open(path, "w") as f:
            json.dump({lab.host_ip(b): r for b, r in by_dst.items()}, f)
        senders.append(subprocess.Popen([*on_host(lab, a), PY, os.path.join(HERE, "demand.py"), "send",
                                         "--port", str(port), "--duration", str(seconds), "--size", str(DATAGRAM_BYTES),
                                         "--rates", path, "--source-id", str(i)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    t0 = time.monotonic()
    crossing = [tuple(p) for p in experiment["pairs_crossing"]]
    surge_start = experiment["surge"]["start_s"]
    sg = experiment["surge"]
    watched = next((p for p in crossing if p[0] != sg["from"]), crossing[0])
    on_at_start = set()  # the pairs on the link when the surge starts
    first_off = {}  # of those, pair -> second it was first seen off the link
    timeline = []
    while time.monotonic() - t0 < seconds:
        second = int(time.monotonic() - t0)
        now = {}
        for a in sorted({a for a, _ in crossing}):
            now[a] = lab.active_paths(a)
        on_link = 0
        for a, b in crossing:
            p = now.get(a, {}).get(b) or []
            if link in zip(p, p[1:]):
                on_link += 1
                if second <= surge_start:
                    on_at_start.add((a, b))
            elif (a, b) in on_at_start and second > surge_start and (a, b) not in first_off:
                first_off[(a, b)] = second
        c = link_counters(lab, link)
        row = {"second": second, "pairs_on_link": on_link,
               "dropped": c["drops"].get("queue_full", 0) - before["drops"].get("queue_full", 0)}
        # How the mesh sees the link: the controller's load, and a gateway's
        # price of it (its utilisation now and forecast) with the surge's source.
        ids = (lab.ids[link[0]], lab.ids[link[1]])
        try:
            links = lab.meshctl("links").get("links", [])
        except (mesh_lab.LabError, ValueError, subprocess.SubprocessError):
            links = []
        for l in links:
            if (l.get("from"), l.get("to")) == ids:
                row["controller_utilisation"] = round(l.get("utilisation", 0), 3)
        e = lab.admin(experiment["surge"]["from"], f"/v1/explain?to={lab.ids[experiment['surge']['to']]}&class=default") or {}
        for l in (e.get("primary") or {}).get("links") or []:
            if (l.get("from"), l.get("to")) == ids:
                row["priced_now"] = round(l.get("utilisation_now") or 0, 3)
                row["priced_forecast"] = round(l.get("utilisation_forecast") or 0, 3)
        # And how one flow on the link weighs staying against moving.
        wa, wb = watched
        w = lab.admin(wa, f"/v1/explain?to={lab.ids[wb]}&class=default") or {}
        alts = w.get("alternatives") or []
        row["watched"] = {"pair": f"{wa}>{wb}", "reason": w.get("reason"),
                          "cost": round((w.get("primary") or {}).get("cost", 0), 1),
                          "best_alternative": round(min((x["cost"] for x in alts), default=0), 1),
                          "pending": (w.get("hysteresis") or {}).get("challenger_pending")}
        timeline.append(row)
        if during:
            during(second, predict)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - second)))
    for s in senders:
        s.wait(timeout=30)
    time.sleep(1.0)  # the last datagrams through the longest path's queues
    after = link_counters(lab, link)
    ends = mesh_lab.collect_counts(lab, receivers)
    dropped = after["drops"].get("queue_full", 0) - before["drops"].get("queue_full", 0)
    carried = after["tx_packets"] - before["tx_packets"]
    surge = experiment["surge"]
    s = ends.get((surge["from"], surge["to"]), {})
    lost = sum(f.get("lost", 0) for f in ends.values())
    got = sum(f.get("packets", 0) for f in ends.values())
    saturates = experiment["saturates_at_s"]
    moved_before = sorted(f"{a}>{b}" for (a, b), t in first_off.items() if saturates is not None and t < saturates)
    return {"predict": predict, "paths_as_planned": as_planned, "paths": len(experiment["paths"]),
            "link_dropped": dropped, "link_carried": carried,
            "link_loss_fraction": round(dropped / max(1, dropped + carried), 5),
            "link_queue_delay_ms_p99": after["queue_delay_ms"]["p99"],
            "link_queue_delay_ms_max": after["queue_delay_ms"]["max"],
            "surge_lost": s.get("lost", 0), "surge_received": s.get("packets", 0),
            "surge_delay_ms_p99": s.get("delay_ms_p99"),
            "all_lost_fraction": round(lost / max(1, lost + got), 5),
            "pairs_on_link_at_start": len(on_at_start),
            "pairs_moved_off": {f"{a}>{b}": t for (a, b), t in sorted(first_off.items())},
            "pairs_moved_before_saturation": moved_before, "timeline": timeline}
