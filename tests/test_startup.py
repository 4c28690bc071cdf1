"""Start-up cost as imports, not seconds: the commands a script calls most load nothing heavy.
(The timings, against `python -c pass`, are in benchmarks/ and docs/performance.md.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "rich", "requests", "urllib3", "filelock", "fsspec")

PROBE = """
import json, sys
sys.argv = ["bg20k", *sys.argv[1:]]
from bg20k_fetch.entry import main
try:
    main()
except SystemExit:
    pass
heavy = set(json.loads(HEAVY))
loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
sys.stderr.write("LOADED " + json.dumps(loaded) + "\\n")
""".replace("HEAVY", repr(json.dumps(HEAVY)))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--version"], set()),
        (["cite"], set()),
        (["cite", "--all", "--format", "text"], set()),
        (["agreement", "--sha256"], set()),
        # status reads two small files: no pydantic (the consent record is a strict
        # dataclass), no HTTP stack, and in a pipe no terminal colours.
        (["status"], set()),
    ],
)
def test_the_commonest_commands_load_nothing_heavy(args: list[str], allowed: set[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED "))
    assert set(json.loads(line[len("LOADED ") :])) <= allowed, (args, line)
    assert proc.stdout  # and it still did its job


@pytest.mark.slow
@pytest.mark.parametrize("deep", [False, True])
def test_verify_loads_nothing_heavy(
    deep: bool, tmp_path: object, small_release: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick (or deep) verify reads a finished tree: no network, consent or progress
    machinery, and its answer is one plain line."""
    from pathlib import Path

    from tests.data import SMALL, make_tree, zip_bytes
    from tests.helpers import cli

    where = Path(str(tmp_path))
    (where / "a.zip").write_bytes(zip_bytes(make_tree(where / "orig", SMALL)))
    dest = where / "d:smile:"  # rich would have drawn an emoji here
    assert cli("fetch", "--accept", "--from", str(where / "a.zip"), "--dest", str(dest)).code == 0
    args = ["verify", "--dest", str(dest), *(["--deep"] if deep else [])]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED "))
    assert json.loads(line[len("LOADED ") :]) == [], line
    assert f"{dest}/BG-20k: 9 files OK" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["cite"], ["cite", "--all", "--format", "cff"], ["agreement", "--sha256"]]
)
def test_cite_and_the_digest_are_answered_without_validating_the_description(
    args: list[str],
) -> None:
    """Precompiled answers (citing/precompiled.py): no dataclasses, PyYAML, release model or
    typing."""
    probe = PROBE.replace(
        'loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)',
        "loaded = sorted({'bg20k_fetch.release', 'dataclasses', 'yaml', 'typing'}"
        " & set(sys.modules))",
    )
    assert probe != PROBE
    proc = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED "))
    assert json.loads(line[len("LOADED ") :]) == [], line
    assert proc.returncode == 0 and proc.stdout
