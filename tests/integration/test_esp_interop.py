# SPDX-License-Identifier: BSD-3-Clause
"""meshctl esp against implementations nobody here wrote: tshark (Wireshark's
ESP dissector) decrypts and verifies our ESP-in-UDP, scapy's IPsec module
verifies ICVs with extended sequence numbers, and our decrypt restores the
original packets. Also: every bad input gets a clear error."""
import json
import os
import stat
import subprocess

import pytest
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

SPI = 0x1001
OUTER_SRC, OUTER_DST = "198.18.0.1", "198.18.0.2"


def inner_packets():
    pkts = []
    for i, size in enumerate([0, 1, 2, 3, 15, 16, 17, 100, 500, 1000, 1372, 1452]):
        pkts.append(Ether() / IP(src="192.0.2.10", dst="198.51.100.20", tos=0xb8)
                    / UDP(sport=50000 + i, dport=50999) / Raw(bytes((i + j) & 0xFF for j in range(size))))
    pkts.append(Ether() / IP(src="192.0.2.11", dst="203.0.113.5") / TCP(sport=1234, dport=443, flags="S"))
    pkts.append(Ether() / IP(src="192.0.2.12", dst="203.0.113.6") / ICMP() / Raw(b"ping" * 10))
    pkts.append(Ether() / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=50100, dport=50999) / Raw(b"v6" * 300))
    pkts.append(Ether() / ARP())  # not IP: skipped and counted
    return pkts


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture()
def keyfile(tmp_path, meshctl):
    path = tmp_path / "sa.key"
    r = run([meshctl, "esp", "keygen", "--out", str(path)])
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    return path


def key_hex(path):
    return "".join(l.strip() for l in open(path) if not l.startswith("#"))


def encrypt(meshctl, tmp_path, keyfile, *extra):
    src = tmp_path / "in.pcap"
    out = tmp_path / "esp.pcap"
    wrpcap(str(src), inner_packets())
    r = run([meshctl, "esp", "encrypt", "--in", str(src), "--out", str(out), "--key-file",
             str(keyfile), "--spi", hex(SPI), "--json", *extra])
    assert r.returncode == 0, r.stderr
    return src, out, json.loads(r.stdout)


def tshark_fields(tshark, pcap, key, fields):
    uat = (f'uat:esp_sa:"IPv4","{OUTER_SRC}","{OUTER_DST}","0x{SPI:08x}",'
           f'"AES-GCM with 16 octet ICV [RFC4106]","0x{key}","NULL",""')
    cmd = [tshark, "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE", "-o", uat, "-T", "fields",
           "-E", "separator=|", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    r = run(cmd)
    assert r.returncode == 0, r.stderr
    return [line.split("|") for line in r.stdout.splitlines()]


@pytest.mark.parametrize("backend", ["ipsec-mb", "openssl"])
def test_tshark_decrypts_and_verifies(meshctl, tshark, tmp_path, keyfile, backend):
    # Ports are chosen so that no Wireshark heuristic dissector claims the inner
    # payload (an exception there would hide the ICV verdict).
    # Wireshark 4.0's ESP SA table has no ESN setting, so its ICV check needs
    # 32-bit sequence numbers; the ESN case is verified with scapy below.
    src, out, summary = encrypt(meshctl, tmp_path, keyfile, "--no-esn", "--backend", backend)
    originals = [p for p in rdpcap(str(src)) if IP in p or IPv6 in p]
    assert summary["esp_packets_written"] == len(originals) == 15
    assert summary["skipped"] == {"not_ip": 1}
    rows = tshark_fields(tshark, out, key_hex(keyfile),
                         ["ip.src", "ip.dst", "udp.dstport", "esp.spi", "esp.sequence",
                          "esp.icv_good", "esp.protocol", "ipv6.src", "udp.length", "ip.dsfield"])
    assert len(rows) == len(originals)
    for n, (row, orig) in enumerate(zip(rows, originals), start=1):
        ip_src, ip_dst, udp_dport, spi, seq, icv_good, nh, ip6_src, udp_len, dsfield = row
        assert spi == f"0x{SPI:08x}"
        assert seq == str(n)
        assert icv_good == "1", f"frame {n}: tshark says the ICV is wrong"
        outer_src = ip_src.split(",")[0]
        assert outer_src == OUTER_SRC and ip_dst.split(",")[0] == OUTER_DST
        assert udp_dport.split(",")[0] == "4500"
        if IP in orig:
            assert nh == "0x04"
            assert ip_src.split(",")[1] == orig[IP].src
            assert ip_dst.split(",")[1] == orig[IP].dst
            # DSCP/ECN copied to the outer header.
            assert int(dsfield.split(",")[0], 16) == int(dsfield.split(",")[1], 16) == orig[IP].tos
            if UDP in orig:
                assert udp_len.split(",")[1] == str(orig[UDP].len)
        else:
            assert nh == "0x29"
            assert ip6_src == orig[IPv6].src


def test_scapy_verifies_esn_across_the_32_bit_wrap(meshctl, tmp_path, keyfile):
    first = (1 << 32) - 5
    _, out, summary = encrypt(meshctl, tmp_path, keyfile, "--first-seq", str(first))
    assert summary["esn"] is True
    assert summary["last_seq"] == first + 14
    key = bytes.fromhex(key_hex(keyfile))
    originals = [p for p in inner_packets() if IP in p or IPv6 in p]
    for n, frame in enumerate(rdpcap(str(out))):
        seq = first + n
        esp_bytes = bytes(frame[UDP].payload)
        assert int.from_bytes(esp_bytes[4:8], "big") == seq & 0xFFFFFFFF
        outer = IP(src=OUTER_SRC, dst=OUTER_DST) / ESP(esp_bytes)
        sa = SecurityAssociation(ESP, spi=SPI, crypt_algo="AES-GCM", crypt_key=key,
                                 esn_en=True, esn=seq >> 32)
        # Raises on an ICV mismatch. scapy returns the outer header with the
        # inner packet as its payload (next header 4 or 41).
        inner = sa.decrypt(outer)
        assert inner.proto == (4 if IP in originals[n] else 41)
        assert bytes(inner.payload) == bytes(originals[n].payload)


@pytest.mark.parametrize("esn", [True, False])
def test_decrypt_restores_the_input(meshctl, tmp_path, keyfile, esn):
    extra = [] if esn else ["--no-esn"]
    src, out, _ = encrypt(meshctl, tmp_path, keyfile, *extra)
    dec = tmp_path / "dec.pcap"
    r = run([meshctl, "esp", "decrypt", "--in", str(out), "--out", str(dec), "--key-file",
             str(keyfile), "--spi", str(SPI), "--json", *extra])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["packets_decrypted"] == 15 and summary["dropped_total"] == 0
    originals = [bytes(p.payload) for p in rdpcap(str(src)) if IP in p or IPv6 in p]
    assert [bytes(p.payload) for p in rdpcap(str(dec))] == originals


def test_decrypt_counts_tampered_and_replayed_packets(meshctl, tmp_path, keyfile):
    _, out, _ = encrypt(meshctl, tmp_path, keyfile)
    frames = rdpcap(str(out))
    tampered = frames[3].copy()
    raw = bytearray(bytes(tampered))
    raw[-20] ^= 1  # a ciphertext byte
    frames = list(frames) + [frames[1], Ether(bytes(raw))]
    wrpcap(str(tmp_path / "bad.pcap"), frames)
    r = run([meshctl, "esp", "decrypt", "--in", str(tmp_path / "bad.pcap"), "--out",
             str(tmp_path / "dec.pcap"), "--key-file", str(keyfile), "--spi", str(SPI), "--json"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["packets_decrypted"] == 15
    assert summary["dropped"] == {"replayed": 2}  # the tampered copy of seq 4 is caught first by the window
    wrong_key = tmp_path / "other.key"
    run([meshctl, "esp", "keygen", "--out", str(wrong_key)])
    r = run([meshctl, "esp", "decrypt", "--in", str(out), "--out", str(tmp_path / "x.pcap"),
             "--key-file", str(wrong_key), "--spi", str(SPI), "--json"])
    assert json.loads(r.stdout)["dropped"] == {"icv_failed": 15}


def test_largest_packets_are_carried(meshctl, tmp_path, keyfile):
    # 65470-byte inner packet: 65532-byte ESP packet, 65546-byte frame.
    big = Ether() / IP(src="192.0.2.10", dst="198.51.100.20") / UDP(sport=50000, dport=50999) / Raw(bytes(65442))
    assert len(big[IP]) == 65470
    src, out, dec = tmp_path / "big.pcap", tmp_path / "big_esp.pcap", tmp_path / "big_dec.pcap"
    wrpcap(str(src), [big])
    r = run([meshctl, "esp", "encrypt", "--in", str(src), "--out", str(out), "--key-file", str(keyfile),
             "--spi", hex(SPI), "--json"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["esp_packets_written"] == 1
    r = run([meshctl, "esp", "decrypt", "--in", str(out), "--out", str(dec), "--key-file", str(keyfile),
             "--spi", hex(SPI), "--json"])
    assert r.returncode == 0, r.stderr
    assert bytes(rdpcap(str(dec))[0][IP]) == bytes(big[IP])


@pytest.mark.parametrize("args,code,message", [
    (["esp", "encrypt", "--in", "x.pcap", "--key-file", "k", "--spi", "4096"], 2,
     "missing required option --out"),
    (["esp", "encrypt", "--bogus", "1"], 2, "unknown option --bogus"),
    (["esp", "encrypt", "--in", "a", "--out", "b", "--key-file", "k", "--spi", "12"], 2,
     "out of range [256, 4294967295]"),
    (["esp", "encrypt", "--in", "a", "--out", "b", "--key-file", "k", "--spi", "0x1001",
      "--src", "300.1.1.1"], 2, "'300.1.1.1' is not an IPv4 address"),
    (["esp", "encrypt", "--in", "a", "--out", "b", "--key-file", "k", "--spi", "4096",
      "--backend", "aesni"], 2, "'aesni' is not ipsec-mb or openssl"),
    (["nonsense"], 2, "unknown command 'nonsense'"),
    (["esp", "decrypt", "--in", "a", "--out", "b", "--key-file", "k", "--spi", "4096", "--no-esn",
      "--first-seq", "4294967296"], 2, "out of range [1, 4294967295]"),
])
def test_bad_arguments_get_clear_errors(meshctl, args, code, message):
    r = run([meshctl, *args])
    assert r.returncode == code
    assert message in r.stderr


def test_bad_files_get_clear_errors(meshctl, tmp_path, keyfile):
    src = tmp_path / "in.pcap"
    wrpcap(str(src), inner_packets())
    base = [meshctl, "esp", "encrypt", "--out", str(tmp_path / "o.pcap"), "--spi", "4096"]
    loose = tmp_path / "loose.key"
    loose.write_text(key_hex(keyfile) + "\n")
    os.chmod(loose, 0o644)
    r = run(base + ["--in", str(src), "--key-file", str(loose)])
    assert r.returncode == 1 and "mode 0644" in r.stderr and "chmod 600" in r.stderr
    assert key_hex(keyfile) not in r.stderr + r.stdout, "a key must never be printed"
    short = tmp_path / "short.key"
    short.write_text("00112233\n")
    os.chmod(short, 0o600)
    r = run(base + ["--in", str(src), "--key-file", str(short)])
    assert r.returncode == 1 and "holds 4 bytes, expected 36" in r.stderr
    notpcap = tmp_path / "notpcap"
    notpcap.write_bytes(b"hello, this is not a capture file at all")
    r = run(base + ["--in", str(notpcap), "--key-file", str(keyfile)])
    assert r.returncode == 1 and "bad magic number" in r.stderr
    data = src.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:len(data) - 7])
    r = run(base + ["--in", str(cut), "--key-file", str(keyfile)])
    assert r.returncode == 1 and "record 16" in r.stderr and "truncated" in r.stderr
    r = run([meshctl, "esp", "keygen", "--out", str(keyfile)])
    assert r.returncode == 1 and "File exists" in r.stderr
