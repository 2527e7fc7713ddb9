"""The results folder of a finished run, written atomically.

A run's results folder holds ``summary.json`` (the summary dict, byte-identical for the same
seed), ``run.json`` (how the run went), ``metrics.csv`` (the per-period series), the charts
(``*.png``, unless turned off) and ``report.html`` (a one-page report embedding them) and, when
per-request records were kept, ``requests.csv.gz`` and one ``report-<function>.log.gz`` per
function (CloudWatch-style REPORT lines, :mod:`lambdasim.results.report_log`).

The folder is replaced atomically: every file is written and fsynced in a temporary sibling
folder (``.<name>.tmp-<pid>``), then an existing folder is renamed aside, the new one renamed
into place and the old one deleted. A failure or an interrupt at any point before the swap
removes the temporary folder and leaves an earlier result as it was, so nobody ever reads a
half-written folder. Only folders that look like lambdasim results (or are empty) are
replaced, so a mistyped ``--out`` cannot delete unrelated files.

Nothing here is imported by the model; this module only reads a finished
:class:`lambdasim.results.result.Result`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

__all__ = ["write_results", "replace_folder", "columns_to_csv", "RESULT_FILES"]

#: Files whose presence marks a folder as a lambdasim results folder (safe to replace).
RESULT_FILES = ("summary.json", "run.json", "metrics.csv", "requests.csv.gz",
                "tune.json")


# --------------------------------------------------------------------------- results folder

def write_results(
    result: Any,
    out_dir: str | os.PathLike[str],
    *,
    extra: Iterable[Callable[[Any, Path], None]] = (),
    plots: bool = True,
) -> Path:
    """Write a run's results folder atomically.

    Parameters
    ----------
    result : lambdasim.results.result.Result
        The finished run.
    out_dir : path-like
        The results folder, e.g. ``results/peak``. Its parent is created when missing. An
        existing folder is replaced as a whole, but only when it is empty or already holds
        lambdasim results.
    extra : iterable of callables, optional
        Further writers, each called as ``writer(result, folder)`` with the temporary folder
        before the swap (plots, for instance); a failure in one aborts the whole write.
    plots : bool
        Also draw the charts (``*.png``, :mod:`lambdasim.results.plots`) of a run that carries chart
        data (``result.timeline``). ``report.html`` (:mod:`lambdasim.results.html_report`) is written
        either way, with the charts embedded when there are any.

    Returns
    -------
    pathlib.Path
        ``out_dir`` as given.

    Raises
    ------
    OSError
        When the folder cannot be written, or ``out_dir`` exists and is a file or a folder
        that holds something other than lambdasim results. An earlier result is left intact.
    """

    def fill(tmp: Path) -> None:
        summary_text = json.dumps(result.summary, indent=2, allow_nan=False) + "\n"
        _write_bytes(tmp / "summary.json", summary_text.encode("utf-8"))
        run_text = json.dumps(result.run_info, indent=2, allow_nan=False, default=str) + "\n"
        _write_bytes(tmp / "run.json", run_text.encode("utf-8"))
        _write_bytes(tmp / "metrics.csv", columns_to_csv(result.series).encode("utf-8"))
        dependency_rows = getattr(result, "dependency_series", None)
        if dependency_rows:
            _write_bytes(tmp / "dependencies.csv",
                         columns_to_csv(dependency_rows).encode("utf-8"))
        records = getattr(result, "records", None)
        if records is not None:
            _write_records(tmp / "requests.csv.gz", records)
            for name in getattr(records, "functions", ()):
                _write_lines(tmp / f"report-{name}.log.gz", records.report_lines(name))
        images = []
        if plots and getattr(result, "timeline", None) is not None:
            from lambdasim.results.plots import write_plots

            images = write_plots(result, tmp)
        from lambdasim.results.html_report import write_report

        write_report(result, tmp, images)
        for writer in extra:
            writer(result, tmp)

    return replace_folder(out_dir, fill)


def replace_folder(out_dir: str | os.PathLike[str], fill: Callable[[Path], None], *,
                   markers: Iterable[str] = RESULT_FILES,
                   keep_existing_except: Iterable[str] | None = None) -> Path:
    """Replace the folder ``out_dir`` atomically with one that ``fill(folder)`` writes.

    The new folder is written and fsynced beside the old one, the old one is renamed aside,
    the new one renamed in, and the old one deleted: a failure at any point (in ``fill``
    included) leaves the earlier folder intact and no temporary folder behind. An existing
    folder is replaced only when it is empty or holds one of ``markers`` (lambdasim output).
    With ``keep_existing_except``, the existing folder's other files are carried over (hard
    links, no copying) except those names, so a command can add its files to a run's results.
    """
    target = Path(out_dir)
    final = target.resolve()
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(f"{target}: exists and is not a folder")
    if final.is_dir():
        names = {p.name for p in final.iterdir()}
        if names and not names & set(markers):
            raise FileExistsError(
                f"{target}: folder exists and does not hold lambdasim results; not replacing it"
            )
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{final.name}.tmp-{os.getpid()}"
    old = parent / f".{final.name}.old-{os.getpid()}"
    for stale in (tmp, old):
        if stale.exists():
            shutil.rmtree(stale)
    try:
        if keep_existing_except is not None and final.is_dir():
            skip = set(keep_existing_except)
            shutil.copytree(final, tmp, copy_function=_link_or_copy,
                            ignore=lambda folder, names: [n for n in names if n in skip]
                            if Path(folder) == final else [])
        else:
            tmp.mkdir()
        fill(tmp)
        _fsync_dir(tmp)
        # The swap: from here on, either the old folder or the new one is in place.
        had_old = final.exists()
        if had_old:
            os.rename(final, old)
        try:
            os.rename(tmp, final)
        except BaseException:
            if had_old:
                os.rename(old, final)
            raise
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # a file system without hard links
        shutil.copy2(source, destination)


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write text lines into a gzipped file (REPORT logs), byte-identical for the same seed."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, mtime=0,
                           compresslevel=1) as gz:
            batch: list[str] = []
            for line in lines:
                batch.append(line)
                if len(batch) >= 65536:
                    gz.write(("\n".join(batch) + "\n").encode("utf-8"))
                    batch.clear()
            if batch:
                gz.write(("\n".join(batch) + "\n").encode("utf-8"))
        raw.flush()
        os.fsync(raw.fileno())


def _write_records(path: Path, records: Any) -> None:
    """Stream per-request records into a gzipped CSV, a chunk of rows at a time.

    ``records`` is a dict of columns or an object with ``chunks()`` yielding such dicts (and
    ``columns()`` for the header when there are no rows), like
    :class:`lambdasim.results.result.RequestRecords`.
    """
    if hasattr(records, "chunks"):
        chunks = iter(records.chunks())
        first = next(chunks, None)
        if first is None:
            first = records.columns()
    else:
        chunks, first = iter(()), records
    # mtime=0 and a fixed embedded name keep the file byte-identical for the same seed;
    # level 1 compresses four times faster than 6 for a file only ~10 % larger.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="requests.csv", mode="wb", fileobj=raw, mtime=0,
                           compresslevel=1) as gz:
            gz.write(columns_to_csv(first).encode("utf-8"))
            for chunk in chunks:
                gz.write(columns_to_csv(chunk, header=False).encode("utf-8"))
        raw.flush()
        os.fsync(raw.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the renames still hold
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def columns_to_csv(columns: Mapping[str, Any], *, header: bool = True) -> str:
    """Render equal-length columns as CSV text: a header row, then one row per index.

    Floats use Python's shortest round-trip ``repr`` (``0.1``, ``1e-05``); ``None`` and NaN
    are empty fields; NumPy arrays are converted to Python scalars first.
    """
    names = list(columns)
    cells = [_column_cells(columns[name]) for name in names]
    lengths = {len(c) for c in cells}
    if len(lengths) > 1:
        sizes = ", ".join(f"{n}={len(c)}" for n, c in zip(names, cells))
        raise ValueError(f"columns differ in length: {sizes}")
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    if header:
        out.writerow(names)
    out.writerows(zip(*cells))
    return buf.getvalue()


def _column_cells(column: Any) -> list[str]:
    kind = getattr(getattr(column, "dtype", None), "kind", None)
    if kind == "f":  # the common case, made fast: a NumPy float column
        return [repr(v) if v == v else "" for v in column.tolist()]
    if kind in ("i", "u"):
        return list(map(str, column.tolist()))
    values = column.tolist() if hasattr(column, "tolist") else column
    return [_cell(v) for v in values]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, str):
        return value
    if hasattr(value, "item"):  # a NumPy scalar inside a list
        return _cell(value.item())
    return str(value)
