#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Three meshgw in network namespaces carry ping and a TCP stream between two
# site hosts; the one in the middle relays both directions by SPI, without
# keys. tshark on the underlay sees only ESP between the sites.
#
#   host-a (192.0.2.10)                                   host-b (198.51.100.20)
#      | veth                                                      | veth
#   [gw-a] lan 192.0.2.1            underlay 198.18.0.0/24     [gw-b] lan 198.51.100.1
#   wan 198.18.0.1 --veth-- br0 (ns "ul") --veth-- wan 198.18.0.2
#                            |
#                          veth -- [gw-c] wan 198.18.0.3 (relays SPI 0x1001 and 0x2001)
#
# gw-a's tunnel to gw-b has gw-c as its next hop, and so has gw-b's to gw-a:
# every packet crosses gw-c twice-relayed (a -> c -> b and b -> c -> a).
# Ports are net_af_packet on veths with no kernel address. Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MESHGW_BUILD:-$root/build}"
meshgw="$build/controlplane/agent/meshgw"
meshctl="$build/controlplane/cli/meshctl"

# shellcheck source=netns_lib.sh
source "$root/tests/e2e/netns_lib.sh"
netns_require

tag="m$$"
ns_a="$tag-gwa" ns_b="$tag-gwb" ns_c="$tag-gwc" ns_ha="$tag-ha" ns_hb="$tag-hb" ns_ul="$tag-ul"
dir="$(mktemp -d)"
pids=()
cleanup() {
  set +e
  netns_teardown "${pids[*]}" "$ns_a" "$ns_b" "$ns_c" "$ns_ha" "$ns_hb" "$ns_ul"
  rm -rf /var/run/dpdk/"$tag"-gw-*  # the EAL's runtime directories
  if [[ -n "${MESHGW_KEEP:-}" ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

netns_make "$ns_a" "$ns_b" "$ns_c" "$ns_ha" "$ns_hb" "$ns_ul"
ip -n "$ns_ul" link add br0 type bridge
ip -n "$ns_ul" link set br0 up
veth lan "$ns_a" eth0 "$ns_ha"
veth lan "$ns_b" eth0 "$ns_hb"
for g in a b c; do
  ns_var="ns_$g"
  veth wan "${!ns_var}" "to-$g" "$ns_ul"
  ip -n "$ns_ul" link set "to-$g" master br0
done
# af_packet hands meshgw a copy of each frame, and the gateway namespace's
# kernel would process the original too (its exception TAP makes the WAN
# address local): drop at the netdev ingress hook, which runs after packet
# sockets have had their copy.
for ns in "$ns_a" "$ns_b" "$ns_c"; do
  ip netns exec "$ns" nft add table netdev meshgw
  for dev in lan wan; do
    ip -n "$ns" link show "$dev" >/dev/null 2>&1 || continue
    ip netns exec "$ns" nft add chain netdev meshgw "in_$dev" "{ type filter hook ingress device $dev priority 0; policy drop; }"
  done
done
ip -n "$ns_ha" addr add 192.0.2.10/24 dev eth0
ip -n "$ns_ha" route add 198.51.100.0/24 via 192.0.2.1
ip -n "$ns_hb" addr add 198.51.100.20/24 dev eth0
ip -n "$ns_hb" route add 192.0.2.0/24 via 198.51.100.1

"$meshctl" esp keygen --out "$dir/ab.key" >/dev/null
"$meshctl" esp keygen --out "$dir/ba.key" >/dev/null

common() {  # gateway id, file prefix
  cat <<EOT
[gateway]
id = "$1"
[eal]
args = ["--no-huge", "-m", "256", "--file-prefix", "$tag-$1", "--log-level", "*:error"]
[dataplane]
worker_cpus = [1]
idle = "sleep"
[stats]
listen = "127.0.0.1:0"
EOT
}
{ common gw-a; cat <<EOT
[[port]]
name = "lan"
role = "lan"
device = "net_af_packet0,iface=lan,framecnt=4096"
address = "192.0.2.1/24"
mac = "02:00:00:00:0a:01"
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet1,iface=wan,framecnt=4096"
address = "198.18.0.1/24"
mac = "02:00:00:00:0a:02"
exception_iface = "mgw0"
[[tunnel]]
id = "a-b"
egress = "gw-b"
path = ["gw-a", "gw-c", "gw-b"]
next_hop = "198.18.0.3"
out_spi = 0x1001
out_key_file = "ab.key"
in_spi = 0x2001
in_key_file = "ba.key"
remote_sites = ["198.51.100.0/24"]
[[route]]
prefix = "198.51.100.0/24"
egress = "gw-b"
EOT
} > "$dir/a.toml"
{ common gw-b; cat <<EOT
[[port]]
name = "lan"
role = "lan"
device = "net_af_packet0,iface=lan,framecnt=4096"
address = "198.51.100.1/24"
mac = "02:00:00:00:0b:01"
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet1,iface=wan,framecnt=4096"
address = "198.18.0.2/24"
mac = "02:00:00:00:0b:02"
exception_iface = "mgw0"
[[tunnel]]
id = "b-a"
egress = "gw-a"
path = ["gw-b", "gw-c", "gw-a"]
next_hop = "198.18.0.3"
out_spi = 0x2001
out_key_file = "ba.key"
in_spi = 0x1001
in_key_file = "ab.key"
remote_sites = ["192.0.2.0/24"]
[[route]]
prefix = "192.0.2.0/24"
egress = "gw-a"
EOT
} > "$dir/b.toml"
{ common gw-c; cat <<EOT
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet0,iface=wan,framecnt=4096"
address = "198.18.0.3/24"
mac = "02:00:00:00:0c:02"
[[relay]]
spi = 0x1001
next_hop = "198.18.0.2"
prev_hop = "198.18.0.1"
[[relay]]
spi = 0x2001
next_hop = "198.18.0.1"
prev_hop = "198.18.0.2"
EOT
} > "$dir/c.toml"

start() {  # namespace, config, name
  ip netns exec "$1" "$meshgw" --config "$dir/$2" > "$dir/$3.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^meshgw: ready' "$dir/$3.log"; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$dir/$3.log"; echo "FAIL: $3 did not start"; exit 1; fi
    sleep 0.1
  done
  cat "$dir/$3.log"; echo "FAIL: $3 not ready"; exit 1
}
stats() {  # namespace, name -> /v1/stats JSON
  local port
  port="$(sed -n 's/^meshgw: ready stats_port=//p' "$dir/$2.log")"
  ip netns exec "$1" curl -sf "http://127.0.0.1:$port/v1/stats" 2>/dev/null ||
    ip netns exec "$1" /usr/bin/python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$port/v1/stats').read().decode())"
}
start "$ns_c" c.toml gw-c
start "$ns_a" a.toml gw-a
start "$ns_b" b.toml gw-b

# The underlay capture: everything between the gateways.
ip netns exec "$ns_ul" tshark -q -B 64 -i br0 -w "$dir/underlay.pcap" 2>"$dir/tshark.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "Capturing on" "$dir/tshark.log" && break; sleep 0.1; done

echo "== ping host-a -> host-b through gw-a, gw-c (relay), gw-b"
ip netns exec "$ns_ha" ping -c 1 -W 5 198.51.100.20 >/dev/null || true   # ARP on the way
ip netns exec "$ns_ha" ping -c 20 -i 0.05 -W 2 198.51.100.20 | tee "$dir/ping.txt" | tail -2
grep -q " 0% packet loss" "$dir/ping.txt" || { echo "FAIL: ping lost packets"; exit 1; }

echo "== TCP stream host-b -> host-a (4 MiB), checked by SHA-256 on both ends"
cat > "$dir/tcp.py" <<'EOT'
import hashlib, os, socket, sys
if sys.argv[1] == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.10", 5001)); s.listen(1); s.settimeout(30)
    open(sys.argv[2], "w").write("listening")
    c, _ = s.accept(); h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        h.update(b); n += len(b)
    print(n, h.hexdigest())
else:
    data = os.urandom(4 << 20)
    c = socket.create_connection(("192.0.2.10", 5001), timeout=30)
    c.sendall(data); c.close()
    print(len(data), hashlib.sha256(data).hexdigest())
EOT
ip netns exec "$ns_ha" /usr/bin/python3 "$dir/tcp.py" serve "$dir/listening" > "$dir/received.txt" &
server=$!
for _ in $(seq 50); do [[ -f "$dir/listening" ]] && break; sleep 0.1; done
ip netns exec "$ns_hb" timeout 60 /usr/bin/python3 "$dir/tcp.py" send > "$dir/sent.txt"
wait "$server"
echo "sent     $(cat "$dir/sent.txt")"
echo "received $(cat "$dir/received.txt")"
[[ "$(cat "$dir/sent.txt")" == "$(cat "$dir/received.txt")" ]] || { echo "FAIL: the stream differs"; exit 1; }

echo "== kernel sockets over the DPDK-owned WAN ports (exception path)"
# gw-a's kernel pings gw-c (answered by gw-c's fast path) and opens a TCP
# connection to gw-b's kernel: both ride on meshgw's ports, through the TAPs.
ip -n "$ns_a" addr show mgw0 | grep -q "198.18.0.1/24" || { echo "FAIL: mgw0 lacks the WAN address"; exit 1; }
ip netns exec "$ns_a" ping -c 3 -i 0.2 -W 2 198.18.0.3 | tail -2
cat > "$dir/ctl.py" <<'EOT'
import socket, sys
if sys.argv[1] == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.2", 7000)); s.listen(1); s.settimeout(20)
    open(sys.argv[2], "w").write("listening")
    c, peer = s.accept(); data = b""
    while not data.endswith(b"\n"):
        data += c.recv(100)
    c.sendall(b"hello " + data); c.close(); print("served", peer[0])
else:
    c = socket.create_connection(("198.18.0.2", 7000), timeout=20)
    c.sendall(b"gw-a\n"); print(c.recv(100).decode().strip())
EOT
ip netns exec "$ns_b" /usr/bin/python3 "$dir/ctl.py" serve "$dir/ctl-listening" > "$dir/ctl-server.txt" &
ctl=$!
for _ in $(seq 50); do [[ -f "$dir/ctl-listening" ]] && break; sleep 0.1; done
reply="$(ip netns exec "$ns_a" timeout 20 /usr/bin/python3 "$dir/ctl.py" connect)"
wait "$ctl"
echo "gw-a kernel got: $reply; gw-b kernel $(cat "$dir/ctl-server.txt")"
[[ "$reply" == "hello gw-a" ]] || { echo "FAIL: no TCP between the gateways' kernels"; exit 1; }

sa="$(stats "$ns_a" gw-a)" sb="$(stats "$ns_b" gw-b)" sc="$(stats "$ns_c" gw-c)"

echo "== idle = \"sleep\": what an idle gateway costs"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pid_c="${pids[0]}"
t0=$(cpu_ticks "$pid_c"); sleep 2; t1=$(cpu_ticks "$pid_c")
hz=$(getconf CLK_TCK)
pct=$(( (t1 - t0) * 100 / (2 * hz) ))
echo "gw-c used ${pct}% of one CPU over 2 s idle (main + worker lcore)"
[[ $pct -le 25 ]] || { echo "FAIL: an idle gateway should sleep, not spin"; exit 1; }
kill -INT "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

echo "== what each gateway counted"
jq -c '{gw: .gateway, tunnels: .tunnels, mss_clamped: .events.mss_clamped, drops: .drops_total, dropped: (.drops | with_entries(select(.value > 0)))}' <<<"$sa"
jq -c '{gw: .gateway, tunnels: .tunnels, mss_clamped: .events.mss_clamped, drops: .drops_total, dropped: (.drops | with_entries(select(.value > 0)))}' <<<"$sb"
jq -c '{gw: .gateway, relayed: .events.relayed, drops: .drops_total, dropped: (.drops | with_entries(select(.value > 0)))}' <<<"$sc"
a_out=$(jq '.tunnels[0].tx_packets' <<<"$sa") b_in=$(jq '.tunnels[0].rx_packets' <<<"$sb")
b_out=$(jq '.tunnels[0].tx_packets' <<<"$sb") a_in=$(jq '.tunnels[0].rx_packets' <<<"$sa")
relayed=$(jq '.events.relayed' <<<"$sc")
[[ $a_out -gt 20 && $b_out -gt 100 ]] || { echo "FAIL: too little traffic in the tunnels"; exit 1; }
[[ $a_out -eq $b_in && $b_out -eq $a_in ]] || { echo "FAIL: a->b $a_out/$b_in, b->a $b_out/$a_in: packets lost in the mesh"; exit 1; }
[[ $relayed -eq $((a_out + b_out)) ]] || { echo "FAIL: gw-c relayed $relayed of $((a_out + b_out))"; exit 1; }
# The bridge floods unicast frames until it has learned where a MAC lives, so
# a gateway may see (and drop as not_for_us) a frame meant for another, and
# every gateway hears the ARP requests for the others; no other drop is
# allowed anywhere.
for s in "$sa" "$sb" "$sc"; do
  other=$(jq '.drops_total - .drops.not_for_us - .drops.arp_not_for_us' <<<"$s")
  [[ $other -eq 0 ]] || { echo "FAIL: $(jq -r .gateway <<<"$s") dropped $other packets"; exit 1; }
done
[[ $(jq '.events.mss_clamped' <<<"$sb") -ge 1 ]] || { echo "FAIL: the SYN's MSS was not clamped"; exit 1; }
[[ $(jq '.events.punted_to_kernel' <<<"$sa") -ge 3 && $(jq '.events.from_kernel' <<<"$sa") -ge 3 ]] ||
  { echo "FAIL: gw-a's exception path carried nothing"; exit 1; }

echo "== tshark on the underlay"
esp_ab=$(tshark -r "$dir/underlay.pcap" -Y "esp.spi == 0x1001" 2>/dev/null | wc -l)
esp_ba=$(tshark -r "$dir/underlay.pcap" -Y "esp.spi == 0x2001" 2>/dev/null | wc -l)
plain=$(tshark -r "$dir/underlay.pcap" -Y "ip.addr == 192.0.2.0/24 || ip.addr == 198.51.100.0/24" 2>/dev/null | wc -l)
hops=$(tshark -r "$dir/underlay.pcap" -Y "esp.spi == 0x1001" -T fields -e ip.src -e ip.dst 2>/dev/null | sort | uniq -c)
echo "ESP spi 0x1001: $esp_ab packets, spi 0x2001: $esp_ba, site traffic in clear: $plain"
echo "$hops"
# Each ESP packet crosses the underlay twice (to gw-c, from gw-c); libpcap
# may miss a few of a 4 MiB burst on a busy 2-core machine, never add any.
expect_ab=$((2 * a_out)) expect_ba=$((2 * b_out))
[[ $esp_ab -le $expect_ab && $esp_ab -ge $((expect_ab * 97 / 100)) &&
   $esp_ba -le $expect_ba && $esp_ba -ge $((expect_ba * 97 / 100)) ]] ||
  { echo "FAIL: expected $expect_ab and $expect_ba ESP packets on the underlay"; cat "$dir/tshark.log"; exit 1; }
grep -q "198.18.0.1	198.18.0.3" <<<"$hops" && grep -q "198.18.0.3	198.18.0.2" <<<"$hops" || { echo "FAIL: hops"; exit 1; }
[[ $plain -eq 0 ]] || { echo "FAIL: site traffic seen in clear on the underlay"; exit 1; }
key="$(grep -v '^#' "$dir/ab.key" | tr -d ' \n')"
! grep -q "$key" "$dir"/gw-*.log || { echo "FAIL: a key was logged"; exit 1; }
echo "relay netns e2e: OK"
