#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A steady UDP stream for the e2e tests: the sender paces numbered
datagrams; the receiver reports what arrived as JSON on stdout when it is
stopped (SIGINT/SIGTERM) or after --duration: received, lost (holes in the
sequence up to the highest seen), duplicates, and the longest gap between
two consecutive arrivals (what a failover costs a flow).

  udp_stream.py recv --port 5001 [--duration S]
  udp_stream.py send --to 198.51.100.20 --port 5001 --rate 1000 --duration 10 [--size 200]
"""
import argparse
import json
import signal
import socket
import struct
import sys
import time


def receive(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", args.port))
    sock.settimeout(0.1)
    seen = set()
    duplicates = 0
    last = None
    max_gap = 0.0
    gap_at = None
    first = None
    stop = [False]

    def on_signal(*_):
        stop[0] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    end = time.monotonic() + args.duration if args.duration else None
    print("ready", file=sys.stderr, flush=True)
    while not stop[0] and (end is None or time.monotonic() < end):
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        now = time.monotonic()
        if len(data) < 8:
            continue
        (seq,) = struct.unpack("!Q", data[:8])
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        if first is None:
            first = now
        if last is not None and now - last > max_gap:
            max_gap = now - last
            gap_at = now - first
        last = now
    highest = max(seen) if seen else -1
    out = {
        "received": len(seen),
        "lost": (highest + 1) - len(seen) if seen else 0,
        "highest_seq": highest,
        "duplicates": duplicates,
        "max_gap_ms": round(max_gap * 1000, 1),
        "max_gap_at_s": round(gap_at, 3) if gap_at is not None else None,
    }
    print(json.dumps(out), flush=True)


def send(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    period = 1.0 / args.rate
    pad = bytes(max(0, args.size - 8))
    start = time.monotonic()
    count = int(args.duration * args.rate)
    for seq in range(count):
        target = start + seq * period
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            sock.sendto(struct.pack("!Q", seq) + pad, (args.to, args.port))
        except OSError:
            pass  # no route for a moment: counted as lost by the receiver
    print(json.dumps({"sent": count}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--duration", type=float, default=0)
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--rate", type=float, default=1000)
    s.add_argument("--duration", type=float, default=10)
    s.add_argument("--size", type=int, default=200)
    args = p.parse_args()
    receive(args) if args.mode == "recv" else send(args)


if __name__ == "__main__":
    main()
