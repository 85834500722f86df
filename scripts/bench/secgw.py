#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK's own IPsec gateway example (ipsec-secgw, DPDK 22.11) as a reference
point for meshgw's outbound ESP throughput: same virtual ports, same traffic,
same measurement (port 1 opackets over a timed window, read through the DPDK
telemetry socket by dpdk_telemetry), so the two numbers can be put side by side.

build_secgw(workdir) copies /usr/share/dpdk/examples/ipsec-secgw (and
../common, which its Makefile includes) into workdir, patches the copy and
builds it with make (pkg-config libdpdk), under nice -n 19. The patch is one
hunk in port_init(): the example asks every port for RTE_ETH_RX_OFFLOAD_CHECKSUM
(and SCATTER / MULTI_SEGS with --reassemble or an MTU over the mbuf) and
rte_exit()s when the device lacks it; net_pcap and net_null report no RX
offloads, so it never starts on them. The copy masks the requested RX/TX
offloads with dev_info.rx_offload_capa / tx_offload_capa instead. That is
safe here: nothing in the example reads the RX checksum flags (it does not
validate IPv4 checksums at all), and the TX IPv4 checksum offload is only
requested where the port reports it, otherwise the app fills the checksum in
software. The patched sources are hashed with the DPDK version and
pkg-config flags; a workdir whose stamp matches is reused without rebuilding.

run_secgw(...) runs one main lcore and ONE worker lcore that polls both
ports (the main lcore does no packet work, but EAL's rte_eal_wait_lcore()
busy-waits on it, so the process shows ~200% CPU): port 0 = net_pcap (the
cleartext LAN side, traffic source, infinite_rx), port 1 = net_null no-rx (the
ESP/WAN side, a sink). In ipsec-secgw's terms the WAN port is the
*unprotected* one (-u 0x2): packets received on an unprotected port are
treated as inbound (decrypted), on a protected port as outbound (encrypted).
The config has one SP rule and one outbound ESP tunnel SA (AES-256-GCM,
36-byte aead_key = 32-byte key + 4-byte salt, distinct per SA; SPI 0x1000+i;
tunnel 198.18.0.1 -> 198.18.0.2) per destination subnet (198.51.100.0/24 for
one SA, else 10.(i>>8).(i&255).0/24), an RT rule 198.18.0.0/16 -> port 1, and
one unused inbound SA + SP rule (the example refuses an unprotected port
without an inbound SA). Sequence numbers are 32-bit (no -e, so no ESN; AAD =
SPI + seq, 8 bytes), the 8-byte IV is the sequence number, no replay window
matters outbound. The inner IPv4 TTL is decremented (checksum updated); the
outer IPv4 checksum is computed in software (the ports have no TX offload).
ipsec-secgw sets up one TX queue per enabled lcore, main included, and a
net_pcap port has as many TX queues as tx_pcap arguments, so port 0 gets
tx_pcap=/dev/null twice; the worker (lcore 1) transmits on queue 1.

Crypto path: DEFAULT_MODE "legacy" on crypto_aesni_gcm0 (intel-ipsec-mb's
AES-GCM, VAES/AVX-512 on this CPU), i.e. no -l and SA type no-offload (the
example's name for lookaside-none): the example's own esp.c builds the ESP
packet and hands crypto ops to the vdev's queue pair. Timed on this 2-CPU VM
against the other software paths, 4 interleaved 2 s runs per cell, median
ratio to legacy/aesni_gcm (compare_modes(), `secgw.py --compare`):
                       64B/1SA 64B/1000 512B/1 512B/1000 1420B/1 1420B/1000
  lib  (-l, no-offload)  0.88    0.85    0.97    0.90     1.03    0.92
  cpu  (-l, cpu-crypto)  0.95    0.77    0.91    0.84     1.02    0.83
  legacy, crypto_aesni_mb 0.88   0.87    0.99    0.91     1.04    0.95
Legacy/aesni_gcm is fastest or tied everywhere (single runs vary by 10-25%
on this shared VM; two later comparisons agreed) and clearly fastest with
1000 SAs at small frames: librte_ipsec (-l) processes a burst in runs of
consecutive packets of one SA, and with the destinations interleaved every
run is one packet long, which costs the synchronous cpu-crypto path most.
crypto_openssl was 2-3x slower and has no cpu-crypto. Event mode
(--transfer-mode event) needs an event device; the software one (event_sw)
needs a service core of its own, which two CPUs (main + worker) do not
leave, so poll mode is used.

Before the first timed run of an (exe, pcap, sa_count, mode, cryptodev)
combination run_secgw does a short run with port 1 as net_pcap writing to a
file and port 0 playing the pcap once: every input packet must come out as
IPv4 protocol 50 (ESP) 198.18.0.1 -> 198.18.0.2 with a configured SPI and a
valid outer header checksum and (if python3-cryptography is installed)
decrypt with its SA's key and salt to one of the input packets (TTL and
header checksum aside). Nothing in ipsec-secgw validates received IPv4 (or
UDP) checksums, offloaded or in software.

Self-test: /usr/bin/python3 scripts/bench/secgw.py [--workdir DIR]
[--seconds 3] [--compare [--reps 4]] prints Mpps for frames of 64/512/1420
bytes (sizes include the 4-byte FCS, so 60/508/1416 bytes in the pcap; 1024
frames, UDP source ports 1024..2047) with 1 and 1000 SAs.
"""
import argparse
import hashlib
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpdk_telemetry  # noqa: E402

EXAMPLES = "/usr/share/dpdk/examples"
APP = "ipsec-secgw"
STAMP = ".meshgw-secgw-stamp"

# (file, pattern, replacement): applied to the copy; each pattern must occur
# exactly once, else build_secgw raises.
PATCHES = [
    ("ipsec-secgw.c",
     "\t/* Check that all required capabilities are supported */\n",
     "\t/* meshgw bench: virtual ports (net_pcap, net_null) have no RX\n"
     "\t * checksum / scatter offloads; request only what the port reports\n"
     "\t * instead of failing below. */\n"
     "\tlocal_port_conf.rxmode.offloads &= dev_info.rx_offload_capa;\n"
     "\tlocal_port_conf.txmode.offloads &= dev_info.tx_offload_capa;\n"
     "\n"
     "\t/* Check that all required capabilities are supported */\n"),
]

TUNNEL_SRC = "198.18.0.1"
TUNNEL_DST = "198.18.0.2"
SPI_BASE = 0x1000
SPI_IN = 0xFFFFFF
# SA type per mode and whether librte_ipsec (-l) is used
MODES = {
    "legacy": ("no-offload", False),
    "lib": ("no-offload", True),
    "cpu": ("cpu-crypto", True),
}
DEFAULT_MODE = "legacy"
DEFAULT_CRYPTODEV = "crypto_aesni_gcm0"
WARMUP = 1.5

_verified = set()


# ---------------------------------------------------------------- build

def _read_tree(root, prefix):
    files = {}
    for d, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.join(prefix, os.path.relpath(p, root))] = f.read()
    return files


def _pkgconfig(*args):
    return subprocess.run(["pkg-config", *args, "libdpdk"], check=True,
                          capture_output=True, text=True).stdout.strip()


def build_secgw(workdir):
    """Copy, patch and build ipsec-secgw under workdir; return the binary."""
    src = os.path.join(EXAMPLES, APP)
    if not os.path.isdir(src):
        raise RuntimeError(f"{src} missing (apt-get install dpdk-doc)")
    files = _read_tree(src, APP)
    files.update(_read_tree(os.path.join(EXAMPLES, "common"), "common"))
    for name, old, new in PATCHES:
        key = os.path.join(APP, name)
        text = files[key].decode()
        n = text.count(old)
        if n != 1:
            raise RuntimeError(f"secgw patch: pattern found {n} times in {name}: {old!r}")
        files[key] = text.replace(old, new).encode()

    h = hashlib.sha256()
    for k in sorted(files):
        h.update(k.encode() + b"\0" + files[k] + b"\0")
    for args in (("--modversion",), ("--cflags",), ("--libs",)):
        h.update(_pkgconfig(*args).encode() + b"\0")
    digest = h.hexdigest()

    workdir = os.path.abspath(workdir)
    appdir = os.path.join(workdir, APP)
    exe = os.path.join(appdir, "build", f"{APP}-shared")
    stamp = os.path.join(appdir, STAMP)
    try:
        with open(stamp) as f:
            if f.read().strip() == digest and os.access(exe, os.X_OK):
                return exe
    except OSError:
        pass

    os.makedirs(workdir, exist_ok=True)
    for d in (APP, "common"):
        shutil.rmtree(os.path.join(workdir, d), ignore_errors=True)
    for k, data in files.items():
        p = os.path.join(workdir, k)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    r = subprocess.run(["nice", "-n", "19", "make", "-C", appdir, "shared"],
                       capture_output=True, text=True)
    if r.returncode != 0 or not os.access(exe, os.X_OK):
        raise RuntimeError(f"building {APP} failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return exe


# ---------------------------------------------------------------- config

def sa_key(i):
    """36 bytes: AES-256 key (32) + GCM salt (4), distinct per SA."""
    return bytes((i * 7 + j * 13 + 1) & 0xFF for j in range(32)) + bytes([0xA0, 0xA1, 0xA2, i & 0xFF])


def subnets(sa_count):
    """Destination subnet (a.b.c.0/24) the i-th SP rule protects."""
    if sa_count == 1:
        return ["198.51.100.0/24"]
    if not 1 < sa_count <= 65536:
        raise ValueError("sa_count must be in 1..65536")
    return [f"10.{i >> 8}.{i & 255}.0/24" for i in range(sa_count)]


def write_config(path, sa_count, sa_type):
    lines = []
    key_hex = lambda k: ":".join(f"{b:02x}" for b in k)  # noqa: E731
    for i, net in enumerate(subnets(sa_count)):
        spi = SPI_BASE + i
        lines.append(f"sp ipv4 out esp protect {spi} pri 1 dst {net} sport 0:65535 dport 0:65535")
        lines.append(f"sa out {spi} aead_algo aes-256-gcm aead_key {key_hex(sa_key(i))} "
                     f"mode ipv4-tunnel src {TUNNEL_SRC} dst {TUNNEL_DST} type {sa_type}")
    # never used (port 1 receives nothing), but ipsec-secgw refuses an
    # unprotected port without an inbound SA, and -l an SA without an SP rule
    lines.append(f"sp ipv4 in esp protect {SPI_IN} pri 1 dst {TUNNEL_SRC}/32 sport 0:65535 dport 0:65535")
    lines.append(f"sa in {SPI_IN} aead_algo aes-256-gcm aead_key {key_hex(sa_key(0))} "
                 f"mode ipv4-tunnel src {TUNNEL_DST} dst {TUNNEL_SRC} type {sa_type}")
    lines.append("rt ipv4 dst 198.18.0.0/16 port 1")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- process

def _command(exe, port0, port1, cfg, file_prefix, cpu_list, mode, cryptodev):
    sa_type, use_lib = MODES[mode]
    lcores = cpu_list.split(",")
    if len(lcores) != 2:
        raise ValueError("cpu_list must name two lcores: main,worker")
    worker = lcores[1]
    cmd = [exe, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", file_prefix,
           "-l", cpu_list, "--vdev", port0, "--vdev", port1, "--vdev", cryptodev,
           "--", "-p", "0x3", "-u", "0x2", "-f", cfg,
           "--config", f"(0,0,{worker}),(1,0,{worker})"]
    if use_lib:
        cmd.append("-l")
    return cmd


def _log_tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def _stop(proc, timeout=10.0):
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start(cmd, log_path):
    log = open(log_path, "w")
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def _wait_tx(proc, file_prefix, log_path, want=1, timeout=30.0):
    """Wait until port 1 has sent `want` packets; RuntimeError if the app dies or stalls."""
    deadline = time.time() + timeout
    sent = 0
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{APP} exited with {proc.returncode}:\n{_log_tail(log_path)}")
        try:
            if len(dpdk_telemetry.query(file_prefix, "/ethdev/list", timeout=1.0)["/ethdev/list"]) >= 2:
                sent = dpdk_telemetry.port_stats(file_prefix, 1)["opackets"]
                if sent >= want:
                    return sent
        except (TimeoutError, OSError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{APP}: port 1 sent {sent} of {want} packets in {timeout:.0f} s:\n"
                       f"{_log_tail(log_path)}")


def _check_pcap_path(p):
    if "," in p or "=" in p:
        raise ValueError(f"pcap path must not contain ',' or '=': {p}")


def run_secgw(exe, pcap, sa_count, seconds, file_prefix, cpu_list="0,1",
              mode=DEFAULT_MODE, cryptodev=DEFAULT_CRYPTODEV, verify=True):
    """Outbound ESP packets per second ipsec-secgw sends on port 1 over
    `seconds` (after WARMUP s), port 0 replaying `pcap` forever. sa_count
    SP rules + SAs (see subnets()); cpu_list is "main,worker"; mode is a key
    of MODES, cryptodev a --vdev name. verify=True first checks the output
    really is ESP (verify_esp), once per combination. RuntimeError, with the
    log tail, if the app does not start or sends nothing; the process is
    always stopped (SIGINT, then SIGKILL after 10 s)."""
    pcap = os.path.abspath(pcap)
    _check_pcap_path(pcap)
    key = (os.path.realpath(exe), pcap, os.path.getmtime(pcap), sa_count, mode, cryptodev)
    if verify and key not in _verified:
        verify_esp(exe, pcap, sa_count, file_prefix, cpu_list, mode, cryptodev)
        _verified.add(key)
    with tempfile.TemporaryDirectory(prefix="meshgw-secgw-") as tmp:
        cfg = os.path.join(tmp, "secgw.cfg")
        log_path = os.path.join(tmp, "secgw.log")
        write_config(cfg, sa_count, MODES[mode][0])
        port0 = f"net_pcap0,rx_pcap={pcap},infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null"
        port1 = "net_null0,no-rx=1"
        proc = _start(_command(exe, port0, port1, cfg, file_prefix, cpu_list, mode, cryptodev), log_path)
        try:
            _wait_tx(proc, file_prefix, log_path)
            pps = dpdk_telemetry.rate(file_prefix, 1, seconds, field="opackets", warmup=WARMUP)
            if proc.poll() is not None:
                raise RuntimeError(f"{APP} died during the measurement:\n{_log_tail(log_path)}")
            if pps <= 0:
                raise RuntimeError(f"{APP} sent nothing on port 1:\n{_log_tail(log_path)}")
            return pps
        finally:
            _stop(proc)


# ---------------------------------------------------------------- ESP check

def read_pcap(path):
    """Frames of a classic pcap file (either byte order), as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise RuntimeError(f"{path}: not a classic pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(e + "I", data, off + 8)[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def _ip4(frame):
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    return frame[14:14 + struct.unpack_from("!H", frame, 16)[0]]


def _csum(hdr):
    """Ones' complement sum of an IPv4 header: 0 when its checksum is right."""
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return 0xFFFF - s


def _inner_key(ip):
    """Inner packet identity, TTL and header checksum left out (a router may change them)."""
    ihl = (ip[0] & 15) * 4
    return ip[:8] + ip[9:10] + ip[12:ihl] + ip[ihl:]


def check_esp(in_frames, out_frames, sa_count):
    """Raise RuntimeError unless out_frames are the ESP tunnel form of in_frames."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        AESGCM = None
    spis = {SPI_BASE + i: i for i in range(sa_count)}
    inner = {}
    for fr in in_frames:
        ip = _ip4(fr)
        if ip is not None:
            k = _inner_key(ip)
            inner[k] = inner.get(k, 0) + 1
    if not out_frames:
        raise RuntimeError("ESP check: no frames on port 1")
    tun = bytes(map(int, TUNNEL_SRC.split("."))) + bytes(map(int, TUNNEL_DST.split(".")))
    for n, fr in enumerate(out_frames):
        ip = _ip4(fr)
        if ip is None or ip[9] != 50 or ip[12:20] != tun:
            raise RuntimeError(f"ESP check: frame {n} is not IPv4/ESP {TUNNEL_SRC}->{TUNNEL_DST}: {fr[:48].hex()}")
        ihl = (ip[0] & 15) * 4
        if _csum(ip[:ihl]) != 0:
            raise RuntimeError(f"ESP check: frame {n} has a bad outer IPv4 header checksum")
        esp = ip[ihl:]
        spi, seq = struct.unpack_from("!II", esp)
        if spi not in spis:
            raise RuntimeError(f"ESP check: frame {n} has SPI {spi:#x}, not one configured")
        if AESGCM is None:
            continue
        k = sa_key(spis[spi])
        try:
            clear = AESGCM(k[:32]).decrypt(k[32:] + esp[8:16], esp[16:], esp[:8])
        except Exception as exc:
            raise RuntimeError(f"ESP check: frame {n} (SPI {spi:#x} seq {seq}) does not decrypt: {exc!r}")
        pad, nxt = clear[-2], clear[-1]
        body = clear[:-2 - pad]
        if nxt != 4 or not body:
            raise RuntimeError(f"ESP check: frame {n} next header {nxt}, expected 4 (IPv4)")
        ik = _inner_key(body)
        if inner.get(ik, 0) <= 0:
            raise RuntimeError(f"ESP check: frame {n} decrypts to a packet not in the input: {body[:40].hex()}")
        inner[ik] -= 1
    return len(out_frames)


def verify_esp(exe, pcap, sa_count, file_prefix, cpu_list="0,1", mode=DEFAULT_MODE,
               cryptodev=DEFAULT_CRYPTODEV, timeout=30.0):
    """Short run: port 0 plays the pcap once, port 1 writes a pcap; check it is ESP."""
    pcap = os.path.abspath(pcap)
    _check_pcap_path(pcap)
    in_frames = read_pcap(pcap)
    with tempfile.TemporaryDirectory(prefix="meshgw-secgw-") as tmp:
        cfg = os.path.join(tmp, "secgw.cfg")
        log_path = os.path.join(tmp, "secgw.log")
        out = os.path.join(tmp, "esp.pcap")
        write_config(cfg, sa_count, MODES[mode][0])
        port0 = f"net_pcap0,rx_pcap={pcap},tx_pcap=/dev/null,tx_pcap=/dev/null"
        port1 = f"net_pcap1,tx_pcap=/dev/null,tx_pcap={out}"  # queue 1 = the worker's
        proc = _start(_command(exe, port0, port1, cfg, file_prefix, cpu_list, mode, cryptodev), log_path)
        try:
            _wait_tx(proc, file_prefix, log_path, want=len(in_frames), timeout=timeout)
        finally:
            _stop(proc)
        out_frames = read_pcap(out)
        if len(out_frames) != len(in_frames):
            raise RuntimeError(f"ESP check: {len(in_frames)} frames in, {len(out_frames)} out:\n{_log_tail(log_path)}")
        return check_esp(in_frames, out_frames, sa_count)


# ---------------------------------------------------------------- self-test

def make_pcap(path, frame_size, sa_count, count=1024):
    """Ethernet/IPv4/UDP frames of frame_size bytes including FCS (so 4 fewer in the file)."""
    from scapy.all import Ether, IP, UDP, Raw, wrpcap
    frames = []
    for n in range(count):
        if sa_count == 1:
            dst = f"198.51.100.{1 + n % 254}"
        else:
            i = n % sa_count
            dst = f"10.{i >> 8}.{i & 255}.1"
        p = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
             IP(src="192.0.2.10", dst=dst) / UDP(sport=1024 + n, dport=5001))
        p = p / Raw(bytes(n & 0xFF for _ in range(frame_size - 4 - len(p))))
        frames.append(p)
    wrpcap(path, frames)


COMPARE = [(DEFAULT_CRYPTODEV, "legacy"), (DEFAULT_CRYPTODEV, "lib"), (DEFAULT_CRYPTODEV, "cpu"),
           ("crypto_aesni_mb0", "legacy"), ("crypto_aesni_mb0", "lib"), ("crypto_aesni_mb0", "cpu"),
           ("crypto_openssl0", "legacy"), ("crypto_openssl0", "lib")]


def compare_modes(exe, pcaps, seconds, file_prefix, reps=4, configs=COMPARE):
    """Evidence for DEFAULT_MODE: for each pcap cell, every (cryptodev, mode)
    is run back to back, `reps` times; returns {(cell, config): [pps, ...]}
    (None for a run that failed). Interleaving keeps the VM's slow drifts out
    of the ratios."""
    res = {}
    for _ in range(reps):
        for cell, pcap in sorted(pcaps.items()):
            for cdev, mode in configs:
                try:
                    v = run_secgw(exe, pcap, cell[1], seconds, file_prefix, mode=mode, cryptodev=cdev)
                except RuntimeError as exc:
                    v = None
                    sys.stderr.write(f"{cdev} {mode} {cell}: {str(exc).splitlines()[0]}\n")
                res.setdefault((cell, (cdev, mode)), []).append(v)
    return res


def print_comparison(res, cells, configs=COMPARE):
    print("median Mpps (median ratio to the first row, run by run)")
    print(f"{'cryptodev/mode':24}" + "".join(f"{f'{s}B/{a}SA':>17}" for s, a in cells))
    for c in configs:
        row = []
        for cell in cells:
            vals, base = res[cell, c], res[cell, configs[0]]
            ok = [v for v in vals if v]
            ratios = [v / b for v, b in zip(vals, base) if v and b]
            row.append(f"{statistics.median(ok) / 1e6:8.2f} ({statistics.median(ratios):.2f})"
                       if ok and ratios else f"{'fail':>15}")
        print(f"{c[0] + '/' + c[1]:24}" + "".join(f"{x:>17}" for x in row))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "meshgw-secgw-build"))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--compare", action="store_true", help="first time every cryptodev/mode (slow)")
    ap.add_argument("--reps", type=int, default=4, help="repetitions for --compare")
    args = ap.parse_args()
    exe = build_secgw(args.workdir)
    print(f"binary: {exe}")
    prefix = f"meshgw-secgw-{os.getpid()}"
    sizes, sas = (64, 512, 1420), (1, 1000)
    with tempfile.TemporaryDirectory(prefix="meshgw-secgw-pcap-") as tmp:
        pcaps = {}
        for size in sizes:
            for sa in sas:
                pcaps[size, sa] = os.path.join(tmp, f"udp{size}_sa{sa}.pcap")
                make_pcap(pcaps[size, sa], size, sa)
        if args.compare:
            res = compare_modes(exe, pcaps, min(args.seconds, 2.0), prefix, args.reps)
            print_comparison(res, sorted(pcaps))
        print(f"ipsec-secgw mode={DEFAULT_MODE} {DEFAULT_CRYPTODEV}, 1 worker, Mpps on port 1")
        print(f"{'frame':>6} " + " ".join(f"{a:>4} SA{'s' if a > 1 else ' '}" for a in sas))
        for size in sizes:
            row = [run_secgw(exe, pcaps[size, a], a, args.seconds, prefix) / 1e6 for a in sas]
            print(f"{size:>6} " + " ".join(f"{v:8.3f}" for v in row))


if __name__ == "__main__":
    main()
