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
function keeps :meth:`LambdaFunction.invoke` untouched. A SnapStart function runs the same
invoke (a warm invocation costs one call and one assignment more, the version's last
activity) and overrides only :meth:`LambdaFunction._cold_start`, the path of a new
environment.
"""
from __future__ import annotations

from array import array
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.billing import billed_ms
from lambdasim.engine.function import COLD, ERROR, RESTORE, LambdaFunction
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
        if LambdaFunction.invoke(self, origin, payload, done, extra_s, fails):
            self.last_invoked = self.sim._now
            return True
        return False

    def _cold_start(self, env, now: float, origin: float) -> tuple[float, float, int]:
        """Restore from the snapshot, or a full Init when the version went inactive."""
        idle_since = self.last_invoked
        if now - idle_since >= self.inactive_after_s:
            # The version went inactive and lost its snapshot: a full Init on the request
            # path, which caches a new snapshot.
            self.snapshot_ends.append(idle_since + self.inactive_after_s)
            self.snapshot_starts.append(now)
            init, run, code = LambdaFunction._cold_start(self, env, now, origin)
            self._record_full_init((now, origin, init))
            return init, run, code
        restore = self._restore()
        billed = self._after_restore()
        init = restore + billed
        if init > RESTORE_LIMIT_S:
            # SnapStartTimeoutException: the invocation fails at the limit and the environment
            # that failed to restore is discarded (the handler does not run; time an event
            # source mapping adds per record still counts [assumption]).
            billed = min(billed, max(0.0, RESTORE_LIMIT_S - restore))
            env.retire_at = now
            self._record_restore((now, origin, RESTORE_LIMIT_S, billed, 0.0, 1.0))
            return RESTORE_LIMIT_S, 0.0, COLD | RESTORE | ERROR
        run = self._duration()
        self._record_restore((now, origin, init, billed, run, 0.0))
        return init, run, COLD | RESTORE


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
            # The restores' Duration as it ended (per-record time, timeouts): their attempts,
            # in the same order as the restore rows.
            run = self._restore_attempts(model)[1]
            extra_ms = float((billed_ms(run + rows[:, 3]) - billed_ms(run)).sum())
            usage.add_billed_init_ms(extra_ms)
        if self.pays:
            usage.snap_start_cache_gb_s += self.cached_seconds(model) * gb
            usage.snap_start_restored_gb += len(rows) * gb

    def _restore_attempts(self, model) -> tuple[np.ndarray, np.ndarray]:
        """Start and Duration of the restores counted (requests arriving in ``[warmup,
        duration)``), in the order of the restore rows."""
        attempts = model.recorders[self.function.name].table("attempts")
        restored = (attempts["code"].astype(np.int64) & RESTORE) != 0
        origin = attempts["origin"][restored]
        keep = (origin >= model.warmup_s) & (origin < model.duration_s)
        return attempts["t"][restored][keep], attempts["duration"][restored][keep]

    def cost_weights(self, model, edges: np.ndarray, prices) -> dict[str, np.ndarray]:
        """Where SnapStart's usage happened, per bin of ``edges``: the billed milliseconds
        Billed Restore Duration adds to each counted restore (``init``), the restores
        (``snap_start_restore``) by start, and the seconds a snapshot was cached within
        ``[warmup, duration)`` (``snap_start_cache``; the 3-hour minimum is not placed: the
        item is spread in proportion). https://aws.amazon.com/lambda/pricing/"""
        count = len(edges) - 1
        rows = self._data(model)["rows"]
        t, run = self._restore_attempts(model)
        index = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, count - 1)
        extra = billed_ms(run + rows[:, 3]) - billed_ms(run) if len(rows) else np.zeros(0)
        out = {"init": np.bincount(index, weights=extra, minlength=count)}
        if self.pays:
            f = self.function
            warmup, horizon = model.warmup_s, model.duration_s
            lo = np.clip(edges[:-1], warmup, horizon)
            hi = np.clip(edges[1:], warmup, horizon)
            out["snap_start_restore"] = np.bincount(index, minlength=count).astype(np.float64)
            out["snap_start_cache"] = np.array([
                snapshot_seconds(f.snapshot_starts, f.snapshot_ends, f.last_invoked,
                                 f.inactive_after_s, a, b, model.end_s, 0.0) if b > a else 0.0
                for a, b in zip(lo.tolist(), hi.tolist())])
        return out

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
