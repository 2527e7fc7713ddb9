"""The package's shape: layers import only downward, no import cycles, short modules.

DESIGN.md, "Package layout": the folders are the layers. This test walks every module of
``lambdasim`` with :mod:`ast`, collects every import of lambdasim (at module level, inside
functions and under ``TYPE_CHECKING`` alike) and checks it against the allowed directions, so
the shape cannot rot. A new module lands in its folder's layer automatically.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lambdasim"

#: Layer of each top-level name of the package -> the layers it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "errors": set(),
    "theory": set(),
    "scenario": set(),                                       # the foundation: nothing else
    "engine": {"scenario", "_version"},
    "results": {"engine", "scenario", "_version", "theory"},
    "simulation": {"engine", "results", "scenario"},
    "aws": {"scenario", "errors"},
    "studies": {"simulation", "results", "engine", "scenario", "theory", "errors", "_version"},
    "cli": {"aws", "studies", "simulation", "results", "engine", "scenario", "theory", "errors",
            "_version"},
    # What a user imports: the public API, the test helpers, old import paths.
    "__init__": {"studies", "simulation", "results", "scenario", "_version"},
    "testing": {"simulation", "results", "scenario"},
    "result": {"results"},
    "__main__": {"cli"},
}
#: The modules allowed directly in lambdasim/ (the issue's bound is 12).
MAX_TOP_LEVEL_MODULES = 12
MAX_MODULE_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The lambdasim modules that ``name`` imports, resolved to modules where possible."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # 'from lambdasim.results import plots' imports the submodule plots.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "lambdasim" or t.startswith("lambdasim."))
    found.discard(name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted({_layer(m) for m in MODULES} - set(ALLOWED))
    assert not unknown, f"modules outside the declared layers: {unknown}; add them to ALLOWED"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_only_downward(module):
    layer = _layer(module)
    allowed = ALLOWED[layer] | {layer}
    upward = sorted(t for t in GRAPH[module] if _layer(t) not in allowed)
    assert not upward, f"{module} ({layer}) imports {upward}; {layer} may import only {sorted(allowed)}"


def test_no_import_cycles():
    """Tarjan's strongly connected components over the import graph: every one a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH.get(v, ())):
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_top_level_keeps_only_what_a_user_imports():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_module_is_over_600_lines():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split along their seams: {long}"


def test_tools_never_import_the_command_line():
    leaning = sorted(m for m, targets in GRAPH.items() if _layer(m) != "cli" and _layer(m) != "__main__"
                     and any(_layer(t) == "cli" for t in targets))
    assert not leaning, f"only lambdasim.__main__ may import lambdasim.cli: {leaning}"


def test_the_walk_sees_imports_inside_functions(tmp_path):
    """The checker itself: an import inside a function is found, and resolved to a module."""
    assert "lambdasim.results.plots" in GRAPH["lambdasim.results.folder"]  # imported lazily
    assert "lambdasim.engine.model" in GRAPH["lambdasim.simulation"]
