# SPDX-License-Identifier: BSD-3-Clause
"""meshgw on net_pcap ports (no root, --no-huge): a site's packets in, ESP
out that our decrypt, an independent AES-GCM implementation and tshark all
turn back into the input; ESP from an independent encoder in, the site's
packets out; relay by SPI; ARP, ICMP, NDP, TWAMP, PMTU and MSS clamping;
and every packet accounted for in /v1/stats and /metrics."""
import os
import signal
import struct
import subprocess
import time

import pytest
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, IPv6, Raw)

import meshgw_harness as h


@pytest.fixture()
def keys(tmp_path, meshctl):
    ab = h.keygen(meshctl, tmp_path / "ab.key")
    ba = h.keygen(meshctl, tmp_path / "ba.key")
    return {"ab": ab, "ba": ba}


def lan(pkt, dst=h.LAN_MAC):
    return Ether(src=h.HOST_MAC, dst=dst) / pkt


def site_packets():
    pkts = [lan(IP(src="192.0.2.10", dst="198.51.100.20", tos=0x28) / UDP(sport=1000 + i, dport=53)
                / Raw(bytes(range(i % 200)) * 3)) for i in range(40)]
    pkts += [lan(IPv6(src="fd00:1::10", dst="fd00:2::20", tc=0xb8) / UDP(sport=2000 + i, dport=53)
                 / Raw(b"v6" * (i + 5))) for i in range(10)]
    pkts.append(lan(IP(src="192.0.2.11", dst="198.51.100.21") / ICMP() / Raw(b"ping" * 8)))
    return pkts


def recomputed_checksum(layer):
    """The checksum scapy computes for a layer's bytes with the field cleared."""
    clone = layer.__class__(bytes(layer))
    del clone.chksum
    return layer.__class__(bytes(clone)).chksum


def forwarded(pkt):
    """What the gateway forwards for a site packet: one hop less."""
    ip = pkt.copy()[IP if IP in pkt else IPv6]
    if IP in pkt:
        ip.ttl -= 1
        del ip.chksum
    else:
        ip.hlim -= 1
    return bytes(ip.__class__(bytes(ip)))


def test_site_to_mesh_encrypts_ipv4_and_ipv6(meshgw, meshctl, tshark, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("enc"))
    sent = site_packets()
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=sent) as gw:
        stats = gw.wait_received()
        gw.stop()
    out = gw.out("wan")
    assert len(out) == len(sent)
    tunnel = stats["tunnels"][0]
    assert tunnel["id"] == "a-b" and tunnel["tx_packets"] == len(sent)
    assert stats["drops_total"] == 0
    key, salt = keys["ab"]
    seqs = []
    for frame, orig in zip(out, sent):
        assert frame[Ether].src == h.WAN_MAC and frame[Ether].dst == h.PEER_MAC
        assert frame[IP].src == h.GW_A and frame[IP].dst == h.GW_B and frame[IP].flags == "DF"
        assert frame[UDP].sport == 4500 and frame[UDP].dport == 4500
        spi, seq, inner = h.esp_open(key, salt, frame)  # an AES-GCM we did not write
        assert spi == h.OUT_SPI
        assert inner == forwarded(orig)
        seqs.append(seq)
        tos = frame[IP].tos
        assert tos == (orig[IP].tos if IP in orig else orig[IPv6].tc), "DSCP/ECN copied to the outer header"
    assert seqs == list(range(1, len(sent) + 1))
    # meshctl's decrypt and tshark agree.
    wan_pcap = tmp_path / "wan-out0.pcap"
    r = subprocess.run([meshctl, "esp", "decrypt", "--in", str(wan_pcap), "--out", str(tmp_path / "dec.pcap"),
                        "--key-file", str(tmp_path / "ab.key"), "--spi", hex(h.OUT_SPI), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"packets_decrypted": %d' % len(sent) in r.stdout
    keyhex = (key + salt).hex()
    uat = (f'uat:esp_sa:"IPv4","{h.GW_A}","{h.GW_B}","0x{h.OUT_SPI:08x}",'
           f'"AES-GCM with 16 octet ICV [RFC4106]","0x{keyhex}","NULL",""')
    t = subprocess.run([tshark, "-r", str(wan_pcap), "-o", "esp.enable_encryption_decode:TRUE", "-o", uat,
                        "-T", "fields", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport"],
                       capture_output=True, text=True)
    rows = [l.split("\t") for l in t.stdout.splitlines()]
    assert len(rows) == len(sent)
    assert sum(1 for r_ in rows if "198.51.100.20" in r_[0]) == 40
    assert sum(1 for r_ in rows if r_[1] == "fd00:2::20") == 10


def test_mesh_to_site_decrypts_and_checks_the_inner_source(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("dec"))
    cfg["neighbour"].append({"port": "lan", "ip": "192.0.2.10", "mac": h.HOST_MAC})
    cfg["neighbour"].append({"port": "lan", "ip": "fd00:1::10", "mac": h.HOST_MAC})
    enc = h.EspEncoder(*keys["ba"], h.IN_SPI)
    inner4 = [IP(src="198.51.100.20", dst="192.0.2.10", ttl=60) / UDP(sport=53, dport=1000 + i) / Raw(b"r" * i)
              for i in range(30)]
    inner6 = [IPv6(src="fd00:2::20", dst="fd00:1::10") / UDP(sport=53, dport=3000 + i) / Raw(b"s" * (i + 1))
              for i in range(5)]
    spoofed = IP(src="203.0.113.9", dst="192.0.2.10") / UDP() / Raw(b"not from the remote site")
    frames = [enc.seal(p) for p in inner4 + inner6] + [enc.seal(spoofed)]
    with h.Gateway(meshgw, tmp_path, cfg, wan_frames=frames) as gw:
        stats = gw.wait_received()
        gw.stop()
    out = gw.out("lan")
    assert len(out) == 35
    for frame, inner in zip(out, inner4 + inner6):
        assert frame[Ether].dst == h.HOST_MAC and frame[Ether].src == h.LAN_MAC
        assert bytes(frame.payload) == bytes(inner), "delivered as sent (TFC/ESP padding removed)"
    assert stats["drops"]["inner_source_mismatch"] == 1
    assert stats["tunnels"][0]["rx_packets"] == 35
    assert stats["events"]["decrypted"] == 35


def test_policy_denies_at_the_egress_too(meshgw, tmp_path, keys):
    """A deny rule holds where the tunnel ends as well as where it starts: a
    packet that an ingress should not have sent (a rogue or misconfigured
    peer, or one with another policy version) is decrypted, classified and
    dropped before the site sees it, counted as policy_denied."""
    cfg = h.base_config(tmp_path, h.prefix("acl"))
    cfg["neighbour"].append({"port": "lan", "ip": "192.0.2.10", "mac": h.HOST_MAC})
    cfg["neighbour"].append({"port": "lan", "ip": "fd00:1::10", "mac": h.HOST_MAC})
    cfg["policy"] = [{"name": "no-sip", "src": "198.51.100.0/24", "dst": "192.0.2.0/24", "protocol": "udp",
                      "dst_ports": 5060, "action": "deny"},
                     {"name": "no-telnet6", "src": "fd00:2::/64", "protocol": "tcp", "dst_ports": 23,
                      "action": "deny"}]
    enc = h.EspEncoder(*keys["ba"], h.IN_SPI)
    allowed = [IP(src="198.51.100.20", dst="192.0.2.10") / UDP(sport=5060, dport=5061 + i) for i in range(5)]
    allowed += [IPv6(src="fd00:2::20", dst="fd00:1::10") / TCP(sport=23, dport=2000 + i) for i in range(3)]
    denied = [IP(src="198.51.100.20", dst="192.0.2.10") / UDP(sport=4000 + i, dport=5060) for i in range(4)]
    denied += [IPv6(src="fd00:2::20", dst="fd00:1::10") / TCP(sport=3000 + i, dport=23) for i in range(2)]
    frames = [enc.seal(p) for pair in zip(allowed, denied) for p in pair] + [enc.seal(p) for p in allowed[6:]]
    with h.Gateway(meshgw, tmp_path, cfg, wan_frames=frames) as gw:
        stats = gw.wait_received()
        gw.stop()
    out = gw.out("lan")
    assert sorted(bytes(f.payload) for f in out) == sorted(bytes(p) for p in allowed)
    assert stats["drops"]["policy_denied"] == len(denied)
    assert stats["events"]["decrypted"] == len(allowed)  # delivered; the denied ones are counted as drops
    assert stats["snapshot"]["policy_rules"] == 2, "what the workers enforce, in /v1/stats"


def test_unknown_lan_host_is_resolved_by_arp_and_the_wait_is_bounded(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("arp"))
    enc = h.EspEncoder(*keys["ba"], h.IN_SPI)
    # 192.0.2.10 announces itself (ARP request for the gateway); 192.0.2.99 never answers.
    announce = Ether(src=h.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=h.HOST_MAC, psrc="192.0.2.10",
                                                                     pdst="192.0.2.1")
    to_known = [enc.seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP() / Raw(b"k" * i)) for i in range(5)]
    to_silent = [enc.seal(IP(src="198.51.100.20", dst="192.0.2.99") / UDP() / Raw(b"q" * i)) for i in range(3)]
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=[announce], wan_frames=to_known + to_silent) as gw:
        gw.wait_received(extra_wait=3.6)  # the wait queue gives up after 3 s
        stats = gw.stats()
        gw.stop()
    out = gw.out("lan")
    replies = [f for f in out if ARP in f and f[ARP].op == 2]
    requests = [f for f in out if ARP in f and f[ARP].op == 1]
    data = [f for f in out if IP in f]
    assert len(replies) == 1 and replies[0][ARP].hwsrc == h.LAN_MAC and replies[0][ARP].pdst == "192.0.2.10"
    assert all(f[Ether].dst == h.HOST_MAC for f in data) and len(data) == 5
    asked = [f[ARP].pdst for f in requests]
    assert asked.count("192.0.2.10") <= 1, "one request for a burst of misses"
    assert 5 <= asked.count("192.0.2.99") <= 20, "retried every 200 ms until the 3 s limit"
    assert stats["drops"]["neighbour_unresolved"] == 3
    assert stats["events"]["arp_replies_sent"] == 1


def test_relay_rewrites_the_outer_header_without_crypto(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("relay"))
    cfg["relay"] = [{"spi": h.RELAY_SPI, "next_hop": h.GW_C, "prev_hop": h.GW_B}]
    # Sealed with a key this gateway does not have: it must relay, not decrypt.
    foreign = h.EspEncoder(os.urandom(32), os.urandom(4), h.RELAY_SPI)
    frames = [foreign.seal(IP(src="198.51.100.20", dst="203.0.113.7") / UDP() / Raw(b"z" * i), ttl=30)
              for i in range(10)]
    wrong_hop = h.EspEncoder(os.urandom(32), os.urandom(4), h.RELAY_SPI, src="198.18.0.77")
    frames.append(wrong_hop.seal(IP(src="198.51.100.20", dst="203.0.113.7") / UDP()))
    frames.append(foreign.seal(IP(src="198.51.100.20", dst="203.0.113.7") / UDP(), ttl=1))
    with h.Gateway(meshgw, tmp_path, cfg, wan_frames=frames) as gw:
        stats = gw.wait_received()
        gw.stop()
    out = gw.out("wan")
    assert len(out) == 10
    for got, sent in zip(out, frames):
        assert got[Ether].src == h.WAN_MAC and got[Ether].dst == h.HOP_MAC
        assert got[IP].src == h.GW_A and got[IP].dst == h.GW_C and got[IP].ttl == 29
        assert got[IP].chksum == recomputed_checksum(got[IP]), "outer IPv4 checksum of the rewrite"
        assert bytes(got[UDP].payload) == bytes(sent[UDP].payload), "ESP bytes untouched"
    assert stats["events"]["relayed"] == 10
    assert stats["drops"]["relay_wrong_prev_hop"] == 1
    assert stats["drops"]["relay_ttl_expired"] == 1


def test_gateway_answers_arp_icmp_ndp_and_twamp(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("local"))
    lan_in = [
        Ether(src=h.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=h.HOST_MAC, psrc="192.0.2.10", pdst="192.0.2.1"),
        lan(IP(src="192.0.2.10", dst="192.0.2.1") / ICMP(id=7, seq=1) / Raw(b"echo!" * 4)),
        lan(IPv6(src="fd00:1::10", dst="fd00:1::1") / ICMPv6EchoRequest(id=9, seq=2, data=b"six" * 5)),
        Ether(src=h.HOST_MAC, dst="33:33:ff:00:00:01") / IPv6(src="fd00:1::10", dst="ff02::1:ff00:1", hlim=255)
        / ICMPv6ND_NS(tgt="fd00:1::1") / ICMPv6NDOptSrcLLAddr(lladdr=h.HOST_MAC),
    ]
    twamp = struct.pack("!IQH", 77, 0x1122334455667788, 0x8001) + b"\0" * 27
    wan_in = [
        Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A) / ICMP(id=3, seq=4) / Raw(b"u" * 20),
        Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A, ttl=61, tos=0xc0) / UDP(sport=40000, dport=862) / Raw(twamp),
    ]
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=lan_in, wan_frames=wan_in) as gw:
        stats = gw.wait_received()
        gw.stop()
    lan_out, wan_out = gw.out("lan"), gw.out("wan")
    arp = [f for f in lan_out if ARP in f][0]
    assert arp[ARP].op == 2 and arp[ARP].hwsrc == h.LAN_MAC and arp[ARP].psrc == "192.0.2.1"
    echo = [f for f in lan_out if ICMP in f][0]
    assert echo[ICMP].type == 0 and echo[ICMP].id == 7 and echo[IP].dst == "192.0.2.10"
    assert bytes(echo[ICMP].payload) == b"echo!" * 4
    assert echo[IP].chksum == recomputed_checksum(echo[IP])
    assert echo[ICMP].chksum == recomputed_checksum(echo[ICMP])
    e6 = [f for f in lan_out if ICMPv6EchoReply in f][0]
    assert e6[ICMPv6EchoReply].data == b"six" * 5 and e6[IPv6].dst == "fd00:1::10"
    na = [f for f in lan_out if ICMPv6ND_NA in f][0]
    assert na[ICMPv6ND_NA].tgt == "fd00:1::1" and na[ICMPv6ND_NA].S == 1 and na[IPv6].hlim == 255
    # scapy recomputes checksums of what it rebuilds: equal means ours were right.
    for f in (e6, na):
        rebuilt = IPv6(bytes(f[IPv6]))
        del rebuilt.payload.cksum
        assert IPv6(bytes(rebuilt)).payload.cksum == f[IPv6].payload.cksum
    wecho = [f for f in wan_out if ICMP in f][0]
    assert wecho[ICMP].type == 0 and wecho[IP].dst == h.GW_B
    tw = [f for f in wan_out if UDP in f][0]
    payload = bytes(tw[UDP].payload)
    assert tw[UDP].dport == 40000 and tw[UDP].sport == 862 and tw[IP].ttl == 255
    assert tw[IP].tos == 0xc0, "the reply keeps the test packet's DSCP (CS6: the WAN's priority queue)"
    assert tw[IP].chksum == recomputed_checksum(tw[IP])
    seq, _ts, _err, _mbz, rx_ts, sseq, sts, serr, _mbz2, sttl = struct.unpack("!IQHHQIQHHB", payload[:41])
    assert seq == 77 and sseq == 77 and sts == 0x1122334455667788 and serr == 0x8001 and sttl == 61
    assert rx_ts >> 32 > 3_900_000_000, "NTP seconds (since 1900) of today"
    ev = stats["events"]
    assert (ev["arp_replies_sent"], ev["icmp_echo_replies"], ev["ndp_adverts_sent"], ev["twamp_reflected"]) == (1, 3, 1, 1)
    assert stats["drops_total"] == 0


def test_tunnel_probes_are_reflected_inside_the_tunnel(meshgw, tmp_path, keys):
    """The prober's end-to-end test packet arrives inside the tunnel (from
    gw-b's underlay address, outside its sites): the fast path answers on the
    tunnel's outbound SA with the RFC 5357 reply; a reflected one (to a
    prober port) goes to the prober, not the site; anything else from outside
    the sites is still refused."""
    cfg = h.base_config(tmp_path, h.prefix("tprobe"))
    enc = h.EspEncoder(*keys["ba"], h.IN_SPI)
    test = struct.pack("!IQH", 5, 0x0102030405060708, 0x0001) + b"\0" * 27
    reply = (struct.pack("!IQHH", 9, 0x1111, 1, 0) + struct.pack("!Q", 0x2222) + struct.pack("!I", 9)
             + struct.pack("!QHH", 0x3333, 1, 0) + bytes([255]))
    frames = [enc.seal(IP(src=h.GW_B, dst=h.GW_A, ttl=255) / UDP(sport=40512, dport=862) / Raw(test)),
              enc.seal(IP(src=h.GW_B, dst=h.GW_A, ttl=255) / UDP(sport=862, dport=40513) / Raw(reply)),
              enc.seal(IP(src=h.GW_B, dst=h.GW_A) / UDP(sport=862, dport=9) / Raw(reply))]
    with h.Gateway(meshgw, tmp_path, cfg, wan_frames=frames) as gw:
        stats = gw.wait_received()
        gw.stop()
    assert len(gw.out("lan")) == 0
    wan = [f for f in gw.out("wan") if UDP in f and f[UDP].dport == 4500]
    assert len(wan) == 1, "one reflected test packet, sealed"
    spi, _seq, inner = h.esp_open(*keys["ab"], wan[0])
    assert spi == h.OUT_SPI and wan[0][IP].dst == h.GW_B
    ip = IP(inner)
    assert ip.src == h.GW_A and ip.dst == h.GW_B and ip.ttl == 255
    assert ip[UDP].sport == 862 and ip[UDP].dport == 40512
    seq, _ts, _err, _mbz, rx_ts, sseq, sts, _serr, _mbz2, sttl = struct.unpack("!IQHHQIQHHB", bytes(ip[UDP].payload)[:41])
    assert (seq, sseq, sts, sttl) == (5, 5, 0x0102030405060708, 255)
    assert rx_ts >> 32 > 3_900_000_000
    ev = stats["events"]
    assert ev["twamp_reflected"] == 1 and ev["probe_replies"] == 1
    assert stats["drops"]["inner_source_mismatch"] == 1 and stats["drops_total"] == 1
    assert ev["decrypted"] == 0, "nothing reached the site"


def test_probes_over_the_esp_port_are_reflected_for_peers_behind_nat(meshgw, tmp_path, keys):
    """TWAMP-light after a non-ESP marker on UDP 4500 (what reaches a peer
    behind a NAT, through its mapping): a test packet goes back to where it
    came from, port for port; a reply goes to the prober; an IKE-like
    datagram (marker, no magic) is still a not_esp drop."""
    cfg = h.base_config(tmp_path, h.prefix("natprobe"))
    twamp = struct.pack("!IQH", 11, 0x0A0B0C0D0E0F1011, 0x0001) + b"\0" * 27
    head = lambda kind, port: b"\0\0\0\0MGWP" + bytes([kind, 0]) + struct.pack("!H", port)
    reply = (struct.pack("!IQHH", 3, 0x1111, 1, 0) + struct.pack("!Q", 0x2222) + struct.pack("!I", 3)
             + struct.pack("!QHH", 0x3333, 1, 0) + bytes([64]))
    frames = [Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A, ttl=60)
              / UDP(sport=31000, dport=4500, chksum=0) / Raw(head(1, 40001) + twamp),
              Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A)
              / UDP(sport=31000, dport=4500, chksum=0) / Raw(head(2, 40002) + reply),
              Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A)
              / UDP(sport=500, dport=4500, chksum=0) / Raw(b"\0\0\0\0" + b"ike" * 20)]
    with h.Gateway(meshgw, tmp_path, cfg, wan_frames=frames) as gw:
        stats = gw.wait_received()
        gw.stop()
    out = [f for f in gw.out("wan") if UDP in f]
    assert len(out) == 1
    f = out[0]
    assert f[IP].src == h.GW_A and f[IP].dst == h.GW_B and f[UDP].sport == 4500 and f[UDP].dport == 31000
    assert f[IP].chksum == recomputed_checksum(f[IP])
    p = bytes(f[UDP].payload)
    assert p[:8] == b"\0\0\0\0MGWP" and p[8] == 2 and struct.unpack("!H", p[10:12])[0] == 40001
    seq, _ts, _err, _mbz, rx_ts, sseq, sts, _serr, _mbz2, sttl = struct.unpack("!IQHHQIQHHB", p[12:53])
    assert (seq, sseq, sts, sttl) == (11, 11, 0x0A0B0C0D0E0F1011, 60)
    assert rx_ts >> 32 > 3_900_000_000
    ev = stats["events"]
    assert ev["twamp_reflected"] == 1 and ev["probe_replies"] == 1
    assert stats["drops"]["esp_not_esp"] == 1 and stats["drops_total"] == 1


def test_too_big_gets_icmp_and_syn_mss_is_clamped(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("pmtu"))
    cfg["tunnel"][0]["mtu"] = 1280
    big4 = lan(IP(src="192.0.2.10", dst="198.51.100.20", flags="DF") / UDP() / Raw(b"B" * 1400))
    big4_nodf = lan(IP(src="192.0.2.10", dst="198.51.100.20") / UDP() / Raw(b"b" * 1400))
    big6 = lan(IPv6(src="fd00:1::10", dst="fd00:2::20") / UDP() / Raw(b"S" * 1400))
    syn = lan(IP(src="192.0.2.10", dst="198.51.100.20") / TCP(sport=5555, dport=443, flags="S",
                                                              options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
    syn_odd = lan(IP(src="192.0.2.10", dst="198.51.100.20") / TCP(sport=5556, dport=443, flags="S",
                                                                  options=[("NOP", None), ("MSS", 1460), ("NOP", None), ("NOP", None), ("NOP", None)]))
    small_syn = lan(IP(src="192.0.2.10", dst="198.51.100.20") / TCP(sport=5557, dport=443, flags="S",
                                                                    options=[("MSS", 1000)]))
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=[big4, big4_nodf, big6, syn, syn_odd, small_syn]) as gw:
        stats = gw.wait_received()
        gw.stop()
    lan_out = gw.out("lan")
    frag = [f for f in lan_out if ICMP in f][0]
    assert (frag[ICMP].type, frag[ICMP].code, frag[ICMP].nexthopmtu) == (3, 4, 1280)
    assert frag[IP].src == "192.0.2.1" and frag[IP].dst == "192.0.2.10" and frag[Ether].dst == h.HOST_MAC
    quoted = bytes(frag[ICMP].payload)
    assert quoted[:20] == bytes(big4[IP])[:20]
    ptb = [f for f in lan_out if ICMPv6PacketTooBig in f][0]
    assert ptb[ICMPv6PacketTooBig].mtu == 1280 and ptb[IPv6].dst == "fd00:1::10" and len(ptb) <= 14 + 1280
    assert stats["drops"]["too_big"] == 3
    assert stats["events"]["icmp_errors_sent"] == 2
    key, salt = keys["ab"]
    mss = {}
    for f in gw.out("wan"):
        inner = IP(h.esp_open(key, salt, f)[2])
        tcp = inner[TCP]
        mss[tcp.sport] = dict(tcp.options)["MSS"]
        check = tcp.chksum
        del tcp.chksum
        assert IP(bytes(inner))[TCP].chksum == check, "TCP checksum updated with the MSS"
    assert mss == {5555: 1240, 5556: 1240, 5557: 1000}
    assert stats["events"]["mss_clamped"] == 2


# Reasons no crafted packet can reach with these ports and buffers: mbufs have
# 128 bytes of headroom and at most a frame of tailroom (esp_no_room,
# esp_too_large), 64-bit sequence numbers do not run out (esp_sequence_exhausted),
# ipsec-mb reports no errors (esp_crypto_error), and net_pcap's TX never
# refuses a burst nor does a 16k-mbuf pool run dry here (tx_full, no_mbuf).
UNREACHABLE = {"esp_no_room", "esp_too_large", "esp_sequence_exhausted", "esp_crypto_error", "tx_full", "no_mbuf"}


def raw_arp(hwlen=6, pdst="192.0.2.1"):
    a = ARP(op=1, hwsrc=h.HOST_MAC, psrc="192.0.2.10", pdst=pdst)
    b = bytearray(bytes(a))
    b[4] = hwlen
    return Ether(src=h.HOST_MAC, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(bytes(b))


def test_every_drop_reason_is_counted_by_name(meshgw, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("drops"))
    cfg["dataplane"]["icmp_errors_per_second"] = 5  # a bucket of one token
    cfg["route"].append({"prefix": "203.0.113.128/25", "egress": "gw-c"})  # no tunnel to gw-c
    cfg["relay"] = [{"spi": h.RELAY_SPI, "next_hop": h.GW_C, "prev_hop": h.GW_B}]
    cfg["policy"] = [{"name": "no-telnet", "protocol": "tcp", "dst_ports": 23, "action": "deny"}]
    good = IP(src="192.0.2.10", dst="198.51.100.20")
    bad_sum = IP(bytes(lan(good / UDP())[IP]))
    bad_sum.chksum ^= 0xFFFF
    short_v6 = bytearray(bytes(IPv6(src="fd00:1::10", dst="fd00:2::20") / UDP() / Raw(b"x" * 8)))
    short_v6[4:6] = (200).to_bytes(2, "big")
    lan_cases = {
        "runt_frame": Raw(b"\x02" * 10),
        "unsupported_ethertype": Ether(src=h.HOST_MAC, dst=h.LAN_MAC, type=0x8100) / Raw(b"\0" * 50),
        "multi_segment": lan(good / UDP() / Raw(b"J" * 3000)),
        "bad_ipv4_header": Ether(src=h.HOST_MAC, dst=h.LAN_MAC, type=0x0800) / Raw(bytes(bad_sum)),
        "bad_ipv6_header": Ether(src=h.HOST_MAC, dst=h.LAN_MAC, type=0x86DD) / Raw(bytes(short_v6)),
        "ttl_expired": lan(IP(src="192.0.2.10", dst="198.51.100.20", ttl=1) / UDP()),
        "site_multicast": lan(IP(src="192.0.2.10", dst="224.0.0.22", ttl=1) / Raw(b"igmp")),
        "policy_denied": lan(good / TCP(dport=23)),
        "no_route": lan(IP(src="192.0.2.10", dst="203.0.113.5") / UDP()),
        "no_tunnel": lan(IP(src="192.0.2.10", dst="203.0.113.200") / UDP()),
        "too_big": lan(IP(src="192.0.2.10", dst="198.51.100.20", flags="DF") / UDP() / Raw(b"B" * 1450)),
        "icmp_rate_limited": lan(IP(src="192.0.2.10", dst="198.51.100.20", flags="DF") / UDP() / Raw(b"C" * 1450)),
        "arp_invalid": raw_arp(hwlen=5),
        "arp_not_for_us": raw_arp(pdst="192.0.2.77"),
        "to_gateway_unhandled": lan(IP(src="192.0.2.10", dst="192.0.2.1") / TCP(dport=22)),
    }
    enc = h.EspEncoder(*keys["ba"], h.IN_SPI)
    first = enc.seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP())
    inner = bytes(IP(src="198.51.100.20", dst="192.0.2.10") / UDP() / Raw(b"i" * 10))
    forged = enc.seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP() / Raw(b"f" * 9))
    forged[Raw].load = forged[Raw].load[:-1] + bytes([forged[Raw].load[-1] ^ 1])
    frag = h.EspEncoder(*keys["ba"], h.IN_SPI).seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP(), seq=100)
    frag[IP].flags = "MF"
    del frag[IP].chksum
    lenlie = enc.seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP())
    lenlie[UDP].len = 200
    foreign = h.EspEncoder(os.urandom(32), os.urandom(4), h.RELAY_SPI, src="198.18.0.77")
    wan_cases = {
        "esp_truncated": Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A) / UDP(sport=4500, dport=4500) / Raw(b"\x00\x00\x20\x01" + b"s" * 6),
        "esp_bad_outer_header": frag,
        "esp_length_mismatch": lenlie,
        # The non-ESP marker (RFC 3948 2.2: IKE on port 4500, which we do not speak).
        "esp_not_esp": Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A) / UDP(sport=4500, dport=4500) / Raw(b"\x00" * 4 + b"ike" * 10),
        "nat_keepalive": Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst=h.GW_A) / UDP(sport=4500, dport=4500) / Raw(b"\xff"),
        "esp_unknown_spi": h.EspEncoder(*keys["ba"], 0x9999).seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP()),
        "esp_replayed": first,
        "esp_too_old": None,  # filled below: needs a window that has moved
        "esp_icv_failed": forged,
        "esp_bad_padding": enc.seal(None, raw_plaintext=inner + bytes([1, 9, 3, 3, 4])),
        "esp_bad_next_header": enc.seal(None, raw_plaintext=inner + bytes([0, 17])),
        # IPv4 header claiming 38 bytes in a 23-byte payload.
        "esp_bad_inner_packet": enc.seal(None, raw_plaintext=inner[:20] + b"\x00" * 3 + bytes([0, 4])),
        "inner_source_mismatch": enc.seal(IP(src="203.0.113.9", dst="192.0.2.10") / UDP()),
        "not_for_us": Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IP(src=h.GW_B, dst="198.18.0.99") / UDP(),
        "outer_ipv6": Ether(src=h.PEER_MAC, dst=h.WAN_MAC) / IPv6(src="fd00::2", dst="fd00::1") / UDP(sport=4500, dport=4500),
        "relay_wrong_prev_hop": foreign.seal(IP(src="198.51.100.20", dst="203.0.113.7") / UDP()),
        "relay_ttl_expired": h.EspEncoder(os.urandom(32), os.urandom(4), h.RELAY_SPI).seal(IP() / UDP(), ttl=1),
        "neighbour_unresolved": enc.seal(IP(src="198.51.100.20", dst="192.0.2.99") / UDP()),
    }
    # With 64-bit ESN a low half left of the window reads as the next 2^32
    # subspace (RFC 4303 A2.2) and fails its ICV; what is plainly too old is
    # sequence number 0 while the window is still in the first subspace.
    wan_cases["esp_too_old"] = enc.seal(IP(src="198.51.100.20", dst="192.0.2.10") / UDP(), seq=0)
    cfg["neighbour"].append({"port": "lan", "ip": "192.0.2.10", "mac": h.HOST_MAC})
    wan_frames = [first] + list(wan_cases.values())
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=list(lan_cases.values()), wan_frames=wan_frames) as gw:
        stats = gw.wait_received(extra_wait=3.5)
        metrics = gw.get("/metrics")
        stats = gw.stats()
        gw.stop()
    drops = stats["drops"]
    expected = set(lan_cases) | set(wan_cases)
    assert set(drops) == expected | UNREACHABLE, "every reason the data plane has is tested or explained"
    for name in expected:
        assert drops[name] == 1, f"{name}: {drops[name]} (all: { {k: v for k, v in drops.items() if v} })"
        assert f'meshgw_drop_{name}_total{{worker="0"}} 1' in metrics, name
        assert f"# HELP meshgw_drop_{name}_total " in metrics
    for name in UNREACHABLE:
        assert drops[name] == 0
    assert stats["drops_total"] == len(expected)
    # Everything received is accounted for: the only packet that went
    # through is the first ESP packet.
    lan_rx = next(p for p in stats["ports"] if p["name"] == "lan")["rx_packets"]
    wan_rx = next(p for p in stats["ports"] if p["name"] == "wan")["rx_packets"]
    ev = stats["events"]
    assert ev["decrypted"] == 2  # first, and neighbour_unresolved's packet (dropped after)
    assert lan_rx + wan_rx == stats["drops_total"] + 1


def test_policy_class_picks_the_class_tunnel(meshgw, meshctl, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("class"))
    h.keygen(meshctl, tmp_path / "rt.key")
    h.keygen(meshctl, tmp_path / "rt-in.key")
    cfg["tunnel"].append({"id": "a-b-rt", "egress": "gw-b", "next_hop": h.GW_B, "out_spi": 0x1002,
                          "out_key_file": "rt.key", "in_spi": 0x2002, "in_key_file": "rt-in.key",
                          "remote_sites": ["198.51.100.0/24"], "mtu": 1400})
    cfg["path"] = [{"egress": "gw-b", "class": "default", "tunnel": "a-b"},
                   {"egress": "gw-b", "class": "realtime", "tunnel": "a-b-rt"}]
    cfg["policy"] = [{"name": "rtp", "protocol": "udp", "dst_ports": "5004-5005", "class": "realtime"},
                     {"name": "ef", "dscp": [46], "class": "realtime", "priority": 10}]
    sent = [lan(IP(src="192.0.2.10", dst="198.51.100.20") / UDP(dport=5004) / Raw(b"rtp")),
            lan(IP(src="192.0.2.10", dst="198.51.100.20") / UDP(dport=53) / Raw(b"dns")),
            lan(IP(src="192.0.2.10", dst="198.51.100.20", tos=46 << 2) / TCP(dport=443)),
            lan(IPv6(src="fd00:1::10", dst="fd00:2::20") / UDP(dport=5005) / Raw(b"rtp6"))]
    with h.Gateway(meshgw, tmp_path, cfg, lan_frames=sent) as gw:
        stats = gw.wait_received()
        gw.stop()
    key_of = {0x1001: keys["ab"], 0x1002: h.keygen_read(tmp_path / "rt.key")}
    spi_of = {}
    for f in gw.out("wan"):
        spi = int.from_bytes(bytes(f[UDP].payload)[:4], "big")
        inner = h.esp_open(*key_of[spi], f)[2]
        pkt = IP(inner) if inner[0] >> 4 == 4 else IPv6(inner)
        spi_of[pkt.payload.dport] = spi  # packets of different tunnels may leave in another order
    assert spi_of == {5004: 0x1002, 53: 0x1001, 443: 0x1002, 5005: 0x1002}
    assert {t["id"]: t["tx_packets"] for t in stats["tunnels"]} == {"a-b": 1, "a-b-rt": 3}


def test_sighup_applies_a_new_plan_and_refuses_a_bad_one(meshgw, meshctl, tmp_path, keys):
    cfg = h.base_config(tmp_path, h.prefix("reload"))
    with h.Gateway(meshgw, tmp_path, cfg) as gw:
        before = gw.stats()
        assert [t["id"] for t in before["tunnels"]] == ["a-b"]
        h.keygen(meshctl, tmp_path / "ac.key")
        h.keygen(meshctl, tmp_path / "ca.key")
        cfg["tunnel"].append({"id": "a-c", "egress": "gw-c", "next_hop": h.GW_C, "out_spi": 0x1003,
                              "out_key_file": "ac.key", "in_spi": 0x2003, "in_key_file": "ca.key",
                              "remote_sites": ["203.0.113.0/24"]})
        cfg["route"].append({"prefix": "203.0.113.0/24", "egress": "gw-c"})
        (tmp_path / "gw.toml").write_text(h.to_toml(cfg))
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and len(gw.stats()["tunnels"]) < 2:
            time.sleep(0.05)
        after = gw.stats()
        assert sorted(t["id"] for t in after["tunnels"]) == ["a-b", "a-c"]
        assert after["snapshot"]["version"] > before["snapshot"]["version"]
        # A bad file changes nothing: the gateway keeps forwarding on what it has.
        cfg["tunnel"][1]["mtu"] = 10
        (tmp_path / "gw.toml").write_text(h.to_toml(cfg))
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert gw.stats()["snapshot"]["version"] == after["snapshot"]["version"]
        out = gw.stop()
    assert "reload: applied" in out
    assert "reload refused, still forwarding on the previous plan" in out and "mtu = 10" in out
