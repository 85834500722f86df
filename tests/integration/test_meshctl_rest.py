# SPDX-License-Identifier: BSD-3-Clause
"""meshctl against a live meshctld, as an operator uses it: connection from
flags, environment or a 0600 config file; every resource in table and JSON
form; the gateway API with a certificate; refusals (exit 1 with the
server's message), usage errors (exit 2), an unreachable server."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import meshctld_harness as h


@pytest.fixture
def mesh(meshctld, tmp_path):
    c = h.started_mesh(meshctld, tmp_path)
    yield c
    c.stop()


def run(meshctl, mesh, *args, env_extra=None, token=True, check=True):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": mesh.workdir,
           "MESHCTL_SERVER": f"https://127.0.0.1:{mesh.api_port}", "MESHCTL_CA": mesh.ca}
    if token:
        env["MESHCTL_TOKEN"] = mesh.admin
    env.update(env_extra or {})
    r = subprocess.run([meshctl, *args], capture_output=True, text=True, env=env, timeout=30)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    assert mesh.admin not in r.stderr  # the token is never echoed
    return r


def test_operator_session(meshctl, mesh):
    assert "ok (epoch" in run(meshctl, mesh, "health").stdout
    join = run(meshctl, mesh, "tokens", "create", "--role", "core", "--uses", "2", "--site", "chi").stdout.strip()
    assert len(join) == 81 and "." in join
    listed = run(meshctl, mesh, "tokens").stdout
    assert "USES_LEFT" in listed and join.split(".")[0] in listed and join.split(".")[1] not in listed
    key = os.path.join(mesh.workdir, "gw.key")
    cert = os.path.join(mesh.workdir, "gw.pem")
    out = run(meshctl, mesh, "register", "--join-token", join, "--key", key, "--cert-out", cert, "--role", "core").stdout
    assert out.startswith("gw-1 core certificate until")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    table = run(meshctl, mesh, "gateways").stdout.splitlines()
    assert table[0].split() == ["ID", "ROLE", "STATUS", "SITE", "REGION", "ADDRESSES", "LOAD", "SINCE"]
    assert table[1].split()[:4] == ["gw-1", "core", "registered", "chi"]
    shown = json.loads(run(meshctl, mesh, "gateways", "show", "--id", "gw-1", "-o", "json").stdout)
    assert shown["id"] == "gw-1"
    # The gateway API with the certificate just obtained.
    state = json.loads(run(meshctl, mesh, "gw", "state", "--cert", cert, "--key", key, token=False).stdout)
    assert state["snapshot"]["gateways"][0]["id"] == "gw-1"
    renewed = run(meshctl, mesh, "gw", "renew", "--cert", cert, "--key", key, "--cert-out", cert + ".new", token=False)
    assert renewed.stdout.startswith("gw-1 certificate until")
    # Policies from a file, then a path query and the SPIs of a tunnel.
    pol = os.path.join(mesh.workdir, "policy.json")
    with open(pol, "w") as f:
        json.dump({"edge_transit": True, "rules": [{"name": "voice", "protocol": "udp", "dst_ports": 5060, "class": "realtime"}]}, f)
    assert "voice" in run(meshctl, mesh, "policies", "set", "--file", pol).stdout
    assert "edge gateways may relay: yes" in run(meshctl, mesh, "policies").stdout
    join2 = run(meshctl, mesh, "tokens", "create", "--role", "core").stdout.strip()
    key2, cert2 = os.path.join(mesh.workdir, "gw2.key"), os.path.join(mesh.workdir, "gw2.pem")
    run(meshctl, mesh, "register", "--join-token", join2, "--key", key2, "--cert-out", cert2)
    tun = run(meshctl, mesh, "gw", "tunnel-create", "--path", "gw-1,gw-2", "--cert", cert, "--key", key, token=False).stdout
    assert "gw-1 > gw-2" in tun and "gw-2 > gw-1" in tun
    spis = run(meshctl, mesh, "spis").stdout.splitlines()
    assert spis[0].split() == ["SPI", "FROM", "TO", "PATH"] and len(spis) == 3
    paths = run(meshctl, mesh, "paths", "--from", "gw-1", "--to", "gw-2", check=False)
    assert paths.returncode == 0 and "no path from gw-1 to gw-2" in paths.stdout  # no beacons, no links yet
    events = run(meshctl, mesh, "events").stdout
    assert "joined" in events and "policy_changed" in events and "path_changed" in events
    assert "meshctld_gateways" in run(meshctl, mesh, "metrics").stdout
    assert json.loads(run(meshctl, mesh, "openapi").stdout)["openapi"].startswith("3.")
    run(meshctl, mesh, "gateways", "revoke", "--id", "gw-2")
    assert "revoked" in run(meshctl, mesh, "gateways").stdout


def test_topology_dot_renders(meshctl, mesh, tmp_path):
    a, _ = register_via_api(mesh, "a")
    b, _ = register_via_api(mesh, "b")
    h.send_udp(mesh.beacon_port, a.beacon(neighbours=[(b.id, 30000)]))
    h.send_udp(mesh.beacon_port, b.beacon(neighbours=[(a.id, 30000)]))
    import time
    deadline = time.time() + 3
    while time.time() < deadline and "30.00" not in run(meshctl, mesh, "links").stdout:
        time.sleep(0.05)
    dot = run(meshctl, mesh, "topology", "--format", "dot").stdout
    assert dot.startswith("graph meshgw {") and '"gw-1" -- "gw-2"' in dot and "pos=" in dot
    if shutil.which("neato"):
        svg = subprocess.run(["neato", "-n2", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert svg.returncode == 0 and "<svg" in svg.stdout, svg.stderr
        # Labels break into lines (ID, role): Graphviz draws them as two
        # texts, not one with a backslash in it.
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.stdout)
        assert "gw&#45;1" in texts and not any("\\" in t for t in texts), texts
    table = run(meshctl, mesh, "topology").stdout
    assert "mesh version" in table and "RTT_MS" in table


def register_via_api(mesh, name):
    gw = h.Gateway(mesh.workdir, name)
    status, tok = mesh.request("POST", "/v1/tokens", {"kind": "join"}, token=mesh.admin)
    status, answer = mesh.request("POST", "/v1/register", {"token": tok["token"], "csr": gw.csr()})
    assert status == 201
    gw.registered(answer)
    return gw, answer


def test_connection_sources_and_errors(meshctl, mesh, tmp_path):
    # A config file works, and must be private.
    conf = tmp_path / "meshctl.toml"
    conf.write_text(f'server = "https://127.0.0.1:{mesh.api_port}"\nca = "{mesh.ca}"\ntoken = "{mesh.admin}"\n')
    os.chmod(conf, 0o600)
    env = {"MESHCTL_CONFIG": str(conf), "MESHCTL_SERVER": "", "MESHCTL_CA": ""}
    assert run(meshctl, mesh, "gateways", env_extra=env, token=False).returncode == 0
    os.chmod(conf, 0o644)
    r = run(meshctl, mesh, "gateways", env_extra=env, token=False, check=False)
    assert r.returncode == 1 and "mode 0644" in r.stderr
    # Refusals carry the server's message; usage errors exit 2.
    r = run(meshctl, mesh, "gateways", token=False, check=False)
    assert r.returncode == 1 and "401" in r.stderr and "Bearer" in r.stderr
    r = run(meshctl, mesh, "tokens", "create", "--kind", "boss", check=False)
    assert r.returncode == 1 and "kind: must be join, admin or read-only" in r.stderr
    r = run(meshctl, mesh, "gateways", "--colour", "red", check=False)
    assert r.returncode == 2 and "unknown option --colour" in r.stderr
    r = run(meshctl, mesh, "gateways", "explode", check=False)
    assert r.returncode == 2 and "unknown verb" in r.stderr
    r = run(meshctl, mesh, "health", "--server", "http://x", check=False)
    assert r.returncode == 2 and "https://" in r.stderr
    r = run(meshctl, mesh, "health", "--server", "https://127.0.0.1:1", check=False)
    assert r.returncode == 1 and "cannot connect" in r.stderr
    # A server whose certificate the given CA did not sign is refused.
    other = tmp_path / "other"
    h.init_mesh(os.environ["MESHCTLD"], str(other))
    r = run(meshctl, mesh, "health", "--ca", str(other / "ca.pem"), check=False)
    assert r.returncode == 1 and "TLS handshake failed" in r.stderr


def test_events_follow(meshctl, mesh):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": mesh.workdir, "MESHCTL_TOKEN": mesh.admin,
           "MESHCTL_SERVER": f"https://127.0.0.1:{mesh.api_port}", "MESHCTL_CA": mesh.ca}
    follow = subprocess.Popen([meshctl, "events", "--follow", "-o", "json"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(0.3)
        gw, _ = register_via_api(mesh, "followed")
        line = follow.stdout.readline()  # arrives as it happens, not when a buffer fills
        event = json.loads(line)
        assert event["kind"] == "joined" and event["gateway"] == gw.id
    finally:
        follow.kill()
        follow.wait()


def square_mesh(mesh):
    """a - b - z (1 ms a hop) and a - c - z (4 ms), 1 Gbit/s declared; a
    tunnel a>b>z carrying 300 Mbit/s, as a's report says."""
    gws = {}
    for name, site in (("a", "sea"), ("b", "den"), ("c", "hou"), ("z", "nyc")):
        gw = h.Gateway(mesh.workdir, name)
        status, tok = mesh.request("POST", "/v1/tokens", {"kind": "join", "role": "core", "site": site}, token=mesh.admin)
        status, answer = mesh.request("POST", "/v1/register", {"token": tok["token"], "csr": gw.csr()})
        assert status == 201, answer
        gw.registered(answer)
        gws[name] = gw
    a, b, c, z = (gws[n] for n in "abcz")
    links = [(a, b, 2000), (b, z, 2000), (a, c, 8000), (c, z, 8000)]
    for g in gws.values():
        neigh = [(y.id, rtt) for x, y, rtt in links if x is g] + [(x.id, rtt) for x, y, rtt in links if y is g]
        h.send_udp(mesh.beacon_port, g.beacon(neighbours=neigh))
    deadline = time.time() + 5
    while len(mesh.request("GET", "/v1/links", token=mesh.admin)[1]["links"]) < 8:
        assert time.time() < deadline, "beacons not ingested"
        time.sleep(0.05)
    status, tun = mesh.request("POST", "/v1/gw/tunnels", {"path": [a.id, b.id, z.id]}, cert=a.cert_path, key=a.key_path)
    assert status == 201, tun
    status, r = mesh.request("POST", "/v1/gw/report", {
        "tunnels": [{"spi": tun["forward"]["spi"], "tx_bps": 3e8}],
        "paths": [{"egress": z.id, "class": "default", "path": [a.id, b.id, z.id], "reason": "initial"}]},
        cert=a.cert_path, key=a.key_path)
    assert status == 200, r
    return a, b, c, z


def test_whatif_moves_flows_and_finds_hot_links(meshctl, mesh):
    a, b, c, z = square_mesh(mesh)
    # A cut link: the flow moves at once, its load with it. Sites name gateways too.
    out = json.loads(run(meshctl, mesh, "whatif", "--fail-link", "sea-den", "-o", "json").stdout)
    assert out["change"]["fail_links"] == [[a.id, b.id]]
    [flow] = out["flows"]
    assert flow["verdict"] == "moves_now" and flow["rate_bps"] == 3e8
    assert flow["before"]["nodes"] == [a.id, b.id, z.id] and flow["after"]["nodes"] == [a.id, c.id, z.id]
    links = {(l["from"], l["to"]): l for l in out["links"]}
    assert links[(a.id, b.id)]["failed"] and links[(b.id, a.id)]["failed"]
    assert links[(a.id, c.id)]["load_after_bps"] == 3e8 and links[(c.id, z.id)]["utilisation_after"] == 0.3
    assert links[(b.id, z.id)]["load_before_bps"] == 3e8 and links[(b.id, z.id)]["load_after_bps"] == 0
    # The controller's forecasts of the link loads (steady loads: the forecast is the load).
    assert out["forecast"]["horizon_s"] == 10 and out["forecast"]["series"] >= 0
    # Nothing changed on the controller.
    assert {(l["from"], l["to"]): l["load_bps"] for l in mesh.request("GET", "/v1/links", token=mesh.admin)[1]["links"]}[
        (a.id, b.id)] == 3e8
    # The table an operator reads.
    table = run(meshctl, mesh, "whatif", "--fail-link", f"{a.id}-{b.id}").stdout
    assert "1 affected, 0 unchanged" in table and "moves now (path broken)" in table
    assert "forecast 10 s ahead" in table
    assert f"{a.id}>{b.id}>{z.id}" in table and f"{a.id}>{c.id}>{z.id}" in table and "failed" in table
    # New demand on the same pair: a>b runs hot, and the existing flow leaves it after the hold time.
    out = json.loads(run(meshctl, mesh, "whatif", "--add-demand", f"{a.id}:{z.id}:600M", "-o", "json").stdout)
    verdicts = {f["verdict"]: f for f in out["flows"]}
    assert verdicts["placed"]["after"]["nodes"] == [a.id, b.id, z.id] and verdicts["placed"]["rate_bps"] == 6e8
    assert verdicts["moves_after_hold"]["after"]["nodes"] == [a.id, c.id, z.id]
    out = json.loads(run(meshctl, mesh, "whatif", "--add-demand", f"{a.id}:{z.id}:900M", "--hot", "0.8", "-o", "json").stdout)
    assert out["hot_links"] >= 2 and all(l["hot_after"] for l in out["links"] if (l["from"], l["to"]) == (a.id, b.id))
    # A failed transit gateway.
    out = json.loads(run(meshctl, mesh, "whatif", "--fail-gateway", "den", "-o", "json").stdout)
    assert out["flows"][0]["verdict"] == "moves_now" and out["flows"][0]["after"]["nodes"] == [a.id, c.id, z.id]
    # Refusals name the field; a read-only token may ask.
    for body, field, words in [
            ({}, None, "name a link or gateway"),
            ({"fail_links": ["nowhere"]}, "fail_links[0]", "not two gateways"),
            ({"fail_links": [[b.id, c.id]]}, "change", "no link between"),
            ({"fail_links": [[a.id]]}, "fail_links[0]", "must be"),
            ({"fail_gateways": ["gw-99"]}, "fail_gateways[0]", "not a gateway"),
            ({"add_demand": [{"from": a.id, "to": z.id, "rate_bps": 0}]}, "add_demand[0].rate_bps", "positive"),
            ({"add_demand": [{"from": a.id, "to": a.id, "rate_bps": 1}]}, "add_demand[0]", "same gateway"),
            ({"add_demand": [{"from": a.id, "to": z.id, "rate_bps": 1, "class": "gold"}]}, "add_demand[0].class", "must be"),
            ({"add_demand": [{"from": a.id, "to": z.id, "rate_bps": 1, "colour": 1}]}, "add_demand[0].colour", "unknown"),
            ({"fail_links": "a-b"}, "fail_links", "must be an array"),
            ({"fail_gateways": [b.id], "hot_utilisation": 0}, "hot_utilisation", "must be"),
            ({"fail_gateway": [b.id]}, "fail_gateway", "unknown field")]:
        status, err = mesh.request("POST", "/v1/whatif", body, token=mesh.admin)
        assert status == 400 and words in err["error"] and err.get("field") == field, (body, err)
    status, reader = mesh.request("POST", "/v1/tokens", {"kind": "read-only"}, token=mesh.admin)
    assert mesh.request("POST", "/v1/whatif", {"fail_gateways": [b.id]}, token=reader["token"])[0] == 200
    assert mesh.request("POST", "/v1/whatif", {"fail_gateways": [b.id]})[0] == 401
    r = run(meshctl, mesh, "whatif", check=False)
    assert r.returncode == 2 and "give --fail-link" in r.stderr
    r = run(meshctl, mesh, "whatif", "--add-demand", f"{a.id}:{z.id}", check=False)
    assert r.returncode == 2 and "FROM:TO:RATE" in r.stderr
    r = run(meshctl, mesh, "whatif", "--fail-link", "x-y", check=False)
    assert r.returncode == 1 and "not two gateways" in r.stderr


def test_topology_dot_draws_one_flows_path(meshctl, mesh):
    a, b, c, z = square_mesh(mesh)
    path = f"{a.id},{b.id},{z.id}"
    dot = run(meshctl, mesh, "topology", "--format", "dot", "--path", path).stdout
    assert dot.count("[color=blue") == 2 and f'"{a.id}" -- "{b.id}" [color=blue' in dot
    assert f'"{a.id}" -- "{c.id}" [color=' in dot and f'"{a.id}" -- "{b.id}" [color=gray' not in dot
    if shutil.which("neato"):
        svg = subprocess.run(["neato", "-n2", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert svg.returncode == 0 and svg.stdout.count('stroke="blue"') >= 2, svg.stderr
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.stdout)
        assert any(t.startswith("flow ") for t in texts), texts
    r = run(meshctl, mesh, "topology", "--format", "dot", "--path", f"{b.id},{c.id}", check=False)
    assert r.returncode == 2 and "have no measured link" in r.stderr and r.stdout == ""
    r = run(meshctl, mesh, "topology", "--path", path, check=False)
    assert r.returncode == 2 and "only with --format dot" in r.stderr
