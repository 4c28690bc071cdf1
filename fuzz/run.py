"""Coverage-guided fuzzing of bg20k's parsers with atheris (libFuzzer), outside CI.

    pip install -e '.[fuzz]'
    python fuzz/run.py                       # every target, 60 s each
    python fuzz/run.py bib tex --seconds 600 # some targets, longer

Each target starts from ``fuzz/corpus/<target>/`` (real inputs, and what earlier runs found
interesting), fuzzes for the budget, then merges the inputs that reached new code back into
that folder (libFuzzer's ``-merge=1`` keeps only those). A crash is written to
``fuzz/crashes/<target>-crash-*``; turn it into a regression test (put it in the corpus: the
fast tests replay every corpus file) and fix it. The summary (executions, new inputs, crashes)
is printed and written to ``fuzz/last-run.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def fuzz_one(name: str) -> None:
    """Runs in a child process: one target under libFuzzer, with bg20k instrumented."""
    import atheris

    sys.path.insert(0, str(REPO))
    with atheris.instrument_imports(include=["bg20k_fetch"]):
        from fuzz import targets

    def one_input(data: bytes) -> None:
        targets.run(name, data)

    # libFuzzer re-runs its own command line through the shell for a merge: name the
    # interpreter too, since this script is not executable on its own.
    argv = [f"{sys.executable} {Path(__file__).resolve()}", *sys.argv[1:]]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def campaign(name: str, seconds: int) -> dict[str, object]:
    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = HERE / "crashes"
    crashes.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"bg20k-fuzz-{name}-"))
    before = len(list(corpus.iterdir()))
    started = time.monotonic()
    # The child is this script with the target in its environment, not its arguments: libFuzzer
    # re-runs sys.argv as is for a merge, and the re-run must fuzz the same target.
    child = [sys.executable, str(Path(__file__))]
    env = {**os.environ, "BG20K_FUZZ_TARGET": name}
    run = subprocess.run(
        [*child, str(work), str(corpus), f"-max_total_time={seconds}", "-rss_limit_mb=2048",
         "-timeout=10", f"-artifact_prefix={crashes}/{name}-", "-print_final_stats=1"],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    log = run.stdout + run.stderr
    subprocess.run(
        [*child, "-merge=1", str(corpus), str(work)], capture_output=True, check=False, env=env
    )
    shutil.rmtree(work, ignore_errors=True)
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    found = sorted(p.name for p in crashes.glob(f"{name}-*"))
    return {
        "target": name,
        "seconds": round(time.monotonic() - started),
        "executions": int(runs[-1]) if runs else None,
        "corpus_before": before,
        "corpus_after": len(list(corpus.iterdir())),
        "crashes": found,
        "exit": run.returncode,
        "tail": log.strip().splitlines()[-3:] if run.returncode else [],
    }


def main() -> int:
    if name := os.environ.get("BG20K_FUZZ_TARGET"):
        fuzz_one(name)
        return 0
    sys.path.insert(0, str(REPO))
    from fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(TARGETS)} (default all)")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    args = parser.parse_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"no such target: {', '.join(unknown)}")
    results = []
    for name in args.targets or list(TARGETS):
        result = campaign(name, args.seconds)
        results.append(result)
        print(json.dumps(result), flush=True)
    (HERE / "last-run.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any(r["crashes"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
