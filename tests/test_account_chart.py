"""The account chart (``concurrency.png``) stays readable for any number of functions: with
more than ACCOUNT_BANDS functions the busiest are drawn apart and the others as one band
that says how many it holds; the peak, the account limit and the warm-up are always in the
legend, the legend fits in the picture, and drawing warns about nothing (fresh-user review,
F3)."""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import lambdasim
from lambdasim.results import plots
from lambdasim.results.chart_kit import WARMUP_LABEL
from lambdasim.results.replication_charts import _account
from lambdasim.results.source_charts import ACCOUNT_BANDS, account_groups
from lambdasim.results.timeline import digest


def _scenario(count: int, duration: str = "40s") -> dict:
    return {
        "name": f"functions_{count}", "duration": duration, "warmup": "10s", "seed": 8,
        "functions": {
            f"fn{k:02d}": {
                "duration": {"dist": "lognormal", "median": "100ms", "p99": "400ms"},
                # Unequal traffic: the busiest functions are the last ones.
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "poisson", "rate": 2.0 + k}}],
            } for k in range(count)},
    }


@pytest.fixture(scope="module")
def forty():
    return lambdasim.simulate(_scenario(40))


@pytest.fixture(scope="module")
def three():
    return lambdasim.simulate(_scenario(3))


def _drawn(chart):
    """Draw the chart as write_plots does, turning any warning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chart.png()
    return chart


def _legend(chart) -> list[str]:
    return [text.get_text() for text in chart.axes[0].get_legend().get_texts()]


def _legend_fits(chart) -> None:
    renderer = chart.canvas.get_renderer()
    box = chart.axes[0].get_legend().get_window_extent(renderer)
    figure = chart.bbox
    assert box.x0 >= figure.x0 and box.x1 <= figure.x1 + 0.5
    assert box.y0 >= figure.y0 - 0.5 and box.y1 <= figure.y1 + 0.5


def test_forty_functions_show_the_busiest_and_the_others_as_one_band(forty):
    chart = _drawn(plots.account_chart(forty))
    labels = _legend(chart)
    timeline = forty.timeline
    peaks = {name: float(f.busy_max.max()) for name, f in timeline.functions.items()}
    shown = [label for label in labels if label in timeline.functions]
    assert len(shown) == ACCOUNT_BANDS - 1
    others = set(timeline.functions) - set(shown)
    assert min(peaks[n] for n in shown) >= max(peaks[n] for n in others)
    assert f"other functions ({len(others)}), together" in labels
    assert WARMUP_LABEL in labels
    assert any(label.startswith("peak concurrent executions in each") for label in labels)
    assert "account concurrency limit (1,000), above the chart" in labels
    _legend_fits(chart)
    subtitle = " ".join(chart.axes[0].get_title().split())
    assert (f"the {ACCOUNT_BANDS - 1} functions with the highest peak concurrency apart, "
            f"the other {len(others)} as one band") in subtitle


def test_three_functions_are_all_drawn_apart(three):
    chart = _drawn(plots.account_chart(three))
    labels = _legend(chart)
    assert {"fn00", "fn01", "fn02", WARMUP_LABEL} <= set(labels)
    assert any(label.startswith("account concurrency limit (1,000)") for label in labels)
    assert not any(label.startswith("other functions") for label in labels)
    _legend_fits(chart)


def test_grouping_keeps_the_highest_peaks_in_rank_order():
    names = [f"f{k}" for k in range(12)]
    peaks = [1, 9, 3, 9, 2, 8, 7, 6, 5, 4, 0, 3]
    totals = [0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 9]
    shown, others = account_groups(names, peaks, totals)
    # Ties on the peak go to the busier function, then to the scenario's order.
    assert shown == ["f3", "f1", "f5", "f6", "f7", "f8", "f9", "f11", "f2"]
    assert others == ["f0", "f4", "f10"]
    assert account_groups(names[:10], peaks[:10], totals[:10]) == (names[:10], [])


def test_replication_account_chart_groups_too(forty):
    second = lambdasim.simulate(_scenario(40), replication=1)
    digests = [digest(forty.timeline), digest(second.timeline)]
    # The account chart alone (replication_charts draws every function's charts first).
    width = float(digests[0]["width_s"])
    length = max(len(d["functions"]["fn00"]["busy"]) for d in digests)
    axis = SimpleNamespace(end_s=length * width, duration_s=40.0, warmup_s=10.0)
    chart = _drawn(_account(digests, axis, np.arange(length + 1) * width, width, length,
                            len(digests), 1000))
    labels = _legend(chart)
    assert sum(label.endswith(": busy environments, mean") and label.startswith("fn")
               for label in labels) == ACCOUNT_BANDS - 1
    assert "other functions (31): busy environments summed, mean" in labels
    # The others' line is their sum: with the shown ones, every function's busy level.
    lines = {line.get_label(): line.get_ydata() for line in chart.axes[0].get_lines()}
    total = sum(np.asarray(values, dtype=float)[:-1] for label, values in lines.items()
                if label.endswith("busy environments, mean")
                or label.endswith("busy environments summed, mean"))
    every = np.zeros(length)
    for d in digests:
        for values in (f["busy"] for f in d["functions"].values()):
            every[:values.size] += values / len(digests)
    assert np.allclose(total[:every.size], every, atol=1e-9)
    assert WARMUP_LABEL in labels
    assert any(label.startswith("account concurrency limit (1,000)") for label in labels)
    _legend_fits(chart)
