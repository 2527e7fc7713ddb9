"""Arrival processes: when requests reach a trigger.

A trigger's ``arrivals`` is one spec or a list of specs whose arrivals are superposed.
:func:`resolve_arrivals` normalises the user's forms into a list of resolved specs (times in
seconds, rates per second); :func:`arrival_times` turns one resolved spec into blocks of
absolute arrival times.

Resolved specs
--------------
``{"process": "poisson", "rate": [[t, r, kind], ...], "start": s, "end": e | None}``
    Non-homogeneous Poisson process with a piecewise rate. Points are in absolute simulation
    time, the first at ``t = 0``. ``kind`` says how the rate reaches ``r`` at ``t``: ``"step"``
    jumps there, ``"linear"`` ramps from the previous point. After the last point the rate stays
    constant. User forms: ``rate: 300/s``; ``rate: [[0s, 5/s], [20m, 80/s], [40m, 5/s]]``; a
    point may carry a third element ``ramp``; ``interpolation: linear`` makes every point a ramp.
    A first point later than 0 means rate 0 before it.
``{"process": "constant", "rate": r, "start": s, "end": e | None}``
    Deterministic, evenly spaced ``1/r`` apart, the first at ``start``.
``{"process": "burst", "count": n, "at": t, "spread": w, "start": s, "end": e | None}``
    ``n`` arrivals at ``t`` (simultaneous when ``w == 0``, else uniform on ``[t, t + w)``).
``{"process": "diurnal", "mean": m, "amplitude": a, "period": p, "peak": t, "start", "end"}``
    Poisson process with the sinusoidal rate ``m + a cos(2 pi (t - peak) / p)`` (``a <= m``),
    highest at ``peak`` (and every ``period`` after or before it). Generated exactly by thinning
    a Poisson process of rate ``m + a``.
``{"process": "mmpp", "states": [{"rate": r, "mean_sojourn": s}, ...], "transitions": P,
"initial": i | None, "start", "end"}``
    Markov-modulated Poisson process: a continuous-time Markov chain stays in state ``i`` for an
    exponential time of mean ``s_i``, then jumps to ``j`` with probability ``P[i][j]`` (default:
    uniformly to another state); while in state ``i`` arrivals are Poisson with rate ``r_i``.
    ``initial: None`` starts the chain in its stationary distribution. The state path over the
    window is drawn first (:func:`mmpp_path`), then arrivals exactly given the path. Diurnal
    and mmpp live in :mod:`lambdasim.scenario.shapes`.
``{"process": "trace", ...}``
    Replay of a recorded trace (timestamps or counts per interval), read from a file or given
    inline; see :mod:`lambdasim.scenario.traces`.

Every spec generates arrivals only in ``[start, min(end, horizon))``; ``end: None`` means the
horizon.

The Poisson generator is exact and vectorised: unit-rate Poisson points (cumulative sums of
standard exponentials, drawn in blocks) are mapped through the inverse of the cumulative
intensity Lambda(t). With a piecewise linear rate, Lambda is piecewise quadratic and is inverted
per segment with :func:`numpy.searchsorted` and the quadratic formula written in the
cancellation-free form ``x = 2c / (r0 + sqrt(r0^2 + 2 a c))``, which stays accurate when the
slope ``a`` is zero or tiny and when the rate is zero at a segment's start.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from lambdasim.scenario.shapes import (
    _diurnal_mass,
    _diurnal_rate,
    _diurnal_times,
    _mmpp_expected,
    _resolve_diurnal,
    _resolve_mmpp,
    mmpp_path,
    mmpp_stationary,
)
from lambdasim.scenario.traces import TRACE_KEYS, expected_trace_count, resolve_trace, trace_times
from lambdasim.scenario.units import SpecError, parse_duration, parse_number, parse_rate

__all__ = [
    "PROCESSES",
    "resolve_arrivals",
    "resolve_arrival_spec",
    "arrival_times",
    "expected_count",
    "rate_at",
    "mmpp_path",
    "mmpp_stationary",
]

#: Parameters accepted by each arrival process (besides ``process``, ``start`` and ``end``).
PROCESSES: dict[str, tuple[str, ...]] = {
    "poisson": ("rate", "interpolation"),
    "constant": ("rate",),
    "burst": ("count", "at", "spread"),
    "diurnal": ("mean", "amplitude", "period", "peak"),
    "mmpp": ("states", "transitions", "initial"),
    "trace": TRACE_KEYS,
}
_NOT_YET: tuple[str, ...] = ()
_KINDS = {"step": "step", "linear": "linear", "ramp": "linear"}


def _sub(key: str | None, name: str | int) -> str:
    return f"{key}.{name}" if key else str(name)


def resolve_arrivals(spec: Any, key: str | None = None, base_dir: Any = None) -> list[dict]:
    """Normalise a trigger's ``arrivals`` (one spec or a list) into a list of resolved specs.

    Parameters
    ----------
    spec : mapping or list of mappings
        The user's arrival spec(s).
    key : str, optional
        Dotted key of ``arrivals``; list items are ``key.<index>``.
    base_dir : str or Path, optional
        Folder against which a relative trace ``file`` is read (the scenario's folder).

    Returns
    -------
    list of dict
        Resolved specs (see the module docstring); resolving them again returns them unchanged.

    Raises
    ------
    SpecError
        Naming the dotted key of the offending value.
    """
    if isinstance(spec, Mapping):
        return [resolve_arrival_spec(spec, key, base_dir)]
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise SpecError("expected at least one arrival spec; got an empty list", key)
        return [resolve_arrival_spec(item, _sub(key, i), base_dir) for i, item in enumerate(spec)]
    raise SpecError(
        f"expected an arrival spec such as {{process: poisson, rate: 100/s}} or a list of them; "
        f"got {spec!r}",
        key,
    )


def resolve_arrival_spec(spec: Any, key: str | None = None, base_dir: Any = None) -> dict:
    """Normalise one arrival spec; see :func:`resolve_arrivals`."""
    if not isinstance(spec, Mapping):
        raise SpecError(
            f"expected an arrival spec such as {{process: poisson, rate: 100/s}}; got {spec!r}", key
        )
    if "process" not in spec:
        raise SpecError(
            "an arrival spec needs 'process' (one of: " + ", ".join(PROCESSES) + ")",
            _sub(key, "process"),
        )
    process = spec["process"]
    if process in _NOT_YET:
        raise SpecError(
            f"arrival process {process!r} is not supported by this version of lambdasim yet "
            f"(supported: {', '.join(PROCESSES)})",
            _sub(key, "process"),
        )
    if not isinstance(process, str) or process not in PROCESSES:
        close = difflib.get_close_matches(str(process), list(PROCESSES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"unknown arrival process {process!r}{hint} (known: {', '.join(PROCESSES)})",
            _sub(key, "process"),
        )
    allowed = ("process", *PROCESSES[process], "start", "end")
    for name in spec:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(
                f"unknown key {name!r} for a {process} arrival process{hint} "
                f"(accepted: {', '.join(allowed[1:])})",
                _sub(key, str(name)),
            )
    start = parse_duration(spec.get("start", 0.0), _sub(key, "start"))
    end = spec.get("end")
    if end is not None:
        end = parse_duration(end, _sub(key, "end"))
        if not end > start:
            raise SpecError(f"end must be after start ({start:g}s), got {end:g}s", _sub(key, "end"))

    if process == "poisson":
        if "rate" not in spec:
            raise SpecError("missing 'rate' for a poisson arrival process", _sub(key, "rate"))
        rate = _resolve_rate_points(spec["rate"], spec.get("interpolation", "step"), key)
        return {"process": "poisson", "rate": rate, "start": start, "end": end}
    if process == "constant":
        if "rate" not in spec:
            raise SpecError("missing 'rate' for a constant arrival process", _sub(key, "rate"))
        rate = parse_rate(spec["rate"], _sub(key, "rate"))
        if not rate > 0:
            raise SpecError("a constant arrival rate must be > 0", _sub(key, "rate"))
        return {"process": "constant", "rate": rate, "start": start, "end": end}
    if process == "diurnal":
        return {**_resolve_diurnal(spec, key), "start": start, "end": end}
    if process == "mmpp":
        return {**_resolve_mmpp(spec, key), "start": start, "end": end}
    if process == "trace":
        return {"process": "trace", **resolve_trace(spec, key, base_dir), "start": start, "end": end}
    # burst
    if "count" not in spec:
        raise SpecError("missing 'count' for a burst", _sub(key, "count"))
    count = parse_number(spec["count"], _sub(key, "count"), "a whole number of arrivals")
    if count != int(count) or count < 0:
        raise SpecError(
            f"count must be a whole number >= 0, got {spec['count']!r}", _sub(key, "count")
        )
    at = parse_duration(spec.get("at", 0.0), _sub(key, "at"))
    spread = parse_duration(spec.get("spread", 0.0), _sub(key, "spread"))
    return {
        "process": "burst",
        "count": int(count),
        "at": at,
        "spread": spread,
        "start": start,
        "end": end,
    }


def _resolve_rate_points(raw: Any, interpolation: Any, key: str | None) -> list[list]:
    rkey = _sub(key, "rate")
    if interpolation not in ("step", "linear"):
        raise SpecError(
            f"interpolation must be 'step' or 'linear', got {interpolation!r}",
            _sub(key, "interpolation"),
        )
    if not isinstance(raw, (list, tuple)):
        return [[0.0, parse_rate(raw, rkey), "step"]]
    if not raw:
        raise SpecError("expected a rate or a list of [time, rate] points; got []", rkey)
    points: list[list] = []
    for i, point in enumerate(raw):
        pkey = _sub(rkey, i)
        if not isinstance(point, (list, tuple)) or len(point) not in (2, 3):
            raise SpecError(
                f"expected a point [time, rate] or [time, rate, ramp]; got {point!r}", pkey
            )
        t = parse_duration(point[0], _sub(pkey, 0))
        r = parse_rate(point[1], _sub(pkey, 1))
        kind = interpolation
        if len(point) == 3:
            kind = _KINDS.get(point[2]) if isinstance(point[2], str) else None
            if kind is None:
                raise SpecError(
                    f"the third element of a rate point must be 'ramp', 'linear' or 'step'; "
                    f"got {point[2]!r}",
                    _sub(pkey, 2),
                )
        if points and not t > points[-1][0]:
            raise SpecError(
                f"rate points must be in increasing time order; {t:g}s follows {points[-1][0]:g}s",
                _sub(pkey, 0),
            )
        points.append([t, r, kind])
    if points[0][0] > 0:
        points.insert(0, [0.0, 0.0, "step"])  # no traffic before the first point
    points[0][2] = "step"  # nothing precedes t = 0, so its kind is irrelevant: canonical "step"
    return points


# --------------------------------------------------------------------------------------
# Piecewise linear intensity
# --------------------------------------------------------------------------------------
def _segments(points: Sequence[Sequence], t0: float, t1: float) -> tuple[np.ndarray, ...]:
    """Linear pieces of the rate restricted to [t0, t1): (start, end, rate at start, slope)."""
    starts, ends, r0s, slopes = [], [], [], []
    for i, (t, r, _kind) in enumerate(points):
        nxt = points[i + 1] if i + 1 < len(points) else None
        seg_end = float(nxt[0]) if nxt is not None else math.inf
        if nxt is not None and nxt[2] == "linear":
            slope = (float(nxt[1]) - float(r)) / (seg_end - float(t))
        else:
            slope = 0.0
        a, b = max(float(t), t0), min(seg_end, t1)
        if b <= a:
            continue
        starts.append(a)
        ends.append(b)
        r0s.append(float(r) + slope * (a - float(t)))
        slopes.append(slope)
    return (np.array(starts), np.array(ends), np.maximum(np.array(r0s), 0.0), np.array(slopes))


def _masses(starts: np.ndarray, ends: np.ndarray, r0: np.ndarray, slope: np.ndarray) -> np.ndarray:
    dt = ends - starts
    with np.errstate(invalid="ignore"):
        mass = r0 * dt + 0.5 * slope * dt * dt
    with np.errstate(invalid="ignore"):
        flat = np.where(r0 == 0.0, 0.0, r0 * dt)  # 0 * inf on an open, zero-rate last segment
    mass = np.where(slope == 0.0, flat, mass)
    return np.maximum(mass, 0.0)


def rate_at(spec: Mapping[str, Any], t: float) -> float:
    """Instantaneous rate of a resolved poisson, constant or diurnal spec at time ``t`` (0 outside
    its window)."""
    end = spec["end"] if spec["end"] is not None else math.inf
    if not spec["start"] <= t < end:
        return 0.0
    if spec["process"] == "constant":
        return float(spec["rate"])
    if spec["process"] == "diurnal":
        return float(_diurnal_rate(spec, t))
    if spec["process"] != "poisson":
        raise ValueError("rate_at is defined for poisson, constant and diurnal processes")
    _, _, r0, _ = _segments(spec["rate"], t, math.inf)
    return float(r0[0]) if len(r0) else 0.0


def expected_count(spec: Mapping[str, Any] | Sequence[Mapping[str, Any]], t0: float, t1: float) -> float:
    """Expected number of arrivals in ``[t0, t1)`` (the integral of the rate).

    Parameters
    ----------
    spec : mapping or list of mappings
        Resolved spec(s); a list is summed.
    t0, t1 : float
        Interval in seconds.

    Returns
    -------
    float
        For a constant process, the exact number of its points in the interval; for a burst,
        ``count`` times the fraction of its spread inside the interval; for an mmpp, the mean
        over state paths (stationary or from its ``initial`` state); for a trace, the number of
        recorded arrivals in the interval (times ``rate_scale``).
    """
    if not isinstance(spec, Mapping):
        return float(sum(expected_count(s, t0, t1) for s in spec))
    end = spec["end"] if spec["end"] is not None else math.inf
    a, b = max(t0, spec["start"]), min(t1, end)
    if b <= a:
        return 0.0
    process = spec["process"]
    if process == "poisson":
        return float(_masses(*_segments(spec["rate"], a, b)).sum())
    if process == "constant":
        rate, start = spec["rate"], spec["start"]
        # points start + k/rate for k >= 0 within [a, b)
        k_lo = max(0, math.ceil((a - start) * rate - 1e-9))
        k_hi = math.ceil((b - start) * rate - 1e-9)
        return float(max(0, k_hi - k_lo))
    if process == "burst":
        at, spread, count = spec["at"], spec["spread"], spec["count"]
        if spread == 0:
            return float(count) if a <= at < b else 0.0
        overlap = max(0.0, min(b, at + spread) - max(a, at))
        return count * overlap / spread
    if process == "diurnal":
        return _diurnal_mass(spec, a, b)
    if process == "mmpp":
        return _mmpp_expected(spec, a, b)
    if process == "trace":
        return expected_trace_count(spec, a, b)
    raise ValueError(f"unknown arrival process {process!r}")


# --------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------
def arrival_times(
    spec: Mapping[str, Any], rng: np.random.Generator, horizon: float, block: int = 4096
) -> Iterator[np.ndarray]:
    """Generate absolute arrival times of one resolved spec, in sorted blocks.

    Parameters
    ----------
    spec : mapping
        A resolved arrival spec (one item of :func:`resolve_arrivals`' list).
    rng : numpy.random.Generator
        The arrival stream of this trigger.
    horizon : float
        Simulated horizon in seconds; no arrival at or after it.
    block : int
        Number of random draws per block (blocks may come out shorter after filtering).

    Yields
    ------
    numpy.ndarray
        float64 arrays, sorted within and across blocks, all in
        ``[start, min(end, horizon))``. Empty arrays are never yielded.
    """
    end = spec["end"] if spec["end"] is not None else math.inf
    t0, t1 = float(spec["start"]), min(float(end), float(horizon))
    if not t1 > t0:
        return
    process = spec["process"]
    if process == "poisson":
        yield from _poisson_times(spec["rate"], t0, t1, rng, block)
    elif process == "constant":
        yield from _constant_times(float(spec["rate"]), t0, t1, block)
    elif process == "burst":
        yield from _burst_times(spec, t0, t1, rng, block)
    elif process == "diurnal":
        yield from _diurnal_times(spec, t0, t1, rng, block)
    elif process == "mmpp":
        yield from _poisson_times(mmpp_path(spec, rng, t0, t1), t0, t1, rng, block)
    elif process == "trace":
        yield from trace_times(spec, t0, t1, rng, block)
    else:
        raise ValueError(f"unknown arrival process {process!r}")


def _poisson_times(
    points: Sequence[Sequence], t0: float, t1: float, rng: np.random.Generator, block: int
) -> Iterator[np.ndarray]:
    starts, ends, r0, slope = _segments(points, t0, t1)
    if starts.size == 0:
        return
    rate = _flat_rate(starts, r0, slope)
    flat = rate is not None
    if flat:  # its mass, as _masses and the running sum give it, without their NumPy calls
        total = rate * (float(ends[0]) - float(starts[0]))
    else:
        mass = _masses(starts, ends, r0, slope)
        cum_end = np.cumsum(mass)
        cum_start = cum_end - mass
        total = float(cum_end[-1])
    if not total > 0:
        return
    last_u = 0.0
    last_t = t0
    while True:
        u = _unit_sums(rng, block, last_u, total)
        last_u = float(u[-1])
        done = last_u >= total
        if done:
            u = u[u < total]
        if u.size:
            if flat:
                t = np.minimum(starts[0] + u / rate, ends[0])
            else:
                k = np.searchsorted(cum_end, u, side="right")
                k = np.minimum(k, cum_end.size - 1)  # rounding guard at the very end
                c = np.maximum(u - cum_start[k], 0.0)
                rk, ak = r0[k], slope[k]
                disc = np.maximum(rk * rk + 2.0 * ak * c, 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = 2.0 * c / (rk + np.sqrt(disc))
                x = np.where(np.isfinite(x), x, 0.0)
                t = np.minimum(starts[k] + x, ends[k])
            t = np.maximum.accumulate(np.maximum(t, last_t))
            t = t[t < t1]
            if t.size:
                last_t = float(t[-1])
                yield t
        if done:
            return


def _unit_sums(rng: np.random.Generator, block: int, last_u: float, total: float) -> np.ndarray:
    """``last_u + np.cumsum(rng.standard_exponential(block))``, or the part of it that
    reaches ``total`` when that comes well before the block's end.

    Once the running sum reaches ``total`` (the rate's mass) the spec is done and the rest
    of the block is discarded, so a quiet spec (a thousand functions' arrivals) first draws
    only what it is likely to need. The values are the same floats either way: the
    generator draws ``a + b`` values as ``a`` then ``b``, and the block's running sum goes
    on from the part's last sum in the same order.
    """
    remaining = total - last_u
    likely = int(remaining + 4.0 * math.sqrt(max(remaining, 0.0))) + 16
    if likely >= block:
        return last_u + np.cumsum(rng.standard_exponential(block))
    head = np.cumsum(rng.standard_exponential(likely))
    if last_u + float(head[-1]) >= total:  # the test the caller makes of the block's last
        return last_u + head
    rest = np.empty(block - likely + 1)
    rest[0] = head[-1]
    rng.standard_exponential(out=rest[1:])
    return last_u + np.concatenate([head, np.cumsum(rest)[1:]])


def _flat_rate(starts: np.ndarray, r0: np.ndarray, slope: np.ndarray) -> float | None:
    """The rate of one flat segment, for which :func:`_poisson_times`' inversion reduces to
    ``start + u / rate`` exactly: ``cum_start`` is 0, ``sqrt(rate * rate) == rate`` when the
    square neither overflows nor underflows (checked), and ``2u / 2rate == u / rate``. None
    for any other rate profile (the general inversion)."""
    if starts.size != 1 or slope[0] != 0.0:
        return None
    rate = float(r0[0])
    return rate if rate > 0.0 and math.sqrt(rate * rate) == rate else None


def _constant_times(rate: float, t0: float, t1: float, block: int) -> Iterator[np.ndarray]:
    i = 0
    while True:
        # start + k / rate (not a running sum) keeps the spacing exact over long horizons
        t = t0 + np.arange(i, i + block, dtype=np.float64) / rate
        i += block
        inside = t[t < t1]
        if inside.size:
            yield inside
        if inside.size < t.size:
            return


def _burst_times(
    spec: Mapping[str, Any], t0: float, t1: float, rng: np.random.Generator, block: int
) -> Iterator[np.ndarray]:
    count, at, spread = int(spec["count"]), float(spec["at"]), float(spec["spread"])
    if spread > 0:
        t = np.sort(at + spread * rng.random(count))
    else:
        t = np.full(count, at, dtype=np.float64)
    t = t[(t >= t0) & (t < t1)]
    for i in range(0, t.size, block):
        yield t[i : i + block]
