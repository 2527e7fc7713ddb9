"""How much work a scenario asks for, estimated from its resolved config before anything is built.

A scenario can ask for absurd work in a few lines: a rate of 1e9/s for a year, a burst of
1e12 requests, ``period: 1us`` over a day, a trace replayed at ``rate_scale: 1e9``,
provisioned concurrency of 1e8, 100,000 functions. Building such a world would hang for hours
or die of a MemoryError. :func:`estimate` reads the resolved config only (closed-form expected
arrival counts, no random draws, no model) and returns a :class:`Workload`: arrivals, SimPy
events and memory, each with the dotted key of its largest contributor. :func:`check_workload`
compares it with :class:`Limits` and raises :class:`~lambdasim.scenario.units.SpecError` naming
that key, the estimate, the limit and what to change, in well under a second.

The basis of each figure (measured with ``benchmarks/`` on the 2-core development machine):

* arrivals: the expected number of requests arriving at every trigger in ``[0, duration)``
  (:func:`lambdasim.scenario.arrivals.expected_count`), SQS messages and stream records
  included; client retries multiply them by ``max_attempts`` at most;
* events: about two SimPy events per invocation attempt (arrival and completion), plus the
  polls of idle stream shards (one per lane every 1 s for Kinesis, 0.25 s for DynamoDB), the
  state changes of mmpp arrivals (``duration / mean_sojourn``) and the recycling of
  provisioned environments (``capacity x duration / mean max_lifetime``); lambdasim runs about
  200,000 invocations per second, so 1e9 events are over an hour of CPU;
* memory: about 130 bytes per invocation attempt (records included), 850 bytes per execution
  environment alive at once (Little's law: arrival rate x (init + duration), capped by the
  concurrency limits, plus provisioned concurrency), 800 bytes per function and metrics
  period, 700 kB per function, 150 bytes per mmpp state change, 1.5 kB per stream shard lane,
  800 bytes per FIFO message group, and 100 MB for the interpreter.

The limits (:data:`DEFAULT_LIMITS`) are generous for a capacity-planning run and can be raised
per run: ``--max-arrivals``, ``--max-events``, ``--max-memory`` on the command line, or
``limits=Limits(...)`` in :func:`lambdasim.simulate`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

from lambdasim.scenario.arrivals import expected_count
from lambdasim.scenario.distributions import make_distribution
from lambdasim.scenario.units import SpecError, format_duration

__all__ = ["Limits", "DEFAULT_LIMITS", "NO_LIMITS", "Workload", "estimate", "check_workload",
           "check_scenario_workload", "format_bytes", "parse_limit"]

# Per-item costs (see the module docstring for their basis).
BYTES_PER_ATTEMPT = 130
BYTES_PER_ENVIRONMENT = 850
BYTES_PER_PERIOD_ROW = 800
BYTES_PER_FUNCTION = 700_000
BYTES_PER_MMPP_CHANGE = 150
BYTES_PER_FIFO_GROUP = 800
BYTES_PER_STREAM_LANE = 1500
BYTES_BASE = 100_000_000
EVENTS_PER_ATTEMPT = 2.0
STREAM_POLL_S = {"kinesis": 1.0, "dynamodb": 0.25}


@dataclasses.dataclass(frozen=True)
class Limits:
    """Largest estimated work a run may ask for; ``None`` switches a limit off.

    Attributes
    ----------
    max_arrivals : float or None
        Expected requests (arrivals at all triggers) over the horizon; default 1e8.
    max_events : float or None
        Estimated SimPy events; default 1e9 (about an hour of CPU).
    max_memory_bytes : float or None
        Estimated peak memory in bytes; default 8 GiB.
    """

    max_arrivals: float | None = 1e8
    max_events: float | None = 1e9
    max_memory_bytes: float | None = 8 * 1024 ** 3


DEFAULT_LIMITS = Limits()
#: No limit at all (for a caller that has checked already).
NO_LIMITS = Limits(None, None, None)


@dataclasses.dataclass
class Workload:
    """Estimated work of one run, with the dotted key contributing most to each figure."""

    arrivals: float = 0.0
    attempts: float = 0.0
    events: float = 0.0
    memory_bytes: float = float(BYTES_BASE)
    arrivals_key: str | None = None
    events_key: str | None = None
    memory_key: str | None = None
    memory_what: str = ""
    _top: dict = dataclasses.field(default_factory=dict, repr=False)

    def _add(self, kind: str, amount: float, key: str, what: str = "") -> None:
        """Add ``amount`` to figure ``kind`` and remember the largest single contributor."""
        if not amount == amount:  # NaN from a closed form: count it as beyond any limit
            amount = math.inf
        setattr(self, kind, getattr(self, kind) + amount)
        best = self._top.get(kind)
        if best is None or amount > best[0]:
            self._top[kind] = (amount, key, what)
            if kind == "memory_bytes":
                self.memory_key, self.memory_what = key, what
            elif kind in ("arrivals", "events"):
                setattr(self, f"{kind}_key", key)


def format_bytes(n: float) -> str:
    """``820 MiB``, ``1.5 GiB``, ``62.8 TiB``: binary units, three significant digits."""
    for unit, size in (("TiB", 1024.0 ** 4), ("GiB", 1024.0 ** 3), ("MiB", 1024.0 ** 2),
                       ("KiB", 1024.0)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def _num(x: float, digits: int = 2) -> str:
    """``3.2e16``, ``1e8``, ``450``: a count or size for a message."""
    if not math.isfinite(x):
        return "an unbounded number of"
    if x < 1e6:
        return f"{x:,.0f}" if x >= 10 or x == int(x) else f"{x:.{digits}g}"
    text = f"{x:.{digits}g}"
    return text.replace("e+", "e").replace("e0", "e")


def _mean(dist: Mapping[str, Any]) -> float:
    if dist["dist"] == "normal":  # truncated at 0; its exact mean needs SciPy, not worth it here
        return max(float(dist["mean"]), 0.0)
    try:
        value = float(make_distribution(dist).mean())
    except Exception:  # an estimate only: a distribution without a closed-form mean
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def estimate(config: Mapping[str, Any], period_s: float | None = None) -> Workload:
    """Estimate the work of a resolved scenario config (see the module docstring).

    Parameters
    ----------
    config : mapping
        ``Scenario.config``.
    period_s : float, optional
        The metrics period the run will use, when it overrides ``config["period"]``.

    Returns
    -------
    Workload
    """
    work = Workload()
    horizon = float(config["duration"])
    period = float(config["period"] if period_s is None else period_s)
    functions = config["functions"]
    account_limit = float(config["account"]["concurrency_limit"])
    periods = math.ceil(horizon / period) if period > 0 else math.inf
    count = len(functions)
    work._add("memory_bytes", BYTES_PER_FUNCTION * count, "functions",
              f"{count:,} functions at about 700 kB each")
    work._add("memory_bytes", BYTES_PER_PERIOD_ROW * periods * count, "period",
              f"{_num(periods, 3)} metrics periods (duration / period) for each of {count:,} "
              f"function(s)")
    # Arrival specs written alike (a thousand functions from one template) are integrated
    # once: the count depends on the resolved spec and the horizon only (repr is exact for
    # resolved data: floats round-trip).
    counted: dict[str, float] = {}
    for fname, function in functions.items():
        fkey = f"functions.{fname}"
        busy_s = _mean(function["duration"])
        timeout = float(function["timeout"])
        busy_s = min(busy_s, timeout) if busy_s else timeout
        rate_sum = 0.0
        for index, trigger in enumerate(function["triggers"]):
            tkey = f"{fkey}.triggers.{index}"
            specs = trigger["arrivals"]
            alike = repr(specs)
            n = counted.get(alike)
            if n is None:
                try:
                    n = counted[alike] = float(expected_count(specs, 0.0, horizon))
                except (ArithmeticError, ValueError, MemoryError):
                    n = math.inf  # no closed form at this scale: beyond any limit
            work._add("arrivals", n, f"{tkey}.arrivals")
            attempts = n
            retries = trigger.get("client_retries")
            if retries:
                attempts *= max(1, int(retries["max_attempts"]))
            work._add("attempts", attempts, f"{tkey}.arrivals")
            work._add("events", EVENTS_PER_ATTEMPT * attempts, f"{tkey}.arrivals")
            work._add("memory_bytes", BYTES_PER_ATTEMPT * attempts, f"{tkey}.arrivals",
                      f"{_num(attempts, 3)} invocation attempts")
            rate_sum += n / horizon if horizon > 0 else 0.0
            kind = trigger["type"]
            if kind in STREAM_POLL_S:
                lanes = trigger["shards"] * trigger["parallelization_factor"]
                polls = lanes * horizon / STREAM_POLL_S[kind]
                work._add("events", polls, f"{tkey}.shards")
                work._add("memory_bytes", BYTES_PER_STREAM_LANE * lanes, f"{tkey}.shards",
                          f"{lanes:,} shard lanes (shards x parallelization_factor)")
            if kind == "sqs" and trigger["fifo"]:
                groups = trigger["message_groups"]
                work._add("memory_bytes", BYTES_PER_FIFO_GROUP * groups, f"{tkey}.message_groups",
                          f"{groups:,} FIFO message groups")
            for s_index, spec in enumerate(specs):
                if spec["process"] == "mmpp":
                    end = spec["end"] if spec["end"] is not None else horizon
                    window = max(0.0, min(end, horizon) - spec["start"])
                    shortest = min(s["mean_sojourn"] for s in spec["states"])
                    changes = window / shortest
                    skey = f"{tkey}.arrivals.{s_index}.states"
                    work._add("events", changes, skey)
                    work._add("memory_bytes", BYTES_PER_MMPP_CHANGE * changes, skey,
                              f"{_num(changes, 3)} mmpp state changes")
        # Environments alive at once: Little's law, capped by what the limits allow.
        cap = function["reserved_concurrency"]
        cap = account_limit if cap is None else float(cap)
        concurrent = min(cap, rate_sum * busy_s)
        provisioned = function["provisioned_concurrency"]
        peak = max([provisioned["capacity"]]
                   + [a["capacity"] for a in provisioned["schedule"]]
                   + ([provisioned["target_tracking"]["max"]] if provisioned["target_tracking"] else []))
        if peak:
            work._add("memory_bytes", BYTES_PER_ENVIRONMENT * peak, f"{fkey}.provisioned_concurrency",
                      f"{_num(peak, 3)} provisioned environments")
            # Each provisioned environment is recycled at the end of its lifetime (a timer).
            lifetime = _mean(function["max_lifetime"])
            recycles = peak * horizon / lifetime if lifetime > 0 else math.inf
            work._add("events", recycles, f"{fkey}.max_lifetime")
        work._add("memory_bytes", BYTES_PER_ENVIRONMENT * concurrent, f"{fkey}.duration",
                  f"about {_num(concurrent, 3)} environments busy at once")
    return work


def check_workload(config: Mapping[str, Any], limits: Limits | None = None,
                   period_s: float | None = None) -> Workload:
    """Estimate a resolved config's work and refuse it when beyond ``limits``.

    Parameters
    ----------
    config : mapping
        ``Scenario.config``.
    limits : Limits, optional
        Default :data:`DEFAULT_LIMITS`.
    period_s : float, optional
        The metrics period the run will use, when it overrides ``config["period"]``.

    Returns
    -------
    Workload
        The estimate, when within the limits.

    Raises
    ------
    SpecError
        Naming the key contributing most, e.g. ``functions.f.triggers.0.arrivals: about 3.2e+16
        arrivals expected; the limit is 1e+08; lower the rate or the duration, or pass
        --max-arrivals``.
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    work = estimate(config, period_s)
    if limits.max_arrivals is not None and work.arrivals > limits.max_arrivals:
        raise SpecError(
            f"about {_num(work.arrivals)} arrivals expected over the "
            f"{format_duration(float(config['duration']))} horizon; "
            f"the limit is {_num(limits.max_arrivals)}; lower the rate, the count or the duration, "
            f"or pass --max-arrivals", work.arrivals_key)
    if limits.max_events is not None and work.events > limits.max_events:
        raise SpecError(
            f"about {_num(work.events)} simulation events expected (invocations, polls, state "
            f"changes, recycled environments); the limit is {_num(limits.max_events)}; lower the "
            f"traffic, the shards or the duration, or pass --max-events", work.events_key)
    if limits.max_memory_bytes is not None and work.memory_bytes > limits.max_memory_bytes:
        raise SpecError(
            f"about {format_bytes(work.memory_bytes)} of memory needed (largest part: "
            f"{work.memory_what}); the limit is {format_bytes(limits.max_memory_bytes)}; make the "
            f"scenario smaller or pass --max-memory", work.memory_key)
    return work


def check_scenario_workload(scenario: Any, limits: Limits | None = None,
                            period_s: float | None = None) -> Workload:
    """:func:`check_workload` for a loaded :class:`~lambdasim.scenario.loader.Scenario`; the
    error names the file and line of the key (or its ``--set`` option).

    Raises
    ------
    ScenarioError
    """
    from lambdasim.scenario.loader import _locate

    try:
        return check_workload(scenario.config, limits, period_s)
    except SpecError as exc:
        raise _locate(exc, scenario.path, scenario._lines, list(scenario._overrides)) from None


def parse_limit(text: str, what: str, *, size: bool = False) -> float | None:
    """A limit from the command line: a number (``1e9``), a size (``16GB``, ``8GiB``) when
    ``size``, or ``none`` for no limit.

    Raises
    ------
    SpecError
        When the text is none of those or is below 1.
    """
    raw = text.strip().lower()
    if raw in ("none", "off", "inf", "unlimited"):
        return None
    factor = 1.0
    if size:
        for suffix, scale in (("gib", 1024.0 ** 3), ("mib", 1024.0 ** 2), ("tib", 1024.0 ** 4),
                              ("gb", 1e9), ("mb", 1e6), ("tb", 1e12), ("kb", 1e3), ("b", 1.0)):
            if raw.endswith(suffix):
                raw, factor = raw[: -len(suffix)].strip(), scale
                break
    try:
        value = float(raw) * factor
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1):
        example = "16GB, 8GiB" if size else "1e9"
        raise SpecError(f"expected a number >= 1 such as {example}, or none; got {text!r}", what)
    return value
