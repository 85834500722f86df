#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Short libFuzzer run for the test suite: FUZZER CORPUS_DIR SECONDS.
# New inputs go to a scratch directory; the committed corpus is only read.
set -euo pipefail
fuzzer="$1" corpus="$2" seconds="${3:-20}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$scratch/" "$scratch" "$corpus"
