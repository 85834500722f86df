#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""README command 1: the whole mesh on one machine.

Brings up the lab (scripts/lab/mesh_lab.py) on a real topology (Abilene by
default: 11 gateways, 14 links with the delay of their length), then tells
what happens in numbered steps with their figures:

  1. the mesh joins: every gateway registers with meshctld (ID, role)
  2. tunnels: each gateway sets up tunnels to every other (and backups)
  3. traffic flows: site traffic between every pair (path, RTT, rate)
  4. a multi-hop path: tshark on each hop's link decodes its ESP, SPIs as
     the controller allocated them, relayed without keys at the transits
  5. a link fails: three cuts in turn, each of the first link of a steady
     stream's path then; the gap until the backup carries it (the median
     of the three is the figure), and the new path
  6. a surge: the demand profile (demand_profile.py: Abilene's matrices
     when ../shared/data is there, else generated) with one pair surging
     on the busiest link, replayed twice: the gateways pricing the loads
     measured now, then the forecast loads (surge.py); loss and queueing
     delay on that link, and when the flows moved off it
  7. meshctl explain for a flow that moved
  8. a picture: meshctl topology --format dot, drawn by Graphviz
  9. summary table

and takes everything down (processes, namespaces), also when interrupted.

usage: scripts/lab/demo.py [--topology FILE] [--build DIR] [--short] [--json FILE] [--keep]
  --short      fewer pairs and shorter streams (the e2e test)
  --json FILE  the figures as JSON (what the e2e test asserts on)
  --keep       keep the work directory (logs, configs, captures)
Needs root (network namespaces). Usually run through scripts/demo.sh.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mesh_lab  # noqa: E402
import surge  # noqa: E402

PY = mesh_lab.PY
HERE = mesh_lab.HERE


def on_host(lab, node):
    """A command on a site host: niced, so that on a small machine the
    gateways, not the traffic tools standing in for their users, get the
    CPU first (they would be other machines in a real mesh)."""
    return ["ip", "netns", "exec", lab.ns("h" + node), "nice", "-n", "10"]


def step(n, title):
    print(f"\n== {n}. {title}", flush=True)


def ping_all(lab, pairs, count):
    """RTT (ms, average) per pair, pings of all pairs at once; None if lost."""
    procs = {}
    for a, b in pairs:
        procs[(a, b)] = subprocess.Popen(
            [*on_host(lab, a), "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "2",
             lab.host_ip(b)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = {}
    for k, p in procs.items():
        text = p.communicate(timeout=60)[0]
        rtt = None
        for line in text.splitlines():
            if line.startswith("rtt") or line.startswith("round-trip"):
                rtt = float(line.split("=")[1].split("/")[1])
        received = 0
        for line in text.splitlines():
            if "received" in line:
                received = int(line.split(",")[1].split()[0])
        out[k] = (rtt, received)
    return out


def run_demand(lab, pairs, kbps, seconds, size=500, port=6000):
    """Constant-rate traffic for every pair at once; per pair what arrived."""
    receivers = {}
    for b in sorted({b for _, b in pairs}):
        receivers[b] = subprocess.Popen([*on_host(lab, b), PY, os.path.join(HERE, "demand.py"),
                                         "recv", "--port", str(port)], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.5)
    senders = []
    for a in sorted({a for a, _ in pairs}):
        to = ",".join(f"{lab.host_ip(b)}={kbps}" for x, b in pairs if x == a)
        senders.append(subprocess.Popen([*on_host(lab, a), PY, os.path.join(HERE, "demand.py"),
                                         "send", "--port", str(port), "--duration", str(seconds), "--size", str(size),
                                         "--to", to], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for s in senders:
        s.wait(timeout=seconds + 30)
    time.sleep(0.5)
    return mesh_lab.collect_counts(lab, receivers)


def udp_stream(lab, a, b, rate, seconds, port, during=None):
    """A numbered 1 kHz stream a -> b (tests/e2e/udp_stream.py); during() runs meanwhile."""
    tool = os.path.join(mesh_lab.ROOT, "tests", "e2e", "udp_stream.py")
    recv = subprocess.Popen([*on_host(lab, b), PY, tool, "recv", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.3)
    send = subprocess.Popen([*on_host(lab, a), PY, tool, "send", "--to", lab.host_ip(b),
                             "--port", str(port), "--rate", str(rate), "--duration", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if during:
        during()
    send.wait(timeout=seconds + 30)
    time.sleep(0.5)
    recv.send_signal(2)
    return json.loads(recv.communicate(timeout=20)[0])


def explain_of(lab, src, dst):
    """meshctl explain on src's gateway for its traffic to dst (JSON), or None."""
    out = lab.run(src, lab.meshctl_bin, "explain", "--stats", f"http://127.0.0.1:{lab.stats_ports[src]}",
                  "--to", lab.ids[dst], "-o", "json", check=False)
    try:
        return json.loads(out)
    except ValueError:
        return None


def topology_dot(lab, flow):
    """(meshctl topology --format dot, the flow drawn): the flow only if meshctl takes it."""
    if len(flow) >= 2 and all(n in lab.ids for n in flow):
        dot = lab.meshctl("topology", "--format", "dot", "--path", ",".join(lab.ids[n] for n in flow),
                          as_json=False, check=False)
        if "graph meshgw" in dot:
            return dot, flow
    return lab.meshctl("topology", "--format", "dot", as_json=False), []


def format_moves(run):
    moves = run["pairs_moved_off"]
    if not moves:
        return "none"
    return ", ".join(f"{p} at {t} s" for p, t in sorted(moves.items(), key=lambda kv: kv[1])[:4]) + \
        (f" (+{len(moves) - 4})" if len(moves) > 4 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default=os.path.join(HERE, "abilene.json"))
    ap.add_argument("--build", default=os.environ.get("MESHGW_BUILD", os.path.join(mesh_lab.ROOT, "build")))
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("demo.py: needs root (network namespaces); run scripts/demo.sh as root")
    topo = mesh_lab.load_topology(args.topology)
    work = tempfile.mkdtemp(prefix="meshgw-demo-")
    lab = mesh_lab.Lab(topo, args.build, workdir=work)
    mesh_lab.install_signal_handlers()
    figures = {"topology": topo["name"], "tag": lab.tag, "gateways": len(lab.nodes), "links": len(topo["links"])}
    started = time.monotonic()
    ok = False
    try:
        print(f"meshgw lab: {topo['name']}, {len(lab.nodes)} gateways, {len(topo['links'])} links "
              f"(one-way delay from each link's length at 200 km/ms), work directory {work}")
        step(1, "the mesh joins")
        up_s = lab.up()
        lab.wait_joined()

        def all_up():
            listed = {g["id"]: g for g in lab.meshctl("gateways")["gateways"]}
            return listed if all(listed.get(lab.ids[n], {}).get("status") == "up" for n in lab.nodes) else None
        gateways = lab.wait_for("every gateway's first beacon", all_up, 30, interval=0.3)
        print(f"{'gateway':<8} {'city':<15} {'mesh ID':<7} {'role':<5} {'underlay':<12} status")
        for n in lab.nodes:
            g = gateways.get(lab.ids[n], {})
            print(f"{n:<8} {topo['by_id'][n].get('label', n):<15} {lab.ids[n]:<7} {g.get('role', '?'):<5} "
                  f"{lab.wan_ip(n):<12} {g.get('status', '?')}")
        figures["joined"] = sum(1 for n in lab.nodes if lab.ids[n] in gateways)
        figures["bring_up_s"] = round(up_s, 1)
        print(f"{figures['joined']} of {len(lab.nodes)} gateways registered ({up_s:.1f} s to start everything)")

        step(2, "tunnels: every gateway to every other, with backups")
        t0 = time.monotonic()
        lab.wait_for("every gateway's tunnels to every other", lab.all_tunnels_up, 180, interval=1)
        figures["tunnels_up_s"] = round(time.monotonic() - t0, 1)
        spis = lab.meshctl("spis")["spis"]
        figures["spis"] = len(spis)
        print(f"all {len(lab.nodes) * (len(lab.nodes) - 1)} ordered pairs have an active tunnel after "
              f"{figures['tunnels_up_s']} s; the controller holds {len(spis)} SPIs (one per tunnel direction)")

        step(3, "traffic flows between every pair of sites")
        pairs = [(a, b) for a in lab.nodes for b in lab.nodes if a != b]
        pings = ping_all(lab, pairs, 3 if args.short else 5)
        seconds = 4 if args.short else 8
        kbps = 100
        demand = run_demand(lab, pairs, kbps, seconds)
        reached = 0
        rows = []
        for a, b in pairs:
            rtt, got = pings[(a, b)]
            d = demand.get((a, b), {})
            if got > 0 and d.get("packets", 0) > 0:
                reached += 1
            rows.append((a, b, lab.active_path(a, b) or [], rtt, d))
        figures["pairs"] = len(pairs)
        figures["pairs_reached"] = reached
        shown = [r for r in rows if r[0] == lab.nodes[0]] + [r for r in rows if r[0] == lab.nodes[3]]
        print(f"{'pair':<10} {'path':<28} {'RTT ms':>7} {'kbit/s':>7} {'lost':>5} {'one-way p99 ms':>14}")
        for a, b, path, rtt, d in shown:
            rate = d.get("bytes", 0) * 8 / seconds / 1000
            print(f"{a + '>' + b:<10} {'>'.join(path):<28} {rtt if rtt is not None else float('nan'):>7.1f} "
                  f"{rate:>7.0f} {d.get('lost', '-'):>5} {d.get('delay_ms_p99', 0):>14.1f}")
        lost = sum(d.get("lost", 0) for *_, d in rows)
        sent = sum(d.get("packets", 0) + d.get("lost", 0) for *_, d in rows)
        rtts = sorted(r[3] for r in rows if r[3] is not None)
        figures["demand_lost_fraction"] = round(lost / max(sent, 1), 5)
        figures["rtt_ms_median"] = rtts[len(rtts) // 2] if rtts else None
        print(f"(the pairs from {lab.nodes[0]} and {lab.nodes[3]} shown) {reached} of {len(pairs)} pairs reach each "
              f"other; {kbps} kbit/s each way for {seconds} s: {lost} of {sent} datagrams lost; RTT median "
              f"{figures['rtt_ms_median']} ms")

        step(4, "a multi-hop path, ESP on every hop")
        a, b, _ = max(((a, b, p) for a, b, p, *_ in rows), key=lambda r: (len(r[2]), r[0], r[1]))
        path = lab.active_path(a, b)
        capture = os.path.join(work, "hops.pcap")
        everyone = sum((["-i", f"to-{n}"] for n in lab.nodes), [])
        lab.spawn("tshark", "ul", ["nice", "-n", "10", "tshark", "-q", "-B", "32", *everyone, "-w", capture, "-f", "udp port 4500"],
                  log=os.path.join(work, "tshark.log"))
        lab.wait_for("tshark", lambda: lab.log_says("tshark", "Capturing on"), 60)
        time.sleep(1)  # every interface's capture running
        stream = udp_stream(lab, a, b, 200, 2, 6100)
        time.sleep(0.5)
        lab.stop("tshark")
        # Niced like the capture: decoding a few MB takes a core for a
        # second, and eleven gateways' control threads share the other.
        decoded = lab.run("ul", "nice", "-n", "10", "tshark", "-r", capture, "-Y", "esp", "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                          "-e", "esp.spi", "-e", "esp.sequence", check=False)
        by_ip = {lab.wan_ip(n): n for n in lab.nodes}
        # SPI -> (from, to) -> sequence numbers seen (a frame shows on both ends' interfaces).
        seen = {}
        for line in decoded.splitlines():
            f = line.split("\t")
            if len(f) >= 4 and f[0] in by_ip and f[1] in by_ip:
                seen.setdefault(int(f[2], 16), {}).setdefault((by_ip[f[0]], by_ip[f[1]]), set()).add(f[3])
        spis = lab.meshctl("spis")["spis"]
        # The a -> b tunnel that carried the stream: the controller's SPI seen most.
        ours = [(sum(len(v) for v in seen.get(x["spi"], {}).values()), x) for x in spis
                if lab.node_of.get(x["path"][0]) == a and lab.node_of.get(x["path"][-1]) == b]
        record = max(ours, key=lambda c: c[0])[1] if ours else None
        hops_seen = 0
        if record:
            path = [lab.node_of.get(h, h) for h in record["path"]]
            relays = ", ".join(lab.node_of.get(r["gateway"], r["gateway"]) for r in record["relays"])
            print(f"{a} -> {b} over {' > '.join(path)} ({len(path) - 1} hops), SPI {record['spi']:#010x} as the "
                  f"controller allocated it, relayed by {relays or 'nobody'} without its keys")
            for x, y in zip(path, path[1:]):
                n = len(seen.get(record["spi"], {}).get((x, y), ()))
                hops_seen += n > 0
                print(f"  {x:>4} -> {y:<4} {n:>5} ESP packets with that SPI (tshark decodes them as ESP)")
        figures["multihop"] = {"from": a, "to": b, "path": path, "hops": len(path) - 1, "hops_with_esp": hops_seen,
                               "stream_received": stream["received"], "stream_lost": stream["lost"]}
        print(f"  the 200 pkt/s stream: {stream['received']} received, {stream['lost']} lost")

        step(5, "a link fails")
        # First ask the controller what the cut would do (nothing changes).
        first = lab.active_path(a, b) or []
        if len(first) >= 2:
            try:
                w = lab.meshctl("whatif", "--fail-link", f"{lab.ids[first[0]]}-{lab.ids[first[1]]}")
                verdicts = [f["verdict"] for f in w["flows"]]
                figures["whatif"] = {"link": first[:2], "moves_now": verdicts.count("moves_now"),
                                     "lost": verdicts.count("lost"), "hot_links": w["hot_links"]}
                print(f"meshctl whatif --fail-link {first[0]}-{first[1]}: {verdicts.count('moves_now')} flows would "
                      f"move at once, {verdicts.count('lost')} lost, {w['hot_links']} links hot")
            except (mesh_lab.LabError, KeyError, ValueError) as e:
                print(f"meshctl whatif: {e}")
        # Three cuts, one after the other, each of the first link of the path
        # a -> b takes then (the one before is restored first); the gap is
        # their median: on two cores shared by eleven gateways one cut can
        # land on a stalled scheduler, and one figure would be that stall's.
        rate = 500
        cuts = []
        for k in range(3):
            cut, path_before = [], []

            def do_cut():
                time.sleep(1.5)
                # The path in use now (paths move with load and measurements).
                path_before.extend(lab.active_path(a, b) or [])
                cut.extend(path_before[:2])
                lab.wanem_ctl("cut", f"{cut[0]}-{cut[1]}")
                print(f"cut {k + 1}: {cut[0]}-{cut[1]}, the first link of {a} -> {b} ({' > '.join(path_before)}), "
                      f"under a {rate} pkt/s stream", flush=True)
            failover = udp_stream(lab, a, b, rate, 4, 6101 + k, during=do_cut)
            path_after = lab.active_path(a, b)
            lab.wanem_ctl("restore", f"{cut[0]}-{cut[1]}")
            # A stream that never came back has no long gap between arrivals:
            # it ends early. Recovered means its last datagrams arrived.
            recovered = failover["highest_seq"] >= 0.97 * rate * 4 - 1
            if not recovered:
                raise mesh_lab.LabError(f"the stream did not come back after cut {k + 1} ({failover})")
            cuts.append({"cut": list(cut), "path_before": path_before, "path_after": path_after,
                         "gap_ms": failover["max_gap_ms"], "recovered": recovered,
                         "lost": failover["lost"], "received": failover["received"]})
            print(f"  traffic moved from {' > '.join(path_before)} to {' > '.join(path_after or ['?'])}: "
                  f"longest gap {failover['max_gap_ms']:.0f} ms, {failover['lost']} of "
                  f"{failover['lost'] + failover['received']} datagrams lost")
            time.sleep(0.5)
        gaps = sorted(c["gap_ms"] for c in cuts)
        figures["failover"] = dict(cuts[0], gap_ms=gaps[len(gaps) // 2], gap_ms_max=gaps[-1], cuts=cuts,
                                   recovered=all(c["recovered"] for c in cuts))
        print(f"failover gap: median {gaps[len(gaps) // 2]:.0f} ms of {len(cuts)} cuts "
              f"({', '.join(f'{g:.0f}' for g in gaps)} ms; goal: under 300 ms)")

        step(6, "a surge: forecast, and moved before the link saturates")
        warmup, ramp, hold = (10, 20, 8) if args.short else (12, 25, 12)
        seconds = warmup + ramp + hold + 3
        experiment = surge.plan(lab, seconds, warmup, ramp, hold)
        sg = experiment["surge"]
        link = experiment["link"]
        print(f"demand: {experiment['profile']['source']}, a day compressed into "
              f"{experiment['profile']['day_seconds']:.0f} s, {seconds} s of it replayed twice; "
              f"{sg['from']} -> {sg['to']} surges to {sg['peak_kbps'] / 1000:.1f} Mbit/s over {ramp} s on "
              f"{link[0]} -> {link[1]}, the link the demand loads most ({experiment['capacity_kbps'] / 1000:.0f} Mbit/s, "
              f"{len(experiment['pairs_crossing'])} pairs cross it; offered load above its capacity from second "
              f"{experiment['saturates_at_s']})")
        moved = {}

        def during_hold(second, predict):
            # While the surge holds, in the run with prediction: one moved
            # flow's explain, and the picture with the links as loaded now.
            if not predict or moved or second < warmup + ramp:
                return
            pairs = [tuple(p) for p in experiment["pairs_crossing"]]
            for x, y in pairs:
                path = lab.active_path(x, y) or []
                if tuple(link) not in zip(path, path[1:]):
                    moved.update(pair=[x, y], path=path,
                                 explain=explain_of(lab, x, y), dot=topology_dot(lab, path))
                    return
            moved.update(pair=None, dot=topology_dot(lab, []))
        runs = {}
        for predict in (False, True):
            label = "forecast" if predict else "load now"
            r = surge.run(lab, experiment, predict, 6200 + predict, on_host, during=during_hold)
            runs[label] = r
            print(f"  {label + ':':<10} {r['link_dropped']:>5} datagrams dropped on {link[0]} -> {link[1]} "
                  f"({r['link_loss_fraction'] * 100:.2f} %), its queueing delay p99 {r['link_queue_delay_ms_p99']:.1f} ms; "
                  f"of the {r['pairs_on_link_at_start']} pairs on it when the surge began, moved off {format_moves(r)}; the surge lost {r['surge_lost']} of "
                  f"{r['surge_lost'] + r['surge_received']}, all pairs {r['all_lost_fraction'] * 100:.2f} % "
                  f"({r['paths_as_planned']} of {r['paths']} paths as planned at the start)")
        surge.set_predict(lab, True)
        figures["surge"] = {k: v for k, v in experiment.items() if k not in ("profile", "paths")}
        figures["surge"]["source"] = experiment["profile"]["source"]
        figures["surge"]["runs"] = runs
        f_on, f_off = runs["forecast"], runs["load now"]
        print(f"with the forecast: {f_on['link_loss_fraction'] * 100:.2f} % lost on the surging link against "
              f"{f_off['link_loss_fraction'] * 100:.2f} % with the load now only; queueing p99 "
              f"{f_on['link_queue_delay_ms_p99']:.1f} ms against {f_off['link_queue_delay_ms_p99']:.1f} ms")

        step(7, "meshctl explain: why a moved flow takes its path")
        figures["explain"] = None
        if moved.get("pair"):
            x, y = moved["pair"]
            e = moved["explain"] or {}
            primary = [lab.node_of.get(h, h) for h in e.get("primary", {}).get("nodes", [])]
            figures["explain"] = {"pair": [x, y], "explain_path": primary, "data_plane_path": moved["path"]}
            print(f"meshctl explain --to {lab.ids[y]} on {x}, during the surge: {' > '.join(primary) or '?'} "
                  f"(its active tunnel: {' > '.join(moved['path'])})")
            for l in e.get("primary", {}).get("links", []):
                print(f"  {lab.node_of.get(l.get('from'), l.get('from'))} -> {lab.node_of.get(l.get('to'), l.get('to'))}: "
                      f"cost {l.get('link_cost', 0):.1f}, utilisation {l.get('utilisation_now') or 0:.2f}, "
                      f"forecast {l.get('utilisation_forecast') or 0:.2f} ({l.get('forecast_method', '-')})")
            for alt in e.get("alternatives", [])[:3]:
                print(f"  not {' > '.join(lab.node_of.get(h, h) for h in alt.get('nodes', []))}: cost "
                      f"{alt.get('cost', 0):.1f}, {alt.get('verdict', '')}")
        else:
            print("no flow had moved off the surging link during the surge")

        step(8, "a picture of the mesh, links coloured by use during the surge")
        out_dir = os.path.join(mesh_lab.ROOT, "out", "lab")
        os.makedirs(out_dir, exist_ok=True)
        dot, flow = moved.get("dot") or (topology_dot(lab, []), [])
        figures["svg_flow"] = flow or None
        svg = subprocess.run(["neato", "-n2", "-Tsvg"], input=dot, capture_output=True, text=True)
        figures["svg"] = None
        if svg.returncode == 0 and "<svg" in svg.stdout:
            figures["svg"] = os.path.join(out_dir, "mesh.svg")
            with open(figures["svg"], "w") as f:
                f.write(svg.stdout)
            drawn = f", the moved flow {' > '.join(flow)} in blue" if flow else ""
            print(f"meshctl topology --format dot | neato -n2 -Tsvg{drawn}: {figures['svg']}")

        step(9, "summary")
        table = [("gateways joined", f"{figures['joined']} / {figures['gateways']}"),
                 ("tunnels up after", f"{figures['tunnels_up_s']} s"),
                 ("pairs reaching each other", f"{figures['pairs_reached']} / {figures['pairs']}"),
                 ("RTT median between sites", f"{figures['rtt_ms_median']} ms"),
                 ("datagrams lost at 100 kbit/s per pair", f"{figures['demand_lost_fraction'] * 100:.2f} %"),
                 ("longest path, hops with its ESP seen", f"{figures['multihop']['hops']}, "
                                                         f"{figures['multihop']['hops_with_esp']}"),
                 ("failover gap, median of 3 cuts", f"{figures['failover']['gap_ms']:.0f} ms"),
                 ("surging link lost, forecast / load now", f"{f_on['link_loss_fraction'] * 100:.2f} % / "
                                                            f"{f_off['link_loss_fraction'] * 100:.2f} %"),
                 ("its queueing p99, forecast / load now", f"{f_on['link_queue_delay_ms_p99']:.1f} / "
                                                           f"{f_off['link_queue_delay_ms_p99']:.1f} ms")]
        for k, v in table:
            print(f"  {k:<40} {v}")
        ok = True
    except mesh_lab.LabError as e:
        print(f"demo: {e}", file=sys.stderr)
    except KeyboardInterrupt as e:
        print(f"demo: interrupted ({e}); cleaning up", file=sys.stderr)
    finally:
        lab.down()
        left = mesh_lab.leftovers(lab.tag)
        figures["left_namespaces"] = left
        figures["seconds"] = round(time.monotonic() - started, 1)
        print(f"\nlab down: every process stopped, {len(left)} namespaces left; {figures['seconds']} s in all")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)
        if args.keep or not ok:
            print(f"logs and configs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
