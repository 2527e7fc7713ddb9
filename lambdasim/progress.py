"""A progress bar for long runs: simulated time advancing and events per second, on stderr.

:func:`run_sliced` runs a SimPy environment to a time in slices of simulated time and calls
a callback between slices; :class:`ProgressBar` is such a callback that draws one line on a
terminal. The command line uses the bar only when stderr is a terminal and neither
``--quiet`` nor ``--json`` is given, and the bar stays hidden for the first
:data:`DEFAULT_DELAY_S` seconds of wall time (``LAMBDASIM_PROGRESS_DELAY`` overrides it), so
short runs print nothing. Without a callback the model runs in one piece, as fast as ever.

Slicing does not change a run: the stop event SimPy schedules at the end of a slice only
pauses the event loop, every model event keeps its time, priority and order, and the same seed
gives the same summary with or without a bar. The slice length adapts to aim at about
:data:`TARGET_SLICE_WALL_S` of wall time per slice.
"""
from __future__ import annotations

import os
import time
from typing import Callable, TextIO

__all__ = ["ProgressBar", "run_sliced", "drain_with_progress", "progress_bar_for",
           "DEFAULT_DELAY_S", "TARGET_SLICE_WALL_S", "DRAIN_REPORT_STEPS"]

#: Runs shorter than this (wall time) show no bar.
DEFAULT_DELAY_S = 2.0
#: Aim for slices of about this much wall time.
TARGET_SLICE_WALL_S = 0.1
#: While work in flight drains after the horizon, report every this many events.
DRAIN_REPORT_STEPS = 8192


def run_sliced(sim, until: float, on_slice: Callable[[float, int], None],
               clock: Callable[[], float] = time.perf_counter) -> int:
    """Run ``sim`` to ``until`` in slices, calling ``on_slice(now, events_so_far)`` after each.

    Returns
    -------
    int
        The event ids the slicing itself took beyond an unsliced ``sim.run(until)``, to
        subtract from the run's event count: SimPy 4 takes two per ``run(until=...)`` (the
        stop event, and its re-scheduling when it stops the loop), and each progress probe
        of the id counter takes one.
    """
    span = until - sim.now
    slice_s = span / 1000.0
    slices = 0
    while sim.now < until:
        target = min(until, sim.now + slice_s)
        if until - target < 1e-9 * max(1.0, until):
            target = until
        began = clock()
        sim.run(until=target)
        elapsed = clock() - began
        slices += 1
        # Events scheduled so far (SimPy numbers them), less those still queued, less the
        # ids taken by the slicing so far.
        issued = next(sim._eid)
        on_slice(sim.now, issued - 3 * slices + 1 - len(sim._queue))
        # Adapt: simulated seconds per wall second, aiming at TARGET_SLICE_WALL_S per slice.
        if elapsed > 0:
            wanted = slice_s * TARGET_SLICE_WALL_S / elapsed
            slice_s = min(max(wanted, slice_s / 4.0, span / 100000.0), slice_s * 4.0,
                          span / 20.0)
        else:
            slice_s = min(slice_s * 4.0, span / 20.0)
    return 3 * slices - 2


def drain_with_progress(sim, outstanding: Callable[[], int], limit: float,
                        on_slice: Callable[[float, int | None], None]) -> None:
    """Step ``sim`` while ``outstanding()`` and the next event is due by ``limit`` (the
    model's drain after the horizon), calling ``on_slice(now, None)`` now and then."""
    steps = 0
    while outstanding() and sim.peek() <= limit:
        sim.step()
        steps += 1
        if steps % DRAIN_REPORT_STEPS == 0:
            on_slice(sim.now, None)


class ProgressBar:
    """One self-overwriting line on a terminal: bar, simulated time, events per second.

    Call it as ``bar(now_s, events)``; :meth:`close` erases the line. Nothing is written
    before ``delay_s`` of wall time has passed since the bar was made.

    Parameters
    ----------
    stream : text stream
        Where to draw (stderr).
    duration_s : float
        The simulated horizon (100 %).
    delay_s : float
        Wall time before the bar first appears.
    """

    def __init__(self, stream: TextIO, duration_s: float, delay_s: float = DEFAULT_DELAY_S,
                 width: int = 28, clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream = stream
        self.duration_s = float(duration_s)
        self.delay_s = float(delay_s)
        self.width = width
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._last_draw = -1.0
        self._last_len = 0

    def __call__(self, now_s: float, events: int | None) -> None:
        """Redraw: ``events`` processed so far, or None while work in flight drains."""
        wall = self.clock() - self.started
        if wall < self.delay_s or (self.shown and wall - self._last_draw < 0.1
                                   and now_s < self.duration_s):
            return
        self._last_draw = wall
        fraction = min(1.0, now_s / self.duration_s) if self.duration_s > 0 else 1.0
        filled = int(round(fraction * self.width))
        head = (f"lambdasim [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} "
                f"{_clock(now_s)} of {_clock(self.duration_s)} simulated, ")
        if events is None:
            text = head + f"draining work in flight, {_clock(wall)} elapsed"
        else:
            rate = events / wall if wall > 0 else 0.0
            eta = wall * (1.0 - fraction) / fraction if fraction > 0 else float("inf")
            text = (head + f"{_count(rate)} events/s, {_clock(wall)} elapsed"
                    + (f", about {_clock(eta)} left" if fraction < 1.0 and eta != float("inf")
                       else ""))
        pad = max(0, self._last_len - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._last_len = len(text)
        self.shown = True

    def close(self) -> None:
        """Erase the line, so what follows starts on a clean line."""
        if self.shown:
            self.stream.write("\r" + " " * self._last_len + "\r")
            self.stream.flush()
            self.shown = False


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


def progress_bar_for(stream: TextIO, duration_s: float, *, quiet: bool = False) -> ProgressBar | None:
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
