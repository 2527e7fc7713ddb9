"""lambdasim fit: REPORT lines of CloudWatch Logs in, duration/init/memory fragment out.

REPORT line formats: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html (text)
and https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html (JSON
``platform.report``); timeouts: https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import uuid

import numpy as np
import pytest
import yaml
from scipy import stats

from lambdasim import cli
from lambdasim.aws.fit import LogReader, analyse, fit_times
from lambdasim.scenario import load_scenario
from lambdasim.scenario.distributions import make_distribution

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)

# Real-format examples, as Lambda writes them (request ids and numbers changed).
TEXT_COLD = ("REPORT RequestId: 8f5c3a41-2d1e-4f6b-9a0c-7e3d2b1c0a99\tDuration: 102.25 ms\t"
             "Billed Duration: 103 ms\tMemory Size: 512 MB\tMax Memory Used: 71 MB\tInit Duration: 268.48 ms\t")
TEXT_WARM = ("REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\t"
             "Billed Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 72 MB\t")
TEXT_TIMEOUT = ("REPORT RequestId: 0b8e7f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b Duration: 3003.85 ms "
                "Billed Duration: 3000 ms Memory Size: 512 MB Max Memory Used: 88 MB Status: timeout")
OLD_TIMEOUT = [
    "2019-06-18T18:26:07.553Z 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d Task timed out after 3.00 seconds",
    "REPORT RequestId: 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\tDuration: 3001.44 ms\tBilled Duration: 3000 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 90 MB\t",
]
SNAPSTART = ("REPORT RequestId: 4d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f\tDuration: 35.12 ms\tBilled Duration: 475 ms\t"
             "Memory Size: 512 MB\tMax Memory Used: 80 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 439 ms\t")
JSON_REPORT = ('{"time":"2026-03-02T09:00:01.112Z","type":"platform.report","record":{"requestId":'
               '"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":3.02,"billedDurationMs":4,'
               '"memorySizeMB":512,"maxMemoryUsedMB":69,"initDurationMs":155.7},"status":"success"}}')
JSON_TIMEOUT = ('{"time":"2026-03-02T09:00:05.000Z","type":"platform.report","record":{"requestId":'
                '"7d68ca91-49c9-448d-89b8-7ca3e6dc66ab","metrics":{"durationMs":3000.5,"billedDurationMs":3000,'
                '"memorySizeMB":512,"maxMemoryUsedMB":70},"status":"timeout"}}')
GARBAGE = [
    "START RequestId: 8f5c3a41-2d1e-4f6b-9a0c-7e3d2b1c0a99 Version: $LATEST",
    "END RequestId: 8f5c3a41-2d1e-4f6b-9a0c-7e3d2b1c0a99",
    "[INFO]\t2026-03-02T09:00:00.000Z\t8f5c3a41\tcharging card ****4242",
    "REPORT RequestId: broken Duration: fast ms",                       # looks like REPORT: counted
    '{"type":"platform.report","record":{"metrics":{}}}',               # JSON report without metrics
    "\x00\x01 binary \ufffd noise Duration: 12 ms",
    "XRAY TraceId: 1-5e1b4151-5ac6c58f5a3b2f0c2f0f8d1a SegmentId: 2a3b4c5d6e7f8091 Sampled: true",
    "",
]


def _report_line(i: int, d_ms: float, init_ms: float | None, fmt: str, time: dt.datetime) -> str:
    rid = str(uuid.UUID(int=i))
    if fmt == "json":
        metrics = {"durationMs": round(d_ms, 2), "billedDurationMs": math.ceil(d_ms), "memorySizeMB": 1024,
                   "maxMemoryUsedMB": 100 + i % 50}
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 2)
        return json.dumps({"time": time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           "type": "platform.report",
                           "record": {"requestId": rid, "metrics": metrics, "status": "success"}})
    sep = "\t" if fmt == "tab" else " "
    fields = [f"REPORT RequestId: {rid}", f"Duration: {d_ms:.2f} ms", f"Billed Duration: {math.ceil(d_ms)} ms",
              "Memory Size: 1024 MB", f"Max Memory Used: {100 + i % 50} MB"]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    stamp = time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return stamp + " " + sep.join(fields) + sep


def _write_sample(path, durations_ms, inits_ms, fmt, garbage=True):
    lines = []
    for i, (d, init) in enumerate(zip(durations_ms, inits_ms)):
        lines.append(_report_line(i, d, init, fmt, T0 + dt.timedelta(seconds=i * 0.5)))
        if garbage and i % 1000 == 0:
            lines.extend(GARBAGE)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("family, fmt", [("lognormal", "tab"), ("gamma", "json"), ("lognormal", "space")])
def test_fit_recovers_median_and_p99_of_10000_lines(tmp_path, family, fmt):
    rng = np.random.default_rng(11)
    n = 10_000
    if family == "lognormal":
        true = stats.lognorm(math.log(900 / 120) / stats.norm.ppf(0.99), scale=120.0)  # ms
    else:
        true = stats.gamma(3.0, scale=40.0)
    durations = true.rvs(size=n, random_state=rng)
    init_true = stats.lognorm(0.5, scale=350.0)
    cold = rng.random(n) < 0.05
    inits = [float(init_true.rvs(random_state=rng)) if c else None for c in cold]
    log = tmp_path / "export.log"
    _write_sample(log, durations, inits, fmt)
    reader = LogReader()
    assert reader.read_file(log) == n
    assert len(reader.unparsed) == 2 * 10  # the two broken REPORT lines of each garbage block
    analysis = analyse(reader, [str(log)])
    fitted = analysis.duration
    assert fitted.name == family
    for q in (0.5, 0.99):
        assert fitted.quantile(q) * 1000 == pytest.approx(true.ppf(q), rel=0.05)
    assert analysis.cold_start_rate == pytest.approx(cold.mean())
    assert analysis.init.quantile(0.5) * 1000 == pytest.approx(350.0, rel=0.1)  # ~500 cold starts
    assert analysis.body["memory_mb"] == 1024
    assert len(analysis.starts) == n


def test_fragment_is_valid_scenario_yaml_and_trace_replays(tmp_path):
    rng = np.random.default_rng(2)
    durations = stats.lognorm(0.6, scale=80.0).rvs(size=2000, random_state=rng)
    inits = [300.0 if i % 50 == 0 else None for i in range(2000)]
    log = tmp_path / "export.log"
    _write_sample(log, durations, inits, "tab")
    out, trace = tmp_path / "fit.yaml", tmp_path / "starts.txt"
    assert cli.main(["fit", str(log), "--function", "api", "--out", str(out), "--trace", str(trace)]) == 0
    fragment = yaml.safe_load(out.read_text())
    body = fragment["functions"]["api"]
    assert set(body) == {"memory_mb", "reference_mb", "duration", "init"}
    assert body["init"] == {"dist": "constant", "value": "300ms"}
    body["triggers"] = [{"type": "sync", "arrivals": {"process": "trace", "file": str(trace)}}]
    scenario = load_scenario({"duration": "20m", **fragment})
    (spec,) = scenario.functions["api"]["triggers"][0]["arrivals"]
    # start = log time - Duration - Init Duration, relative to the first start
    starts = np.array([i * 0.5 - (d + (inits[i] or 0.0)) / 1000 for i, d in enumerate(np.round(durations, 2))])
    assert np.allclose(spec["times"], np.sort(starts - starts.min()), atol=1.5e-3)  # ms log precision


def test_real_format_examples_of_both_log_formats(tmp_path):
    log = tmp_path / "mixed.log"
    lines = [TEXT_COLD, TEXT_WARM, TEXT_TIMEOUT, *OLD_TIMEOUT, SNAPSTART, JSON_REPORT, JSON_TIMEOUT, *GARBAGE]
    log.write_text("\n".join(lines) + "\n")
    reader = LogReader()
    assert reader.read_file(log) == 7
    reader.finish()
    by_id = {r.request_id: r for r in reader.reports}
    cold = by_id["8f5c3a41-2d1e-4f6b-9a0c-7e3d2b1c0a99"]
    assert (cold.duration_ms, cold.init_ms, cold.memory_mb, cold.max_memory_mb, cold.status) == (102.25, 268.48, 512, 71, None)
    warm = by_id["3604209a-e9a3-11e6-939a-754dd98c7be3"]
    assert (warm.duration_ms, warm.init_ms) == (12.34, None)
    assert by_id["0b8e7f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b"].status == "timeout"   # Status: timeout
    assert by_id["6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"].status == "timeout"   # "Task timed out" line
    snap = by_id["4d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f"]
    assert (snap.duration_ms, snap.init_ms) == (35.12, None)  # Restore Duration is not Init Duration
    js = by_id["6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"]
    assert (js.duration_ms, js.init_ms, js.max_memory_mb, js.time) == (3.02, 155.7, 69, T0 + dt.timedelta(seconds=1.112))
    assert by_id["7d68ca91-49c9-448d-89b8-7ca3e6dc66ab"].status == "timeout"
    assert len(reader.unparsed) == 2
    analysis = analyse(reader, [str(log)])
    assert analysis.body["timeout"] == "3s"
    assert analysis.duration.n == 4  # timeouts are censored: left out of the Duration fit
    assert any("timeouts: 3" in line for line in analysis.lines)
    assert any("2 REPORT-like lines could not be parsed" in line for line in analysis.lines)


def test_filter_log_events_json_and_gzip_exports(tmp_path):
    events = [{"timestamp": 1772442000000 + 1000 * i, "message": _report_line(i, 50.0 + i, None, "tab", T0)[25:],
               "logStreamName": "2026/03/02/[$LATEST]abc"} for i in range(30)]
    events.append({"timestamp": 1772442099000, "message": "START RequestId: x Version: $LATEST\n"})
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": events, "searchedLogStreams": []}))
    reader = LogReader()
    assert reader.read_file(path) == 30
    assert reader.reports[0].time == dt.datetime.fromtimestamp(1772442000, dt.timezone.utc)
    gz = tmp_path / "000000.gz"
    gz.write_bytes(gzip.compress(("\n".join([TEXT_COLD, TEXT_WARM]) + "\n").encode()))
    assert LogReader().read_file(gz) == 2


def test_choice_falls_back_to_empirical_when_no_family_fits():
    rng = np.random.default_rng(3)
    bimodal = np.concatenate([rng.normal(0.020, 0.001, 5000), rng.normal(0.500, 0.010, 5000)])
    fitted = fit_times(bimodal)
    assert fitted.name == "empirical" and len(fitted.spec["values"]) == 1000
    assert "rejected by the Kolmogorov-Smirnov test at 1 %" in fitted.reason
    assert fitted.quantile(0.25) == pytest.approx(0.020, abs=0.002)


@pytest.mark.parametrize(
    "content, text",
    [
        (None, "no such file"),
        ("", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text log file"),
        ("duration: 1h\nfunctions: {}\n", "no REPORT lines found"),
        ("START RequestId: 1\nEND RequestId: 1\n", "no REPORT lines found"),
        (TEXT_TIMEOUT + "\n", "every REPORT line is a timeout or an error"),
    ],
)
def test_bad_log_files_exit_2_and_write_nothing(tmp_path, capsys, content, text):
    log = tmp_path / "in.log"
    if isinstance(content, bytes):
        log.write_bytes(content)
    elif content is not None:
        log.write_text(content)
    out, trace = tmp_path / "fit.yaml", tmp_path / "trace.txt"
    assert cli.main(["fit", str(log), "--out", str(out), "--trace", str(trace)]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err
    assert not out.exists() and not trace.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if content is None else ["in.log"])


def test_trace_needs_timestamps(tmp_path, capsys):
    log = tmp_path / "plain.log"
    log.write_text(TEXT_WARM + "\n" + TEXT_COLD + "\n")
    trace = tmp_path / "t.txt"
    assert cli.main(["fit", str(log), "--trace", str(trace)]) == 2
    assert "carry no timestamps" in capsys.readouterr().err and not trace.exists()


# --------------------------------------------------------------------------- SnapStart split

def _snapstart_line(i: int, duration: float, restore: float, billed_restore: int) -> str:
    """A SnapStart REPORT line as Lambda writes it (snapstart-monitoring.html): Billed Duration
    = ceil(Duration + Billed Restore Duration)."""
    billed = math.ceil(duration + billed_restore)
    return (f"REPORT RequestId: 5e6f7081-2b3c-4d5e-9f0a-{i:012d}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\t"
            f"Restore Duration: {restore:.2f} ms\tBilled Restore Duration: {billed_restore} ms\t")


def test_restore_duration_is_split_into_restore_and_after_restore(tmp_path):
    # https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html: "Restore
    # Duration: The time it takes for Lambda to restore a snapshot, load the runtime, and run
    # any after-restore runtime hooks"; "Billed Restore Duration: ... load the runtime and run
    # any after-restore hooks. You are not charged for the time it takes to restore a
    # snapshot." So snap_start.restore fits Restore - Billed Restore, after_restore fits
    # Billed Restore. 40 restores: snapshot part 150-189 ms, hooks 300-339 ms.
    lines = [_snapstart_line(i, 20.0 + i, 150.25 + i + 300 + (i * 7) % 40, 300 + (i * 7) % 40)
             for i in range(40)]
    lines += [TEXT_WARM] * 60
    path = tmp_path / "snap.log"
    path.write_text("\n".join(lines) + "\n")
    reader = LogReader()
    reader.read_file(path)
    analysis = analyse(reader, [str(path)])
    snap = analysis.body["snap_start"]
    assert set(snap) == {"restore", "after_restore"}
    restore_part = np.array([150.25 + i for i in range(40)])
    hooks = np.array([300 + (i * 7) % 40 for i in range(40)], dtype=float)
    fragment = {"duration": "20m", "functions": {"f": {
        **analysis.body, "runtime": "python3.12",
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": "1/s"}}]}}}
    scenario = load_scenario(fragment)  # the fragment validates as a SnapStart function
    resolved = scenario.config["functions"]["f"]["snap_start"]
    for key, values in (("restore", restore_part), ("after_restore", hooks)):
        spec = resolved[key]
        text = "\n".join(analysis.lines)
        assert f"{key}:" in text
        # The fitted distribution's median is the sample's (within a few percent).
        median_ms = make_distribution(spec).quantile(0.5) * 1000
        assert median_ms == pytest.approx(np.median(values), rel=0.05), key


def test_restores_without_billed_restore_duration_are_fitted_whole(tmp_path):
    # Logs that keep Restore Duration but not Billed Restore Duration (a Logs Insights
    # export with @restoreDuration only) cannot be split: the whole Restore Duration becomes
    # restore and after_restore is 0, and the report says so.
    rows = [{"@type": "REPORT", "@requestId": f"r{i}", "@duration": 30.0 + i,
             "@memorySize": 1024000000, "@maxMemoryUsed": 91000000,
             "@restoreDuration": 400.0 + i} for i in range(3)]
    path = tmp_path / "insights.json"
    path.write_text(json.dumps(rows))
    reader = LogReader()
    reader.read_file(path)
    analysis = analyse(reader, [str(path)])
    assert analysis.body["snap_start"]["after_restore"] == "0s"
    assert analysis.body["snap_start"]["restore"] == {"dist": "empirical",
                                                      "values": [0.4, 0.401, 0.402]}
    assert "no Billed Restore Duration" in "\n".join(analysis.lines)
    load_scenario({"duration": "1m", "functions": {"f": {**analysis.body, "runtime": "java21"}}})


def test_printed_durations_read_like_the_run_table(tmp_path, capsys):
    """fit writes its durations as the run table does (issue 16 point 3): thousands
    separators (``1,031.1 ms``, never ``1031.1 ms``)."""
    import re

    rng = np.random.default_rng(5)
    lines = []
    for i, ms in enumerate(rng.lognormal(math.log(900.0), 0.08, size=400)):
        init = f"\tInit Duration: {2500 + 10 * (i % 7):.2f} ms" if i % 20 == 0 else ""
        lines.append(f"REPORT RequestId: {uuid.UUID(int=i)}\tDuration: {ms:.2f} ms\t"
                     f"Billed Duration: {math.ceil(ms)} ms\tMemory Size: 1024 MB\t"
                     f"Max Memory Used: 90 MB{init}\t")
    log = tmp_path / "slow.log"
    log.write_text("\n".join(lines) + "\n")
    assert cli.main(["fit", str(log)]) == 0
    out = capsys.readouterr().out
    figures = re.findall(r"(?:median|p99) ([\d,]+\.\d+) ms", out)
    assert figures and any(float(f.replace(",", "")) >= 1000 for f in figures), out
    assert all("," in f for f in figures if float(f.replace(",", "")) >= 1000), figures
