#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/esp_demo.sh (ESP without a mesh), run as a user would, with its claims checked:
# every ESP packet verifies in tshark and the decrypted capture equals the input.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
out="$(MESHGW_DEMO_PREBUILT=1 MESHGW_DEMO_DIR="$dir" "$root/scripts/esp_demo.sh" 2>&1)"
echo "$out"
grep -q "read      201 frames: 150 IPv4 + 50 IPv6 packets encrypted, 1 skipped (not_ip: 1)" <<<"$out"
grep -q "200 decrypted and verified, 0 dropped" <<<"$out"
grep -q "^tshark: 200 of the ESP packets have a correct ICV$" <<<"$out"
grep -q "decrypted.pcap holds the same IPv4 and IPv6 packets as lan.pcap" <<<"$out"
! grep -qi "wrong" <<<"$out"
[[ "$(stat -c %a "$dir/sa.key")" == 600 ]]
key="$(grep -v '^#' "$dir/sa.key" | tr -d ' \n')"
! grep -q "$key" <<<"$out"   # the key is never printed
echo "demo e2e: OK"
