#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""meshgw's data plane on one worker lcore, against references run in the
same invocation (DESIGN.md "Performance method").

usage: scripts/bench/dataplane.py [--builddir build] [--repetitions 3] [--seconds 3]
                                  [--sizes 64,512,1420] [--skip-secgw] [--json FILE]

For each frame size (64, 512, 1420 bytes, Ethernet without FCS), the LAN
port is net_pcap replaying an in-memory capture (infinite_rx=1) and the WAN
port net_null (no-rx=1); the rate is what the WAN port sent, read through
DPDK telemetry over a timed window after a warm-up, median of the runs.
meshgw runs one worker (CPU 1; control thread on CPU 0) in these variants:
  1_tunnel           one tunnel, one route
  1000_tunnels       1,000 tunnels to 1,000 egresses, 100,000 routes (the
                     traffic spread over the 1,000 tunnels' prefixes)
  10000_rules        one tunnel and 10,000 policy rules in rte_acl (none
                     matching, so every packet is classified and forwarded)
  1000_swaps         one tunnel while the control thread publishes 1,000
                     snapshots a second (meshgw --swap-rate 1000)
References, same capture, same CPUs:
  source             testpmd io forwarding net_pcap -> net_null (the source alone)
  crypto_perf        dpdk-test-crypto-perf, crypto_aesni_gcm, AES-256-GCM
                     encrypt of exactly the bytes ESP encrypts for the frame
  limit              1 / (1/source + 1/crypto_perf)
  ipsec_secgw        DPDK's ipsec-secgw (a patched copy built from
                     /usr/share/dpdk/examples; see secgw.py), 1 and 1,000 SAs
Rows give mpps, gbps (of the input frames), ratio_vs_limit,
ratio_vs_ipsec_secgw (1 SA, or 1,000 SAs for 1000_tunnels), and for the
variants their ratio to 1_tunnel and the fraction of received packets lost.
Snapshot rows (tests/bench/snapshot_bench): bytes held by a snapshot of
100,000 routes, 1,000 tunnels and 10,000 relays, compile and switch times."""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crypto as cryptobench  # noqa: E402  (scripts/bench/crypto.py: crypto-perf runner)
import dpdk_telemetry  # noqa: E402
import gbench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"  # Debian's python3, with scapy


def make_pcaps(workdir, sizes):
    """Captures: per size, 1,024 frames to 198.51.100.0/24 (one tunnel) and
    1,024 frames over the 1,000 tunnels' prefixes 10.(i>>8).(i&255).1."""
    script = f"""
import sys
from scapy.all import Ether, IP, UDP, Raw, wrpcap
for size in {sizes!r}:
    for kind in ("one", "many"):
        frames = []
        for i in range(1024):
            dst = "198.51.100.%d" % (1 + i % 200) if kind == "one" else "10.%d.%d.1" % ((i % 1000) >> 8, (i % 1000) & 255)
            p = Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:00:01") / IP(src="192.0.2.10", dst=dst) / UDP(sport=1024 + i, dport=5000)
            p = p / Raw(b"\\x00" * (size - len(p)))
            assert len(p) == size
            frames.append(p)
        wrpcap("{workdir}/%s_%d.pcap" % (kind, size), frames)
"""
    subprocess.run([PY, "-c", script], check=True)


def write_key(path, seed):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# benchmark key\n" + bytes((seed * 7 + i) & 255 for i in range(36)).hex() + "\n")


def meshgw_config(workdir, prefix, pcap, variant):
    lines = [
        '[gateway]', 'id = "gw-a"',
        '[eal]', f'args = ["--no-huge", "-m", "1024", "--file-prefix", "{prefix}", "--log-level", "*:error"]',
        '[dataplane]', 'main_cpu = 0', 'worker_cpus = [1]', 'idle = "poll"', 'mbufs = 16383',
        '[[port]]', 'name = "lan"', 'role = "lan"', f'device = "net_pcap0,rx_pcap={pcap},infinite_rx=1"',
        'address = "192.0.2.1/24"', 'mac = "02:00:00:00:00:01"',
        '[[port]]', 'name = "wan"', 'role = "wan"', 'device = "net_null0,no-rx=1"',
        'address = "198.18.0.1/16"', 'mac = "02:00:00:00:00:02"',
    ]
    tunnels = 1000 if variant == "1000_tunnels" else 1
    for t in range(tunnels):
        hop = f"198.18.{1 + (t >> 8)}.{t & 255}" if tunnels > 1 else "198.18.0.2"
        lines += ['[[neighbour]]', 'port = "wan"', f'ip = "{hop}"', f'mac = "02:00:00:01:{t >> 8:02x}:{t & 255:02x}"']
        out_key, in_key = f"{workdir}/out{t}.key", f"{workdir}/in{t}.key"
        if not os.path.exists(out_key):
            write_key(out_key, t)
            write_key(in_key, t + 5000)
        site = "198.51.100.0/24" if tunnels == 1 else f"10.{t >> 8}.{t & 255}.0/24"
        lines += ['[[tunnel]]', f'id = "t{t}"', f'egress = "gw-{t}"', f'next_hop = "{hop}"',
                  f'out_spi = {0x10000 + t}', f'out_key_file = "{out_key}"',
                  f'in_spi = {0x20000 + t}', f'in_key_file = "{in_key}"', f'remote_sites = ["{site}"]',
                  'mtu = 1500']  # 1420-byte frames carry 1406-byte packets
    if tunnels == 1:
        lines += ['[[route]]', 'prefix = "198.51.100.0/24"', 'egress = "gw-0"']
    else:
        # 100,000 /24 routes over 10.0.0.0/8 and 11.0.0.0/8; route k goes to
        # egress k % 1000, so the captured 10.(i>>8).(i&255).1 hit tunnel i.
        for k in range(100000):
            lines += ['[[route]]', f'prefix = "{10 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}.0/24"',
                      f'egress = "gw-{k % 1000}"']
    if variant == "10000_rules":
        # Rules on other destinations: every packet is classified, none denied.
        for r in range(10000):
            lines += ['[[policy]]', f'name = "r{r}"', f'priority = {r % 100}',
                      f'dst = "100.{64 + (r >> 12) % 64}.{(r >> 4) & 255}.{(r & 15) * 16}/28"',
                      f'protocol = "{"tcp" if r % 2 else "udp"}"', f'dst_ports = "{r % 60000}-{r % 60000 + 10}"',
                      'action = "deny"']
    path = os.path.join(workdir, f"{variant}_{os.path.basename(pcap)}.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_process(cmd, prefix, seconds, tx_port=1, stats=None, cwd=None):
    """Starts a DPDK program, waits for its ports, measures TX pps on tx_port."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
    try:
        dpdk_telemetry.wait_for_ports(prefix, tx_port + 1, timeout=60)
        pps = dpdk_telemetry.rate(prefix, tx_port, seconds, warmup=1.5)
        extra = stats() if stats else None
        return pps, extra
    except Exception:
        log.seek(0)
        sys.stderr.write(log.read()[-3000:])
        raise
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


def meshgw_run(meshgw, config, prefix, seconds, swap_rate=0):
    cmd = ["taskset", "-c", "0,1", meshgw, "--config", config]
    if swap_rate:
        cmd += ["--swap-rate", str(swap_rate)]

    def lost():
        rx = dpdk_telemetry.port_stats(prefix, 0)["ipackets"]
        tx = dpdk_telemetry.port_stats(prefix, 1)["opackets"]
        return rx, tx
    pps, (rx, tx) = run_process(cmd, prefix, seconds, stats=lost)
    # Received but not sent: dropped by meshgw (or still in flight: at most a burst).
    return pps, max(0, rx - tx - 64) / max(rx, 1)


def testpmd_run(pcap, prefix, seconds):
    exe = shutil.which("dpdk-testpmd")
    cmd = [exe, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", prefix, "-l", "0,1", "--log-level", "*:error",
           "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1,tx_pcap=/dev/null", "--vdev", "net_null0,no-rx=1",
           "--", "--forward-mode=io", "--auto-start", "--total-num-mbufs=16384", "--nb-cores=1",
           "--stats-period=100000"]
    return run_process(cmd, prefix, seconds)[0]


def median(values):
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--sizes", default="64,512,1420")
    ap.add_argument("--variants", default="1_tunnel,1000_tunnels,10000_rules,1000_swaps")
    ap.add_argument("--skip-secgw", action="store_true", help="do not build and run ipsec-secgw")
    ap.add_argument("--json", metavar="FILE", help="write the table as a JSON array of rows")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = args.variants.split(",")
    if args.repetitions < 1:
        ap.error("--repetitions must be >= 1")
    meshgw = os.path.join(args.builddir, "controlplane", "agent", "meshgw")
    snapshot_bench = os.path.join(args.builddir, "tests", "bench", "snapshot_bench")
    for exe in (meshgw, snapshot_bench):
        if not os.path.exists(exe):
            raise SystemExit(f"{exe} not found: run scripts/setup.sh && ninja -C {args.builddir}")
    if shutil.which("dpdk-testpmd") is None:
        raise SystemExit("dpdk-testpmd not found (Debian package dpdk; scripts/setup.sh installs it)")

    work = tempfile.mkdtemp(prefix="meshgw-bench-")
    tag = f"mgwb{os.getpid()}"
    make_pcaps(work, sizes)
    secgw_exe = None
    if not args.skip_secgw:
        import secgw
        secgw_exe = secgw.build_secgw(os.path.join(tempfile.gettempdir(), "meshgw-secgw-build"))

    results = {}  # (what, size) -> [pps]
    n = 0
    for rep in range(args.repetitions):
        for size in sizes:
            one = f"{work}/one_{size}.pcap"
            many = f"{work}/many_{size}.pcap"
            n += 1
            results.setdefault(("source", size), []).append(testpmd_run(one, f"{tag}_{n}", args.seconds))
            for v in variants:
                n += 1
                cfg = meshgw_config(work, f"{tag}_{n}", many if v == "1000_tunnels" else one, v)
                pps, lost = meshgw_run(meshgw, cfg, f"{tag}_{n}", args.seconds, 1000 if v == "1000_swaps" else 0)
                results.setdefault((v, size), []).append(pps)
                results.setdefault((v + "_lost", size), []).append(lost)
            if secgw_exe:
                for sas, pcap in ((1, one), (1000, many)):
                    n += 1
                    results.setdefault((f"secgw_{sas}", size), []).append(
                        secgw.run_secgw(secgw_exe, pcap, sas, args.seconds, f"{tag}_{n}"))
            print(f"repetition {rep + 1}/{args.repetitions}, {size} B: done", file=sys.stderr)
    text = [cryptobench.esp_text_len(s - 14) for s in sizes]
    cperf = cryptobench.run_crypto_perf("encrypt", text, 5_000_000, args.repetitions) or {}

    rows = []
    for size, tlen in zip(sizes, text):
        source = median(results[("source", size)]) / 1e6
        crypto = cperf.get(tlen)
        limit = 1 / (1 / source + 1 / crypto) if crypto else None
        base = median(results.get(("1_tunnel", size), [])) / 1e6 if ("1_tunnel", size) in results else None
        for v in variants:
            mpps = median(results[(v, size)]) / 1e6
            row = {"variant": v, "size_bytes": size, "mpps": round(mpps, 3), "gbps": round(mpps * size * 8 / 1000, 3),
                   "source_mpps": round(source, 3), "crypto_perf_mops": round(crypto, 3) if crypto else None,
                   "limit_mpps": round(limit, 3) if limit else None,
                   "ratio_vs_limit": round(mpps / limit, 3) if limit else None,
                   "lost_fraction": round(median(results[(v + "_lost", size)]), 5)}
            ref = "secgw_1000" if v == "1000_tunnels" else "secgw_1"
            if (ref, size) in results:
                sg = median(results[(ref, size)]) / 1e6
                row["ipsec_secgw_mpps"] = round(sg, 3)
                row["ratio_vs_ipsec_secgw"] = round(mpps / sg, 3)
                if limit:
                    row["ipsec_secgw_ratio_vs_limit"] = round(sg / limit, 3)
            if base and v != "1_tunnel":
                row["ratio_vs_1_tunnel"] = round(mpps / base, 3)
            rows.append(row)

    snap = gbench.run_aggregates(snapshot_bench, max(args.repetitions, 1), cpu=1)
    for name, agg in sorted(snap.items()):
        rec = agg["median"]
        row = {"variant": "snapshot", "benchmark": name, "time_ms": round(gbench.seconds(rec) * 1000, 3)}
        for k in ("snapshot_bytes", "pieces_rebuilt", "snapshots_alive"):
            if k in rec:
                row[k] = rec[k]
        rows.append(row)

    hdr = ("variant", "size_B", "Mpps", "Gbit/s", "source", "cperf", "limit", "/limit", "secgw", "/secgw", "/1tun", "lost")
    print("{:<14} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>8}".format(*hdr))
    fmt = lambda x: "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))  # noqa: E731
    for r in rows:
        if r["variant"] == "snapshot":
            continue
        print("{:<14} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>8}".format(
            r["variant"], r["size_bytes"], fmt(r["mpps"]), fmt(r["gbps"]), fmt(r["source_mpps"]),
            fmt(r["crypto_perf_mops"]), fmt(r["limit_mpps"]), fmt(r["ratio_vs_limit"]),
            fmt(r.get("ipsec_secgw_mpps")), fmt(r.get("ratio_vs_ipsec_secgw")), fmt(r.get("ratio_vs_1_tunnel")),
            fmt(r["lost_fraction"])))
    for r in rows:
        if r["variant"] == "snapshot":
            print(f"snapshot: {r['benchmark']}: {r['time_ms']} ms" +
                  (f", {r['snapshot_bytes'] / 2**20:.1f} MiB" if "snapshot_bytes" in r else ""))
    if args.json:
        gbench.write_rows(args.json, rows)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
