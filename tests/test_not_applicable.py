"""'-' where a figure cannot apply, '$0' only where it applies and is zero (issue 16 point 3).

A cost row of the run table shows ``-`` for a function the charge cannot reach: event poller
units bill only provisioned-mode event source mappings, the SnapStart cache and restore
charges only SnapStart functions of runtimes that pay them (Java managed runtimes do not),
https://aws.amazon.com/lambda/pricing/. The async drain durations show ``-`` when no event
waited in the queue (there was no backlog to drain). report.html's cost table does the same,
and a provisioned function's on-demand duration and Init columns say that its execution sits
in the provisioned column.
"""
from __future__ import annotations

import pytest

from lambdasim import simulate
from lambdasim.results.html_report import _cost_table
from lambdasim.results.table import format_summary_table, render_cell, table_sections

_KAFKA = {"type": "kafka", "arrivals": {"process": "poisson", "rate": "20/s"},
          "partitions": 2, "batch_size": 10}

SCENARIO = {
    "name": "applies", "duration": "2m", "seed": 3, "recurs": "daily",
    "functions": {
        "ondemand": {"memory_mb": 512, "timeout": "10s", "duration": "30ms",
                     "triggers": [dict(_KAFKA)]},
        "provmode": {"memory_mb": 512, "timeout": "10s", "duration": "30ms",
                     "triggers": [dict(_KAFKA, provisioned_pollers={"minimum": 1,
                                                                     "maximum": 2})]},
        "javasnap": {"memory_mb": 512, "timeout": "10s", "runtime": "java21",
                     "duration": "30ms", "snap_start": {"restore": "200ms"},
                     "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                                 "rate": "2/s"}}]},
        "pysnap": {"memory_mb": 512, "timeout": "10s", "runtime": "python3.12",
                   "duration": "30ms", "snap_start": {"restore": "200ms"},
                   "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                               "rate": "2/s"}}]},
        "calm": {"memory_mb": 512, "timeout": "10s", "duration": "30ms",
                 "triggers": [{"type": "async", "arrivals": {"process": "poisson",
                                                             "rate": "2/s"}}]},
        "warm": {"memory_mb": 512, "timeout": "10s", "duration": "30ms",
                 "provisioned_concurrency": 5,
                 "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                             "rate": "2/s"}}]},
    },
}


@pytest.fixture(scope="module")
def run():
    result = simulate(SCENARIO)
    return result.summary, format_summary_table(result)


def _cells(summary, label: str) -> dict[str, str]:
    """The cells of the function table's row ``label`` as the table writes them."""
    section = table_sections(summary)[0]
    for row, values in section.rows:
        if row.label == label:
            return {name: render_cell(v, row, 4) for name, v in zip(section.columns, values)}
    raise AssertionError(f"no row {label!r}")


def test_summary_keeps_numbers(run):
    summary, _ = run
    for block in summary["functions"].values():
        assert block["cost_usd"]["event_poller_units"] >= 0
        assert block["cost_usd"]["snap_start_cache"] >= 0


def test_event_poller_cost_only_for_provisioned_mode(run):
    summary, table = run
    cells = _cells(summary, "event poller cost")
    assert "event poller cost" in table
    assert cells["ondemand"] == "-"            # on-demand Kafka: no event poller units
    assert cells["provmode"].startswith("$") and cells["provmode"] != "$0"
    assert cells["calm"] == "-" and cells["warm"] == "-"


def test_snapstart_costs_only_where_paid(run):
    summary, table = run
    for label in ("snapstart cache cost", "snapstart restore cost"):
        assert label in table
        cells = _cells(summary, label)
        assert cells["javasnap"] == "-"        # Java pays no SnapStart charge
        assert cells["pysnap"].startswith("$")
        assert cells["ondemand"] == "-" and cells["warm"] == "-"
    assert summary["functions"]["pysnap"]["cost_usd"]["snap_start_cache"] > 0


def test_no_drain_duration_without_backlog(run):
    summary, table = run
    assert summary["functions"]["calm"]["async"]["backlog"]["started_s"] is None
    assert summary["functions"]["calm"]["async"]["backlog"]["drain_s"] == 0.0  # key unchanged
    for label in ("async backlog drain duration", "async backlog ideal drain duration"):
        cells = _cells(summary, label)
        assert cells["calm"] == "-", (label, cells)
    assert "async event age p99 per invocation (queued to start)" in table


def test_report_cost_table_marks_provisioned_execution(run):
    summary, _ = run
    cost = _cost_table(summary)
    header = cost["header"]
    rows = {row["label"]: dict(zip(header[1:], row["cells"])) for row in cost["rows"]}
    duration = next(h for h in header if h.startswith("duration"))
    init = next(h for h in header if h.startswith("init"))
    assert "on demand" in duration and "on demand" in init
    # Every invocation of 'warm' ran on its provisioned environments: no on-demand execution.
    assert summary["functions"]["warm"]["provisioned"]["spillover_invocations"] == 0
    assert rows["warm"][duration] == "-" and rows["warm"][init] == "-"
    assert rows["warm"]["provisioned concurrency"] not in ("-", "$0")
    assert rows["calm"][duration] not in ("-", "$0")
    assert "provisioned concurrency column" in cost["note"]
    epu = next(h for h in header if h.startswith("event pollers"))
    assert rows["ondemand"][epu] == "-" and rows["provmode"][epu] not in ("-", "$0")


def test_requests_chart_uses_the_table_words(run):
    """The requests chart names its series as the table's rows do (issue 16 point 1):
    invocations are handler runs; attempts are invocations plus throttled attempts, so the
    invocation line must not be called attempts."""
    from lambdasim.results import plots
    from lambdasim.results.table import FUNCTION_ROWS

    result = simulate({**SCENARIO, "functions": {"calm": SCENARIO["functions"]["calm"]}})
    chart = plots.requests_chart(result, "calm")
    labels = [t.get_text() for ax in chart.axes if ax.get_legend() is not None
              for t in ax.get_legend().get_texts()]
    (invocations,) = [text for text in labels if text.startswith("invocations")]
    row = next(r for r in FUNCTION_ROWS if r.path == ("invocations",))
    assert invocations.startswith(row.label.strip().rstrip(")")), (invocations, row.label)
    assert "attempts" not in invocations
    assert any(text.startswith(FUNCTION_ROWS[0].label) for text in labels), labels
