"""Progress bars on stderr, drawn by rich.progress: one run's simulated time, many runs' count.

:class:`ProgressBar` is a callback for :func:`lambdasim.simulate` (``progress=``): a bar of
simulated time against the horizon, the events processed so far and their rate, the wall time
elapsed and rich's estimate of the time left. :class:`RunsBar` counts the finished runs of
replications and sweeps (:mod:`lambdasim.studies.executors`). Both are transient: the bar is
erased when the work ends, so the table that follows starts on a clean screen.

The command line draws a bar only when stderr is a terminal and neither ``--quiet`` nor
``--json`` is given (:func:`progress_bar_for`), and a run's bar stays hidden for the first
:data:`DEFAULT_DELAY_S` seconds of wall time (``LAMBDASIM_PROGRESS_DELAY`` overrides it), so
short runs print nothing. rich is imported only when a bar is first drawn. The engine runs in
slices only when such a callback is given (:mod:`lambdasim.engine.run_loop`); slicing never
changes a run.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, TextIO

__all__ = ["ProgressBar", "RunsBar", "progress_bar_for", "DEFAULT_DELAY_S"]

#: Runs shorter than this (wall time) show no bar.
DEFAULT_DELAY_S = 2.0
#: At most this many redraws per second.
_REDRAW_S = 0.1


def _console(stream: TextIO, width: int | None):
    from rich.console import Console

    # The callers decided that ``stream`` is a terminal; rich still honours NO_COLOR.
    return Console(file=stream, force_terminal=True, width=width, highlight=False,
                   markup=False, emoji=False)


def _progress(console: Any, clock: Callable[[], float], *columns: Any):
    """A transient rich ``Progress``, redrawn only when told (no refresh thread)."""
    from rich.progress import Progress

    return Progress(*columns, console=console, transient=True, auto_refresh=False,
                    get_time=clock, redirect_stdout=False, redirect_stderr=False)


def _with_words(column: Any, before: str = "", after: str = "") -> Any:
    """A rich column whose text has ``before`` and ``after`` around it (``0:00:03 left``)."""
    render = column.render

    def with_words(task: Any) -> Any:
        text = render(task)
        if before:
            text = text.assemble(before, text)
        text.append(after)
        return text

    column.render = with_words
    return column


def _fit(width: int, bar_most: int, *columns: tuple[int, int, Any]) -> tuple[int, list[Any]]:
    """The bar's width and the columns that fit a ``width``-column line.

    ``columns`` are ``(cells, rank, column)`` in the order shown; while the line is too
    wide for a bar of 10 cells, the column of the highest rank (the least needed) goes.
    """
    chosen = list(columns)
    while True:
        used = sum(cells + 1 for cells, _, _ in chosen)
        bar = min(bar_most, width - used - 1)
        if bar >= 10 or len(chosen) <= 1:
            return max(10, bar), [column for _, _, column in chosen]
        chosen.remove(max(chosen, key=lambda c: c[1]))


class ProgressBar:
    """A run's progress: bar, simulated time of the horizon, events, time elapsed and left.

    Call it as ``bar(now_s, events)``; :meth:`close` erases the bar. Nothing is drawn before
    ``delay_s`` of wall time has passed since the bar was made.

    Parameters
    ----------
    stream : text stream
        Where to draw (stderr, a terminal).
    duration_s : float
        The simulated horizon (100 %), in seconds.
    delay_s : float
        Wall time before the bar first appears, in seconds.
    clock : callable
        Wall time in seconds (tests pass a fake one).
    width : int, optional
        Columns of the line (default: the terminal's width).
    """

    def __init__(self, stream: TextIO, duration_s: float, delay_s: float = DEFAULT_DELAY_S,
                 clock: Callable[[], float] = time.perf_counter,
                 width: int | None = None) -> None:
        self.stream = stream
        self.width = width
        self.duration_s = float(duration_s)
        self.delay_s = float(delay_s)
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._progress: Any = None
        self._task: Any = None
        self._last_draw = -1.0

    def _start(self, simulated: str, detail: str) -> None:
        from rich.progress import (BarColumn, TaskProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        console = _console(self.stream, self.width)
        # What does not fit the terminal's width is left out: first the time elapsed, then
        # the event rate, then the time left.
        bar, shown = _fit(
            console.width - len("lambdasim") - 1, 28,
            (4, 0, TaskProgressColumn()),
            (len(_clock(self.duration_s)) * 2 + 15, 0, TextColumn("{task.fields[simulated]}")),
            (len(detail) + 10, 3, TextColumn("· {task.fields[detail]}")),
            (18, 4, _with_words(TimeElapsedColumn(), "· ", " elapsed")),
            (15, 2, _with_words(TimeRemainingColumn(), "· ", " left")))
        columns = [TextColumn("lambdasim"), BarColumn(bar_width=bar)] + shown
        self._progress = _progress(console, self.clock, *columns)
        self._task = self._progress.add_task("run", total=max(self.duration_s, 1e-9),
                                             simulated=simulated, detail=detail)
        # Elapsed counts from the start of the run, not from the bar's first frame.
        self._progress.tasks[-1].start_time = self.started

    def __call__(self, now_s: float, events: int | None) -> None:
        """Redraw: ``events`` processed so far, or None while work in flight drains."""
        wall = self.clock() - self.started
        if wall < self.delay_s or (self.shown and wall - self._last_draw < _REDRAW_S
                                   and now_s < self.duration_s):
            return
        self._last_draw = wall
        simulated = f"{_clock(now_s)} of {_clock(self.duration_s)} simulated"
        if events is None:
            detail = "draining work in flight"
        else:
            rate = events / wall if wall > 0 else 0.0
            detail = f"{_count(rate)} events/s"
        if self._progress is None:
            self._start(simulated, detail)
        self._progress.update(self._task, completed=min(now_s, self.duration_s),
                              simulated=simulated, detail=detail)
        if not self.shown:
            self._progress.start()  # draws the first frame
            self.shown = True
        else:
            self._progress.refresh()

    def close(self) -> None:
        """Erase the bar, so what follows starts on a clean line."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self.shown = False

    def restart(self, reason: str) -> None:
        """The run starts over (``reason`` says why): a shown bar is erased and the reason
        printed on its own line; the next call draws a new bar from 0 %, its clock from now."""
        shown = self.shown
        self.close()
        if shown:
            print(f"lambdasim: {reason}", file=self.stream, flush=True)
        self.started = self.clock()
        self._last_draw = -1.0


class RunsBar:
    """Finished runs of replications or a sweep: ``runs 12/16``, bar, percent, time left.

    At most ten redraws per second, and the last one always. Nothing is drawn when
    ``enabled`` is false (``done`` still counts).
    """

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, width: int | None = None) -> None:
        import sys

        self.width = width
        self.total, self.done = total, 0
        self.enabled = enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self._progress: Any = None
        self._task: Any = None
        self._last = -1.0

    def update(self, count: int = 1) -> None:
        """Count ``count`` more finished runs."""
        self.done += count
        if not self.enabled:
            return
        now = self.clock()
        if self.done < self.total and now - self._last < _REDRAW_S:
            return
        self._last = now
        if self._progress is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, TaskProgressColumn,
                                       TextColumn, TimeElapsedColumn, TimeRemainingColumn)

            console = _console(self.stream, self.width)
            bar, shown = _fit(console.width - len("runs") - 1, 30,
                              (2 * len(str(self.total)) + 1, 0, MofNCompleteColumn()),
                              (4, 0, TaskProgressColumn()),
                              (18, 2, _with_words(TimeElapsedColumn(), "· ", " elapsed")),
                              (15, 1, _with_words(TimeRemainingColumn(), "· ", " left")))
            self._progress = _progress(console, self.clock, TextColumn("runs"), *shown[:1],
                                       BarColumn(bar_width=bar), *shown[1:])
            self._task = self._progress.add_task("runs", total=self.total, completed=self.done)
            self._progress.start()
        else:
            self._progress.update(self._task, completed=self.done)
            self._progress.refresh()

    def close(self) -> None:
        """Erase the bar."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _count(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def progress_bar_for(stream: TextIO, duration_s: float, *,
                     quiet: bool = False) -> ProgressBar | None:
    """A bar on ``stream`` when it is a terminal and output is not silenced, else None."""
    if quiet:
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    try:
        delay = float(os.environ.get("LAMBDASIM_PROGRESS_DELAY", DEFAULT_DELAY_S))
    except ValueError:
        delay = DEFAULT_DELAY_S
    return ProgressBar(stream, duration_s, delay_s=delay)
