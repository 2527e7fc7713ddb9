"""notebooks/capacity_planning.ipynb runs top to bottom (as CI runs it) and is stored with its
outputs cleared."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from conftest import PACKAGE_ROOT

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "capacity_planning.ipynb"


def test_the_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 10
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_the_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    # Run it in a scratch copy of the layout it expects (scenarios/ beside notebooks/), so
    # the results folder it writes lands in tmp_path, not in the checkout.
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "peak.yaml", tmp_path / "scenarios" / "peak.yaml")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()

    outputs = [out for cell in notebook.cells if cell.cell_type == "code"
               for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) >= 5  # three charts of the run, two comparisons
    text = "".join(out.get("text", "") for out in outputs)
    assert "requests arrived" in text and "throttled" in text
    assert "1024 MB" in text and "2048 MB" in text and "per million requests arrived" in text
    # Requests and attempts stay apart in the notebook's own tables too.
    assert "requests" in text and "attempts" in text
    assert "FAIL  checkout.request_throttle_rate <= 0.001" in text  # the small peak throttles
    report = tmp_path / "results" / "peak-small" / "report.html"
    assert report.is_file() and "concurrency-checkout.png" in report.read_text()
