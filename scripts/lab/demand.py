#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Site traffic for the lab: one sender per site host paces numbered UDP
datagrams to every other site at the rates it is given; one receiver per
site host counts what arrived from each source: packets, bytes, losses
(holes in each source's sequence), one-way delay (sender and receiver share
the machine's clock) p50 / p99 / max, and the longest gap between two
arrivals.

  demand.py recv --port 6000 [--duration S] > counts.json   (or until SIGINT)
  demand.py send --port 6000 --duration S --size 500 --to IP=KBPS[,IP=KBPS...]
  demand.py send ... --rates FILE   (JSON {"IP": [kbit/s per second of the run], ...})

Datagram: magic "MGWD", source id (u16), sequence (u32), send time (u64 ns,
CLOCK_MONOTONIC), then padding to --size bytes.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import time

HEADER = struct.Struct("!4sHIQ")
MAGIC = b"MGWD"


def percentile(sorted_values, q):
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k]


def receive(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("0.0.0.0", args.port))
    sock.settimeout(0.2)
    stop = [False]

    def on_signal(*_):
        stop[0] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    flows = {}
    bad = 0
    end = time.monotonic() + args.duration if args.duration else None
    print("ready", file=sys.stderr, flush=True)
    while not stop[0] and (end is None or time.monotonic() < end):
        try:
            data, (src, _) = sock.recvfrom(65536)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        now = time.monotonic_ns()
        if len(data) < HEADER.size or data[:4] != MAGIC:
            bad += 1
            continue
        _, _, seq, sent = HEADER.unpack_from(data)
        f = flows.setdefault(src, {"packets": 0, "bytes": 0, "max_seq": 0, "seen": set(), "delays": [],
                                   "last": None, "max_gap_ms": 0.0})
        if seq in f["seen"]:
            continue
        f["seen"].add(seq)
        f["packets"] += 1
        f["bytes"] += len(data)
        f["max_seq"] = max(f["max_seq"], seq)
        f["delays"].append((now - sent) / 1e6)
        if f["last"] is not None:
            f["max_gap_ms"] = max(f["max_gap_ms"], (now - f["last"]) / 1e6)
        f["last"] = now
    out = {"bad": bad, "from": {}}
    for src, f in flows.items():
        d = sorted(f["delays"])
        out["from"][src] = {"packets": f["packets"], "bytes": f["bytes"], "lost": f["max_seq"] - f["packets"],
                            "delay_ms_p50": round(percentile(d, 0.5), 3), "delay_ms_p99": round(percentile(d, 0.99), 3),
                            "delay_ms_max": round(d[-1], 3) if d else 0.0, "max_gap_ms": round(f["max_gap_ms"], 3)}
    json.dump(out, sys.stdout)
    print()


def send(args):
    rates = {}  # destination -> list of kbit/s, one per second of the run
    if args.rates:
        with open(args.rates) as f:
            rates = {ip: list(map(float, r)) for ip, r in json.load(f).items()}
    for item in filter(None, (args.to or "").split(",")):
        ip, _, kbps = item.partition("=")
        rates[ip] = [float(kbps)] * max(1, int(args.duration + 0.999))
    if not rates:
        sys.exit("demand.py send: no destination (--to IP=KBPS or --rates FILE)")
    size = max(HEADER.size, args.size)
    pad = b"\0" * (size - HEADER.size)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    seq = {ip: 0 for ip in rates}
    due = {ip: 0.0 for ip in rates}
    start = time.monotonic()
    sent = 0
    while True:
        now = time.monotonic()
        t = now - start
        if t >= args.duration:
            break
        second = int(t)
        next_wake = now + 0.005
        for ip, r in rates.items():
            kbps = r[min(second, len(r) - 1)]
            if kbps <= 0:
                due[ip] = max(due[ip], t)
                continue
            interval = size * 8 / (kbps * 1000)
            # Catch up at most 50 ms of datagrams after a stall (paced, not a burst).
            due[ip] = max(due[ip], t - 0.05)
            while due[ip] <= t:
                seq[ip] += 1
                try:
                    sock.sendto(HEADER.pack(MAGIC, args.source_id, seq[ip], time.monotonic_ns()) + pad, (ip, args.port))
                    sent += 1
                except OSError:
                    pass  # no route yet, buffer full: counted as lost by the receiver
                due[ip] += interval
            next_wake = min(next_wake, start + due[ip])
        time.sleep(max(0.0, next_wake - time.monotonic()))
    print(json.dumps({"sent": sent, "per_destination": seq}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--duration", type=float, default=0)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--duration", type=float, required=True)
    s.add_argument("--size", type=int, default=500)
    s.add_argument("--to", help="IP=KBPS[,IP=KBPS...]")
    s.add_argument("--rates", help="JSON file: {IP: [kbit/s for each second]}")
    s.add_argument("--source-id", type=int, default=0)
    args = ap.parse_args()
    if args.mode == "recv":
        receive(args)
    else:
        send(args)


if __name__ == "__main__":
    main()
