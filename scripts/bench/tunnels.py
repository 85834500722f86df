#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""NAME
    tunnels.py - meshgw's tunnel next to the tunnels a user would pick
    instead (Nebula, wireguard-go, strongSwan's userspace ESP) and the bare
    veth path, on one machine, in network namespaces

SYNOPSIS
    scripts/bench/tunnels.py [--tools meshgw,nebula,wireguard-go,strongswan,veth]
                             [--build DIR] [--seconds S] [--json FILE]
                             [--install] [--keep] [--no-offloads] [--quiet-wait S]
                             [--udp-sender udp_pace|iperf3]
    scripts/bench/tunnels.py --help

DESCRIPTION
    For each tool, four network namespaces (named tb<pid>-<tool>-{ha,ga,gb,hb})
    are made, used and deleted:

      hostA 192.0.2.10/24 --veth-- gwA [198.18.0.1/24] --veth-- [198.18.0.2/24] gwB --veth-- hostB 198.51.100.20/24
            (lan 192.0.2.1)                  underlay                  (lan 198.51.100.1)

    The gateways carry the sites' traffic through the tool's tunnel over the
    one underlay veth. Only 198.18.0.0/15 (underlay and overlay addresses),
    192.0.2.0/24 and 198.51.100.0/24 are used; no route leaves the machine.
    Side A (gwA's tunnel process and the traffic tool in hostA) is pinned to
    CPU 0 with taskset, side B (gwB and hostB) to CPU 1: each gateway shares
    its core with its site's endpoint, as on a small box.

    meshgw      build/controlplane/agent/meshgw with a static configuration
                (no controller): net_af_packet ports on the lan and wan veths
                (framecnt=4096, qdisc_bypass=1: its frames skip the veth's
                qdisc; no kernel address), one [[tunnel]] each way
                (path [gwA, gwB], next_hop the peer's underlay address, keys
                from `meshctl esp keygen`), a [[route]] to the other site,
                main_cpu and worker_cpus on the side's CPU, idle = "sleep",
                a --file-prefix per process; nft netdev ingress chains drop
                what af_packet has copied, so the gateway's kernel does not
                process the frames too. ESP AES-256-GCM in UDP 4500, tunnel
                MTU 1400 (meshgw clamps the TCP MSS to it). af_packet hands
                frames over as they are, so every veth has TX checksum, TSO,
                GSO and GRO off (as in tests/e2e/netns_lib.sh).
    nebula      Debian's nebula, cipher: aes (AES-256-GCM), a CA and one
                certificate per gateway made by nebula-cert (overlay
                198.19.0.1/24 and .2, each with its site as a subnet), static
                host map, no lighthouse, unsafe_routes to the other site,
                firewall allowing everything, tun.mtu 1400, listen.read_buffer
                and write_buffer 4 MiB (Nebula's own knob; wireguard-go and
                charon have none and get the kernel's default, 208 KiB here).
    wireguard-go
                wireguard-go (WG_PROCESS_FOREGROUND=1) configured by `wg
                setconf` (keys from wg genkey), overlay 198.19.1.1/24 and .2,
                AllowedIPs the other site, interface MTU 1400.
    strongswan  charon (/usr/lib/ipsec/charon) with the kernel-libipsec
                plugin for the data path (ESP in userspace, through a TUN
                device, ipsec0) and kernel-netlink for routes and addresses;
                one charon per gateway namespace, each with its own
                strongswan.conf (STRONGSWAN_CONF), vici socket and a private
                /run (for its pid file); swanctl loads a PSK connection, IKE
                aes256gcm16-prfsha256-x25519, ESP aes256gcm16, encap = yes
                (forced UDP encapsulation, port 4500), tunnel mode between
                the two sites, and gwA initiates. The TUN MTU is libipsec's
                own 1400.
    veth        no tunnel: the gateways are plain Linux routers
                (ip_forward=1); the kernel's forwarding path alone.

    Every TUN device (nebula1, the wireguard-go interface, ipsec0) queues
    4096 packets for its reader (Nebula's tun.tx_queue, ip link txqueuelen
    for the others; the default 500 overflows under load and costs TCP
    retransmissions), as many as a meshgw af_packet ring holds. The tunnel
    tools other than meshgw run on veths with the kernel's default offloads
    (what a user would have); --no-offloads turns them off for every tool,
    as meshgw needs.

MEASUREMENTS
    tcp_gbps    one TCP stream hostA -> hostB, iperf3 -c (CPU 0) to an
                iperf3 -s in hostB (CPU 1), for --seconds; Gbit/s of payload
                the receiver counted.
    udp64_kpps_loss_free, udp1400_kpps_loss_free
                the highest rate of UDP datagrams hostA -> hostB received
                with under 1 % loss, at Ethernet FRAME sizes of 64 and 1400
                bytes including the 4-byte FCS, i.e. UDP payloads of 18 and
                1354 bytes (IP packets of 46 and 1382 bytes, under every
                tunnel's MTU). The sender is udp_pace (scripts/bench/
                udp_pace.cpp, built with meshgw as build/scripts/bench/
                udp_pace): it wakes every 100 us (clock_nanosleep to an
                absolute time, no busy loop: the tunnel process on its core
                gets the rest) and sends the datagrams owed since the start
                with sendmmsg, 32 at most per call, as whole frames on an
                AF_PACKET socket past the qdisc to hostA's gateway's MAC
                (IPv4, UDP without checksum): hostA's own UDP and IP
                stack, through which even the bare veth path stopped at
                about 156 kpps here, are not in the measurement; its
                receiver in hostB counts distinct sequence numbers with
                recvmmsg on a UDP socket. iperf3 -u
                (--udp-sender iperf3, or when udp_pace is not built) costs
                its sender a few microseconds a datagram and stops near
                100 kpps at 64 bytes on this kind of machine (-b RATE/BURST
                --pacing-timer 100, BURST about one tick's worth). Neither
                floods: a flooding sender on the same core starves the
                tunnel. The search doubles the
                offered rate from 20 kpps while the loss stays under 1 %,
                then bisects 3 times between the last rate that passed and
                the first that failed; a rate
                fails when two trials in a row lose 1 % or more; each trial
                lasts --seconds / 3 (at least 1 s). Loss is 1 - received /
                sent: what the sender sent against what the receiver counted
                (iperf3: its datagrams less the holes in the sequence), so
                datagrams still queued when the trial ends count as lost,
                and a rate that only fills buffers does not pass. The figure
                is the rate received in the best passing trial (kpps). When
                the sender cannot send what was asked (its core is full), the search stops
                there and udp*_limited_by says "sender".
    cpu_s_per_gb
                CPU seconds of the tunnel processes (both gateways' meshgw,
                nebula, wireguard-go or charon: utime + stime from
                /proc/PID/stat) during the TCP run, per GB (10^9 bytes) of
                payload carried. For veth, which has no process, the
                machine's CPU time from /proc/stat (user, nice, system, irq,
                softirq). cpu_system_s_per_gb is that machine-wide figure for
                every tool (it includes iperf3 and the hosts' kernels). With
                tick-based accounting (Debian's kernels) a softirq is charged
                to the process it interrupts, so a tunnel process's time
                includes kernel work done in its context: a TUN write or an
                af_packet sendto() on a veth delivers the packet through the
                peer namespace's stack there and then (for meshgw, into the
                other gateway's af_packet ring and, on the lan side, into the
                host's TCP stack, which may send the next segments).
    ratio_meshgw_vs_tool_tcp, ratio_meshgw_vs_tool_udp64
                meshgw's figure divided by the tool's, in each tool's row and
                as ratio_meshgw_vs_<tool> rows of the table (when meshgw ran).

OPTIONS
    --tools LIST     comma-separated, from meshgw, nebula, wireguard-go,
                     strongswan, veth (default: all, in that order)
    --build DIR      meshgw's build tree (default $MESHGW_BUILD or
                     build/ of this checkout)
    --seconds S      length of the TCP run (default 6); UDP trials last S/3
    --json FILE      write the rows as a JSON array
    --install        install missing tools with apt-get install -y
                     --no-install-recommends (otherwise a missing tool is
                     skipped with a message and has no row)
    --keep           keep the work directory (configs, keys, logs)
    --no-offloads    turn TX checksum/TSO/GSO/GRO off on every veth for every
                     tool (meshgw always has them off)
    --udp-sender udp_pace|iperf3
                     the UDP trials' sender and receiver (default udp_pace)
    --quiet-wait S   before each tool, wait up to S seconds (default 0) for
                     the machine to be under 15 % busy with other work
    --help           this page

OUTPUT
    A table on stdout, one row per tool that ran, then the ratio rows. The
    JSON array has one object per tool: tool, version, seconds,
    udp_trial_seconds, udp_sender, tunnel_mtu_bytes, offloads, tcp_gbps, tcp_bytes,
    udp64_kpps_loss_free, udp64_loss_percent, udp64_limited_by,
    udp1400_kpps_loss_free, udp1400_loss_percent, udp1400_limited_by,
    udp64_udp_payload_bytes, udp1400_udp_payload_bytes,
    udp_frame_bytes_include_fcs (true), cpu_s_per_gb, cpu_system_s_per_gb,
    cpu_source ("processes" or "system"), tcp_retransmits,
    background_cpu_percent (how busy the machine was, with nothing of ours
    running, in the second before the tool was set up), others_cpu_percent
    and others_cpu_percent_tcp (the share of the machine that other work
    took while the tool was measured, and during its TCP run: the
    machine's busy time less that of our processes, the children we reaped
    and the ksoftirqd threads), all in percent of all CPUs; other work
    lowers every figure, and a warning is printed above 15 %; meshgw_drops
    (meshgw's non-zero drop counters, per gateway) and, when meshgw ran,
    ratio_meshgw_vs_tool_tcp and ratio_meshgw_vs_tool_udp64. Then one
    object per ratio_meshgw_vs_<tool> row (tool, ratio_tcp, ratio_udp64;
    a "-" in a tool's name becomes "_": ratio_meshgw_vs_wireguard_go).

PACKAGES
    iperf3 (all); nebula; wireguard-go, wireguard-tools; strongswan,
    strongswan-swanctl, libcharon-extra-plugins (kernel-libipsec),
    libstrongswan-standard-plugins (openssl, gcm); nftables and ethtool
    for meshgw.

NOTES
    Needs root. Every process and namespace it starts is stopped and deleted
    at the end, on an error and on Ctrl-C (SIGINT/SIGTERM), and the script
    checks that none of its namespaces is left. Figures vary from run to
    run on a shared VM: compare the figures of one run.

    On veths every tool pays for the kernel around it. meshgw's worker,
    profiled with perf during the TCP run, spends about 3/4 of CPU 0 inside
    its af_packet sendto() (the peer namespace's receive path: af_packet
    fanout and ring copies, the nft drop chain, the host's TCP), its own
    code and AES-GCM a few percent; the framecnt (1024 to 16384),
    qdisc_bypass, idle = "poll" and a 1438-byte tunnel MTU moved its TCP
    figure by no more than the run-to-run spread. Nebula, wireguard-go and
    charon are bound by their process's share of the core: their TCP
    losses are at the TUN queue (nebula, with the default 500) or the
    receiving gateway's UDP socket (wireguard-go, charon: 208 KiB).

EXIT STATUS
    0 every requested tool that is installed ran; 1 a tool failed to set up
    or measure (the others still run), iperf3 is missing, or namespaces were
    left; 2 bad command line or not root; 130 interrupted (after cleaning
    up).
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
TOOLS = ["meshgw", "nebula", "wireguard-go", "strongswan", "veth"]

HOST_A, GW_A_LAN, SITE_A = "192.0.2.10", "192.0.2.1", "192.0.2.0/24"
HOST_B, GW_B_LAN, SITE_B = "198.51.100.20", "198.51.100.1", "198.51.100.0/24"
UL_A, UL_B = "198.18.0.1", "198.18.0.2"
CPU_A, CPU_B = 0, 1
TUNNEL_MTU = 1400
FCS, ETH, IP, UDP = 4, 14, 20, 8
FRAMES = {"udp64": 64, "udp1400": 1400}
LOSS_LIMIT = 1.0        # percent
START_KPPS = 20
MAX_KPPS = 2560
BISECTIONS = 3
PACING_US = 100
BUSY_PERCENT = 15        # other work above this share of the machine: warn
TUN_QUEUE = 4096         # packets the kernel queues for a TUN reader, as meshgw's af_packet rings
SOCKET_BUFFER = 4 << 20  # UDP socket buffers where a tool lets one set them

# What each tool needs on disk, and the Debian packages that provide it.
NEEDS = {
    "meshgw": ([shutil.which("nft") or "/usr/sbin/nft", shutil.which("ethtool") or "/usr/sbin/ethtool"],
               ["nftables", "ethtool"]),
    "nebula": (["/usr/bin/nebula", "/usr/bin/nebula-cert"], ["nebula"]),
    "wireguard-go": (["/usr/bin/wireguard-go", "/usr/bin/wg"], ["wireguard-go", "wireguard-tools"]),
    "strongswan": (["/usr/lib/ipsec/charon", "/usr/sbin/swanctl",
                    "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so",
                    "/usr/lib/ipsec/plugins/libstrongswan-kernel-netlink.so",
                    "/usr/lib/ipsec/plugins/libstrongswan-openssl.so",
                    "/usr/lib/ipsec/plugins/libstrongswan-vici.so"],
                   ["strongswan", "strongswan-swanctl", "libcharon-extra-plugins",
                    "libstrongswan-standard-plugins"]),
    "veth": ([], []),
}
VERSION_PACKAGE = {"nebula": "nebula", "wireguard-go": "wireguard-go", "strongswan": "strongswan-charon",
                   "veth": None, "meshgw": None}


class Failed(Exception):
    pass


def log(msg):
    print(f"tunnels: {msg}", flush=True)


def run(argv, check=True, timeout=60, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise Failed(f"{' '.join(argv)} exited with {p.returncode}: {p.stdout.strip()[-600:]}")
    return p.stdout


def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def background_cpu_percent(seconds=1.0):
    """How busy the machine is with nothing of ours running (percent of all
    CPUs): other users' load makes every figure lower."""
    a = system_cpu_s()
    time.sleep(seconds)
    return 100.0 * (system_cpu_s() - a) / (seconds * os.cpu_count())


def system_cpu_s():
    """The machine's busy CPU time (user, nice, system, irq, softirq; not
    idle, iowait or steal), in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def ksoftirqd_pids():
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().startswith("ksoftirqd/"):
                    pids.append(int(pid))
        except (OSError, ValueError):
            pass
    return pids


class CpuMeter:
    """CPU time over an interval: the machine's, the tunnel processes', and
    everyone else's: the machine's less ours (our live processes, the
    children we have reaped, this script, and the ksoftirqd threads, busy
    with our packets). With tick-based accounting (no IRQ_TIME_ACCOUNTING,
    Debian's default) a softirq is charged to the process it interrupted:
    the tunnel processes' time includes the kernel's packet work they
    trigger or host."""

    def __init__(self, bench):
        self.bench = bench
        self.softirqd = ksoftirqd_pids()
        self.t0 = time.monotonic()
        self.start = self.snap()

    def snap(self):
        live = sum(proc_cpu_s(p.pid) for _, p in self.bench.procs if p.poll() is None)
        kids, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        ours = (live + kids.ru_utime + kids.ru_stime + me.ru_utime + me.ru_stime +
                sum(proc_cpu_s(pid) for pid in self.softirqd))
        return {"system": system_cpu_s(), "ours": ours,
                "tunnel": sum(proc_cpu_s(pid) for pid in self.bench.tunnel_pids)}

    def stop(self):
        end = self.snap()
        d = {k: end[k] - self.start[k] for k in end}
        elapsed = time.monotonic() - self.t0
        others = max(0.0, d["system"] - d["ours"])
        return {"system_s": d["system"], "tunnel_s": d["tunnel"], "others_s": others,
                "others_percent": 100.0 * others / (elapsed * os.cpu_count()) if elapsed > 0 else 0.0}


class Bench:
    """One tool's namespaces, processes and files; stop() undoes them all."""

    def __init__(self, tag, tool, workdir, offloads):
        self.tool = tool
        short = {"wireguard-go": "wg", "strongswan": "sw", "meshgw": "mg", "nebula": "nb", "veth": "ve"}[tool]
        self.prefix = f"{tag}-{short}"
        self.ns = {k: f"{self.prefix}-{k}" for k in ("ha", "ga", "gb", "hb")}
        self.dir = os.path.join(workdir, tool)
        os.makedirs(self.dir, exist_ok=True)
        self.offloads = offloads
        self.procs = []          # (name, Popen)
        self.tunnel_pids = []
        self.made = []
        self.cleanup_paths = []
        self.iperf = None
        self.pacer = None        # udp_pace's path: the UDP trials use it instead of iperf3 -u
        self.next_hop_mac = None  # hostA's gateway, where udp_pace addresses its frames

    # ---- processes and namespaces
    def path(self, name):
        return os.path.join(self.dir, name)

    def nsx(self, key, argv, check=True, timeout=60):
        return run(["ip", "netns", "exec", self.ns[key]] + argv, check=check, timeout=timeout)

    def spawn(self, name, key, argv, cpu=None, env=None):
        cmd = ["ip", "netns", "exec", self.ns[key]]
        if env:
            cmd += ["env"] + [f"{k}={v}" for k, v in env.items()]
        if cpu is not None:
            cmd += ["taskset", "-c", str(cpu)]
        cmd += argv
        logf = open(self.path(f"{name}.log"), "ab")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True)
        logf.close()
        self.procs.append((name, p))
        return p

    def stop_proc(self, name, p, wait=5.0):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)

    def log_tail(self, name, n=15):
        try:
            with open(self.path(f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def make_namespaces(self):
        for ns in self.ns.values():
            run(["ip", "netns", "add", ns])
            self.made.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                 "net.ipv6.conf.default.disable_ipv6=1"])

    def veth(self, a_name, a_key, b_name, b_key, offloads):
        run(["ip", "link", "add", a_name, "netns", self.ns[a_key], "type", "veth",
             "peer", "name", b_name, "netns", self.ns[b_key]])
        for key, dev in ((a_key, a_name), (b_key, b_name)):
            if not offloads:
                self.nsx(key, ["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"],
                         check=False)
            run(["ip", "-n", self.ns[key], "link", "set", dev, "up"])

    def topology(self, kernel_gateways):
        """The four namespaces and three veths; addresses on the hosts, and on
        the gateways unless meshgw owns their ports."""
        self.make_namespaces()
        offloads = self.offloads and self.tool != "meshgw"
        self.veth("eth0", "ha", "lan", "ga", offloads)
        self.veth("wan", "ga", "wan", "gb", offloads)
        self.veth("lan", "gb", "eth0", "hb", offloads)
        ip = lambda key, *a: run(["ip", "-n", self.ns[key]] + list(a))
        ip("ha", "addr", "add", f"{HOST_A}/24", "dev", "eth0")
        ip("ha", "route", "add", SITE_B, "via", GW_A_LAN)
        ip("hb", "addr", "add", f"{HOST_B}/24", "dev", "eth0")
        ip("hb", "route", "add", SITE_A, "via", GW_B_LAN)
        if kernel_gateways:
            ip("ga", "addr", "add", f"{GW_A_LAN}/24", "dev", "lan")
            ip("ga", "addr", "add", f"{UL_A}/24", "dev", "wan")
            ip("gb", "addr", "add", f"{GW_B_LAN}/24", "dev", "lan")
            ip("gb", "addr", "add", f"{UL_B}/24", "dev", "wan")
            for key in ("ga", "gb"):
                self.nsx(key, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])

    def wait_path(self, seconds=20):
        """Until hostA reaches hostB (the tunnel is up, ARP done)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name, p in self.procs:
                if p.poll() is not None and name in self.daemons:
                    raise Failed(f"{name} exited ({p.returncode}):\n{self.log_tail(name)}")
            if self.nsx("ha", ["ping", "-c", "1", "-W", "1", HOST_B], check=False).find(" 0% packet loss") >= 0:
                self.nsx("ha", ["ping", "-c", "5", "-i", "0.05", "-W", "1", HOST_B], check=False)
                return
        raise Failed("hostA cannot reach hostB through the tunnel:\n" +
                     "\n".join(f"== {n}\n{self.log_tail(n)}" for n in self.daemons))

    def stop(self):
        for name, p in reversed(self.procs):
            try:
                self.stop_proc(name, p)
            except Exception as e:  # keep cleaning up
                log(f"stopping {name}: {e}")
        self.procs = []
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.made = []
        for path in self.cleanup_paths:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)

    # ---- the tools
    daemons = ()

    def setup(self, build):
        getattr(self, "setup_" + self.tool.replace("-", "_"))(build)
        self.wait_path()

    def setup_veth(self, build):
        self.topology(kernel_gateways=True)
        run(["ip", "-n", self.ns["ga"], "route", "add", SITE_B, "via", UL_B])
        run(["ip", "-n", self.ns["gb"], "route", "add", SITE_A, "via", UL_A])

    def setup_meshgw(self, build):
        meshgw = os.path.join(build, "controlplane", "agent", "meshgw")
        meshctl = os.path.join(build, "controlplane", "cli", "meshctl")
        for exe in (meshgw, meshctl):
            if not os.access(exe, os.X_OK):
                raise Failed(f"{exe} not found (build meshgw, or give --build)")
        self.topology(kernel_gateways=False)
        for key in ("ga", "gb"):
            self.nsx(key, ["nft", "add", "table", "netdev", "meshgw"])
            for dev in ("lan", "wan"):
                self.nsx(key, ["nft", "add", "chain", "netdev", "meshgw", f"in_{dev}",
                               f"{{ type filter hook ingress device {dev} priority 0; policy drop; }}"])
        run([meshctl, "esp", "keygen", "--out", self.path("ab.key")])
        run([meshctl, "esp", "keygen", "--out", self.path("ba.key")])
        sides = {
            "ga": ("gw-a", CPU_A, GW_A_LAN, UL_A, "0a", "gw-b", UL_B, 0x1001, "ab.key", 0x2001, "ba.key", SITE_B),
            "gb": ("gw-b", CPU_B, GW_B_LAN, UL_B, "0b", "gw-a", UL_A, 0x2001, "ba.key", 0x1001, "ab.key", SITE_A),
        }
        for key, (gid, cpu, lan, wan, m, peer, peer_ul, out_spi, out_key, in_spi, in_key, remote) in sides.items():
            fp = f"{self.prefix}-{gid}"
            self.cleanup_paths.append(f"/var/run/dpdk/{fp}")
            cfg = f"""[gateway]
id = "{gid}"
[eal]
args = ["--no-huge", "-m", "256", "--file-prefix", "{fp}", "--log-level", "*:error"]
[dataplane]
main_cpu = {cpu}
worker_cpus = [{cpu}]
idle = "sleep"
[stats]
listen = "127.0.0.1:0"
[[port]]
name = "lan"
role = "lan"
device = "net_af_packet0,iface=lan,framecnt=4096,qdisc_bypass=1"
address = "{lan}/24"
mac = "02:00:00:00:{m}:01"
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet1,iface=wan,framecnt=4096,qdisc_bypass=1"
address = "{wan}/24"
mac = "02:00:00:00:{m}:02"
[[tunnel]]
id = "{gid}-{peer}"
egress = "{peer}"
path = ["{gid}", "{peer}"]
next_hop = "{peer_ul}"
out_spi = {out_spi:#x}
out_key_file = "{self.path(out_key)}"
in_spi = {in_spi:#x}
in_key_file = "{self.path(in_key)}"
remote_sites = ["{remote}"]
mtu = {TUNNEL_MTU}
[[route]]
prefix = "{remote}"
egress = "{peer}"
"""
            with open(self.path(f"{gid}.toml"), "w") as f:
                f.write(cfg)
        self.daemons = ("gw-a", "gw-b")
        for key, side in sides.items():
            gid = side[0]
            # taskset too: the EAL's own threads (interrupts, telemetry)
            # stay on the side's CPU.
            p = self.spawn(gid, key, [meshgw, "--config", self.path(f"{gid}.toml")], cpu=side[1])
            end = time.monotonic() + 20
            while "meshgw: ready" not in self.log_tail(gid, 50):
                if p.poll() is not None or time.monotonic() > end:
                    raise Failed(f"{gid} did not start:\n{self.log_tail(gid)}")
                time.sleep(0.1)
            self.tunnel_pids.append(p.pid)

    def meshgw_stats(self):
        out = {}
        for key, gid in (("ga", "gw-a"), ("gb", "gw-b")):
            m = re.search(r"meshgw: ready stats_port=(\d+)", self.log_tail(gid, 200))
            if not m:
                continue
            code = (f"import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("
                    f"'http://127.0.0.1:{m.group(1)}/v1/stats', timeout=5).read().decode())")
            try:
                out[gid] = json.loads(self.nsx(key, ["/usr/bin/python3", "-c", code], timeout=15))
            except (Failed, ValueError, subprocess.TimeoutExpired):
                pass
        return out

    def setup_nebula(self, build):
        self.topology(kernel_gateways=True)
        d = self.dir
        run(["nebula-cert", "ca", "-name", f"{self.prefix}-ca", "-duration", "24h",
             "-out-crt", f"{d}/ca.crt", "-out-key", f"{d}/ca.key"])
        sides = {"ga": ("gwa", "198.19.0.1", SITE_A, "198.19.0.2", UL_B, UL_A, SITE_B, CPU_A),
                 "gb": ("gwb", "198.19.0.2", SITE_B, "198.19.0.1", UL_A, UL_B, SITE_A, CPU_B)}
        self.daemons = ("nebula-gwa", "nebula-gwb")
        for key, (name, ip, site, peer_ip, peer_ul, my_ul, remote, cpu) in sides.items():
            run(["nebula-cert", "sign", "-ca-crt", f"{d}/ca.crt", "-ca-key", f"{d}/ca.key", "-name", name,
                 "-ip", f"{ip}/24", "-subnets", site, "-duration", "23h",
                 "-out-crt", f"{d}/{name}.crt", "-out-key", f"{d}/{name}.key"])
            cfg = {
                "pki": {"ca": f"{d}/ca.crt", "cert": f"{d}/{name}.crt", "key": f"{d}/{name}.key"},
                "static_host_map": {peer_ip: [f"{peer_ul}:4242"]},
                "lighthouse": {"am_lighthouse": False, "interval": 60, "hosts": []},
                "listen": {"host": my_ul, "port": 4242, "read_buffer": SOCKET_BUFFER,
                           "write_buffer": SOCKET_BUFFER},
                "punchy": {"punch": False},
                "cipher": "aes",
                "tun": {"disabled": False, "dev": "nebula1", "mtu": TUNNEL_MTU, "tx_queue": TUN_QUEUE,
                        "unsafe_routes": [{"route": remote, "via": peer_ip}]},
                "logging": {"level": "info", "format": "text"},
                "firewall": {"outbound": [{"port": "any", "proto": "any", "host": "any"}],
                             "inbound": [{"port": "any", "proto": "any", "host": "any"}]},
            }
            with open(f"{d}/{name}.yml", "w") as f:  # JSON is YAML
                json.dump(cfg, f, indent=1)
        for f in os.listdir(d):
            if f.endswith(".key"):
                os.chmod(os.path.join(d, f), 0o600)
        for key, side in sides.items():
            p = self.spawn(f"nebula-{side[0]}", key, ["nebula", "-config", f"{d}/{side[0]}.yml"], cpu=side[7])
            self.tunnel_pids.append(p.pid)
        time.sleep(1)

    def setup_wireguard_go(self, build):
        self.topology(kernel_gateways=True)
        tag = self.prefix.split("-")[0]
        ifs = {"ga": f"{tag}a", "gb": f"{tag}b"}
        for name in ifs.values():
            self.cleanup_paths.append(f"/var/run/wireguard/{name}.sock")
        keys = {}
        for key in ifs:
            priv = run(["wg", "genkey"]).strip()
            pub = subprocess.run(["wg", "pubkey"], input=priv, capture_output=True, text=True, check=True).stdout.strip()
            keys[key] = (priv, pub)
            with open(self.path(f"{key}.key"), "w") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(priv + "\n")
        sides = {"ga": ("gb", "198.19.1.1", UL_B, SITE_B, "198.19.1.2", CPU_A),
                 "gb": ("ga", "198.19.1.2", UL_A, SITE_A, "198.19.1.1", CPU_B)}
        self.daemons = tuple(f"wireguard-go-{k}" for k in ifs)
        for key, (peer, ip, peer_ul, remote, peer_ip, cpu) in sides.items():
            dev = ifs[key]
            p = self.spawn(f"wireguard-go-{key}", key, ["wireguard-go", dev], cpu=cpu,
                           env={"WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error"})
            self.tunnel_pids.append(p.pid)
            end = time.monotonic() + 10
            while not os.path.exists(f"/var/run/wireguard/{dev}.sock"):
                if p.poll() is not None or time.monotonic() > end:
                    raise Failed(f"wireguard-go did not start:\n{self.log_tail(f'wireguard-go-{key}')}")
                time.sleep(0.1)
            conf = self.path(f"{key}.conf")
            with open(conf, "w") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(f"[Interface]\nPrivateKey = {keys[key][0]}\nListenPort = 51820\n\n"
                        f"[Peer]\nPublicKey = {keys[peer][1]}\nEndpoint = {peer_ul}:51820\n"
                        f"AllowedIPs = {remote}, {peer_ip}/32\n")
            self.nsx(key, ["wg", "setconf", dev, conf])
            self.nsx(key, ["ip", "addr", "add", f"{ip}/24", "dev", dev])
            self.nsx(key, ["ip", "link", "set", dev, "mtu", str(TUNNEL_MTU), "txqueuelen", str(TUN_QUEUE), "up"])
            self.nsx(key, ["ip", "route", "add", remote, "dev", dev])

    def setup_strongswan(self, build):
        self.topology(kernel_gateways=True)
        d = self.dir
        psk = os.urandom(24).hex()
        sides = {"ga": ("gwa", "gwb", UL_A, UL_B, SITE_A, SITE_B, CPU_A),
                 "gb": ("gwb", "gwa", UL_B, UL_A, SITE_B, SITE_A, CPU_B)}
        self.daemons = ("charon-gwa", "charon-gwb")
        for key, (me, peer, my_ul, peer_ul, my_site, remote, cpu) in sides.items():
            vici = f"{d}/{me}.vici"
            with open(f"{d}/{me}.strongswan.conf", "w") as f:
                f.write(f"""charon {{
    load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
    port = 500
    port_nat_t = 4500
    install_routes = yes
    install_virtual_ip = no
    plugins {{
        vici {{
            socket = unix://{vici}
        }}
        socket-default {{
            use_ipv6 = no
        }}
    }}
    filelog {{
        log {{
            path = {d}/charon-{me}.file.log
            default = 1
            ike = 1
            time_format = %T
        }}
    }}
    syslog {{
        daemon {{
            default = -1
        }}
    }}
}}
swanctl {{
    load = random openssl pem pkcs1 x509 pubkey
}}
""")
            with open(f"{d}/{me}.swanctl.conf", "w") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(f"""connections {{
    tb {{
        version = 2
        local_addrs = {my_ul}
        remote_addrs = {peer_ul}
        encap = yes
        proposals = aes256gcm16-prfsha256-x25519
        local {{
            auth = psk
            id = {me}
        }}
        remote {{
            auth = psk
            id = {peer}
        }}
        children {{
            tb {{
                mode = tunnel
                local_ts = {my_site}
                remote_ts = {remote}
                esp_proposals = aes256gcm16
                start_action = none
            }}
        }}
    }}
}}
secrets {{
    ike-tb {{
        id-a = {me}
        id-b = {peer}
        secret = 0x{psk}
    }}
}}
""")
            # A private /run for charon's pid file (/var/run/charon.pid is
            # compiled in), so two charons can run; ip netns exec has already
            # given the command its own mount namespace.
            p = self.spawn(f"charon-{me}", key,
                           ["sh", "-c", f"mount -t tmpfs tmpfs /run && exec taskset -c {cpu} /usr/lib/ipsec/charon"],
                           env={"STRONGSWAN_CONF": f"{d}/{me}.strongswan.conf"})
            self.tunnel_pids.append(p.pid)
        for key, side in sides.items():
            me = side[0]
            end = time.monotonic() + 15
            while not os.path.exists(f"{d}/{me}.vici"):
                p = dict(self.procs)[f"charon-{me}"]
                if p.poll() is not None or time.monotonic() > end:
                    raise Failed(f"charon-{me} did not start:\n{self.log_tail(f'charon-{me}')}")
                time.sleep(0.1)
            self.nsx(key, ["env", f"STRONGSWAN_CONF={d}/{me}.strongswan.conf", "swanctl", "--load-all",
                           "--noprompt", "--file", f"{d}/{me}.swanctl.conf", "--uri", f"unix://{d}/{me}.vici"])
        out = self.nsx("ga", ["env", f"STRONGSWAN_CONF={d}/gwa.strongswan.conf", "swanctl", "--initiate",
                              "--child", "tb", "--timeout", "15", "--uri", f"unix://{d}/gwa.vici"],
                       check=False, timeout=30)
        if "successfully" not in out:
            raise Failed(f"swanctl --initiate failed:\n{out[-1500:]}")
        for key in sides:
            self.nsx(key, ["ip", "link", "set", "ipsec0", "txqueuelen", str(TUN_QUEUE)])

    # ---- measurements
    def iperf_server(self):
        if self.iperf is not None and self.iperf.poll() is None:
            return
        self.iperf = self.spawn("iperf3-server", "hb", ["iperf3", "-s", "-B", HOST_B, "--forceflush"], cpu=CPU_B)
        end = time.monotonic() + 5
        while "Server listening" not in self.log_tail("iperf3-server", 5):
            if self.iperf.poll() is not None or time.monotonic() > end:
                raise Failed(f"iperf3 -s did not start:\n{self.log_tail('iperf3-server')}")
            time.sleep(0.05)

    def iperf_restart(self):
        if self.iperf is not None:
            self.stop_proc("iperf3-server", self.iperf)
            self.procs = [(n, p) for n, p in self.procs if p is not self.iperf]
            self.iperf = None
        self.iperf_server()

    def iperf_client(self, extra, seconds):
        self.iperf_server()
        argv = ["ip", "netns", "exec", self.ns["ha"], "taskset", "-c", str(CPU_A),
                "iperf3", "-c", HOST_B, "-B", HOST_A, "-J", "-t", f"{seconds:g}", "--connect-timeout", "3000"] + extra
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.procs.append(("iperf3-client", p))
        try:
            out, err = p.communicate(timeout=seconds + 15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            self.iperf_restart()
            raise Failed(f"iperf3 {' '.join(extra)} did not finish")
        finally:
            self.procs = [(n, q) for n, q in self.procs if q is not p]
        try:
            res = json.loads(out)
        except ValueError:
            self.iperf_restart()
            raise Failed(f"iperf3 gave no JSON: {out[-300:]} {err[-300:]}")
        if "error" in res:
            self.iperf_restart()
            raise Failed(f"iperf3: {res['error']}")
        return res

    def tcp(self, seconds):
        self.iperf_server()
        meter = CpuMeter(self)
        res = self.iperf_client([], seconds)
        cpu = meter.stop()
        recv = res["end"]["sum_received"]
        gb = recv["bytes"] / 1e9
        return {"tcp_gbps": recv["bits_per_second"] / 1e9, "tcp_bytes": recv["bytes"],
                "tcp_retransmits": res["end"]["sum_sent"].get("retransmits"),
                "cpu_process_s": cpu["tunnel_s"], "cpu_system_s": cpu["system_s"], "gb": gb,
                "others_percent": cpu["others_percent"]}

    def udp_trial(self, frame, kpps, seconds):
        if self.pacer:
            return self.pace_trial(frame, kpps, seconds)
        return self.iperf_trial(frame, kpps, seconds)

    def pace_trial(self, frame, kpps, seconds):
        """One trial with udp_pace: its receiver in hostB (CPU 1), then its
        sender in hostA (CPU 0); sent against distinct datagrams received."""
        payload = frame - FCS - ETH - IP - UDP
        port = 5301
        if self.next_hop_mac is None:
            # hostA's gateway as its neighbour table has it (wait_path pinged through it).
            neigh = json.loads(self.nsx("ha", ["ip", "-j", "neigh", "show", GW_A_LAN]) or "[]")
            macs = [n.get("lladdr") for n in neigh if n.get("lladdr")]
            if not macs:
                raise Failed(f"hostA has no neighbour entry for its gateway {GW_A_LAN}")
            self.next_hop_mac = macs[0]
        recv = subprocess.Popen(["ip", "netns", "exec", self.ns["hb"], "taskset", "-c", str(CPU_B), self.pacer,
                                 "recv", "--bind", f"{HOST_B}:{port}", "--seconds", f"{seconds + 5:g}",
                                 "--idle-ms", "700"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.procs.append(("udp_pace-recv", recv))
        try:
            time.sleep(0.2)  # bound before the first datagram
            sent_json = run(["ip", "netns", "exec", self.ns["ha"], "taskset", "-c", str(CPU_A), self.pacer, "send",
                        "--src", HOST_A, "--dst", f"{HOST_B}:{port}", "--bytes", str(payload),
                        "--pps", f"{kpps * 1000:g}", "--seconds", f"{seconds:g}",
                        "--iface", "eth0", "--dst-mac", self.next_hop_mac], timeout=seconds + 15)
            out, err = recv.communicate(timeout=seconds + 15)
        except subprocess.TimeoutExpired:
            os.killpg(recv.pid, signal.SIGKILL)
            recv.wait()
            raise Failed("udp_pace did not finish")
        finally:
            self.procs = [(n, q) for n, q in self.procs if q is not recv]
        try:
            tx, rx = json.loads(sent_json), json.loads(out)
        except ValueError:
            raise Failed(f"udp_pace gave no JSON: {sent_json[-300:]} {out[-300:]} {err[-300:]}")
        secs = tx["seconds"] or seconds
        sent, received = tx["sent"], rx["received"]
        return {"offered_kpps": kpps, "sent_kpps": sent / secs / 1000, "received_kpps": received / secs / 1000,
                "loss_percent": max(0.0, 100.0 * (sent - received) / sent) if sent else 100.0}

    def iperf_trial(self, frame, kpps, seconds):
        payload = frame - FCS - ETH - IP - UDP
        bps = int(kpps * 1000 * payload * 8)
        # -b RATE/BURST: BURST datagrams per turn of iperf3's loop, about
        # what one 100 us pacing tick allows at RATE (no select() between
        # datagrams, which costs the sender more than the send).
        burst = max(1, min(32, round(kpps * 1000 * PACING_US / 1e6)))
        res = None
        for attempt in range(2):
            try:
                res = self.iperf_client(["-u", "-l", str(payload), "-b", f"{bps}/{burst}",
                                         "--pacing-timer", str(PACING_US), "-w", "4M"], seconds)
                break
            except Failed:
                if attempt:
                    raise
        # Sent: what the client wrote; received: what the server counted
        # (its packets less the holes in the sequence). A datagram still
        # queued somewhere when the test ends counts as lost: a rate that
        # only fills buffers is not carried.
        end = res["end"]
        tx, rx = end.get("sum_sent", end["sum"]), end.get("sum_received", end["sum"])
        secs = tx.get("seconds") or seconds
        sent = tx["packets"]
        received = max(0, rx["packets"] - max(0, rx["lost_packets"]))
        return {"offered_kpps": kpps, "sent_kpps": sent / secs / 1000,
                "received_kpps": received / secs / 1000,
                "loss_percent": max(0.0, 100.0 * (sent - received) / sent) if sent else 100.0}

    def udp_search(self, frame, seconds):
        trials = []

        def trial(kpps):
            # A rate fails only if a second trial fails too: a hiccup of
            # the machine should not end the search low.
            t = self.udp_trial(frame, kpps, seconds)
            trials.append(t)
            if t["loss_percent"] >= LOSS_LIMIT:
                t = self.udp_trial(frame, kpps, seconds)
                trials.append(t)
            return t

        good, bad, best, limited = None, None, None, "loss"
        kpps = START_KPPS
        while kpps <= MAX_KPPS:
            t = trial(kpps)
            if t["loss_percent"] < LOSS_LIMIT:
                good = kpps
                if best is None or t["received_kpps"] > best["received_kpps"]:
                    best = t
                if t["sent_kpps"] < 0.9 * kpps:
                    limited = "sender"
                    break
                kpps *= 2
            else:
                bad = kpps
                break
        else:
            limited = "search_limit"
        if bad is not None:
            lo, hi = (good or 0), bad
            for _ in range(BISECTIONS):
                mid = (lo + hi) / 2
                if mid < 1:
                    break
                t = trial(mid)
                if t["loss_percent"] < LOSS_LIMIT:
                    lo = mid
                    if best is None or t["received_kpps"] > best["received_kpps"]:
                        best = t
                else:
                    hi = mid
        return best, limited, trials


def missing(tool, build):
    files, pkgs = NEEDS[tool]
    if tool == "meshgw":
        files = files + [os.path.join(build, "controlplane", "agent", "meshgw"),
                         os.path.join(build, "controlplane", "cli", "meshctl")]
    return [f for f in files if not os.path.exists(f)], pkgs


def apt_install(pkgs):
    log(f"apt-get install -y --no-install-recommends {' '.join(pkgs)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    p = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + pkgs, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        log(f"apt-get failed:\n{p.stdout[-1000:]}")
    return p.returncode == 0


def version(tool, build):
    pkg = VERSION_PACKAGE.get(tool)
    if pkg:
        p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
        return p.stdout.strip() or None
    if tool == "meshgw":
        p = subprocess.run([os.path.join(build, "controlplane", "agent", "meshgw"), "--version"],
                           capture_output=True, text=True)
        return p.stdout.strip() or None
    return subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def print_table(rows):
    cols = [("tool", "tool", 0), ("tcp_gbps", "tcp Gbit/s", 2), ("udp64_kpps_loss_free", "64B kpps<1%", 0),
            ("udp1400_kpps_loss_free", "1400B kpps<1%", 0), ("cpu_s_per_gb", "cpu s/GB", 2),
            ("cpu_system_s_per_gb", "sys cpu s/GB", 2)]
    table = [[h for _, h, _ in cols]]
    for r in rows:
        if r["tool"].startswith("ratio_"):
            table.append([r["tool"], fmt(r["ratio_tcp"]), fmt(r["ratio_udp64"]), "", "", ""])
        else:
            table.append([fmt(r.get(k), d) + ("*" if k.startswith("udp") and
                                              r.get(k.replace("kpps_loss_free", "limited_by")) == "sender" else "")
                          for k, _, d in cols])
    widths = [max(len(t[i]) for t in table) for i in range(len(cols))]
    for i, t in enumerate(table):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(t, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if any(r.get("udp64_limited_by") == "sender" or r.get("udp1400_limited_by") == "sender" for r in rows):
        print("* the sender could not offer more (its core, shared with the gateway, was full): a lower bound")
    print("ratio rows: meshgw / tool for TCP (column 2) and the 64-byte loss-free rate (column 3)")


def parse_args(argv):
    opts = {"tools": list(TOOLS), "build": os.environ.get("MESHGW_BUILD", os.path.join(ROOT, "build")),
            "seconds": 6.0, "json": None, "install": False, "keep": False, "offloads": True,
            "quiet_wait": 0.0, "udp_sender": "udp_pace"}
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        key, _, val = a.partition("=")
        try:
            if key in ("--tools", "--build", "--seconds", "--json", "--quiet-wait", "--udp-sender"):
                val = val if _ else next(it)
                if key == "--tools":
                    opts["tools"] = [t.strip() for t in val.split(",") if t.strip()]
                    bad = [t for t in opts["tools"] if t not in TOOLS]
                    if bad or not opts["tools"]:
                        raise ValueError(f"unknown tool {', '.join(bad)} (choose from {','.join(TOOLS)})")
                elif key == "--seconds":
                    opts["seconds"] = float(val)
                    if not 1 <= opts["seconds"] <= 120:
                        raise ValueError("--seconds must be between 1 and 120")
                elif key == "--udp-sender":
                    if val not in ("udp_pace", "iperf3"):
                        raise ValueError("--udp-sender must be udp_pace or iperf3")
                    opts["udp_sender"] = val
                elif key == "--quiet-wait":
                    opts["quiet_wait"] = float(val)
                    if not 0 <= opts["quiet_wait"] <= 3600:
                        raise ValueError("--quiet-wait must be between 0 and 3600")
                else:
                    opts[key[2:]] = val
            elif a == "--install":
                opts["install"] = True
            elif a == "--keep":
                opts["keep"] = True
            elif a == "--no-offloads":
                opts["offloads"] = False
            else:
                raise ValueError(f"unknown option {a}")
        except StopIteration:
            print(f"tunnels.py: {a} needs a value (see --help)", file=sys.stderr)
            sys.exit(2)
        except ValueError as e:
            print(f"tunnels.py: {e} (see --help)", file=sys.stderr)
            sys.exit(2)
    return opts


def leftover_namespaces(tag):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(tag + "-")]


def main(argv):
    opts = parse_args(argv)
    if os.geteuid() != 0:
        print("tunnels.py: needs root (network namespaces, veths, TUN devices)", file=sys.stderr)
        return 2
    tag = f"tb{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix=f"{tag}-", dir="/tmp")
    os.chmod(workdir, 0o700)

    interrupted = []

    def on_signal(signum, _frame):
        if interrupted:  # already cleaning up: let that finish
            return
        interrupted.append(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    status = 0
    rows = []
    bench = None
    udp_seconds = max(1.0, opts["seconds"] / 3)
    pacer = None
    if opts["udp_sender"] == "udp_pace":
        pacer = os.path.join(opts["build"], "scripts", "bench", "udp_pace")
        if not os.access(pacer, os.X_OK):
            log(f"{pacer} is not built: the UDP trials use iperf3 -u (build it with ninja -C {opts['build']})")
            pacer = None
    log(f"tools {','.join(opts['tools'])}; TCP {opts['seconds']:g} s, UDP trials {udp_seconds:g} s; "
        f"work directory {workdir}")
    try:
        need_iperf = not shutil.which("iperf3")
        if need_iperf and not (opts["install"] and apt_install(["iperf3"])):
            print("tunnels.py: iperf3 is not installed (apt-get install iperf3, or --install)", file=sys.stderr)
            return 1
        for tool in opts["tools"]:
            files, pkgs = missing(tool, opts["build"])
            if files and opts["install"] and pkgs:
                apt_install(pkgs)
                files, pkgs = missing(tool, opts["build"])
            if files:
                hint = "build meshgw or give --build" if any("controlplane" in f for f in files) else \
                    f"apt-get install {' '.join(pkgs)}, or --install"
                log(f"skipping {tool}: missing {', '.join(files)} ({hint})")
                continue
            busy = background_cpu_percent()
            waited = 0.0
            while busy > BUSY_PERCENT and waited < opts["quiet_wait"]:
                if waited == 0:
                    log(f"{tool}: the machine is {busy:.0f} % busy; waiting up to {opts['quiet_wait']:g} s")
                time.sleep(4)
                waited += 5
                busy = background_cpu_percent()
            log(f"{tool}: setting up (machine {busy:.0f} % busy before)")
            if busy > BUSY_PERCENT:
                log(f"warning: the machine is {busy:.0f} % busy with other work; the figures will be low")
            bench = Bench(tag, tool, workdir, opts["offloads"])
            bench.pacer = pacer
            row = {"tool": tool, "version": version(tool, opts["build"]), "seconds": opts["seconds"],
                   "udp_trial_seconds": udp_seconds, "udp_sender": "udp_pace" if pacer else "iperf3",
                   "tunnel_mtu_bytes": None if tool == "veth" else TUNNEL_MTU,
                   "offloads": opts["offloads"] and tool != "meshgw",
                   "background_cpu_percent": round(busy, 1)}
            try:
                t0 = time.monotonic()
                bench.setup(opts["build"])
                log(f"{tool}: up in {time.monotonic() - t0:.1f} s; TCP")
                meter = CpuMeter(bench)
                t = bench.tcp(opts["seconds"])
                row["tcp_gbps"] = round(t["tcp_gbps"], 3)
                row["tcp_bytes"] = t["tcp_bytes"]
                row["tcp_retransmits"] = t["tcp_retransmits"]
                if tool == "veth":
                    row["cpu_s_per_gb"] = round(t["cpu_system_s"] / t["gb"], 3) if t["gb"] else None
                    row["cpu_source"] = "system"
                else:
                    row["cpu_s_per_gb"] = round(t["cpu_process_s"] / t["gb"], 3) if t["gb"] else None
                    row["cpu_source"] = "processes"
                row["cpu_system_s_per_gb"] = round(t["cpu_system_s"] / t["gb"], 3) if t["gb"] else None
                log(f"{tool}: TCP {t['tcp_gbps']:.2f} Gbit/s, {t['cpu_process_s']:.2f} s CPU in the tunnel "
                    f"processes, {t['cpu_system_s']:.2f} s machine-wide for {t['gb']:.2f} GB")
                row["udp_frame_bytes_include_fcs"] = True
                for name, frame in FRAMES.items():
                    best, limited, trials = bench.udp_search(frame, udp_seconds)
                    row[f"{name}_kpps_loss_free"] = round(best["received_kpps"], 1) if best else 0.0
                    row[f"{name}_loss_percent"] = round(best["loss_percent"], 3) if best else None
                    row[f"{name}_limited_by"] = limited
                    row[f"{name}_udp_payload_bytes"] = frame - FCS - ETH - IP - UDP
                    log(f"{tool}: {frame}-byte frames: " + ", ".join(
                        f"{x['offered_kpps']:g}->{x['received_kpps']:.0f} kpps {x['loss_percent']:.2f}%"
                        for x in trials))
                others = meter.stop()["others_percent"]
                row["others_cpu_percent_tcp"] = round(t["others_percent"], 1)
                row["others_cpu_percent"] = round(others, 1)
                if others > BUSY_PERCENT:
                    log(f"warning: other work took {others:.0f} % of the machine while {tool} was measured")
                if tool == "meshgw":
                    st = bench.meshgw_stats()
                    drops = {g: {k: v for k, v in s.get("drops", {}).items() if v} for g, s in st.items()}
                    row["meshgw_drops"] = drops
                    with open(bench.path("stats.json"), "w") as f:
                        json.dump(st, f, indent=1)
                    log(f"meshgw: drops {drops}")
                rows.append(row)
            except (Failed, subprocess.TimeoutExpired, OSError) as e:
                log(f"{tool}: FAILED: {e}")
                status = 1
            finally:
                bench.stop()
                bench = None
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up")
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if bench is not None:
            bench.stop()
        left = leftover_namespaces(tag)
        for ns in left:
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if left:
            log(f"namespaces were left and have been deleted: {' '.join(left)}")
            status = status or 1
        still = leftover_namespaces(tag)
        if still:
            log(f"could not delete namespaces: {' '.join(still)}")
            status = status or 1
        if opts["keep"]:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    mesh = next((r for r in rows if r["tool"] == "meshgw"), None)
    ratios = []
    if mesh:
        for r in rows:
            if r is mesh:
                continue
            rt = mesh["tcp_gbps"] / r["tcp_gbps"] if r.get("tcp_gbps") else None
            ru = (mesh["udp64_kpps_loss_free"] / r["udp64_kpps_loss_free"]
                  if r.get("udp64_kpps_loss_free") else None)
            r["ratio_meshgw_vs_tool_tcp"] = round(rt, 3) if rt is not None else None
            r["ratio_meshgw_vs_tool_udp64"] = round(ru, 3) if ru is not None else None
            ratios.append({"tool": f"ratio_meshgw_vs_{r['tool'].replace('-', '_')}",
                           "ratio_tcp": r["ratio_meshgw_vs_tool_tcp"], "ratio_udp64": r["ratio_meshgw_vs_tool_udp64"]})
    if rows:
        print()
        print_table(rows + ratios)
    if opts["json"]:
        with open(opts["json"], "w") as f:
            json.dump(rows + ratios, f, indent=1)
            f.write("\n")
        log(f"wrote {opts['json']}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
