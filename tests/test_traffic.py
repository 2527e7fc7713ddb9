"""Traffic shapes and trace replay: diurnal, mmpp, linear-rate poisson, and trace files.

Counts per interval are checked against their expected counts with a chi-square test at 1 %
(Poisson counts: sum (O - E)^2 / E ~ chi2(k)); traces must replay their timestamps and their
per-interval totals exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

import lambdasim
from lambdasim import cli
from lambdasim.scenario.arrivals import arrival_times, expected_count, mmpp_path, mmpp_stationary, resolve_arrivals
from lambdasim.scenario import ScenarioError, json_schema, load_scenario
from lambdasim.scenario.units import SpecError

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "scenarios" / "traces"


def _all(spec, horizon, seed=1, block=4096):
    blocks = list(arrival_times(spec, np.random.default_rng(seed), horizon, block))
    assert all(b.size > 0 and b.dtype == np.float64 for b in blocks)
    t = np.concatenate(blocks) if blocks else np.empty(0)
    assert np.all(np.diff(t) >= 0)
    return t


def _chi2_ok(observed, expected):
    mask = expected > 0
    assert observed[~mask].sum() == 0, "arrivals where none are expected"
    chi2 = float(np.sum((observed[mask] - expected[mask]) ** 2 / expected[mask]))
    return chi2 < stats.chi2.ppf(0.99, mask.sum()), chi2


def _counts_match(spec, times, edges):
    observed = np.histogram(times, bins=edges)[0]
    expected = np.array([expected_count(spec, a, b) for a, b in zip(edges[:-1], edges[1:])])
    ok, chi2 = _chi2_ok(observed, expected)
    assert ok, (chi2, observed, expected)


# --------------------------------------------------------------------------------------
# diurnal
# --------------------------------------------------------------------------------------
def test_diurnal_counts_follow_the_sinusoid():
    (spec,) = resolve_arrivals(
        {"process": "diurnal", "mean": "50/s", "amplitude": "40/s", "period": "10m", "peak": "2m"}, "a")
    assert spec == {"process": "diurnal", "mean": 50.0, "amplitude": 40.0, "period": 600.0,
                    "peak": 120.0, "start": 0.0, "end": None}
    # closed-form integral against numerical quadrature
    rate = lambda t: 50 + 40 * math.cos(2 * math.pi * (t - 120) / 600)  # noqa: E731
    assert expected_count(spec, 17.0, 433.0) == pytest.approx(integrate.quad(rate, 17, 433)[0], rel=1e-9)
    t = _all(spec, 1800.0, block=1000)
    _counts_match(spec, t, np.arange(0, 1801, 20.0))
    # the peak minute is busier than the trough minute by about (50 + 40) / (50 - 40)
    peak = np.count_nonzero((t >= 90) & (t < 150))
    trough = np.count_nonzero((t >= 390) & (t < 450))
    assert peak > 5 * trough


def test_diurnal_rejects_an_amplitude_above_the_mean():
    with pytest.raises(SpecError) as info:
        resolve_arrivals({"process": "diurnal", "mean": "5/s", "amplitude": "6/s"}, "a")
    assert info.value.key == "a.amplitude" and "must not exceed mean" in info.value.message


# --------------------------------------------------------------------------------------
# mmpp
# --------------------------------------------------------------------------------------
MMPP = {"process": "mmpp", "states": [{"rate": "5/s", "mean_sojourn": "60s"},
                                      {"rate": "80/s", "mean_sojourn": "15s"}]}


def test_mmpp_counts_match_their_state_path():
    (spec,) = resolve_arrivals(MMPP, "a")
    assert spec["transitions"] == [[0.0, 1.0], [1.0, 0.0]] and spec["initial"] is None
    horizon = 3600.0
    # the generator draws the state path first from the same stream: replay it
    path = mmpp_path(spec, np.random.default_rng(7), 0.0, horizon)
    assert path[0][0] == 0.0 and all(a[0] < b[0] for a, b in zip(path, path[1:]))
    assert {p[1] for p in path} == {5.0, 80.0}
    t = _all(spec, horizon, seed=7, block=512)
    conditional = {"process": "poisson", "rate": path, "start": 0.0, "end": None}
    _counts_match(conditional, t, np.arange(0, horizon + 1, 10.0))


def test_mmpp_mean_rate_and_burstiness():
    (spec,) = resolve_arrivals(MMPP, "a")
    pi = mmpp_stationary(spec)
    assert pi == pytest.approx([0.8, 0.2])
    mean_rate = 0.8 * 5 + 0.2 * 80
    assert expected_count(spec, 0, 100) == pytest.approx(100 * mean_rate)
    totals, dispersion = [], []
    for seed in range(40):
        t = _all(spec, 1200.0, seed=seed)
        totals.append(t.size)
        counts = np.histogram(t, bins=np.arange(0, 1201, 10.0))[0]
        dispersion.append(counts.var(ddof=1) / counts.mean())
    # the replication mean of the totals covers the stationary mean (99 % t interval)
    m, se = np.mean(totals), np.std(totals, ddof=1) / math.sqrt(len(totals))
    assert abs(m - 1200 * mean_rate) < stats.t.ppf(0.995, len(totals) - 1) * se
    # bursty: counts per 10 s are far more variable than Poisson counts (index of dispersion 1)
    assert np.median(dispersion) > 10


def test_mmpp_started_in_a_given_state_has_its_transient_mean():
    (spec,) = resolve_arrivals({**MMPP, "initial": 1}, "a")
    expected = expected_count(spec, 0.0, 30.0)
    # starts at 80/s, relaxes towards 20/s with rate 1/60 + 1/15
    assert 20 * 30 < expected < 80 * 30
    totals = [np.count_nonzero(_all(spec, 30.0, seed=s)) for s in range(1000, 2000)]
    m, se = np.mean(totals), np.std(totals, ddof=1) / math.sqrt(len(totals))
    assert abs(m - expected) < stats.t.ppf(0.995, len(totals) - 1) * se


@pytest.mark.parametrize(
    "change, key, text",
    [
        ({"states": [{"rate": 1, "mean_sojourn": 1}]}, "a.states", "at least two states"),
        ({"states": [{"rate": 1}, {"rate": 2, "mean_sojourn": 1}]}, "a.states.0", "mean_sojourn"),
        ({"transitions": [[0, 1], [0.5, 0.4]]}, "a.transitions.1", "summing to 1"),
        ({"initial": 2}, "a.initial", "index of a state"),
    ],
)
def test_bad_mmpp_specs(change, key, text):
    with pytest.raises(SpecError) as info:
        resolve_arrivals({**MMPP, **change}, "a")
    assert info.value.key == key and text in info.value.message


# --------------------------------------------------------------------------------------
# poisson with a linearly interpolated rate (the core's process, checked here too)
# --------------------------------------------------------------------------------------
def test_linearly_interpolated_poisson_counts():
    (spec,) = resolve_arrivals({"process": "poisson", "interpolation": "linear",
                                "rate": [[0, "2/s"], ["5m", "60/s"], ["10m", "10/s"]]}, "a")
    t = _all(spec, 900.0, seed=3, block=333)
    _counts_match(spec, t, np.arange(0, 901, 15.0))


# --------------------------------------------------------------------------------------
# trace: timestamps
# --------------------------------------------------------------------------------------
def _scenario(tmp_path, arrivals_yaml: str, name="scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "duration: 10m\nfunctions:\n  f:\n    duration: 50ms\n    triggers:\n      - type: sync\n"
        f"        arrivals: {arrivals_yaml}\n", encoding="utf-8")
    return path


def test_trace_of_seconds_replays_its_timestamps_exactly(tmp_path):
    rng = np.random.default_rng(5)
    times = np.round(np.sort(rng.uniform(0, 500, 2000)), 6)
    lines = [repr(float(x)) for x in rng.permutation(times)]  # unsorted in the file
    (tmp_path / "t.txt").write_text("# seconds\n\n" + "\n".join(lines) + "\n")
    scenario = load_scenario(_scenario(tmp_path, "{process: trace, file: t.txt}"))
    (spec,) = scenario.functions["f"]["triggers"][0]["arrivals"]
    assert spec["source"].startswith("t.txt (sha256:")
    replayed = _all(spec, 600.0, block=97)
    assert np.array_equal(replayed, times)  # bit for bit
    # the stored config replays without the file
    (again,) = load_scenario(scenario.config).functions["f"]["triggers"][0]["arrivals"]
    assert again == spec
    # and through the model, every one of them arrives
    summary = lambdasim.simulate(scenario).summary
    assert summary["functions"]["f"]["requests"]["arrived"] == 2000


def test_bundled_iso_trace_replays_at_its_offsets():
    lines = [ln for ln in (TRACES / "checkout_access.txt").read_text().splitlines()
             if ln and not ln.startswith("#")]
    stamps = sorted(dt.datetime.fromisoformat(ln.replace("Z", "+00:00")) for ln in lines)
    offsets = np.array([(s - stamps[0]).total_seconds() for s in stamps])
    scenario = load_scenario(ROOT / "scenarios" / "trace_replay.yaml")
    (spec,) = scenario.functions["checkout"]["triggers"][0]["arrivals"]
    t = _all(spec, scenario.duration_s)
    assert np.array_equal(t, offsets)
    # the flash crowd at minute 15: 1,500 requests within 20 s on top of about 4/s
    assert np.count_nonzero((t >= 900) & (t < 920)) > 1500


def test_csv_timestamps_with_origin_and_time_scale(tmp_path):
    (tmp_path / "log.csv").write_text(
        "status,when\n200,2026-01-01T00:00:10Z\n500,2026-01-01T00:00:11.5Z\n200,2026-01-01T00:00:40Z\n")
    (spec,) = resolve_arrivals({"process": "trace", "file": "log.csv", "column": "when",
                                "origin": "2026-01-01T00:00:00Z", "time_scale": 2, "start": "1m"},
                               "a", tmp_path)
    assert spec["times"] == [10.0, 11.5, 40.0]
    assert _all(spec, 600.0).tolist() == [80.0, 83.0, 140.0]
    assert expected_count(spec, 0, 100) == 2


def test_rate_scale_thins_and_amplifies_timestamps():
    times = list(np.arange(0.0, 1000.0, 0.1))  # 10,000 arrivals
    (half,) = resolve_arrivals({"process": "trace", "times": times, "rate_scale": 0.5}, "a")
    kept = _all(half, 2000.0)
    assert set(np.round(kept, 6)) <= set(np.round(times, 6))
    # Binomial(10000, 0.5) at 1 %
    assert abs(kept.size - 5000) < stats.norm.ppf(0.995) * math.sqrt(2500)
    (triple,) = resolve_arrivals({"process": "trace", "times": times, "rate_scale": 3}, "a")
    t = _all(triple, 2000.0)
    assert t.size == 30_000
    counts = np.histogram(t, bins=np.arange(0.0, 1000.01, 0.1))[0]
    assert np.all(counts == 3)  # extra copies stay between a recorded arrival and the next
    assert expected_count(triple, 0, 100) == pytest.approx(3000)


# --------------------------------------------------------------------------------------
# trace: counts and the Azure format
# --------------------------------------------------------------------------------------
def test_cloudwatch_counts_replay_their_sums_with_gaps(tmp_path):
    (tmp_path / "inv.csv").write_text(
        '"Time","Invocations"\n2026-01-01 00:00:00,120\n2026-01-01 00:01:00,30.0\n'
        "2026-01-01 00:03:00,600\n")  # minute 2 left out: no data points
    for spread in ("poisson", "even"):
        (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "inv.csv",
                                    "column": "Invocations", "time_column": "Time",
                                    "spread": spread}, "a", tmp_path)
        assert spec["counts"] == [120.0, 30.0, 0.0, 600.0] and spec["interval"] == 60.0
        t = _all(spec, 600.0, block=50)
        assert np.histogram(t, bins=np.arange(0, 301, 60.0))[0].tolist() == [120, 30, 0, 600, 0]
    assert np.allclose(np.diff(t[:120]), 0.5)  # even: one every 60 s / 120
    # within a minute, poisson spread: uniform instants (Kolmogorov-Smirnov at 1 %)
    (spec,) = resolve_arrivals({"process": "trace", "counts": [5000], "interval": "1m"}, "a")
    t = _all(spec, 600.0)
    assert t.size == 5000 and stats.kstest(t, "uniform", args=(0, 60)).pvalue > 0.01


def test_counts_with_a_fractional_rate_scale_match_their_expectation():
    counts = [10, 0, 40, 25, 7] * 40
    (spec,) = resolve_arrivals({"process": "trace", "counts": counts, "interval": "30s",
                                "rate_scale": 1.5, "time_scale": 0.5}, "a")
    t = _all(spec, 10_000.0)
    observed = np.histogram(t, bins=np.arange(0, 15 * 200 + 1, 15.0))[0]
    want = np.array(counts) * 1.5
    assert np.all((observed == np.floor(want)) | (observed == np.ceil(want)))
    assert observed.sum() == pytest.approx(want.sum(), abs=4 * math.sqrt(0.25 * len(counts)))
    assert expected_count(spec, 0, 15) == pytest.approx(15.0)


def test_azure_trace_by_rank_and_by_hash():
    azure = TRACES / "azure_sample.csv"
    rows = [ln.split(",") for ln in azure.read_text().splitlines()[1:]]
    totals = [sum(map(float, r[4:])) for r in rows]
    busiest = rows[int(np.argmax(totals))]
    (by_rank,) = resolve_arrivals({"process": "trace", "format": "azure", "file": str(azure)}, "a")
    assert by_rank["counts"] == [float(x) for x in busiest[4:]] and by_rank["interval"] == 60.0
    (by_hash,) = resolve_arrivals({"process": "trace", "format": "azure", "file": str(azure),
                                   "function": rows[1][2][:10]}, "a")
    assert by_hash["counts"] == [float(x) for x in rows[1][4:]]
    t = _all(by_hash, 86_400.0)
    per_minute = np.histogram(t, bins=np.arange(0, 86_401, 60.0))[0]
    assert per_minute.tolist() == [int(x) for x in rows[1][4:]]


# --------------------------------------------------------------------------------------
# bad trace files
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content, arrivals, text",
    [
        (None, "{process: trace, file: missing.txt}", "trace file 'missing.txt' not found"),
        ("\n# nothing\n\n", "{process: trace, file: t.txt}", "is empty"),
        ("1.0\n2.0\nsoon\n", "{process: trace, file: t.txt}", "t.txt:3: cannot read 'soon' as a timestamp"),
        ("1.0\n2026-01-01T00:00:00Z\n", "{process: trace, file: t.txt}", "t.txt:2: '2026-01-01T00:00:00Z' mixes"),
        ("a,b\n1,2\n", "{process: trace, file: t.txt}", "t.txt:1: expected one timestamp per line"),
        ("a,b\n1,2\n", "{process: trace, file: t.txt, column: when}", "t.txt:1: no column 'when'"),
        ("t,n\n0,5\n90,-1\n", "{process: trace, format: counts, file: t.txt, column: n, time_column: t}",
         "t.txt:3: a count must be a number >= 0"),
        ("t,n\n0,5\n90,1\n", "{process: trace, format: counts, file: t.txt, column: n, time_column: t}",
         "t.txt:3: time '90' is not on the 60s grid"),
        ("x,y\n1,2\n", "{process: trace, format: azure, file: t.txt}", "t.txt:1: not an Azure Functions"),
        (b"\xff\xfe\x00garbage", "{process: trace, file: t.txt}", "t.txt:1: not UTF-8 text"),
    ],
)
def test_bad_trace_files_name_the_key_and_the_line(tmp_path, content, arrivals, text):
    if isinstance(content, bytes):
        (tmp_path / "t.txt").write_bytes(content)
    elif content is not None:
        (tmp_path / "t.txt").write_text(content)
    path = _scenario(tmp_path, arrivals)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}:7: functions.f.triggers.0.arrivals.file: "), message
    assert text in message
    out = tmp_path / "results"
    assert cli.main(["validate", str(path)]) == 2
    assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert not out.exists()


def test_trace_keys_that_do_not_apply_are_refused():
    with pytest.raises(SpecError) as info:
        resolve_arrivals({"process": "trace", "times": [1, 2], "column": "x"}, "a")
    assert info.value.key == "a.column"
    with pytest.raises(SpecError) as info:
        resolve_arrivals({"process": "trace", "times": [1], "counts": [1]}, "a")
    assert "exactly one of" in info.value.message


def test_json_schema_accepts_the_new_processes():
    jsonschema = pytest.importorskip("jsonschema")
    data = {"duration": "1h", "functions": {"f": {"duration": "50ms", "triggers": [{"type": "sync", "arrivals": [
        {"process": "diurnal", "mean": "10/s", "amplitude": "5/s", "period": "1d", "peak": "14h"},
        {"process": "mmpp", "states": [{"rate": 1, "mean_sojourn": "1m"}, {"rate": 9, "mean_sojourn": "5s"}]},
        {"process": "trace", "format": "counts", "file": "x.csv", "column": "n", "rate_scale": 2},
    ]}]}}}
    jsonschema.validate(data, json_schema())


def test_epoch_seconds_need_an_origin(tmp_path):
    (tmp_path / "epoch.txt").write_text("1772442000.25\n1772442001.5\n1772442007\n")
    with pytest.raises(SpecError) as info:
        resolve_arrivals({"process": "trace", "file": "epoch.txt"}, "a", tmp_path)
    assert info.value.key == "a.origin" and "look like Unix epoch seconds" in info.value.message
    (spec,) = resolve_arrivals({"process": "trace", "file": "epoch.txt", "origin": "first"}, "a", tmp_path)
    assert spec["times"] == [0.0, 1.25, 6.75]


def test_cloudwatch_json_exports(tmp_path):
    # aws cloudwatch get-metric-statistics: unsorted data points, a missing minute
    stats_json = {"Label": "Invocations", "Datapoints": [
        {"Timestamp": "2026-03-02T09:02:00+00:00", "Sum": 7.0, "Unit": "Count"},
        {"Timestamp": "2026-03-02T09:00:00+00:00", "Sum": 12.0, "Unit": "Count"},
    ]}
    (tmp_path / "stats.json").write_text(json.dumps(stats_json, indent=2))
    # two points 2 minutes apart: 1-minute data with a gap, or --period 120? interval says it
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "stats.json",
                                "interval": "1m"}, "a", tmp_path)
    assert spec["counts"] == [12.0, 0.0, 7.0]
    # aws cloudwatch get-metric-data
    data_json = {"MetricDataResults": [
        {"Id": "errors", "Label": "Errors", "Timestamps": ["2026-03-02T09:00:00Z"], "Values": [1.0]},
        {"Id": "inv", "Label": "Invocations", "Timestamps": ["2026-03-02T09:05:00Z", "2026-03-02T09:00:00Z"],
         "Values": [30.0, 60.0], "StatusCode": "Complete"}]}
    (tmp_path / "data.json").write_text(json.dumps(data_json))
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "data.json", "column": "inv",
                                "interval": "5m"}, "a", tmp_path)
    assert spec["counts"] == [60.0, 30.0] and spec["interval"] == 300.0
    t = _all(spec, 600.0)
    assert np.histogram(t, bins=[0, 300, 600])[0].tolist() == [60, 30]
    (tmp_path / "bad.json").write_text('{"Datapoints": [{"Timestamp": "2026-03-02T09:00:00Z", "Sum": -3}]}')
    with pytest.raises(SpecError, match=r"bad.json:1: a count must be a number >= 0"):
        resolve_arrivals({"process": "trace", "format": "counts", "file": "bad.json"}, "a", tmp_path)
