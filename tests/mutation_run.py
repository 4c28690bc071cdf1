"""Mutation testing, one module at a time, each against the test files that exercise it.

    python tests/mutation_run.py [--workdir DIR] [--survivors] [MODULE ...]

For each module (default: all in MODULE_TESTS) this clones the repository's HEAD into
``DIR/<module>``, scopes ``[tool.mutmut]`` to that module and its test files, and runs
``mutmut run``. ``--survivors`` judges again, in a fresh clone ``DIR/<module>.againN``, only
the mutants no run has killed yet (and not listed as equivalent): for after new tests were
committed. Scores over all runs: ``python tests/mutation_scores.py DIR/*``.

Why scoped: a surviving mutant reruns every test that reaches its function, and nearly every
CLI test reaches consent, hashing and the download engine; over the whole fast layer a full
run was estimated at hours on two cores. Leaving tests out can only let more mutants survive,
so a scoped score is a lower bound on the suite's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_CONSENT = [
    "tests/test_consent.py",
    "tests/test_consent_rules.py",
    "tests/test_consent_store_rules.py",
    "tests/test_trail_rules.py",
    "tests/test_gate_rules.py",
    "tests/test_safety_consent.py",
    "tests/test_guards.py",
    "tests/test_api.py",
    "tests/test_hostile_inputs.py::test_damaged_consent_record_is_never_consent",
    "tests/test_hostile_inputs.py::test_damaged_history_is_shown_or_refused",
    "tests/test_hostile_inputs.py::test_an_unreadable_consent_record",
    "tests/test_properties_consent.py",
    "tests/test_r2_consent.py",
]
_NETWORK = [
    "tests/test_download_rules.py",
    "tests/test_download_engine.py",
    "tests/test_resume_state.py",
    "tests/test_retry_rules.py",
    "tests/test_safety_network.py",
    "tests/test_fetch_http.py",
    "tests/test_durability.py",
    "tests/test_guards.py",
    "tests/test_properties_data.py",
    "tests/test_deep_json.py",
]
_DATASET = [
    "tests/test_archive_checks.py",
    "tests/test_archive_safety.py",
    "tests/test_extract.py",
    "tests/test_verify_lock.py",
    "tests/test_consumption.py",
    "tests/test_reports.py",
    "tests/test_layout_rules.py",
    "tests/test_safety_dataset.py",
    "tests/test_properties_data.py",
    "tests/test_fuzz_corpus.py",
]
_FETCH = [
    "tests/test_install_rules.py",
    "tests/test_adopt_rules.py",
    "tests/test_decision_rules.py",
    "tests/test_safety_dataset.py",
    "tests/test_r2_dataset.py",
    "tests/test_durability.py",
    "tests/test_consumption.py",
    "tests/test_api.py",
    "tests/test_probe_regressions.py",
    "tests/test_hostile_inputs.py",
    "tests/test_extract.py",
    "tests/test_verify_lock.py",
    "tests/test_safety_consent.py",
]
_STORE = [
    "tests/test_publisher_rules.py",
    "tests/test_proof_rules.py",
    "tests/test_s2_store.py",
]  # test_object_store.py is left out of every run (pyproject)
_OUTPUTS = [
    "tests/test_fs_rules.py",
    "tests/test_fs_failure_rules.py",
    "tests/test_safety_outputs.py",
    "tests/test_r2_outputs.py",
    "tests/test_durability.py",
    "tests/test_citations.py",
    "tests/test_hostile_inputs.py",
    "tests/test_safety_consent.py",
    "tests/test_properties_citing.py",
]
_DRIVE = [
    "tests/test_drive_pages.py",
    "tests/test_drive_concurrency.py",
    "tests/test_drive_scale.py",
    "tests/test_throttle_rules.py",
    "tests/test_gdrive.py",
    "tests/test_guards.py",
    "tests/test_properties_data.py",
]

MODULE_TESTS: dict[str, list[str]] = {
    "bg20k_fetch/consent/agreement.py": [
        *_CONSENT,
        "tests/test_agreement.py",
        "tests/test_citations.py",
    ],
    "bg20k_fetch/consent/record.py": _CONSENT,
    "bg20k_fetch/consent/store.py": _CONSENT,
    "bg20k_fetch/consent/trail.py": _CONSENT,
    "bg20k_fetch/consent/gate.py": _CONSENT,
    "bg20k_fetch/transfer/download.py": _NETWORK,
    "bg20k_fetch/transfer/resume.py": _NETWORK,
    "bg20k_fetch/transfer/stream.py": _NETWORK,
    "bg20k_fetch/transfer/retry.py": _NETWORK,
    "bg20k_fetch/transfer/archive.py": [*_DATASET, "tests/test_security.py"],
    "bg20k_fetch/transfer/members.py": [*_DATASET, "tests/test_members.py"],
    "bg20k_fetch/transfer/hashing.py": [
        *_DATASET,
        "tests/test_hashing_rules.py",
        "tests/test_durability.py",
    ],
    "bg20k_fetch/dataset/manifest.py": _DATASET,
    "bg20k_fetch/dataset/layout.py": _DATASET,
    "bg20k_fetch/dataset/verification.py": [*_DATASET, "tests/test_api.py", "tests/test_guards.py"],
    "bg20k_fetch/gdrive/pages.py": _DRIVE,
    "bg20k_fetch/gdrive/throttle.py": _DRIVE,
    "bg20k_fetch/fetching/decision.py": _FETCH,
    "bg20k_fetch/fetching/install.py": _FETCH,
    "bg20k_fetch/fetching/adopt.py": _FETCH,
    "bg20k_fetch/storage/publisher.py": _STORE,
    "bg20k_fetch/storage/proof.py": _STORE,
    "bg20k_fetch/redact.py": [
        "tests/test_properties_data.py",
        "tests/test_security.py",
        "tests/test_hostile_inputs.py",
        "tests/test_durability.py",
        "tests/test_drive_scale.py",
    ],
    "bg20k_fetch/util/fs.py": _OUTPUTS,
}


def _scope(pyproject: Path, module: str, tests: list[str]) -> None:
    text = pyproject.read_text()
    text = re.sub(
        r"only_mutate = \[.*?\]", f"only_mutate = {json.dumps([module])}", text, count=1, flags=re.S
    )
    text = re.sub(
        r"pytest_add_cli_args_test_selection = \[.*?\]",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        text,
        count=1,
        flags=re.S,
    )
    pyproject.write_text(text)


def _clone(work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    subprocess.run(["git", "clone", "-q", str(REPO), str(work)], check=True)


def _still_surviving(runs: list[Path]) -> list[str]:
    """Mutants no run has killed (or none has judged since their function changed), less
    those judged equivalent."""
    sys.path.insert(0, str(REPO))
    from tests.mutation_scores import load_equivalents, load_results

    equivalent = load_equivalents()
    return [
        name
        for verdicts in load_results([r for r in runs if r.exists()]).values()
        for name, verdict in verdicts.items()
        if verdict in ("survived", "no tests", "suspicious", "not checked")
        and name not in equivalent
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bg20k-mutation"))
    parser.add_argument("--survivors", action="store_true")
    parser.add_argument("modules", nargs="*", default=list(MODULE_TESTS))
    args = parser.parse_args()
    by_stem = {Path(m).stem: m for m in MODULE_TESTS}
    unknown = [m for m in args.modules if m not in MODULE_TESTS and m not in by_stem]
    if unknown:
        parser.error(f"not a scoped module: {', '.join(unknown)} (one of: {', '.join(by_stem)})")
    for module in (by_stem.get(m, m) for m in args.modules):
        first = args.workdir / Path(module).stem
        names: list[str] = []
        work = first
        if args.survivors:
            # A fresh clone at HEAD for each round (changing a clone's test selection makes
            # mutmut drop every verdict), judging again only what no round has killed yet.
            rounds = [first, *sorted(first.parent.glob(first.name + ".again*"))]
            names = _still_surviving(rounds)
            if not names:
                continue
            work = first.with_name(f"{first.name}.again{len(rounds)}")
        _clone(work)
        _scope(work / "pyproject.toml", module, MODULE_TESTS[module])
        print(f"== {module}: {len(names) or 'all'} mutants", flush=True)
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", "2", *names]
        with _shared_s3() as env:
            subprocess.run(command, cwd=work, env=env, check=False, stdout=subprocess.DEVNULL)
    return 0


@contextlib.contextmanager
def _shared_s3() -> Iterator[dict[str, str]]:
    """One moto server for the whole mutmut run: each mutant's pytest would otherwise start
    its own (tests/s3server.py), a second or two of every object-store mutant."""
    sys.path.insert(0, str(REPO))
    from tests.s3server import start_server, stop_server

    with tempfile.TemporaryDirectory(prefix="bg20k-mutation-moto-") as where:
        url_file = Path(where) / "url"
        server = start_server(url_file)
        try:
            yield {**os.environ, "BG20K_TEST_S3_URL_FILE": str(url_file)}
        finally:
            stop_server(server)


if __name__ == "__main__":
    raise SystemExit(main())
