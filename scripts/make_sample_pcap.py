#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes a sample LAN capture for the demo: a mix of IPv4 UDP/TCP/ICMP and
IPv6 traffic between the documentation site prefixes, plus one ARP frame
(not IP, so the encryptor skips and counts it).
usage: make_sample_pcap.py OUT.pcap [--count N]"""
import argparse
import random

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=200)
    args = ap.parse_args()
    if not 1 <= args.count <= 1_000_000:
        ap.error("--count must be 1..1000000")
    rng = random.Random(2026)
    pkts = []
    t = 1_764_000_000.0
    for i in range(args.count):
        kind = i % 4
        size = rng.choice([18, 64, 200, 512, 1000, 1400])
        if kind == 0:
            p = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / IP(src="192.0.2.10", dst="198.51.100.20") / UDP(sport=50000 + i % 100, dport=50999) / Raw(bytes(size))
        elif kind == 1:
            p = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / IP(src="192.0.2.11", dst="203.0.113.7", tos=0xb8) / TCP(sport=40000 + i % 50, dport=443, flags="PA", seq=i) / Raw(bytes(size))
        elif kind == 2:
            p = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / IP(src="192.0.2.12", dst="198.51.100.30") / ICMP(id=7, seq=i) / Raw(b"meshgw-demo"[: size % 12])
        else:
            p = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / IPv6(src="fd00:1::10", dst="fd00:2::20") / UDP(sport=50100, dport=50999) / Raw(bytes(size))
        p.time = t + i * 0.001
        pkts.append(p)
    arp = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="192.0.2.1", pdst="192.0.2.10")
    arp.time = t + args.count * 0.001
    pkts.append(arp)
    wrpcap(args.out, pkts)


if __name__ == "__main__":
    main()
