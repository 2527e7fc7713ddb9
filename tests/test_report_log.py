"""The simulated REPORT lines (``report-<function>.log.gz``): the fields Lambda writes and the
billing rules they follow.

https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html ("REPORT": Duration, Billed
Duration, Memory Size, Init Duration on a cold start that ran Init); Billed Duration is the
Duration rounded up to the next millisecond, plus the Init Duration when on-demand Init is
billed (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
"""
from __future__ import annotations

import math

from lambdasim import simulate


def _fields(line: str) -> dict[str, str]:
    stamp, rest = line.split(" ", 1)
    fields = dict(part.split(": ", 1) for part in rest.rstrip("\t").split("\t"))
    fields["stamp"] = stamp
    return fields


def _ms(text: str) -> float:
    return float(text.removesuffix(" ms"))


def test_report_lines_follow_the_billing_rules_for_cold_starts_errors_and_timeouts():
    data = {
        "name": "report_log", "duration": 120, "seed": 3,
        "functions": {"f": {
            "memory_mb": 1024, "timeout": "1s", "error_rate": 0.05,
            "duration": {"dist": "lognormal", "median": "300ms", "p99": "2s"},
            "init": {"dist": "uniform", "low": "200ms", "high": "600ms"},
            "keep_alive": "5s",
            "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": 20}}],
        }},
    }
    result = simulate(data, records=True)
    lines = list(result.records.report_lines("f"))
    fields = [_fields(line) for line in lines]
    assert len(lines) > 1000
    cold = [f for f in fields if "Init Duration" in f]
    timeouts = [f for f in fields if f.get("Status") == "timeout"]
    errors = [f for f in fields if f.get("Status") == "error"]
    assert cold and timeouts and errors
    for f in fields:
        assert f["stamp"].endswith("+00:00") and f["Memory Size"] == "1024 MB"
        billed = int(f["Billed Duration"].removesuffix(" ms"))
        extra = _ms(f["Init Duration"]) if "Init Duration" in f else 0.0
        # Rounded up to the millisecond (to 2 decimals as written, so allow the last digit).
        assert math.ceil(_ms(f["Duration"]) + extra - 0.01) <= billed \
            <= math.ceil(_ms(f["Duration"]) + extra + 0.01)
    for f in timeouts:
        assert _ms(f["Duration"]) == 1000.0  # a timeout ends at the function's timeout
    ids = [f["REPORT RequestId"] for f in fields]
    assert len(set(ids)) == len(ids)
    stamps = [f["stamp"] for f in fields]
    assert stamps == sorted(stamps)  # invocation (start) order
