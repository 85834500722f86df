# SPDX-License-Identifier: BSD-3-Clause
"""meshctl path against independent computations written here (heapq
Dijkstra, BFS, hop-layered Bellman-Ford) on random topologies the test
writes, and on the real topologies of ../shared/data when present."""
import heapq
import json
import math
import os
import random
import shutil
import subprocess

import pytest

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "topologies")


def run(meshctl, *args):
    return subprocess.run([meshctl, "path", *args], capture_output=True, text=True, timeout=60)


def path_json(meshctl, *args):
    r = run(meshctl, *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def random_topology(rng, n, m, directed=False):
    nodes = [{"id": f"gw{i}", "lat": rng.uniform(35, 60), "lon": rng.uniform(-10, 30)} for i in range(n)]
    links = []
    for _ in range(m):
        a, b = rng.sample(range(n), 2)
        links.append({"src": f"gw{a}", "dst": f"gw{b}", "capacity": 1000,
                      "latency_ms": round(rng.uniform(0.1, 40), 6)})
    return {"directed": directed, "nodes": nodes, "links": links}


def adjacency(topo, weight):
    adj = {n["id"]: {} for n in topo["nodes"]}
    for l in topo["links"]:
        w = weight(l)
        pairs = [(l["src"], l["dst"])] if topo.get("directed") else [(l["src"], l["dst"]), (l["dst"], l["src"])]
        for a, b in pairs:
            if a != b:
                adj[a][b] = min(adj[a].get(b, math.inf), w)
    return adj


def dijkstra(adj, s):
    dist = {s: 0.0}
    heap = [(0.0, s)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist.get(u, math.inf):
            continue
        for v, w in adj[u].items():
            if d + w < dist.get(v, math.inf):
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return dist


def hop_bounded(adj, s, t, h):
    best = {s: 0.0}
    for _ in range(h):
        nxt = dict(best)
        for u, du in best.items():
            if u == t:
                continue
            for v, w in adj[u].items():
                if du + w < nxt.get(v, math.inf):
                    nxt[v] = du + w
        best = nxt
    return best.get(t, math.inf)


@pytest.fixture(scope="module")
def topo_file(tmp_path_factory):
    rng = random.Random(99)
    topo = random_topology(rng, 60, 150)
    path = tmp_path_factory.mktemp("topo") / "random.json"
    path.write_text(json.dumps(topo))
    return path, topo


def test_latency_and_hops_match_independent_computation(meshctl, topo_file):
    path, topo = topo_file
    lat = adjacency(topo, lambda l: l["latency_ms"])
    hops = adjacency(topo, lambda l: 1.0)
    rng = random.Random(1)
    checked = 0
    for _ in range(40):
        s, t = rng.sample([n["id"] for n in topo["nodes"]], 2)
        want = dijkstra(lat, s).get(t, math.inf)
        for algo in ["dijkstra", "astar", "bellman-ford"]:
            out = path_json(meshctl, "--topology", str(path), "--from", s, "--to", t, "--cost", "latency",
                            "--algo", algo)
            if math.isinf(want):
                assert out["reachable"] is False and out["paths"] == []
                continue
            p = out["paths"][0]
            assert p["cost"] == pytest.approx(want, abs=1e-9), algo
            assert p["nodes"][0] == s and p["nodes"][-1] == t
            # The breakdown adds up, and each link is a real link of the topology.
            assert sum(l["cost"] for l in p["links"]) == pytest.approx(p["cost"], abs=1e-9)
            for a, b, l in zip(p["nodes"], p["nodes"][1:], p["links"]):
                assert lat[a][b] == pytest.approx(l["latency_ms"])
            checked += 1
        want_hops = dijkstra(hops, s).get(t, math.inf)
        out = path_json(meshctl, "--topology", str(path), "--from", s, "--to", t, "--cost", "hops")
        if not math.isinf(want_hops):
            assert out["paths"][0]["cost"] == want_hops == out["paths"][0]["hops"]
    assert checked > 60


def test_max_hops_matches_hop_layered_bellman_ford(meshctl, topo_file):
    path, topo = topo_file
    lat = adjacency(topo, lambda l: l["latency_ms"])
    rng = random.Random(2)
    for _ in range(30):
        s, t = rng.sample([n["id"] for n in topo["nodes"]], 2)
        h = rng.randint(1, 4)
        want = hop_bounded(lat, s, t, h)
        out = path_json(meshctl, "--topology", str(path), "--from", s, "--to", t, "--cost", "latency",
                        "--max-hops", str(h))
        if math.isinf(want):
            assert out["reachable"] is False
        else:
            assert out["paths"][0]["cost"] == pytest.approx(want, abs=1e-9)
            assert out["paths"][0]["hops"] <= h


def test_k_shortest_paths_are_loopless_distinct_and_ordered(meshctl, topo_file):
    path, topo = topo_file
    lat = adjacency(topo, lambda l: l["latency_ms"])
    out = path_json(meshctl, "--topology", str(path), "--from", "gw0", "--to", "gw1", "--cost", "latency",
                    "--k", "6")
    paths = out["paths"]
    assert len(paths) == 6
    assert paths[0]["cost"] == pytest.approx(dijkstra(lat, "gw0")["gw1"])
    seen = set()
    for prev, p in zip([None] + paths, paths):
        assert len(set(p["nodes"])) == len(p["nodes"]), "loop"
        assert tuple(p["nodes"]) not in seen
        seen.add(tuple(p["nodes"]))
        assert sum(lat[a][b] for a, b in zip(p["nodes"], p["nodes"][1:])) == pytest.approx(p["cost"])
        if prev:
            assert p["cost"] >= prev["cost"] - 1e-9


def test_constraints_and_waypoint(meshctl, tmp_path):
    topo = {"nodes": [{"id": "a"}, {"id": "b", "role": "edge"}, {"id": "c", "security_level": 3},
                      {"id": "d", "region": "eu-north"}, {"id": "z"}],
            "links": [{"src": "a", "dst": "b", "latency_ms": 1}, {"src": "b", "dst": "z", "latency_ms": 1},
                      {"src": "a", "dst": "c", "latency_ms": 2}, {"src": "c", "dst": "z", "latency_ms": 2},
                      {"src": "a", "dst": "d", "latency_ms": 3}, {"src": "d", "dst": "z", "latency_ms": 3}]}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(topo))
    base = ["--topology", str(f), "--from", "a", "--to", "z", "--cost", "latency"]
    assert path_json(meshctl, *base)["paths"][0]["nodes"] == ["a", "b", "z"]
    assert path_json(meshctl, *base, "--avoid-roles", "edge")["paths"][0]["nodes"] == ["a", "c", "z"]
    assert path_json(meshctl, *base, "--avoid-nodes", "b,c")["paths"][0]["nodes"] == ["a", "d", "z"]
    assert path_json(meshctl, *base, "--min-security", "2")["paths"][0]["nodes"] == ["a", "c", "z"]
    out = path_json(meshctl, *base, "--min-security", "2", "--avoid-nodes", "c")
    assert out["reachable"] is False
    assert path_json(meshctl, *base, "--via", "d")["paths"][0]["nodes"] == ["a", "d", "z"]
    assert path_json(meshctl, *base, "--avoid-regions", "eu-north", "--k", "5")["paths"][-1]["nodes"] == ["a", "c", "z"]


def test_default_cost_explains_itself(meshctl, tmp_path):
    topo = {"nodes": [{"id": "a"}, {"id": "m", "load": 0.5}, {"id": "z"}],
            "links": [{"src": "a", "dst": "m", "latency_ms": 1, "capacity": 8, "utilisation": 0.5, "loss": 0.01},
                      {"src": "m", "dst": "z", "latency_ms": 1}]}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(topo))
    p = path_json(meshctl, "--topology", str(f), "--from", "a", "--to", "z")["paths"][0]
    first = p["links"][0]
    # M/M/1 at 8 Mbit/s, 1000-byte packets: mu = 1000/s; rho 0.5 -> 1 / 500 s = 2 ms.
    assert first["queue_ms"] == pytest.approx(2.0)
    assert first["loss_term"] == pytest.approx(-1000 * math.log(0.99))
    # Headroom at 50% use: 1 * 0.5 / 0.5 = 1.
    assert first["headroom_term"] == pytest.approx(1.0)
    # Transit m at load 0.5: load weight 10 * 0.5 / 0.5 = 10.
    assert first["transit_cost"] == pytest.approx(10.0)
    assert p["cost"] == pytest.approx(1 + 2 + first["loss_term"] + 1 + 10 + 1)


def test_dot_output_highlights_the_path(meshctl, topo_file):
    path, _ = topo_file
    r = run(meshctl, "--topology", str(path), "--from", "gw0", "--to", "gw1", "--k", "2", "--format", "dot")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("graph meshgw {") and r.stdout.rstrip().endswith("}")
    assert "color=red, penwidth=4" in r.stdout
    assert '"gw0" [pos=' in r.stdout
    if shutil.which("neato"):  # Graphviz itself must accept it
        svg = subprocess.run(["neato", "-n", "-Tsvg"], input=r.stdout, capture_output=True, text=True, timeout=60)
        assert svg.returncode == 0, svg.stderr
        assert "<svg" in svg.stdout and svg.stdout.count('stroke="red"') >= 1


@pytest.mark.parametrize("args,code,message", [
    (["--from", "a", "--to", "b"], 2, "missing required option --topology"),
    (["--topology", "T", "--from", "nope", "--to", "gw1"], 2, "option --from: 'nope' is not a node"),
    (["--topology", "T", "--from", "gw0", "--to", "gw1", "--algo", "magic"], 2, "is not dijkstra, astar or bellman-ford"),
    (["--topology", "T", "--from", "gw0", "--to", "gw1", "--k", "0"], 2, "out of range [1, 1000]"),
    (["--topology", "T", "--from", "gw0", "--to", "gw1", "--k", "-1"], 2, "is not a non-negative integer"),
    (["--topology", "T", "--from", "gw0", "--to", "gw1", "--k", "3x"], 2, "is not a non-negative integer"),
    (["--topology", "T", "--from", "gw0", "--to", "gw1", "--class", "vip"], 2, "unknown traffic class 'vip'"),
    (["--topology", "/nonexistent.json", "--from", "a", "--to", "b"], 1, "cannot open topology file"),
])
def test_bad_arguments(meshctl, topo_file, args, code, message):
    path, _ = topo_file
    r = run(meshctl, *[str(path) if a == "T" else a for a in args])
    assert r.returncode == code
    assert message in r.stderr


def test_leading_zeros_are_decimal(meshctl, topo_file):
    path, _ = topo_file
    out = path_json(meshctl, "--topology", str(path), "--from", "gw0", "--to", "gw1", "--k", "08")
    assert out["k"] == 8


def test_bad_file_names_the_line(meshctl, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"nodes": [\n {"id": "a"}\n "links": []}\n')
    r = run(meshctl, "--topology", str(f), "--from", "a", "--to", "a")
    assert r.returncode == 1
    assert f"{f}:3:" in r.stderr and "invalid JSON" in r.stderr


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/data is absent")
def test_real_topology_against_oracle(meshctl):
    topo = os.path.join(SHARED, "json", "zoo-Geant2012.json")
    oracle = json.load(open(os.path.join(SHARED, "oracles", "zoo-Geant2012.dijkstra.json")))
    ids = oracle["nodes"]
    rng = random.Random(3)
    for _ in range(20):
        i, j = rng.sample(range(len(ids)), 2)
        out = path_json(meshctl, "--topology", topo, "--from", ids[i], "--to", ids[j], "--cost", "latency",
                        "--algo", "astar")
        want = oracle["dist"][i][j]
        if want is None:
            assert out["reachable"] is False
        else:
            assert out["paths"][0]["cost"] == pytest.approx(want, abs=1e-4)
