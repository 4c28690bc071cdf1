"""ruff and strict mypy are part of the test command, so a red lint is a red build."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        pytest.param(["mypy"], marks=pytest.mark.slow),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_clean(command: list[str]) -> None:
    # The tools come with the test extras, in the interpreter running the tests.
    proc = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


MODULE_LINES, FUNCTION_LINES = 260, 55


def test_modules_and_functions_stay_small() -> None:
    """No module over ~250 lines and no function over ~50 (docstring aside), unless a
    ``# size:`` comment beside it says why."""
    import ast

    too_big = []
    for path in sorted((REPO / "bg20k_fetch").rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        rel = path.relative_to(REPO)
        if len(lines) > MODULE_LINES and "# size:" not in "\n".join(lines[:30]):
            too_big.append(f"{rel}: {len(lines)} lines")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            start = body[0].end_lineno if ast.get_docstring(node) and len(body) > 1 else None
            first = (start or node.lineno) + 1 if start else node.lineno
            length = (node.end_lineno or node.lineno) - first + 1
            head = "\n".join(lines[node.lineno - 1 : node.lineno + 2])
            if length > FUNCTION_LINES and "# size:" not in head:
                too_big.append(f"{rel}:{node.lineno} {node.name}(): {length} lines")
    assert too_big == []


def test_every_planted_bug_still_has_its_line_to_plant_in() -> None:
    """tests/planted_bugs.py plants each bug by replacing a line as the code reads; when the
    code is reworded, the plant must follow, or the proof silently stops being made."""
    from tests.planted_bugs import BUGS

    stale = [bug.name for bug in BUGS if (REPO / bug.path).read_text().count(bug.old) != 1]
    assert stale == []
