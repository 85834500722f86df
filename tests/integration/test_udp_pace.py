# SPDX-License-Identifier: BSD-3-Clause
"""udp_pace (scripts/bench/udp_pace.cpp), the tunnel benchmark's paced UDP
sender and counting receiver, on the loopback: the rate it sends is the
rate asked, every datagram is counted once, bad arguments are refused."""
import json
import os
import socket
import subprocess
import time

import pytest


@pytest.fixture(scope="module")
def udp_pace():
    path = os.environ.get("UDP_PACE")
    if not path or not os.path.exists(path):
        pytest.fail("UDP_PACE must point at the built udp_pace (run through meson test)")
    return path


def trial(udp_pace, port, pps, seconds, size=18):
    recv = subprocess.Popen([udp_pace, "recv", "--bind", f"127.0.0.1:{port}", "--seconds", str(seconds + 3),
                             "--idle-ms", "400"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    send = subprocess.run([udp_pace, "send", "--src", "127.0.0.1", "--dst", f"127.0.0.1:{port}", "--bytes",
                           str(size), "--pps", str(pps), "--seconds", str(seconds)],
                          capture_output=True, text=True, timeout=seconds + 10)
    out, _ = recv.communicate(timeout=seconds + 10)
    assert send.returncode == 0, send.stderr
    return json.loads(send.stdout), json.loads(out)


def test_sends_the_rate_asked_and_every_datagram_is_counted_once(udp_pace):
    tx, rx = trial(udp_pace, 47211, 20000, 0.5)
    assert abs(tx["seconds"] - 0.5) < 0.05
    assert abs(tx["sent"] - 10000) <= 500, tx
    assert tx["send_errors"] == 0
    assert rx["received"] == tx["sent"], (tx, rx)
    assert rx["duplicates"] == 0 and rx["foreign"] == 0
    assert rx["highest_seq"] == tx["sent"] - 1


def test_paces_rather_than_floods(udp_pace):
    # 2,000 a second for a second: spread over the second, not sent at once.
    tx, rx = trial(udp_pace, 47212, 2000, 1.0, size=1354)
    assert abs(tx["sent"] - 2000) <= 100, tx
    assert rx["received"] == tx["sent"]
    assert rx["seconds"] > 0.9, rx  # first to last datagram


def test_other_datagrams_are_not_counted(udp_pace):
    recv = subprocess.Popen([udp_pace, "recv", "--bind", "127.0.0.1:47213", "--seconds", "3", "--idle-ms", "300"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5):
        s.sendto(b"not a udp_pace datagram", ("127.0.0.1", 47213))
    s.close()
    out, _ = recv.communicate(timeout=10)
    rx = json.loads(out)
    assert rx["received"] == 0 and rx["foreign"] == 5


@pytest.mark.parametrize("argv,message", [
    ([], "a mode, send or recv, comes first"),
    (["blast", "--seconds", "1"], "unknown mode 'blast'"),
    (["send", "--src", "127.0.0.1", "--dst", "127.0.0.1:9", "--pps", "fast", "--seconds", "1"],
     "--pps = 'fast': must be a number"),
    (["send", "--src", "127.0.0.1", "--dst", "127.0.0.1", "--pps", "10", "--seconds", "1"],
     "'127.0.0.1': want IP:PORT"),
    (["send", "--src", "127.0.0.1", "--dst", "127.0.0.1:70000", "--pps", "10", "--seconds", "1"],
     "the port must be 1..65535"),
    (["send", "--src", "::1", "--dst", "127.0.0.1:9", "--pps", "10", "--seconds", "1"], "'::1': not an IPv4 address"),
    (["send", "--src", "127.0.0.1", "--dst", "127.0.0.1:9", "--pps", "10", "--seconds", "1", "--bytes", "4"],
     "--bytes = '4'"),
    (["recv", "--bind", "127.0.0.1:9", "--seconds", "1", "--rate", "3"], "unknown option '--rate'"),
    (["recv", "--seconds", "1"], "recv needs --bind"),
    (["send", "--src", "127.0.0.1", "--dst", "127.0.0.1:9", "--pps", "10", "--seconds", "1", "--iface", "lo"],
     "--iface and --dst-mac go together"),
    (["recv", "--bind", "127.0.0.1:9", "--seconds"], "--seconds: needs a value"),
])
def test_bad_arguments_are_refused_naming_them(udp_pace, argv, message):
    p = subprocess.run([udp_pace] + argv, capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert message in p.stderr, p.stderr
    assert p.stdout == ""


def test_frames_on_an_interface_reach_a_udp_socket(udp_pace):
    """--iface: whole frames on AF_PACKET to the next hop's MAC, received by
    an ordinary UDP socket (two namespaces and a veth; root only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, AF_PACKET)")
    tag = f"up{os.getpid() % 100000}"
    a, b = f"{tag}a", f"{tag}b"
    made = []
    try:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            made.append(ns)
        subprocess.run(["ip", "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b],
                       check=True)
        for ns, dev, addr in ((a, "va", "198.18.7.1/24"), (b, "vb", "198.18.7.2/24")):
            subprocess.run(["ip", "-n", ns, "addr", "add", addr, "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
        mac = json.loads(subprocess.run(["ip", "-n", b, "-j", "link", "show", "vb"], capture_output=True, text=True,
                                        check=True).stdout)[0]["address"]
        recv = subprocess.Popen(["ip", "netns", "exec", b, udp_pace, "recv", "--bind", "198.18.7.2:47214",
                                 "--seconds", "6", "--idle-ms", "400"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        send = subprocess.run(["ip", "netns", "exec", a, udp_pace, "send", "--src", "198.18.7.1",
                               "--dst", "198.18.7.2:47214", "--bytes", "18", "--pps", "20000", "--seconds", "0.5",
                               "--iface", "va", "--dst-mac", mac], capture_output=True, text=True, timeout=20)
        out, _ = recv.communicate(timeout=20)
        assert send.returncode == 0, send.stderr
        tx, rx = json.loads(send.stdout), json.loads(out)
        assert abs(tx["sent"] - 10000) <= 500, tx
        assert rx["received"] == tx["sent"] and rx["foreign"] == 0, (tx, rx)
        bad = subprocess.run(["ip", "netns", "exec", a, udp_pace, "send", "--src", "198.18.7.1",
                              "--dst", "198.18.7.2:47214", "--pps", "10", "--seconds", "0.1", "--iface", "va",
                              "--dst-mac", "00:11:22"], capture_output=True, text=True, timeout=20)
        assert bad.returncode == 2 and "--dst-mac '00:11:22': want six hex bytes" in bad.stderr
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False)
