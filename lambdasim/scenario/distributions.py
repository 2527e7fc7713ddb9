"""Probability distributions of times, from a whitelisted registry.

A scenario describes every random time (handler duration, Init duration, keep-alive, lifetime)
as ``{dist: NAME, ...parameters}`` or as a bare time, which means a constant. Names are looked
up in :data:`REGISTRY`; nothing from a file is ever evaluated as code.

Two steps, as in Ciw and desmod:

1. :func:`parse_distribution` turns the user's spec into a *resolved* dict: a canonical
   parameterisation with every time in seconds as a float (``{"dist": "lognormal", "mu": ..,
   "sigma": ..}``). Resolving a resolved dict returns it unchanged, so a result's stored
   config reproduces the run.
2. :func:`make_distribution` builds a :class:`Distribution` from a resolved dict. It draws
   vectorised blocks of float64 seconds with a caller-supplied :class:`numpy.random.Generator`
   (the model draws 4096 at a time and calls ``.tolist()``) and knows its mean, variance and
   quantiles, analytically where a closed form exists.

Invariant: every distribution here is of a time, so samples are never negative (the normal is
truncated at zero, the others have non-negative support).
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np

from lambdasim.scenario.reading import InputLimitError, read_text
from lambdasim.scenario.units import SpecError, parse_duration, parse_number

__all__ = [
    "Z_99",
    "Distribution",
    "Constant",
    "Exponential",
    "Uniform",
    "TruncatedNormal",
    "LogNormal",
    "Gamma",
    "Weibull",
    "Empirical",
    "REGISTRY",
    "parse_distribution",
    "make_distribution",
    "lognormal_from_median_p99",
]

#: Standard normal 0.99 quantile, used to convert a (median, p99) pair to a lognormal sigma.
Z_99 = 2.3263478740408408


def _sub(key: str | None, name: str) -> str:
    return f"{key}.{name}" if key else name


def _positive(value: float, key: str, what: str = "value") -> float:
    if not value > 0:
        raise SpecError(f"{what} must be > 0, got {value:g}", key)
    return value


class Distribution:
    """Base class: a distribution of non-negative times in seconds.

    Subclasses declare ``name``, the accepted input parameter sets ``forms`` (tuples of names;
    the first is the canonical resolved form) and which parameters are ``times`` (unit strings
    allowed), and implement :meth:`resolve`, :meth:`sample`, :meth:`mean`, :meth:`var` and
    :meth:`quantile`.
    """

    name: ClassVar[str] = ""
    forms: ClassVar[tuple[tuple[str, ...], ...]] = ()
    times: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, resolved: Mapping[str, Any]) -> None:
        self.params = {k: v for k, v in resolved.items() if k != "dist"}

    # --- construction from user specs -------------------------------------------------
    @classmethod
    def parameters(cls) -> list[str]:
        """All parameter names accepted in any input form, in declaration order."""
        seen: list[str] = []
        for form in cls.forms:
            seen.extend(p for p in form if p not in seen)
        return seen

    @classmethod
    def _read(cls, spec: Mapping[str, Any], key: str | None) -> tuple[tuple[str, ...], dict]:
        """Check parameter names, pick the input form, and parse its values."""
        allowed = cls.parameters()
        for param in spec:
            if param == "dist":
                continue
            if param not in allowed:
                close = difflib.get_close_matches(str(param), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SpecError(
                    f"unknown parameter {param!r} for a {cls.name} distribution{hint} "
                    f"(accepted: {cls._forms_text()})",
                    _sub(key, str(param)),
                )
        given = {p for p in spec if p != "dist"}
        for form in cls.forms:
            if given == set(form):
                break
        else:
            complete = [f for f in cls.forms if set(f) <= given]
            if complete:  # e.g. median + p99 + sigma: over-specified
                extra = sorted(given - set(complete[0]))
                raise SpecError(
                    f"parameter {extra[0]!r} cannot be combined with "
                    f"{' + '.join(complete[0])} for a {cls.name} distribution",
                    _sub(key, extra[0]),
                )
            best = max(cls.forms, key=lambda f: len(set(f) & given))
            missing = [p for p in best if p not in given]
            raise SpecError(
                f"missing parameter {missing[0]!r} for a {cls.name} distribution "
                f"(give {cls._forms_text()})",
                _sub(key, missing[0]),
            )
        values = {}
        for param in form:
            if param in cls.times:
                values[param] = parse_duration(spec[param], _sub(key, param))
            else:
                values[param] = parse_number(spec[param], _sub(key, param))
        return form, values

    @classmethod
    def _forms_text(cls) -> str:
        return " or ".join("+".join(f) for f in cls.forms)

    @classmethod
    def resolve(
        cls, spec: Mapping[str, Any], key: str | None, base_dir: Path | None = None
    ) -> dict:
        """Turn a user spec into the canonical resolved dict (default: the single form)."""
        _, values = cls._read(spec, key)
        cls._check(values, key)
        return {"dist": cls.name, **values}

    @classmethod
    def _check(cls, values: dict, key: str | None) -> None:
        """Range checks on resolved values; overridden per distribution."""

    # --- behaviour ----------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent times (float64 seconds, never negative)."""
        raise NotImplementedError

    def mean(self) -> float:
        """Expected value in seconds."""
        raise NotImplementedError

    def var(self) -> float:
        """Variance in seconds squared."""
        raise NotImplementedError

    def std(self) -> float:
        """Standard deviation in seconds."""
        return math.sqrt(self.var())

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0 <= q <= 1) in seconds."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The resolved spec this distribution was built from."""
        return {"dist": self.name, **self.params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "values")
        return f"{type(self).__name__}({args})"


def _check_q(q: float) -> float:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level must be in [0, 1], got {q}")
    return float(q)


class Constant(Distribution):
    """Always the same time ``value``."""

    name = "constant"
    forms = (("value",),)
    times = frozenset({"value"})

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.params["value"], dtype=np.float64)

    def mean(self) -> float:
        return float(self.params["value"])

    def var(self) -> float:
        return 0.0

    def quantile(self, q: float) -> float:
        _check_q(q)
        return float(self.params["value"])


class Exponential(Distribution):
    """Exponential with the given ``mean``."""

    name = "exponential"
    forms = (("mean",),)
    times = frozenset({"mean"})

    @classmethod
    def _check(cls, values: dict, key: str | None) -> None:
        _positive(values["mean"], _sub(key, "mean"), "mean")

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.params["mean"], size)

    def mean(self) -> float:
        return float(self.params["mean"])

    def var(self) -> float:
        return float(self.params["mean"]) ** 2

    def quantile(self, q: float) -> float:
        return float(-self.params["mean"] * math.log1p(-_check_q(q)))


class Uniform(Distribution):
    """Uniform on ``[low, high]``."""

    name = "uniform"
    forms = (("low", "high"),)
    times = frozenset({"low", "high"})

    @classmethod
    def _check(cls, values: dict, key: str | None) -> None:
        if values["high"] < values["low"]:
            raise SpecError(
                f"high must be >= low, got low={values['low']:g}s, high={values['high']:g}s",
                _sub(key, "high"),
            )

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.params["low"], self.params["high"], size)

    def mean(self) -> float:
        return 0.5 * (self.params["low"] + self.params["high"])

    def var(self) -> float:
        return (self.params["high"] - self.params["low"]) ** 2 / 12.0

    def quantile(self, q: float) -> float:
        low, high = self.params["low"], self.params["high"]
        return float(low + _check_q(q) * (high - low))


class TruncatedNormal(Distribution):
    """Normal with location ``mean`` and scale ``sd``, truncated to [0, inf).

    ``mean`` and ``sd`` are the parameters of the parent normal; the truncated distribution's
    own mean is slightly larger when ``mean`` is within a few ``sd`` of zero.
    """

    name = "normal"
    forms = (("mean", "sd"),)
    times = frozenset({"mean", "sd"})

    def __init__(self, resolved: Mapping[str, Any]) -> None:
        super().__init__(resolved)
        from scipy import stats  # here, not at import: validating a scenario needs no SciPy

        mu, sd = self.params["mean"], self.params["sd"]
        self._frozen = stats.truncnorm((0.0 - mu) / sd, np.inf, loc=mu, scale=sd)

    @classmethod
    def _check(cls, values: dict, key: str | None) -> None:
        _positive(values["sd"], _sub(key, "sd"), "sd")

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        out = np.asarray(self._frozen.rvs(size=size, random_state=rng), dtype=np.float64)
        return np.maximum(out, 0.0)  # guard against -0.0 / rounding at the boundary

    def mean(self) -> float:
        return float(self._frozen.mean())

    def var(self) -> float:
        return float(self._frozen.var())

    def quantile(self, q: float) -> float:
        return float(self._frozen.ppf(_check_q(q)))


def lognormal_from_median_p99(median_s: float, p99_s: float) -> tuple[float, float]:
    """Return ``(mu, sigma)`` of ln(seconds) for a lognormal with the given median and p99.

    Parameters
    ----------
    median_s, p99_s : float
        Median and 99th percentile in seconds, ``0 < median_s < p99_s``.

    Returns
    -------
    tuple of float
        ``mu = ln(median)``, ``sigma = ln(p99 / median) / z_0.99``.
    """
    return math.log(median_s), math.log(p99_s / median_s) / Z_99


class LogNormal(Distribution):
    """Lognormal: ln(seconds) is normal with mean ``mu`` and sd ``sigma``.

    Input as ``median`` + ``p99`` (how latency is usually reported), ``mu`` + ``sigma``, or
    ``mean`` + ``sd`` of the times themselves; always resolved to ``mu`` + ``sigma``.
    """

    name = "lognormal"
    forms = (("mu", "sigma"), ("median", "p99"), ("mean", "sd"))
    times = frozenset({"median", "p99", "mean", "sd"})

    @classmethod
    def resolve(
        cls, spec: Mapping[str, Any], key: str | None, base_dir: Path | None = None
    ) -> dict:
        form, v = cls._read(spec, key)
        if form == ("median", "p99"):
            _positive(v["median"], _sub(key, "median"), "median")
            if not v["p99"] > v["median"]:
                raise SpecError(
                    f"p99 must be greater than median, got median={v['median']:g}s, "
                    f"p99={v['p99']:g}s",
                    _sub(key, "p99"),
                )
            mu, sigma = lognormal_from_median_p99(v["median"], v["p99"])
        elif form == ("mean", "sd"):
            _positive(v["mean"], _sub(key, "mean"), "mean")
            _positive(v["sd"], _sub(key, "sd"), "sd")
            sigma2 = math.log1p((v["sd"] / v["mean"]) ** 2)
            mu, sigma = math.log(v["mean"]) - 0.5 * sigma2, math.sqrt(sigma2)
        else:
            mu, sigma = v["mu"], v["sigma"]
            _positive(sigma, _sub(key, "sigma"), "sigma")
        return {"dist": cls.name, "mu": float(mu), "sigma": float(sigma)}

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(self.params["mu"], self.params["sigma"], size)

    def mean(self) -> float:
        return math.exp(self.params["mu"] + 0.5 * self.params["sigma"] ** 2)

    def var(self) -> float:
        s2 = self.params["sigma"] ** 2
        return math.expm1(s2) * math.exp(2 * self.params["mu"] + s2)

    def quantile(self, q: float) -> float:
        from scipy import special

        return float(math.exp(self.params["mu"] + self.params["sigma"] * special.ndtri(_check_q(q))))


class Gamma(Distribution):
    """Gamma with ``shape`` k and ``scale`` theta (seconds); or input as ``mean`` + ``sd``."""

    name = "gamma"
    forms = (("shape", "scale"), ("mean", "sd"))
    times = frozenset({"scale", "mean", "sd"})

    @classmethod
    def resolve(
        cls, spec: Mapping[str, Any], key: str | None, base_dir: Path | None = None
    ) -> dict:
        form, v = cls._read(spec, key)
        if form == ("mean", "sd"):
            _positive(v["mean"], _sub(key, "mean"), "mean")
            _positive(v["sd"], _sub(key, "sd"), "sd")
            shape, scale = (v["mean"] / v["sd"]) ** 2, v["sd"] ** 2 / v["mean"]
        else:
            shape = _positive(v["shape"], _sub(key, "shape"), "shape")
            scale = _positive(v["scale"], _sub(key, "scale"), "scale")
        return {"dist": cls.name, "shape": float(shape), "scale": float(scale)}

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.params["shape"], self.params["scale"], size)

    def mean(self) -> float:
        return self.params["shape"] * self.params["scale"]

    def var(self) -> float:
        return self.params["shape"] * self.params["scale"] ** 2

    def quantile(self, q: float) -> float:
        from scipy import stats

        return float(stats.gamma.ppf(_check_q(q), self.params["shape"], scale=self.params["scale"]))


class Weibull(Distribution):
    """Weibull with ``shape`` k and ``scale`` lambda (seconds)."""

    name = "weibull"
    forms = (("shape", "scale"),)
    times = frozenset({"scale"})

    @classmethod
    def _check(cls, values: dict, key: str | None) -> None:
        _positive(values["shape"], _sub(key, "shape"), "shape")
        _positive(values["scale"], _sub(key, "scale"), "scale")

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.params["scale"] * rng.weibull(self.params["shape"], size)

    def mean(self) -> float:
        return self.params["scale"] * math.gamma(1.0 + 1.0 / self.params["shape"])

    def var(self) -> float:
        k, lam = self.params["shape"], self.params["scale"]
        return lam**2 * (math.gamma(1.0 + 2.0 / k) - math.gamma(1.0 + 1.0 / k) ** 2)

    def quantile(self, q: float) -> float:
        k, lam = self.params["shape"], self.params["scale"]
        return float(lam * (-math.log1p(-_check_q(q))) ** (1.0 / k))


class Empirical(Distribution):
    """Draw uniformly from observed ``values`` (inline, or a ``file`` with one per line).

    A file holds one time per line (unit strings allowed); blank lines and ``#`` comments are
    ignored; a relative path is taken from the scenario file's folder. Always resolved to the
    sorted list of values, so the stored config does not depend on the file any more.
    """

    name = "empirical"
    forms = (("values",), ("file",))
    times = frozenset()

    def __init__(self, resolved: Mapping[str, Any]) -> None:
        super().__init__(resolved)
        self._values = np.asarray(self.params["values"], dtype=np.float64)

    @classmethod
    def resolve(
        cls, spec: Mapping[str, Any], key: str | None, base_dir: Path | None = None
    ) -> dict:
        form, _ = cls._read_raw(spec, key)
        if form == ("file",):
            raw_file = spec["file"]
            fkey = _sub(key, "file")
            if not isinstance(raw_file, str) or not raw_file.strip():
                raise SpecError(f"expected a file path; got {raw_file!r}", fkey)
            path = Path(raw_file)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            try:
                lines = read_text(path, what="the file").splitlines()  # bounded in size
            except (OSError, UnicodeDecodeError, InputLimitError) as exc:
                reason = getattr(exc, "strerror", None) or getattr(exc, "message", None) or exc
                raise SpecError(f"cannot read {str(path)!r}: {reason}", fkey) from None
            values = []
            for number, line in enumerate(lines, start=1):
                text = line.split("#", 1)[0].strip()
                if text:
                    try:
                        values.append(parse_duration(text))
                    except SpecError as exc:
                        raise SpecError(f"{path}, line {number}: {exc.message}", fkey) from None
            vkey = fkey
        else:
            raw_values = spec["values"]
            vkey = _sub(key, "values")
            if not isinstance(raw_values, (list, tuple)):
                raise SpecError(f"expected a list of times; got {raw_values!r}", vkey)
            values = [parse_duration(v, f"{vkey}.{i}") for i, v in enumerate(raw_values)]
        if not values:
            raise SpecError("an empirical distribution needs at least one value", vkey)
        return {"dist": cls.name, "values": sorted(float(v) for v in values)}

    @classmethod
    def _read_raw(cls, spec: Mapping[str, Any], key: str | None) -> tuple[tuple[str, ...], None]:
        """Check parameter names and pick the form without parsing values as scalars."""
        allowed = cls.parameters()
        for param in spec:
            if param != "dist" and param not in allowed:
                close = difflib.get_close_matches(str(param), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SpecError(
                    f"unknown parameter {param!r} for an empirical distribution{hint} "
                    "(accepted: values or file)",
                    _sub(key, str(param)),
                )
        given = {p for p in spec if p != "dist"}
        if given == {"values"}:
            return ("values",), None
        if given == {"file"}:
            return ("file",), None
        if not given:
            raise SpecError(
                "missing parameter 'values' for an empirical distribution (give values or file)",
                _sub(key, "values"),
            )
        raise SpecError(
            "give either 'values' or 'file' for an empirical distribution, not both",
            _sub(key, "file"),
        )

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self._values[rng.integers(0, self._values.size, size)]

    def mean(self) -> float:
        return float(self._values.mean())

    def var(self) -> float:
        return float(self._values.var())

    def quantile(self, q: float) -> float:
        return float(np.quantile(self._values, _check_q(q), method="inverted_cdf"))


#: Whitelist of distribution classes by the name used in scenario files.
REGISTRY: dict[str, type[Distribution]] = {
    cls.name: cls
    for cls in (Constant, Exponential, Uniform, TruncatedNormal, LogNormal, Gamma, Weibull, Empirical)
}


def parse_distribution(spec: Any, key: str | None = None, base_dir: str | Path | None = None) -> dict:
    """Normalise a user's distribution spec into a resolved dict.

    Parameters
    ----------
    spec : str, int, float or mapping
        A bare time (``"120ms"``, ``0.12``) meaning a constant, or ``{dist: NAME, ...}``.
    key : str, optional
        Dotted key of the spec; errors name ``key.param``.
    base_dir : str or Path, optional
        Folder against which a relative empirical ``file`` is read (the scenario's folder).

    Returns
    -------
    dict
        ``{"dist": NAME, ...}`` with every time in seconds as a float.

    Raises
    ------
    SpecError
        Unknown distribution name, unknown, missing or out-of-range parameters.

    Examples
    --------
    >>> parse_distribution("120ms")
    {'dist': 'constant', 'value': 0.12}
    """
    if isinstance(spec, Mapping):
        if "dist" not in spec:
            raise SpecError(
                "a distribution needs 'dist' (one of: " + ", ".join(REGISTRY) + ")",
                _sub(key, "dist"),
            )
        name = spec["dist"]
        cls = REGISTRY.get(name) if isinstance(name, str) else None
        if cls is None:
            close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(
                f"unknown distribution {name!r}{hint} (known: {', '.join(REGISTRY)})",
                _sub(key, "dist"),
            )
        return cls.resolve(spec, key, Path(base_dir) if base_dir is not None else None)
    if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
        return {"dist": "constant", "value": parse_duration(spec, key)}
    raise SpecError(
        f"expected a time (such as 120ms) or a distribution such as "
        f"{{dist: lognormal, median: 120ms, p99: 900ms}}; got {spec!r}",
        key,
    )


def make_distribution(resolved: Mapping[str, Any]) -> Distribution:
    """Build a :class:`Distribution` from a resolved dict (see :func:`parse_distribution`).

    Parameters
    ----------
    resolved : mapping
        ``{"dist": NAME, ...}`` in canonical form.

    Returns
    -------
    Distribution
    """
    name = resolved.get("dist")
    if name not in REGISTRY:
        raise SpecError(f"unknown distribution {name!r} (known: {', '.join(REGISTRY)})")
    return REGISTRY[name](resolved)
