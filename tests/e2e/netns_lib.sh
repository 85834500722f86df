# SPDX-License-Identifier: BSD-3-Clause
# Shared by the netns e2e tests (sourced): the root check that skips cleanly,
# namespaces, veths, teardown, a paced stream, failing with the logs, and
# meshctld in a namespace. Each test keeps its own names (per-PID $tag), its
# $dir, its pids array, cleanup trap and diagram.

# Exits 77 (meson's "skipped") with a clear message without root or netns.
netns_require() {
  if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root for network namespaces"; exit 77; fi
  if ! ip netns add "mgw-probe-$$" 2>/dev/null; then echo "SKIP: cannot create network namespaces"; exit 77; fi
  ip netns del "mgw-probe-$$"
}

# veth NAME_IN_NS1 NS1 NAME_IN_NS2 NS2 (uses $tag for the temporary names).
# Real frames on the wire: no checksum left to the NIC, no 64 KiB GSO
# segments (af_packet would hand both to meshgw as they are); no IPv6.
veth() {
  ip link add "$tag-t1" type veth peer name "$tag-t2"
  ip link set "$tag-t1" netns "$2" name "$1"
  ip link set "$tag-t2" netns "$4" name "$3"
  for side in "$2:$1" "$4:$3"; do
    ip netns exec "${side%%:*}" sysctl -qw "net.ipv6.conf.${side##*:}.disable_ipv6=1"
    ip netns exec "${side%%:*}" ethtool -K "${side##*:}" tx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "${side%%:*}" link set "${side##*:}" up
  done
}

# Stops the given PIDs (SIGINT, then SIGKILL after 5 s) and deletes the given
# namespaces: netns_teardown "PID..." NS... (for a test's EXIT trap).
netns_teardown() {
  local p ns
  trap - ERR  # cleaning up, every step is tried
  for p in $1; do kill -INT "$p" 2>/dev/null; done
  for p in $1; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  shift
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
}

# Namespaces with loopback up and IPv6 off (the tests' underlay and sites
# are IPv4: no router solicitations or MLD reports): netns_make NS...
netns_make() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
}

# A paced, numbered UDP stream (tests/e2e/udp_stream.py) while the test
# does something: stream_start RECV_NS SEND_NS TO PORT RATE DURATION OUT,
# then stream_finish, after which OUT holds the receiver's JSON (received,
# lost, max_gap_ms, ...). One stream at a time.
stream_start() {
  ( exec ip netns exec "$1" /usr/bin/python3 "$root/tests/e2e/udp_stream.py" recv --port "$4" > "$7" 2>/dev/null ) &
  stream_recv_pid=$!
  sleep 0.3
  ( exec ip netns exec "$2" /usr/bin/python3 "$root/tests/e2e/udp_stream.py" send --to "$3" --port "$4" --rate "$5" \
      --duration "$6" > /dev/null ) &
  stream_send_pid=$!
}
stream_finish() {
  wait "$stream_send_pid" || true
  sleep 0.5
  kill -INT "$stream_recv_pid"
  wait "$stream_recv_pid" || true
}
# stream_field FILE FIELD: one figure of a stream's JSON.
stream_field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# The test failed: the end of every log in $dir, then the message (last, so
# it survives when only the end of the output is kept).
fail() {
  local f
  trap - ERR
  for f in "$dir"/*.log; do echo "== $f"; tail -25 "$f"; done
  echo "FAIL: $*"
  exit 1
}
# A command that fails outside "|| fail" (set -e would end the test with no
# word) fails the test naming its line and command.
set -E
trap 'fail "line $LINENO: \"$BASH_COMMAND\" exited with $?"' ERR
# in_ns NAME CMD...: CMD in namespace $tag-NAME.
in_ns() { local ns="$tag-$1"; shift; ip netns exec "$ns" "$@"; }
# For "bg NAME CMD... &": the background job becomes CMD itself, so its PID
# takes signals (a function left as a subshell would not pass them on).
bg() { local ns="$tag-$1"; shift; exec ip netns exec "$ns" "$@"; }

# meshctld_setup NS IP DOWN_AFTER_MS: a mesh (CA, admin token) in $dir/ctl
# for a controller on IP (API 8443, beacons 8444) in namespace NS, its
# config in $dir/meshctld.toml, and meshctl's environment for it.
meshctld_setup() {
  meshctld_ns="$1"
  ip netns exec "$1" "$meshctld" init --state-dir "$dir/ctl" --server-ip "$2" --token-file "$dir/admin.token" \
    > "$dir/init.log" 2>&1 || fail "meshctld init"
  cat > "$dir/meshctld.toml" <<EOT
[controller]
state_dir = "$dir/ctl"
[api]
listen = "$2:8443"
[beacons]
listen = "$2:8444"
down_after_ms = $3
EOT
  export MESHCTL_SERVER="https://$2:8443" MESHCTL_CA="$dir/ctl/ca.pem"
  MESHCTL_TOKEN="$(cat "$dir/admin.token")"
  export MESHCTL_TOKEN
}
# meshctld_start: starts (or restarts, after a kill) that controller and
# waits until it is ready; its PID in meshctld_pid (and in pids).
meshctld_start() {
  local before
  before="$(grep -c '^meshctld: ready' "$dir/meshctld.log" 2>/dev/null || true)"
  ( exec ip netns exec "$meshctld_ns" "$meshctld" --config "$dir/meshctld.toml" >> "$dir/meshctld.log" 2>&1 ) &
  meshctld_pid=$!
  pids+=("$meshctld_pid")
  for _ in $(seq 100); do
    [[ "$(grep -c '^meshctld: ready' "$dir/meshctld.log" 2>/dev/null || true)" -gt "${before:-0}" ]] && return 0
    sleep 0.1
  done
  fail "meshctld did not start"
}
