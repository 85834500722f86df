#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The lab's WAN emulator between three hosts, as the mesh lab uses it: the
# a-b link's delay shows in ping's RTT, its rate limit carries about its
# rate of a stream offered at twice that and drops the rest as queue_full
# with the queueing delay bounded by queue_ms, random loss drops its
# fraction, a cut drops everything until restored; a and c have no link, so
# their IPv4 is dropped (no_link) while TCP still crosses; bad commands and
# configs are refused with their reason; SIGINT prints the counters.
#
#   ns a 198.18.0.1 --+
#   ns b 198.18.0.2 --+-- ns em: wanem (links a-b, b-c; none a-c)
#   ns c 198.18.0.3 --+
# Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MESHGW_BUILD:-$root/build}"
wanem="$build/scripts/lab/wanem/wanem"
py=/usr/bin/python3
# shellcheck source=netns_lib.sh
source "$root/tests/e2e/netns_lib.sh"
netns_require

tag="w$$"
nss=("$tag-em" "$tag-a" "$tag-b" "$tag-c")
dir="$(mktemp -d)"
pids=()
cleanup() {
  set +e
  netns_teardown "${pids[*]}" "${nss[@]}"
  rm -rf "$dir"
}
trap cleanup EXIT
netns_make "${nss[@]}"
declare -A ip=([a]=198.18.0.1 [b]=198.18.0.2 [c]=198.18.0.3)
for h in a b c; do
  veth eth0 "$tag-$h" "to-$h" "$tag-em"
  ip -n "$tag-$h" addr add "${ip[$h]}/24" dev eth0
done

cat > "$dir/wanem.toml" <<EOT
[emulator]
control_socket = "$dir/wanem.sock"
seed = 7
[[port]]
name = "a"
iface = "to-a"
[[port]]
name = "b"
iface = "to-b"
[[port]]
name = "c"
iface = "to-c"
[[link]]
a = "a"
b = "b"
delay_ms = 20
[[link]]
a = "b"
b = "c"
delay_ms = 5
EOT
"$wanem" --check-config "$dir/wanem.toml" | grep -q "is valid (3 ports, 2 links)" || fail "check-config"
( exec ip netns exec "$tag-em" "$wanem" --config "$dir/wanem.toml" > "$dir/wanem.log" 2>&1 ) &
wanem_pid=$!
pids+=("$wanem_pid")
for _ in $(seq 50); do grep -q "ready" "$dir/wanem.log" && break; sleep 0.1; done
grep -q "ready: 3 ports, 2 links" "$dir/wanem.log" || fail "wanem did not start"
wctl() { "$wanem" ctl --socket "$dir/wanem.sock" "$@"; }
link_field() {  # link_field FROM TO EXPR (a Python expression over the link's JSON as l)
  wctl stats | $py -c 'import json,sys; s=json.load(sys.stdin); l=[l for l in s["links"] if l["from"]==sys.argv[1] and l["to"]==sys.argv[2]][0]; print(eval(sys.argv[3]))' "$1" "$2" "$3"
}
drop_field() { wctl stats | $py -c 'import json,sys; print(json.load(sys.stdin)["drops"][sys.argv[1]])' "$1"; }

# 1. Delay: 20 ms each way.
rtt="$(in_ns a ping -c 5 -i 0.2 -q "${ip[b]}" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
echo "a-b ping RTT ${rtt} ms (link delay 20 ms each way)"
$py -c "import sys; sys.exit(0 if 39.5 <= $rtt <= 55 else 1)" || fail "RTT $rtt ms, expected about 40"
rtt_bc="$(in_ns b ping -c 5 -i 0.2 -q "${ip[c]}" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
echo "b-c ping RTT ${rtt_bc} ms (5 ms each way)"
$py -c "import sys; sys.exit(0 if 9.5 <= $rtt_bc <= 25 else 1)" || fail "RTT $rtt_bc ms, expected about 10"

# 2. No link a-c: IPv4 dropped, TCP crosses.
before="$(drop_field no_link)"
! in_ns a ping -c 2 -i 0.2 -W 1 -q "${ip[c]}" > /dev/null || fail "a reached c without a link"
[[ "$(drop_field no_link)" -gt "$before" ]] || fail "no_link not counted"
( exec ip netns exec "$tag-c" $py -c '
import socket; s = socket.socket(); s.bind(("0.0.0.0", 4501)); s.listen(1); c, _ = s.accept(); c.sendall(c.recv(100))' ) &
tcp_pid=$!
sleep 0.3
echo=$(in_ns a $py -c '
import socket; s = socket.create_connection(("198.18.0.3", 4501), timeout=3); s.sendall(b"key exchange"); print(s.recv(100).decode())')
wait "$tcp_pid"
[[ "$echo" == "key exchange" ]] || fail "TCP a-c did not cross: '$echo'"
echo "a-c: no link, ping dropped (no_link), TCP crosses"

# stream FROM_NS TO_IP RATE SECONDS SIZE -> the receiver's JSON in $dir/stream.json
stream() {
  ( exec ip netns exec "$tag-b" $py "$root/tests/e2e/udp_stream.py" recv --port 5001 > "$dir/stream.json" 2>/dev/null ) &
  local recv=$!
  sleep 0.3
  in_ns "$1" $py "$root/tests/e2e/udp_stream.py" send --to "$2" --port 5001 --rate "$3" --duration "$4" --size "$5" > /dev/null
  sleep 0.3
  kill -INT "$recv"
  wait "$recv" || true
}

# 3. Rate limit: 8 Mbit/s offered 16 (2000 x 1000-byte datagrams a second).
wctl set a-b rate_mbit=8 queue_ms=30 | grep -q '"ok":true' || fail "set rate"
wctl reset > /dev/null
stream a "${ip[b]}" 2000 2 972
received="$(stream_field "$dir/stream.json" received)"
full="$(link_field a b 'l["drops"]["queue_full"]')"
p99="$(link_field a b 'l["queue_delay_ms"]["p99"]')"
echo "rate 8 Mbit/s, 16 offered: received $received of 4000, queue_full $full, queueing p99 $p99 ms (queue 30 ms)"
$py -c "import sys; sys.exit(0 if 1700 <= $received <= 2300 and $full >= 1500 and 20 <= $p99 <= 30.2 else 1)" ||
  fail "rate limit: received $received, queue_full $full, p99 $p99"

# 4. Random loss 20 %, no rate limit.
wctl set a-b rate_mbit=0 loss=0.2 > /dev/null
stream a "${ip[b]}" 1000 2 200
lost="$(stream_field "$dir/stream.json" lost)"
received="$(stream_field "$dir/stream.json" received)"
echo "loss 0.2: received $received, lost $lost"
$py -c "import sys; r = $lost / ($lost + $received); sys.exit(0 if 0.15 <= r <= 0.25 else 1)" || fail "loss fraction"
wctl set a-b loss=0 > /dev/null

# 5. Cut and restore.
wctl cut a-b | grep -q '"ok":true' || fail "cut"
[[ "$(link_field a b 'l["up"]')" == False ]] || fail "a-b still up"
! in_ns a ping -c 2 -i 0.2 -W 1 -q "${ip[b]}" > /dev/null || fail "a reached b over a cut link"
[[ "$(link_field a b 'l["drops"]["cut"]')" -ge 2 ]] || fail "cut drops not counted"
wctl restore a-b > /dev/null
in_ns a ping -c 2 -i 0.2 -W 2 -q "${ip[b]}" > /dev/null || fail "a-b not back after restore"
echo "cut a-b: nothing crosses, counted as cut; restored: ping works"

# 6. Bad commands: one JSON error naming the word, exit status 1.
for bad in "cut a-c" "cut a-z" "set a-b loss=2" "set a-b colour=red" "explode"; do
  out="$(wctl $bad)" && fail "'$bad' accepted"
  grep -q '"error"' <<<"$out" || fail "'$bad': $out"
  echo "refused '$bad': $out"
done
sed 's/delay_ms = 20/delay_ms = -20/' "$dir/wanem.toml" > "$dir/bad.toml"
out="$("$wanem" --check-config "$dir/bad.toml" 2>&1)" && fail "bad config accepted"
grep -q "bad.toml:16: \[\[link\]\] 'a-b' delay_ms = -20: must be in 0..10000" <<<"$out" || fail "bad config: $out"

# 7. SIGINT: counters printed, the process gone.
kill -INT "$wanem_pid"
wait "$wanem_pid" || fail "wanem exited with an error"
grep -q '"no_link"' "$dir/wanem.log" || fail "no counters at exit"
[[ ! -e "$dir/wanem.sock" ]] || fail "control socket left behind"
echo "wanem e2e: OK"
