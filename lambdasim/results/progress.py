"""A progress bar for long runs: simulated time advancing and events per second, on stderr.

:class:`ProgressBar` is a callback for :func:`lambdasim.simulate` (``progress=``) that draws
one line on a terminal. The command line uses the bar only when stderr is a terminal and
neither ``--quiet`` nor ``--json`` is given, and the bar stays hidden for the first
:data:`DEFAULT_DELAY_S` seconds of wall time (``LAMBDASIM_PROGRESS_DELAY`` overrides it), so
short runs print nothing. The engine runs in slices only when such a callback is given
(:mod:`lambdasim.engine.run_loop`); slicing never changes a run.
"""
from __future__ import annotations

import os
import time
from typing import Callable, TextIO

__all__ = ["ProgressBar", "progress_bar_for", "DEFAULT_DELAY_S"]

#: Runs shorter than this (wall time) show no bar.
DEFAULT_DELAY_S = 2.0

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
