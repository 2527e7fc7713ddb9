"""The JSON Schema of the scenario format, generated from the declared table (for editors)."""
from __future__ import annotations

from lambdasim.scenario.fields import schema_for
from lambdasim.scenario.format import SCHEMA

__all__ = ["json_schema"]


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the scenario file format, generated from :data:`SCHEMA`.

    The rendering is :func:`lambdasim.scenario.fields.schema_for`; this adds the schema's identity.

    Returns
    -------
    dict
        A schema that accepts scenario files and resolved configs alike.
    """
    schema = schema_for(SCHEMA)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lambdasim.dev/schema/scenario-v1.json",
        "title": "lambdasim scenario",
        **schema,
    }
