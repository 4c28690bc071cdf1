"""How a consent record is judged and described, in-process (``consent.py``).

The CLI tests check the same states through `bg20k status`; these pin the exact words each
state is reported in and the diff an earlier acceptance is shown against, where a user reads
them.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from bg20k_fetch.agreement import Agreement, load_agreement
from bg20k_fetch.consent import (
    ConsentStatus,
    State,
    agreement_diff,
    describe,
    read_status,
)
from bg20k_fetch.consent_store import record_acceptance, revoke
from bg20k_fetch.locations import Paths


@pytest.fixture
def paths(isolated_env: dict[str, Path]) -> Paths:
    return Paths.from_env()


@pytest.fixture
def shipped() -> Agreement:
    return load_agreement()


def _changed(agreement: Agreement) -> Agreement:
    text = agreement.text.replace("Indemnification", "Indemnity", 1)
    return replace(agreement, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


def _edit_record(paths: Paths, old: str, new: str) -> None:
    text = paths.consent_file.read_text()
    assert old in text
    paths.consent_file.write_text(text.replace(old, new, 1))


def test_each_state_is_described_in_words(paths: Paths, shipped: Agreement) -> None:
    assert describe(read_status(paths, shipped)) == "no consent recorded"
    record_acceptance(paths, shipped, "flag")
    in_force = read_status(paths, shipped)
    assert in_force.state is State.IN_FORCE and in_force.record is not None
    assert describe(in_force) == "consent is in force"
    other_text = read_status(paths, _changed(shipped))
    assert other_text.state is State.OTHER_AGREEMENT
    assert describe(other_text) == (
        f"consent was given for a different text ({shipped.sha256[:12]})"
    )
    _edit_record(paths, "dataset: BG-20k", "dataset: AM-2k")
    other_dataset = read_status(paths, shipped)
    assert other_dataset.state is State.OTHER_DATASET
    assert describe(other_dataset) == "the consent record is for another dataset (AM-2k)"
    _edit_record(paths, "dataset: AM-2k", "dataset: BG-20k")
    revoke(paths, shipped)
    revoked = read_status(paths, shipped)
    assert revoked.state is State.REVOKED and describe(revoked) == "consent was revoked"
    paths.consent_file.write_text("[]\n")
    assert describe(read_status(paths, shipped)) == ("the consent file is empty or not a mapping")


def test_a_state_without_its_record_is_never_described_as_consent() -> None:
    # read_status always attaches the record to these; a status built without one still
    # says what is wrong rather than falling through to "in force".
    assert describe(ConsentStatus(State.OTHER_AGREEMENT)) == (
        "consent was given for a different text"
    )
    assert describe(ConsentStatus(State.OTHER_DATASET)) == (
        "the consent record is for another dataset"
    )


def test_a_date_without_a_time_is_a_damaged_record(paths: Paths, shipped: Agreement) -> None:
    record_acceptance(paths, shipped, "flag")
    text = paths.consent_file.read_text()
    accepted = next(line for line in text.splitlines() if line.startswith("accepted_at:"))
    _edit_record(paths, accepted, "accepted_at: 2026-12-01")  # YAML reads a bare date
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED
    assert status.reason == "is invalid: date is not a consent record value"


@pytest.mark.parametrize("kept", ["missing", "a directory", "not UTF-8", "not recorded"])
def test_an_accepted_text_that_cannot_be_read_diffs_from_nothing(
    paths: Paths, shipped: Agreement, kept: str
) -> None:
    record_acceptance(paths, shipped, "flag")
    saved = read_status(paths, shipped).record
    assert saved is not None and saved.accepted_text
    copy = Path(saved.accepted_text)
    if kept == "missing":
        copy.unlink()
    elif kept == "a directory":
        copy.unlink()
        copy.mkdir()
    elif kept == "not UTF-8":
        copy.write_bytes(b"\xff\xfe not text")
    else:
        _edit_record(paths, f"accepted_text: {copy}", "accepted_text: null")
    changed = _changed(shipped)
    diff = agreement_diff(read_status(paths, changed), changed)
    assert diff is not None
    lines = diff.splitlines()
    assert lines[0] == f"--- accepted v1.0 ({shipped.sha256[:12]})"
    assert lines[2] == f"@@ -0,0 +1,{len(changed.text.splitlines())} @@"
    assert lines[3:] == ["+" + line for line in changed.text.splitlines()]
