"""Execution environments: life cycle, the warm pool, keep-alive reclaim and retirement.

An execution environment serves one invocation at a time
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). Its life:
Init (extensions, runtime, code outside the handler) -> Invoke -> idle (frozen) -> reused or
reclaimed. An environment is *busy* from the start of its Init to the end of an invocation
and *idle* in between; idle environments wait in the function's warm pool.

Reclaim. Lambda reclaims idle environments after a time it does not publish
("non-deterministic"); the default keep-alive (uniform 5-7 min) is Shilkov's 2021
measurement. Each environment draws its keep-alive when it is created. Environments are also
retired "every few hours" even when in use (lambda-runtime-environment.html): each draws a
``max_lifetime`` at creation and is retired after the invocation that crosses it, or at that
moment if idle.

Timers. SimPy cannot cancel a timeout, so each environment has at most one armed reclaim
timer and the timer checks, when it fires, whether the environment has really been idle for
its keep-alive (lazy cancellation). A busy environment's timer lapses and is re-armed on
release; a frequently reused environment costs one timer per keep-alive period, not one per
invocation.

Reuse. Which idle environment takes the next request is not documented. ``mru`` (default,
[assumption]) reuses the most recently used one, a stack; ``lru`` the least recently used, a
queue; ``newest`` the most recently created, a heap; ``random`` any, uniformly. Every pool
operation is O(1) or O(log n) amortised: reclaimed environments are removed from the stack,
queue and heap lazily (skipped when they surface, compacted when they pile up).
"""
from __future__ import annotations

import heapq
from collections import deque
from typing import Callable

from lambdasim.engine.events import Wakeup

__all__ = [
    "IDLE",
    "BUSY",
    "DEAD",
    "ExecutionEnvironment",
    "EnvironmentPool",
    "make_warm_pool",
    "REUSE_POLICIES",
]

IDLE = 0
BUSY = 1
DEAD = 2


class ExecutionEnvironment:
    """One execution environment of one function."""

    __slots__ = ("id", "created_at", "retire_at", "keep_alive_s", "idle_since", "state",
                 "needs_init", "timer_armed", "slot")

    def __init__(self, env_id: int, created_at: float, retire_at: float,
                 keep_alive_s: float) -> None:
        self.id = env_id
        self.created_at = created_at
        self.retire_at = retire_at
        self.keep_alive_s = keep_alive_s
        self.idle_since = created_at
        self.state = BUSY
        # Set after a timeout: the environment was reset and its next invocation re-runs Init
        # inside its Duration ("suppressed init").
        self.needs_init = False
        self.timer_armed = False
        self.slot = -1

    @property
    def is_idle(self) -> bool:
        return self.state == IDLE

    @property
    def is_busy(self) -> bool:
        return self.state == BUSY


class _LazyPool:
    """Base of the pools that drop reclaimed environments lazily."""

    __slots__ = ("_items", "_idle", "_stale")

    def __len__(self) -> int:
        return self._idle

    def discard(self, env: ExecutionEnvironment) -> None:
        # The entry stays where it is and is skipped when it surfaces.
        self._idle -= 1
        self._stale += 1
        if self._stale > 1024 and self._stale > self._idle:
            self._compact(env)

    def _compact(self, discarded: ExecutionEnvironment) -> None:
        """Drop every stale entry, ``discarded`` included (it may still be marked idle)."""
        raise NotImplementedError


class _DequePool(_LazyPool):
    """Idle environments in release order; subclasses take from the newest or oldest end."""

    __slots__ = ("_take",)
    #: Take the most recently released environment (a stack) or the least (a queue).
    LAST_FIRST = True

    def __init__(self) -> None:
        self._items: deque[ExecutionEnvironment] = deque()
        self._idle = 0
        self._stale = 0
        self._take = self._items.pop if self.LAST_FIRST else self._items.popleft

    def push(self, env: ExecutionEnvironment) -> None:
        self._items.append(env)
        self._idle += 1

    def pop(self) -> ExecutionEnvironment | None:
        items = self._items
        take = self._take
        while items:
            env = take()
            if env.state == IDLE:
                self._idle -= 1
                return env
            self._stale -= 1
        return None

    def _compact(self, discarded: ExecutionEnvironment) -> None:
        # In place: the specialised fast path (lambdasim.engine.fastpath) holds the deque's
        # methods.
        kept = [env for env in self._items if env.state == IDLE and env is not discarded]
        self._items.clear()
        self._items.extend(kept)
        self._stale = 0


class MruPool(_DequePool):
    """Most recently used first: a stack."""

    __slots__ = ()
    LAST_FIRST = True


class LruPool(_DequePool):
    """Least recently used first: a queue."""

    __slots__ = ()
    LAST_FIRST = False


class NewestPool(_LazyPool):
    """Most recently created first: a heap keyed by creation order."""

    __slots__ = ()

    def __init__(self) -> None:
        self._items: list[tuple[int, ExecutionEnvironment]] = []
        self._idle = 0
        self._stale = 0

    def push(self, env: ExecutionEnvironment) -> None:
        heapq.heappush(self._items, (-env.id, env))
        self._idle += 1

    def pop(self) -> ExecutionEnvironment | None:
        items = self._items
        while items:
            env = heapq.heappop(items)[1]
            if env.state == IDLE:
                self._idle -= 1
                return env
            self._stale -= 1
        return None

    def _compact(self, discarded: ExecutionEnvironment) -> None:
        self._items = [item for item in self._items
                       if item[1].state == IDLE and item[1] is not discarded]
        heapq.heapify(self._items)
        self._stale = 0


class RandomPool:
    """Any idle environment, uniformly: a list with O(1) swap-removal."""

    __slots__ = ("_items", "_uniform")

    def __init__(self, uniform: Callable[[], float]) -> None:
        self._items: list[ExecutionEnvironment] = []
        self._uniform = uniform

    def __len__(self) -> int:
        return len(self._items)

    def push(self, env: ExecutionEnvironment) -> None:
        env.slot = len(self._items)
        self._items.append(env)

    def pop(self) -> ExecutionEnvironment | None:
        items = self._items
        if not items:
            return None
        env = items[int(self._uniform() * len(items))]
        self.discard(env)
        return env

    def discard(self, env: ExecutionEnvironment) -> None:
        items = self._items
        last = items.pop()
        if last is not env:
            items[env.slot] = last
            last.slot = env.slot
        env.slot = -1


REUSE_POLICIES = ("mru", "lru", "newest", "random")


def make_warm_pool(policy: str, uniform: Callable[[], float]):
    """The warm pool for a reuse policy (``mru``, ``lru``, ``newest`` or ``random``)."""
    if policy == "mru":
        return MruPool()
    if policy == "lru":
        return LruPool()
    if policy == "newest":
        return NewestPool()
    if policy == "random":
        return RandomPool(uniform)
    raise ValueError(f"unknown reuse policy {policy!r}; expected one of {REUSE_POLICIES}")


class EnvironmentPool:
    """All execution environments of one function: creation, reuse, release and reclaim.

    Records every environment's creation and end time (columns ``created`` and ``ended`` of
    the function's recorder; ``ended`` is NaN while the environment lives).
    """

    __slots__ = ("sim", "warm", "live", "created", "_keep_alive", "_lifetime", "_created_at",
                 "_ended_at", "_on_timer_cb", "_push", "factory")

    def __init__(self, sim, warm, keep_alive: Callable[[], float],
                 lifetime: Callable[[], float], created_at, ended_at) -> None:
        self.sim = sim
        self.warm = warm
        self.live = 0
        self.created = 0
        self._keep_alive = keep_alive
        self._lifetime = lifetime
        self._created_at = created_at
        self._ended_at = ended_at
        self._on_timer_cb = self._on_timer
        self._push = warm.push
        #: The class of new environments (the fast path's are their own end events).
        self.factory = ExecutionEnvironment

    def acquire(self, now: float) -> ExecutionEnvironment | None:
        """An idle environment for an invocation starting ``now``, or None."""
        env = self.warm.pop()
        if env is not None and now >= env.retire_at:
            return self.acquire_past(env, now)
        if env is not None:
            env.state = BUSY
        return env

    def acquire_past(self, env: ExecutionEnvironment, now: float) -> ExecutionEnvironment | None:
        """``env`` came out of the warm pool past its lifetime: retire it, take the next."""
        while env is not None and now >= env.retire_at:
            self._end(env, now)
            env = self.warm.pop()
        if env is not None:
            env.state = BUSY
        return env

    def create(self, now: float) -> ExecutionEnvironment:
        """A new, busy environment (its Init starts ``now``)."""
        env = self.factory(self.created, now, now + self._lifetime(), self._keep_alive())
        self.created += 1
        self.live += 1
        self._created_at.append(now)
        self._ended_at.append(float("nan"))
        return env

    def register(self, now: float) -> int:
        """Record an environment managed elsewhere (provisioned) and return its id.

        It is recorded like the others (creation and end times) but neither counted in
        ``live`` nor reclaimed by this pool; its owner sets ``_ended_at[id]`` via :meth:`ended`.
        """
        env_id = self.created
        self.created += 1
        self._created_at.append(now)
        self._ended_at.append(float("nan"))
        return env_id

    def ended(self, env_id: int, now: float) -> None:
        """An environment recorded by :meth:`register` ended at ``now``."""
        self._ended_at[env_id] = now

    def release(self, env: ExecutionEnvironment, now: float) -> None:
        """The invocation on ``env`` ended at ``now``: retire it or put it back in the pool."""
        if now >= env.retire_at:
            self._end(env, now)
            return
        env.state = IDLE
        env.idle_since = now
        self._push(env)
        if not env.timer_armed:
            deadline = now + env.keep_alive_s
            if env.retire_at < deadline:
                deadline = env.retire_at
            self._arm(env, deadline - now)

    def _arm(self, env: ExecutionEnvironment, delay: float) -> None:
        env.timer_armed = True
        Wakeup(self.sim, delay, env, self._on_timer_cb)

    def _on_timer(self, event) -> None:
        env = event._value
        env.timer_armed = False
        if env.state != IDLE:
            return  # busy: release re-arms; dead: nothing to do
        now = self.sim.now
        deadline = env.idle_since + env.keep_alive_s
        if env.retire_at < deadline:
            deadline = env.retire_at
        if now >= deadline:
            self.warm.discard(env)
            self._end(env, now)
        else:
            self._arm(env, deadline - now)

    def _end(self, env: ExecutionEnvironment, now: float) -> None:
        env.state = DEAD
        self.live -= 1
        self._ended_at[env.id] = now
