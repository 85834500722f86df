#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 1: the whole mesh on one machine. Installs and builds what
# it needs (scripts/setup.sh, apt only), then runs scripts/lab/demo.py as
# root: one meshctld and a meshgw per node of a real topology (Abilene, 11
# gateways) in network namespaces, joined through the project's WAN
# emulator with each link's geographic delay; the mesh joins, carries
# traffic between every pair of sites over multi-hop ESP, and fails over
# when a link is cut. Everything it starts is taken down at the end, also
# when interrupted. Options are demo.py's (scripts/lab/demo.py --help).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
build="${MESHGW_BUILD:-$here/build}"
if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run as root (the lab uses network namespaces)" >&2
  exit 1
fi
# MESHGW_DEMO_PREBUILT=1: the caller (the e2e test) has already built everything.
if [[ "${MESHGW_DEMO_PREBUILT:-0}" != 1 ]]; then
  scripts/setup.sh --builddir "$build"
  ninja -C "$build" >/dev/null
fi
MESHGW_BUILD="$build" exec /usr/bin/python3 scripts/lab/demo.py --build "$build" "$@"
