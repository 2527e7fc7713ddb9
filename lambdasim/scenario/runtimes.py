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

import re

from lambdasim.scenario.distributions import lognormal_from_median_p99
from lambdasim.scenario.units import SpecError

__all__ = ["RUNTIME_FAMILIES", "runtime_family", "default_init", "snap_start_supported",
           "snap_start_pays", "default_restore", "SNAP_START_RESTORE_MEDIAN_S"]

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

# ======================================================================================
# SnapStart (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html)
# ======================================================================================
#: Oldest version of each family that supports SnapStart: "Java 11 and later", "Python 3.12
#: and later", ".NET 8 and later" managed runtimes (snapstart.html, supported runtimes).
SNAP_START_MINIMUM = {"java": (11,), "python": (3, 12), "dotnet": (8,)}
#: Families that pay SnapStart's cache and restore charges: "SnapStart pricing does not apply
#: to supported Java managed runtimes" (https://aws.amazon.com/lambda/pricing/).
SNAP_START_PAYING = ("python", "dotnet")
#: Default Restore Duration split into the snapshot restore (not billed) and the runtime load
#: plus after-restore hooks (Billed Restore Duration), medians in seconds; p99 = 3 x median
#: [assumption, as for Init]. Java: lambda-perf 2023-04-21 measured the Restore Duration of a
#: hello-world java11 SnapStart function at 512 MB at 123-228 ms, mean 174 ms
#: (https://maxday.github.io/lambda-perf/, [measured]); split 150 + 25 ms [assumption].
#: Python and .NET: no public daily measurement (checked 2026-11-29); 150 + 30 ms and
#: 150 + 50 ms [assumption: the Java figure's restore, plus a runtime load in proportion to
#: the families' Init medians].
SNAP_START_RESTORE_MEDIAN_S = {
    "java": (0.150, 0.025),
    "python": (0.150, 0.030),
    "dotnet": (0.150, 0.050),
}


def _version(runtime: str, family: str) -> tuple[int, ...] | None:
    digits = re.findall(r"\d+", runtime[len(family):])
    return tuple(int(d) for d in digits) or None


def snap_start_supported(runtime: str, package_type: str = "zip") -> str | None:
    """Why a runtime cannot use SnapStart, or None when it can.

    Parameters
    ----------
    runtime : str
        AWS runtime identifier (``java21``, ``python3.12``, ``dotnet8``...).
    package_type : {"zip", "image"}
        "container images are not supported" (snapstart.html).

    Returns
    -------
    str or None
        A sentence for the error message, or None.
    """
    if package_type == "image":
        return "SnapStart does not support container images (snapstart.html)"
    family = runtime_family(runtime)
    minimum = SNAP_START_MINIMUM.get(family)
    version = _version(runtime.lower(), family)
    if minimum is None or version is None or version[:len(minimum)] < minimum:
        return (f"SnapStart supports the Java 11+, Python 3.12+ and .NET 8+ managed runtimes "
                f"(snapstart.html), not {runtime!r}")
    return None


def snap_start_pays(runtime: str) -> bool:
    """Whether the runtime pays SnapStart's cache and restore charges (Python, .NET)."""
    return runtime_family(runtime) in SNAP_START_PAYING


def default_restore(runtime: str) -> tuple[dict, dict]:
    """Default ``(restore, after_restore)`` distributions of a SnapStart runtime (lognormal,
    p99 = 3 x median; see :data:`SNAP_START_RESTORE_MEDIAN_S`)."""
    restore, after = SNAP_START_RESTORE_MEDIAN_S[runtime_family(runtime)]
    out = []
    for median in (restore, after):
        mu, sigma = lognormal_from_median_p99(median, INIT_P99_OVER_MEDIAN * median)
        out.append({"dist": "lognormal", "mu": mu, "sigma": sigma})
    return out[0], out[1]
