"""What a user waits for beyond the simulation: the progress bar, the chart data, the charts
and the HTML report.

For the sale-peak scenario (``scenarios/peak.yaml``, first ``--duration`` of it) prints:

* the model's run time without a progress callback and with one (sliced run), and that both
  processed the same number of events;
* the time :func:`lambdasim.results.timeline.build_timeline` adds to building the result, against the
  rest of :func:`lambdasim.results.result.build_result`;
* the time to draw and write the charts, and to write ``report.html``, and their sizes.

Run: ``python benchmarks/reporting.py [--duration 10m] [--repeat 3]``. Prints figures, asserts
nothing about time.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import lambdasim
from lambdasim.results.html_report import write_report
from lambdasim.engine.model import Model
from lambdasim.results.plots import write_plots
from lambdasim.results.result import build_result
from lambdasim.results.timeline import build_timeline

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="10m", help="horizon of the peak scenario")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / "peak.yaml",
                                       {"duration": args.duration})
    print(f"peak scenario, first {args.duration}, best of {args.repeat}")

    plain, sliced, events = [], [], set()
    model = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        model = Model(scenario).run()
        plain.append(time.perf_counter() - started)
        events.add(model.events)
        calls = []
        started = time.perf_counter()
        other = Model(scenario).run(lambda now, count: calls.append(now))
        sliced.append(time.perf_counter() - started)
        events.add(other.events)
    invocations = sum(len(r.attempts) // 5 for r in model.recorders.values())
    print(f"  run, no progress callback : {min(plain):7.2f} s  "
          f"({invocations / min(plain):,.0f} invocations/s)")
    print(f"  run, progress callback    : {min(sliced):7.2f} s  ({len(calls)} slices; "
          f"{'same' if len(events) == 1 else 'DIFFERENT'} event count)")

    whole, timeline = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = build_result(model)
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        build_timeline(model)
        timeline.append(time.perf_counter() - started)
    print(f"  build_result              : {min(whole):7.2f} s, of which the chart timeline "
          f"{min(timeline):.2f} s ({100 * min(timeline) / min(plain):.1f} % of the run)")

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        images = write_plots(result, folder)
        charts_s = time.perf_counter() - started
        started = time.perf_counter()
        page = write_report(result, folder, images)
        report_s = time.perf_counter() - started
        sizes = sum(p.stat().st_size for p in images)
        print(f"  charts                    : {charts_s:7.2f} s for {len(images)} PNG files "
              f"({sizes / 1024:,.0f} KiB)")
        print(f"  report.html               : {report_s:7.2f} s ({page.stat().st_size / 1024:,.0f}"
              f" KiB, charts embedded)")


if __name__ == "__main__":
    main()
