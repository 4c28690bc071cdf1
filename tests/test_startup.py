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
    ],
)
def test_the_commonest_commands_load_nothing_heavy(args: list[str], allowed: set[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED "))
    assert set(json.loads(line[len("LOADED ") :])) <= allowed, (args, line)
    assert proc.stdout  # and it still did its job
