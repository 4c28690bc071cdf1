"""The package's shape is its architecture (docs/architecture.md): layers that import one way,
no cycle between modules or between subpackages, a small top level, no module too long to read.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping

import grimp
import pytest

from tests.helpers import REPO

PACKAGE = "bg20k_fetch"
LINT = (
    "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
)


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_cycles_finds_a_cycle_and_only_a_cycle() -> None:
    """The checker itself: a planted cycle is found, a chain is not."""
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"], "c": []}) == []


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True)


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def test_no_import_cycle_between_modules(graph: grimp.ImportGraph) -> None:
    assert cycles(_edges(graph)) == []


def test_no_import_cycle_between_subpackages(graph: grimp.ImportGraph) -> None:
    """A subpackage (or top-level module) as one node: ``bg20k_fetch.consent.store`` counts
    as ``bg20k_fetch.consent``."""

    def home(module: str) -> str:
        return ".".join(module.split(".")[:2])

    collapsed: dict[str, set[str]] = {}
    for module, imported in _edges(graph).items():
        for other in imported:
            if home(module) != home(other):
                collapsed.setdefault(home(module), set()).add(home(other))
    assert cycles(collapsed) == []


def test_the_layer_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: the layers, and nothing below the CLI
    importing it (or rich)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_the_top_level_is_small() -> None:
    """At most a dozen modules beside the subpackages."""
    top = sorted(p.name for p in (REPO / PACKAGE).glob("*.py"))
    assert len(top) <= 12, top
