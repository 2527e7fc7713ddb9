"""Generate the small traces bundled with lambdasim (synthetic, seeded, reproducible).

Run from anywhere: ``python scenarios/traces/make_trace.py``. It rewrites, next to itself:

``checkout_access.txt``
    One ISO 8601 request time per line (millisecond precision), as cut from an API access log:
    20 minutes of a checkout API at about 4 requests per second, a slow climb to 12/s from
    minute 8 to minute 12, and a flash crowd of 1,500 requests within 20 seconds at minute 15.
``checkout_invocations_1m.csv``
    The same traffic as a CloudWatch ``Invocations`` export: a ``Time,Invocations`` CSV with
    one-minute sums, minutes without invocations left out as CloudWatch does.
``azure_sample.csv``
    Five functions in the column layout of the Azure Functions 2019 invocation-count trace
    (``HashOwner, HashApp, HashFunction, Trigger, 1 .. 1440``); synthetic rows, not an excerpt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.timezone.utc)


def checkout_times(rng: np.random.Generator) -> np.ndarray:
    """Arrival offsets in seconds over 20 minutes, rounded to milliseconds."""
    # base rate 4/s, ramp 4 -> 12/s over minutes 8..12, then 12/s until 14, back to 4/s
    grid = np.arange(0.0, 1200.0, 1.0)
    rate = np.full(grid.size, 4.0)
    ramp = (grid >= 480) & (grid < 720)
    rate[ramp] = 4.0 + 8.0 * (grid[ramp] - 480) / 240
    rate[(grid >= 720) & (grid < 840)] = 12.0
    counts = rng.poisson(rate)
    base = np.repeat(grid, counts) + rng.random(counts.sum())
    flash = 900.0 + 20.0 * rng.beta(2.0, 5.0, 1500)  # a flash crowd peaking early
    times = np.sort(np.concatenate([base, flash]))
    return np.round(times, 3)


def main() -> None:
    rng = np.random.default_rng(20260302)
    times = checkout_times(rng)
    lines = [(T0 + dt.timedelta(milliseconds=int(round(t * 1000)))).isoformat(timespec="milliseconds")
             .replace("+00:00", "Z") for t in times]
    (HERE / "checkout_access.txt").write_text(
        "# checkout API requests, one ISO 8601 time per line (lambdasim make_trace.py)\n"
        + "\n".join(lines) + "\n", encoding="utf-8")

    minutes = np.bincount((times // 60).astype(int), minlength=20)
    rows = ["Time,Invocations"]
    for m, n in enumerate(minutes):
        if n:  # CloudWatch leaves out periods without data points
            rows.append(f"{(T0 + dt.timedelta(minutes=m)).strftime('%Y-%m-%d %H:%M:%S')},{n}")
    (HERE / "checkout_invocations_1m.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    head = ["HashOwner", "HashApp", "HashFunction", "Trigger", *map(str, range(1, 1441))]
    out = [",".join(head)]
    minute = np.arange(1440)
    shapes = [
        ("http", 40.0 * (1 + 0.6 * np.cos(2 * np.pi * (minute - 840) / 1440))),  # diurnal API
        ("timer", np.where(minute % 5 == 0, 1.0, 0.0)),                            # every 5 min
        ("queue", rng.gamma(0.3, 30.0, 1440)),                                      # bursty
        ("http", np.full(1440, 2.0)),
        ("event", np.where((minute >= 600) & (minute < 630), 300.0, 0.5)),         # a batch job
    ]
    for i, (trigger, mean) in enumerate(shapes):
        h = [hashlib.sha256(f"{kind}{i}".encode()).hexdigest() for kind in ("owner", "app", "function")]
        counts = rng.poisson(mean)
        out.append(",".join([*h, trigger, *map(str, counts)]))
    (HERE / "azure_sample.csv").write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
