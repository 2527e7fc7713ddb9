"""The one kind of SimPy event the model schedules: a timeout born with its callback.

Per-request work runs as callbacks of timed events rather than as processes (STYLE.md): an
arrival, the end of an invocation, a retry after backoff, a keep-alive check. Each is a
:class:`Wakeup`, a SimPy event that is already triggered (like ``simpy.Timeout``) and goes
straight onto the environment's event queue with its callback in place, saving the method
calls of ``Timeout(...)`` + ``env.schedule(...)`` + ``callbacks.append(...)`` on the
hottest path of the simulator.

Priority decides the order of events due at the same instant. Invocation ends use URGENT so
that an environment and its concurrency unit are released before anything else happens at
that instant (an arrival at the very moment a unit frees is admitted, as the concurrency
metrics count it); everything else is NORMAL.

This relies on SimPy 4's queue layout ``(time, priority, event id, event)``, the same tuple
``Environment.schedule`` pushes; pyproject pins ``simpy>=4.1,<5``.
"""
from __future__ import annotations

from heapq import heappush
from typing import Any, Callable

from simpy.core import NORMAL, URGENT
from simpy.events import Event

__all__ = ["Wakeup", "NORMAL", "URGENT"]


class Wakeup(Event):
    """A triggered event due ``delay`` seconds from now that calls ``callback(event)``.

    The event's value (``event._value``) carries whatever state the callback needs.
    """

    def __init__(self, sim, delay: float, value: Any, callback: Callable[[Event], None],
                 priority: int = NORMAL) -> None:
        self.env = sim
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        heappush(sim._queue, (sim._now + delay, priority, next(sim._eid), self))
