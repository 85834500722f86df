#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Edge gateways behind NATs (namespaces with nftables masquerade, as a home
# router or a cloud NAT gateway does it) join the mesh and carry their
# sites' traffic, both ways. A NATed gateway declares no address; the
# controller publishes where its beacons come from (the NAT's mapping of its
# ESP port, RFC 3948); it keeps that mapping open with NAT keepalives, sets
# up its tunnels to public gateways itself (nobody can reach it to agree
# keys) and they answer on the reverse SAs, sent to the mapping. Two NATed
# edges agree keys through meshctld's key relay (end-to-end TLS inside it);
# probing each other's mapping at once opens a direct way between their
# NATs, and when UDP between the NATs is blocked their traffic crosses the
# core gateway as transit.
#
#   ns ul: br0 198.18.0.0/24: meshctld .100, c1 (core) .1, e1 (edge) .4, NAT outsides .6 and .7
#   ns nat1: out 198.18.0.6 (masquerade) | in 198.18.1.1 -- n1: wan 198.18.1.2, behind_nat
#   ns nat2: out 198.18.0.7 (masquerade) | in 198.18.2.1 -- n2: wan 198.18.2.2, behind_nat
#   sites: h-e1 192.0.2.10 -- e1;  h-n1 198.51.100.20 -- n1;  h-n2 203.0.113.30 -- n2
#
# Everything, the controller's API and beacons included, goes over the
# underlay (the gateways' kernels reach it through their exception paths).
# Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MESHGW_BUILD:-$root/build}"
meshgw="$build/controlplane/agent/meshgw"
meshctl="$build/controlplane/cli/meshctl"
meshctld="$build/controlplane/controller/meshctld"
py=/usr/bin/python3

# shellcheck source=netns_lib.sh
source "$root/tests/e2e/netns_lib.sh"
netns_require

tag="n$$"
nss=("$tag-ul" "$tag-ctl" "$tag-nat1" "$tag-nat2" "$tag-c1" "$tag-e1" "$tag-n1" "$tag-n2" "$tag-he1" "$tag-hn1" "$tag-hn2")
dir="$(mktemp -d)"
pids=()
cleanup() {
  set +e
  netns_teardown "${pids[*]}" "${nss[@]}"
  rm -rf /var/run/dpdk/"$tag"-*
  if [[ -n "${MESHGW_KEEP:-}" ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

netns_make "${nss[@]}"
ip -n "$tag-ul" link add br0 type bridge
ip -n "$tag-ul" link set br0 up
veth eth0 "$tag-ctl" to-ctl "$tag-ul"
ip -n "$tag-ul" link set to-ctl master br0
ip -n "$tag-ctl" addr add 198.18.0.100/24 dev eth0
# A NAT: its outside on the underlay, masquerading what comes from inside,
# and dropping what nobody inside asked for (as a home router's firewall).
nat() {  # name, outside address, inside /24 prefix (a.b.c), gateway behind it
  veth out "$tag-$1" "to-$1" "$tag-ul"
  ip -n "$tag-ul" link set "to-$1" master br0
  veth in "$tag-$1" wan "$tag-$4"
  ip -n "$tag-$1" addr add "$2/24" dev out
  ip -n "$tag-$1" addr add "$3.1/24" dev in
  in_ns "$1" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$1" nft -f - <<'EOT'
table ip nat {
  chain postrouting { type nat hook postrouting priority 100; oifname "out" masquerade; }
}
table inet firewall {
  chain input { type filter hook input priority 0; iifname "out" ct state new drop; }
  chain forward { type filter hook forward priority 0; iifname "out" ct state new drop; }
}
EOT
}
nat nat1 198.18.0.6 198.18.1 n1
nat nat2 198.18.0.7 198.18.2 n2
for g in c1 e1; do
  veth wan "$tag-$g" "to-$g" "$tag-ul"
  ip -n "$tag-ul" link set "to-$g" master br0
done
veth lan "$tag-e1" eth0 "$tag-he1"
veth lan "$tag-n1" eth0 "$tag-hn1"
veth lan "$tag-n2" eth0 "$tag-hn2"
for g in c1 e1 n1 n2; do
  in_ns "$g" nft add table netdev meshgw
  for dev in wan lan; do
    ip -n "$tag-$g" link show "$dev" >/dev/null 2>&1 || continue
    in_ns "$g" nft add chain netdev meshgw "in_$dev" "{ type filter hook ingress device $dev priority 0; policy drop; }"
  done
done
ip -n "$tag-he1" addr add 192.0.2.10/24 dev eth0
ip -n "$tag-he1" route add 198.51.100.0/24 via 192.0.2.1
ip -n "$tag-hn1" addr add 198.51.100.20/24 dev eth0
ip -n "$tag-hn1" route add 192.0.2.0/24 via 198.51.100.1
ip -n "$tag-hn1" route add 203.0.113.0/24 via 198.51.100.1
ip -n "$tag-hn2" addr add 203.0.113.30/24 dev eth0
ip -n "$tag-hn2" route add 198.51.100.0/24 via 203.0.113.1

meshctld_setup "$tag-ctl" 198.18.0.100 3000
meshctld_start
ctl() { in_ns ctl "$meshctl" "$@"; }

gateway() {  # name role wan/len mac-byte [lan/len] [extra controller lines] [extra wan port lines]
  install -m 600 /dev/null "$dir/$1.token"
  ctl tokens create --role "$2" > "$dir/$1.token" 2>/dev/null || fail "token for $1"
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
url = "https://198.18.0.100:8443"
ca_file = "$dir/ctl/ca.pem"
join_token_file = "$dir/$1.token"
state_dir = "$dir/$1-state"
role = "$2"
beacon_interval_ms = 500
probe_interval_ms = 50
probe_timeout_ms = 200
$6
[[port]]
name = "wan"
role = "wan"
device = "net_af_packet0,iface=wan,framecnt=4096"
address = "$3"
mac = "02:00:00:00:$4:02"
exception_iface = "mgw0"
$7
EOT
  if [[ -n "$5" ]]; then
    cat >> "$dir/$1.toml" <<EOT
[[port]]
name = "lan"
role = "lan"
device = "net_af_packet1,iface=lan,framecnt=4096"
address = "$5"
mac = "02:00:00:00:$4:01"
EOT
  fi
}
gateway c1 core 198.18.0.1/24 01 "" "" ""
gateway e1 edge 198.18.0.4/24 04 192.0.2.1/24 "" ""
gateway n1 edge 198.18.1.2/24 09 198.51.100.1/24 $'behind_nat = true\nnat_keepalive_ms = 1000' 'router = "198.18.1.1"'
gateway n2 edge 198.18.2.2/24 0a 203.0.113.1/24 $'behind_nat = true\nnat_keepalive_ms = 1000' 'router = "198.18.2.1"'
for g in c1 e1 n1 n2; do
  bg "$g" "$meshgw" --config "$dir/$g.toml" > "$dir/$g.log" 2>&1 &
  pids+=($!)
done
for g in c1 e1 n1 n2; do
  for _ in $(seq 100); do grep -q '^meshgw: ready' "$dir/$g.log" && break; sleep 0.1; done
  grep -q '^meshgw: ready' "$dir/$g.log" || fail "gateway $g did not start"
done
# The NATed gateways' kernels (registration, key exchange) leave through
# their exception paths to their routers, like any host behind a NAT.
in_ns n1 ip route add default via 198.18.1.1 dev mgw0 || fail "no default route for n1's kernel"
in_ns n2 ip route add default via 198.18.2.1 dev mgw0 || fail "no default route for n2's kernel"

for _ in $(seq 150); do
  [[ -f "$dir/n1-state/identity.json" && -f "$dir/n2-state/identity.json" && -f "$dir/e1-state/identity.json" &&
     -f "$dir/c1-state/identity.json" ]] && break
  sleep 0.1
done
[[ -f "$dir/n1-state/identity.json" ]] || fail "n1 did not register through its NAT"
id_of() { $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway_id"])' "$dir/$1-state/identity.json"; }
id_n1="$(id_of n1)" id_n2="$(id_of n2)" id_e1="$(id_of e1)"
# The controller publishes n1 where its beacons come from: the NAT's mapping.
for _ in $(seq 100); do
  addr="$(ctl gateways show --id "$id_n1" -o json 2>/dev/null | $py -c 'import json,sys; g=json.load(sys.stdin); print(",".join(g.get("addresses", [])), g.get("behind_nat"))' 2>/dev/null || true)"
  [[ "$addr" == "198.18.0.6:"*" True" ]] && break
  sleep 0.1
done
[[ "$addr" == "198.18.0.6:"*" True" ]] || fail "n1's address at the controller is '$addr', not the NAT's mapping"
echo "n1 ($id_n1) registered through the NAT; the controller reaches it at ${addr% *}"

stats_port() { sed -n 's/^meshgw: ready stats_port=//p' "$dir/$1.log"; }
active_to() {  # gateway, egress id -> the active tunnel's path, if any
  in_ns "$1" curl -sf "http://127.0.0.1:$(stats_port "$1")/v1/peers" 2>/dev/null | $py -c '
import json, sys
for t in json.load(sys.stdin)["tunnels"]:
    if t["active"] and t["egress"] == sys.argv[1]:
        print(">".join(t["path"]) + (" (own)" if t["own"] else " (a peer tunnel, reversed)")); break' "$2" 2>/dev/null || true
}
for _ in $(seq 300); do
  [[ -n "$(active_to n1 "$id_e1")" && -n "$(active_to e1 "$id_n1")" && -n "$(active_to n1 "$id_n2")" &&
     -n "$(active_to n2 "$id_n1")" ]] && break
  sleep 0.1
done
[[ -n "$(active_to n1 "$id_e1")" ]] || fail "n1 has no tunnel to e1"
[[ -n "$(active_to e1 "$id_n1")" ]] || fail "e1 has no way back to n1"
[[ -n "$(active_to n1 "$id_n2")" && -n "$(active_to n2 "$id_n1")" ]] || fail "the NATed edges have no tunnel between them"
echo "n1 -> e1: $(active_to n1 "$id_e1"); e1 -> n1: $(active_to e1 "$id_n1")"
echo "n1 <-> n2 (both behind NAT): $(active_to n1 "$id_n2"); $(active_to n2 "$id_n1")"
grep -q "key relay\|through the controller's relay" "$dir/n2.log" || fail "n2 does not wait at the key relay"

bg ul tshark -q -i br0 -w "$dir/underlay.pcap" -f "udp port 4500" 2>"$dir/tshark.log" &
tshark_pid=$!
pids+=($tshark_pid)
for _ in $(seq 50); do grep -q "Capturing on" "$dir/tshark.log" && break; sleep 0.1; done
for pair in "hn1 192.0.2.10" "he1 198.51.100.20" "hn1 203.0.113.30" "hn2 198.51.100.20"; do
  read -r h to <<< "$pair"
  in_ns "$h" ping -c 1 -W 3 "$to" >/dev/null 2>&1 || true
  for attempt in 1 2; do  # a second loss in a row is a failure (see the tunnels test)
    in_ns "$h" ping -c 10 -i 0.05 -W 2 "$to" > "$dir/ping-$h.txt" 2>&1 || true
    grep -q " 0% packet loss" "$dir/ping-$h.txt" && break
    echo "ping from $h to $to, attempt $attempt: $(grep -o '[0-9]*% packet loss' "$dir/ping-$h.txt")"
  done
  grep -q " 0% packet loss" "$dir/ping-$h.txt" || fail "ping from $h to $to: $(tail -2 "$dir/ping-$h.txt")"
done
echo "ping both ways between the NATed site and the public one, and between the two NATed sites: no loss"
# UDP both ways, paced.
for pair in "hn1 he1 192.0.2.10" "he1 hn1 198.51.100.20" "hn1 hn2 203.0.113.30" "hn2 hn1 198.51.100.20"; do
  read -r from to addr <<< "$pair"
  stream_start "$tag-$to" "$tag-$from" "$addr" 6000 500 2 "$dir/udp-$from-$to.json"
  stream_finish
  lost=$((1000 - $(stream_field "$dir/udp-$from-$to.json" received)))
  echo "UDP $from -> $to: $(cat "$dir/udp-$from-$to.json")"
  [[ "$lost" == 0 ]] || fail "UDP $from -> $to lost $lost of 1000"
done
sleep 0.3
kill -INT "$tshark_pid"; wait "$tshark_pid" 2>/dev/null || true
in_ns ul tshark -r "$dir/underlay.pcap" -Y esp -T fields -e ip.src -e ip.dst -e udp.srcport -e udp.dstport 2>/dev/null |
  sort | uniq -c > "$dir/esp.txt" || true
cat "$dir/esp.txt"
# Peers (e1 directly, or c1 relaying) send to each NAT's mapping, and only
# the NATs' outside addresses appear: never a private one.
for n in 198.18.0.6 198.18.0.7; do
  grep -q "	$n	4500	4500" "$dir/esp.txt" || fail "no ESP to the NAT mapping $n:4500 on the underlay"
  grep -q " $n	" "$dir/esp.txt" || fail "no ESP from the NAT $n on the underlay"
done
grep -q "198.18.[12]\." "$dir/esp.txt" && fail "a private address behind a NAT leaked onto the underlay"
# The two NATed edges found the direct way between their NATs (each probed
# the other's mapping at once): ESP goes from one NAT's outside to the other's.
direct="$(awk '($2 == "198.18.0.6" && $3 == "198.18.0.7") || ($2 == "198.18.0.7" && $3 == "198.18.0.6") {n += $1} END {print n + 0}' "$dir/esp.txt")"
(( direct > 100 )) || fail "no direct ESP between the two NATs ($direct packets)"
echo "n1 <-> n2 directly between their NATs: $direct ESP packets"

# When the way between the NATs closes (UDP between them dropped), their
# traffic goes on through the core as transit.
in_ns ul nft -f - <<'EOT'
table bridge underlay {
  chain forward { type filter hook forward priority 0; policy accept;
    ip saddr 198.18.0.6 ip daddr 198.18.0.7 meta l4proto udp drop
    ip saddr 198.18.0.7 ip daddr 198.18.0.6 meta l4proto udp drop
  }
}
EOT
for pair in "hn1 hn2 203.0.113.30" "hn2 hn1 198.51.100.20"; do
  read -r from to addr <<< "$pair"
  stream_start "$tag-$to" "$tag-$from" "$addr" 6100 500 4 "$dir/blocked-$from-$to.json"
  stream_finish
  echo "UDP $from -> $to with the NATs' direct way closed: $(cat "$dir/blocked-$from-$to.json")"
  received="$(stream_field "$dir/blocked-$from-$to.json" received)"
  (( received > 1500 )) || fail "UDP $from -> $to: only $received of 2000 arrived with the direct way closed"
done
for g in n1 n2; do
  p="$(active_to "$g" "$([[ $g == n1 ]] && echo "$id_n2" || echo "$id_n1")")"
  [[ "$p" == *">$(id_of c1)>"* ]] || fail "$g -> the other NATed edge takes $p, not the core"
done
in_ns hn1 ping -c 5 -i 0.1 -W 2 203.0.113.30 > "$dir/ping-blocked.txt" 2>&1 || true
grep -q " 0% packet loss" "$dir/ping-blocked.txt" || fail "n1 -> n2 through the core: $(tail -2 "$dir/ping-blocked.txt")"
echo "n1 <-> n2 with the direct way closed: through the core ($(active_to n1 "$id_n2"))"
keepalives="$(in_ns e1 curl -sf "http://127.0.0.1:$(stats_port e1)/v1/stats" | $py -c 'import json,sys; print(json.load(sys.stdin)["drops"]["nat_keepalive"])')"
(( keepalives > 0 )) || fail "e1 saw no NAT keepalives from n1"
echo "PASS: edges behind NATs joined, were published at their NATs' mappings, kept them open ($keepalives keepalives at e1), carried ping and UDP both ways to a public edge and, keyed through the relay, to each other, directly between their NATs ($direct ESP packets) and through the core when that way closed"
