"""The terminal output drawn by rich (lambdasim.results.console, lambdasim.results.progress):
plain text on pipes, at most 100 columns, split rather than cut, styles only on a terminal,
NO_COLOR honoured, cells printed as written."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from lambdasim.results.console import (Column, Lines, Paragraph, TextTable, print_page,
                                       render_text)
from lambdasim.results.progress import ProgressBar
from lambdasim.results.table import format_summary_table

PEAK = Path(__file__).resolve().parent.parent / "scenarios" / "peak.yaml"
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: SGR colour codes: foreground/background 30-37, 40-47, 90-97, 100-107, 38;... and 48;...
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _check_plain(text: str) -> list[str]:
    lines = text.splitlines()
    assert "\x1b" not in text
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)
    assert all(line == line.rstrip() for line in lines)
    return lines


def test_run_table_is_plain_and_fits_100_columns_when_piped(run_cli):
    proc = run_cli("run", PEAK, "--set", "duration=3m", "--no-plots",
                   "--out", "peak")
    assert proc.returncode == 0, proc.stderr
    lines = _check_plain(proc.stdout)
    assert lines[0] == "lambdasim: scenario peak, seed 42"
    assert any(ln.startswith("requests arrived ") and ln.endswith("23,932") for ln in lines)
    assert any(ln.startswith("findings:") for ln in lines)


def test_replication_table_is_plain_and_fits_100_columns_when_piped(run_cli):
    proc = run_cli("run", PEAK, "--set", "duration=2m", "--replications", "2",
                   "--workers", "1", "--no-plots", "--out", "reps")
    assert proc.returncode == 0, proc.stderr
    lines = _check_plain(proc.stdout)
    row = next(ln for ln in lines if ln.startswith("latency p99 per request "))
    assert re.search(r"[\d,.]+ \[[\d,.]+, [\d,.]+\] ms$", row), row  # mean [low, high] unit


def _wide_summary(functions: int) -> dict:
    block = {"requests": {"arrived": 1_975_271, "succeeded": 1_854_533, "failed": 1_831,
                          "throttled": 118_907, "dropped": 0, "in_flight": 0},
             "invocations": 1_856_364, "throttles": 979_734, "attempts": 2_836_098,
             "errors": 1_831, "cold_starts": 875, "cold_start_rate": 0.0005,
             "throttle_rate": 0.3455, "request_throttle_rate": 0.0602,
             "latency_ms": {"p50": 273.3, "p99": 1231.6, "max": 6917.1},
             "concurrency": {"max": 1000, "mean": 512.01},
             "cost_usd": {"total": 10.12, "per_30_days": {"total": 303.46}}}
    return {"scenario": "wide", "seed": 1, "duration_s": 600.0, "warmup_s": 0.0,
            "functions": {f"function-{n}": block for n in range(functions)},
            "account": {"concurrency": {"max": 1000, "mean": 512.01}, "throttles": 979_734,
                        "cost_usd": {"total": 10.12, "per_30_days": {"total": 303.46}}}}


def test_a_wide_table_is_split_into_parts_that_keep_every_label_and_figure():
    text = format_summary_table(_wide_summary(7))
    lines = _check_plain(text)
    headers = [ln for ln in lines if ln.startswith("function ")]
    assert len(headers) == 2  # seven functions do not fit 100 columns in one part
    named = " ".join(headers).split()
    assert all(f"function-{n}" in named for n in range(7))  # each function in one part
    rows = [ln for ln in lines if ln.startswith("requests arrived ")]
    assert len(rows) == len(headers)
    assert sum(ln.count("1,975,271") for ln in rows) == 7  # no figure cut or lost


def test_cells_are_printed_as_written_never_as_markup():
    table = TextTable([Column("figure", "left"), Column("value")],
                      [["[bold]x[/bold]", "3.0 [1.0, 5.0] ms"], ["[red]", ":smile:"]])
    text = render_text([Paragraph("title [dim]"), table])
    assert "[bold]x[/bold]" in text and "3.0 [1.0, 5.0] ms" in text
    assert "[red]" in text and ":smile:" in text and "title [dim]" in text


def test_a_terminal_gets_bold_headers_and_a_pipe_the_same_text_plain():
    page = [Paragraph("lambdasim: scenario x", bold=True), Lines(),
            TextTable([Column("function", "left"), Column("api")], [["requests", "1,234"]])]
    terminal = _Terminal()
    print_page(page, terminal)
    assert "\x1b[1m" in terminal.getvalue()  # bold
    assert ESCAPE.sub("", terminal.getvalue()).split() == render_text(page).split()
    piped = io.StringIO()
    print_page(page, piped)
    assert piped.getvalue() == render_text(page)


@pytest.mark.parametrize("no_color", [False, True])
def test_no_color_is_honoured_on_a_terminal(monkeypatch, no_color):
    # https://no-color.org: no colour when NO_COLOR is set (to anything but "").
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    stream = _Terminal()
    bar = ProgressBar(stream, duration_s=60.0, delay_s=0.0, width=120)
    bar(30.0, 1000)
    bar.close()
    table = _Terminal()
    print_page([TextTable([Column("function", "left"), Column("api")], [["x", "1"]])], table)
    drawn = stream.getvalue() + table.getvalue()
    assert "30.0s of 1m00s simulated" in ESCAPE.sub("", stream.getvalue())
    assert bool(COLOUR.search(drawn)) is not no_color


GOLDEN = Path(__file__).resolve().parent / "golden"


def _figures(summary: dict, cell) -> list[str]:
    """Every figure cell of the summary table, as the table writes it."""
    from lambdasim.results.table import table_sections

    return [cell(index, section, row, column, value)
            for index, section in enumerate(table_sections(summary))
            for row, values in section.rows
            for column, value in zip(section.columns, values)]


def _summaries() -> list[dict]:
    import json

    return [json.loads((GOLDEN / f"{name}.json").read_text())
            for name in ("reserved_cap", "launch_provisioned", "sqs_spike")] + [_wide_summary(7)]


@pytest.mark.parametrize("width", [40, 0])
def test_no_figure_is_cut_on_a_narrow_or_sizeless_terminal(width):
    # F2: at 40 columns the table cut "10,814" to "10,81" and "$114.56" to "$114."; a
    # pseudo-terminal of size 0x0 is a width nobody knows: drawn at 100 columns, as for a pipe.
    from lambdasim.results import humanize as hz
    from lambdasim.results.table import (figure_key, render_cell, render_interval,
                                         replications_page, summary_page, table_sections)

    for summary in _summaries():
        sections = table_sections(summary)
        digits = hz.money_decimals(v for s in sections for row, values in s.rows
                                   if row.kind == "usd" for v in values)
        text = render_text(summary_page(summary), width)
        lines = _check_plain(text)
        assert max(len(line) for line in lines) <= (width or 100)
        cells = _figures(summary, lambda i, s, row, c, v: render_cell(v, row, digits))
        missing = [c for c in cells if c not in text]
        assert not missing, missing
        assert all(f"{c}" in text for c in summary["functions"])  # names whole, too
        # Replications: cells such as "1,406.2 [1,265.6, 1,546.8] ms" are wider still.
        figures = {figure_key(i, c, row.path): {"mean": v, "ci95": [0.9 * v, 1.1 * v]}
                   for i, s in enumerate(sections) for row, values in s.rows
                   for c, v in zip(s.columns, values) if isinstance(v, (int, float))}
        text = render_text(replications_page(summary, figures, 5, 1), width)
        money = hz.money_decimals(f["mean"] for k, f in figures.items() if "cost_usd" in k)
        cells = [render_interval(figures.get(figure_key(i, c, row.path)), row, money)
                 for i, s in enumerate(sections) for row, values in s.rows
                 for c, v in zip(s.columns, values) if v is not None]
        lines = text.splitlines()
        missing = [c for c in cells if not any(c in line for line in lines)]
        assert not missing, missing


def test_a_table_wider_than_any_layout_is_printed_whole_not_cut():
    # A figure wider than the page with its label: the line runs past the width (the
    # terminal wraps it) rather than losing digits.
    figure = "123,456,789 [123,000,000, 124,000,000] requests"
    table = TextTable([Column("figure", "left"), Column("api")],
                      [["requests arrived in the measured window", figure]])
    text = render_text([table], 40)
    assert any(figure in line for line in text.splitlines()), text
    assert "requests arrived in the measured window" in " ".join(text.split())


def test_a_sizeless_terminal_is_drawn_at_100_columns(monkeypatch):
    # `stty cols 0 rows 0`: os.get_terminal_size reports 0 columns; not a 40-column page.
    import os
    from lambdasim.results import console

    monkeypatch.setattr(console.os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    terminal = _Terminal()
    terminal.fileno = lambda: 1  # type: ignore[method-assign]
    page = [TextTable([Column("function", "left"), Column("api")],
                                     [["requests throttled (% of requests)", "26.38 %"]] * 2)]
    print_page(page, terminal)
    plain = ESCAPE.sub("", terminal.getvalue())
    assert plain.split() == render_text(page).split()
    assert "requests throttled (% of requests)" in plain  # one line: 100 columns, not 40


def test_a_label_gives_way_to_a_wide_figure_unless_it_holds_a_figure():
    # A word such as arm64/x86_64 may fold in a label column at 40 columns so that the line
    # fits; a number in a label column (a sweep's setting) is never broken, even if the line
    # then runs past the width (the terminal wraps it).
    wide = "23,772.5 [21,745.9, 25,799.1]"
    rows = [["arm64/x86_64 duration factor", wide], ["cold starts (% of invocations)", wide]]
    table = TextTable([Column("function", "left"), Column("checkout")], rows)
    lines = render_text([table], 40).splitlines()
    assert max(len(line) for line in lines) <= 40, lines
    assert sum(wide in line for line in lines) == 2
    table.rows.append(["memory 10,240,000 MB", wide])
    lines = render_text([table], 40).splitlines()
    assert any(line.split()[:1] == ["10,240,000"] for line in lines), lines
    assert sum(wide in line for line in lines) == 3
    assert max(len(line) for line in lines) == len("10,240,000") + 2 + len(wide)
