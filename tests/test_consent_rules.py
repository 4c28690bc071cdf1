"""How a consent record is judged and described, in-process (``consent.py``).

The CLI tests check the same states through `bg20k status`; these pin the exact words each
state is reported in and the diff an earlier acceptance is shown against, where a user reads
them.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bg20k_fetch.consent import identity as consent_identity
from bg20k_fetch.consent import store as consent_store
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import (
    ConsentRecord,
    ConsentStatus,
    State,
    agreement_diff,
    describe,
    read_status,
)
from bg20k_fetch.consent.store import read_history, record_acceptance, revoke
from bg20k_fetch.errors import StorageError, UsageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.oslock import FileLock


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
    assert revoked.record is not None and revoked.record.revoked_at is not None  # for status
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


# --- writing the trail (consent_store.py) ---


def _stamps_around_now(seconds: int = 4) -> list[str]:
    now = datetime.now(UTC)
    return [(now + timedelta(seconds=s)).strftime("%Y%m%dT%H%M%SZ") for s in range(seconds)]


def test_a_damaged_record_is_set_aside_under_a_utc_stamp_never_over_another(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Local time nine hours off UTC: the stamp must still be UTC.
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    try:
        paths.config_dir.mkdir(parents=True)
        # Whatever second the call lands in, `.damaged-<stamp>` is taken, by a dangling link.
        for stamp in _stamps_around_now():
            (paths.config_dir / f"consent.yaml.damaged-{stamp}").symlink_to("nowhere")
        paths.consent_file.write_text("not: [a record\n")
        record_acceptance(paths, shipped, "flag")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    aside = sorted(
        p for p in paths.config_dir.iterdir() if not p.is_symlink() and ".damaged-" in p.name
    )
    assert len(aside) == 1
    assert re.fullmatch(r"consent\.yaml\.damaged-(\d{8}T\d{6}Z)-2", aside[0].name)
    assert aside[0].read_text() == "not: [a record\n"
    assert all(p.is_symlink() for p in paths.config_dir.glob("consent.yaml.damaged-*Z"))
    assert read_status(paths, shipped).in_force


def test_a_damaged_record_that_cannot_be_set_aside_is_kept_and_nothing_accepted(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.consent_file.write_text("[]\n")

    def read_only(src: object, dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(consent_store.os, "rename", read_only)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == (
        f"Cannot set the damaged consent record {paths.consent_file} aside: "
        "Read-only file system; the agreement is not accepted."
    )
    assert paths.consent_file.read_text() == "[]\n"
    assert read_history(paths) == []


def test_revoking_twice_records_one_revocation(paths: Paths, shipped: Agreement) -> None:
    assert revoke(paths, shipped) is None  # nothing to revoke
    record_acceptance(paths, shipped, "flag")
    revoked = revoke(paths, shipped)
    assert revoked is not None and revoked.status == "revoked"
    assert revoked.revoked_at is not None and revoked.revoked_at.microsecond == 0
    assert revoke(paths, shipped) is None
    assert [e["event"] for e in read_history(paths)] == ["accepted", "revoked"]


def test_a_revocation_that_cannot_be_logged_says_consent_stays(
    paths: Paths, shipped: Agreement
) -> None:
    record_acceptance(paths, shipped, "flag")
    paths.history_file.unlink()
    paths.history_file.mkdir()
    with pytest.raises(StorageError) as caught:
        revoke(paths, shipped)
    assert caught.value.message.endswith("; consent is still in force.")
    assert read_status(paths, shipped).in_force


def test_a_history_that_cannot_be_read_says_why(paths: Paths) -> None:
    paths.config_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.config_dir.write_text("a file where the folder belongs")
    with pytest.raises(StorageError) as caught:
        read_history(paths)
    assert caught.value.message == (
        f"Cannot read the consent history {paths.history_file}: Not a directory."
    )
    paths.config_dir.unlink()
    paths.history_file.parent.mkdir()
    paths.history_file.mkdir()
    with pytest.raises(StorageError) as caught:
        read_history(paths)
    assert caught.value.message == (
        f"Cannot read the consent history {paths.history_file}: it is not a regular file."
    )


def test_history_lines_blank_torn_and_long(paths: Paths, shipped: Agreement) -> None:
    record_acceptance(paths, shipped, "flag")
    with paths.history_file.open("ab") as handle:
        handle.write(b"\n   \n" + b'["a list", "not an event"]\n' + b"z" * 500 + b"\n")
    revoke(paths, shipped)
    events = read_history(paths)
    assert [e["event"] for e in events] == ["accepted", "damaged", "damaged", "revoked"]
    # Lines 1-2 are the acceptance's intent and outcome; 3 and 4 are blank.
    assert events[1] == {
        "event": "damaged",
        "line": 5,
        "text": '["a list", "not an event"]',
        "reason": "not an event",
    }
    assert events[2] == {
        "event": "damaged",
        "line": 6,
        "text": "z" * 200,
        "reason": "not a JSON line",
    }


def test_a_record_is_written_in_the_order_of_its_fields(paths: Paths, shipped: Agreement) -> None:
    record_acceptance(paths, shipped, "flag")
    keys = [line.split(":")[0] for line in paths.consent_file.read_text().splitlines()]
    assert keys[:5] == [
        "schema_version",
        "dataset",
        "agreement_title",
        "agreement_version",
        "agreement_sha256",
    ]
    assert keys == [k for k in [f.name for f in dataclasses.fields(ConsentRecord)] if k in keys]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x, x]\n"
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
            "is not a record: it expands to more than 10000 values (aliases?)",
        ),
        (
            "schema_version: true\n",
            "is invalid: schema_version: must be the number 1, not a boolean",
        ),
    ],
    ids=["alias-bomb", "boolean-version"],
)
def test_a_damaged_record_says_what_is_wrong(
    paths: Paths, shipped: Agreement, text: str, reason: str
) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.consent_file.write_text(text)
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and status.reason == reason


def test_a_wrongly_typed_field_is_named_in_one_line(paths: Paths, shipped: Agreement) -> None:
    record_acceptance(paths, shipped, "flag")
    _edit_record(paths, "method: flag", "method: 7")
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and status.reason is not None
    assert status.reason.startswith("is invalid: method")
    assert "\n" not in status.reason and "validation error" not in status.reason


def test_history_lines_name_the_event_first_then_the_record_in_schema_order(
    paths: Paths, shipped: Agreement
) -> None:
    record_acceptance(paths, shipped, "flag")
    intent, outcome = (json.loads(x) for x in paths.history_file.read_text().splitlines())
    assert list(intent) == [
        "event",
        "intent",
        "id",
        *[f.name for f in dataclasses.fields(ConsentRecord)],
    ]
    assert list(outcome) == ["event", "id", *[f.name for f in dataclasses.fields(ConsentRecord)]]
    assert (intent["event"], intent["intent"], outcome["event"]) == (
        "intent",
        "accepted",
        "accepted",
    )
    assert intent["id"] == outcome["id"] and len(intent["id"]) == 32


def test_a_revocation_that_cannot_be_logged_says_why_in_one_sentence(
    paths: Paths, shipped: Agreement
) -> None:
    record_acceptance(paths, shipped, "flag")
    paths.history_file.unlink()
    paths.history_file.mkdir()
    with pytest.raises(StorageError) as caught:
        revoke(paths, shipped)
    assert caught.value.message == (
        f"Cannot append to {paths.history_file}: Is a directory; consent is still in force."
    )


def test_a_failed_write_keeps_the_first_failure_and_its_hint(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record cannot be written and then neither can the 'aborted' line: the user hears
    about the record, with its hint, not about the second failure."""
    real_append = consent_store.append_line
    appended: list[str] = []

    def append_once(path: Path, line: str, mode: int) -> None:
        if appended:
            raise StorageError("the disk went away.")
        appended.append(line)
        real_append(path, line, mode=mode)

    real_write = consent_store.atomic_write

    def full(path: Path, data: bytes, mode: int) -> None:
        if path != paths.consent_file:  # the accepted text's copy is written before it
            return real_write(path, data, mode=mode)
        raise StorageError(f"Cannot write {path}: No space left on device.", hint="Free space.")

    monkeypatch.setattr(consent_store, "append_line", append_once)
    monkeypatch.setattr(consent_store, "atomic_write", full)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == (
        f"Cannot write {paths.consent_file}: No space left on device; "
        "the agreement is not accepted."
    )
    assert caught.value.hint == "Free space."
    assert [json.loads(line)["event"] for line in appended] == ["intent"]


def test_a_history_that_cannot_be_written_passes_its_hint_on(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(path: Path, line: str, mode: int) -> None:
        raise StorageError(f"Cannot append to {path}: Read-only file system.", hint="Remount.")

    monkeypatch.setattr(consent_store, "append_line", read_only)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == (
        f"Cannot append to {paths.history_file}: Read-only file system; "
        "the agreement is not accepted."
    )
    assert caught.value.hint == "Remount."
    assert not paths.consent_file.exists()


def test_the_os_user_when_the_system_cannot_name_it(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nameless() -> str:
        raise KeyError("getpwuid(): uid not found")

    monkeypatch.setattr(consent_identity.getpass, "getuser", nameless)
    assert record_acceptance(paths, shipped, "flag").os_user == f"uid:{os.getuid()}"
    monkeypatch.delattr(consent_identity.os, "getuid")
    assert consent_identity.os_user() == "unknown"


def test_a_host_name_that_is_not_utf8_is_kept_readable(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Python gives for a host name with byte 0xff: a surrogate escape.
    real = consent_store.os.uname()
    named = (real.sysname, "lab-\udcff-node", real.release, real.version, real.machine)
    monkeypatch.setattr(consent_store.os, "uname", lambda: consent_store.os.uname_result(named))
    record = record_acceptance(paths, shipped, "flag")
    assert record.host == "lab-\\xff-node"
    status = read_status(paths, shipped)
    assert status.in_force and status.record is not None and status.record.host == record.host


def test_an_identity_that_is_not_utf8_is_refused_before_anything_is_written(
    paths: Paths, shipped: Agreement
) -> None:
    with pytest.raises(UsageError) as caught:
        record_acceptance(paths, shipped, "flag", name=None, email="ada\udcff@lab")
    assert caught.value.message == "--email is not valid UTF-8 text; nothing was accepted."
    assert caught.value.hint == "Give it in a UTF-8 terminal or locale."
    assert not paths.config_dir.exists()


def test_writers_take_turns_on_the_lock_in_the_config_folder(
    paths: Paths, shipped: Agreement
) -> None:
    # Another process (another node sharing the home folder) holds the lock.
    paths.config_dir.mkdir(parents=True)
    other = FileLock(str(paths.config_dir / ".consent.lock"))
    other.acquire()
    done = threading.Event()
    writer = threading.Thread(
        target=lambda: (record_acceptance(paths, shipped, "flag"), done.set()), daemon=True
    )
    writer.start()
    try:
        assert not done.wait(0.3)
        assert not paths.consent_file.exists()
    finally:
        other.release()
    assert done.wait(10) and read_status(paths, shipped).in_force


@pytest.mark.parametrize("field", ["name", "email", "affiliation"])
def test_each_identity_field_is_checked_and_recorded(
    paths: Paths, shipped: Agreement, field: str
) -> None:
    with pytest.raises(UsageError, match=f"^--{field} is not valid UTF-8"):
        record_acceptance(paths, shipped, "flag", **{field: "x\udcff"})  # type: ignore[arg-type]
    given = {"name": "Ada", "email": "ada@lab", "affiliation": "Lab"}
    record = record_acceptance(paths, shipped, "flag", **given)  # type: ignore[arg-type]
    assert (record.name, record.email, record.affiliation) == ("Ada", "ada@lab", "Lab")
    assert read_status(paths, shipped).record == record


@pytest.mark.parametrize("aborted_line", ["written", "fails too"])
def test_a_record_that_does_not_read_back_is_never_reported_accepted(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch, aborted_line: str
) -> None:
    """A file system that drops the write silently: the record is not on disk, so the
    acceptance is logged as aborted and refused, whatever happens to that log line."""
    real_write, real_append = consent_store.atomic_write, consent_store.append_line

    def dropped(path: Path, data: bytes, mode: int) -> None:
        if path != paths.consent_file:
            real_write(path, data, mode=mode)

    def append(path: Path, line: str, mode: int) -> None:
        if aborted_line == "fails too" and '"aborted"' in line:
            raise StorageError("the disk went away.")
        real_append(path, line, mode=mode)

    monkeypatch.setattr(consent_store, "atomic_write", dropped)
    monkeypatch.setattr(consent_store, "append_line", append)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == (
        f"The consent record {paths.consent_file} does not read back as in force; "
        "the agreement is not accepted."
    )
    # Logged or not, the aborted line says what the record on disk shows: no acceptance.
    assert [e["event"] for e in read_history(paths)] == ["aborted"]
    lines = [json.loads(x)["event"] for x in paths.history_file.read_text().splitlines()]
    assert lines == (["intent", "aborted"] if aborted_line == "written" else ["intent"])


def test_the_accepted_text_is_kept_owner_only_and_a_failure_to_keep_it_accepts_nothing(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = consent_store.atomic_write

    def full(path: Path, data: bytes, mode: int) -> None:
        raise StorageError(f"Cannot write {path}: No space left on device.")

    monkeypatch.setattr(consent_store, "atomic_write", full)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    copy = paths.accepted_texts_dir / f"{shipped.sha256}.md"
    assert caught.value.message == (
        f"Cannot write {copy}: No space left on device; the agreement is not accepted."
    )
    assert read_history(paths) == [] and not paths.consent_file.exists()
    monkeypatch.setattr(consent_store, "atomic_write", real_write)  # space again
    record_acceptance(paths, shipped, "flag")
    assert copy.read_text() == shipped.text
    assert paths.accepted_texts_dir.stat().st_mode & 0o777 == 0o700


def test_a_renewed_acceptance_keeps_the_places_the_data_went(
    paths: Paths, shipped: Agreement, tmp_path: Path
) -> None:
    record_acceptance(paths, shipped, "flag")
    with consent_store.consent_held(paths, shipped) as (_, note):
        note(tmp_path / "data" / "BG-20k")
    renewed = record_acceptance(paths, shipped, "flag", name="Ada")
    assert renewed.datasets == [str((tmp_path / "data" / "BG-20k").absolute())]


# -- the record as a strict dataclass (no pydantic since 2026-12-06): the same rules, in words -----


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("agreement_sha256: ", "agreement_sha256: ABC\nx_: ", "is invalid: agreement_sha256: must "
         "be 64 lower-case hex digits"),
        ("revoked_at: null", "revoked_at: '2100-01-01T00:00:00Z'",
         "is invalid: status is accepted but revoked_at is set"),
    ],
    ids=["digest", "accepted-yet-revoked"],
)  # fmt: skip
def test_a_record_that_breaks_a_rule_names_the_rule(
    paths: Paths, shipped: Agreement, old: str, new: str, reason: str
) -> None:
    record_acceptance(paths, shipped, "flag")
    _edit_record(paths, old, new)
    if "x_: " in new:  # drop the original value, keep the YAML valid
        lines = paths.consent_file.read_text().splitlines()
        paths.consent_file.write_text("\n".join(x for x in lines if not x.startswith("x_:")) + "\n")
    status = read_status(paths, shipped)
    assert (status.state, status.reason) == (State.DAMAGED, reason)


def test_a_record_without_a_schema_version_is_version_1(paths: Paths, shipped: Agreement) -> None:
    record_acceptance(paths, shipped, "flag")
    _edit_record(paths, "schema_version: 1\n", "")
    assert read_status(paths, shipped).in_force


def test_a_contradicting_record_is_still_shown_with_its_damage(
    paths: Paths, shipped: Agreement
) -> None:
    """`status --json` shows the record it found beside why it is not consent."""
    record_acceptance(paths, shipped, "flag")
    _edit_record(paths, "agreement_version: v1.0", "agreement_version: v9")
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and status.record is not None
    assert status.record.agreement_version == "v9"


def test_a_records_json_is_a_copy_that_cannot_change_the_record(
    paths: Paths, shipped: Agreement
) -> None:
    record = record_acceptance(paths, shipped, "flag")
    data = record.to_json()
    data["datasets"].append("/elsewhere")
    assert record.datasets == [] and record.to_json()["datasets"] == []
