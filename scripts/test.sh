#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the whole test suite: installs what is missing (scripts/setup.sh),
# builds with warnings as errors, runs every meson suite (unit, integration,
# e2e) and the fuzz-smoke suite from a clang-14 libFuzzer build, then prints
# one line "tests: N passed, N failed, N skipped" from meson's test logs.
# Exit status is non-zero if anything failed. Extra arguments go to meson test
# for the main build (e.g. --suite unit; --suite lab for the whole-mesh demo
# alone).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

build_failed=0
whole_run=0
if [[ $# -eq 0 ]]; then whole_run=1; fi
"$here/scripts/setup.sh" --werror || exit 1
rm -f build/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json
if ninja -C build; then
  meson test -C build --print-errorlogs --num-processes 2 "$@"
else
  echo "test.sh: build failed" >&2
  build_failed=1
fi

# libFuzzer needs clang: a second, small build of the leaf libraries and fuzzers.
if [[ $whole_run == 1 ]]; then
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CC=clang-14 CXX=clang++-14 meson setup build-fuzz "$here" -Dfuzzing=true --werror \
      --buildtype=debugoptimized >/dev/null || build_failed=1
  fi
  if [[ -f build-fuzz/build.ninja ]] && ninja -C build-fuzz; then
    meson test -C build-fuzz --print-errorlogs --suite fuzz-smoke --suite asan
  else
    echo "test.sh: fuzz build failed" >&2
    build_failed=1
  fi
fi

/usr/bin/python3 "$here/scripts/test_summary.py" build/meson-logs/testlog.json \
  build-fuzz/meson-logs/testlog.json --build-failures "$build_failed"
