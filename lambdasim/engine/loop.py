"""The run loop: SimPy's event queue merged with the arrivals, which never enter it.

Arrival times are known before the run, in sorted blocks per arrival spec
(:func:`lambdasim.scenario.arrivals.arrival_times`). Scheduling each as a SimPy event would make half
of all heap pushes, pops and event objects of a run. :class:`Simulation` is a
``simpy.Environment`` whose ``run``, ``step`` and ``peek`` take the next arrival straight
from the merged, sorted arrival blocks when it comes before the head of the event queue, and
otherwise process the queue's head exactly as SimPy does. Processes, ``Wakeup``\\ s,
``run(until=...)`` and everything else SimPy provides keep working.

Merging. The specs' blocks are merged a chunk at a time with one NumPy sort (no heap
operation per arrival): a chunk holds every arrival up to the earliest last time among the
specs' current blocks (at most about :data:`CHUNK` of them), so no later block can hold an
earlier time. Arrivals at the same instant keep the order of their specs
(:meth:`Simulation.add_arrivals` order), and a spec's own in block order.

Order against events. The pending arrival holds the key SimPy would give a NORMAL-priority
event scheduled when the previous arrival was handled: its time and a fresh event id. The loop
compares that key with the queue head's ``(time, priority, id)``, so what ends at ``t``
(URGENT) is released before an arrival at ``t`` is admitted, and NORMAL events at ``t``
scheduled before the previous arrival go first. With a single arrival spec this is the order
of a run in which every arrival was an event of its own. The time is the arrival's own, as
drawn: an event scheduled ``at - prev`` after ``prev`` would fall at ``prev + (at - prev)``,
which can differ from ``at`` in the last bit and would make an arrival's time depend on the
arrival before it, of any function (:mod:`lambdasim.engine.independent` relies on it not).

An arrival is not an event: :attr:`Simulation.arrivals_taken` counts the ids arrivals took,
so the events a run processed are ``ids - arrivals_taken - still queued``.
"""
from __future__ import annotations

from heapq import heappop
from typing import Any, Callable, Iterator

import numpy as np
import simpy
from simpy.core import EmptySchedule, Infinity, StopSimulation
from simpy.events import NORMAL, URGENT, Event

__all__ = ["Simulation", "CHUNK"]

#: About this many arrivals are merged at a time.
CHUNK = 1 << 18


class _Spec:
    """One arrival spec: its blocks, the part of its current block not yet merged, its handler."""

    __slots__ = ("blocks", "pending", "handler", "first_eid", "done")

    def __init__(self, blocks: Iterator[np.ndarray], handler: Callable[[float], None]) -> None:
        self.blocks = blocks
        self.pending = np.empty(0)
        self.handler = handler
        self.first_eid: int | None = None
        #: The blocks are exhausted: ``pending`` holds all that is left.
        self.done = False

    def fill(self) -> bool:
        """Make ``pending`` non-empty; False when the spec has no arrivals left."""
        while not self.pending.size:
            block = next(self.blocks, None) if not self.done else None
            if block is None:
                self.done = True
                return False
            self.pending = np.asarray(block, dtype=np.float64)
        return True

    def extend_beyond(self, count: int) -> None:
        """Append blocks until ``pending`` holds more than ``count`` arrivals or the spec ends."""
        parts = [self.pending]
        size = self.pending.size
        while size <= count:
            block = next(self.blocks, None)
            if block is None:
                self.done = True
                break
            if len(block):
                parts.append(np.asarray(block, dtype=np.float64))
                size += len(block)
        if len(parts) > 1:
            self.pending = np.concatenate(parts)

    def extend_past(self, horizon: float) -> None:
        """Append blocks until ``pending`` reaches past ``horizon`` or the spec ends."""
        parts = [self.pending]
        while parts[-1][-1] <= horizon:
            block = next(self.blocks, None)
            if block is None:
                self.done = True
                break
            if len(block):
                parts.append(np.asarray(block, dtype=np.float64))
        if len(parts) > 1:
            self.pending = np.concatenate(parts)


class Simulation(simpy.Environment):
    """A ``simpy.Environment`` that also delivers arrivals from sorted blocks.

    Call :meth:`add_arrivals` for each arrival spec before running (or between runs);
    ``handler(now)`` is then called at each arrival time, with ``now`` equal to the
    environment's time.
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._specs: list[_Spec] = []
        self._handlers: list[Callable[[float], None]] = []
        # The merged chunk, reversed so that pop() gives the next: times and spec indices.
        self._times: list[float] = []
        self._which: list[int] = []
        # The pending arrival: its time, event id and handler (time infinite: none).
        self._at = Infinity
        self._aeid = -1
        self._ahandler: Callable[[float], None] | None = None
        self._which_pending = -1
        self._running = False
        self._dirty = False
        #: Event ids taken by arrivals (not events: they never enter the queue).
        self.arrivals_taken = 0
        #: Times an arrival and a NORMAL (or later) event fell at the same instant: their
        #: order then rests on event ids, which a function run on its own numbers
        #: differently (:meth:`lambdasim.engine.model.Model.run` re-runs together).
        self.normal_ties = 0

    # -- the arrival feed ---------------------------------------------------------------

    def add_arrivals(self, blocks: Iterator[np.ndarray], handler: Callable[[float], None]) -> int:
        """Deliver the arrival times of ``blocks`` (sorted, none before now) to ``handler``.

        Returns the spec's index, for :meth:`redirect_arrivals`. The spec takes an event id
        now, as the event of its first arrival would have.
        """
        if self._running:
            raise RuntimeError("arrivals are added before a run or between runs")
        # Give the unhandled rest of the merged chunk back to its specs; merge again later.
        self._unmerge()
        spec = _Spec(iter(blocks), handler)
        spec.first_eid = next(self._eid)
        self.arrivals_taken += 1
        self._specs.append(spec)
        self._handlers.append(handler)
        self._dirty = True
        return len(self._specs) - 1

    def _ensure(self) -> None:
        """Pend the first arrival after specs were added."""
        self._dirty = False
        if not self._times and not self._merge():
            self._at, self._ahandler = Infinity, None
            return
        at = self._times.pop()
        self._which_pending = index = self._which.pop()
        spec = self._specs[index]
        if spec.first_eid is not None:
            self._aeid, spec.first_eid = spec.first_eid, None
        else:
            self._aeid = next(self._eid)
            self.arrivals_taken += 1
        now = self._now
        self._at = at if at > now else now
        self._ahandler = self._handlers[index]

    def redirect_arrivals(self, index: int, handler: Callable[[float], None]) -> None:
        """From now on, deliver the arrivals of spec ``index`` to ``handler``."""
        self._specs[index].handler = handler
        self._handlers[index] = handler
        if self._ahandler is not None and self._which_pending == index:
            self._ahandler = handler

    def _unmerge(self) -> None:
        if self._at == Infinity:
            return
        times = np.array([self._at] + self._times[::-1], dtype=np.float64)
        which = np.array([self._which_pending] + self._which[::-1], dtype=np.int64)
        for index, spec in enumerate(self._specs):
            mine = times[which == index]
            if mine.size:
                spec.pending = np.concatenate([mine, spec.pending])
        self._times, self._which = [], []
        self._at, self._ahandler = Infinity, None

    def _merge(self) -> bool:
        """Merge the next chunk of arrivals into ``_times``/``_which``; False when none."""
        live = [(index, spec) for index, spec in enumerate(self._specs) if spec.fill()]
        if not live:
            return False
        if len(live) == 1:
            index, spec = live[0]
            chunk, spec.pending = spec.pending, np.empty(0)
            self._times = chunk[::-1].tolist()
            self._which = [index] * chunk.size
            return True
        # The horizon: no spec holds an arrival at or before it outside its pending block.
        # Each spec that has not ended reads on until it holds more than its share
        # (CHUNK / len(live)); the horizon is the earliest share-th arrival among them, so
        # each contributes at most about its share; one whose pending block ends at the
        # horizon (equal times) reads past it. One pass over the specs, not one per spec.
        share = max(1, CHUNK // len(live))
        horizon = Infinity
        for _, spec in live:
            if not spec.done:
                if spec.pending.size <= share:
                    spec.extend_beyond(share)
                if not spec.done:
                    last = spec.pending[share - 1]
                    if last < horizon:
                        horizon = float(last)
        for _, spec in live:
            if not spec.done and spec.pending[-1] <= horizon:
                spec.extend_past(horizon)
        parts, owners = [], []
        for index, spec in live:
            take = int(np.searchsorted(spec.pending, horizon, side="right"))
            if take:
                parts.append(spec.pending[:take])
                owners.append(np.full(take, index, dtype=np.int64))
                spec.pending = spec.pending[take:]
        # Sorted by (time, spec): ties in spec order; a spec's equal times are alike. One
        # np.sort of complex keys (ordered by real, then imaginary part), cheaper than a
        # stable argsort and two gathers.
        keys = np.empty(sum(part.size for part in parts), dtype=np.complex128)
        keys.real = np.concatenate(parts)
        keys.imag = np.concatenate(owners)
        keys.sort(kind="stable")  # timsort: merges the specs' sorted runs
        keys = keys[::-1]
        self._times = keys.real.tolist()
        self._which = keys.imag.astype(np.int64).tolist()
        return True

    def _next_arrival(self, now: float) -> None:
        """Pend the next arrival with the key of an event scheduled ``now``."""
        if not self._times and not self._merge():
            self._at, self._ahandler = Infinity, None
            return
        at = self._times.pop()
        self._which_pending = index = self._which.pop()
        self._at = at if at > now else now
        self._aeid = next(self._eid)
        self._ahandler = self._handlers[index]
        self.arrivals_taken += 1

    def _tie(self, event_first: bool) -> bool:
        """An arrival and a NORMAL event at one instant: count it, order by event id."""
        self.normal_ties += 1
        return event_first

    def take_arrivals(self) -> list[tuple[Iterator[np.ndarray], Callable[[float], None]]]:
        """Remove every arrival spec not yet merged, as ``(blocks, handler)`` in spec order
        (to give them to another :class:`Simulation`); only before the first run."""
        if self._running or self._times or self._at != Infinity:
            raise RuntimeError("arrivals are taken before the first run")
        taken = [(spec.blocks, spec.handler) for spec in self._specs]
        self._specs, self._handlers = [], []
        self._dirty = False
        return taken

    # -- SimPy's interface ----------------------------------------------------------------

    def peek(self) -> float:
        """The time of the next event or arrival (infinity when there is none)."""
        if self._dirty:
            self._ensure()
        queue = self._queue
        if queue:
            head = queue[0]
            if head[0] < self._at or (head[0] == self._at and (
                    head[1] < NORMAL or self._tie(head[2] < self._aeid))):
                return head[0]
        return self._at

    def step(self) -> None:
        """Process the next event or arrival (``EmptySchedule`` when there is none)."""
        if self._dirty:
            self._ensure()
        at = self._at
        queue = self._queue
        if at == Infinity or (queue and (queue[0][0] < at or (queue[0][0] == at and (
                queue[0][1] < NORMAL or self._tie(queue[0][2] < self._aeid))))):
            return super().step()
        handler = self._ahandler
        self._now = at
        self._next_arrival(at)
        handler(at)

    def run(self, until: Any = None) -> Any:
        """As ``simpy.Environment.run``, with the arrivals merged in (module docstring)."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(
                        f"until ({at}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        if self._dirty:
            self._ensure()
        self._running = True
        try:
            self._loop()
        except StopSimulation as exc:
            return exc.args[0]
        except EmptySchedule:
            if until is not None:
                assert not until.triggered
                raise RuntimeError(f'No scheduled events left but "until" event was not '
                                   f"triggered: {until}") from None
        finally:
            self._running = False
        return None

    def _loop(self) -> None:
        """``step()`` until nothing is left, inlined for speed (the pending arrival in locals)."""
        queue = self._queue
        eid = self._eid
        handlers = self._handlers
        at, aeid, handler = self._at, self._aeid, self._ahandler
        index = self._which_pending
        times, which = self._times, self._which
        taken = 0
        try:
            while True:
                if queue:
                    head = queue[0]
                    when = head[0]
                    if when < at or (when == at and (head[1] < NORMAL
                                                     or self._tie(head[2] < aeid))):
                        self._now, _, _, event = heappop(queue)
                        callbacks, event.callbacks = event.callbacks, None
                        try:
                            for callback in callbacks:
                                callback(event)
                        except StopSimulation:
                            _reschedule(self, event, callbacks, callback)
                            raise
                        if not event._ok and not hasattr(event, "_defused"):
                            _crash(event)
                        continue
                elif at == Infinity:
                    raise EmptySchedule
                # The arrival comes first. Pend the next one, as a Wakeup scheduled now.
                self._now = now = at
                current = handler
                if times:
                    nxt = times.pop()
                    index = which.pop()
                    handler = handlers[index]
                    at = nxt if nxt > now else now
                    aeid = next(eid)
                    taken += 1
                else:
                    self._next_arrival(now)
                    at, aeid, handler = self._at, self._aeid, self._ahandler
                    index = self._which_pending
                    times, which = self._times, self._which
                current(now)
        finally:
            self._at, self._aeid, self._ahandler = at, aeid, handler
            self._which_pending = index
            self.arrivals_taken += taken


def _reschedule(sim: Simulation, event, callbacks: list, callback) -> None:
    # As SimPy's step(): the callbacks after the one that stopped the run wait for the next
    # run, ahead of everything else.
    event.callbacks = callbacks[callbacks.index(callback) + 1:]
    sim.schedule(event, -1)


def _crash(event) -> None:
    # As SimPy's step(): a failed event nobody defused crashes the run.
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    raise exc
