# SPDX-License-Identifier: BSD-3-Clause
# Shared by the netns e2e tests (sourced): the root check that skips cleanly,
# and a veth helper. Each test keeps its own names (per-PID tag), cleanup
# trap and diagram.

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
  for p in $1; do kill -INT "$p" 2>/dev/null; done
  for p in $1; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  shift
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
}
