#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Three meshgw join a meshctld, probe each other through their data planes
# (TWAMP-light sent by one gateway's workers, reflected by the other's fast
# path), report the links in their beacons and plan paths over them. A
# tunnel asked for through the middle one gives it relay entries from the
# controller, and an ESP packet sent to it is relayed on, without crypto.
# When the underlay is cut, a gateway sees its peer down from its own
# probes, and the test measures how long that took.
#
#   ns ctl: meshctld 198.19.0.1 (br0) -- mgmt veths (kernel) -- ns gwa/gwb/gwc 198.19.0.11/12/13
#   ns gwa: meshgw wan 198.18.0.1 --veth-- br0 (ns ul, 198.18.0.100) --veth-- ns gwb: wan 198.18.0.2
#                                            |
#                                          veth -- ns gwc: wan 198.18.0.3
#
# The gateways' control traffic (registration, beacons, the state stream)
# goes over the kernel's mgmt interface; probes over the DPDK-owned WAN
# port (net_af_packet). Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MESHGW_BUILD:-$root/build}"
meshgw="$build/controlplane/agent/meshgw"
meshctl="$build/controlplane/cli/meshctl"
meshctld="$build/controlplane/controller/meshctld"

# shellcheck source=netns_lib.sh
source "$root/tests/e2e/netns_lib.sh"
netns_require

tag="p$$"
ns_ctl="$tag-ctl" ns_a="$tag-gwa" ns_b="$tag-gwb" ns_c="$tag-gwc" ns_ul="$tag-ul"
dir="$(mktemp -d)"
pids=()
cleanup() {
  set +e
  netns_teardown "${pids[*]}" "$ns_ctl" "$ns_a" "$ns_b" "$ns_c" "$ns_ul"
  rm -rf /var/run/dpdk/"$tag"-*
  if [[ -n "${MESHGW_KEEP:-}" ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

netns_make "$ns_ctl" "$ns_a" "$ns_b" "$ns_c" "$ns_ul"
for ns in "$ns_ul" "$ns_ctl"; do ip -n "$ns" link add br0 type bridge; ip -n "$ns" link set br0 up; done
ip -n "$ns_ctl" addr add 198.19.0.1/24 dev br0
ip -n "$ns_ul" addr add 198.18.0.100/24 dev br0  # the test's own port on the underlay
n=11
for g in a b c; do
  ns_var="ns_$g"
  veth wan "${!ns_var}" "to-$g" "$ns_ul"
  ip -n "$ns_ul" link set "to-$g" master br0
  veth mgmt "${!ns_var}" "m-$g" "$ns_ctl"
  ip -n "$ns_ctl" link set "m-$g" master br0
  ip -n "${!ns_var}" addr add "198.19.0.$n/24" dev mgmt
  n=$((n + 1))
  # The kernel must leave the DPDK port's frames alone (af_packet copies them).
  ip netns exec "${!ns_var}" nft add table netdev meshgw
  ip netns exec "${!ns_var}" nft add chain netdev meshgw in_wan "{ type filter hook ingress device wan priority 0; policy drop; }"
done

# The controller, reachable on the mgmt network.
meshctld_setup "$ns_ctl" 198.19.0.1 2000
meshctld_start
ctl() { ip netns exec "$ns_ctl" "$meshctl" "$@"; }

gateway_config() {  # name, wan address, mac suffix
  local token
  token="$(ctl tokens create --role core 2>/dev/null)"
  install -m 600 /dev/null "$dir/$1.token"
  echo "$token" > "$dir/$1.token"
  cat > "$dir/$1.toml" <<EOT
[gateway]
id = "$1"
[eal]
args = ["--no-huge", "-m", "256", "--file-prefix", "$tag-$1", "--log-level", "*:error"]
[dataplane]
worker_cpus = [1]
idle = "sleep"
idle_sleep_max_us = 200
[stats]
listen = "127.0.0.1:0"
[controller]
url = "https://198.19.0.1:8443"
ca_file = "$dir/ctl/ca.pem"
join_token_file = "$dir/$1.token"
state_dir = "$dir/$1-state"
beacon_interval_ms = 300
probe_interval_ms = 20
probe_timeout_ms = 60
probe_down_after = 3
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet0,iface=wan,framecnt=4096"
address = "$2/24"
mac = "02:00:00:00:$3:02"
EOT
}
gateway_config a 198.18.0.1 0a
gateway_config b 198.18.0.2 0b
gateway_config c 198.18.0.3 0c
for g in a b c; do
  ns_var="ns_$g"
  ip netns exec "${!ns_var}" "$meshgw" --config "$dir/$g.toml" > "$dir/$g.log" 2>&1 &
  pids+=($!)
done
for g in a b c; do
  for _ in $(seq 100); do grep -q '^meshgw: ready' "$dir/$g.log" && break; sleep 0.1; done
  grep -q '^meshgw: ready' "$dir/$g.log" || fail "gateway $g did not start"
done

# All six directed links measured by probes and known to the controller.
links=""
for _ in $(seq 150); do
  links="$(ctl links -o json 2>/dev/null || true)"
  count="$(echo "$links" | /usr/bin/python3 -c 'import json,sys; print(sum(1 for l in json.load(sys.stdin)["links"] if l["rtt_us"] > 0))' 2>/dev/null || echo 0)"
  [[ "$count" == 6 ]] && break
  sleep 0.1
done
[[ "$count" == 6 ]] || fail "the controller did not learn the six links from the probes: $links"
echo "links measured by TWAMP-light through the data planes:"
ctl links
# The probes and their replies are network control (DSCP CS6), for the
# WAN's priority queue: a link congested by data still carries them.
dscps="$(ip netns exec "$ns_ul" tshark -i br0 -c 6 -a duration:10 -f "udp port 862" -T fields -e ip.dsfield.dscp \
  2>/dev/null | sort | uniq -c | tr -s ' ')" || true
echo "DSCP of TWAMP-light packets seen on the underlay (count, value): $dscps"
[[ "$dscps" == " 6 48" ]] || fail "every TWAMP-light packet should carry DSCP 48 (CS6): $dscps"

# gw-a plans the direct path over the measured link.
stats_a="$(sed -n 's/^meshgw: ready stats_port=//p' "$dir/a.log")"
id_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway_id"])' "$dir/$1-state/identity.json"; }
id_a="$(id_of a)" id_b="$(id_of b)" id_c="$(id_of c)"
for _ in $(seq 50); do
  ip netns exec "$ns_a" "$meshctl" gateway paths --stats "http://127.0.0.1:$stats_a" > "$dir/paths.txt" 2>/dev/null || true
  grep -q "^$id_b  *default  *$id_a > $id_b " "$dir/paths.txt" && break
  sleep 0.1
done
cat "$dir/paths.txt"
grep -q "^$id_b  *default  *$id_a > $id_b " "$dir/paths.txt" || fail "gw-a has no direct path to $id_b"
ip netns exec "$ns_a" "$meshctl" explain --stats "http://127.0.0.1:$stats_a" --to "$id_b" | tee "$dir/explain.txt"
grep -q "^  takes " "$dir/explain.txt" || fail "explain shows no path"

# A tunnel a > c > b, asked for by gw-a through the gateway API: gw-c gets
# relay entries for both directions from the controller.
ctl gw tunnel-create --path "$id_a,$id_c,$id_b" --cert "$dir/a-state/gateway.pem" --key "$dir/a-state/gateway.key" \
  -o json > "$dir/tunnel.json" || fail "tunnel through gw-c refused"
spi="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["forward"]["spi"])' "$dir/tunnel.json")" ||
  fail "no SPI in the tunnel answer"
for _ in $(seq 50); do grep -q "relays from the mesh state: 2" "$dir/c.log" && break; sleep 0.1; done
grep -q "relays from the mesh state: 2" "$dir/c.log" || fail "gw-c did not install the two relays"
# An ESP packet as gw-a would send it (SPI $spi, from 198.18.0.1) goes to
# gw-c, which relays it to gw-b without keys: seen leaving gw-c on the underlay.
ip netns exec "$ns_ul" tshark -i br0 -c 1 -a duration:15 -w "$dir/relayed.pcap" \
  -f "udp port 4500 and src host 198.18.0.3 and dst host 198.18.0.2" > "$dir/capture.log" 2>&1 &
capture_pid=$!
pids+=($capture_pid)
for _ in $(seq 50); do grep -q "Capturing on" "$dir/capture.log" && break; sleep 0.1; done
ip netns exec "$ns_ul" /usr/bin/python3 - "$spi" <<'PY' || fail "could not send the test ESP packet"
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
spi = int(sys.argv[1])
esp = spi.to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes(8) + bytes(48)  # header, IV, opaque payload + ICV
frame = Ether(src="02:00:00:00:0a:02", dst="02:00:00:00:0c:02") / IP(src="198.18.0.1", dst="198.18.0.3", ttl=64) / \
    UDP(sport=4500, dport=4500, chksum=0) / Raw(esp)
for _ in range(3):
    sendp(frame, iface="br0", verbose=False)
PY
for _ in $(seq 100); do kill -0 "$capture_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$capture_pid" 2>/dev/null && fail "no relayed ESP packet from gw-c to gw-b"
relayed_spi="$(ip netns exec "$ns_ul" tshark -r "$dir/relayed.pcap" -T fields -e esp.spi 2>/dev/null | head -1)" || true
[[ $((relayed_spi)) == "$spi" ]] || fail "relayed SPI $relayed_spi, expected $spi"
echo "gw-c relayed SPI $spi from gw-a to gw-b with the controller's relay entry"

# Cut the underlay; each side's probes see its peer down.
# (a flap before the cut, on a loaded machine, does not count: only a
# "down" logged after it)
downs_before="$(grep -c "probes lost, down" "$dir/a.log" || true)"
cut_ns="$(date +%s%N)"
ip -n "$ns_ul" link set to-b down
down_ns=""
for _ in $(seq 300); do
  if (( $(grep -c "probes lost, down" "$dir/a.log" || true) > downs_before )); then down_ns="$(date +%s%N)"; break; fi
  sleep 0.01
done
[[ -n "$down_ns" ]] || fail "gw-a did not notice the cut"
detect_ms=$(( (down_ns - cut_ns) / 1000000 ))
echo "cut noticed by gw-a's probes after $detect_ms ms (20 ms probes, 60 ms timeout, 3 lost)"
(( detect_ms < 300 )) || fail "detection took $detect_ms ms (goal under 300 ms)"
# gw-b is cut off from the underlay: gw-a's own probes say so at once; the
# way round through gw-c goes too once gw-c's beacons report its loss.
for _ in $(seq 50); do grep -q "no path to $id_b" "$dir/a.log" && break; sleep 0.1; done
grep -q "no path to $id_b" "$dir/a.log" || fail "gw-a kept a path to the cut-off gw-b"

# Restored: the probes answer again and the path comes back.
ip -n "$ns_ul" link set to-b up
for _ in $(seq 100); do
  [[ "$(grep -c "path to $id_b/default: " "$dir/a.log")" -ge 2 ]] && break
  sleep 0.1
done
[[ "$(grep -c "path to $id_b/default: " "$dir/a.log")" -ge 2 ]] || fail "the path did not come back after the link was restored"
grep -q "admin token" "$dir/a.log" && fail "a token reached a gateway's log"
tok="$(cat "$dir/a.token")"
grep -qF "$tok" "$dir/a.log" "$dir/meshctld.log" && fail "the join token reached a log"
echo "PASS: probes through the data plane, links at the controller, planned paths, a relay installed from the controller and used, the cut seen in $detect_ms ms, restored"
