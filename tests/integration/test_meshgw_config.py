# SPDX-License-Identifier: BSD-3-Clause
"""meshgw's configuration: each rule, broken once, gives one message that
names the file, the key, the value and the rule, before any device is
touched; --check-config validates without starting; --help reads like a
manual page."""
import copy
import os
import subprocess

import pytest

import meshgw_harness as h


@pytest.fixture()
def workdir(tmp_path, meshctl):
    h.keygen(meshctl, tmp_path / "ab.key")
    h.keygen(meshctl, tmp_path / "ba.key")
    h.write_pcap(tmp_path / "lan-in.pcap", [])
    h.write_pcap(tmp_path / "wan-in.pcap", [])
    return tmp_path


def check(meshgw, workdir, cfg, text=None):
    path = workdir / "gw.toml"
    path.write_text(text if text is not None else h.to_toml(cfg))
    return subprocess.run([meshgw, "--config", str(path), "--check-config"], capture_output=True, text=True,
                          timeout=60)


def edit(**changes):
    def apply(cfg):
        for dotted, value in changes.items():
            node = cfg
            keys = dotted.split(".")
            for k in keys[:-1]:
                node = node[int(k)] if isinstance(node, list) else node[k]
            last = keys[-1]
            if value is DELETE:
                del node[last]
            elif isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value
        return cfg
    return apply


DELETE = object()


def with_controller(**keys):
    """A [controller] section (a mesh to join) with these keys on top."""
    def apply(cfg):
        cfg["controller"] = {"url": "https://127.0.0.1:8443", "ca_file": "ca.pem", "state_dir": "state", **keys}
        return cfg
    return apply

CASES = [
    ("unknown top-level key", edit(gatewya={"id": "x"}), "gatewya", "unknown key"),
    ("unknown port key", edit(**{"port.0.speed": 10}), "[[port]] #1 speed = 10: unknown key"),
    ("missing gateway", edit(gateway=DELETE), "gateway: is required"),
    ("empty id", edit(**{"gateway.id": ""}), '[gateway] id = "": must be 1..64 characters'),
    ("bad role", edit(**{"port.0.role": "site"}), '[[port]] #1 role = "site": must be "lan"'),
    ("two wan ports", edit(**{"port.0.role": "wan"}), 'exactly one [[port]] needs role = "wan" (found 2)'),
    ("bad device", edit(**{"port.0.device": "eth0"}), '[[port]] #1 device = "eth0": must be a DPDK virtual device'),
    ("bad address", edit(**{"port.1.address": "198.18.0.300/24"}), "[[port]] #2 address", "is not IPv4 ADDRESS/LEN"),
    ("bad prefix length", edit(**{"port.1.address": "198.18.0.1/33"}), "prefix length must be 0..32"),
    ("multicast mac", edit(**{"port.0.mac": "01:00:5e:00:00:01"}), "is a multicast MAC address"),
    ("bad mac", edit(**{"port.0.mac": "02:00:00:00:00"}), "is not a MAC address"),
    ("no workers", edit(**{"dataplane.worker_cpus": []}), "worker_cpus", "must list 1..64 CPUs"),
    ("bad idle", edit(**{"dataplane.idle": "nap"}), '[dataplane] idle = "nap": must be "poll"'),
    ("mbufs range", edit(**{"dataplane.mbufs": 10}), "[dataplane] mbufs = 10: must be in 1023..16777215"),
    ("string for integer", edit(**{"dataplane.mbufs": "many"}), 'mbufs = "many": must be an integer'),
    ("twamp on 4500", edit(**{"dataplane.twamp_port": 4500}), "twamp_port = 4500: 4500 carries ESP"),
    ("bad backend", edit(**{"dataplane.backend": "aesni"}), 'backend = "aesni": must be "ipsec-mb" or "openssl"'),
    ("openssl with two workers", edit(**{"dataplane.backend": "openssl", "dataplane.worker_cpus": [1, 1]}),
     'backend = "openssl": an OpenSSL SA serves one thread'),
    ("lcores in eal args", edit(**{"eal.args": ["--lcores=0-3"]}), "'--lcores=0-3' is set by meshgw"),
    ("reserved spi", edit(**{"tunnel.0.out_spi": 16}), "[[tunnel]] #1 out_spi = 16: must be in 256..4294967295"),
    ("shared spi", lambda c: c.update(relay=[{"spi": h.IN_SPI, "next_hop": h.GW_C}]) or c,
     "relay 0x00002001: spi 0x00002001 is already used by tunnel 'a-b' in_spi"),
    ("mtu range", edit(**{"tunnel.0.mtu": 100}), "[[tunnel]] #1 mtu = 100: must be in 576..9000"),
    ("no remote sites", edit(**{"tunnel.0.remote_sites": []}), "remote_sites = [0 entries]: is required"),
    ("bad next hop", edit(**{"tunnel.0.next_hop": "gw-b"}), 'next_hop = "gw-b": is not an IPv4 address'),
    ("host bits in route", edit(**{"route.0.prefix": "198.51.100.1/24"}), "[[route]] #1 prefix", "is not a prefix"),
    ("duplicate route", lambda c: c["route"].append(dict(c["route"][0])) or c, "route 198.51.100.0/24: prefix given twice"),
    ("path to no tunnel", lambda c: c.update(path=[{"egress": "gw-b", "tunnel": "nope"}]) or c,
     "path (gw-b, default): tunnel 'nope' does not exist"),
    ("bad port range", lambda c: c.update(policy=[{"name": "p", "dst_ports": "90-80"}]) or c,
     '[[policy]] #1 dst_ports = "90-80": must be PORT or "LO-HI"'),
    ("bad protocol", lambda c: c.update(policy=[{"name": "p", "protocol": "gre"}]) or c,
     'protocol = "gre": must be tcp, udp, icmp, icmpv6, sctp or a number'),
    ("bad action", lambda c: c.update(policy=[{"name": "p", "action": "drop"}]) or c,
     'action = "drop": must be "route" or "deny"'),
    ("bad stats listen", edit(**{"stats.listen": "localhost"}), '[stats] listen = "localhost": must be IPv4:PORT'),
    ("unknown neighbour port", lambda c: c["neighbour"].append({"port": "dmz", "ip": "192.0.2.9", "mac": h.HOST_MAC}) or c,
     '[[neighbour]] #3 port = "dmz": names no [[port]]'),
    ("exception path on the lan", edit(**{"port.0.exception_iface": "mgw0"}), "only the wan port has an exception path"),
    ("bad interface name", edit(**{"port.1.exception_iface": "a very long name"}), "must be a Linux interface name"),
    ("missing key file", edit(**{"tunnel.0.out_key_file": "nope.key"}), "key for SPI 0x00001001", "nope.key"),
    ("router outside the subnet", edit(**{"port.1.router": "10.0.0.1"}),
     '[[port]] #2 router = "10.0.0.1": must be another address inside the port\'s own subnet'),
    ("controller not https", with_controller(url="http://127.0.0.1:8443"), "url", "must be https://HOST:PORT"),
    ("key exchange on the ESP port", with_controller(key_port=4500), "key_port = 4500: must not be the ESP (4500)"),
    ("rekey volume too small", with_controller(rekey_after_bytes=1000),
     "rekey_after_bytes = 1000: must be 0 (by time only) or at least 1000000"),
    ("season of one sample", with_controller(forecast_season=1), "forecast_season = 1: must be 0 (none) or at least 2"),
    ("predict not a boolean", with_controller(predict="yes"), "predict", "must be true or false"),
    ("trend over two samples", with_controller(forecast_trend_window=2),
     "forecast_trend_window = 2: must be 0 (off) or at least 3 samples"),
    ("hold longer than an hour", with_controller(path_hold_ms=3600001), "path_hold_ms = 3600001"),
    ("hold jitter negative", with_controller(path_hold_jitter=-0.5), "path_hold_jitter = -0.5: must be in 0"),
    ("migration rate over one", with_controller(path_migration_rate=1.5), "path_migration_rate = 1.5: must be in 0"),
    ("behind a NAT without an exception path", with_controller(behind_nat=True),
     "behind_nat = true: needs the wan port's address and exception_iface"),
    ("too many backups", with_controller(backups=9), "[controller] backups = 9: must be in 0..3"),
    ("unknown controller key", with_controller(nat=True), "nat"),
]


@pytest.mark.parametrize("name,mutate,needles", [(c[0], c[1], c[2:]) for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_key_value_and_rule(meshgw, workdir, name, mutate, needles):
    cfg = mutate(copy.deepcopy(h.base_config(workdir, h.prefix("cfg"))))
    r = check(meshgw, workdir, cfg)
    assert r.returncode == 1, r.stdout + r.stderr
    message = r.stderr.strip()
    assert message.count("\n") == 0, "one message"
    assert message.startswith("meshgw: " + str(workdir / "gw.toml")), message
    for needle in needles:
        assert needle in message, message


def test_valid_config_checks_and_a_bad_one_touches_no_device(meshgw, workdir):
    cfg = h.base_config(workdir, h.prefix("ok"))
    r = check(meshgw, workdir, cfg)
    assert r.returncode == 0, r.stderr
    assert "valid: gateway gw-a, 2 ports, 1 workers, 1 tunnels, 2 routes" in r.stdout
    assert not (workdir / "lan-out0.pcap").exists(), "--check-config starts no port"
    cfg["tunnel"][0]["mtu"] = 20
    (workdir / "gw.toml").write_text(h.to_toml(cfg))
    r = subprocess.run([meshgw, "--config", str(workdir / "gw.toml")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "mtu = 20" in r.stderr
    assert not (workdir / "lan-out0.pcap").exists(), "refused before the EAL opened any device"


def test_toml_syntax_error_gives_line_and_column(meshgw, workdir):
    r = check(meshgw, workdir, None, text='[gateway]\nid = "gw-a"\n[[port]\nname = "x"\n')
    assert r.returncode == 1
    assert "gw.toml:3:" in r.stderr


def test_key_file_readable_by_others_is_refused_and_never_printed(meshgw, workdir):
    os.chmod(workdir / "ab.key", 0o644)
    r = check(meshgw, workdir, h.base_config(workdir, h.prefix("perm")))
    assert r.returncode == 1
    assert "ab.key: secret file has mode 0644; group and others must have no access" in r.stderr, r.stderr
    secret = "".join(l.strip() for l in open(workdir / "ab.key") if not l.startswith("#"))
    assert secret not in r.stderr and secret[:16] not in r.stderr


def test_help_and_usage_errors(meshgw):
    r = subprocess.run([meshgw, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "CONFIGURATION", "SIGNALS", "EXIT STATUS"):
        assert f"\n{section}\n" in "\n" + r.stdout
    r = subprocess.run([meshgw], capture_output=True, text=True)
    assert r.returncode == 2 and "--config FILE is required" in r.stderr
    r = subprocess.run([meshgw, "--confg", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown or incomplete argument '--confg'" in r.stderr
