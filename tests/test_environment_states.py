"""The environments-by-state chart: every stacked area is the mean number of environments
in that state over the bin, and the areas add up to the mean live environments; idle
provisioned environments are not drawn as on-demand ones (issue: fresh-user review, F1).

Provisioned concurrency keeps pre-initialized environments ready; a request takes a free
provisioned environment before any on-demand one
(https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html)."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

import lambdasim
from lambdasim.engine.model import Model
from lambdasim.results import plots
from lambdasim.results.result import build_result
from lambdasim.results.function_charts import environment_layers

#: 20 provisioned environments, about 2 busy on average: no request ever spills over.
STEADY = """\
name: steady_provisioned
duration: 4m
warmup: 30s
seed: 11
account: {concurrency_limit: 200}
functions:
  api:
    duration: {dist: lognormal, median: 150ms, p99: 400ms}
    init: {dist: lognormal, median: 1s, p99: 2s}
    provisioned_concurrency: 20
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 12/s}
"""

#: 3 provisioned environments against bursts that need many more, capacity raised and
#: lowered by schedule: on-demand environments, spillover, and a decrease while busy.
SPILLING = """\
name: spilling_provisioned
duration: 6m
seed: 12
period: 10s
account: {concurrency_limit: 200}
functions:
  api:
    duration: {dist: lognormal, median: 400ms, p99: 1.5s}
    init: {dist: lognormal, median: 800ms, p99: 2s}
    keep_alive: 30s
    provisioned_concurrency:
      capacity: 3
      preparation: 20s
      schedule:
        - {at: 2m, capacity: 12}
        - {at: 4m, capacity: 2}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: [[0s, 1/s], [1m, 40/s], [90s, 5/s],
                                            [3m, 40/s], [210s, 5/s], [4m, 40/s],
                                            [260s, 5/s]]}
"""


def _brute_live(created: np.ndarray, ended: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each environment's overlap with each bin, summed: O(environments x bins)."""
    low = np.clip(created[:, None], edges[None, :-1], edges[None, 1:])
    high = np.clip(ended[:, None], edges[None, :-1], edges[None, 1:])
    return (high - low).sum(axis=0) / np.diff(edges)


def _run(text: str):
    """The result and the finished model (its environment records)."""
    model = Model(lambdasim.load_scenario(yaml.safe_load(text))).run()
    return build_result(model), model


@pytest.fixture(scope="module")
def steady():
    return _run(STEADY)


@pytest.fixture(scope="module")
def spilling():
    return _run(SPILLING)


def _layers(result, name="api") -> dict[str, np.ndarray]:
    return dict(environment_layers(result.timeline.functions[name]))


def test_provisioned_below_capacity_has_no_idle_on_demand_environments(steady):
    steady, _ = steady
    assert steady.summary["functions"]["api"]["provisioned"]["spillover_invocations"] == 0
    layers = _layers(steady)
    assert list(layers) == ["invoking", "initializing (Init)", "idle, provisioned",
                            "idle, on-demand"]
    assert np.all(layers["idle, on-demand"] == 0.0)
    # The 20 environments are always there: busy or idle, provisioned.
    data = steady.timeline.functions["api"]
    total = layers["invoking"] + layers["initializing (Init)"] + layers["idle, provisioned"]
    inside = data.edges[1:] <= 240.0  # the horizon; the drain after it has no traffic
    assert np.allclose(total[inside], 20.0, atol=1e-6)
    # Busy environments peak well above their mean: the old chart took the peak for the
    # mean and drew the difference as idle on-demand environments.
    assert np.any(data.series["ProvisionedConcurrentExecutions"]
                  > data.invoking + data.initializing + 1.0)


@pytest.mark.parametrize("which", ["steady", "spilling"])
def test_areas_add_up_to_the_mean_live_environments(which, request):
    result, model = request.getfixturevalue(which)
    data = result.timeline.functions["api"]
    created, ended = model.recorders["api"].environments()
    ended = np.where(np.isnan(ended), result.timeline.end_s, ended)
    live = _brute_live(created, ended, data.edges)
    layers = _layers(result)
    assert all(np.all(values >= 0.0) for values in layers.values())
    assert np.allclose(np.sum(list(layers.values()), axis=0), live, atol=1e-6)


def test_spillover_shows_on_demand_environments_apart(spilling):
    spilling, _ = spilling
    block = spilling.summary["functions"]["api"]["provisioned"]
    assert block["spillover_invocations"] > 0
    data = spilling.timeline.functions["api"]
    layers = _layers(spilling)
    on_demand, provisioned = layers["idle, on-demand"], layers["idle, provisioned"]
    assert on_demand.max() > 0.5  # environments created by spillover wait for reuse
    # Idle provisioned environments never exceed what is allocated and not serving.
    allocated = data.series["ProvisionedConcurrencyAllocated"]
    assert np.all(provisioned <= allocated + 1e-9)
    # After the decrease to 2 at 4 min (and its busy environments' end), at most 2.
    late = data.edges[:-1] >= 250.0
    assert np.all(provisioned[late] <= 2.0 + 1e-9)
    # Before the first spillover nothing on-demand exists: all idle is provisioned.
    spilled = np.flatnonzero(data.series["ProvisionedConcurrencySpilloverInvocations"])
    assert spilled[0] >= 3
    assert np.all(on_demand[:spilled[0]] == 0.0)
    assert np.all(provisioned[:spilled[0]] > 0.5)


def test_chart_names_the_split(steady):
    steady, _ = steady
    chart = plots.concurrency_chart(steady, "api")
    labels = [t.get_text() for t in chart.axes[0].get_legend().get_texts()]
    assert {"idle, provisioned", "idle, on-demand"} <= set(labels)
    assert any(label.startswith("provisioned concurrency allocated (highest in each")
               for label in labels)
    assert "mean over each" in chart.axes[0].get_ylabel()  # the areas are means
