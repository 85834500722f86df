#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The meshgw lab: a whole mesh on one machine, in network namespaces.

One meshctld, one meshgw per node of a topology (idle = "sleep", --no-huge,
one --file-prefix each), a site host behind each gateway, and the project's
WAN emulator (wanem) as the underlay between them: each link of the
topology gets the one-way delay of its great-circle length (at 200 km/ms),
its rate and loss; gateways without a link cannot exchange IPv4 over the
underlay, so the mesh sees exactly the topology's links.

  ns <tag>-ctl   meshctld 198.19.0.1 on a bridge; each gateway's mgmt veth
                 (kernel: registration, state, beacons) joins it
  ns <tag>-ul    wanem; the gateways' WAN veths (DPDK, net_af_packet) end
                 here, as to-<id>; underlay 198.18.0.0/24 (gateway i: .i+1)
  ns <tag>-<id>  meshgw <id>: wan, mgmt, lan
  ns <tag>-h<id> the site host of <id>: 192.0.2.16i+10/28 behind the
                 gateway's 192.0.2.16i+1 (the sites share 192.0.2.0/24 in /28s)

Used by scripts/lab/demo.py (README command 1) and its e2e test. Needs
root. Everything started is stopped and every namespace deleted by down(),
which runs at exit and on SIGINT/SIGTERM.
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
KM_PER_MS = 200.0  # light in fibre: 2e5 km/s


def great_circle_km(a, b):
    """Haversine distance between two {lat, lon} nodes, R = 6371 km."""
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class LabError(RuntimeError):
    pass


def load_topology(path):
    """The lab's topology file (scripts/lab/abilene.json): nodes with id,
    label, lat, lon, role; links a-b with rate_mbit (and optional loss).
    Each link gets delay_ms from its length. Refuses a malformed file."""
    with open(path) as f:
        topo = json.load(f)
    nodes = {}
    for n in topo.get("nodes", []):
        for key in ("id", "lat", "lon", "role"):
            if key not in n:
                raise LabError(f"{path}: node {n.get('id', '?')}: '{key}' is required")
        if n["role"] not in ("core", "edge", "transit"):
            raise LabError(f"{path}: node {n['id']}: role '{n['role']}' must be core, edge or transit")
        if n["id"] in nodes or len(n["id"]) > 6 or not n["id"].isalnum():
            raise LabError(f"{path}: node id '{n['id']}' must be unique, 1-6 letters or digits")
        nodes[n["id"]] = n
    if not 2 <= len(nodes) <= 15:
        raise LabError(f"{path}: the lab takes 2 to 15 nodes (sites are /28s of 192.0.2.0/24), not {len(nodes)}")
    for link in topo.get("links", []):
        for end in ("a", "b"):
            if link.get(end) not in nodes:
                raise LabError(f"{path}: link {link.get('a')}-{link.get('b')}: '{link.get(end)}' is not a node")
        link["distance_km"] = great_circle_km(nodes[link["a"]], nodes[link["b"]])
        link["delay_ms"] = round(link["distance_km"] / KM_PER_MS, 3)
        link.setdefault("loss", 0.0)
        link.setdefault("rate_mbit", 10)
    topo["by_id"] = nodes
    return topo


class Lab:
    def __init__(self, topo, build, workdir=None, tag=None, say=print, probe_interval_ms=20, probe_timeout_ms=None, path_hold_ms=3000,
                 path_hold_jitter=0.5):
        self.topo = topo
        self.build = build
        self.tag = tag or f"L{os.getpid() % 100000}"
        self.dir = workdir or tempfile.mkdtemp(prefix="meshgw-lab-")
        self.say = say
        self.probe_interval_ms = probe_interval_ms
        # A reply not back after 100 ms is lost (or twice the longest link's
        # RTT plus 15 ms, on a topology with longer links). 60 ms took
        # links down dozens of times a run when a busy second stalled the
        # workers that reflect the probes, and the paths churned.
        longest_rtt = 2 * max((l["delay_ms"] + 3 * l.get("jitter_ms", 0) for l in topo["links"]), default=0)
        self.probe_timeout_ms = probe_timeout_ms or max(100, round(2 * longest_rtt + 15))
        self.path_hold_ms = path_hold_ms
        self.path_hold_jitter = path_hold_jitter
        self.namespaces = []
        self.procs = {}  # name -> Popen
        self.ids = {}  # node id -> mesh gateway ID
        self.stats_ports = {}
        self.nodes = [n["id"] for n in topo["nodes"]]
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.meshgw = os.path.join(build, "controlplane", "agent", "meshgw")
        self.meshctl_bin = os.path.join(build, "controlplane", "cli", "meshctl")
        self.meshctld = os.path.join(build, "controlplane", "controller", "meshctld")
        self.wanem = os.path.join(build, "scripts", "lab", "wanem", "wanem")
        for exe in (self.meshgw, self.meshctl_bin, self.meshctld, self.wanem):
            if not os.access(exe, os.X_OK):
                raise LabError(f"{exe} is missing: build first (ninja -C {build})")
        self.env = dict(os.environ)

    # -- addresses -------------------------------------------------------
    def wan_ip(self, node):
        return f"198.18.0.{self.index[node] + 1}"

    def lan_ip(self, node):
        return f"192.0.2.{16 * self.index[node] + 1}"

    def host_ip(self, node):
        return f"192.0.2.{16 * self.index[node] + 10}"

    def mac(self, node, port):
        return f"02:00:00:00:{self.index[node] + 1:02x}:{port:02x}"

    def ns(self, name):
        return f"{self.tag}-{name}"

    # -- running things --------------------------------------------------
    def run(self, ns, *cmd, check=True, timeout=60):
        full = ["ip", "netns", "exec", self.ns(ns), *cmd] if ns else list(cmd)
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise LabError(f"{' '.join(full)}: exit {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}")
        return p.stdout

    def spawn(self, name, ns, cmd, log=None):
        logf = open(log or os.path.join(self.dir, f"{name}.log"), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(ns), *cmd], stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=self.env)
        logf.close()
        self.procs[name] = p
        return p

    def stop(self, name, sig=signal.SIGINT, wait=5.0):
        p = self.procs.pop(name, None)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def wait_for(self, what, predicate, timeout, interval=0.1):
        end = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > end:
                raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def log_says(self, name, text):
        try:
            with open(os.path.join(self.dir, f"{name}.log"), errors="replace") as f:
                return text in f.read()
        except FileNotFoundError:
            return False

    def meshctl(self, *args, as_json=True, check=True):
        out = self.run("ctl", self.meshctl_bin, *args, *(["-o", "json"] if as_json else []), check=check)
        return json.loads(out) if as_json else out

    def wanem_ctl(self, *command):
        out = self.run(None, self.wanem, "ctl", "--socket", os.path.join(self.dir, "wanem.sock"), *command,
                       check=False)
        reply = json.loads(out) if out.strip() else {"error": "no answer"}
        if "error" in reply:
            raise LabError(f"wanem {' '.join(command)}: {reply['error']}")
        return reply

    def admin(self, node, path):
        """GET on a gateway's admin API (in its namespace): the JSON."""
        out = self.run(node, "curl", "-sf", "--max-time", "3", f"http://127.0.0.1:{self.stats_ports[node]}{path}",
                       check=False)
        return json.loads(out) if out.strip() else None

    # -- bringing the lab up ---------------------------------------------
    def veth(self, name1, ns1, name2, ns2):
        t1, t2 = f"{self.tag}-t1", f"{self.tag}-t2"
        self.run(None, "ip", "link", "add", t1, "type", "veth", "peer", "name", t2)
        self.run(None, "ip", "link", "set", t1, "netns", self.ns(ns1), "name", name1)
        self.run(None, "ip", "link", "set", t2, "netns", self.ns(ns2), "name", name2)
        for ns, name in ((ns1, name1), (ns2, name2)):
            # Real frames on the wire (af_packet hands meshgw what the kernel gives it).
            self.run(ns, "ethtool", "-K", name, "tx", "off", "tso", "off", "gso", "off", "gro", "off", check=False)
            self.run(ns, "ip", "link", "set", name, "up")

    def make_ns(self, name):
        self.run(None, "ip", "netns", "add", self.ns(name))
        self.namespaces.append(self.ns(name))
        self.run(name, "ip", "link", "set", "lo", "up")
        self.run(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")

    def up(self):
        t0 = time.monotonic()
        for name in ["ctl", "ul"] + self.nodes + ["h" + n for n in self.nodes]:
            self.make_ns(name)
        self.run("ctl", "ip", "link", "add", "br0", "type", "bridge")
        self.run("ctl", "ip", "link", "set", "br0", "up")
        self.run("ctl", "ip", "addr", "add", "198.19.0.1/24", "dev", "br0")
        for i, n in enumerate(self.nodes):
            self.veth("wan", n, f"to-{n}", "ul")
            self.veth("mgmt", n, f"m-{n}", "ctl")
            self.run("ctl", "ip", "link", "set", f"m-{n}", "master", "br0")
            self.run(n, "ip", "addr", "add", f"198.19.0.{11 + i}/24", "dev", "mgmt")
            self.veth("lan", n, "eth0", "h" + n)
            # The kernel leaves the DPDK ports' frames alone (af_packet copies them).
            self.run(n, "nft", "add", "table", "netdev", "meshgw")
            for port in ("wan", "lan"):
                self.run(n, "nft", "add", "chain", "netdev", "meshgw", f"in_{port}",
                         f"{{ type filter hook ingress device {port} priority 0; policy drop; }}")
            self.run("h" + n, "ip", "addr", "add", f"{self.host_ip(n)}/28", "dev", "eth0")
            self.run("h" + n, "ip", "route", "add", "192.0.2.0/24", "via", self.lan_ip(n))
        self.start_wanem()
        self.start_controller()
        self.start_gateways()
        return time.monotonic() - t0

    def start_wanem(self):
        lines = ["[emulator]", f'control_socket = "{self.dir}/wanem.sock"', "seed = 1"]
        for n in self.nodes:
            lines += ["[[port]]", f'name = "{n}"', f'iface = "to-{n}"']
        for link in self.topo["links"]:
            lines += ["[[link]]", f'a = "{link["a"]}"', f'b = "{link["b"]}"', f'delay_ms = {link["delay_ms"]}',
                      f'rate_mbit = {link["rate_mbit"]}', f'loss = {link["loss"]}', "queue_ms = 50"]
        path = os.path.join(self.dir, "wanem.toml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.spawn("wanem", "ul", [self.wanem, "--config", path])
        self.wait_for("wanem", lambda: self.log_says("wanem", "ready:"), 10)

    def start_controller(self):
        state = os.path.join(self.dir, "ctl")
        token = os.path.join(self.dir, "admin.token")
        self.run("ctl", self.meshctld, "init", "--state-dir", state, "--server-ip", "198.19.0.1", "--token-file", token)
        with open(os.path.join(self.dir, "meshctld.toml"), "w") as f:
            f.write(f'[controller]\nstate_dir = "{state}"\n[api]\nlisten = "198.19.0.1:8443"\n'
                    '[beacons]\nlisten = "198.19.0.1:8444"\ndown_after_ms = 2000\n')
        self.env.update(MESHCTL_SERVER="https://198.19.0.1:8443", MESHCTL_CA=os.path.join(state, "ca.pem"))
        with open(token) as f:
            self.env["MESHCTL_TOKEN"] = f.read().strip()
        self.spawn("meshctld", "ctl", [self.meshctld, "--config", os.path.join(self.dir, "meshctld.toml")])
        self.wait_for("meshctld", lambda: self.log_says("meshctld", "meshctld: ready"), 15)

    def gateway_config(self, n):
        node = self.topo["by_id"][n]
        token = os.path.join(self.dir, f"{n}.token")
        fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            # The token names the site, so the controller (meshctl gateways,
            # topology) shows which city each mesh ID serves.
            f.write(self.meshctl("tokens", "create", "--role", node["role"], "--site", n, as_json=False))
        rate_bps = int(min(l["rate_mbit"] for l in self.topo["links"] if n in (l["a"], l["b"])) * 1e6)
        return f"""[gateway]
id = "{n}"
[eal]
args = ["--no-huge", "-m", "256", "--file-prefix", "{self.tag}-{n}", "--log-level", "*:error"]
[dataplane]
worker_cpus = [1]
idle = "sleep"
idle_sleep_max_us = 1000
[stats]
listen = "127.0.0.1:0"
[controller]
url = "https://198.19.0.1:8443"
ca_file = "{self.dir}/ctl/ca.pem"
join_token_file = "{token}"
state_dir = "{self.dir}/{n}-state"
role = "{node['role']}"
beacon_interval_ms = 1000
declared_bps = {rate_bps}
latitude = {node['lat']}
longitude = {node['lon']}
# Plan as far ahead as the routing takes to act: a move waits path_hold_ms
# to 1.5 times that (path_hold_jitter spreads the gateways) after the mesh
# state, a beacon late, has shown the load; the forecast looks 10 s ahead.
# (A wider spread, 2 to 6 s, did not damp the herding on the surging link;
# the migration draw after the hold does: path_migration_rate, default 0.5.)
forecast_interval_ms = 500
forecast_horizon = 20
forecast_trend_window = 20
path_hold_ms = {self.path_hold_ms}
path_hold_jitter = {self.path_hold_jitter}
probe_interval_ms = {self.probe_interval_ms}
probe_timeout_ms = {self.probe_timeout_ms}
probe_down_after = 3
tunnel_probe_interval_ms = 1000
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet0,iface=wan,framecnt=4096,qdisc_bypass=1"
address = "{self.wan_ip(n)}/24"
mac = "{self.mac(n, 2)}"
exception_iface = "mgw0"
[[port]]
name = "lan"
role = "lan"
device = "net_af_packet1,iface=lan,framecnt=4096,qdisc_bypass=1"
address = "{self.lan_ip(n)}/28"
mac = "{self.mac(n, 1)}"
"""

    def start_gateway(self, n):
        self.spawn(n, n, [self.meshgw, "--config", os.path.join(self.dir, f"{n}.toml")])

    def start_gateways(self):
        for n in self.nodes:
            with open(os.path.join(self.dir, f"{n}.toml"), "w") as f:
                f.write(self.gateway_config(n))
            self.start_gateway(n)
        for n in self.nodes:
            self.wait_for(f"gateway {n} to start", lambda n=n: self.stats_port(n), 30)

    def stats_port(self, n):
        try:
            with open(os.path.join(self.dir, f"{n}.log"), errors="replace") as f:
                ports = [line.split("stats_port=")[1].split()[0] for line in f if line.startswith("meshgw: ready stats_port=")]
        except FileNotFoundError:
            return None
        if ports:
            self.stats_ports[n] = int(ports[-1])
            return self.stats_ports[n]
        if n in self.procs and self.procs[n].poll() is not None:
            raise LabError(f"gateway {n} exited with {self.procs[n].returncode}; see {self.dir}/{n}.log")
        return None

    def wait_joined(self, timeout=60):
        def joined():
            for n in self.nodes:
                path = os.path.join(self.dir, f"{n}-state", "identity.json")
                if n not in self.ids and os.path.exists(path):
                    with open(path) as f:
                        self.ids[n] = json.load(f)["gateway_id"]
            return len(self.ids) == len(self.nodes)
        self.wait_for("every gateway to register", joined, timeout)
        self.node_of = {v: k for k, v in self.ids.items()}
        return self.ids

    def active_path(self, src, dst):
        """The path (node names) of src's active tunnel to dst, or None."""
        peers = self.admin(src, "/v1/peers")
        if not peers:
            return None
        for t in peers.get("tunnels", []):
            if t.get("active") and t.get("egress") == self.ids[dst]:
                return [self.node_of.get(h, h) for h in t["path"]]
        return None

    def active_paths(self, src):
        """{dst: path (node names)} of src's active tunnels, from one question to src."""
        peers = self.admin(src, "/v1/peers") or {}
        return {self.node_of[t["egress"]]: [self.node_of.get(h, h) for h in t["path"]]
                for t in peers.get("tunnels", []) if t.get("active") and t.get("egress") in self.node_of}

    def all_tunnels_up(self):
        for a in self.nodes:
            for b in self.nodes:
                if a != b and not self.active_path(a, b):
                    return False
        return True

    # -- taking it down --------------------------------------------------
    def down(self):
        for name in list(self.procs):
            p = self.procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for name in list(self.procs):
            self.stop(name)
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces = []
        for n in self.nodes:
            shutil.rmtree(f"/var/run/dpdk/{self.tag}-{n}", ignore_errors=True)


def collect_counts(lab, receivers):
    """Stops demand.py receivers ({site: Popen}) and returns what each got:
    {(source site, site): per-source counts}."""
    by_ip = {lab.host_ip(n): n for n in lab.nodes}
    counts = {}
    for b, r in receivers.items():
        r.send_signal(signal.SIGINT)
        got = json.loads(r.communicate(timeout=20)[0] or '{"from": {}}')
        for src, f in got["from"].items():
            counts[(by_ip.get(src, src), b)] = f
    return counts


def leftovers(tag):
    """Namespaces of this tag still present (for the e2e check)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(tag + "-")]


def install_signal_handlers():
    """SIGINT/SIGTERM raise KeyboardInterrupt so that `finally: lab.down()` runs."""
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


if __name__ == "__main__":
    sys.exit("mesh_lab.py is a module: run scripts/lab/demo.py")
