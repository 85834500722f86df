#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 1 in its short form (scripts/demo.sh --short), with its
# figures checked: every gateway joined (at least 6), every pair of sites
# reaches every other, the longest path's ESP is seen on each of its hops
# with the controller's SPI, the failover gap is under 300 ms and the path
# moved, and nothing is left running or behind (processes, namespaces).
# Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MESHGW_BUILD:-$root/build}"
py=/usr/bin/python3
if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root for network namespaces"; exit 77; fi
if ! ip netns add "mgw-probe-$$" 2>/dev/null; then echo "SKIP: cannot create network namespaces"; exit 77; fi
ip netns del "mgw-probe-$$"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
rc=0
MESHGW_DEMO_PREBUILT=1 MESHGW_BUILD="$build" "$root/scripts/demo.sh" --short --json "$dir/figures.json" \
  > "$dir/demo.log" 2>&1 || rc=$?
cat "$dir/demo.log"
[[ $rc == 0 ]] || { echo "FAIL: the demo exited with $rc"; exit 1; }
$py - "$dir/figures.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok:
        print("FAIL:", what, json.dumps(f))
        sys.exit(1)
check(f["gateways"] >= 6 and f["joined"] == f["gateways"], "every gateway joined (at least 6)")
check(f["pairs"] == f["gateways"] * (f["gateways"] - 1) and f["pairs_reached"] == f["pairs"], "every pair reaches every other")
check(f["demand_lost_fraction"] < 0.01, "under 1 % of the pairs' traffic lost")
m = f["multihop"]
check(m["hops"] >= 3 and m["hops_with_esp"] == m["hops"], "the longest path's ESP seen on each of its hops")
check(m["stream_lost"] == 0, "nothing lost on the multi-hop path")
fo = f["failover"]
check(fo["recovered"] and fo["gap_ms"] < 300, "traffic back after the cut, the gap under 300 ms")
check(fo["path_after"] and fo["path_after"] != fo["path_before"] and fo["cut"][1] not in fo["path_after"][1:2],
      "the path moved off the cut link")
check(f["left_namespaces"] == [], "no namespace left behind")
check(f["svg"] and "<svg" in open(f["svg"]).read() and "nyc" in open(f["svg"]).read(),
      "an SVG of the mesh from meshctl topology and Graphviz, gateways named by their sites")
print(f"figures: {f['joined']} gateways, {f['pairs_reached']}/{f['pairs']} pairs, failover gap {fo['gap_ms']} ms, "
      f"{m['hops']} hops with ESP on each, {f['seconds']} s")
PY
if pgrep -f "meshgw-demo-" > /dev/null; then echo "FAIL: processes of the demo still running: $(pgrep -af meshgw-demo-)"; exit 1; fi
echo "PASS: the mesh demo's figures hold and it cleaned up after itself"
