"""Run the benchmark suite: bg20k beside the strongest plain tools, in one run, as ratios.

    python benchmarks/run.py            # the full sizes (tens of minutes; docs/performance.md)
    python benchmarks/run.py --quick    # small sizes, one run each: proves the suite works
    python benchmarks/run.py --only download,startup

It installs what it compares against from Debian's packages when missing (nginx, curl,
openssl, p7zip-full, unzip, aria2) and starts its own nginx and Drive emulator on 127.0.0.1.
Results: a Markdown table of medians and ratios, and the raw numbers as JSON, in
benchmarks/results/ (and printed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases
import report
from drive_block import drive_block
from drive_pinned import drive_pinned
from lib import PY, REPO, ensure_tools, machine
from memory import memory_table, peak_memory
from paper_check import paper_check

CASES = (
    "download", "extract", "verify", "drive", "block", "startup", "many", "e2e", "paper", "memory"
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--runs", type=int, help="runs per command after the warm-up")
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/bg20k-bench"))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args(argv)
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    missing = ensure_tools()
    if missing:
        print(f"missing tools: {', '.join(missing)} (apt-get install them)", file=sys.stderr)
        return 2
    # `pip install .` compiles bytecode; an editable install under PYTHONDONTWRITEBYTECODE
    # (this sandbox sets it) never does, and would time the compiler instead of bg20k.
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "bg20k_fetch")], check=True)
    sizes = cases.QUICK if args.quick else cases.FULL
    if args.runs:
        sizes = cases.Sizes(**{**sizes.__dict__, "runs": args.runs})
    args.work.mkdir(parents=True, exist_ok=True)
    bench = cases.Bench(args.work, sizes)
    started = time.monotonic()
    found: list[report.Comparison] = []
    scaling: list[cases.Scaling] = []
    memory: dict[str, dict[int, float]] = {}
    try:
        found, scaling = run_cases(bench, chosen)
        if "memory" in chosen:
            memory = peak_memory(bench)
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    header = (
        f"bg20k benchmarks ({'quick' if args.quick else 'full'}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; medians of "
        f"{sizes.runs} run(s) after a warm-up (extraction and end to end: "
        f"{max(sizes.runs, sizes.wide_runs)}; start-up: {sizes.startup_runs}); "
        f"took {time.monotonic() - started:.0f} s"
    )
    extra = scaling_table(scaling) + memory_table(memory)
    text = report.markdown(found, header) + extra
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    report.write(found, header, args.out, stamp, extra=extra)
    print(text)
    return 0


def run_cases(
    bench: cases.Bench, chosen: list[str]
) -> tuple[list[report.Comparison], list[cases.Scaling]]:
    found: list[report.Comparison] = []
    scaling: list[cases.Scaling] = []
    tree, env = None, None
    if {"download", "e2e"} & set(chosen):
        with cases.served(bench) as url:
            if "download" in chosen:
                found += cases.download(bench, url)
            if "e2e" in chosen:
                for shape in bench.sizes.shapes:
                    found += cases.end_to_end(bench, url, shape)
    if {"extract", "verify", "startup"} & set(chosen):
        for shape in bench.sizes.shapes:
            extracted, tree, env = cases.extraction(bench, shape)
            if "extract" in chosen:
                found += extracted
            if "verify" in chosen:
                found += cases.verify(bench, tree, env, shape)
    if "startup" in chosen and tree is not None and env is not None:
        found += cases.start_up(bench, tree, env)
    if "drive" in chosen:
        found += cases.drive(bench)
        found += drive_pinned(bench)
    if "block" in chosen:
        found += drive_block(bench)
    if "paper" in chosen:
        found += paper_check(bench)
    if "many" in chosen:
        scaling = cases.many_files(bench)
    found.sort(key=lambda c: c.case)
    return found, scaling


def scaling_table(scaling: list[cases.Scaling]) -> str:
    return report.by_size(
        "Many-file scaling (7): seconds at each size; growth = time per file at the largest "
        "size over time per file at the smallest (1.0 is linear).",
        "step",
        [(s.step, {n: f"{t:.3f} s" for n, t in s.seconds.items()}, s.growth()) for s in scaling],
    )


if __name__ == "__main__":
    sys.exit(main())
