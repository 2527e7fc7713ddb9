"""Shared downstream capacity: connection pools and rate quotas that invocations use.

Lambda scales concurrency; what it calls often does not. A scenario's top-level
``dependencies:`` block declares what functions share, and a function lists what its
handler uses (``uses: [db, partner_api]``). This is not a Lambda rule but the user's own
figures [assumption, LAMBDA_MODEL.md section 10]; what follows is how an invocation meets
them.

* **Pool** (``type: pool``: database connections, RDS Proxy connections): ``capacity`` units.
  When its handler starts (after Init), an invocation takes one unit and holds it until the
  invocation ends. With no unit free it waits, first come first served, up to
  ``acquire_timeout``; the wait is handler time, so it is part of the billed Duration and
  counts towards the function timeout. An invocation still waiting at its acquire timeout
  fails as a function error (its invocation model retries it or not, as for any error); one
  that reaches the function timeout first ends as a timeout.
* **Rate quota** (``type: rate``: a third-party API): a token bucket of ``burst`` calls
  refilled at ``rate`` per second; each invocation makes one call when its handler starts.
  Over the quota the call fails (``on_limit: fail``, a function error) or waits for its
  token (``on_limit: wait``) up to ``max_wait``, then fails.

A function that uses several dependencies takes them in the order listed, holding what it
already has while it waits for the next (as a handler that opens its connections one after
another does). Several functions may share one dependency: a unit goes to whichever waiting
invocation asked first.

The whole handler phase of such a function is a short chain of :class:`Wakeup` callbacks
(``Init`` -> acquire -> handler -> release); functions that use no dependency keep the
single-event invocation of :mod:`lambdasim.engine.function`. The attempt's record is
written when it starts, as for every invocation, and its Duration and code are completed
when it ends, so the records stay in start order.

Records per dependency: each acquisition ``(origin, asked, wait_s, outcome)`` and each
hold ``(acquired, released)``; holds still open when the run ends count until its end.
"""
from __future__ import annotations

from array import array
from collections import deque
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.account import TokenBucket
from lambdasim.engine.events import URGENT, Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT
from lambdasim.engine.metrics import StepLevel, time_stats_ms

__all__ = ["Pool", "RateQuota", "DependencyGate", "build_dependencies",
           "dependency_summary", "dependency_series", "DEPENDENCY_COLUMNS"]

# Outcome of one acquisition (the ``outcome`` column).
IMMEDIATE = 0
WAITED = 1
REJECTED = 2

#: Columns of the per-period dependency series (dependencies.csv).
DEPENDENCY_COLUMNS = ("period_start_s", "dependency", "InUse_max", "InUse_avg", "Acquired",
                      "Waits", "Wait_avg_ms", "Wait_max_ms", "Rejected")


class _Dependency:
    """What pools and rate quotas record."""

    __slots__ = ("name", "kind", "users", "acquisitions", "holds", "_open", "_next_hold")

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.users: list[str] = []
        #: (origin, asked, wait_s, outcome) per acquisition.
        self.acquisitions = array("d")
        #: (acquired, released) per finished hold.
        self.holds = array("d")
        self._open: dict[int, float] = {}
        self._next_hold = 0

    def _hold(self, now: float) -> int:
        key = self._next_hold
        self._next_hold = key + 1
        self._open[key] = now
        return key

    def _unhold(self, key: int, now: float) -> None:
        self.holds.extend((self._open.pop(key), now))

    def hold_intervals(self, end_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Starts and ends of every hold; open holds end at ``end_s``."""
        done = np.frombuffer(self.holds, dtype=np.float64).reshape(-1, 2)
        still = np.fromiter(self._open.values(), dtype=np.float64, count=len(self._open))
        return (np.concatenate([done[:, 0], still]),
                np.concatenate([done[:, 1], np.full(still.size, end_s)]))

    def table(self) -> dict[str, np.ndarray]:
        data = np.frombuffer(self.acquisitions, dtype=np.float64).reshape(-1, 4)
        return {"origin": data[:, 0], "asked": data[:, 1], "wait": data[:, 2],
                "outcome": data[:, 3]}


class Pool(_Dependency):
    """``capacity`` units; waiters queue first come, first served, up to a timeout."""

    __slots__ = ("capacity", "acquire_timeout_s", "in_use", "waiters")

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, "pool")
        self.capacity = int(config["capacity"])
        self.acquire_timeout_s = float(config["acquire_timeout"])
        self.in_use = 0
        self.waiters: deque = deque()

    def acquire(self, gate: "DependencyGate", attempt: "_Attempt", now: float) -> bool:
        """Take a unit now (True), or queue ``attempt`` and return False."""
        if self.in_use < self.capacity and not self.waiters:
            self.in_use += 1
            attempt.held.append((self, self._hold(now)))
            self.acquisitions.extend((attempt.origin, now, 0.0, IMMEDIATE))
            return True
        attempt.waiting_since = now
        self.waiters.append(attempt)
        gate.wait_deadline(attempt, self.acquire_timeout_s, now)
        return False

    def release(self, key: int, now: float) -> None:
        self._unhold(key, now)
        waiters = self.waiters
        while waiters:
            attempt = waiters.popleft()
            if attempt.waiting_on is self:  # not given up in the meantime
                attempt.waiting_on = None
                attempt.wait_generation += 1
                attempt.held.append((self, self._hold(now)))
                self.acquisitions.extend((attempt.origin, attempt.waiting_since,
                                          now - attempt.waiting_since, WAITED))
                attempt.gate.proceed(attempt, now)
                return
        self.in_use -= 1

    def give_up(self, attempt: "_Attempt", now: float) -> None:
        """A waiter's deadline passed: it leaves the queue (lazily) as rejected."""
        self.acquisitions.extend((attempt.origin, attempt.waiting_since,
                                  now - attempt.waiting_since, REJECTED))


class RateQuota(_Dependency):
    """A token bucket of calls; over it a call fails or waits for its token."""

    __slots__ = ("bucket", "wait", "max_wait_s")

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, "rate")
        self.bucket = TokenBucket(config["burst"], config["rate"])
        self.wait = config["on_limit"] == "wait"
        self.max_wait_s = float(config["max_wait"])

    def call(self, attempt: "_Attempt", now: float, budget_s: float) -> float | None:
        """Spend a token: the wait before the call (0.0 now), or None when it fails."""
        bucket = self.bucket
        if bucket.take(now):
            attempt.held.append((self, self._hold(now)))
            self.acquisitions.extend((attempt.origin, now, 0.0, IMMEDIATE))
            return 0.0
        if self.wait:
            # The token comes when tat - now falls back to the tolerance (GCRA).
            delay = bucket.tat - bucket.tolerance - now
            if delay <= min(self.max_wait_s, budget_s):
                bucket.tat += bucket.interval  # reserved for this call
                attempt.held.append((self, self._hold(now + delay)))
                self.acquisitions.extend((attempt.origin, now, delay, WAITED))
                return delay
        self.acquisitions.extend((attempt.origin, now, 0.0, REJECTED))
        return None

    def release(self, key: int, now: float) -> None:
        self._unhold(key, now)


class _Attempt:
    """An admitted invocation of a function that uses dependencies, between start and end."""

    __slots__ = ("gate", "row", "origin", "run", "code", "env", "payload", "done",
                 "complete", "started", "step", "held", "waiting_on", "waiting_since",
                 "wait_generation")

    def __init__(self, gate, row, origin, run, code, env, payload, done, complete) -> None:
        self.gate = gate
        self.row = row
        self.origin = origin
        self.run = run
        self.code = code
        self.env = env
        self.payload = payload
        self.done = done
        self.complete = complete
        self.started = 0.0
        self.step = 0
        self.held: list = []
        self.waiting_on = None
        self.waiting_since = 0.0
        self.wait_generation = 0


class _Event:
    """Stands in for the event a completion callback reads its value from."""

    __slots__ = ("_value",)

    def __init__(self, value) -> None:
        self._value = value


class DependencyGate:
    """The handler phase of one function's invocations: acquire, run, release.

    ``LambdaFunction.invoke`` hands an admitted attempt to :meth:`start` instead of
    scheduling its end; the gate calls the function's own completion callback when the
    attempt ends, with the attempt's final code.
    """

    __slots__ = ("sim", "function", "uses", "timeout_s", "_attempts", "_handler_cb",
                 "_deadline_cb", "_finish_cb", "_resume_cb")

    def __init__(self, sim, function, uses: list[_Dependency], attempts: array) -> None:
        self.sim = sim
        self.function = function
        self.uses = uses
        self.timeout_s = float(function.timeout_s)
        self._attempts = attempts
        self._handler_cb = self._on_handler
        self._deadline_cb = self._on_deadline
        self._finish_cb = self._on_finish
        self._resume_cb = self._on_resume

    def start(self, now: float, origin: float, init: float, run: float, code: int, env,
              payload, done, complete: Callable) -> None:
        """Record the attempt (Duration completed at its end) and start its Init."""
        attempts = self._attempts
        row = len(attempts) // 5
        attempts.extend((now, origin, init, run, code))
        attempt = _Attempt(self, row, origin, run, code, env, payload, done, complete)
        if init > 0.0:
            Wakeup(self.sim, init, attempt, self._handler_cb, URGENT)
        else:
            self._begin(attempt, now)

    def _on_handler(self, event) -> None:
        self._begin(event._value, self.sim._now)

    def _begin(self, attempt: _Attempt, now: float) -> None:
        attempt.started = now
        self.proceed(attempt, now)

    def proceed(self, attempt: _Attempt, now: float) -> None:
        """Take the next dependencies; run the handler once all are held."""
        uses = self.uses
        while attempt.step < len(uses):
            dependency = uses[attempt.step]
            attempt.step += 1
            if dependency.kind == "pool":
                if not dependency.acquire(self, attempt, now):
                    attempt.waiting_on = dependency
                    return
            else:
                budget = self.timeout_s - (now - attempt.started)
                delay = dependency.call(attempt, now, budget)
                if delay is None:
                    self._end(attempt, now, ERROR)
                    return
                if delay > 0.0:
                    Wakeup(self.sim, delay, attempt, self._resume_cb)
                    return
        # Every dependency held: the handler runs, within what is left of the timeout.
        spent = now - attempt.started
        if spent + attempt.run >= self.timeout_s:
            delay = max(0.0, self.timeout_s - spent)
            attempt.code = (attempt.code & ~ERROR) | TIMEOUT
        else:
            delay = attempt.run
        Wakeup(self.sim, delay, attempt, self._finish_cb, URGENT)

    def _on_resume(self, event) -> None:
        self.proceed(event._value, self.sim._now)

    def wait_deadline(self, attempt: _Attempt, acquire_timeout_s: float, now: float) -> None:
        """Give up waiting at the acquire timeout or the function timeout, which comes first."""
        left = self.timeout_s - (now - attempt.started)
        timeout = left <= acquire_timeout_s
        Wakeup(self.sim, min(left, acquire_timeout_s),
               (attempt, attempt.wait_generation, timeout), self._deadline_cb)

    def _on_deadline(self, event) -> None:
        attempt, generation, timeout = event._value
        pool = attempt.waiting_on
        if pool is None or generation != attempt.wait_generation:
            return  # it got its unit in time
        now = self.sim._now
        attempt.waiting_on = None
        attempt.wait_generation += 1
        pool.give_up(attempt, now)
        self._end(attempt, now, TIMEOUT if timeout else ERROR)

    def _on_finish(self, event) -> None:
        attempt = event._value
        self._end(attempt, self.sim._now, 0)

    def _end(self, attempt: _Attempt, now: float, flag: int) -> None:
        for dependency, key in attempt.held:
            dependency.release(key, now)
        attempt.held = []
        code = attempt.code
        if flag == TIMEOUT:
            code = (code & ~ERROR) | TIMEOUT
        elif flag == ERROR and not code & TIMEOUT:
            code |= ERROR
        if code & TIMEOUT:
            attempt.env.needs_init = True
        attempt.code = code
        # Complete the attempt's record: Duration is the whole handler phase, waits included.
        base = attempt.row * 5
        self._attempts[base + 3] = now - attempt.started
        self._attempts[base + 4] = code
        attempt.complete(_Event((attempt.env, attempt.payload, attempt.done, code)))


def build_dependencies(config: Mapping[str, Any]) -> dict[str, _Dependency]:
    """The scenario's dependencies by name, with the functions that use each."""
    out: dict[str, _Dependency] = {}
    for name, spec in config.get("dependencies", {}).items():
        out[name] = Pool(name, spec) if spec["type"] == "pool" else RateQuota(name, spec)
    for fname, fconfig in config["functions"].items():
        for used in fconfig.get("uses", []):
            out[used].users.append(fname)
    return out


def _in_window(values: np.ndarray, warmup: float, horizon: float) -> np.ndarray:
    return (values >= warmup) & (values < horizon)


def dependency_summary(dependency: _Dependency, config: Mapping[str, Any], warmup: float,
                       horizon: float, end_s: float) -> dict[str, Any]:
    """The ``dependencies.<name>`` block of the summary."""
    starts, ends = dependency.hold_intervals(end_s)
    level = StepLevel(starts, ends)
    table = dependency.table()
    counted = _in_window(table["origin"], warmup, horizon)
    outcome = table["outcome"][counted]
    wait = table["wait"][counted]
    granted = outcome != REJECTED
    waited = outcome == WAITED
    block: dict[str, Any] = {"type": dependency.kind, "users": list(dependency.users)}
    if dependency.kind == "pool":
        block["capacity"] = dependency.capacity
    else:
        block["rate_per_s"] = config["rate"]
        block["burst"] = config["burst"]
    stats = time_stats_ms(wait[waited])
    block.update({
        "in_use": {"max": int(level.max(warmup, horizon)),
                   "mean": round(level.mean(warmup, horizon), 6)},
        "acquired": int(np.count_nonzero(granted)),
        "waits": {"count": int(np.count_nonzero(waited)), "mean_ms": stats["mean"],
                  "p50_ms": stats["p50"], "p99_ms": stats["p99"], "max_ms": stats["max"]},
        "wait_ms": time_stats_ms(wait[granted]),
        "rejected": int(np.count_nonzero(outcome == REJECTED)),
    })
    return block


def dependency_series(dependencies: Mapping[str, _Dependency], edges: np.ndarray,
                      end_s: float) -> dict[str, list]:
    """Per period and dependency: units in use, acquisitions, waits and rejections."""
    rows: dict[str, list] = {name: [] for name in DEPENDENCY_COLUMNS}
    count = len(edges) - 1
    per: list[tuple[str, Any]] = []
    for name, dependency in dependencies.items():
        starts, ends = dependency.hold_intervals(end_s)
        level = StepLevel(starts, ends)
        table = dependency.table()
        order = np.argsort(table["asked"], kind="stable")
        asked, wait, outcome = (table["asked"][order], table["wait"][order],
                                table["outcome"][order])
        index = np.clip(np.searchsorted(edges, asked, side="right") - 1, 0, max(count - 1, 0))
        waited = outcome == WAITED
        wait_sum = np.bincount(index[waited], weights=wait[waited], minlength=count)
        wait_max = np.zeros(count)
        np.maximum.at(wait_max, index[waited], wait[waited])
        per.append((name, {
            "max": level.period_maxima(edges),
            "mean": [level.mean(edges[k], edges[k + 1]) for k in range(count)],
            "acquired": np.bincount(index[outcome != REJECTED], minlength=count),
            "waits": np.bincount(index[waited], minlength=count),
            "wait_sum": wait_sum, "wait_max": wait_max,
            "rejected": np.bincount(index[outcome == REJECTED], minlength=count),
        }))
    for k in range(count):
        for name, data in per:
            waits = int(data["waits"][k])
            rows["period_start_s"].append(float(edges[k]))
            rows["dependency"].append(name)
            rows["InUse_max"].append(int(data["max"][k]))
            rows["InUse_avg"].append(round(float(data["mean"][k]), 6))
            rows["Acquired"].append(int(data["acquired"][k]))
            rows["Waits"].append(waits)
            rows["Wait_avg_ms"].append(round(float(data["wait_sum"][k]) / waits * 1000.0, 6)
                                       if waits else None)
            rows["Wait_max_ms"].append(round(float(data["wait_max"][k]) * 1000.0, 6)
                                       if waits else None)
            rows["Rejected"].append(int(data["rejected"][k]))
    return rows
