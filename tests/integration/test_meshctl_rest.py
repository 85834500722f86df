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
