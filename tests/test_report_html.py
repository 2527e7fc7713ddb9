"""report.html: one self-contained page (no server, nothing fetched, no script) with the
summary table, the charts embedded, the expect: checks and the resolved scenario; it loads in
headless Chromium without console errors, every chart decodes, and a screenshot shows them.

The Chromium tests are skipped only where no Chromium is installed; .ci/run installs it."""
from __future__ import annotations

import base64
import copy
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

import lambdasim
from lambdasim import cli
from lambdasim.results.html_report import render_report

SCENARIO = """\
name: shop
description: Checkout <b>at the peak</b> & "quoted"
duration: 40s
seed: 8
account: {concurrency_limit: 30, unreserved_minimum: 5}
functions:
  api:
    duration: {dist: lognormal, median: 250ms, p99: 1s}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: [[0s, 20/s], [15s, 140/s], [30s, 20/s]]}
expect:
  - api.latency_ms.p99 < 5000
  - api.throttle_rate <= 0.001
"""
CHARTS = {"concurrency-api.png", "requests-api.png", "latency-api.png", "latency_time-api.png",
          "cost-api.png"}
#: Appended to a copy of the page: after load, count the images that decoded.
PROBE = """<script>window.addEventListener("load", function () {
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) ok++;
  }
  document.body.setAttribute("data-images-ok", ok + "/" + images.length);
});</script>"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A run with a burst past the account limit (throttles, a failed check), via the CLI."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "shop.yaml").write_text(SCENARIO)
    code = cli.main([str(folder / "shop.yaml"), "--out", str(folder / "out"), "--quiet"])
    assert code == cli.EXIT_EXPECT_FAILED  # the burst throttles: the second check fails
    return folder / "out"


def test_the_page_is_self_contained(results):
    page = (results / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", page)
    sources = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(sources) == len(CHARTS)
    embedded = {base64.b64decode(s) for s in sources}
    assert embedded == {(results / name).read_bytes() for name in CHARTS}


def test_the_page_holds_the_summary_the_checks_and_the_scenario(results):
    page = (results / "report.html").read_text(encoding="utf-8")
    summary = lambdasim.simulate(results.parent / "shop.yaml").summary
    arrived = summary["functions"]["api"]["requests"]["arrived"]
    assert f'<td class="num">{arrived:,}</td>' in page
    assert "<h2>Summary</h2>" in page and "<h2>Charts</h2>" in page
    assert '<td class="pass">PASS</td><td><code>api.latency_ms.p99 &lt; 5000</code>' in page
    assert '<td class="fail">FAIL</td><td><code>api.throttle_rate &lt;= 0.001</code>' in page
    # The scenario as written (the file's text, comments and all) ...
    written = page.split("<h2>Scenario</h2>", 1)[1].split("<details>", 1)[0]
    assert "rate: [[0s, 20/s], [15s, 140/s], [30s, 20/s]]" in written
    assert "keep_alive" not in written
    # ... and below a fold the resolved form, defaults filled in, lognormal as mu/sigma.
    resolved = page.split("<summary><b>Resolved scenario</b>", 1)[1].split("</details>")[0]
    assert "concurrency_limit: 30" in resolved and "unreserved_minimum: 5" in resolved
    assert "keep_alive:" in resolved and "mu:" in resolved and "sigma:" in resolved
    assert re.search(r"Checkout &lt;b&gt;at the peak&lt;/b&gt; &amp; (&quot;|&#34;)quoted"
                     r"(&quot;|&#34;)", page)
    assert "<b>at the peak</b>" not in page


def test_trigger_blocks_and_replications_are_shown(results):
    result = lambdasim.simulate(results.parent / "shop.yaml")
    result.summary = copy.deepcopy(result.summary)
    result.summary["functions"]["api"]["async"] = {"events": {"received": 12, "dropped": 1}}
    result.summary["replications"] = {"n": 3, "figures": {}}
    page = render_report(result)
    assert "<h2>Trigger details</h2>" in page and "<b>api.async</b>" in page
    # A table, not raw JSON: a labelled row with the values in words.
    assert '<td class="label">events</td><td class="num">received 12 · dropped 1</td>' in page
    details = page.split("<h2>Trigger details</h2>", 1)[1].split("<h2>")[0]
    assert "&quot;" not in details and "&#34;" not in details and "{" not in details
    assert "<b>replications</b>" in page


def test_without_plots_the_report_is_still_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.yaml").write_text(SCENARIO)
    assert cli.main(["shop.yaml", "--no-plots", "-q"]) == 1
    folder = tmp_path / "results" / "shop"
    assert {p.name for p in folder.iterdir()} == {"summary.json", "run.json", "metrics.csv",
                                                   "report.html", ".lambdasim.json"}
    page = (folder / "report.html").read_text()
    assert "<img" not in page and "<h2>Charts</h2>" not in page and "<h2>Summary</h2>" in page


# --------------------------------------------------------------------------- headless Chromium

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


needs_chromium = pytest.mark.skipif(_chromium() is None,
                                    reason="Chromium is not installed (.ci/run installs it)")


def _browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _console(stderr: str) -> list[str]:
    """Messages the page wrote to the browser console (Chromium logs them as CONSOLE)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@needs_chromium
def test_console_capture_sees_errors(tmp_path):
    """The check below can fail: a page with a script error shows up in the console log."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    proc = _browse(bad, tmp_path, "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in _console(proc.stderr))


@needs_chromium
def test_the_report_loads_in_headless_chromium_without_errors(results, tmp_path):
    proc = _browse(results / "report.html", tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _console(proc.stderr) == []
    dom = proc.stdout
    assert "<h1>lambdasim: shop</h1>" in dom
    assert dom.count("<img ") == len(CHARTS)
    # Every embedded chart decodes in the browser (checked on a copy with a probe script).
    probe = tmp_path / "probe.html"
    probe.write_text((results / "report.html").read_text().replace("</body>",
                                                                   PROBE + "</body>"))
    proc = _browse(probe, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert f'data-images-ok="{len(CHARTS)}/{len(CHARTS)}"' in proc.stdout
    assert _console(proc.stderr) == []


@needs_chromium
def test_a_screenshot_of_the_report_shows_the_page_and_its_charts(results, tmp_path):
    shot = tmp_path / "report.png"
    proc = _browse(results / "report.html", tmp_path, f"--screenshot={shot}",
                   "--window-size=1280,2600")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2600, 1280)
    # Not blank: text, tables and charts cover a fair share of the page.
    drawn = np.count_nonzero(pixels.min(axis=2) < 0.9) / pixels[..., 0].size
    assert drawn > 0.05, drawn
    # The charts are there: the blue of invoking environments (#1f77b4) fills areas ...
    blue = np.abs(pixels - np.array([0x1F, 0x77, 0xB4]) / 255.0).max(axis=2) < 0.04
    assert np.count_nonzero(blue) > 5000
    # ... and the red of throttles (#d62728, drawn at 60 % over white) marks the burst.
    red = (pixels[..., 0] > 0.8) & (pixels[..., 1] < 0.6) & (pixels[..., 2] < 0.6)
    assert np.count_nonzero(red) > 200
    # The pass/fail column is coloured: the dark red (#b3261e) of the failed check's FAIL.
    fail = np.abs(pixels[:800] - np.array([0xB3, 0x26, 0x1E]) / 255.0).max(axis=2) < 0.1
    assert np.count_nonzero(fail) > 10


def test_the_cost_is_broken_down_by_item(results):
    page = (results / "report.html").read_text(encoding="utf-8")
    section = page.split("<h2>Cost</h2>", 1)[1].split("<h2>")[0]
    header = re.findall(r"<th>([^<]*)</th>", section)
    assert header == ["cost (USD)", "requests", "duration (on demand)",
                      "init (on demand cold starts)", "ephemeral storage", "provisioned concurrency", "total"]
    rows = {cells[0]: cells[1:] for cells in
            (re.findall(r"<td[^>]*>([^<]*)</td>", row)
             for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section)) if cells}
    summary = lambdasim.simulate(results.parent / "shop.yaml").summary
    cost = summary["functions"]["api"]["cost_usd"]
    api = rows["api"]
    # No provisioned concurrency and no storage above 512 MB: those items do not apply.
    assert api[3] == "-" and api[4] == "-"
    # One precision in every cell of the run, enough for the smallest item.
    decimals = {len(cell.rsplit(".", 1)[1]) for cell in api[:3] + api[5:]}
    assert len(decimals) == 1 and decimals.pop() >= 4, api
    assert all(re.fullmatch(r"(&lt;)?\$[\d,]+\.\d+", cell) for cell in api[:3] + api[5:]), api
    assert float(api[5].lstrip("$").replace(",", "")) == pytest.approx(cost["total"], rel=1e-3)
    # The projection names its basis.
    basis = summary["cost_projection"]["basis"]
    import html

    assert any(label.startswith("account, per 30 days") and basis in html.unescape(label)
               for label in rows) or f"No 30-day projection: {basis}" in html.unescape(section)


def test_run_facts_are_formatted(results):
    page = (results / "report.html").read_text(encoding="utf-8")
    facts = dict(re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>",
                            page.split("<h2>", 1)[0]))
    assert facts["seed"] == "8" and facts["simulated"] == "40 s"
    assert facts["chart bins"].startswith("0.2 s") and facts["functions"] == "1 function, 1 trigger"
    assert facts["measured window"] == "the whole run (no warm-up)"


def test_findings_open_the_report(results):
    import html

    page = html.unescape((results / "report.html").read_text(encoding="utf-8"))
    found = lambdasim.simulate(results.parent / "shop.yaml").findings
    assert found  # the burst past the limit gives something to say
    assert page.index("<h2>Findings</h2>") < page.index("<h2>Summary</h2>")
    for sentence in found:
        assert f"<li>{sentence}</li>" in page


#: Appended to a copy of the page: after load, count the figure cells of the summary and cost
#: tables whose text takes more than one line (one client rect per line box of the text).
WRAP_PROBE = """<script>window.addEventListener("load", function () {
  var cells = document.querySelectorAll("table.summary td.num"), wrapped = [];
  for (var i = 0; i < cells.length; i++) {
    var range = document.createRange();
    range.selectNodeContents(cells[i]);
    var tops = {}, rects = range.getClientRects();
    for (var j = 0; j < rects.length; j++) tops[Math.round(rects[j].top)] = 1;
    if (Object.keys(tops).length > 1) wrapped.push(cells[i].textContent);
  }
  document.body.setAttribute("data-cells", cells.length);
  document.body.setAttribute("data-wrapped", wrapped.join(" | ") || "none");
});</script>"""


@needs_chromium
def test_no_figure_cell_of_a_replication_report_wraps(tmp_path):
    """A replication figure, ``mean [low, high]``, stays on one line in a narrow window (issue
    16 point 8): the labels wrap and the table scrolls instead."""
    (tmp_path / "shop.yaml").write_text(SCENARIO)
    out = tmp_path / "out"
    code = cli.main(["run", str(tmp_path / "shop.yaml"), "--replications", "3", "--no-plots",
                     "--out", str(out), "--quiet"])
    assert code in (0, cli.EXIT_EXPECT_FAILED)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<td class="num">[\d,.]+ \[[\d,.]+, [\d,.]+\]', page)  # intervals shown
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", WRAP_PROBE + "</body>"))
    proc = _browse(probe, tmp_path, "--virtual-time-budget=5000", "--window-size=600,900",
                   "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    cells = int(re.search(r'data-cells="(\d+)"', proc.stdout).group(1))
    assert cells > 20
    assert 'data-wrapped="none"' in proc.stdout, re.search(r'data-wrapped="[^"]*"',
                                                           proc.stdout).group(0)


def _run_went(page: str) -> dict[str, str]:
    import html

    section = page.split("How the run went", 1)[1].split("</details>", 1)[0]
    return {html.unescape(k): html.unescape(v)
            for k, v in re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", section)}


def test_run_figures_say_their_unit_and_rates_are_not_durations():
    # F5: keys ending in _per_wall_s are rates per wall-clock second, not durations in
    # seconds ("13 d" was 1,121,830 events per second); wall_time_s is a duration in s.
    from types import SimpleNamespace

    summary = {"scenario": "x", "seed": 1, "duration_s": 1800.0, "functions": {
        "api": {"async": {"backlog": {"drain_s": 2908.6, "ideal_drain_s": 7.090237,
                                      "idle_share": 0.454536, "pool_limit": 20}},
                "duration_basis": {"reference_mb": 1024, "memory_mb": 2048},
                "request_rate_limit": {"requests_per_s_per_unit": 10.0}}}}
    run_info = {"simulated_s": 1800.4165, "wall_time_s": 11.601, "events_processed": 90014,
                "events_per_wall_s": 1121830.2, "invocations_per_wall_s": 161128.7,
                "recorded_bytes": 2878208, "cpu_count": 2}
    page = render_report(SimpleNamespace(summary=summary, run_info=run_info))
    went = _run_went(page)
    assert went["simulated"] == "30 min"
    assert went["wall time"] == "11.6 s"
    assert went["events per wall second"] == "1,121,830"
    assert went["invocations per wall second"] == "161,129"
    assert went["recorded bytes"] == "2.9 MB" and went["cpu count"] == "2"
    assert not any(k.endswith(" s") for k in went)  # the unit is in the value, not the label
    short = SimpleNamespace(summary=summary, run_info={"wall_time_s": 0.0802})
    assert _run_went(render_report(short))["wall time"] == "80.2 ms"
    import html
    text = html.unescape(page)
    assert "idle share 45.45 %" in text  # a share is a percentage, not 0.455
    assert "ideal drain 7.09 s" in text and "drain 48.5 min" in text
    cells = re.findall(r'<td class="label">([^<]*)</td><td class="num">([^<]*)</td>', text)
    assert ("reference memory", "1,024 MB") in cells and ("memory", "2,048 MB") in cells
    assert ("requests per second per unit", "10") in cells


def test_replication_figures_keep_the_unit_of_their_parent_key():
    # functions.api.latency_ms.p99 is in ms although its last part, p99, says nothing.
    from lambdasim.results.html_report import _interval_text

    stats = {"mean": 1231.6, "ci95": [1100.0, 1363.2]}
    assert _interval_text("functions.api.latency_ms.p99", stats) == \
        "1,232 ms [1,100 ms, 1,363 ms]"
    assert _interval_text("functions.api.async.backlog.idle_share",
                          {"mean": 0.5, "ci95": [0.25, 0.75]}) == "50.00 % [25.00 %, 75.00 %]"
