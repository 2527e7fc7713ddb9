"""What ``lambdasim tune`` shows and writes: the terminal table, ``tune.png``, ``tune.json``.

These read a finished tuning report (the ``tune.json`` dict built by
:func:`lambdasim.studies.tune.tune`) and nothing else. Files are written atomically: the results
folder is rebuilt beside the old one (its other files hard-linked in, so a run's
``summary.json`` survives a tune) and swapped into place by renames, as
:func:`lambdasim.results.folder.write_results` does.
"""
from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping

__all__ = ["format_tune_table", "tune_page", "plot_tune", "write_tune", "TUNE_FILES"]

TUNE_FILES = ("tune.json", "tune.png")


def tune_page(report: Mapping[str, Any]) -> list:
    """The terminal table as blocks for :mod:`lambdasim.results.console`, at most 100
    columns wide: one row per configuration, the best marked ``*``, the Pareto front ``P``, configurations excluded by ``--max-p99`` ``x``;
    ``±`` is the half-width of the 95 % interval. Each latency column is written in the unit
    that suits its largest value (ms, s, min, h); all the figures are in ``tune.json``."""
    from lambdasim.results import humanize as hz
    from lambdasim.results.console import Column, Lines, Paragraph, TextTable

    objective = report["objective"]
    levels = list(dict.fromkeys([objective, "mean", "p99"]))
    entries = report["configurations"]
    latency_columns = []
    for level in levels:
        figures = [e["latency_ms"][level] for e in entries]
        largest = max((abs(f["value"]) for f in figures if f["value"] is not None), default=0.0)
        divisor, unit = hz.duration_unit(largest)
        latency_columns.append((level, figures, divisor, unit, _decimals(largest / divisor)))
    per_million = [e["cost_per_million_requests_usd"] for e in entries]
    per_month = [e["cost_per_30_days_usd"] for e in entries]
    million_digits = hz.money_decimals(f["value"] for f in per_million)
    month_digits = hz.money_decimals(f["value"] for f in per_month)
    columns = ([Column("memory"), Column("arch", "left")]
               + [Column(f"{level} latency\n({unit})") for level, _, _, unit, _ in latency_columns]
               + [Column("cold starts\n(% of inv.)"), Column("throttled\nattempts"),
                  Column("USD per 1M\nrequests"), Column("USD per\n30 days"),
                  Column("", "left")])
    rows = []
    best = report["best"]
    for n, entry in enumerate(entries):
        is_best = best is not None and (entry["memory_mb"], entry["architecture"]) == (
            best["memory_mb"], best["architecture"])
        marks = ("*" if is_best else "") + ("P" if entry["pareto"] else "") + (
            "" if entry["feasible"] else "x")
        rows.append([f"{entry['memory_mb']:,} MB", entry["architecture"]]
                    + [_cell(figures[n], digits, 1.0 / divisor)
                       for _, figures, divisor, _, digits in latency_columns]
                    + [_cell(entry["cold_start_rate"], 2, 100.0),
                       _cell(entry["throttles"], 0), _cell(per_million[n], million_digits),
                       _cell(per_month[n], month_digits), marks])
    reps = report["replications"]
    blocks: list = [
        Paragraph(f"lambdasim tune: scenario {report['scenario']}, function {report['function']}",
                  bold=True),
        Paragraph(f"strategy {report['strategy']}, objective {objective}, "
                  f"{hz.plural(reps, 'replication')}, seed {report['seed']}"),
        Lines(), TextTable(columns, rows, keep=2), Lines()]
    lines = []  # prose, wrapped at 100 columns
    lines.append("* best   P Pareto front (cost vs time)   x excluded by --max-p99"
                 + ("   ± 95 % interval" if reps > 1 else ""))
    if best is None:
        lines.append("best: none (no configuration meets the constraints)")
    else:
        lines.append(f"best: {best['memory_mb']} MB {best['architecture']} -- {best['reason']}")
        top_two = best["top_two"]
        if top_two is not None and top_two["difference"]["distinguishable"] is False:
            lines.append(f"warning: the best and the runner-up ({top_two['memory_mb']} MB "
                         f"{top_two['architecture']}) are not distinguishable at 95 %; "
                         "more replications may separate them")
    if "arm64_duration_factor" in report:
        lines.append(f"arm64/x86_64 duration factor: {report['arm64_duration_factor']:g} "
                     f"(durations measured on {report['reference_architecture']}; 1 = same "
                     "speed, an assumption unless measured: lambdasim fit --other-arch)")
    flip = report.get("architecture_flip")
    if flip:
        cells = ", ".join(
            f"{row['arm64_duration_factor']:g}: "
            + (f"{row['best']['memory_mb']} MB {row['best']['architecture']}" if row["best"]
               else "none") for row in flip["factors"])
        lines.append(f"choice by arm64/x86_64 duration factor: {cells}")
        lines.append(f"architecture chosen: {flip['summary']}")
    import textwrap

    wrapped = [part for text in lines for part in textwrap.wrap(text, 100, subsequent_indent="  ")]
    return blocks + [Lines(tuple(wrapped))]


def format_tune_table(report: Mapping[str, Any]) -> str:
    """:func:`tune_page` as plain text (laid out by rich), at most 100 columns, ending in a
    newline."""
    from lambdasim.results.console import render_text

    return render_text(tune_page(report))


def _decimals(largest: float) -> int:
    """Decimals for a column whose largest value is ``largest``: about 3-4 digits."""
    return 0 if largest >= 100 else (1 if largest >= 10 else 2)


def _cell(figure: Mapping[str, Any], digits: int, scale: float = 1.0) -> str:
    value = figure["value"]
    if value is None:
        return "-"
    text = f"{value * scale:,.{digits}f}"
    if figure["ci95"] is not None:
        half = (figure["ci95"][1] - figure["ci95"][0]) / 2.0 * scale
        if round(half, digits) != 0:
            text += f"±{half:,.{digits}f}"
    return text


def plot_tune(report: Mapping[str, Any]) -> bytes:
    """``tune.png`` as PNG bytes: time and cost per million requests against memory, one
    line per architecture, the chosen point circled (Power Tuning's chart, with 95 % error
    bars when there are replications)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), dpi=100)
    time_ax = figure.add_subplot(1, 1, 1)
    cost_ax = time_ax.twinx()
    memories = sorted({entry["memory_mb"] for entry in report["configurations"]})
    position = {m: i for i, m in enumerate(memories)}
    objective = report["objective"]
    best = report["best"]
    styles = {"x86_64": ("-", "o"), "arm64": ("--", "s")}
    for arch in dict.fromkeys(e["architecture"] for e in report["configurations"]):
        entries = [e for e in report["configurations"] if e["architecture"] == arch]
        xs = [position[e["memory_mb"]] for e in entries]
        line, marker = styles.get(arch, ("-", "o"))
        for ax, getter, colour, label in (
                (time_ax, lambda e: e["latency_ms"][objective], "tab:blue", f"{objective} latency"),
                (cost_ax, lambda e: e["cost_per_million_requests_usd"], "tab:red",
                 "cost per 1M requests")):
            figs = [getter(e) for e in entries]
            ys = [f["value"] if f["value"] is not None else math.nan for f in figs]
            errs = None
            if all(f["ci95"] is not None for f in figs):
                errs = [[y - f["ci95"][0] for y, f in zip(ys, figs)],
                        [f["ci95"][1] - y for y, f in zip(ys, figs)]]
            ax.errorbar(xs, ys, yerr=errs, color=colour, linestyle=line, marker=marker,
                        capsize=3, label=f"{label} ({arch})")
        if best is not None and best["architecture"] == arch:
            chosen = next(e for e in entries if e["memory_mb"] == best["memory_mb"])
            x = position[chosen["memory_mb"]]
            for ax, f in ((time_ax, chosen["latency_ms"][objective]),
                          (cost_ax, chosen["cost_per_million_requests_usd"])):
                if f["value"] is not None:
                    ax.plot([x], [f["value"]], marker="o", markersize=16, markerfacecolor="none",
                            markeredgecolor="black", markeredgewidth=2)
            time_ax.axvline(x, color="grey", linewidth=0.8, linestyle=":")
    time_ax.set_xticks(range(len(memories)))
    time_ax.set_xticklabels([str(m) for m in memories])
    time_ax.set_xlabel("memory (MB)")
    time_ax.set_ylabel(f"{objective} latency (ms)", color="tab:blue")
    cost_ax.set_ylabel("cost per million requests (USD)", color="tab:red")
    time_ax.set_ylim(bottom=0)
    cost_ax.set_ylim(bottom=0)
    title = f"{report['scenario']}: {report['function']}, strategy {report['strategy']}"
    if best is not None:
        title += f", best {best['memory_mb']} MB {best['architecture']} (circled)"
    time_ax.set_title(title)
    handles, labels = [], []
    for ax in (time_ax, cost_ax):
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    time_ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
                   fontsize="small", frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_tune(report: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``tune.json`` and ``tune.png`` into ``out_dir`` atomically.

    The new folder is assembled beside the old one (other files of an existing results
    folder hard-linked into it, so a run's ``summary.json`` survives a tune) and swapped in
    by renames; a failure before the swap leaves the old folder as it was. An existing folder
    is replaced only when it is empty or was written by lambdasim and holds nothing else
    (:func:`lambdasim.results.folder.check_out_dir`).
    """
    from lambdasim.results.folder import _write_bytes, replace_folder

    files = {"tune.json": (json.dumps(report, indent=2, allow_nan=False) + "\n").encode(),
             "tune.png": plot_tune(report)}

    def fill(folder: Path) -> None:
        for name, data in files.items():
            _write_bytes(folder / name, data)

    # Other files of a run's results folder (summary.json, charts) are kept.
    return replace_folder(out_dir, fill, keep_existing_except=files)
