#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Counts meson test results from one or more testlog.json files and prints
'tests: N passed, N failed, N skipped'. Exits 1 if anything failed or no test ran."""
import argparse
import json
import os
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--build-failures", type=int, default=0)
    args = ap.parse_args()
    passed = failed = skipped = 0
    for path in args.logs:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                result = json.loads(line).get("result", "ERROR")
                if result in PASS:
                    passed += 1
                elif result in SKIP:
                    skipped += 1
                else:
                    failed += 1
    failed += args.build_failures
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
