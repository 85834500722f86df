# SPDX-License-Identifier: BSD-3-Clause
"""Drives a real meshctld on loopback: init, serve on free ports, REST calls
over TLS 1.3 (bearer tokens or a gateway's client certificate), gateway keys
and CSRs (python3-cryptography), beacons (the format of
controlplane/api/beacon.hpp, tagged with HMAC-SHA256) and watch streams."""
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def init_mesh(meshctld, state_dir):
    r = subprocess.run([meshctld, "init", "--state-dir", state_dir], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    m = re.search(r"admin token \(shown once[^)]*\): ([0-9a-f]{16}\.[0-9a-f]{64})", r.stdout)
    assert m, r.stdout
    return m.group(1), r


def write_config(path, state_dir, extra=""):
    with open(path, "w") as f:
        f.write(f'[controller]\nstate_dir = "{state_dir}"\n[api]\nlisten = "127.0.0.1:0"\n'
                f'[beacons]\nlisten = "127.0.0.1:0"\ndown_after_ms = 600\n[storage]\nsynchronous = "normal"\n{extra}')


class Controller:
    """A meshctld process; prefix runs it under another command (taskset),
    drain reads its stderr all along (a long run must never fill the pipe)."""

    def __init__(self, meshctld, config, state_dir, prefix=(), drain=False):
        self.state_dir = state_dir
        self.proc = subprocess.Popen([*prefix, meshctld, "--config", config], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"meshctld: ready api_port=(\d+) beacon_port=(\d+) epoch=([0-9a-f]+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError("meshctld did not start: " + line + self.proc.stderr.read())
        self.api_port, self.beacon_port, self.epoch = int(m.group(1)), int(m.group(2)), m.group(3)
        self.ca = os.path.join(state_dir, "ca.pem")
        if drain:
            threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def context(self, cert=None, key=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def request(self, method, path, body=None, token=None, cert=None, key=None, raw=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.api_port, context=self.context(cert, key), timeout=10)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Gateway:
    """A gateway's key, CSR and (after registration) certificate files."""

    def __init__(self, workdir, name):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_path = os.path.join(workdir, name + ".key")
        with open(os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self.cert_path = os.path.join(workdir, name + ".pem")
        self.sequence = 0
        self.id = None
        self.beacon_key = None

    def csr(self, cn="requested-name"):
        req = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(self.key, hashes.SHA256())
        return req.public_bytes(serialization.Encoding.PEM).decode()

    def registered(self, answer):
        self.id = answer["gateway_id"]
        self.beacon_key = bytes.fromhex(answer["beacon_key"])
        with open(self.cert_path, "w") as f:
            f.write(answer["certificate"])

    def beacon(self, sequence=None, sent_ms=None, neighbours=(), key=None, load=100):
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        sent_ms = int(time.time() * 1000) if sent_ms is None else sent_ms
        b = b"MGB1" + bytes([1, 1, 1, len(neighbours)])
        b += struct.pack(">QQQHii", sent_ms, sequence, 10**9, load, 41878100, -87629800)
        b += bytes([len(self.id)]) + self.id.encode()
        b += bytes([4]) + struct.pack(">H", 4500) + bytes([198, 18, 0, 1])
        for nid, rtt in neighbours:
            b += bytes([len(nid)]) + nid.encode() + struct.pack(">III", rtt, 10, 0)
        return b + hmac.new(key or self.beacon_key, b, hashlib.sha256).digest()


def send_udp(port, datagram):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(datagram, ("127.0.0.1", port))
    s.close()


class Watch:
    """GET /v1/gw/watch as a gateway: reads newline-delimited JSON messages."""

    def __init__(self, controller, gateway, epoch="", since=0):
        raw = socket.create_connection(("127.0.0.1", controller.api_port), timeout=10)
        self.sock = controller.context(gateway.cert_path, gateway.key_path).wrap_socket(raw, server_hostname="127.0.0.1")
        self.sock.sendall(f"GET /v1/gw/watch?epoch={epoch}&since={since} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])

    def _until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def next(self, timeout=5.0):
        """The next message (chunk framing removed)."""
        self.sock.settimeout(timeout)
        size = int(self._until(b"\r\n"), 16)
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return json.loads(data)

    def wait_for(self, predicate, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.next(max(0.05, deadline - time.time()))
            if predicate(m):
                return m
        raise AssertionError("no matching message in time")

    def close(self):
        self.sock.close()


def started_mesh(meshctld, tmp_path, extra=""):
    """init + serve in tmp_path (ports chosen by the kernel); the Controller
    carries admin (the first admin token), config, workdir and meshctld."""
    state = str(tmp_path / "state")
    admin, _ = init_mesh(meshctld, state)
    config = str(tmp_path / "meshctld.toml")
    write_config(config, state, extra)
    c = Controller(meshctld, config, state)
    c.admin, c.config, c.workdir, c.meshctld = admin, config, str(tmp_path), meshctld
    return c
