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


def test_every_guarantee_in_reliability_md_names_a_test_that_exists() -> None:
    """docs/reliability.md pairs each guarantee with its test: a renamed or deleted test must
    not leave a guarantee pointing at nothing."""
    import ast
    import re

    defined = set()
    for path in (REPO / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                defined.add(node.name)
    rows, header = [], ""
    for line in (REPO / "docs" / "reliability.md").read_text().splitlines():
        if not line.startswith("|"):
            header = ""
        elif not header:
            header = line
        elif header.startswith("| guarantee | test |") and not line.startswith("| ---"):
            rows.append(line)
    assert len(rows) > 50
    unnamed, missing = [], []
    for row in rows:
        guarantee, test = row.strip("|").rsplit(" | ", 1)
        named = re.findall(r"`(?:tests/[\w/]+\.py::)?(test_[\w*]+)", test)
        files = re.findall(r"`(tests/[\w/]+\.py)`", test)  # a whole file of them
        if not named and not files:
            unnamed.append(guarantee.strip()[:80])
        missing += [f for f in files if not (REPO / f).is_file()]
        for name in named:
            pattern = re.compile(re.escape(name).replace(r"\*", ".*") + "$")
            if not any(pattern.match(d) for d in defined):
                missing.append(name)
    assert not missing, f"reliability.md names tests that do not exist: {missing}"
    assert not unnamed, f"guarantees without a test: {unnamed}"
