"""The studies layer: many runs of a scenario and what they say together.

Replications with confidence intervals, sweeps over a grid of settings with common random
numbers, the executors that spread runs over a local process pool or a Dask cluster, power
tuning of memory and architecture, and planning: the cheapest settings that keep SLOs.

Import rule: studies import :mod:`lambdasim.simulation`, :mod:`lambdasim.results`,
:mod:`lambdasim.engine` and :mod:`lambdasim.scenario`; never the command line.
"""
