"""The scenario layer: the YAML format, from bytes to a frozen, validated scenario.

Units (``250ms``, ``300/s``), the declared table of fields and its machinery, loading with
line numbers, ``--set`` overrides, cross-field checks, the JSON Schema, distributions,
runtimes' default Init times, arrival processes, traffic shapes, trace readers and the syntax
of ``expect:`` checks. A resolved scenario is a plain JSON-serialisable dict that the engine
reads and every result stores.

Import rule: this layer is the foundation; it imports nothing else of lambdasim.

Modules: :mod:`~lambdasim.scenario.loader` (``load_scenario``, ``Scenario``),
:mod:`~lambdasim.scenario.format` (the declared table), :mod:`~lambdasim.scenario.checks`,
:mod:`~lambdasim.scenario.overrides`, :mod:`~lambdasim.scenario.yaml_lines`,
:mod:`~lambdasim.scenario.reading` (untrusted input read with limits),
:mod:`~lambdasim.scenario.schema`, :mod:`~lambdasim.scenario.errors`,
:mod:`~lambdasim.scenario.units`, :mod:`~lambdasim.scenario.fields`,
:mod:`~lambdasim.scenario.distributions`, :mod:`~lambdasim.scenario.runtimes`,
:mod:`~lambdasim.scenario.arrivals`, :mod:`~lambdasim.scenario.shapes`,
:mod:`~lambdasim.scenario.traces`, :mod:`~lambdasim.scenario.expectations`.
"""
from lambdasim.scenario.errors import ScenarioError
from lambdasim.scenario.format import FUNCTION_NAME_PATTERN, SCHEMA
from lambdasim.scenario.loader import Scenario, load_scenario
from lambdasim.scenario.overrides import parse_set_option
from lambdasim.scenario.schema import json_schema

__all__ = [
    "ScenarioError",
    "Scenario",
    "load_scenario",
    "parse_set_option",
    "json_schema",
    "SCHEMA",
    "FUNCTION_NAME_PATTERN",
]
