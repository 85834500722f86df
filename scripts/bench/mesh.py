#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The whole mesh on this machine, measured (the lab of scripts/lab/: one
meshctld, a meshgw per node of Abilene, the WAN emulator; needs root).

usage: scripts/bench/mesh.py [--build DIR] [--topology FILE] [--cuts 20]
                             [--idle-seconds 10] [--surges 2] [--json FILE] [--keep]

Rows (also written to --json FILE as an array):
  failover          --cuts times: a 500 pkt/s stream between two sites whose
                    path has at least 3 hops, the first link of its path cut
                    by the emulator 1.5 s in, restored after the stream; the
                    longest gap between arrivals: gap_ms_median, gap_ms_p95,
                    gap_ms_max, recovered (streams whose last datagrams
                    arrived), lost_median
  cpu_idle          CPU used by the whole mesh (every meshgw, meshctld,
                    wanem) while idle, over --idle-seconds:
                    cpu_percent_of_one_core, and of the machine
  cpu_demand        the same while every pair of sites exchanges 100 kbit/s
  memory            resident memory per gateway (RSS, PSS): rss_mib_median,
                    rss_mib_max, pss_mib_median; meshctld's and wanem's rss

  surge             --surges times, the lab's surge experiment
                    (scripts/lab/surge.py): the demand profile between all
                    sites with one pair surging to 130 % of the busiest
                    link (itself 95 %, on the wire), replayed with the gateways pricing the loads
                    measured now and with forecasts (the mesh policy's
                    "predict"; the order alternates between repetitions),
                    one row per mode: on the surging link link_loss_percent
                    and link_queue_delay_ms_p99 (medians over the
                    repetitions, and each repetition's), the surge pair's
                    loss and one-way delay p99, all pairs' loss; then
                    ratio rows forecast / load now

The other tunnels (Nebula, wireguard-go, strongSwan) are measured by
scripts/bench/tunnels.py.
Machines differ from run to run: compare the figures of one run only.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lab"))
import mesh_lab  # noqa: E402
import demo  # noqa: E402
import surge  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else None


def cpu_seconds(pid):
    """utime + stime of a process and its threads, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def mesh_pids(lab):
    """The lab's own processes: the Popen is `ip netns exec`, which execs
    the program, so its pid is the program's."""
    return {name: p.pid for name, p in lab.procs.items() if p.poll() is None and name != "tshark"}


def cpu_over(lab, seconds, during=None):
    pids = mesh_pids(lab)
    before = {n: cpu_seconds(p) for n, p in pids.items()}
    busy0, total0 = machine_busy()
    t0 = time.monotonic()
    if during:
        during()
    else:
        time.sleep(seconds)
    wall = time.monotonic() - t0
    busy1, total1 = machine_busy()
    used = sum(cpu_seconds(p) - before[n] for n, p in pids.items())
    return {"seconds": round(wall, 1), "cpu_percent_of_one_core": round(100 * used / wall, 1),
            "machine_busy_percent": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1),
            "gateways_cpu_percent_of_one_core": round(
                100 * sum(cpu_seconds(p) - before[n] for n, p in pids.items() if n in lab.nodes) / wall, 1)}


def memory_kib(pid, key):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def failover_cuts(lab, cuts):
    """Cuts under a stream; returns one dict per cut."""
    pairs = [(a, b) for a in lab.nodes for b in lab.nodes if a != b]
    results = []
    port = 6200
    i = 0
    while len(results) < cuts and i < 4 * cuts:
        a, b = pairs[(i * 37) % len(pairs)]  # a spread of pairs, the same in every run
        i += 1
        path = lab.active_path(a, b) or []
        if len(path) < 4:
            continue
        cut = []

        def do_cut():
            time.sleep(1.5)
            now = lab.active_path(a, b) or path
            cut.extend(now[:2])
            lab.wanem_ctl("cut", f"{cut[0]}-{cut[1]}")
        rate, seconds = 500, 4
        port += 1
        s = demo.udp_stream(lab, a, b, rate, seconds, port, during=do_cut)
        after = lab.active_path(a, b)
        lab.wanem_ctl("restore", f"{cut[0]}-{cut[1]}")
        recovered = s["highest_seq"] >= 0.97 * rate * seconds - 1
        results.append({"pair": [a, b], "cut": cut, "path_before": path, "path_after": after,
                        "gap_ms": s["max_gap_ms"], "lost": s["lost"], "recovered": recovered})
        print(f"  cut {cut[0]}-{cut[1]} under {a}>{b}: gap {s['max_gap_ms']:.0f} ms, {s['lost']} lost, "
              f"{'recovered' if recovered else 'NOT recovered'}, now {'>'.join(after or ['?'])}", flush=True)
        # The link back: both ends see each other again before the next cut.
        lab.wait_for("the restored link", lambda: all(
            (lab.admin(x, "/v1/peers") or {}).get("peers") is not None and any(
                p["gateway"] == lab.ids[y] and p["up"] for p in lab.admin(x, "/v1/peers")["peers"])
            for x, y in ((cut[0], cut[1]), (cut[1], cut[0]))), 20, interval=0.2)
        time.sleep(2)
    return results


def surge_rows(lab, repetitions, warmup=10, ramp=20, hold=10):
    """The surge comparison, repeated; one row per mode and the ratios."""
    print(f"surge: {repetitions} repetitions, the loads now and forecast in alternating order", flush=True)
    seconds = warmup + ramp + hold + 3
    by_mode = {"load_now": [], "forecast": []}
    for i in range(repetitions):
        experiment = surge.plan(lab, seconds, warmup, ramp, hold, seed=1 + i)
        sg = experiment["surge"]
        print(f"  {i + 1}: {sg['from']} -> {sg['to']} to {sg['peak_kbps'] / 1000:.1f} Mbit/s on "
              f"{' -> '.join(experiment['link'])} ({experiment['profile']['source']})", flush=True)
        for predict in ((False, True) if i % 2 == 0 else (True, False)):
            r = surge.run(lab, experiment, predict, 6300 + 2 * i + predict, demo.on_host)
            r["link"] = experiment["link"]
            r["surge_pair"] = [sg["from"], sg["to"]]
            by_mode["forecast" if predict else "load_now"].append(r)
            print(f"     {'forecast' if predict else 'load now'}: {r['link_loss_fraction'] * 100:.2f} % lost on the "
                  f"link, queueing p99 {r['link_queue_delay_ms_p99']:.1f} ms, {len(r['pairs_moved_off'])} of "
                  f"{r['pairs_on_link_at_start']} pairs moved off, the surge lost {r['surge_lost']}", flush=True)
    surge.set_predict(lab, True)
    rows = []
    for mode, runs in by_mode.items():
        rows.append({"metric": "surge", "mode": mode, "repetitions": len(runs),
                     "link_loss_percent_median": round(100 * statistics.median(r["link_loss_fraction"] for r in runs), 3),
                     "link_queue_delay_ms_p99_median": round(statistics.median(r["link_queue_delay_ms_p99"] for r in runs), 1),
                     "surge_loss_percent_median": round(100 * statistics.median(
                         r["surge_lost"] / max(1, r["surge_lost"] + r["surge_received"]) for r in runs), 3),
                     "surge_delay_ms_p99_median": statistics.median(r["surge_delay_ms_p99"] or 0 for r in runs),
                     "all_pairs_loss_percent_median": round(100 * statistics.median(r["all_lost_fraction"] for r in runs), 3),
                     "link_loss_percent_each": [round(100 * r["link_loss_fraction"], 3) for r in runs],
                     "link_queue_delay_ms_p99_each": [r["link_queue_delay_ms_p99"] for r in runs],
                     "pairs_moved_before_saturation_each": [len(r["pairs_moved_before_saturation"]) for r in runs]})
    on, off = rows[1], rows[0]
    rows.append({"metric": "surge", "mode": "ratio_forecast_vs_load_now",
                 "link_loss_ratio": round(on["link_loss_percent_median"] / off["link_loss_percent_median"], 3)
                 if off["link_loss_percent_median"] else None,
                 "link_queue_delay_p99_ratio": round(on["link_queue_delay_ms_p99_median"] /
                                                     off["link_queue_delay_ms_p99_median"], 3)
                 if off["link_queue_delay_ms_p99_median"] else None,
                 "forecast_less_link_loss_in": sum(1 for a, b in zip(by_mode["forecast"], by_mode["load_now"])
                                                   if a["link_loss_fraction"] < b["link_loss_fraction"])})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("MESHGW_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--topology", default=os.path.join(ROOT, "scripts", "lab", "abilene.json"))
    ap.add_argument("--cuts", type=int, default=20)
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--surges", type=int, default=2, help="repetitions of the surge comparison (0: none)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("mesh.py: needs root (network namespaces)")
    if args.cuts < 1:
        sys.exit("mesh.py: --cuts must be at least 1")
    if args.surges < 0:
        sys.exit("mesh.py: --surges must be 0 or more")
    topo = mesh_lab.load_topology(args.topology)
    lab = mesh_lab.Lab(topo, args.build)
    mesh_lab.install_signal_handlers()
    rows = []
    ok = False
    try:
        print(f"mesh bench: {topo['name']}, {len(lab.nodes)} gateways; work directory {lab.dir}", flush=True)
        lab.up()
        lab.wait_joined()
        lab.wait_for("every gateway's tunnels to every other", lab.all_tunnels_up, 180, interval=1)
        time.sleep(5)  # settled
        idle = cpu_over(lab, args.idle_seconds)
        rows.append({"metric": "cpu_idle", "gateways": len(lab.nodes), **idle})
        print(f"idle: the mesh uses {idle['cpu_percent_of_one_core']} % of one core "
              f"(machine {idle['machine_busy_percent']} % busy)", flush=True)
        pairs = [(a, b) for a in lab.nodes for b in lab.nodes if a != b]
        loaded = cpu_over(lab, 0, during=lambda: demo.run_demand(lab, pairs, 100, args.idle_seconds))
        rows.append({"metric": "cpu_demand", "gateways": len(lab.nodes), "pairs": len(pairs),
                     "rate_kbps_per_pair": 100, **loaded})
        print(f"carrying 100 kbit/s between all {len(pairs)} pairs: {loaded['cpu_percent_of_one_core']} % of one "
              f"core (machine {loaded['machine_busy_percent']} % busy, the traffic tools included)", flush=True)
        pids = mesh_pids(lab)
        rss = [memory_kib(pids[n], "Rss") / 1024 for n in lab.nodes]
        pss = [memory_kib(pids[n], "Pss") / 1024 for n in lab.nodes]
        rows.append({"metric": "memory", "gateways": len(lab.nodes),
                     "rss_mib_median": round(statistics.median(rss), 1), "rss_mib_max": round(max(rss), 1),
                     "pss_mib_median": round(statistics.median(pss), 1),
                     "meshctld_rss_mib": round(memory_kib(pids["meshctld"], "Rss") / 1024, 1),
                     "wanem_rss_mib": round(memory_kib(pids["wanem"], "Rss") / 1024, 1)})
        print(f"memory per gateway: RSS median {rows[-1]['rss_mib_median']} MiB (max {rows[-1]['rss_mib_max']}), "
              f"PSS median {rows[-1]['pss_mib_median']} MiB", flush=True)
        print(f"failover: {args.cuts} cuts", flush=True)
        cuts = failover_cuts(lab, args.cuts)
        gaps = [c["gap_ms"] for c in cuts if c["recovered"]]
        rows.append({"metric": "failover", "cuts": len(cuts), "recovered": sum(c["recovered"] for c in cuts),
                     "gap_ms_median": round(statistics.median(gaps), 1) if gaps else None,
                     "gap_ms_p95": round(percentile(gaps, 95), 1) if gaps else None,
                     "gap_ms_max": round(max(gaps), 1) if gaps else None,
                     "under_300_ms": sum(1 for g in gaps if g < 300),
                     "lost_median": statistics.median(c["lost"] for c in cuts) if cuts else None,
                     "cut_list": cuts})
        r = rows[-1]
        print(f"failover over {r['cuts']} cuts: {r['recovered']} recovered, gap median {r['gap_ms_median']} ms, "
              f"p95 {r['gap_ms_p95']} ms, max {r['gap_ms_max']} ms, {r['under_300_ms']} under 300 ms", flush=True)
        if args.surges:
            rows += surge_rows(lab, args.surges)
        ok = True
    except mesh_lab.LabError as e:
        print(f"mesh.py: {e}", file=sys.stderr)
    except KeyboardInterrupt as e:
        print(f"mesh.py: interrupted ({e})", file=sys.stderr)
    finally:
        lab.down()
    print(f"\n{'metric':<12} figures")
    for r in rows:
        print(f"{r['metric']:<12} " + ", ".join(f"{k}={v}" for k, v in r.items()
                                                 if k not in ("metric", "cut_list") and not k.endswith("_each")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if ok and not args.keep:
        shutil.rmtree(lab.dir, ignore_errors=True)
    else:
        print(f"logs in {lab.dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
