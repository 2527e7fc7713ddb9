"""Money at one precision per chart and per table (issue 16 point 3: "no 6 vs 2 decimals"):
the cost chart's legend of a function whose duration costs dollars and whose requests cost
fractions of a cent, its replication version, and report.html's cost table with its 30-day
row. Prices: https://aws.amazon.com/lambda/pricing/ (requests $0.20 per million, duration
per GB-s)."""
from __future__ import annotations

import re

import pytest

from lambdasim import simulate

#: 2 s at 3,008 MB for ~6,000 requests: duration about $0.59, requests about $0.0012.
MIXED = {"name": "mixed", "duration": "2m", "seed": 4, "recurs": "daily",
         "functions": {"f": {"memory_mb": 3008, "timeout": "10s", "duration": "2s",
                             "triggers": [{"type": "sync", "arrivals": {
                                 "process": "poisson", "rate": "50/s"}}]}}}
AMOUNT = re.compile(r"\$\d{1,3}(?:,\d{3})*(?:\.(\d+))?")


def _decimals(texts) -> set[int]:
    """The number of decimals of every USD amount in ``texts`` (``$0`` aside)."""
    found = set()
    for text in texts:
        for match in AMOUNT.finditer(text):
            if match.group(0) != "$0":
                found.add(len(match.group(1) or ""))
    return found


def _legend_texts(chart) -> list[str]:
    return [t.get_text() for ax in chart.axes if ax.get_legend() is not None
            for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def result():
    return simulate(MIXED)


def test_the_scenario_mixes_a_large_and_a_small_cost(result):
    cost = result.summary["functions"]["f"]["cost_usd"]
    assert cost["duration"] > 0.1 and cost["requests"] < 0.01


def test_the_cost_chart_legend_uses_one_precision(result):
    from lambdasim.results.function_charts import cost_chart

    texts = _legend_texts(cost_chart(result, "f"))
    amounts = [t for t in texts if "$" in t]
    assert len(amounts) >= 4, texts  # requests, duration, running total, the table's cost
    assert len(_decimals(amounts)) == 1, amounts
    # Enough decimals for the smallest item: its two significant digits are shown.
    requests = next(t for t in amounts if t.startswith("requests"))
    assert not requests.endswith("$0.00"), requests


def test_the_replication_cost_chart_uses_one_precision():
    from lambdasim.studies.replications import simulate_many

    reps = simulate_many({**MIXED, "duration": "1m"}, 2, workers=1, charts=True)
    chart = dict(reps.plots())["cost-f.png"]
    amounts = [t for t in _legend_texts(chart) if "$" in t]
    assert len(amounts) == 2 and len(_decimals(amounts)) == 1, amounts


def test_report_html_cost_table_uses_one_precision_with_its_30_day_row(result):
    from lambdasim.results.html_report import _cost_table

    table = _cost_table(result.summary)
    labels = [row["label"] for row in table["rows"]]
    assert any(label.startswith("account, per 30 days") for label in labels), labels
    cells = [cell for row in table["rows"] for cell in row["cells"] if "$" in cell]
    assert len(cells) >= 6 and len(_decimals(cells)) == 1, cells


def test_report_html_replication_figures_show_money_at_one_precision():
    # report.html's folded list of every replication figure: the cost figures in dollars,
    # all at one precision (they read 0.0648, 0.768 and 0.000903 side by side).
    from lambdasim.results.html_report import _details
    from lambdasim.studies.replications import simulate_many

    summary = simulate_many({**MIXED, "duration": "1m"}, 2, workers=1).summary
    block = next(b for b in _details(summary) if b["title"] == "replications")
    money = [value for label, value in block["sections"][0]["rows"] if ".cost_usd." in label]
    assert len(money) >= 10
    assert all(value == "-" or value.startswith(("$", "<$")) for value in money), money
    assert len(_decimals(money)) == 1, money
