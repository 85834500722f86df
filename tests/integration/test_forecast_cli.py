# SPDX-License-Identifier: BSD-3-Clause
"""meshctl forecast on CSV files this test writes itself: the backtest numbers
against an independent computation here (persistence and seasonal naive by
hand), the JSON and table outputs, the automatic choice on series with an
obvious answer, gaps in t, and every kind of bad input with its exit status
(1: bad file, 2: bad usage) and a message naming the line and field."""
import datetime
import json
import math
import subprocess

import pytest

HEADER = "t,timestamp,src,dst,value\n"
START = datetime.datetime(2026, 1, 5)


def run(meshctl, *args):
    return subprocess.run([meshctl, "forecast", *args], capture_output=True, text=True, timeout=120)


def write_csv(path, pairs, step_minutes=5, t_of=None):
    """pairs: {(src, dst): [values]}; rows interleaved by t like the real files."""
    lines = [HEADER]
    n = max(len(v) for v in pairs.values())
    for i in range(n):
        for (src, dst), values in pairs.items():
            if i < len(values):
                t = t_of(i) if t_of else i
                ts = (START + datetime.timedelta(minutes=step_minutes * t)).strftime("%Y-%m-%dT%H:%M:%S")
                lines.append(f"{t},{ts},{src},{dst},{values[i]!r}\n")
    path.write_text("".join(lines))
    return str(path)


def daily(n, period=288, noise_seed=1):
    """A repeating daily profile (not a sine) with a little deterministic noise."""
    out, state = [], noise_seed
    for t in range(n):
        state = (state * 1103515245 + 12345) % 2**31
        out.append(100.0 + 60.0 * (((t % period) * 37) % period) / period + (state % 1000) / 1000.0)
    return out


def walk(n, seed=3):
    out, v, state = [], 500.0, seed
    for _ in range(n):
        state = (state * 1103515245 + 12345) % 2**31
        v = max(1.0, v + (state % 2001 - 1000) / 100.0)
        out.append(v)
    return out


def forecast_json(meshctl, csv, src="A", dst="B", *extra):
    r = run(meshctl, "--csv", csv, "--src", src, "--dst", dst, *extra, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def method(out, name):
    return next(m for m in out["methods"] if m["method"] == name)


def rolling_mae(y, train, h, predict):
    errors = [abs(predict(o, h) - y[o + h - 1]) for o in range(train, len(y) - h + 1)]
    return sum(errors) / len(errors), len(errors)


def test_backtest_matches_an_independent_computation(meshctl, tmp_path):
    y = walk(1000)
    csv = write_csv(tmp_path / "w.csv", {("A", "B"): y, ("B", "A"): daily(1000)})
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "3", "--season", "7")
    n = len(y)
    train = n - math.floor(0.2 * n + 0.5)
    assert (out["samples"], out["train_samples"], out["test_samples"]) == (n, train, n - train)
    assert out["horizon_steps"] == 3 and out["season_samples"] == 7 and out["step_seconds"] == 300
    for h in (1, 2, 3):
        mae, count = rolling_mae(y, train, h, lambda o, hh: y[o - 1])
        got = method(out, "persistence")["per_horizon"][h - 1]
        assert got["horizon_steps"] == h and got["forecasts"] == count
        assert math.isclose(got["mae"], mae, rel_tol=1e-9)
        # seasonal naive: the value one season (7 samples) before the target
        mae, _ = rolling_mae(y, train, h, lambda o, hh: y[o + hh - 1 - 7 * ((hh - 1) // 7 + 1)])
        assert math.isclose(method(out, "seasonal-naive")["per_horizon"][h - 1]["mae"], mae, rel_tol=1e-6)
    for m in out["methods"]:
        assert m["cpu_seconds"] >= 0 and m["model"]
        for e in m["per_horizon"]:
            assert 0 <= e["smape_pct"] <= 200
    assert [m["method"] for m in out["methods"]] == [
        "persistence", "seasonal-naive", "holt-winters", "arima", "ensemble", "auto"]
    assert len(out["forecast"]["values"]) == 3 and out["forecast"]["method"] == "auto"


def test_auto_picks_seasonal_for_a_daily_profile_and_reports_its_backtest(meshctl, tmp_path):
    csv = write_csv(tmp_path / "d.csv", {("A", "B"): daily(288 * 10)})
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "4")
    assert out["season_samples"] == 288  # one day at the file's 5-minute step
    assert out["auto"]["chosen"] in ("seasonal-naive", "holt-winters", "ensemble"), out["auto"]
    backtest = {b["method"]: b for b in out["auto"]["backtest"]}
    assert backtest["persistence"]["score_vs_persistence"] == pytest.approx(1.0)
    assert backtest[out["auto"]["chosen"]]["score_vs_persistence"] < 0.5
    auto = method(out, "auto")["per_horizon"]
    pers = method(out, "persistence")["per_horizon"]
    assert auto[0]["mae"] < 0.5 * pers[0]["mae"]
    # The next values continue the profile.
    expected = daily(288 * 10 + 4)[-4:]
    for got, want in zip(out["forecast"]["values"], expected):
        assert abs(got - want) < 2.0


def test_method_selects_the_printed_forecast(meshctl, tmp_path):
    y = walk(400)
    csv = write_csv(tmp_path / "w.csv", {("A", "B"): y})
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "2", "--method", "persistence")
    assert out["forecast"]["method"] == "persistence"
    assert out["forecast"]["values"] == [y[-1], y[-1]]


def test_gaps_restart_or_ignore(meshctl, tmp_path):
    # A level jump across a hole in t: restarting there is right at once.
    y = [10.0 + (i % 3) for i in range(300)] + [500.0 + (i % 3) for i in range(100)]
    csv = write_csv(tmp_path / "g.csv", {("A", "B"): y}, t_of=lambda i: i if i < 300 else i + 10_000)
    restart = forecast_json(meshctl, csv, "A", "B", "--horizon", "1", "--test-fraction", "0.5")
    ignore = forecast_json(meshctl, csv, "A", "B", "--horizon", "1", "--test-fraction", "0.5", "--gaps", "ignore")
    assert restart["gaps_in_t"] == 1 and restart["gaps"] == "restart" and ignore["gaps"] == "ignore"
    hw_restart = method(restart, "holt-winters")["per_horizon"][0]["mae"]
    hw_ignore = method(ignore, "holt-winters")["per_horizon"][0]["mae"]
    assert hw_restart <= hw_ignore


def test_table_output(meshctl, tmp_path):
    csv = write_csv(tmp_path / "w.csv", {("A", "B"): walk(300)})
    r = run(meshctl, "--csv", csv, "--src", "A", "--dst", "B", "--horizon", "2")
    assert r.returncode == 0, r.stderr
    assert "pair A -> B: 300 samples" in r.stdout
    assert "auto picked" in r.stdout and "next 2 values (auto):" in r.stdout
    for name in ("persistence", "holt-winters", "arima", "ensemble"):
        assert name in r.stdout


def test_help(meshctl):
    r = run(meshctl, "--help")
    assert r.returncode == 0 and "--horizon" in r.stdout and "--test-fraction" in r.stdout


@pytest.mark.parametrize("args, words", [
    ([], "missing options"),
    (["--src", "A", "--dst", "B", "--horizon", "1"], "missing required option --csv"),
    (["--csv", "X", "--dst", "B", "--horizon", "1"], "missing required option --src"),
    (["--csv", "X", "--src", "A", "--dst", "B"], "missing required option --horizon"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "0"], "out of range"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "x"], "not a non-negative integer"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--method", "lstm"], "--method: 'lstm'"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--test-fraction", "1"], "strictly between 0 and 1"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--test-fraction", "abc"], "--test-fraction"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "-o", "xml"], "is not table or json"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--gaps", "fill"], "--gaps"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--bogus", "1"], "unknown option --bogus"),
    (["--csv", "X", "--src", "A", "--dst", "B", "--horizon", "1", "--method", "seasonal-naive", "--season", "0"],
     "needs --season"),
])
def test_bad_usage_exits_2(meshctl, args, words):
    r = run(meshctl, *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert words in r.stderr, r.stderr


def bad_file(meshctl, tmp_path, text, *extra):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return run(meshctl, "--csv", str(path), "--src", "A", "--dst", "B", "--horizon", "1", *extra)


@pytest.mark.parametrize("text, words", [
    ("", "line 1, field header: missing header"),
    ("a,b,c\n", "line 1, field header: expected 't,timestamp,src,dst,value'"),
    (HEADER + "0,2026-01-05T00:00:00,A,B\n", "line 2, field row: expected 5 fields"),
    (HEADER + "0,2026-01-05T00:00:00,A,B,1\n1,2026-01-05T00:05:00,A,B,abc\n", "line 3, field value: 'abc' is not a number"),
    (HEADER + "0,2026-01-05T00:00:00,A,B,-1\n", "line 2, field value: '-1' is negative"),
    (HEADER + "0,2026-01-05T00:00:00,A,B,nan\n", "line 2, field value: 'nan' is not a finite number"),
    (HEADER + "0,2026-01-05T00:00:00,A,B,inf\n", "line 2, field value: 'inf' is not a finite number"),
    (HEADER + "x,2026-01-05T00:00:00,A,B,1\n", "line 2, field t:"),
    (HEADER + "0,yesterday,A,B,1\n", "line 2, field timestamp:"),
    (HEADER + "3,2026-01-05T00:15:00,A,B,1\n2,2026-01-05T00:10:00,A,B,1\n", "line 3, field t: 2 is not after 3"),
])
def test_bad_csv_exits_1_naming_line_and_field(meshctl, tmp_path, text, words):
    r = bad_file(meshctl, tmp_path, text)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert words in r.stderr, r.stderr


def test_missing_file_unknown_pair_and_too_short(meshctl, tmp_path):
    r = run(meshctl, "--csv", str(tmp_path / "none.csv"), "--src", "A", "--dst", "B", "--horizon", "1")
    assert r.returncode == 1 and "cannot open" in r.stderr
    csv = write_csv(tmp_path / "w.csv", {("A", "B"): walk(50), ("C", "D"): walk(50)})
    r = run(meshctl, "--csv", csv, "--src", "X", "--dst", "Y", "--horizon", "1")
    assert r.returncode == 1 and "no rows for pair X->Y" in r.stderr and "A->B" in r.stderr
    csv = write_csv(tmp_path / "s.csv", {("A", "B"): [5.0, 6.0]})
    r = run(meshctl, "--csv", csv, "--src", "A", "--dst", "B", "--horizon", "1")
    assert r.returncode == 1 and "too few" in r.stderr


def test_binary_garbage_is_a_clean_error(meshctl, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 40)
    r = run(meshctl, "--csv", str(path), "--src", "A", "--dst", "B", "--horizon", "1")
    assert r.returncode == 1 and "line 1, field header" in r.stderr


def test_constant_and_zero_series(meshctl, tmp_path):
    csv = write_csv(tmp_path / "c.csv", {("A", "B"): [0.0] * 300, ("B", "A"): [7.5] * 300})
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "2")
    assert out["forecast"]["values"] == [0.0, 0.0]
    assert all(e["mae"] == 0 and e["smape_pct"] == 0 for m in out["methods"] for e in m["per_horizon"])
    out = forecast_json(meshctl, csv, "B", "A", "--horizon", "2")
    assert out["forecast"]["values"] == pytest.approx([7.5, 7.5])


def test_long_horizons_huge_values_and_declines(meshctl, tmp_path):
    # Forecast paths are O(H) per origin: a horizon of 2000 over 6000 samples
    # finishes well inside the test timeout (it took minutes when each h was
    # recomputed from scratch).
    csv = write_csv(tmp_path / "long.csv", {("A", "B"): daily(6000)})
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "2000")
    assert len(out["forecast"]["values"]) == 2000
    for m in out["methods"]:
        first, last = m["per_horizon"][0], m["per_horizon"][-1]
        assert first["forecasts"] > 0 and math.isfinite(first["mae"])
        if last["forecasts"] == 0:
            assert last["mae"] is None  # nothing scored is not an error of 0
    # Values near the top of the double range: errors stay finite.
    huge = [1e307 * (1.5 + math.sin(i / 5)) for i in range(300)]
    out = forecast_json(meshctl, write_csv(tmp_path / "huge.csv", {("A", "B"): huge}), "A", "B", "--horizon", "4")
    assert all(math.isfinite(m["per_horizon"][0]["mae"]) for m in out["methods"])
    # A demand falling to zero is never forecast below zero.
    down = [max(0.0, 100.0 - i / 3.0) for i in range(300)]
    out = forecast_json(meshctl, write_csv(tmp_path / "down.csv", {("A", "B"): down}), "A", "B",
                        "--horizon", "8")
    assert all(v >= 0.0 for v in out["forecast"]["values"])


def test_auto_backtest_errors_are_in_data_units(meshctl, tmp_path):
    values = walk(2000)
    out = forecast_json(meshctl, write_csv(tmp_path / "w.csv", {("A", "B"): values}), "A", "B", "--horizon", "1")
    persistence = next(c for c in out["auto"]["backtest"] if c["method"] == "persistence")
    # Auto's own validation: the last 20% of the training part, one step ahead.
    train = out["train_samples"]
    start = train - int(0.2 * train)
    by_hand = sum(abs(values[i] - values[i - 1]) for i in range(start, train)) / (train - start)
    assert persistence["mae_one_step"] == pytest.approx(by_hand, rel=0.05)


def test_gaps_in_the_training_part_keep_the_season_aligned(meshctl, tmp_path):
    # A square wave with period 12 in t, with 5 intervals missing every 37 rows.
    ts, values, t = [], [], 0
    for i in range(1200):
        if i % 37 == 36:
            t += 5
        ts.append(t)
        values.append(100.0 if t % 12 < 6 else 50.0)
        t += 1
    csv = write_csv(tmp_path / "gaps.csv", {("A", "B"): values}, t_of=lambda i: ts[i])
    out = forecast_json(meshctl, csv, "A", "B", "--horizon", "1", "--season", "12")
    assert method(out, "seasonal-naive")["per_horizon"][0]["mae"] == pytest.approx(0.0, abs=1e-9)
