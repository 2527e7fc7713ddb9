"""Lambda SnapStart: new environments restore from a snapshot instead of running Init.

With SnapStart (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html), "Lambda
initializes your function when you publish a function version", snapshots the initialized
microVM and "resumes new execution environments from the cached snapshot instead of
initializing them from scratch". The rules modelled here (LAMBDA_MODEL.md section 8):

* **Publish.** The version is published, initialized and snapshotted before the run starts
  [assumption: time 0 counts as its last activity]. That Init is off the request path and is
  neither a cold start nor billed here [assumption: AWS bills no publish-time Init item].
* **Restore.** A request that needs a new environment waits for its Restore Duration: the
  snapshot restore (``restore``, not billed) plus loading the runtime and running the
  after-restore hooks (``after_restore``, the *Billed Restore Duration*); Billed Duration is
  ``ceil_ms(Duration + Billed Restore Duration)``
  (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html). Such a request is
  a cold start (``COLD | RESTORE``), never an Init.
* **Restore limit.** Restore plus after-restore hooks must finish within 10 s, else the
  invocation fails with ``SnapStartTimeoutException``
  (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-troubleshooting.html): the attempt
  ends as a function error after 10 s and its environment is discarded [assumption: billed
  for the part of the after-restore time inside the 10 s].
* **Inactive versions.** A version not invoked for 14 days (``inactive_after``) becomes
  inactive and its snapshot is deleted (snapstart-troubleshooting.html,
  SnapStartNotReadyException); the next call that needs an environment runs a full Init on
  the request path (billed like any on-demand Init) and a new snapshot is cached from then
  [assumption: re-initialization takes the calling request's Init; AWS answers
  SnapStartNotReadyException meanwhile, which lambdasim does not model].
* **Cost** (https://aws.amazon.com/lambda/pricing/, "SnapStart pricing"): Python and .NET
  functions pay the snapshot cache per GB-second for as long as a snapshot exists (at least
  3 hours per snapshot) and a restore charge per GB restored; "SnapStart pricing does not
  apply to supported Java managed runtimes". Prices come from the dated price file.

Hot path. Only SnapStart functions are built as :class:`SnapStartFunction`; every other
function keeps :meth:`LambdaFunction.invoke` untouched. A warm invocation costs one assignment
more (the version's last activity).
"""
from __future__ import annotations

from array import array
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.billing import billed_ms
from lambdasim.engine.environments import BUSY
from lambdasim.engine.events import URGENT, Wakeup
from lambdasim.engine.function import (COLD, ERROR, INIT_LIMIT_S, RESTORE, SUPPRESSED_INIT,
                                       THROTTLE_CONCURRENCY, THROTTLE_RATE, THROTTLE_SCALING,
                                       TIMEOUT, LambdaFunction)
from lambdasim.engine.metrics import time_stats_ms

__all__ = ["SnapStartFunction", "SnapStartReporter", "RESTORE_LIMIT_S", "snapshot_seconds"]

#: Restore plus after-restore hooks are limited to 10 s (snapstart-troubleshooting.html).
RESTORE_LIMIT_S = 10.0


class SnapStartFunction(LambdaFunction):
    """A function with SnapStart: new environments restore from the version's snapshot.

    Records, besides the attempts: ``restores`` rows ``(t, origin, restore_duration_s,
    billed_restore_s, duration_s, timed_out)``, ``full_inits`` rows ``(t, origin, init_s)``
    and ``snapshot_starts`` / ``snapshot_ends`` (times a snapshot was cached / deleted).
    """

    __slots__ = ("snap_config", "inactive_after_s", "last_invoked", "restores", "full_inits",
                 "snapshot_starts", "snapshot_ends", "_restore", "_after_restore",
                 "_record_restore", "_record_full_init")

    def __init__(self, *args, snap_config: Mapping[str, Any], restore: Callable[[], float],
                 after_restore: Callable[[], float], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.snap_config = snap_config
        self.inactive_after_s = float(snap_config["inactive_after"])
        #: The version's last invocation (its publication at time 0 to begin with).
        self.last_invoked = 0.0
        self.restores = array("d")
        self.full_inits = array("d")
        self.snapshot_starts = [0.0]
        self.snapshot_ends: list[float] = []
        self._restore = restore
        self._after_restore = after_restore
        self._record_restore = self.restores.extend
        self._record_full_init = self.full_inits.extend

    def invoke(self, origin: float, payload: Any, done: Callable[[Any, int, float], None],
               extra_s: float = 0.0, fails: bool = False) -> bool:
        now = self.sim._now
        if not self._request_rate(now):
            self._record_throttle((now, origin, THROTTLE_RATE))
            return False
        pool = self.pool
        if pool.in_use >= pool.limit:
            self._record_throttle((now, origin, THROTTLE_CONCURRENCY))
            return False
        env = self._warm_pop()
        if env is not None and now >= env.retire_at:
            env = self.environments.acquire_past(env, now)
        failed_restore = False
        if env is None:
            if not self._scaling(now):
                self._record_throttle((now, origin, THROTTLE_SCALING))
                return False
            env = self.environments.create(now)
            idle_since = self.last_invoked
            if now - idle_since >= self.inactive_after_s:
                # The version went inactive and lost its snapshot: a full Init on the
                # request path, which caches a new snapshot.
                self.snapshot_ends.append(idle_since + self.inactive_after_s)
                self.snapshot_starts.append(now)
                init = self._init()
                code = COLD
                if init > INIT_LIMIT_S:
                    run = init + self._duration()
                    init = INIT_LIMIT_S
                    code = COLD | SUPPRESSED_INIT
                else:
                    run = self._duration()
                self._record_full_init((now, origin, init))
            else:
                restore = self._restore()
                billed = self._after_restore()
                init = restore + billed
                code = COLD | RESTORE
                if init > RESTORE_LIMIT_S:
                    # SnapStartTimeoutException: the invocation fails at the limit.
                    billed = min(billed, max(0.0, RESTORE_LIMIT_S - restore))
                    init = RESTORE_LIMIT_S
                    run = 0.0
                    code |= ERROR
                    failed_restore = True
                else:
                    run = self._duration()
        else:
            env.state = BUSY
            init = 0.0
            if env.needs_init:
                env.needs_init = False
                run = self._init() + self._duration()
                code = SUPPRESSED_INIT
            else:
                try:
                    run = self._duration_pop()
                except IndexError:
                    run = self._duration.refill_pop()
                code = 0
        self.last_invoked = now
        if failed_restore:
            env.retire_at = now  # the environment that failed to restore is discarded
        else:
            run += extra_s
            if run >= self.timeout_s:
                run = self.timeout_s
                code |= TIMEOUT
                env.needs_init = True
            elif fails or (self.error_rate and self._uniform() < self.error_rate):
                code |= ERROR
        if code & RESTORE:
            self._record_restore((now, origin, init, billed, run, 1.0 if failed_restore else 0.0))
        pool.in_use += 1
        self.account.in_use += 1
        self._record_attempt((now, origin, init, run, code))
        Wakeup(self.sim, init + run, (env, payload, done, code), self._complete_cb, URGENT)
        return True


def snapshot_seconds(starts: list[float], ends: list[float], last_invoked: float,
                     inactive_after_s: float, a: float, b: float, end_s: float,
                     minimum_s: float) -> float:
    """Seconds within ``[a, b]`` during which the version had a cached snapshot.

    Snapshot ``k`` lives from ``starts[k]`` to ``ends[k]`` (the last one to the end of the run,
    or to ``last_invoked + inactive_after_s`` when that comes first). A snapshot created and
    deleted within the window for less than ``minimum_s`` counts ``minimum_s`` (the 3-hour
    minimum per snapshot).
    """
    spans = list(zip(starts, ends))
    if len(starts) > len(ends):
        stop = min(end_s, last_invoked + inactive_after_s)
        spans.append((starts[-1], stop))
        open_last = stop >= end_s
    else:
        open_last = False
    total = 0.0
    for k, (s, e) in enumerate(spans):
        length = min(e, b) - max(s, a)
        if length <= 0.0:
            continue
        ended = not (open_last and k == len(spans) - 1)
        if ended and s >= a and e <= b and length < minimum_s:
            length = minimum_s
        total += length
    return total


class SnapStartReporter:
    """The ``snap_start`` summary block of one function and its billable usage."""

    summary_key = "snap_start"

    def __init__(self, function: SnapStartFunction, fconfig: Mapping[str, Any],
                 pays: bool, prices: Callable[[], Mapping[str, Any]]) -> None:
        self.function = function
        self.fconfig = fconfig
        #: Whether the runtime pays SnapStart's cache and restore (Python, .NET; not Java).
        self.pays = pays
        self._prices = prices
        self._cache: dict[str, Any] | None = None

    def _data(self, model) -> dict[str, Any]:
        if self._cache is None:
            rows = np.frombuffer(self.function.restores, dtype=np.float64).reshape(-1, 6)
            inits = np.frombuffer(self.function.full_inits, dtype=np.float64).reshape(-1, 3)
            window = (rows[:, 1] >= model.warmup_s) & (rows[:, 1] < model.duration_s)
            init_window = (inits[:, 1] >= model.warmup_s) & (inits[:, 1] < model.duration_s)
            self._cache = {"rows": rows[window].copy(), "inits": inits[init_window].copy()}
        return self._cache

    def cached_seconds(self, model) -> float:
        f = self.function
        prices = self._prices()
        return snapshot_seconds(f.snapshot_starts, f.snapshot_ends, f.last_invoked,
                                f.inactive_after_s, model.warmup_s, model.duration_s,
                                model.end_s, float(prices["snap_start_cache_minimum_s"]))

    def usage(self, model, usage) -> None:
        """Billed restore time (at the duration rate, in the ``init`` item) and, for runtimes
        that pay SnapStart, the cache GB-seconds and the GB restored."""
        rows = self._data(model)["rows"]
        gb = self.fconfig["memory_mb"] / 1024.0
        if len(rows):
            run = rows[:, 4]
            extra_ms = float((billed_ms(run + rows[:, 3]) - billed_ms(run)).sum())
            usage.add_billed_init_ms(extra_ms)
        if self.pays:
            usage.snap_start_cache_gb_s += self.cached_seconds(model) * gb
            usage.snap_start_restored_gb += len(rows) * gb

    def summary(self, model) -> dict[str, Any]:
        data = self._data(model)
        rows = data["rows"]
        restore_ms = time_stats_ms(rows[:, 2])
        billed_ms_stats = time_stats_ms(rows[:, 3])
        return {
            "runtime_pays_snap_start": self.pays,
            "restores": int(len(rows)),
            "restore_timeouts": int(np.count_nonzero(rows[:, 5])),
            "restore_duration_ms": restore_ms,
            "billed_restore_duration_ms": billed_ms_stats,
            "full_inits": int(len(data["inits"])),
            "snapshots_created": int(len(self.function.snapshot_starts)),
            "snapshot_cached_s": round(self.cached_seconds(model), 6),
        }

    def series(self, model, edges) -> dict[str, list]:
        """No series of its own: restores are cold starts (``ColdStarts``) in metrics.csv."""
        return {}
