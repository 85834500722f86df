#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""meshctld under load, on loopback only, bounded in count and time
(DESIGN.md "Performance method"): one meshctld pinned to CPU 1, the load
generators on CPU 0.

usage: scripts/bench/controller.py [--builddir build] [--gateways 10000]
                                   [--subscribers 1000] [--rates 50000,...]
                                   [--seconds 3] [--json FILE]

Rows (also written to --json FILE as an array):
  registration        gateways registered through POST /v1/register (a real
                      P-256 CSR each, certificate signed, SQLite commit with
                      synchronous=FULL), 4 client connections: registrations_per_s
  rss                 meshctld's resident memory with all gateways registered
                      and their links known: rss_mib
  beacons             per offered rate: beacons sent by tests/bench/beacon_load
                      (HMAC-tagged with the gateways' real keys, 4 neighbours
                      each, sendmmsg), accepted by meshctld, lost (sent -
                      accepted), kernel socket drops; beacons_per_s accepted
  beacons_max         the highest offered rate with nothing lost
  rest_latency        GET /v1/gateways/ID (keep-alive, one client) idle and
                      while beacons flow at half the max rate: p50_ms, p99_ms
  delta_fanout        PUT /v1/policies while N gateways follow /v1/gw/watch
                      over mTLS: time until each subscriber has the delta,
                      p50_ms / p99_ms / max_ms, median of 5 trials
"""
import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import meshctld_harness as h  # noqa: E402

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def metric(controller, name):
    status, text = controller.request("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    """One keep-alive HTTPS connection (bearer token or client certificate)."""

    def __init__(self, controller, token=None):
        import http.client
        self.conn = http.client.HTTPSConnection("127.0.0.1", controller.api_port, context=controller.context(), timeout=30)
        self.token = token

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read()


def make_csrs(n):
    out = []
    for _ in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])).sign(key, hashes.SHA256())
        out.append((key, csr.public_bytes(serialization.Encoding.PEM).decode()))
    return out


def register_all(controller, admin, csrs, threads=4):
    c = Client(controller, admin)
    status, body = c.call("POST", "/v1/tokens", {"kind": "join", "uses": -1, "lifetime_s": 3600, "ephemeral": False})
    assert status == 201, body
    join = json.loads(body)["token"]
    results = [None] * len(csrs)
    errors = []

    def work(part):
        cl = Client(controller)
        for i in part:
            status, body = cl.call("POST", "/v1/register", {"token": join, "csr": csrs[i][1]})
            if status != 201:
                errors.append(body)
                return
            results[i] = json.loads(body)

    parts = [range(k, len(csrs), threads) for k in range(threads)]
    t0 = time.perf_counter()
    ts = [threading.Thread(target=work, args=(p,)) for p in parts]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - t0
    if errors:
        raise RuntimeError("registration failed: %r" % errors[:3])
    return results, took


def run_beacons(loader, keys_file, controller, rate, seconds, first_seq, neighbours=4):
    before = {k: metric(controller, f"meshctld_beacons_{k}_total") for k in ("accepted", "replayed", "stale", "bad_tag",
                                                                             "unknown_gateway")}
    drops_before = metric(controller, "meshctld_beacon_socket_drops_total")
    r = subprocess.run(["taskset", "-c", "0", loader, keys_file, str(controller.beacon_port), str(rate), str(seconds),
                        str(first_seq), str(neighbours)], capture_output=True, text=True, timeout=seconds * 4 + 120)
    if r.returncode != 0:
        raise RuntimeError("beacon_load: " + r.stderr)
    sent = json.loads(r.stdout)
    # Let the receiver drain its socket before counting.
    last, stable = -1, 0
    while stable < 3:
        time.sleep(0.2)
        now = metric(controller, "meshctld_beacons_accepted_total")
        stable = stable + 1 if now == last else 0
        last = now
    after = {k: metric(controller, f"meshctld_beacons_{k}_total") for k in before}
    accepted = after["accepted"] - before["accepted"]
    refused = sum(after[k] - before[k] for k in before if k != "accepted")
    return {"offered_per_s": rate, "sent": sent["sent"], "send_rate_per_s": round(sent["rate_per_s"]),
            "accepted": int(accepted), "refused": int(refused), "lost": int(sent["sent"] - accepted),
            "socket_drops": int(metric(controller, "meshctld_beacon_socket_drops_total") - drops_before),
            "beacons_per_s": round(accepted / sent["seconds"])}, sent["next_sequence"]


def rest_latency(controller, admin, ids, seconds):
    c = Client(controller, admin)
    lat = []
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        t0 = time.perf_counter()
        status, _ = c.call("GET", "/v1/gateways/" + ids[i % len(ids)])
        lat.append((time.perf_counter() - t0) * 1000)
        assert status == 200
        i += 1
    return percentile(lat, 50), percentile(lat, 99), len(lat)


class Subscriber:
    def __init__(self, controller, cert, key, epoch, version):
        ctx = controller.context(cert, key)
        raw = socket.create_connection(("127.0.0.1", controller.api_port), timeout=30)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.sock.sendall(f"GET /v1/gw/watch?epoch={epoch}&since={version} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert b" 200 " in head.split(b"\r\n")[0], head
        self.sock.setblocking(False)

    def read_lines(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        lines = []
        # Chunked framing: "<hex size>\r\n<data>\r\n".
        while b"\r\n" in self.buffer:
            size_text, rest = self.buffer.split(b"\r\n", 1)
            size = int(size_text, 16)
            if len(rest) < size + 2:
                break
            lines.append(rest[:size])
            self.buffer = rest[size + 2:]
        return lines


def delta_fanout(controller, admin, subs, trials=5):
    sel = selectors.DefaultSelector()
    for s in subs:
        sel.register(s.sock, selectors.EVENT_READ, s)
    admin_client = Client(controller, admin)
    results = []
    for trial in range(trials):
        marker = f"bench-{trial}-{time.time()}"
        waiting = set(range(len(subs)))
        index = {id(s): i for i, s in enumerate(subs)}
        arrival = {}
        t0 = time.perf_counter()
        status, body = admin_client.call("PUT", "/v1/policies", {"rules": [{"name": marker}]})
        assert status == 200, body
        deadline = time.time() + 10
        while waiting and time.time() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.data
                for line in s.read_lines():
                    if marker.encode() in line and index[id(s)] in waiting:
                        arrival[index[id(s)]] = (time.perf_counter() - t0) * 1000
                        waiting.discard(index[id(s)])
        if waiting:
            raise RuntimeError(f"{len(waiting)} subscribers did not get the delta in 10 s")
        v = list(arrival.values())
        results.append((percentile(v, 50), percentile(v, 99), max(v)))
        time.sleep(0.3)
    return [statistics.median(x[i] for x in results) for i in range(3)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--gateways", type=int, default=10000)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--rates", default="50000,100000,150000,200000,300000,400000")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    meshctld = os.path.join(args.builddir, "controlplane", "controller", "meshctld")
    loader = os.path.join(args.builddir, "tests", "bench", "beacon_load")
    for p in (meshctld, loader):
        if not os.path.exists(p):
            sys.exit(f"controller.py: {p} not built (ninja -C {args.builddir})")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="meshctld-bench-")
    rows = []
    controller = None
    try:
        state = os.path.join(work, "state")
        admin, _ = h.init_mesh(meshctld, state)
        config = os.path.join(work, "meshctld.toml")
        with open(config, "w") as f:
            f.write(f'[controller]\nstate_dir = "{state}"\n[api]\nlisten = "127.0.0.1:0"\nmax_connections = 4096\n'
                    f'requests_per_second = 1000000\n[beacons]\nlisten = "127.0.0.1:0"\ndown_after_ms = 3600000\n')
        # meshctld on CPU 1 alone; everything else on CPU 0.
        controller = h.Controller(meshctld, config, state, prefix=("taskset", "-c", "1"), drain=True)
        os.sched_setaffinity(0, {0})

        print(f"generating {args.gateways} P-256 keys and CSRs ...", file=sys.stderr)
        csrs = make_csrs(args.gateways)
        print("registering ...", file=sys.stderr)
        regs, took = register_all(controller, admin, csrs)
        rows.append({"test": "registration", "gateways": args.gateways, "seconds": round(took, 2),
                     "registrations_per_s": round(args.gateways / took, 1)})
        keys_file = os.path.join(work, "beacon.keys")
        with open(os.open(keys_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            for r in regs:
                f.write(f"{r['gateway_id']} {r['beacon_key']}\n")
        ids = [r["gateway_id"] for r in regs]

        seq = 1
        # One round so every gateway is up and its links known, then memory.
        row, seq = run_beacons(loader, keys_file, controller, 20000, max(1.0, args.gateways / 20000), seq)
        rows.append({"test": "rss", "gateways": args.gateways, "links": len(controller.request(
            "GET", "/v1/links", token=admin)[1]["links"]), "rss_mib": round(rss_mib(controller.proc.pid), 1)})

        best = 0
        for rate in [int(x) for x in args.rates.split(",")]:
            row, seq = run_beacons(loader, keys_file, controller, rate, args.seconds, seq)
            row["test"] = "beacons"
            row["gateways"] = args.gateways
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
            if row["lost"] == 0 and row["refused"] == 0:
                best = max(best, rate)
        rows.append({"test": "beacons_max", "gateways": args.gateways, "beacons_per_s": best})

        p50, p99, n = rest_latency(controller, admin, ids, 3)
        rows.append({"test": "rest_latency", "load": "idle", "requests": n, "p50_ms": round(p50, 3), "p99_ms": round(p99, 3)})
        half = max(10000, best // 2)
        result = {}

        def background():
            result["beacons"] = run_beacons(loader, keys_file, controller, half, 5, seq)

        t = threading.Thread(target=background)
        t.start()
        time.sleep(0.5)
        p50, p99, n = rest_latency(controller, admin, ids, 3.5)
        t.join()
        seq = result["beacons"][1]
        rows.append({"test": "rest_latency", "load": f"beacons {half}/s", "requests": n, "p50_ms": round(p50, 3),
                     "p99_ms": round(p99, 3)})

        print(f"opening {args.subscribers} watch streams ...", file=sys.stderr)
        cert_dir = os.path.join(work, "certs")
        os.makedirs(cert_dir)
        status, health = controller.request("GET", "/healthz")
        subs = []
        for i in range(min(args.subscribers, len(regs))):
            cert, key = os.path.join(cert_dir, f"{i}.pem"), os.path.join(cert_dir, f"{i}.key")
            with open(cert, "w") as f:
                f.write(regs[i]["certificate"])
            with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
                f.write(csrs[i][0].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
            status, health = controller.request("GET", "/healthz")
            subs.append(Subscriber(controller, cert, key, health["epoch"], health["version"]))
        p50, p99, worst = delta_fanout(controller, admin, subs)
        rows.append({"test": "delta_fanout", "subscribers": len(subs), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                     "max_ms": round(worst, 2)})
        rows.append({"test": "rss", "gateways": args.gateways, "subscribers": len(subs),
                     "rss_mib": round(rss_mib(controller.proc.pid), 1)})
        for s in subs:
            s.sock.close()
    finally:
        if controller:
            controller.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'test':14} {'parameters':34} figures")
    for r in rows:
        params = {k: v for k, v in r.items() if k in ("gateways", "subscribers", "offered_per_s", "load", "links")}
        figures = {k: v for k, v in r.items() if k not in params and k != "test"}
        print(f"{r['test']:14} {json.dumps(params):34} {json.dumps(figures)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
