# SPDX-License-Identifier: BSD-3-Clause
"""Runs meshgw on net_pcap ports the way an operator would: a TOML file, key
files made by `meshctl esp keygen`, pcaps in, pcaps out, /v1/stats and
/metrics over HTTP, SIGINT to stop. Also an independent ESP-in-UDP encoder
(RFC 4303/4106/3948 with the `cryptography` package's AES-GCM) to feed the
WAN side, so what meshgw decrypts was not made by our own code."""
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import time
import urllib.request

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import IP, UDP, Ether, Raw, rdpcap, wrpcap

LAN_MAC = "02:00:00:00:00:01"
WAN_MAC = "02:00:00:00:00:02"
HOST_MAC = "02:00:00:00:aa:01"   # a host on the site LAN
PEER_MAC = "02:00:00:00:01:02"   # gw-b on the underlay
HOP_MAC = "02:00:00:00:01:03"    # gw-c, the next hop of a relayed tunnel
GW_A, GW_B, GW_C = "198.18.0.1", "198.18.0.2", "198.18.1.2"
OUT_SPI, IN_SPI, RELAY_SPI = 0x1001, 0x2001, 0x3001

_prefixes = itertools.count()


def keygen(meshctl, path):
    r = subprocess.run([meshctl, "esp", "keygen", "--out", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return keygen_read(path)


def keygen_read(path):
    """(key, salt) from a key file."""
    raw = bytes.fromhex("".join(l.strip() for l in open(path) if not l.startswith("#")))
    return raw[:32], raw[32:36]


class EspEncoder:
    """ESP tunnel mode, AES-256-GCM, 64-bit ESN (high half in the AAD only)."""

    def __init__(self, key, salt, spi, src=GW_B, dst=GW_A, esn=True):
        self.aead, self.salt, self.spi = AESGCM(key), salt, spi
        self.src, self.dst, self.esn = src, dst, esn
        self.seq = 0

    def seal(self, inner, seq=None, pad=None, next_header=None, ttl=64, raw_plaintext=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        if raw_plaintext is None:
            body = bytes(inner)
            if pad is None:
                n = (4 - (len(body) + 2) % 4) % 4
                pad = bytes(range(1, n + 1))
            nh = next_header if next_header is not None else (41 if body[0] >> 4 == 6 else 4)
            raw_plaintext = body + pad + bytes([len(pad), nh])
        nonce = self.salt + struct.pack("!Q", seq)
        aad = struct.pack("!III", self.spi, seq >> 32, seq & 0xFFFFFFFF) if self.esn else \
            struct.pack("!II", self.spi, seq & 0xFFFFFFFF)
        ct = self.aead.encrypt(nonce, raw_plaintext, aad)
        esp = struct.pack("!II", self.spi, seq & 0xFFFFFFFF) + struct.pack("!Q", seq) + ct
        return (Ether(src=PEER_MAC, dst=WAN_MAC) / IP(src=self.src, dst=self.dst, ttl=ttl, flags="DF")
                / UDP(sport=4500, dport=4500, chksum=0) / Raw(esp))


def esp_open(key, salt, frame, esn=True):
    """Decrypts an ESP-in-UDP frame; returns (spi, seq_low, inner bytes)."""
    udp = frame[UDP]
    esp = bytes(udp.payload)
    spi, seq_low = struct.unpack("!II", esp[:8])
    seq = struct.unpack("!Q", esp[8:16])[0]
    aad = struct.pack("!III", spi, seq >> 32, seq & 0xFFFFFFFF) if esn else struct.pack("!II", spi, seq_low)
    pt = AESGCM(key).decrypt(salt + esp[8:16], esp[16:], aad)
    pad_len, nh = pt[-2], pt[-1]
    return spi, seq, pt[: len(pt) - 2 - pad_len]


def write_pcap(path, frames):
    """A pcap of Ethernet frames; an empty one is just the header."""
    if frames:
        wrpcap(str(path), frames)
    else:
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def to_toml(cfg):
    lines = []
    for section, body in cfg.items():
        if isinstance(body, list):
            for entry in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def base_config(tmp, prefix, lan_in="lan-in.pcap", wan_in="wan-in.pcap", workers=1):
    def dev(name, index, rx):
        txs = ",".join(f"tx_pcap={name}-out{w}.pcap" for w in range(workers))
        return f"net_pcap{index},rx_pcap={rx},{txs}"
    return {
        "gateway": {"id": "gw-a"},
        "eal": {"args": ["--no-huge", "-m", "256", "--file-prefix", prefix, "--log-level", "*:error"]},
        "dataplane": {"worker_cpus": [1] * workers, "idle": "sleep"},
        "stats": {"listen": "127.0.0.1:0"},
        "port": [
            {"name": "lan", "role": "lan", "device": dev("lan", 0, lan_in), "address": "192.0.2.1/24",
             "address6": "fd00:1::1/64", "mac": LAN_MAC},
            {"name": "wan", "role": "wan", "device": dev("wan", 1, wan_in), "address": GW_A + "/24",
             "mac": WAN_MAC},
        ],
        "neighbour": [
            {"port": "wan", "ip": GW_B, "mac": PEER_MAC},
            {"port": "wan", "ip": GW_C, "mac": HOP_MAC},
        ],
        "tunnel": [{"id": "a-b", "egress": "gw-b", "next_hop": GW_B, "out_spi": OUT_SPI,
                    "out_key_file": "ab.key", "in_spi": IN_SPI, "in_key_file": "ba.key",
                    "remote_sites": ["198.51.100.0/24", "fd00:2::/64"], "mtu": 1400}],
        "route": [{"prefix": "198.51.100.0/24", "egress": "gw-b"}, {"prefix": "fd00:2::/64", "egress": "gw-b"}],
    }


class Gateway:
    """One meshgw process on net_pcap ports in directory tmp."""

    def __init__(self, meshgw, tmp, cfg, lan_frames=(), wan_frames=()):
        self.meshgw, self.tmp, self.cfg = meshgw, tmp, cfg
        self.lan_frames, self.wan_frames = list(lan_frames), list(wan_frames)
        for name, frames in (("lan-in.pcap", self.lan_frames), ("wan-in.pcap", self.wan_frames)):
            write_pcap(tmp / name, frames)
        (tmp / "gw.toml").write_text(to_toml(cfg))
        self.proc = None
        self.stats_port = None
        self.output = ""

    def start(self):
        self.proc = subprocess.Popen([self.meshgw, "--config", str(self.tmp / "gw.toml")], cwd=self.tmp,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output += line
            if line.startswith("meshgw: ready"):
                self.stats_port = int(line.split("stats_port=")[1])
                return self
        self.proc.kill()
        raise AssertionError("meshgw did not start:\n" + self.output + self.proc.stdout.read())

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}{path}", timeout=5) as r:
            return r.read().decode()

    def stats(self):
        return json.loads(self.get("/v1/stats"))

    def wait_received(self, extra_wait=0.2, timeout=20):
        """Until both ports have taken every input frame, then until the
        counters stop moving."""
        want = {"lan": len(self.lan_frames), "wan": len(self.wan_frames)}
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.stats()
            got = {p["name"]: p["rx_packets"] for p in s["ports"]}
            if all(got[k] >= v for k, v in want.items()):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"meshgw received {got}, expected {want}")
        time.sleep(extra_wait)
        return self.stats()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        self.output += out
        assert self.proc.returncode == 0, self.output
        return self.output

    def out(self, port, worker=0):
        path = self.tmp / f"{port}-out{worker}.pcap"
        return list(rdpcap(str(path))) if path.exists() and path.stat().st_size > 24 else []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        # The EAL leaves its runtime directory behind; so would a crash.
        args = self.cfg["eal"]["args"]
        if "--file-prefix" in args:
            shutil.rmtree(os.path.join("/var/run/dpdk", args[args.index("--file-prefix") + 1]), ignore_errors=True)


def prefix(tag):
    return f"mgwt{os.getpid()}_{tag}_{next(_prefixes)}"
