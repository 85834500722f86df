# SPDX-License-Identifier: BSD-3-Clause
"""Reads a running DPDK process's port counters through its telemetry socket
(/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2), so testpmd, ipsec-secgw and
meshgw are measured the same way: packets a port sent over a timed window."""
import json
import os
import socket
import time


def socket_path(file_prefix):
    return os.path.join("/var/run/dpdk", file_prefix, "dpdk_telemetry.v2")


def query(file_prefix, command, timeout=10.0):
    path = socket_path(file_prefix)
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"no telemetry socket at {path}")
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    try:
        json.loads(s.recv(16384).decode())  # greeting: version, max_output_len
        s.send(command.encode())
        return json.loads(s.recv(1 << 20).decode())
    finally:
        s.close()


def port_stats(file_prefix, port):
    return query(file_prefix, f"/ethdev/stats,{port}")["/ethdev/stats"]


def wait_for_ports(file_prefix, count, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            ports = query(file_prefix, "/ethdev/list", timeout=timeout)["/ethdev/list"]
            if len(ports) >= count:
                return ports
        except (TimeoutError, ConnectionError, OSError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{file_prefix}: ports did not appear")


def rate(file_prefix, port, seconds, field="opackets", warmup=1.0):
    """Packets per second a port counted in `field` over `seconds`, after a warm-up."""
    time.sleep(warmup)
    a = port_stats(file_prefix, port)
    t0 = time.monotonic()
    time.sleep(seconds)
    b = port_stats(file_prefix, port)
    t1 = time.monotonic()
    return (b[field] - a[field]) / (t1 - t0)
