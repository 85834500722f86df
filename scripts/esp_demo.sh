#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ESP on its own, without a mesh: encrypt a sample LAN capture into standard
# ESP-in-UDP (AES-256-GCM) with meshgw's crypto, decrypt it back, and have
# tshark, which nobody here wrote, decrypt and verify it too. Installs and
# builds what it needs. Output in out/demo/. (README command 1, the whole
# mesh, is scripts/demo.sh.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
# MESHGW_DEMO_PREBUILT=1: the caller (the e2e test) has already built everything.
build="${MESHGW_BUILD:-build}"
if [[ "${MESHGW_DEMO_PREBUILT:-0}" != 1 ]]; then
  scripts/setup.sh --builddir "$build"
  ninja -C "$build" >/dev/null
fi

demo="${MESHGW_DEMO_DIR:-$here/out/demo}"
mkdir -p "$demo"
rm -f "$demo"/*.pcap "$demo/sa.key"
meshctl="$build/controlplane/cli/meshctl"
spi=0x00001001

echo "== 1. a sample LAN capture"
/usr/bin/python3 scripts/make_sample_pcap.py "$demo/lan.pcap" --count 200
echo "wrote $demo/lan.pcap"

echo "== 2. a fresh SA key (0600, never printed)"
"$meshctl" esp keygen --out "$demo/sa.key"

echo "== 3. encrypt: LAN packets -> ESP-in-UDP (32-bit sequence numbers so Wireshark 4.0 can check every ICV)"
"$meshctl" esp encrypt --in "$demo/lan.pcap" --out "$demo/esp.pcap" --key-file "$demo/sa.key" \
  --spi "$spi" --src 198.18.0.1 --dst 198.18.0.2 --no-esn

echo "== 4. decrypt with meshgw: back to the LAN packets"
"$meshctl" esp decrypt --in "$demo/esp.pcap" --out "$demo/decrypted.pcap" --key-file "$demo/sa.key" \
  --spi "$spi" --no-esn

echo "== 5. tshark decrypts and verifies the same file"
key="$(grep -v '^#' "$demo/sa.key" | tr -d ' \n')"
uat="uat:esp_sa:\"IPv4\",\"198.18.0.1\",\"198.18.0.2\",\"$spi\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x$key\",\"NULL\",\"\""
tshark -r "$demo/esp.pcap" -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
  -o "$uat" -T fields -e esp.icv_good 2>/dev/null | sort | uniq -c |
  awk '{ printf "tshark: %d of the ESP packets have a %s ICV\n", $1, ($2 == "1" ? "correct" : "WRONG or unchecked") }'
echo "first packets as tshark sees them, decrypted:"
tshark -r "$demo/esp.pcap" -o esp.enable_encryption_decode:TRUE -o "$uat" -c 4 2>/dev/null | sed 's/^/  /'
cmp <(tshark -r "$demo/lan.pcap" -Y "ip or ipv6" -T fields -e ip.src -e ip.dst -e ipv6.src -e ip.len -e ipv6.plen 2>/dev/null) \
    <(tshark -r "$demo/decrypted.pcap" -Y "ip or ipv6" -T fields -e ip.src -e ip.dst -e ipv6.src -e ip.len -e ipv6.plen 2>/dev/null) &&
  echo "decrypted.pcap holds the same IPv4 and IPv6 packets as lan.pcap"
echo "files: $demo/{lan,esp,decrypted}.pcap (open esp.pcap in Wireshark with the key from sa.key)"
