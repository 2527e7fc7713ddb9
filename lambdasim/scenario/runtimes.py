"""Lambda runtimes: families and their default cold-start (Init Duration) distributions.

A function's ``runtime`` is an AWS runtime identifier (``python3.12``, ``nodejs20.x``,
``java21``, ``dotnet8``, ``go1.x``, ``provided.al2023``, ``ruby3.3``); its *family* is found
by prefix. Init Duration depends on the runtime family and the package, barely on memory, so
each family carries a default Init distribution that a scenario's ``init`` overrides.

Figures: median Init Duration of hello-world zip functions measured by lambda-perf 2026
(https://maxday.github.io/lambda-perf/, [measured]): Python ~85 ms, Node.js ~135 ms,
Java/.NET ~200-250 ms (225 ms used), Go ~50 ms, Rust on ``provided`` ~15 ms. Ruby 100 ms is an
[assumption] (not in the measurement). The tail, p99 = 3 x median, is an [assumption]; container
images take about twice as long [measured, lambda-perf], so ``package_type: image`` doubles
both median and p99 (LAMBDA_MODEL.md section 3).
"""

from __future__ import annotations

from lambdasim.scenario.distributions import lognormal_from_median_p99
from lambdasim.scenario.units import SpecError

__all__ = ["RUNTIME_FAMILIES", "runtime_family", "default_init"]

#: Median Init Duration in seconds of a hello-world zip function, by runtime family.
RUNTIME_FAMILIES: dict[str, float] = {
    "python": 0.085,  # lambda-perf 2026 [measured]
    "nodejs": 0.135,  # lambda-perf 2026 [measured]
    "java": 0.225,  # lambda-perf 2026: 200-250 ms [measured]
    "dotnet": 0.225,  # lambda-perf 2026: 200-250 ms [measured]
    "go": 0.050,  # lambda-perf 2026 [measured]
    "provided": 0.015,  # custom runtimes, Rust: lambda-perf 2026 [measured]
    "ruby": 0.100,  # [assumption]: not measured by lambda-perf
}

#: Ratio p99 / median of the default Init distributions [assumption].
INIT_P99_OVER_MEDIAN = 3.0
#: Factor applied to Init for container images [measured, lambda-perf: images ~2x zips].
IMAGE_INIT_FACTOR = 2.0


def runtime_family(runtime: str, key: str | None = None) -> str:
    """Return the family (``python``, ``nodejs``, ...) of an AWS runtime identifier.

    Parameters
    ----------
    runtime : str
        ``python3.12``, ``nodejs20.x``, ``java21``, ``provided.al2023``...
    key : str, optional
        Dotted key for the error message.

    Raises
    ------
    SpecError
        For an unknown family; the message lists the known ones.
    """
    if isinstance(runtime, str):
        for family in RUNTIME_FAMILIES:
            if runtime.lower().startswith(family):
                return family
    raise SpecError(
        f"unknown runtime {runtime!r}; the runtime must start with a known family: "
        f"{', '.join(RUNTIME_FAMILIES)} (e.g. python3.12, nodejs20.x, java21, provided.al2023)",
        key,
    )


def default_init(runtime: str, package_type: str = "zip") -> dict:
    """Default resolved Init Duration distribution for a runtime and package type.

    Parameters
    ----------
    runtime : str
        AWS runtime identifier.
    package_type : {"zip", "image"}
        Container images double the Init time.

    Returns
    -------
    dict
        ``{"dist": "lognormal", "mu": .., "sigma": ..}`` with median from
        :data:`RUNTIME_FAMILIES` and p99 = 3 x median.
    """
    median = RUNTIME_FAMILIES[runtime_family(runtime)]
    if package_type == "image":
        median *= IMAGE_INIT_FACTOR
    mu, sigma = lognormal_from_median_p99(median, INIT_P99_OVER_MEDIAN * median)
    return {"dist": "lognormal", "mu": mu, "sigma": sigma}
