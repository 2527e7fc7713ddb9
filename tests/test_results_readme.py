"""results/README.md lists every file a results folder can hold (fresh-user review, F6):
the chart names are exactly those the code can write (:func:`plots.chart_names`), and a
folder written with records, shared dependencies, two functions and an async trigger, and
a replications folder, hold only documented files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import lambdasim
from lambdasim.results import plots
from lambdasim.results.folder import MARKER, RESULT_FILES, write_results
from lambdasim.results.html_report import REPORT_FILE
from lambdasim.results.replication_charts import replication_charts
from lambdasim.results.timeline import digest
from lambdasim.studies.tune_report import TUNE_FILES

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "results" / "README.md"

#: Two functions (one asynchronous) sharing a database pool: most kinds of file at once.
SCENARIO = {
    "name": "readme", "duration": "20s", "seed": 3,
    "dependencies": {"db": {"type": "pool", "capacity": 4, "acquire_timeout": "1s"}},
    "functions": {
        "api": {"duration": {"dist": "lognormal", "median": "50ms", "p99": "200ms"},
                "uses": ["db"],
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "poisson", "rate": 20}}]},
        "worker": {"duration": "80ms",
                   "triggers": [{"type": "async",
                                 "arrivals": {"process": "poisson", "rate": 5}}]},
    },
}


def _documented() -> set[str]:
    """File names in backquotes in results/README.md's tables."""
    names = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def _generic(name: str, functions) -> str:
    """``concurrency-api.png`` -> ``concurrency-F.png``; ``report-api.log.gz`` likewise."""
    for function in sorted(functions, key=len, reverse=True):
        for suffix in (".png", ".log.gz"):
            if name.endswith(f"-{function}{suffix}"):
                return name[:-len(f"{function}{suffix}")] + f"F{suffix}"
    return name


def test_every_chart_name_is_documented_and_nothing_else():
    documented = {name for name in _documented() if name.endswith(".png")}
    charts = set(plots.chart_names())
    assert {"cost-F.png", "latency_time-F.png", "kafka-F.png", "dependencies.png",
            "concurrency.png"} <= charts
    assert documented - set(TUNE_FILES) == charts


def test_every_result_file_is_documented():
    assert set(RESULT_FILES) | set(TUNE_FILES) | {REPORT_FILE, MARKER, "dependencies.csv",
                                                  "report-F.log.gz",
                                                  "replications.json"} <= _documented()


def test_a_written_folder_holds_only_documented_files(tmp_path):
    result = lambdasim.simulate(SCENARIO, records=True)
    folder = write_results(result, tmp_path / "out")
    written = {_generic(p.name, result.functions) for p in folder.iterdir()}
    assert {"dependencies.csv", "dependencies.png", "concurrency.png", "async-F.png",
            "report-F.log.gz", "requests.csv.gz", MARKER} <= written
    assert written <= _documented(), written - _documented()


def test_replication_chart_names_are_documented():
    digests = [digest(lambdasim.simulate(SCENARIO, replication=k).timeline,
                      None) for k in range(2)]
    names = {_generic(name, ("api", "worker"))
             for name, _ in replication_charts({"functions": {}, "config": SCENARIO},
                                               digests)}
    assert {"concurrency-F.png", "cost-F.png", "latency_time-F.png",
            "concurrency.png"} <= names
    assert names <= set(plots.chart_names())
