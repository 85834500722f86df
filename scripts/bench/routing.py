#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Routing engine benchmarks (tests/bench/routing_bench, Google Benchmark),
medians of --repetitions runs, with Boost.Graph's dijkstra_shortest_paths on
the same random geometric graph in the same invocation, as ratios.

usage: scripts/bench/routing.py [--builddir build] [--repetitions 5] [--json FILE]"""
import argparse
import os

import gbench


def run(binary, reps):
    res = {}
    for name, aggregates in gbench.run_aggregates(binary, reps).items():
        b = aggregates["median"]
        res[name] = {"seconds": gbench.seconds(b), **{k: b[k] for k in ("nodes", "links", "rules", "groups") if k in b}}
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builddir", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    binary = os.path.join(args.builddir, "tests", "bench", "routing_bench")
    if not os.path.exists(binary):
        raise SystemExit(f"{binary} not found: run scripts/setup.sh && ninja -C build")
    r = run(binary, args.repetitions)
    rows = []
    for n in (1000, 10000):
        ours = r[f"BM_SsspDijkstra/{n}"]
        csr = r[f"BM_SsspBoost/{n}"]["seconds"]
        adj = r[f"BM_SsspBoostAdjacencyList/{n}"]["seconds"]
        rows.append({"benchmark": "sssp_dijkstra", "nodes": int(ours["nodes"]), "links": int(ours["links"]),
                     "ms": ours["seconds"] * 1e3, "boost_csr_ms": csr * 1e3, "boost_adjacency_list_ms": adj * 1e3,
                     "ratio_boost_csr_vs_ours": csr / ours["seconds"],
                     "ratio_boost_adjacency_list_vs_ours": adj / ours["seconds"]})
    dij = r["BM_PointToPoint<Algorithm::dijkstra>/10000"]["seconds"]
    ast = r["BM_PointToPoint<Algorithm::astar>/10000"]["seconds"]
    rows.append({"benchmark": "point_to_point_dijkstra", "nodes": 10000, "us": dij * 1e6})
    rows.append({"benchmark": "point_to_point_astar", "nodes": 10000, "us": ast * 1e6,
                 "ratio_dijkstra_vs_astar": dij / ast})
    rows.append({"benchmark": "yen_k4", "nodes": 10000, "ms": r["BM_YenK4/10000"]["seconds"] * 1e3})
    rows.append({"benchmark": "csr_build_weighted", "nodes": 10000, "ms": r["BM_CsrBuild/10000"]["seconds"] * 1e3})
    rows.append({"benchmark": "csr_refresh_weighted", "nodes": 10000, "ms": r["BM_CsrRefresh/10000"]["seconds"] * 1e3})
    for n in (100, 10000):
        p = r[f"BM_PolicyClassify/{n}"]
        rows.append({"benchmark": "policy_classify", "rules": n, "groups": int(p["groups"]), "ns": p["seconds"] * 1e9})

    print(f"routing benchmarks, one core, medians of {args.repetitions} runs")
    for row in rows:
        print("  " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    if args.json:
        gbench.write_rows(args.json, rows)


if __name__ == "__main__":
    main()
