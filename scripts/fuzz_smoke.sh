#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Short libFuzzer run for the test suite: FUZZER CORPUS_DIR SECONDS.
# New inputs go to a scratch directory; the committed corpus is only read.
# A fixed seed makes the suite reproducible (CI sees what a developer saw);
# run the fuzzer binaries directly to explore further.
# libFuzzer's own exit code for a crash is 77, which meson reads as "skipped":
# crashes, leaks and timeouts are mapped to 1 here, and the input that caused
# them is printed (base64) so it can be added to the corpus as a reproducer.
set -uo pipefail
fuzzer="$1" corpus="$2" seconds="${3:-20}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/new" "$scratch/artifacts"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -seed=1 -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$scratch/artifacts/" "$scratch/new" "$corpus"
rc=$?
for f in "$scratch"/artifacts/*; do
  [[ -e "$f" ]] || continue
  echo "fuzz_smoke: reproducer $(basename "$f") (base64):"
  base64 -w 0 "$f"; echo
done
exit "$rc"
