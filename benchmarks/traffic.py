"""Speed of the traffic generators, of ``fit`` and of ``import-sam``.

Prints, for each arrival process, how many arrival times per wall second
:func:`lambdasim.scenario.arrivals.arrival_times` produces (about two million arrivals each, 4,096-draw
blocks), then how many REPORT lines per second ``fit`` reads and fits (100,000 text lines),
and how long ``import-sam`` takes on the bundled example template.

Run: ``python benchmarks/traffic.py``. It asserts nothing about time; it prints figures.
"""
from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from lambdasim.scenario.arrivals import arrival_times, resolve_arrivals
from lambdasim.aws.fit import LogReader, analyse
from lambdasim.aws.sam import import_template

ROOT = Path(__file__).resolve().parent.parent
HORIZON = 20_000.0  # seconds; 100/s on average gives two million arrivals

SPECS = {
    "poisson (constant)": {"process": "poisson", "rate": "100/s"},
    "poisson (linear ramps)": {"process": "poisson", "interpolation": "linear",
                               "rate": [[0, "20/s"], ["1h", "180/s"], ["3h", "40/s"], ["5h", "160/s"]]},
    "diurnal": {"process": "diurnal", "mean": "100/s", "amplitude": "80/s", "period": "1h", "peak": "20m"},
    "mmpp (2 states)": {"process": "mmpp", "states": [{"rate": "40/s", "mean_sojourn": "2m"},
                                                      {"rate": "340/s", "mean_sojourn": "30s"}]},
    "trace (counts, poisson spread)": {"process": "trace", "counts": [6000.0] * 334, "interval": "1m"},
    "trace (2M timestamps)": {"process": "trace", "times": list(np.arange(2_000_000) / 100.0)},
}


def main() -> None:
    print(f"arrival generation over {HORIZON:,.0f} s (best of 3)")
    for label, raw in SPECS.items():
        (spec,) = resolve_arrivals(raw, "a")
        best, n = float("inf"), 0
        for rep in range(3):
            start = time.perf_counter()
            n = sum(b.size for b in arrival_times(spec, np.random.default_rng(rep), HORIZON))
            best = min(best, time.perf_counter() - start)
        print(f"  {label:32s} {n:>10,d} arrivals  {n / best / 1e6:6.1f} M arrivals/s")

    rng = np.random.default_rng(1)
    lines = []
    for i, d in enumerate(rng.lognormal(np.log(120), 0.8, 100_000)):
        init = f"\tInit Duration: {rng.lognormal(np.log(300), 0.4):.2f} ms" if i % 20 == 0 else ""
        lines.append(f"2026-03-02T09:00:{i % 60:02d}.000Z REPORT RequestId: {uuid.UUID(int=i)}\tDuration: {d:.2f} ms\t"
                     f"Billed Duration: {int(d) + 1} ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB{init}\t")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "report.log"
        log.write_text("\n".join(lines) + "\n")
        start = time.perf_counter()
        reader = LogReader()
        reader.read_file(log)
        parsed = time.perf_counter() - start
        analysis = analyse(reader, [str(log)])
        total = time.perf_counter() - start
    print(f"fit: {len(reader.reports):,} REPORT lines parsed in {parsed:.2f} s "
          f"({len(reader.reports) / parsed:,.0f} lines/s), parsed and fitted in {total:.2f} s; "
          f"chose {analysis.duration.name}")
    start = time.perf_counter()
    import_template(ROOT / "scenarios" / "templates" / "orders-sam.yaml")
    print(f"import-sam: orders-sam.yaml in {1000 * (time.perf_counter() - start):.0f} ms")


if __name__ == "__main__":
    main()
