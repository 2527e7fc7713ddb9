"""A seeded mutation fuzzer of the shipped scenarios: every hostile input must end in 0, 1 or 2.

Each case takes one scenario of ``scenarios/``, applies one to three mutations drawn from a
seeded :class:`random.Random` (a value swapped for a hostile one: zero, negative, 1e308, a
denormal, NaN, a 400-digit integer, a huge rate or a tiny time, a lone surrogate, a newline or
NUL in a name, a wrong type, a deep list, a recursive alias; a key deleted or duplicated; or the
YAML text itself cut, doubled or salted with tags and control bytes) and runs ``lambdasim
validate`` or ``lambdasim run`` on it, in a forked child with a time-out. It checks:

* the exit code is 0, 1 or 2 (3 is a crash; a time-out or a signal is counted apart);
* no traceback on stderr, and a refusal is one ``lambdasim: error:`` line (plus at most a hint);
* a refused run writes nothing; a finished run wrote a results folder whose ``summary.json`` is
  strict JSON in which every function keeps ``arrived = succeeded + failed + throttled + dropped
  + in_flight`` and never exceeds its concurrency limit.

``python benchmarks/fuzz.py [--validate N] [--runs N] [--seed S] [--jobs J]`` prints the counts
table (exit 0 / 1 / 2 / 3 / time-out) and every violation; ``tests/test_fuzz.py`` runs a few
hundred cases of the same generator in CI. Runs use small limits (``--max-arrivals``) and
scenarios cut to a few simulated minutes, so that each takes about a second.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import math
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
#: Options that keep a fuzzed run short (the work estimate refuses the rest up front).
RUN_LIMITS = ["--max-arrivals", "2e5", "--max-events", "2e6", "--max-memory", "2GiB"]

HOSTILE_VALUES: list[Any] = [
    0, -1, 1, 2, 10**400, 1e308, -1e308, 1e-320, 5e-324, float("nan"), float("inf"), 0.5, 3.7,
    "nan", ".inf", "-1s", "0s", "1us", "1e-9s", "1e12s", "1e9/s", "1e-9/s", "0/s", "5/ms",
    "1e308/s", "365d", "1" * 500, "", " ", "x" * 5000, "\ud800", "x\ny", "a\0b", "é", "${x}",
    None, True, False, [], {}, [[[[[[[[1]]]]]]]], {"dist": "lognormal", "median": 1e-320, "p99": 1},
    {"dist": "nope"}, {"process": "burst", "count": 10**12, "at": 1}, [1, "2", None],
    {"process": "poisson", "rate": "1e9/s"}, {"process": "mmpp", "states": [
        {"rate": 1, "mean_sojourn": "1us"}, {"rate": 2, "mean_sojourn": "1us"}]},
]
TEXT_SNIPPETS = [
    "x: &a [*a]\n", "\0", "\t", "!!int abc", "!!timestamp nope", "!!float x", "2025-13-45",
    "!!python/object:os.system", "{", "[[[[", "- ", ": ", "&a", "*a", "<<: *a\n", "\ud800",
    "\x1b[31m", "\r", "# comment\n", "'", '"', "...\n", "---\n",
]


# ----------------------------------------------------------------------------- mutations

def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, prefix + (index,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _mutate_data(rng: random.Random, doc: dict) -> None:
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    parent, last = _get(doc, path[:-1]), path[-1]
    action = rng.random()
    if action < 0.55:
        parent[last] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    elif action < 0.65:
        del parent[last]
    elif action < 0.75 and isinstance(parent, dict):
        parent[rng.choice(["x", "typo", "rate", "count", "period", "name", last + "_"
                           if isinstance(last, str) else "y"])] = copy.deepcopy(parent[last])
    elif action < 0.85:
        value = parent[last]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[last] = value * rng.choice([1e6, 1e-6, -1, 1e300, 0])
        elif isinstance(value, str):
            parent[last] = rng.choice([value * 3, value[::-1], value + "0000000", value[:1]])
        else:
            parent[last] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    else:
        value = parent[last]
        parent[last] = [value] if not isinstance(value, list) else {"x": value}


def _mutate_text(rng: random.Random, text: str) -> str:
    action = rng.random()
    if not text:
        return rng.choice(TEXT_SNIPPETS)
    at = rng.randrange(len(text))
    if action < 0.4:
        return text[:at] + rng.choice(TEXT_SNIPPETS) + text[at:]
    if action < 0.55:
        return text[:at]
    if action < 0.7:
        lines = text.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        return "".join(lines[:i] + [lines[i]] * rng.randint(2, 3) + lines[i + 1:])
    if action < 0.85:
        lines = text.splitlines(keepends=True)
        del lines[rng.randrange(len(lines))]
        return "".join(lines)
    return text[:at] + chr(rng.choice([0, 1, 8, 11, 27, 0x85, 0xFEFF, 0xD800, 0x10FFFF])) + text[at:]


def _mutate_mild(rng: random.Random, doc: dict) -> None:
    """Scale one number (or the number of a ``250ms``/``5/s`` string) by 0.1 to 10: a
    plausible variant, so that runs reach the model rather than validation."""
    import re

    paths = [p for p in _paths(doc) if p and (
        isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)
        or isinstance(_get(doc, p), str) and re.match(r"^[0-9.]+", _get(doc, p)))]
    if not paths:
        return
    path = rng.choice(paths)
    parent, last = _get(doc, path[:-1]), path[-1]
    factor = rng.choice([0.1, 0.5, 2, 10])
    value = parent[last]
    if isinstance(value, (int, float)):
        parent[last] = type(value)(value * factor) if isinstance(value, float) else max(0, round(value * factor))
    else:
        match = re.match(r"^([0-9.]+)(.*)$", value)
        try:
            parent[last] = f"{float(match.group(1)) * factor:g}{match.group(2)}"
        except ValueError:
            pass


def _shorten(doc: dict) -> None:
    """Cut a scenario to a few simulated minutes so that a fuzzed run stays short."""
    if isinstance(doc.get("duration"), (str, int, float)):
        doc["duration"] = "3m"
    if "warmup" in doc:
        doc["warmup"] = "30s"


def make_case(seed: int, index: int, *, for_run: bool) -> tuple[str, str]:
    """The (scenario name, YAML text) of case ``index`` of a seeded campaign."""
    rng = random.Random(f"{seed}-{index}-{for_run}")
    source = rng.choice(SCENARIOS)
    doc = yaml.safe_load(source.read_text())
    if for_run:
        _shorten(doc)
    mild = for_run and rng.random() < 0.6
    for _ in range(rng.randint(1, 3)):
        if mild:
            _mutate_mild(rng, doc)
        elif rng.random() < 0.8:
            _mutate_data(rng, doc)
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, UnicodeEncodeError, ValueError):
        text = source.read_text()
    if not mild and rng.random() < 0.3:
        text = _mutate_text(rng, text)
    return source.name, text


# ----------------------------------------------------------------------------- checking

def call_cli(argv: list[str]) -> tuple[int, str, str]:
    """``lambdasim.cli.main(argv)`` in this process: (exit code, stdout, stderr)."""
    from lambdasim import cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def violations(code: int, err: str, folder: Path, out_dir: Path | None) -> list[str]:
    """What a finished case broke (empty when it behaved)."""
    bad = []
    if code not in (0, 1, 2):
        bad.append(f"exit {code}")
    if "Traceback" in err:
        bad.append("traceback on stderr")
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("lambdasim: error:")]
        hints = [line for line in lines if line.startswith("lambdasim: hint:")]
        if len(errors) != 1 or len(lines) != len(errors) + len(hints) or len(hints) > 1:
            bad.append(f"not one error line: {err[:300]!r}")
        if out_dir is not None and out_dir.exists():
            bad.append("wrote results although refused")
    if out_dir is not None and code in (0, 1):
        bad += _check_results(out_dir)
    leftovers = [p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    if leftovers:
        bad.append(f"temporary folders left: {leftovers}")
    return bad


def _check_results(out_dir: Path) -> list[str]:
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"),
                             parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except (OSError, ValueError) as exc:
        return [f"summary.json unreadable or not strict JSON: {exc}"]
    bad = []
    config = summary["config"]
    for name, block in summary["functions"].items():
        req = block["requests"]
        if req["arrived"] != (req["succeeded"] + req["failed"] + req["throttled"] + req["dropped"]
                              + req["in_flight"]):
            bad.append(f"{name}: requests not conserved {req}")
        reserved = config["functions"][name]["reserved_concurrency"]
        limit = config["account"]["concurrency_limit"] if reserved is None else reserved
        if block["concurrency"]["max"] > limit:
            bad.append(f"{name}: concurrency {block['concurrency']['max']} above its limit {limit}")
    return bad


class TimedOut(BaseException):
    """A case ran past its time-out (raised by SIGALRM, not caught by the command line)."""


def run_case(kind: str, text: str, folder: Path, timeout_s: float | None = None) -> tuple[str, list[str]]:
    """Write the case into ``folder`` and run it in this process; (outcome, violations).

    ``outcome`` is ``"0"``, ``"1"``, ``"2"``, ``"3"`` (or another exit code) or ``"time-out"``.
    """
    path = folder / "case.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out_dir = folder / "out" if kind == "run" else None
    argv = (["validate", str(path)] if kind == "validate" else
            ["run", str(path), "--out", str(out_dir), "--no-plots", "-q", *RUN_LIMITS])
    previous = None
    if timeout_s is not None:
        def alarm(signum, frame):
            raise TimedOut()
        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        code, _, err = call_cli(argv)
    except TimedOut:
        return "time-out", []
    finally:
        if timeout_s is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return str(code), violations(code, err, folder, out_dir)


# ----------------------------------------------------------------------------- the campaign

def _child(kind: str, text: str, timeout_s: float, write) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        outcome, bad = run_case(kind, text, Path(tmp), timeout_s)
    write.write(json.dumps([outcome, bad]).encode())
    write.close()


def run_forked(kind: str, text: str, timeout_s: float) -> tuple[str, list[str]]:
    """One case in a forked child (a crash of the interpreter cannot stop the campaign)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        try:
            _child(kind, text, timeout_s, os.fdopen(write_fd, "wb"))
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        data = reader.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return f"signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else '?'}", ["child died"]
    outcome, bad = json.loads(data)
    return outcome, bad


def campaign(kind: str, count: int, seed: int, timeout_s: float) -> tuple[Counter, list]:
    counts: Counter = Counter()
    problems = []
    for index in range(count):
        name, text = make_case(seed, index, for_run=kind == "run")
        outcome, bad = run_forked(kind, text, timeout_s)
        counts[outcome] += 1
        if bad or outcome not in ("0", "1", "2"):
            problems.append((kind, index, name, outcome, bad))
        if (index + 1) % 100 == 0:
            print(f"{kind}: {index + 1} of {count} cases, {dict(counts)}", file=sys.stderr, flush=True)
    return counts, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validate", type=int, default=2000, help="validate cases (default 2000)")
    parser.add_argument("--runs", type=int, default=300, help="run cases (default 300)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import lambdasim.cli  # noqa: F401 - imported once, before forking

    table = []
    problems_all = []
    for kind, count in (("validate", args.validate), ("run", args.runs)):
        started = time.perf_counter()
        counts, problems = campaign(kind, count, args.seed, args.timeout)
        elapsed = time.perf_counter() - started
        table.append((kind, count, counts, elapsed))
        problems_all += problems
    print(f"seed {args.seed}; time-out {args.timeout:g} s per case")
    print(f"{'command':<10}{'cases':>7}{'exit 0':>8}{'exit 1':>8}{'exit 2':>8}{'exit 3':>8}"
          f"{'time-out':>10}{'other':>7}{'wall s':>9}")
    for kind, count, counts, elapsed in table:
        other = count - sum(counts[k] for k in ("0", "1", "2", "3", "time-out"))
        print(f"{kind:<10}{count:>7}{counts['0']:>8}{counts['1']:>8}{counts['2']:>8}{counts['3']:>8}"
              f"{counts['time-out']:>10}{other:>7}{elapsed:>9.1f}")
    print(f"violations: {len(problems_all)}")
    for kind, index, name, outcome, bad in problems_all[:50]:
        print(f"  {kind} case {index} (from {name}): outcome {outcome}; {'; '.join(bad)[:300]}")
    return 1 if problems_all else 0


if __name__ == "__main__":
    raise SystemExit(main())
