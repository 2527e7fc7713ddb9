"""Traffic shapes: the diurnal cycle and the Markov-modulated Poisson process.

Both are arrival processes of :mod:`lambdasim.scenario.arrivals` (which resolves and dispatches them);
this module holds their resolution, expected counts and generators.

``diurnal``
    A Poisson process with the sinusoidal rate ``mean + amplitude cos(2 pi (t - peak) / period)``
    (``amplitude <= mean``, so the rate never goes below 0). Its cumulative intensity has a closed
    form; arrivals are generated exactly by thinning (Lewis and Shedler 1979): candidates at the
    peak rate ``mean + amplitude``, each kept with probability ``rate(t) / peak rate``, in
    vectorised blocks. At least half the candidates are kept.
``mmpp``
    A Markov-modulated Poisson process, the usual model of bursty traffic: a continuous-time
    Markov chain with states ``i`` (exponential sojourns of mean ``s_i``, then a jump to ``j``
    with probability ``P[i][j]``) modulates a Poisson process whose rate is ``r_i`` while in
    state ``i``. The chain starts in its stationary distribution unless ``initial`` names a
    state. The generator draws the state path over the window first (:func:`mmpp_path`), then
    the Poisson process given that path, exactly, with the piecewise-constant machinery of
    :mod:`lambdasim.scenario.arrivals`. Expected counts: stationary mean rate times the length, or from
    ``initial`` the transient mean ``p0 (integral of exp(Q u) du) r`` computed with a matrix
    exponential of the augmented generator.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Mapping

import numpy as np

from lambdasim.scenario.units import SpecError, parse_duration, parse_number, parse_rate

__all__ = ["mmpp_stationary", "mmpp_path"]


def _sub(key: str | None, name: str | int) -> str:
    return f"{key}.{name}" if key else str(name)


def _resolve_diurnal(spec: Mapping[str, Any], key: str | None) -> dict:
    for name in ("mean", "amplitude"):
        if name not in spec:
            raise SpecError(f"missing {name!r} for a diurnal arrival process", _sub(key, name))
    mean = parse_rate(spec["mean"], _sub(key, "mean"))
    amplitude = parse_rate(spec["amplitude"], _sub(key, "amplitude"))
    if amplitude > mean:
        raise SpecError(
            f"must not exceed mean ({mean:g}/s) so that the rate never goes below 0, "
            f"got {amplitude:g}/s",
            _sub(key, "amplitude"),
        )
    period = parse_duration(spec.get("period", "1d"), _sub(key, "period"))
    if not period > 0:
        raise SpecError("period must be longer than 0s", _sub(key, "period"))
    peak = parse_duration(spec.get("peak", 0.0), _sub(key, "peak"))
    return {"process": "diurnal", "mean": mean, "amplitude": amplitude, "period": period, "peak": peak}


def _resolve_mmpp(spec: Mapping[str, Any], key: str | None) -> dict:
    skey = _sub(key, "states")
    raw = spec.get("states")
    if not isinstance(raw, (list, tuple)) or len(raw) < 2:
        raise SpecError(
            "expected a list of at least two states such as "
            "[{rate: 5/s, mean_sojourn: 10m}, {rate: 200/s, mean_sojourn: 30s}]; got "
            f"{raw!r}",
            skey,
        )
    states = []
    for i, state in enumerate(raw):
        ikey = _sub(skey, i)
        if not isinstance(state, Mapping) or set(state) != {"rate", "mean_sojourn"}:
            raise SpecError(f"expected {{rate: RATE, mean_sojourn: TIME}}; got {state!r}", ikey)
        rate = parse_rate(state["rate"], _sub(ikey, "rate"))
        sojourn = parse_duration(state["mean_sojourn"], _sub(ikey, "mean_sojourn"))
        if not sojourn > 0:
            raise SpecError("mean_sojourn must be longer than 0s", _sub(ikey, "mean_sojourn"))
        states.append({"rate": rate, "mean_sojourn": sojourn})
    n = len(states)
    tkey = _sub(key, "transitions")
    raw_p = spec.get("transitions")
    if raw_p is None:
        matrix = [[0.0 if i == j else 1.0 / (n - 1) for j in range(n)] for i in range(n)]
    else:
        if not isinstance(raw_p, (list, tuple)) or len(raw_p) != n:
            raise SpecError(f"expected a {n}x{n} matrix of jump probabilities; got {raw_p!r}", tkey)
        matrix = []
        for i, row in enumerate(raw_p):
            rkey = _sub(tkey, i)
            if not isinstance(row, (list, tuple)) or len(row) != n:
                raise SpecError(f"expected a row of {n} probabilities; got {row!r}", rkey)
            values = [parse_number(v, _sub(rkey, j), "a probability") for j, v in enumerate(row)]
            if any(v < 0 for v in values) or values[i] != 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
                raise SpecError(
                    f"a row must hold probabilities >= 0 summing to 1 with 0 on the diagonal "
                    f"(the chain leaves its state); got {row!r}",
                    rkey,
                )
            matrix.append([v / sum(values) for v in values])
    initial = spec.get("initial")
    if initial is not None:
        if isinstance(initial, bool) or not isinstance(initial, int) or not 0 <= initial < n:
            raise SpecError(
                f"expected the index of a state (0 to {n - 1}) or null for the stationary "
                f"distribution; got {initial!r}",
                _sub(key, "initial"),
            )
    return {"process": "mmpp", "states": states, "transitions": matrix, "initial": initial}


def mmpp_stationary(spec: Mapping[str, Any]) -> np.ndarray:
    """Stationary distribution (share of time in each state) of a resolved mmpp spec.

    The embedded jump chain's stationary vector ``nu`` (``nu P = nu``) weighted by the mean
    sojourn times, normalised.
    """
    p = np.array(spec["transitions"], dtype=float)
    n = p.shape[0]
    a = np.vstack([p.T - np.eye(n), np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    nu = np.linalg.lstsq(a, b, rcond=None)[0]
    pi = np.maximum(nu, 0.0) * np.array([s["mean_sojourn"] for s in spec["states"]])
    return pi / pi.sum()


def _mmpp_generator(spec: Mapping[str, Any]) -> np.ndarray:
    """Infinitesimal generator Q of the modulating chain."""
    p = np.array(spec["transitions"], dtype=float)
    leave = 1.0 / np.array([s["mean_sojourn"] for s in spec["states"]])
    q = p * leave[:, None]
    np.fill_diagonal(q, -leave)
    return q


def mmpp_path(
    spec: Mapping[str, Any], rng: np.random.Generator, t0: float, t1: float, block: int = 1024
) -> list[list]:
    """Draw the state path of an mmpp over ``[t0, t1)`` as step rate points.

    Parameters
    ----------
    spec : mapping
        A resolved mmpp spec.
    rng : numpy.random.Generator
        The arrival stream; the path consumes its first draws (so a test can replay it).
    t0, t1 : float
        Window in seconds.
    block : int
        Draws per block.

    Returns
    -------
    list of [time, rate, "step"]
        Rate points, the first at ``t0``; the rate of the state entered at each time.
    """
    states = spec["states"]
    rates = [s["rate"] for s in states]
    sojourns = [s["mean_sojourn"] for s in states]
    cum = np.cumsum(np.array(spec["transitions"], dtype=float), axis=1)
    uniforms = rng.random(block)
    exps = rng.standard_exponential(block)
    ui = ei = 0
    if spec["initial"] is None:
        state = int(min(np.searchsorted(np.cumsum(mmpp_stationary(spec)), uniforms[0], side="right"),
                        len(states) - 1))
        ui = 1
    else:
        state = int(spec["initial"])
    t = t0
    points = []
    while t < t1:
        points.append([t, rates[state], "step"])
        if ei == block:
            exps, ei = rng.standard_exponential(block), 0
        t += sojourns[state] * float(exps[ei])
        ei += 1
        if ui == block:
            uniforms, ui = rng.random(block), 0
        row = cum[state]
        state = int(min(np.searchsorted(row, uniforms[ui], side="right"), len(states) - 1))
        ui += 1
    return points


def _mmpp_expected(spec: Mapping[str, Any], a: float, b: float) -> float:
    """Expected arrivals in [a, b) for an mmpp started at spec["start"]."""
    rates = np.array([s["rate"] for s in spec["states"]])
    if spec["initial"] is None:
        return float(mmpp_stationary(spec) @ rates) * (b - a)
    from scipy.linalg import expm

    q = _mmpp_generator(spec)
    n = q.shape[0]
    p0 = np.zeros(n)
    p0[spec["initial"]] = 1.0

    def integral(t: float) -> np.ndarray:  # int_0^t exp(Q u) du, from an augmented exponential
        big = np.zeros((2 * n, 2 * n))
        big[:n, :n] = q * t
        big[:n, n:] = np.eye(n) * t
        return expm(big)[:n, n:]

    s = spec["start"]
    return float(p0 @ (integral(b - s) - integral(a - s)) @ rates)


def _diurnal_rate(spec: Mapping[str, Any], t: np.ndarray | float) -> Any:
    return spec["mean"] + spec["amplitude"] * np.cos(2.0 * math.pi * (t - spec["peak"]) / spec["period"])


def _diurnal_mass(spec: Mapping[str, Any], a: float, b: float) -> float:
    w = 2.0 * math.pi / spec["period"]
    swing = spec["amplitude"] / w * (math.sin(w * (b - spec["peak"])) - math.sin(w * (a - spec["peak"])))
    return spec["mean"] * (b - a) + swing


def _diurnal_times(
    spec: Mapping[str, Any], t0: float, t1: float, rng: np.random.Generator, block: int
) -> Iterator[np.ndarray]:
    # Thinning (Lewis and Shedler 1979): candidates at the peak rate, each kept with probability
    # rate(t) / peak rate. Exact; at least half the candidates are kept since amplitude <= mean.
    top = spec["mean"] + spec["amplitude"]
    if not top > 0:
        return
    t = t0
    while True:
        cand = t + np.cumsum(rng.standard_exponential(block)) / top
        keep = rng.random(block) * top < _diurnal_rate(spec, cand)
        t = float(cand[-1])
        out = cand[keep & (cand < t1)]
        if out.size:
            yield out
        if t >= t1:
            return
