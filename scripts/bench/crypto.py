#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ESP encap+encrypt / decap+decrypt per core (tests/bench/esp_bench, Google
Benchmark) next to dpdk-test-crypto-perf's AES-256-GCM throughput on one lcore,
in the same invocation, as ratios. Medians of --repetitions runs.

usage: scripts/bench/crypto.py [--builddir build] [--repetitions 5] [--json FILE]

crypto-perf encrypts exactly the bytes ESP encrypts for an inner packet of
that size (inner + padding + 2-byte trailer, 4-byte aligned) with a 12-byte
AAD (SPI + 64-bit ESN) and a 16-byte tag, in bursts of 32, on the
crypto_aesni_gcm PMD (intel-ipsec-mb underneath, like our fast path)."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

import gbench

SIZES = [64, 512, 1420]
BACKENDS = ["ipsec-mb", "openssl"]


def esp_text_len(inner):
    return (inner + 2 + 3) & ~3


def run_esp_bench(binary, reps, cpu):
    results = {}
    for name, aggregates in gbench.run_aggregates(binary, reps, cpu, ["--benchmark_min_time=0.5"]).items():
        m = re.match(r"BM_(\w+)/size_bytes:(\d+)/openssl:(\d)", name)
        key = (m.group(1), int(m.group(2)), BACKENDS[int(m.group(3))])
        results[key] = {agg: aggregates[agg]["items_per_second"] / 1e6 for agg in ("median", "stddev")}
    return results


def run_crypto_perf(op, sizes, ops, reps):
    """Median MOps per buffer size for AES-256-GCM on one worker lcore."""
    exe = shutil.which("dpdk-test-crypto-perf")
    if exe is None:
        return None
    runs = {s: [] for s in sizes}
    for _ in range(reps):
        cmd = [exe, "--no-huge", "-m", "1024", "-l", "0,1", "--no-pci", "--file-prefix", f"meshgw-bench-{os.getpid()}",
               "--vdev", "crypto_aesni_gcm0", "--log-level", "lib.*:error", "--",
               "--ptest", "throughput", "--devtype", "crypto_aesni_gcm", "--optype", "aead",
               "--aead-algo", "aes-gcm", "--aead-op", op, "--aead-key-sz", "32",
               "--aead-iv-sz", "12", "--aead-aad-sz", "12", "--digest-sz", "16",
               "--buffer-sz", ",".join(str(s) for s in sizes), "--burst-sz", "32",
               "--total-ops", str(ops), "--silent"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        shutil.rmtree(f"/var/run/dpdk/meshgw-bench-{os.getpid()}", ignore_errors=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout[-2000:] + r.stderr[-2000:])
            raise SystemExit("dpdk-test-crypto-perf failed")
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) == 10 and f[0] == "1" and f[1].isdigit():
                runs[int(f[1])].append(float(f[7]))
    return {s: statistics.median(v) for s, v in runs.items() if v}


def main():
    ap = argparse.ArgumentParser(description="ESP vs dpdk-test-crypto-perf, AES-256-GCM, one core")
    ap.add_argument("--builddir", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--crypto-perf-ops", type=int, default=5_000_000)
    ap.add_argument("--json", metavar="FILE", help="write the table as a JSON array of rows")
    args = ap.parse_args()
    if args.repetitions < 1:
        ap.error("--repetitions must be >= 1")
    binary = os.path.join(args.builddir, "tests", "bench", "esp_bench")
    if not os.path.exists(binary):
        raise SystemExit(f"{binary} not found: run scripts/setup.sh && ninja -C build")

    ours = run_esp_bench(binary, args.repetitions, cpu=1)
    text_sizes = [esp_text_len(s) for s in SIZES]
    cp_enc = run_crypto_perf("encrypt", text_sizes, args.crypto_perf_ops, args.repetitions)
    cp_dec = run_crypto_perf("decrypt", text_sizes, args.crypto_perf_ops, args.repetitions)

    rows = []
    for backend in BACKENDS:
        for size in SIZES:
            t = esp_text_len(size)
            row = {
                "backend": backend,
                "size_bytes": size,
                "encrypted_bytes": t,
                "gcm_seal_mpps": ours[("GcmSeal", size, backend)]["median"],
                "esp_encap_mpps": ours[("EspEncap", size, backend)]["median"],
                "esp_encap_stddev_mpps": ours[("EspEncap", size, backend)]["stddev"],
                "esp_decap_mpps": ours[("EspDecap", size, backend)]["median"],
                "esp_decap_stddev_mpps": ours[("EspDecap", size, backend)]["stddev"],
            }
            row["esp_encap_gbps"] = row["esp_encap_mpps"] * size * 8 / 1000
            if cp_enc and cp_dec:
                row["crypto_perf_encrypt_mops"] = cp_enc[t]
                row["crypto_perf_decrypt_mops"] = cp_dec[t]
                row["ratio_encap_vs_crypto_perf"] = row["esp_encap_mpps"] / cp_enc[t]
                row["ratio_decap_vs_crypto_perf"] = row["esp_decap_mpps"] / cp_dec[t]
            rows.append(row)

    print(f"AES-256-GCM, one core, medians of {args.repetitions} runs "
          f"(Mpps; crypto-perf in Mops on the same bytes)")
    hdr = ("backend", "size_B", "gcm_seal", "esp_encap", "esp_decap", "cperf_enc", "cperf_dec",
           "encap/cperf", "decap/cperf")
    print("{:<9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}".format(*hdr))
    for r in rows:
        print("{:<9} {:>6} {:>9.2f} {:>9.2f} {:>9.2f} {:>9} {:>9} {:>11} {:>11}".format(
            r["backend"], r["size_bytes"], r["gcm_seal_mpps"], r["esp_encap_mpps"], r["esp_decap_mpps"],
            f'{r["crypto_perf_encrypt_mops"]:.2f}' if "crypto_perf_encrypt_mops" in r else "-",
            f'{r["crypto_perf_decrypt_mops"]:.2f}' if "crypto_perf_decrypt_mops" in r else "-",
            f'{r["ratio_encap_vs_crypto_perf"]:.3f}' if "ratio_encap_vs_crypto_perf" in r else "-",
            f'{r["ratio_decap_vs_crypto_perf"]:.3f}' if "ratio_decap_vs_crypto_perf" in r else "-"))
    if args.json:
        gbench.write_rows(args.json, rows)


if __name__ == "__main__":
    main()
