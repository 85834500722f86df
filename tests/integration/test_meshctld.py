# SPDX-License-Identifier: BSD-3-Clause
"""meshctld end to end on loopback, as an operator and gateways use it:
init, tokens, registration with real CSRs and certificates, mTLS, beacons
(good, forged, replayed, stale), down after missed beacons, revocation seen
by other gateways within a second, delta resume, every bad-request class
(state unchanged), and SIGKILL with acknowledged writes."""
import os
import signal
import socket
import stat
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import meshctld_harness as h


@pytest.fixture
def mesh(meshctld, tmp_path):
    c = h.started_mesh(meshctld, tmp_path)
    yield c
    c.stop()


def join_token(mesh, role="edge", uses=1, lifetime_s=3600, **extra):
    status, body = mesh.request("POST", "/v1/tokens", {"kind": "join", "role": role, "uses": uses,
                                                        "lifetime_s": lifetime_s, **extra}, token=mesh.admin)
    assert status == 201, body
    return body["token"]


def register(mesh, name="gw", role=None, token=None, tok_role="edge"):
    gw = h.Gateway(mesh.workdir, name)
    body = {"token": token or join_token(mesh, tok_role), "csr": gw.csr()}
    if role:
        body["role"] = role
    status, answer = mesh.request("POST", "/v1/register", body)
    assert status == 201, answer
    gw.registered(answer)
    return gw, answer


def metric(mesh, name):
    status, text = mesh.request("GET", "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(name + " not in /metrics")


def test_init_files_are_private_and_not_overwritten(meshctld, tmp_path):
    state = str(tmp_path / "s")
    admin, first = h.init_mesh(meshctld, state)
    for f in ("ca.key", "server.key", "state.db"):
        assert stat.S_IMODE(os.stat(os.path.join(state, f)).st_mode) == 0o600, f
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    again = subprocess.run([meshctld, "init", "--state-dir", state], capture_output=True, text=True)
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
    assert admin not in again.stdout + again.stderr
    # The token is nowhere on disk in the clear.
    for f in os.listdir(state):
        with open(os.path.join(state, f), "rb") as fh:
            assert admin.split(".")[1].encode() not in fh.read(), f


def test_registration_end_to_end(mesh):
    gw, answer = register(mesh, role="edge")
    cert = x509.load_pem_x509_certificate(answer["certificate"].encode())
    # OpenSSL's own verifier, as a client would check it (purpose: TLS client).
    v = subprocess.run(["openssl", "verify", "-CAfile", mesh.ca, "-purpose", "sslclient", gw.cert_path],
                       capture_output=True, text=True)
    assert v.returncode == 0 and ": OK" in v.stdout, v.stdout + v.stderr
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == gw.id == "gw-1"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "edge"
    assert len(answer["beacon_key"]) == 64
    status, body = mesh.request("GET", "/v1/gateways/" + gw.id, token=mesh.admin)
    assert status == 200 and body["status"] == "registered" and body["role"] == "edge"
    # The gateway API with its certificate: the state it reads includes itself.
    status, state = mesh.request("GET", "/v1/gw/state", cert=gw.cert_path, key=gw.key_path)
    assert status == 200, state
    assert state["epoch"] == mesh.epoch and [g["id"] for g in state["snapshot"]["gateways"]] == [gw.id]
    # Without a client certificate the gateway API refuses.
    status, body = mesh.request("GET", "/v1/gw/state")
    assert status == 401 and "client certificate" in body["error"]
    status, events = mesh.request("GET", "/v1/events", token=mesh.admin)
    assert [e["kind"] for e in events["events"]] == ["joined"]


def test_bad_tokens_refused(mesh):
    gw = h.Gateway(mesh.workdir, "x")
    good = join_token(mesh, uses=1)
    assert mesh.request("POST", "/v1/register", {"token": good, "csr": gw.csr()})[0] == 201
    # Used up, unknown and malformed are 401; an expired one too (after it expired).
    expired = join_token(mesh, lifetime_s=1)
    time.sleep(1.1)
    for token in (good, "0" * 16 + "." + "0" * 64, "garbage", expired):
        status, body = mesh.request("POST", "/v1/register", {"token": token, "csr": gw.csr()})
        assert status == 401, (token, body)
        assert token not in str(body)
    # A core role with an edge token, and an edge role with a core token.
    status, body = mesh.request("POST", "/v1/register", {"token": join_token(mesh, "edge"), "csr": gw.csr(), "role": "core"})
    assert status == 403 and "core" in body["error"]
    assert register(mesh, "core1", role="core", tok_role="core")[1]["role"] == "core"
    status, listed = mesh.request("GET", "/v1/gateways", token=mesh.admin)
    assert [g["id"] for g in listed["gateways"]] == ["gw-1", "gw-2"]


def test_operator_tokens_and_roles(mesh):
    status, ro = mesh.request("POST", "/v1/tokens", {"kind": "read-only", "lifetime_s": 0}, token=mesh.admin)
    assert status == 201
    reader = ro["token"]
    assert mesh.request("GET", "/v1/gateways", token=reader)[0] == 200
    status, body = mesh.request("POST", "/v1/tokens", {"kind": "join"}, token=reader)
    assert status == 403 and "admin" in body["error"]
    assert mesh.request("GET", "/v1/tokens", token=reader)[0] == 403
    assert mesh.request("GET", "/v1/gateways")[0] == 401
    assert mesh.request("GET", "/v1/gateways", token=reader[:-1] + ("1" if reader[-1] == "0" else "0"))[0] == 401
    status, tokens = mesh.request("GET", "/v1/tokens", token=mesh.admin)
    assert all("secret" not in t and "token" not in t for t in tokens["tokens"])
    assert mesh.request("DELETE", "/v1/tokens/" + ro["id"], token=mesh.admin)[0] == 200
    assert mesh.request("GET", "/v1/gateways", token=reader)[0] == 401


def test_beacons_up_refusals_and_down(mesh):
    a, _ = register(mesh, "a")
    b, _ = register(mesh, "b")
    watch = h.Watch(mesh, b)
    assert watch.status == 200
    first = watch.next()
    assert "snapshot" in first
    h.send_udp(mesh.beacon_port, a.beacon(neighbours=[(b.id, 12000)]))
    up = watch.wait_for(lambda m: any(d.get("gateway", {}).get("status") == "up" for d in m.get("deltas", [])))
    assert up["deltas"][-1]["gateway"]["id"] == a.id
    good = a.beacon()
    h.send_udp(mesh.beacon_port, good)
    h.send_udp(mesh.beacon_port, good)  # replayed
    h.send_udp(mesh.beacon_port, a.beacon(key=b"\x00" * 32))  # forged
    h.send_udp(mesh.beacon_port, a.beacon(sent_ms=int(time.time() * 1000) - 120000))  # stale
    h.send_udp(mesh.beacon_port, b"MGB1\x01garbage")
    deadline = time.time() + 3
    while time.time() < deadline and metric(mesh, "meshctld_beacons_stale_total") < 1:
        time.sleep(0.05)
    assert metric(mesh, "meshctld_beacons_accepted_total") == 2
    assert metric(mesh, "meshctld_beacons_replayed_total") == 1
    assert metric(mesh, "meshctld_beacons_bad_tag_total") == 1
    assert metric(mesh, "meshctld_beacons_stale_total") == 1
    assert metric(mesh, "meshctld_beacons_truncated_total") == 1
    status, links = mesh.request("GET", "/v1/links", token=mesh.admin)
    assert links["links"][0]["from"] == a.id and links["links"][0]["rtt_us"] == 12000
    # No more beacons: down after down_after_ms (600 ms), told to subscribers.
    t0 = time.time()
    down = watch.wait_for(lambda m: any(d.get("gateway", {}).get("status") == "down" for d in m.get("deltas", [])), 3)
    assert time.time() - t0 < 2.0
    assert down["deltas"][-1]["gateway"]["id"] == a.id
    status, events = mesh.request("GET", "/v1/events", token=mesh.admin)
    assert [e["kind"] for e in events["events"]][-2:] == ["up", "down"]
    watch.close()


def test_revocation_reaches_other_gateways_and_locks_out(mesh):
    a, _ = register(mesh, "a")
    b, _ = register(mesh, "b")
    watch_b = h.Watch(mesh, b)
    watch_b.next()
    watch_a = h.Watch(mesh, a)
    watch_a.next()
    t0 = time.time()
    status, body = mesh.request("POST", f"/v1/gateways/{a.id}/revoke", token=mesh.admin)
    assert status == 200, body
    seen = watch_b.wait_for(lambda m: any(d.get("gateway", {}).get("status") == "revoked" for d in m.get("deltas", [])), 1.0)
    assert time.time() - t0 < 1.0 and seen["deltas"][-1]["gateway"]["id"] == a.id
    # The revoked gateway's stream ends, and it can no longer connect.
    with pytest.raises((EOFError, OSError)):
        watch_a.wait_for(lambda m: False, 2.0)
    with pytest.raises((OSError, ConnectionError)):
        mesh.request("GET", "/v1/gw/state", cert=a.cert_path, key=a.key_path)
    h.send_udp(mesh.beacon_port, a.beacon())
    deadline = time.time() + 3
    while time.time() < deadline and metric(mesh, "meshctld_beacons_revoked_gateway_total") < 1:
        time.sleep(0.05)
    assert metric(mesh, "meshctld_beacons_revoked_gateway_total") == 1
    assert mesh.request("GET", "/v1/gw/state", cert=b.cert_path, key=b.key_path)[0] == 200
    watch_a.close()
    watch_b.close()


def test_delta_resume_after_disconnect(mesh):
    a, _ = register(mesh, "a")
    first = h.Watch(mesh, a)
    snap = first.next()
    version = snap["version"]
    first.close()
    register(mesh, "b")  # happens while a is away
    again = h.Watch(mesh, a, epoch=snap["epoch"], since=version)
    m = again.next()
    assert "deltas" in m and "snapshot" not in m
    assert [d["gateway"]["id"] for d in m["deltas"]] == ["gw-2"]
    again.close()
    # Another epoch (a restarted controller's) gets a snapshot.
    other = h.Watch(mesh, a, epoch="0123456789abcdef", since=version)
    assert "snapshot" in other.next()
    other.close()


def test_renewal_over_mtls(mesh):
    a, _ = register(mesh, "a")
    status, body = mesh.request("POST", "/v1/gw/renew", {"csr": a.csr()}, cert=a.cert_path, key=a.key_path)
    assert status == 200, body
    new = x509.load_pem_x509_certificate(body["certificate"].encode())
    assert new.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == a.id


BAD_REQUESTS = [
    ("malformed JSON", "POST", "/v1/tokens", "{not json", 400, "malformed JSON", None),
    ("not an object", "POST", "/v1/tokens", "[1]", 400, "JSON object", None),
    ("unknown field", "POST", "/v1/tokens", '{"kind":"join","colour":"red"}', 400, "unknown field", "colour"),
    ("wrong type", "POST", "/v1/tokens", '{"uses":"3"}', 400, "integer", "uses"),
    ("out of range", "POST", "/v1/tokens", '{"uses":0}', 400, ">= 1", "uses"),
    ("bad enum", "POST", "/v1/tokens", '{"role":"boss"}', 400, "core, edge or transit", "role"),
    ("oversized body", "POST", "/v1/tokens", '{"description":"' + "x" * 70000 + '"}', 413, "max_body_bytes", None),
    ("unknown route", "GET", "/v1/nothing", None, 404, "no such endpoint", None),
    ("wrong method", "PUT", "/v1/tokens", "{}", 405, "not allowed", None),
    ("bad query", "GET", "/v1/events?limit=abc", None, 400, "integer", "limit"),
    ("missing field", "POST", "/v1/register", '{"token":"x"}', 400, "required", "csr"),
]


@pytest.mark.parametrize("name,method,path,raw,code,message,field", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests(mesh, name, method, path, raw, code, message, field):
    before = mesh.request("GET", "/v1/tokens", token=mesh.admin)[1]
    status, body = mesh.request(method, path, raw=raw, token=mesh.admin)
    assert status == code, body
    assert message in body["error"], body
    if field:
        assert body["field"] == field
    assert mesh.request("GET", "/v1/tokens", token=mesh.admin)[1] == before
    assert mesh.request("GET", "/healthz")[0] == 200  # still serving


def test_bad_credentials(mesh):
    assert mesh.request("GET", "/v1/topology")[0] == 401
    assert mesh.request("GET", "/v1/topology", headers={"Authorization": "Basic abc"})[0] == 401
    status, body = mesh.request("GET", "/v1/topology", token="short")
    assert status == 401 and "error" in body


def test_acknowledged_writes_survive_sigkill(mesh, meshctld):
    ids = [register(mesh, f"g{i}")[0].id for i in range(5)]
    mesh.stop(signal.SIGKILL)
    again = h.Controller(meshctld, mesh.config, mesh.state_dir)
    try:
        status, listed = again.request("GET", "/v1/gateways", token=mesh.admin)
        assert status == 200
        assert [g["id"] for g in listed["gateways"]] == ids
        assert all(g["status"] == "registered" for g in listed["gateways"])
        assert again.epoch != mesh.epoch
    finally:
        again.stop()


def test_help_and_bad_config(meshctld, tmp_path):
    r = subprocess.run([meshctld, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "SYNOPSIS" in r.stdout and "CONFIGURATION" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[controller]\nstate_dir = "/x"\n[beacons]\ndown_after_ms = 5\n')
    r = subprocess.run([meshctld, "--config", str(bad), "--check-config"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "bad.toml:4: [beacons] down_after_ms = 5: must be in 100..3600000" in r.stderr
    bad.write_text('[controller]\nstate_dir = "/x"\ncolour = 1\n')
    r = subprocess.run([meshctld, "--config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and "colour = 1: unknown key" in r.stderr
    assert subprocess.run([meshctld, "--bogus"], capture_output=True).returncode == 2


def test_policies_validated_on_write(mesh):
    rules = {"edge_transit": False, "rules": [
        {"name": "voice", "priority": 10, "dst": "198.51.100.0/24", "protocol": "udp", "dst_ports": "5060-5061",
         "dscp": [46], "class": "realtime", "max_hops": 3},
        {"name": "block-telnet", "protocol": 6, "dst_ports": 23, "action": "deny"}]}
    status, body = mesh.request("PUT", "/v1/policies", rules, token=mesh.admin)
    assert status == 200, body
    assert [r["name"] for r in body["rules"]] == ["voice", "block-telnet"]
    assert body["rules"][0]["dst_ports"] == "5060-5061" and body["rules"][1]["protocol"] == 6
    assert body["predict"] is True  # forecasts priced unless the policy says otherwise
    version = body["version"]
    bad = [
        ({"rules": [{"name": "x", "dst": "10.0.0.1/8"}]}, "rules[0].dst", "prefix"),
        ({"rules": [{"name": "x", "colour": 1}]}, "rules[0].colour", "unknown field"),
        ({"rules": [{"name": "x", "dscp": [64]}]}, "rules[0].dscp[0]", "0..63"),
        ({"rules": [{"name": "x"}, {"name": "x"}]}, "rules[1].name", "twice"),
        ({"rules": [{"name": "x", "dst_ports": "80"}]}, "rules", "x"),  # ports without tcp/udp
        ({"edge_transit": "yes"}, "edge_transit", "true or false"),
        ({"predict": 0}, "predict", "true or false"),
        ({"rules": [{"priority": 1}]}, "rules[0].name", "required"),
    ]
    for doc, field, message in bad:
        status, err = mesh.request("PUT", "/v1/policies", doc, token=mesh.admin)
        assert status == 400 and err["field"] == field and message in err["error"], (doc, err)
    status, now = mesh.request("GET", "/v1/policies", token=mesh.admin)
    assert now["version"] == version and len(now["rules"]) == 2  # unchanged by the refusals
    status, reader = mesh.request("POST", "/v1/tokens", {"kind": "read-only"}, token=mesh.admin)
    assert mesh.request("PUT", "/v1/policies", rules, token=reader["token"])[0] == 403


def beacon_mesh(mesh, gws, links):
    """Beacons that report the given links (a, b, rtt_us) from both ends."""
    for g in gws:
        neigh = [(b.id, rtt) for a, b, rtt in links if a is g] + [(a.id, rtt) for a, b, rtt in links if b is g]
        h.send_udp(mesh.beacon_port, g.beacon(neighbours=neigh))
    deadline = time.time() + 3
    while time.time() < deadline:
        status, body = mesh.request("GET", "/v1/gateways", token=mesh.admin)
        if all(g["status"] == "up" for g in body["gateways"]) and \
           len(mesh.request("GET", "/v1/links", token=mesh.admin)[1]["links"]) == 2 * len(links):
            return
        time.sleep(0.05)
    raise AssertionError("beacons not ingested")


def test_paths_tunnels_relays_and_revocation(mesh):
    # a - t - z, and a - e - z with e an edge gateway on a shorter path.
    a, _ = register(mesh, "a", tok_role="core")
    t, _ = register(mesh, "t", tok_role="transit")
    z, _ = register(mesh, "z", tok_role="core")
    e, _ = register(mesh, "e", tok_role="edge")
    beacon_mesh(mesh, [a, t, z, e], [(a, t, 20000), (t, z, 20000), (a, e, 2000), (e, z, 2000)])
    status, q = mesh.request("GET", f"/v1/paths?from={a.id}&to={z.id}&k=2", token=mesh.admin)
    assert status == 200, q
    assert q["reachable"] and q["paths"][0]["nodes"] == [a.id, t.id, z.id]  # no edge transit by default
    assert len(q["paths"]) == 1
    assert mesh.request("PUT", "/v1/policies", {"edge_transit": True}, token=mesh.admin)[0] == 200
    status, q = mesh.request("GET", f"/v1/paths?from={a.id}&to={z.id}", token=mesh.admin)
    assert q["paths"][0]["nodes"] == [a.id, e.id, z.id]
    assert mesh.request("PUT", "/v1/policies", {"edge_transit": False}, token=mesh.admin)[0] == 200
    assert mesh.request("GET", f"/v1/paths?from={a.id}&to=gw-99", token=mesh.admin)[0] == 404
    assert mesh.request("GET", f"/v1/paths?from={a.id}", token=mesh.admin)[1]["field"] == "to"
    # The transit watches: it learns the SPIs of the tunnel that crosses it.
    watch_t = h.Watch(mesh, t)
    watch_t.next()
    status, tun = mesh.request("POST", "/v1/gw/tunnels", {"path": [a.id, t.id, z.id]}, cert=a.cert_path, key=a.key_path)
    assert status == 201, tun
    fwd, rev = tun["forward"], tun["reverse"]
    assert fwd["path"] == [a.id, t.id, z.id] and rev["path"] == [z.id, t.id, a.id] and fwd["spi"] != rev["spi"]
    assert fwd["relays"] == [{"gateway": t.id, "prev": a.id, "next": z.id}]
    assert rev["relays"] == [{"gateway": t.id, "prev": z.id, "next": a.id}]
    spis = set()
    while spis != {fwd["spi"], rev["spi"]}:
        got = watch_t.wait_for(lambda m: any(d["op"] == "spi" for d in m.get("deltas", [])), 2)
        spis |= {d["spi"]["spi"] for d in got["deltas"] if d["op"] == "spi"}
    # An edge transit is refused; so is a path not starting with the asker.
    status, err = mesh.request("POST", "/v1/gw/tunnels", {"path": [a.id, e.id, z.id]}, cert=a.cert_path, key=a.key_path)
    assert status == 403 and "edge" in err["error"]
    assert mesh.request("POST", "/v1/gw/tunnels", {"path": [t.id, z.id]}, cert=a.cert_path, key=a.key_path)[0] == 403
    # The edge gateway's own state does not list the tunnel it is not on.
    status, state_e = mesh.request("GET", "/v1/gw/state", cert=e.cert_path, key=e.key_path)
    assert state_e["snapshot"]["spis"] == []
    # Passive telemetry loads the links of the path.
    status, r = mesh.request("POST", "/v1/gw/report", {"tunnels": [{"spi": fwd["spi"], "tx_bps": 5e8}],
                                                       "paths": [{"egress": z.id, "class": "default",
                                                                  "path": [a.id, t.id, z.id], "reason": "initial"}]},
                             cert=a.cert_path, key=a.key_path)
    assert status == 200, r
    links = {(l["from"], l["to"]): l for l in mesh.request("GET", "/v1/links", token=mesh.admin)[1]["links"]}
    assert links[(a.id, t.id)]["load_bps"] == 5e8 and links[(t.id, z.id)]["utilisation"] == 0.5
    assert links[(a.id, e.id)]["load_bps"] == 0
    # Revoking the transit drops the tunnel that crossed it, and its gateways are told.
    watch_a = h.Watch(mesh, a)
    watch_a.next()
    assert mesh.request("POST", f"/v1/gateways/{t.id}/revoke", token=mesh.admin)[0] == 200
    removed = watch_a.wait_for(lambda m: any(d["op"] == "spi_removed" for d in m.get("deltas", [])), 1.0)
    assert {d["spi"] for d in removed["deltas"] if d["op"] == "spi_removed"} <= {fwd["spi"], rev["spi"]}
    assert mesh.request("GET", "/v1/spis", token=mesh.admin)[1]["spis"] == []
    status, q = mesh.request("GET", f"/v1/paths?from={a.id}&to={z.id}", token=mesh.admin)
    assert not q["reachable"]  # not through the revoked transit, nor the edge
    watch_a.close()
    watch_t.close()


def test_event_stream(mesh):
    import socket
    import ssl
    raw = socket.create_connection(("127.0.0.1", mesh.api_port), timeout=10)
    s = mesh.context().wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(f"GET /v1/events/watch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {mesh.admin}\r\n\r\n".encode())
    stream = h.Watch.__new__(h.Watch)
    stream.sock, stream.buffer = s, b""
    head = stream._until(b"\r\n\r\n")
    assert b" 200 " in head
    gw, _ = register(mesh, "x")
    m = stream.wait_for(lambda m: m.get("kind") == "joined", 2)
    assert m["gateway"] == gw.id
    stream.close()
    # Without a token the stream is refused like the GET.
    status, _ = mesh.request("GET", "/v1/events/watch")
    assert status == 401


def test_openapi_document_is_valid_and_served(mesh):
    import json as jsonlib
    import jsonschema
    status, doc = mesh.request("GET", "/openapi.json")
    assert status == 200
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "data", "openapi-3.0-schema.json")) as f:
        schema = jsonlib.load(f)
    jsonschema.Draft4Validator(schema).validate(doc)
    # The copy in the repository is the one served.
    with open(os.path.join(here, "..", "..", "controlplane", "api", "openapi.json")) as f:
        assert jsonlib.load(f) == doc
    # Every documented route exists on the live server (no "no such endpoint").
    for path, ops in doc["paths"].items():
        for method in ops:
            if path.endswith("/watch"):
                continue  # streams: exercised by their own tests
            concrete = path.replace("{id}", "1")
            status, body = mesh.request(method.upper(), concrete, raw="{}" if method in ("post", "put") else None)
            assert status != 404 or "no such endpoint" not in str(body), (method, path, body)
            assert status != 405, (method, path, body)


def test_ephemeral_gateway_removed_after_time_down(meshctld, tmp_path):
    mesh = h.started_mesh(meshctld, tmp_path, "[gateways]\nephemeral_remove_after_s = 1\n")
    try:
        eph, _ = register(mesh, "eph", token=join_token(mesh, "edge", ephemeral=True))
        core, _ = register(mesh, "core", tok_role="core")
        for g in (eph, core):
            h.send_udp(mesh.beacon_port, g.beacon())
        deadline = time.time() + 6
        gone = False
        while time.time() < deadline and not gone:
            status, body = mesh.request("GET", "/v1/gateways", token=mesh.admin)
            ids = [g["id"] for g in body["gateways"]]
            gone = eph.id not in ids
            time.sleep(0.1)
        assert gone, body
        assert core.id in ids  # a non-ephemeral gateway stays, down
        status, events = mesh.request("GET", "/v1/events?limit=100", token=mesh.admin)
        left = [e for e in events["events"] if e["kind"] == "left"]
        assert left and left[0]["gateway"] == eph.id and "ephemeral" in left[0]["detail"]
    finally:
        mesh.stop()


def test_request_rate_and_connection_limits(meshctld, tmp_path):
    state = str(tmp_path / "state")
    h.init_mesh(meshctld, state)
    config = str(tmp_path / "strict.toml")
    h.write_config(config, state)
    with open(config) as f:
        text = f.read().replace('[api]\nlisten = "127.0.0.1:0"\n',
                                '[api]\nlisten = "127.0.0.1:0"\nrequests_per_second = 5\nmax_connections = 3\n')
    with open(config, "w") as f:
        f.write(text)
    strict = h.Controller(meshctld, config, state)
    try:
        codes = [strict.request("GET", "/healthz")[0] for _ in range(12)]
        assert codes[:5] == [200] * 5 and 429 in codes[5:], codes
        status, body = strict.request("GET", "/healthz")
        if status == 429:
            assert "too many requests" in body["error"]
        time.sleep(1.1)  # the bucket refills
        assert strict.request("GET", "/healthz")[0] == 200
        # Connections beyond max_connections are closed at once; the held ones work.
        held = [socket.create_connection(("127.0.0.1", strict.api_port)) for _ in range(3)]
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", strict.api_port), timeout=5)
        extra.settimeout(5)
        try:
            assert extra.recv(1) == b""  # closed by the server
        except ConnectionResetError:
            pass
        for s in held:
            s.close()
        time.sleep(1.5)  # the held connections are gone and the bucket refilled
        assert strict.request("GET", "/healthz")[0] == 200
    finally:
        strict.stop()


def test_tls_versions_and_foreign_certificates(mesh, meshctld, tmp_path):
    import ssl as ssllib
    # TLS 1.2 is refused: the controller speaks TLS 1.3 only.
    ctx = ssllib.SSLContext(ssllib.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(mesh.ca)
    ctx.maximum_version = ssllib.TLSVersion.TLSv1_2
    with pytest.raises(ssllib.SSLError):
        with socket.create_connection(("127.0.0.1", mesh.api_port), timeout=5) as raw:
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    # A client certificate from another mesh's CA fails the handshake.
    other_state = str(tmp_path / "other")
    other_admin, _ = h.init_mesh(meshctld, other_state)
    other_config = str(tmp_path / "other.toml")
    h.write_config(other_config, other_state)
    other = h.Controller(meshctld, other_config, other_state)
    try:
        other.admin, other.workdir = other_admin, str(tmp_path)
        foreign, _ = register(other, "foreign")
    finally:
        other.stop()
    with pytest.raises((OSError, ConnectionError)):
        mesh.request("GET", "/v1/gw/state", cert=foreign.cert_path, key=foreign.key_path)
    assert mesh.request("GET", "/healthz")[0] == 200


def test_sites_reported_by_a_gateway(mesh):
    a, _ = register(mesh, "a")
    b, _ = register(mesh, "b")
    watch = h.Watch(mesh, b)
    watch.next()
    status, body = mesh.request("POST", "/v1/gw/report", {"sites": ["192.0.2.0/24", "fd00:1::/64"]},
                                cert=a.cert_path, key=a.key_path)
    assert status == 200, body
    seen = watch.wait_for(lambda m: any(d.get("gateway", {}).get("sites") for d in m.get("deltas", [])), 2)
    assert seen["deltas"][-1]["gateway"]["sites"] == ["192.0.2.0/24", "fd00:1::/64"]
    assert mesh.request("GET", "/v1/gateways/" + a.id, token=mesh.admin)[1]["sites"] == ["192.0.2.0/24", "fd00:1::/64"]
    for bad, field in (({"sites": ["10.0.0.1/8"]}, "sites[0]"), ({"sites": "x"}, "sites"), ({"sites": [7]}, "sites[0]")):
        status, err = mesh.request("POST", "/v1/gw/report", bad, cert=a.cert_path, key=a.key_path)
        assert status == 400 and err["field"] == field, err
    assert mesh.request("GET", "/v1/gateways/" + a.id, token=mesh.admin)[1]["sites"] == ["192.0.2.0/24", "fd00:1::/64"]
    watch.close()
