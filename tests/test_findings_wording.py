"""Findings read as English (issue 16 point 3): a count before a noun agrees with it
("1 request", "2 requests"; "1 attempt was", "2 attempts were"), and a p99 band whose ends
read the same at the shown precision says "stayed at" rather than "between X and X"."""
from __future__ import annotations

from lambdasim.results.findings import findings


def _summary(**block):
    base = {"requests": {"arrived": 10_000, "succeeded": 9_999, "failed": 0, "throttled": 0,
                         "dropped": 0, "in_flight": 0},
            "throttles": 0, "throttle_rate": 0.0, "cold_starts": 0}
    base.update(block)
    return {"duration_s": 600.0, "warmup_s": 0.0, "functions": {"api": base},
            "account": {}, "config": {"period": 60, "functions": {"api": {"triggers": []}}}}


def test_one_failed_request_is_singular():
    text = " ".join(findings(_summary(requests={"arrived": 10_000, "failed": 1,
                                                 "dropped": 1, "throttled": 0})))
    assert "1 request (0.01 %) failed" in text
    assert "1 request (0.01 %) was dropped" in text
    assert "1 requests" not in text


def test_one_throttled_attempt_is_singular():
    text = " ".join(findings(_summary(throttles=1, throttle_rate=0.0001)))
    assert "1 attempt was throttled" in text and "1 attempts" not in text


def test_async_queue_of_one_event():
    summary = _summary(**{"async": {"queue_depth": {"max": 1}, "event_age_ms": {"max": 5.0}}})
    text = " ".join(findings(summary))
    assert "peaked at 1 event;" in text or "peaked at 1 event " in text, text


def test_flat_p99_stayed_at_one_figure():
    series = {"period_start_s": [0.0, 60.0, 120.0, 180.0],
              "function": ["api"] * 4,
              "Latency_p99_ms": [20.01, 20.02, 19.98, 20.0]}
    text = " ".join(findings(_summary(), series))
    assert "P99 latency per 1 min period stayed at 20.0 ms." in text, text
    series["Latency_p99_ms"] = [20.0, 22.0, 21.0, 20.5]
    text = " ".join(findings(_summary(), series))
    assert "stayed between 20.0 ms and 22.0 ms" in text, text


def test_findings_about_periods_say_how_long_a_period_is():
    # "p99 latency per period" does not say whether a period is 1 s or 1 h: the finding names
    # the metrics period's length, as report.html's facts do ("metrics period 30 s").
    summary = _summary(**{"async": {"queue_depth": {"max": 40}, "event_age_ms": {"max": 5.0}}})
    summary["config"]["period"] = 30
    series = {"period_start_s": [0.0, 30.0, 60.0, 90.0], "function": ["api"] * 4,
              "Latency_p99_ms": [20.0, 21.0, 90.0, 20.5], "AsyncQueueDepth": [0, 40, 3, 0]}
    found = findings(summary, series)
    text = " ".join(found)
    assert "P99 latency per 30 s period rose from 21.0 ms (the median period) to 90.0 ms in " \
           "the period from 1:00." in found, found
    assert "peaked at 40 events in the 30 s period from 0:30" in text, text
    assert "per period" not in text
