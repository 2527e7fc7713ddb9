"""Counts traces without ``interval`` take the period of their data points.

``aws cloudwatch get-metric-statistics --period 300`` gives one Sum per 5 minutes and states no
period (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html);
CloudWatch periods are 1, 5, 10, 30 s or multiples of 60 s, and periods without data are left
out. The realworld case trace_gms_period300 must replay at 2/s, not 10/s bursts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lambdasim.cli import main as cli_main
from lambdasim.scenario import load_scenario
from lambdasim.scenario.arrivals import resolve_arrivals
from lambdasim.scenario.periods import infer_period
from lambdasim.scenario.units import SpecError

CASES = Path(__file__).parent / "data" / "realworld"


def _stats(minutes: list[int], value: float = 600.0, **extra) -> dict:
    return {"Label": "Invocations", **extra, "Datapoints": [
        {"Timestamp": f"2024-03-01T12:{m:02d}:00Z", "Sum": value, "Unit": "Count"} for m in minutes]}


def test_case_period_300_replays_its_rate_not_bursts(tmp_path):
    for name in ("trace_gms_period300.yaml", "trace_gms_period300.json"):
        shutil.copy(CASES / name, tmp_path / name)
    scenario = load_scenario(tmp_path / "trace_gms_period300.yaml")
    (spec,) = scenario.functions["a"]["triggers"][0]["arrivals"]
    assert spec["interval"] == 300.0 and spec["counts"] == [600.0] * 6
    from lambdasim.scenario.traces import trace_times
    times = np.concatenate(list(trace_times({**spec, "start": 0.0}, 0.0, 1800.0, np.random.default_rng(1), 4096)))
    per_minute = np.histogram(times, bins=np.arange(0, 1801, 60.0))[0]
    assert times.size == 3600 and per_minute.max() < 2 * 120  # 2/s = 120 a minute, no 600-bursts
    assert cli_main(["validate", str(tmp_path / "trace_gms_period300.yaml")]) == 0


@pytest.mark.parametrize("minutes, period", [
    ([0, 1, 2, 5], 60.0),            # 1-minute data with missing minutes
    ([0, 5, 10, 20], 300.0),         # --period 300 with a missing period
    ([0, 15, 30, 45], 900.0),
    ([0, 1], 60.0),                  # two points a minute apart: nothing shorter exists
])
def test_the_period_is_told_from_the_spacing(tmp_path, minutes, period):
    (tmp_path / "m.json").write_text(json.dumps(_stats(minutes)))
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "m.json"}, "a", tmp_path)
    assert spec["interval"] == period
    assert sum(spec["counts"]) == 600.0 * len(minutes)
    assert len(spec["counts"]) == (max(minutes) * 60) // int(period) + 1


@pytest.mark.parametrize("minutes", [[0], [0, 5], [0, 10, 15]])
def test_ambiguous_spacing_is_refused_naming_interval(tmp_path, minutes):
    (tmp_path / "m.json").write_text(json.dumps(_stats(minutes)))
    with pytest.raises(SpecError) as info:
        resolve_arrivals({"process": "trace", "format": "counts", "file": "m.json"}, "a", tmp_path)
    assert info.value.key == "a.interval" and "set interval" in info.value.message
    # stated by the user, it is taken as given
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "m.json", "interval": "1m"},
                               "a", tmp_path)
    assert spec["interval"] == 60.0


def test_ambiguous_period_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "m.json").write_text(json.dumps(_stats([0, 5])))
    (tmp_path / "s.yaml").write_text("duration: 10m\nfunctions:\n  a:\n    duration: 10ms\n    triggers:\n"
                                     "      - type: sync\n        arrivals: {process: trace, format: counts, "
                                     "file: m.json}\n")
    assert cli_main(["validate", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "functions.a.triggers.0.arrivals.interval" in err and "300s" in err and "\n" not in err


def test_a_stated_period_is_used(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps(_stats([0, 5], Period=300)))
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "m.json"}, "a", tmp_path)
    assert spec["interval"] == 300.0 and spec["counts"] == [600.0, 600.0]
    data = {"MetricDataQueries": [{"Id": "inv", "MetricStat": {"Metric": {"MetricName": "Invocations"},
                                                               "Period": 600, "Stat": "Sum"}}],
            "MetricDataResults": [{"Id": "inv", "Label": "Invocations",
                                   "Timestamps": ["2024-03-01T12:10:00Z", "2024-03-01T12:00:00Z"],
                                   "Values": [5.0, 7.0], "StatusCode": "Complete"}]}
    (tmp_path / "d.json").write_text(json.dumps(data))
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "d.json"}, "a", tmp_path)
    assert spec["interval"] == 600.0 and spec["counts"] == [7.0, 5.0]


def test_timed_csv_counts_infer_too(tmp_path):
    rows = "\n".join(f"2024-03-01T12:{m:02d}:00Z,{m}" for m in (0, 5, 10, 15))
    (tmp_path / "c.csv").write_text("Time,Invocations\n" + rows + "\n")
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "c.csv",
                                "column": "Invocations", "time_column": "Time"}, "a", tmp_path)
    assert spec["interval"] == 300.0 and spec["counts"] == [0.0, 5.0, 10.0, 15.0]


def test_infer_period_rules():
    assert infer_period([0, 10, 20, 40]) == 10.0          # high resolution
    assert infer_period([0, 90, 180]) == 60.0             # no CloudWatch period: the grid check decides
    with pytest.raises(ValueError, match="single data point"):
        infer_period([42.0])


def test_cli_text_and_table_outputs_of_get_metric_statistics(tmp_path):
    # aws cloudwatch get-metric-statistics --period 300 --statistics Sum --output text
    rows = [f"DATAPOINTS\t600.0\t2024-03-01T12:{m:02d}:00+00:00\tCount" for m in (10, 0, 5, 15)]
    (tmp_path / "gms.txt").write_text("LABEL\tInvocations\n" + "\n".join(rows) + "\n")
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "gms.txt"}, "a", tmp_path)
    assert spec["interval"] == 300.0 and spec["counts"] == [600.0] * 4
    # --output table
    table = ["-" * 50, "|   GetMetricStatistics   |", "+" + "-" * 48 + "+", "||   Datapoints   ||",
             "|+------+------------------------+--------+|", "||  Sum  |  Timestamp  |  Unit  ||",
             "|+------+------------------------+--------+|"]
    table += [f"||  {v}  |  2024-03-01T12:{m:02d}:00+00:00  |  Count  ||" for m, v in ((0, 60.0), (5, 30.0), (10, 0.0))]
    table += ["|+------+------------------------+--------+|", "||  Label  |  Invocations  ||"]
    (tmp_path / "gms.table").write_text("\n".join(table) + "\n")
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "gms.table"}, "a", tmp_path)
    assert spec["interval"] == 300.0 and spec["counts"] == [60.0, 30.0, 0.0]
    # several statistics in text output cannot be told apart: refused, naming the line
    (tmp_path / "two.txt").write_text("LABEL\tInvocations\nDATAPOINTS\t5.0\t600.0\t2024-03-01T12:00:00+00:00\tCount\n")
    with pytest.raises(SpecError, match=r"two.txt:2: a DATAPOINTS row with several statistics"):
        resolve_arrivals({"process": "trace", "format": "counts", "file": "two.txt"}, "a", tmp_path)


def test_cli_text_output_of_get_metric_data(tmp_path):
    text = ("METRICDATARESULTS\terr\tErrors\tComplete\nTIMESTAMPS\t2024-03-01T12:00:00+00:00\nVALUES\t1.0\n"
            "METRICDATARESULTS\tinv\tInvocations\tComplete\n"
            + "".join(f"TIMESTAMPS\t2024-03-01T12:{m:02d}:00+00:00\n" for m in (10, 5, 0))
            + "VALUES\t3.0\nVALUES\t2.0\nVALUES\t1.0\n")
    (tmp_path / "gmd.txt").write_text(text)
    (spec,) = resolve_arrivals({"process": "trace", "format": "counts", "file": "gmd.txt", "column": "inv"},
                               "a", tmp_path)
    assert spec["interval"] == 300.0 and spec["counts"] == [1.0, 2.0, 3.0]
