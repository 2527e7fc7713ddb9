"""Capacity checks in a test suite, in one line.

::

    import lambdasim
    from lambdasim.testing import assert_expectations, check

    def test_checkout_holds_the_sale_peak():
        check("scenarios/peak.yaml")        # runs it; asserts its own expect: block

    def test_checkout_p99():
        result = lambdasim.simulate("scenarios/peak.yaml", overrides={"duration": "8m"})
        assert_expectations(result, ["checkout.latency_ms.p99 < 800",
                                     "checkout.throttle_rate <= 0.001"])

A failed check raises ``AssertionError`` listing every check with its actual value, as the
command line prints them; a check that does not parse, or whose key the summary lacks, raises
:class:`~lambdasim.scenario.units.SpecError` or :class:`~lambdasim.results.expect.ExpectationError` (a mistake
in the test, not a capacity failure). The checks are those of :mod:`lambdasim.results.expect`,
confidence-interval bounds included when the summary holds replications.
"""
from __future__ import annotations

from typing import Any, Iterable

from lambdasim.results.expect import CheckResult, evaluate_result, format_checks

__all__ = ["assert_expectations", "check"]


def assert_expectations(result: Any, checks: Iterable[str] | None = None) -> list[CheckResult]:
    """Assert capacity checks against a run.

    Parameters
    ----------
    result : lambdasim.results.result.Result or dict
        A run, or a summary dict (summary.json loaded).
    checks : iterable of str, optional
        Checks ``PATH OP NUMBER``; default: the scenario's ``expect:`` block.

    Returns
    -------
    list of CheckResult
        When every check passes.

    Raises
    ------
    AssertionError
        When a check fails, or when there is no check at all (nothing asserted).
    """
    results = evaluate_result(result, None if checks is None else list(checks))
    if not results:
        raise AssertionError("no checks: pass some, or give the scenario an expect: block")
    if not all(r.passed for r in results):
        raise AssertionError("capacity expectations failed:\n" + format_checks(results))
    return results


def check(scenario: Any, checks: Iterable[str] | None = None, **simulate_args: Any):
    """Run a scenario and assert its checks (default: its ``expect:`` block).

    Parameters
    ----------
    scenario : path, Scenario or dict
        What :func:`lambdasim.simulate` takes.
    checks : iterable of str, optional
        Checks to assert instead of the scenario's own.
    **simulate_args
        Passed to :func:`lambdasim.simulate` (``seed``, ``overrides``, ...).

    Returns
    -------
    lambdasim.results.result.Result
        The run, for further asserts.
    """
    from lambdasim.simulation import simulate

    result = simulate(scenario, **simulate_args)
    assert_expectations(result, checks)
    return result

