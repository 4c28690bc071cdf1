"""The benchmark suite runs (its --quick sizes): every case, bg20k beside its yardsticks, a
table and raw numbers written. Times are never asserted here; the figures are in
docs/performance.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS = ("nginx", "curl", "openssl", "7z", "unzip", "aria2c", "pdftotext", "pdflatex")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_quick_benchmark_suite_runs(tmp_path: Path) -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not Path("/usr/bin/time").exists():
        missing.append("/usr/bin/time")
    if missing:
        pytest.skip(f"benchmark tools missing: {', '.join(missing)} (.ci/run installs them)")
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--quick",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (raw,) = out.glob("results-*.json")
    cases = json.loads(raw.read_text())["cases"]
    numbers = {c["case"].split(".")[0] for c in cases}
    expected = {"1", "2", "3", "4", "5", "5b", "6", "8", "9a", "9b"}  # 7: the table below
    if len(os.sched_getaffinity(0)) >= 2:
        expected.add("5c")  # the emulator on a core of its own
    assert numbers == expected
    for case in cases:
        runs = [case["ours"], *case["yardsticks"], *case["extra"]]
        assert all(m["seconds"] and min(m["seconds"]) > 0 for m in runs), case["case"]
        assert all(m["rss_kib"] for m in runs), case["case"]  # peak memory of every command
        assert case["ratio"] > 0
    table = (out / "latest.md").read_text()
    assert "| target | measured | each pair (min, median, max) |" in table
    assert "Many-file scaling" in table
    for case in cases:
        if case["target"] is not None:  # one ratio per pair of adjacent runs
            assert len(case["pair_ratios"]) == len(case["ours"]["seconds"]) > 0
    assert "Peak memory against the number of files" in table
    for command in ("bg20k fetch --source FILE.zip", "bg20k fetch (Drive folder)"):
        row = next(line for line in table.splitlines() if line.startswith(f"| {command} |"))
        assert row.count(" MiB") == 3  # a peak at each of the three sizes
    for step in ("listing", "manifest", "layout check", "quick verify", "no-op re-fetch"):
        assert f"| {step}" in table
    assert not (tmp_path / "work").exists()  # the generated data is removed


def test_the_two_sides_of_a_comparison_alternate_and_start_from_the_same_state(
    tmp_path: Path,
) -> None:
    """A verdict must not depend on which side ran first: runs are interleaved A B, B A, …
    after one warm-up each, and every run is preceded by its own preparation."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from lib import Spec, timed_abba
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    log = tmp_path / "order"
    prepared: list[str] = []
    specs = [
        Spec(name, f"echo {name} >> {log}", prepare=lambda name=name: prepared.append(name))
        for name in ("A", "B")
    ]
    measures = timed_abba(specs, runs=4)
    assert log.read_text().split() == ["A", "B", "A", "B", "B", "A", "A", "B", "B", "A"]
    assert prepared == log.read_text().split()
    assert [len(m.seconds) for m in measures] == [4, 4]  # the warm-ups are not counted
    assert all(m.spread[0] <= m.median <= m.spread[1] for m in measures)
