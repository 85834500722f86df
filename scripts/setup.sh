#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs every Debian 12 package meshgw needs (apt only) and configures the
# meson build directory. Idempotent: a second run installs nothing and only
# reconfigures. Usage: scripts/setup.sh [--builddir DIR] [--werror] [--no-build] [--bench]
# --bench also installs the tunnels scripts/bench/tunnels.py compares meshgw
# with (Nebula, wireguard-go, strongSwan's userspace ESP) and iperf3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
builddir="$here/build"
werror=false
configure=true
bench=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --builddir) builddir="$2"; shift 2 ;;
    --werror) werror=true; shift ;;
    --no-build) configure=false; shift ;;
    --bench) bench=true; shift ;;
    -h|--help) sed -n 3,7p "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  build-essential pkg-config meson ninja-build clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # data plane and crypto
  libdpdk-dev dpdk dpdk-dev dpdk-doc libipsec-mb-dev libssl-dev openssl libnuma-dev libpcap-dev
  # control plane
  libboost-dev libboost-graph-dev libtomlplusplus-dev nlohmann-json3-dev prometheus-cpp-dev
  libsqlite3-dev sqlite3
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev tshark python3 python3-scapy python3-cryptography python3-pytest
  python3-statsmodels python3-jsonschema iproute2 jq graphviz xz-utils ethtool curl iputils-ping nftables
)

# strongSwan: libcharon-extra-plugins ships kernel-libipsec (ESP in userspace),
# libstrongswan-standard-plugins the openssl/gcm plugins behind aes256gcm16.
$bench && packages+=(nebula wireguard-go wireguard-tools strongswan strongswan-swanctl libcharon-extra-plugins
  libstrongswan-standard-plugins iperf3)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture; the answer does not matter here.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

$configure || exit 0
opts=(--buildtype=release -Db_ndebug=if-release)
$werror && opts+=(--werror)
if [[ -f "$builddir/build.ninja" ]]; then
  meson configure "$builddir" "${opts[@]}" >/dev/null
else
  CC=gcc CXX=g++ meson setup "$builddir" "$here" "${opts[@]}" >/dev/null
fi
echo "setup.sh: build directory $builddir configured"
