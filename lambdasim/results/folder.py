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
half-written folder.

Ownership. Every folder lambdasim writes holds a marker, :data:`MARKER` (``.lambdasim.json``),
that lists every file and folder lambdasim put there. An existing folder is replaced only when
it is empty, or when it holds the marker and nothing that the marker does not list: a folder of
another tool's ``summary.json``, or a results folder where the user has saved a ``thesis.tex``,
is refused (:class:`FolderNotOwned`, an :class:`OSError`), so a mistyped ``--out`` cannot
delete a file lambdasim did not write. :func:`check_out_dir` makes the same checks up front,
so the command line refuses a bad ``--out`` before simulating rather than after. A process
killed while writing (SIGKILL, a power cut) leaves its ``.<name>.tmp-<pid>`` folder; the next
write to the same folder removes such leftovers of processes that are no longer running, when
they hold the marker (or nothing).

Nothing here is imported by the model; this module only reads a finished
:class:`lambdasim.results.result.Result`.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

__all__ = ["write_results", "replace_folder", "check_out_dir", "columns_to_csv", "RESULT_FILES",
           "MARKER", "FolderNotOwned"]

#: The files of a run's results folder (charts and report.html aside).
RESULT_FILES = ("summary.json", "run.json", "metrics.csv", "requests.csv.gz",
                "tune.json")
#: The marker file lambdasim writes into every folder it writes: JSON listing its files.
MARKER = ".lambdasim.json"
#: Folders holding more entries than this are not walked to check ownership (never ours).
_MAX_ENTRIES = 100_000


class FolderNotOwned(FileExistsError):
    """An existing folder that lambdasim did not write (or that holds files it did not write)."""


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
                   keep_existing_except: Iterable[str] | None = None) -> Path:
    """Replace the folder ``out_dir`` atomically with one that ``fill(folder)`` writes.

    The new folder is written and fsynced beside the old one, the old one is renamed aside,
    the new one renamed in, and the old one deleted: a failure at any point (in ``fill``
    included) leaves the earlier folder intact and no temporary folder behind. An existing
    folder is replaced only when :func:`check_out_dir` accepts it (empty, or written by
    lambdasim and holding nothing else). The new folder gets the :data:`MARKER` listing what
    it holds. With ``keep_existing_except``, the existing folder's other files are carried
    over (hard links, no copying) except those names, so a command can add its files to a
    run's results.

    Raises
    ------
    OSError
        :class:`FolderNotOwned` for a folder lambdasim may not replace, ``NotADirectoryError``
        for a file, ``ELOOP`` for a symbolic-link loop, or any error of the file system.
    """
    target = Path(out_dir)
    final = check_out_dir(target)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(parent, final.name)
    tmp = parent / f".{final.name}.tmp-{os.getpid()}"
    old = parent / f".{final.name}.old-{os.getpid()}"
    try:
        if keep_existing_except is not None and final.is_dir():
            skip = set(keep_existing_except) | {MARKER}
            shutil.copytree(final, tmp, copy_function=_link_or_copy,
                            ignore=lambda folder, names: [n for n in names if n in skip]
                            if Path(folder) == final else [])
        else:
            tmp.mkdir()
        # Marked from the start, so that the leftovers of a killed process can be recognised.
        _write_marker(tmp, None)
        fill(tmp)
        _write_marker(tmp, _entries(tmp))
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


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Check that ``out_dir`` may be written (or replaced); return its resolved path.

    Accepted: a folder that does not exist yet (below a writable folder), an empty folder, or
    a folder that holds :data:`MARKER` and nothing the marker does not list.

    Raises
    ------
    OSError
        ``ELOOP`` when the path is a symbolic-link loop, ``NotADirectoryError`` when it (or an
        ancestor) is a file, :class:`FolderNotOwned` when it holds anything lambdasim did not
        write, ``PermissionError`` when its nearest existing ancestor is not writable.
    """
    target = Path(out_dir)
    try:
        final = target.resolve()
    except RuntimeError:  # Python < 3.13 reports a symbolic-link loop so
        raise OSError(errno.ELOOP, "symbolic link loop", str(target)) from None
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(target))
    if final.is_dir():
        _check_owned(final, target)
        ancestor = final
    else:
        ancestor = final.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{ancestor} is not a folder", str(target))
    writable = final.parent if final.parent.exists() else ancestor
    if not os.access(writable, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"{writable} is not writable", str(target))
    return final


def _check_owned(final: Path, target: Path) -> None:
    """Refuse a non-empty folder unless lambdasim wrote everything in it."""
    with os.scandir(final) as it:
        top = [entry.name for entry in it]
    if not top:
        return
    if MARKER not in top:
        raise FolderNotOwned(
            errno.EEXIST, f"the folder exists and was not written by lambdasim (it has no "
            f"{MARKER} marker); not replacing it", str(target))
    try:
        listed = json.loads((final / MARKER).read_text(encoding="utf-8"))["files"]
        listed = set(listed)
    except (OSError, ValueError, KeyError, TypeError):
        raise FolderNotOwned(errno.EEXIST, f"its {MARKER} marker is unreadable; not replacing "
                             "the folder", str(target)) from None
    foreign = sorted(set(_entries(final)) - listed)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise FolderNotOwned(
            errno.EEXIST, f"the folder holds files lambdasim did not write ({shown}); not "
            "replacing it", str(target))


def _entries(folder: Path) -> list[str]:
    """Every file and folder below ``folder`` (relative, ``/``-separated), the marker aside.

    Symbolic links are listed, not followed."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        rel = os.path.relpath(root, folder)
        for name in dirs + files:
            path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            if path != MARKER:
                out.append(path)
        if len(out) > _MAX_ENTRIES:
            break
    return sorted(out)


def _write_marker(folder: Path, files: list[str] | None) -> None:
    from lambdasim._version import __version__

    body = {"written_by": "lambdasim", "version": __version__, "complete": files is not None,
            "files": files or []}
    _write_bytes(folder / MARKER, (json.dumps(body, indent=1) + "\n").encode("utf-8"))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover from an earlier write in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process of another user runs under that id
        return True
    return True


def _remove_stale(parent: Path, name: str) -> None:
    """Remove ``.<name>.tmp-<pid>`` and ``.<name>.old-<pid>`` folders of dead processes that
    lambdasim wrote (they hold the marker) or that are empty."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:tmp|old)-(\d+)")
    try:
        with os.scandir(parent) as it:
            candidates = [Path(e.path) for e in it
                          if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for stale in candidates:
        if _pid_alive(int(pattern.fullmatch(stale.name).group(1))):
            continue
        try:
            ours = (stale / MARKER).is_file() or not any(stale.iterdir())
        except OSError:
            continue
        if ours:
            shutil.rmtree(stale, ignore_errors=True)


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
