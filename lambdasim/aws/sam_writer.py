"""Writing the scenario skeleton that ``import-sam`` made: the header notes, then the YAML.

The text is written line by line (not dumped) so that each TODO sits as a comment next to the
value it concerns, and flow style keeps one trigger setting a line. Function names are the
importer's scenario names (valid lambdasim names); notes and lists of what is not modelled
come first, so nothing of the template is dropped without a word.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["render", "flow"]


def flow(value: Any) -> str:
    """A value in YAML flow style on one line."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False).strip()
    return text.removesuffix("...").strip()  # a plain scalar's document end marker


def _comment(text: str) -> str:
    return " ".join(str(text).split())  # one line: a newline in a template value ends no comment


def render(importer: Any, functions: dict[str, dict], path: Path, kind: str, rate: str | None,
           todo_mark: str) -> tuple[str, dict]:
    """The scenario text and the report of :func:`lambdasim.aws.sam.import_template`."""
    not_modelled = sorted(f"{rid} ({res['Type']})" for rid, res in importer.resources.items()
                          if rid not in importer.used and rid not in importer.referenced)
    referenced = sorted(f"{rid} ({importer.resources[rid]['Type']})" for rid in importer.referenced
                        if rid not in importer.used and rid in importer.resources)
    out = [f"# Scenario skeleton written by lambdasim import-sam from {_comment(path.name)} ({kind} template).",
           f"# Values marked {todo_mark} need you: every arrival rate must be set (rate: TODO does",
           "# not validate until it is), and the handler durations are placeholders that do."]
    if referenced:
        out.append("# Referenced by triggers or destinations (not simulated themselves): " + ", ".join(referenced))
    if not_modelled:
        out.append("# Template resources lambdasim does not model: " + ", ".join(not_modelled))
    if importer.unsupported_events:
        out.append("# Event sources lambdasim does not model (no trigger written): "
                   + ", ".join(importer.unsupported_events))
    for note in importer.notes:
        out.append(f"# Note: {_comment(note)}")
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", path.stem) or "imported"
    out += [f"name: {stem}", f"description: {flow(f'Imported from {path.name} by lambdasim import-sam')}",
            f"duration: 1h  # {todo_mark}: the simulated horizon"]
    if importer.account:
        out.append("account:")
        for key, value in importer.account.items():
            out.append(f"  {key}: {flow(value)}  # {todo_mark}: your account's limit")
    out.append("functions:")
    todo = 0
    triggers = 0
    for logical, body in functions.items():
        fname = importer.names[logical]
        out.append(f"  {fname}:")
        for key, value in body.items():
            comment = importer.comments.get((logical, key))
            if key != "triggers":
                out.append(f"    {key}: {flow(value)}" + (f"  # {_comment(comment)}" if comment else ""))
                continue
            if not value:
                out.append("    triggers: []")
                continue
            out.append("    triggers:")
            for trigger in value:
                triggers += 1
                first = True
                for tkey, tvalue in trigger.items():
                    comment = importer.comments.get((logical, "triggers", trigger["name"], tkey))
                    if tkey == "arrivals" and rate is not None and tvalue.get("rate") == "TODO":
                        tvalue = {**tvalue, "rate": rate}
                        comment = f"{todo_mark}: filled by --rate {rate}; set the real rate"
                    elif tkey == "arrivals" and tvalue.get("rate") == "TODO":
                        todo += 1
                    prefix = "      - " if first else "        "
                    first = False
                    out.append(f"{prefix}{tkey}: {flow(tvalue)}" + (f"  # {_comment(comment)}" if comment else ""))
    report = {"functions": [importer.names[f] for f in functions], "triggers": triggers, "todo": todo,
              "not_modelled": not_modelled, "unsupported_events": importer.unsupported_events,
              "notes": importer.notes}
    return "\n".join(out) + "\n", report
