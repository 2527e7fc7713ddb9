"""Build the SimPy world of a scenario and run it to the horizon.

The model wires the layers together: one :class:`~lambdasim.engine.account.Account`, one
:class:`~lambdasim.engine.function.LambdaFunction` per function (with its environment pool, warm
pool strategy and random streams) and one trigger per traffic source, fed by arrival
sources. Everything a run needs lives in its :class:`Model`; nothing is global, so many runs
can share a process or spread over a pool of processes.

Time. Arrivals stop at ``duration``; work in flight then drains (requests finish, retries
run) for at most :data:`DRAIN_LIMIT_S` more; requests still unfinished by then are reported
``in_flight``. Idle environments are not waited for.

Arrivals. Each arrival spec's precomputed blocks of arrival times
(:func:`lambdasim.scenario.arrivals.arrival_times`) are merged into the run loop
(:class:`lambdasim.engine.loop.Simulation`): an arrival is not a SimPy event.

Fast path. Once built, functions of the common configuration (one synchronous trigger
without client retries, on-demand) are specialised (:mod:`lambdasim.engine.fastpath`); the
run is the same, with fewer calls per request. ``Model(..., general=True)`` keeps every
function on the general path.

Independent functions. When every function is of that configuration, each runs on a loop of
its own, one after another, and the run is checked to be the one a single loop would make
(:mod:`lambdasim.engine.independent`: no shared limit bound, no order rested on event ids);
otherwise the model is built again and its functions run together.
By default only models of at least :data:`SEPARATE_MIN_FUNCTIONS` functions try: with fewer,
their state stays in the CPU caches anyway (a few per cent faster separately, against a
second run when a shared limit binds). ``Model(..., independent=True)`` tries with two or
more, ``independent=False`` always runs them together.
"""
from __future__ import annotations

import gc
import os
import platform
import sys
import time
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable, Mapping

import numpy as np
import simpy

from lambdasim._version import __version__
from lambdasim.engine.account import Account, TokenBucket
from lambdasim.engine.dependencies import DependencyGate, build_dependencies
from lambdasim.scenario.arrivals import arrival_times
from lambdasim.engine.billing import load_prices
from lambdasim.scenario.distributions import Constant, make_distribution
from lambdasim.engine.environments import make_warm_pool
from lambdasim.engine.function import LambdaFunction, handler_factor
from lambdasim.engine.invoke.streams import build_stream_trigger
from lambdasim.engine.invoke.sqs import build_sqs_trigger
from lambdasim.engine.invoke.kafka import build_kafka_trigger
from lambdasim.engine.invoke.async_ import build_async_trigger
from lambdasim.engine.invoke.front_door import build_front_door_trigger
from lambdasim.engine.invoke.sync import SyncTrigger
from lambdasim.engine.fastpath import specialise
from lambdasim.engine.independent import can_run_separately, run_separately, separate
from lambdasim.engine.loop import Simulation
from lambdasim.engine.metrics import FunctionRecorder, StepLevel
from lambdasim.engine.provisioned import ProvisionedFunction, ProvisionedReporter, is_configured
from lambdasim.engine.snapstart import SnapStartFunction, SnapStartReporter
from lambdasim.scenario.runtimes import snap_start_pays
from lambdasim.engine.run_loop import drain_with_progress, run_sliced
from lambdasim.engine.rng import BlockSampler, LazyDraw, Streams
from lambdasim.scenario import Scenario

__all__ = ["Model", "DRAIN_LIMIT_S", "SEPARATE_MIN_FUNCTIONS"]

#: How long work in flight may drain after the horizon, in simulated seconds.
DRAIN_LIMIT_S = 24 * 3600.0
#: Models of at least this many functions try running them one after another (module
#: docstring, Independent functions); ``Model(independent=...)`` overrides it.
SEPARATE_MIN_FUNCTIONS = 32


class Model:
    """One run of one scenario: the SimPy environment and everything in it."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None,
                 period_s: float | None = None, replication: int = 0,
                 general: bool = False, independent: bool | None = None) -> None:
        config = scenario.config
        self.scenario = scenario
        self.seed = int(config["seed"] if seed is None else seed)
        self.replication = int(replication)
        self.duration_s = float(config["duration"])
        self.warmup_s = float(config["warmup"])
        self.period_s = float(config["period"] if period_s is None else period_s)
        if self.period_s <= 0:
            raise ValueError("the metrics period must be positive")
        self.sim = Simulation()
        self.streams = Streams(self.seed, self.replication)
        functions = config["functions"]
        reserved_total = sum(f["reserved_concurrency"] or 0 for f in functions.values())
        self.account = Account(config["account"], reserved_total)
        self.functions: dict[str, LambdaFunction] = {}
        self.recorders: dict[str, FunctionRecorder] = {}
        self.triggers: dict[str, list[Any]] = {}
        #: Per function: objects with ``summary_key``, ``summary(model)`` -> dict and
        #: ``series(model, edges)`` -> {column: per-period values}; trigger-specific blocks.
        self.reporters: dict[str, list[Any]] = {}
        #: Per function with asynchronous invocations: its internal event queue.
        self.async_queues: dict[str, Any] = {}
        #: Called once every function and trigger is built (wiring across functions).
        self.after_build: list[Callable[[], None]] = []
        #: Per trigger (by ``id``): the indices of its arrival specs in the run loop.
        self.arrival_feeds: dict[int, list[int]] = {}
        #: Per function with front-door triggers: (FrontDoorRecorder, [triggers]).
        self.front_doors: dict[str, Any] = {}
        self._api_gateway: TokenBucket | None = None
        #: Shared downstream capacity by name (lambdasim.engine.dependencies).
        self.dependencies = build_dependencies(config)
        self.end_s = 0.0
        self.wall_s = 0.0
        self.events = 0
        # The build makes only long-lived objects (tens of thousands with a thousand
        # functions): the cyclic collector's passes over them would find nothing.
        enabled = gc.isenabled()
        gc.disable()
        try:
            for index, (name, fconfig) in enumerate(functions.items()):
                self._build_function(index, name, fconfig)
            for hook in self.after_build:
                hook()
        finally:
            if enabled:
                gc.enable()
        #: Per function, its own run loop when the functions run one after another
        #: (:mod:`lambdasim.engine.independent`); empty when they run together.
        self.separate_runs: dict[str, Simulation] = {}
        wanted = independent if independent is not None else (
            len(functions) >= SEPARATE_MIN_FUNCTIONS)
        if not general and wanted and can_run_separately(self):
            self.separate_runs = separate(self)
        #: Functions that run the specialised fast path (:mod:`lambdasim.engine.fastpath`).
        self.specialised: list[str] = [] if general else specialise(self)
        #: Concurrency levels of groups of functions built by the run's own checks
        #: (:mod:`lambdasim.engine.independent`), by the set of their names; see busy_level.
        self.merged_busy: dict[frozenset[str], StepLevel] = {}

    def _sampler(self, stream: str, spec: Mapping[str, Any], scale: float = 1.0) -> BlockSampler:
        distribution = make_distribution(spec)
        if type(distribution) is Constant:
            # Draws nothing: its stream's generator would be made and never used (about
            # 7 us each, for the Init and keep-alive of each of a thousand functions).
            return BlockSampler(partial(distribution.sample, None), scale)
        return BlockSampler(LazyDraw(self.streams, stream, distribution.sample), scale)

    def _uniform(self, stream: str) -> BlockSampler:
        return BlockSampler(LazyDraw(self.streams, stream))

    def _build_function(self, index: int, name: str, config: Mapping[str, Any]) -> None:
        recorder = FunctionRecorder()
        factor = handler_factor(config)  # memory and architecture
        # Only functions with provisioned concurrency get its invoke (the hot path of the
        # others is unchanged); its draws come from streams of their own.
        provisioned = is_configured(config["provisioned_concurrency"])
        extra = {} if not provisioned else {
            "provisioned_config": config["provisioned_concurrency"],
            "provisioned_init": self._sampler(f"provisioned/init/{name}", config["init"]),
            "provisioned_lifetime": self._sampler(f"provisioned/lifetime/{name}",
                                                  config["max_lifetime"]),
        }
        # SnapStart functions restore new environments (lambdasim.engine.snapstart); the
        # scenario forbids SnapStart together with provisioned concurrency.
        snap = config["snap_start"]
        snap_start = snap is not None and snap["enabled"]
        if snap_start:
            extra = {
                "snap_config": snap,
                "restore": self._sampler(f"snap_start/restore/{name}", snap["restore"]),
                "after_restore": self._sampler(f"snap_start/after_restore/{name}",
                                               snap["after_restore"]),
            }
        cls = (ProvisionedFunction if provisioned
               else SnapStartFunction if snap_start else LambdaFunction)
        function = cls(
            name, index, config, self.sim, self.account, recorder,
            duration=self._sampler(f"duration/{name}", config["duration"], factor),
            init=self._sampler(f"init/{name}", config["init"]),
            uniform=self._uniform(f"errors/{name}"),
            keep_alive=self._sampler(f"keep_alive/{name}", config["keep_alive"]),
            lifetime=self._sampler(f"lifetime/{name}", config["max_lifetime"]),
            warm_pool=make_warm_pool(config["reuse"], self._uniform(f"reuse/{name}")),
            **extra,
        )
        if config["uses"]:
            # Its handler phase goes through the dependencies it uses (lambdasim.engine.dependencies).
            function.gate = DependencyGate(self.sim, function,
                                           [self.dependencies[d] for d in config["uses"]],
                                           recorder.attempts)
        self.functions[name] = function
        self.recorders[name] = recorder
        self.triggers[name] = []
        self.reporters[name] = []
        if provisioned:
            function.provisioned.start()
            prices = self.scenario.config["billing"]["prices"]
            self.reporters[name].append(ProvisionedReporter(
                function, recorder, config, partial(load_prices, prices)))
        if snap_start:
            prices = self.scenario.config["billing"]["prices"]
            self.reporters[name].append(SnapStartReporter(
                function, config, snap_start_pays(config["runtime"]),
                partial(load_prices, prices)))
        for tindex, tconfig in enumerate(config["triggers"]):
            builder = self._TRIGGER_BUILDERS.get(tconfig["type"])
            if builder is None:
                raise ValueError(f"trigger type {tconfig['type']!r} is not supported by this version")
            builder(self, function, recorder, tindex, tconfig)

    def _start_arrivals(self, name: str, tindex: int, tconfig: Mapping[str, Any],
                        on_arrival: Callable[[float], None]) -> None:
        """One arrival feed per arrival spec of a trigger, each on its own stream."""
        feeds = self.arrival_feeds.setdefault(id(getattr(on_arrival, "__self__", on_arrival)), [])
        for sindex, spec in enumerate(tconfig["arrivals"]):
            rng = self.streams.generator(f"arrivals/{name}/{tindex}/{sindex}")
            feeds.append(self.sim.add_arrivals(arrival_times(spec, rng, self.duration_s),
                                               on_arrival))

    def api_gateway_bucket(self) -> TokenBucket:
        """API Gateway's account-level throttle, one bucket shared by every gateway trigger."""
        if self._api_gateway is None:
            limits = self.scenario.config["account"]["api_gateway"]
            self._api_gateway = TokenBucket(limits["burst"], limits["rate"])
        return self._api_gateway

    def _sync_trigger(self, function: LambdaFunction, recorder: FunctionRecorder, tindex: int,
                      tconfig: Mapping[str, Any]) -> None:
        if tconfig["source"] != "direct":
            build_front_door_trigger(self, function, recorder, tindex, tconfig)
            return
        name = function.name
        trigger = SyncTrigger(self.sim, function, tindex, tconfig, recorder,
                              self._uniform(f"retry/{name}/{tindex}"), self.warmup_s)
        self.triggers[name].append(trigger)
        self._start_arrivals(name, tindex, tconfig, trigger.arrive)

    def _async_trigger(self, function: LambdaFunction, recorder: FunctionRecorder, tindex: int,
                       tconfig: Mapping[str, Any]) -> None:
        build_async_trigger(self, function, recorder, tindex, tconfig)

    #: Trigger type -> builder. A builder creates the trigger, appends it to
    #: ``self.triggers[function]`` (each trigger has ``outstanding`` and ``arrived_in_window``)
    #: and, when it reports a summary block or series columns of its own, appends a reporter
    #: to ``self.reporters[function]`` (see :func:`lambdasim.results.result.build_result`).
    _TRIGGER_BUILDERS: dict[str, Callable[..., None]] = {
        "sync": _sync_trigger,
        "kinesis": build_stream_trigger,
        "dynamodb": build_stream_trigger,
        "sqs": build_sqs_trigger,
        "kafka": build_kafka_trigger,
        "async": _async_trigger,
    }

    def shared_reporter(self, function: str, kind: type) -> Any:
        """The reporter of type *kind* that all of *function*'s triggers of one type share:
        the one already in ``self.reporters[function]``, else a new ``kind()`` appended."""
        for reporter in self.reporters[function]:
            if isinstance(reporter, kind):
                return reporter
        reporter = kind()
        self.reporters[function].append(reporter)
        return reporter

    def outstanding(self) -> int:
        """Requests that have arrived and not yet ended."""
        return sum(t.outstanding for triggers in self.triggers.values() for t in triggers)

    def run(self, progress: Callable[[float, int | None], None] | None = None) -> "Model":
        """Run to the horizon, then drain work in flight.

        ``progress(now_s, events)``, when given, is called between slices of simulated time
        (:func:`lambdasim.engine.run_loop.run_sliced`) and, with ``events`` None, now and then while
        work in flight drains; the run is the same with or without it. When functions run
        separately and must then run together, ``progress.restart(reason)`` is called first if
        the callback has it (:meth:`lambdasim.results.progress.ProgressBar.restart`).
        """
        started = time.perf_counter()
        if self.separate_runs:
            if run_separately(self, self.duration_s + DRAIN_LIMIT_S, progress):
                self.wall_s = time.perf_counter() - started
                return self
            # A shared limit was reached, or an order rested on event ids: build the model
            # again and run the functions together (lambdasim.engine.independent).
            # (The fast path's closures hold the model they were built for: run that one.)
            restart = getattr(progress, "restart", None)
            if restart is not None:
                restart("the functions reached a limit they share: running them together "
                        "(the same figures; a second pass)")
            together = Model(self.scenario, seed=self.seed, period_s=self.period_s,
                             replication=self.replication, independent=False).run(progress)
            self.__dict__.update(together.__dict__)
            self.wall_s = time.perf_counter() - started
            return self
        sim = self.sim
        slicing_ids = 0
        if self.duration_s > sim.now:
            if progress is None:
                sim.run(until=self.duration_s)
            else:
                slicing_ids = run_sliced(sim, self.duration_s, progress)
        # Drain event by event, so the run ends the moment the last request does.
        limit = self.duration_s + DRAIN_LIMIT_S
        if progress is None:
            while self.outstanding() and sim.peek() <= limit:
                sim.step()
        else:
            drain_with_progress(sim, self.outstanding, limit, progress)
        self.end_s = max(sim.now, self.duration_s)
        self.wall_s = time.perf_counter() - started
        # SimPy numbers every scheduled event; those still queued were not processed.
        self.events = next(sim._eid) - len(sim._queue) - slicing_ids - sim.arrivals_taken
        return self

    def busy_level(self, levels: Mapping[str, StepLevel], names: list[str]) -> StepLevel:
        """The concurrency level of the functions ``names`` together: their ``levels`` (one
        :class:`StepLevel` per function, start to start + Init + Duration of each attempt)
        merged, or the same level when the run's checks already built it."""
        known = self.merged_busy.get(frozenset(names))
        return known if known is not None else StepLevel.merge([levels[n] for n in names])

    def run_info(self) -> dict[str, Any]:
        """How the run went (``run.json``): versions, wall time, events, host."""
        invocations = sum(r.attempt_count() for r in self.recorders.values())
        return {
            "lambdasim_version": __version__,
            "scenario": self.scenario.name,
            "scenario_path": self.scenario.path,
            "seed": self.seed,
            "replication": self.replication,
            "simulated_s": self.end_s,
            "wall_time_s": round(self.wall_s, 6),
            "events_processed": self.events,
            "events_per_wall_s": round(self.events / self.wall_s, 1) if self.wall_s else None,
            "invocations": invocations,
            "invocations_per_wall_s": round(invocations / self.wall_s, 1) if self.wall_s else None,
            "recorded_bytes": sum(r.nbytes() for r in self.recorders.values()),
            "python": sys.version.split()[0],
            "simpy": simpy.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
