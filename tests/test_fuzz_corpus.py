"""Every input the fuzzers keep (fuzz/corpus/<target>/: the seeds, and what reached new code or
once crashed a parser) replayed through its target: each ends in a value or the parser's typed
error. A crash fuzz/run.py finds is put here, so it stays fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.targets import TARGETS, run

CORPUS = Path(__file__).resolve().parent.parent / "fuzz" / "corpus"
CASES = sorted(
    (target.name, path)
    for target in CORPUS.iterdir()
    if target.is_dir()
    for path in target.iterdir()
)


def test_every_target_has_a_corpus_and_every_corpus_a_target() -> None:
    assert {name for name, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_corpus_replays_without_a_finding(target: str) -> None:
    for name, path in CASES:
        if name == target:
            run(name, path.read_bytes())
