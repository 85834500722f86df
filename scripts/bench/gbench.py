# SPDX-License-Identifier: BSD-3-Clause
"""What the benchmark runners share: running a Google Benchmark binary on one
core with repetitions and reading its aggregates, and writing --json rows."""
import json
import shutil
import subprocess


def run_aggregates(binary, repetitions, cpu=1, extra_args=()):
    """{run_name: {aggregate_name: benchmark record}} for median, mean, stddev..."""
    cmd = [binary, f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true",
           "--benchmark_format=json", *extra_args]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    results = {}
    for b in out["benchmarks"]:
        if "aggregate_name" in b:
            results.setdefault(b["run_name"], {})[b["aggregate_name"]] = b
        elif repetitions == 1:  # no aggregates for a single run: it is the median, spread unknown (0)
            results[b["run_name"]] = {"median": b, "stddev": {**b, "real_time": 0.0, "items_per_second": 0.0}}
    return results


def seconds(record):
    """A benchmark record's real time in seconds."""
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[record.get("time_unit", "ns")]
    return record["real_time"] * unit


def write_rows(path, rows):
    """The --json output every runner writes: an array of rows."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")
