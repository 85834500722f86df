#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The lab's demand profile: kbit/s per ordered pair of sites for each second
of a run, a daily shape compressed into minutes plus noise, and a surge on
one pair that builds up over tens of seconds.

The daily shape comes from the real Abilene traffic matrices (Zhang et al.,
SNDlib, 5-minute intervals; ../shared/data/traffic/abilene) when they are
there: one day of each pair's demand, mapped to the lab's gateways by their
SNDlib PoP ids. Otherwise it is generated: a gravity model (each site's
weight seeded from its name) times a diurnal curve (trough at 04:00, peak
at 15:00, twice the trough). Either way the mean pair rate is scaled to
--mean-kbps (single-interval spikes of the real data clipped at three
times the pair's daily median) and each second gets its own multiplicative
noise (log-normal, sigma 0.1), seeded, so two runs with the same arguments replay the same
demand (the lab's comparison of prediction on and off relies on that).

  demand_profile.py --topology scripts/lab/abilene.json --seconds 60 [--day-seconds 240]
             [--mean-kbps 150] [--surge FROM:TO:PEAK_KBPS:START_S:RAMP_S:HOLD_S]
             [--data DIR] [--seed N] [--out FILE]

prints (or writes) {"source": "...", "seconds": N, "rates": {"FROM": {"TO": [kbit/s per second]}},
"surge": {...} | null}. Imported by demo.py and scripts/bench/mesh.py.
"""
import argparse
import csv
import json
import lzma
import math
import os
import random
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
INTERVALS_PER_DAY = 288  # 5-minute matrices
# 2004-03-02, a Tuesday: a working day whole in the matrices (t counts 5-minute intervals from 2004-03-01).
ABILENE_DAY_START = 288


def abilene_day(data_dir, nodes):
    """{(a, b): [Mbit/s per 5-minute interval of one day]} for the lab's nodes, or None without the data."""
    path = os.path.join(data_dir, "traffic", "abilene", "abilene_tm.csv.xz")
    if not os.path.exists(path):
        return None
    site_of = {n["sndlib"]: n["id"] for n in nodes if n.get("sndlib")}
    day = {}
    with lzma.open(path, "rt") as f:
        for row in csv.DictReader(f):
            t = int(row["t"]) - ABILENE_DAY_START
            if t < 0:
                continue
            if t >= INTERVALS_PER_DAY:
                break  # rows are in time order
            a, b = site_of.get(row["src"]), site_of.get(row["dst"])
            if a and b and a != b:
                # A pair absent from an interval had no demand then (the data's README).
                day.setdefault((a, b), [0.0] * INTERVALS_PER_DAY)[t] += float(row["value"])
    return day or None


def generated_day(nodes):
    """A gravity model times a diurnal curve: {(a, b): [relative demand per 5-minute interval]}."""
    weight = {n["id"]: 0.5 + (zlib.crc32(n["id"].encode()) % 1000) / 1000 for n in nodes}
    curve = [1.5 - 0.5 * math.cos(2 * math.pi * (i / INTERVALS_PER_DAY - 4 / 24) * 1.0) for i in range(INTERVALS_PER_DAY)]
    # The cosine has its trough at 04:00; a second harmonic moves the peak into the afternoon.
    curve = [c + 0.15 * math.sin(4 * math.pi * (i / INTERVALS_PER_DAY - 15 / 24 + 1 / 8))
             for i, c in enumerate(curve)]
    return {(a["id"], b["id"]): [weight[a["id"]] * weight[b["id"]] * c for c in curve]
            for a in nodes for b in nodes if a["id"] != b["id"]}


def parse_surge(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError(f"--surge {text}: expected FROM:TO:PEAK_KBPS:START_S:RAMP_S:HOLD_S")
    a, b = parts[0], parts[1]
    peak, start, ramp, hold = map(float, parts[2:])
    if a == b or peak <= 0 or start < 0 or ramp <= 0 or hold < 0:
        raise ValueError(f"--surge {text}: two different sites, a peak > 0, a ramp > 0, start and hold >= 0")
    return {"from": a, "to": b, "peak_kbps": peak, "start_s": start, "ramp_s": ramp, "hold_s": hold}


def surge_kbps(surge, second):
    """The surge's rate in one second of the run: a linear build-up, a hold, then gone."""
    t = second - surge["start_s"]
    if t < 0 or t >= surge["ramp_s"] + surge["hold_s"]:
        return 0.0
    return surge["peak_kbps"] * min(1.0, (t + 1) / surge["ramp_s"])


def build(topology, seconds, day_seconds=240, mean_kbps=150, surge=None, data_dir=DEFAULT_DATA, seed=1,
          day_offset_s=0):
    """The profile as a dict (see the module's help). day_offset_s: where in the
    compressed day the run starts (seconds of the compressed day)."""
    nodes = topology["nodes"]
    ids = {n["id"] for n in nodes}
    if surge and not {surge["from"], surge["to"]} <= ids:
        raise ValueError(f"surge between unknown sites {surge['from']}, {surge['to']} (sites: {sorted(ids)})")
    day = abilene_day(data_dir, nodes)
    source = "Abilene traffic matrices, 2004-03-02 (SNDlib, Zhang et al.)"
    if day is None:
        day = generated_day(nodes)
        source = "generated (gravity model x diurnal curve)"
    # A few pairs of the real matrices jump tenfold for one 5-minute interval;
    # compressed into a second they would be surges of their own. Clipped at
    # three times the pair's median over the day: the daily shape stays, the
    # profile's surge is the one surge.
    for key, series in day.items():
        cap = 3 * sorted(series)[len(series) // 2]
        day[key] = [min(v, cap) for v in series]
    mean = sum(sum(v) for v in day.values()) / max(1, len(day) * INTERVALS_PER_DAY)
    scale = mean_kbps / mean if mean > 0 else 0.0
    rng = random.Random(seed)
    rates = {}
    for (a, b) in sorted(day):
        series = day[(a, b)]
        out = []
        for s in range(seconds):
            # The compressed day: one interval lasts day_seconds / 288 seconds.
            x = ((day_offset_s + s) % day_seconds) / day_seconds * INTERVALS_PER_DAY
            i = int(x)
            frac = x - i
            level = series[i] * (1 - frac) + series[(i + 1) % INTERVALS_PER_DAY] * frac
            noise = math.exp(rng.gauss(0, 0.1))
            out.append(round(level * scale * noise, 1))
        rates.setdefault(a, {})[b] = out
    if surge:
        r = rates.setdefault(surge["from"], {}).setdefault(surge["to"], [0.0] * seconds)
        for s in range(seconds):
            r[s] = round(r[s] + surge_kbps(surge, s), 1)
    return {"source": source, "seconds": seconds, "day_seconds": day_seconds, "mean_kbps": mean_kbps,
            "rates": rates, "surge": surge}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default=os.path.join(HERE, "abilene.json"))
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--day-seconds", type=float, default=240)
    ap.add_argument("--mean-kbps", type=float, default=150)
    ap.add_argument("--surge")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.seconds < 1 or args.day_seconds <= 0 or args.mean_kbps < 0:
        sys.exit("demand_profile.py: --seconds >= 1, --day-seconds > 0, --mean-kbps >= 0")
    try:
        with open(args.topology) as f:
            topology = json.load(f)
        surge = parse_surge(args.surge) if args.surge else None
        profile = build(topology, args.seconds, args.day_seconds, args.mean_kbps, surge, args.data, args.seed)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"demand_profile.py: {e}")
    text = json.dumps(profile)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
