"""Running a SimPy environment in slices, so that a progress callback can be called.

:func:`run_sliced` runs a SimPy environment to a time in slices of simulated time and calls
a callback between slices; :func:`drain_with_progress` does the same while work in flight
drains after the horizon. :class:`lambdasim.results.progress.ProgressBar` is such a callback
that draws one line on a terminal. Without a callback the model runs in one piece, as fast as
ever.

Slicing does not change a run: the stop event SimPy schedules at the end of a slice only
pauses the event loop, every model event keeps its time, priority and order, and the same seed
gives the same summary with or without a bar. The slice length adapts to aim at about
:data:`TARGET_SLICE_WALL_S` of wall time per slice.
"""
from __future__ import annotations

import time
from typing import Callable

__all__ = ["run_sliced", "drain_with_progress", "TARGET_SLICE_WALL_S", "DRAIN_REPORT_STEPS"]

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
        of the id counter takes one. Ids taken by arrivals merged into the run loop
        (``sim.arrivals_taken``, :mod:`lambdasim.engine.loop`) are not events either.
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
        issued = next(sim._eid) - getattr(sim, "arrivals_taken", 0)
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
