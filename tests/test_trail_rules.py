"""The consent history as a person reads it (consent/trail.py): the behaviours the surviving
mutants of a mutmut run showed no test pinned.

Most tests read the history with `read_history` directly, as `history` does when the store
cannot be tidied first (a read-only config folder, another writer holding it): what a killed
writer left must then be read from the disk, not written down.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bg20k_fetch.consent import store as consent_store
from bg20k_fetch.consent import trail
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import append_line, atomic_write
from bg20k_fetch.util.oslock import FileLock

TORN_OUTCOME = '{"event": "revoked", "id": "b", "dataset": "BG'


def _accepted(paths: Paths, shipped: Agreement) -> ConsentRecord:
    """A real acceptance: the record, its text, the lock and a history [intent, accepted]."""
    return consent_store.record_acceptance(paths, shipped, "flag")


def _killed_revoke(paths: Paths, record: ConsentRecord, *after: str) -> ConsentRecord:
    """A revocation whose writer was killed after writing the record, before its outcome (or,
    with ``after``, while appending it): the intent and the revoked record are on disk."""
    revoked = record.replace(status="revoked", revoked_at=record.accepted_at)
    append_line(paths.history_file, trail.line_for("intent", revoked, txn="b", intent="revoked"))
    atomic_write(paths.consent_file, revoked.to_yaml())
    for text in after:
        append_line(paths.history_file, text)
    return revoked


def _shown(event: str, txn: str, record: ConsentRecord) -> dict[str, object]:
    """An intent as the history shows it: what became of it, its id and its record."""
    return {"event": event, "id": txn, "reconciled": True, **record.to_json()}


def _line(**fields: object) -> str:
    return json.dumps(fields)


# Kills x__problem__mutmut_19 and _20 ("not an event" reworded), x__problem__mutmut_23 and _24
# (the intent's check never made: `event == "XXintentXX"` / "INTENT"), x__problem__mutmut_29
# (an intent to abort accepted), x__problem__mutmut_30 and _31 ("an intent to do nothing
# known" reworded), x__problem__mutmut_33 and _34 (the id's type never checked: "XXidXX" /
# "ID") and x__problem__mutmut_37 and _38 ("its id is not text" reworded).
def test_history_lines_of_the_wrong_shape_are_shown_damaged_with_the_reason(
    paths: Paths, shipped: Agreement
) -> None:
    fields = _accepted(paths, shipped).to_json()
    paths.history_file.write_text(
        "\n".join(
            [
                _line(event="renewed", id="a", **fields),
                _line(event="intent", intent="aborted", id="b", **fields),
                _line(event="intent", intent="forgotten", id="c", **fields),
                _line(event="accepted", id=7, **fields),
            ]
        )
        + "\n"
    )
    shown = trail.read_history(paths)
    assert [(e["event"], e["line"], e["reason"]) for e in shown] == [
        ("damaged", 1, "not an event"),
        ("damaged", 2, "an intent to do nothing known"),
        ("damaged", 3, "an intent to do nothing known"),
        ("damaged", 4, "its id is not text"),
    ]


# Kills x_resolve__mutmut_33 (`took_effect(...) and False`: always aborted),
# x_resolve__mutmut_35 (`str(None)`: shown as "None"), x_resolve__mutmut_36 and _37
# (`line["XXintentXX"]` / `line["INTENT"]`: KeyError), x_resolve__mutmut_39 (compared with no
# record), x_resolve__mutmut_45 (only the intent kept, its id and record dropped),
# x_resolve__mutmut_46 and _47 (the `intent` field left in) and x_read_history__mutmut_4
# (the record on disk never read).
def test_a_killed_change_whose_record_is_on_disk_reads_as_done_without_its_outcome(
    paths: Paths, shipped: Agreement
) -> None:
    record = _accepted(paths, shipped)
    revoked = _killed_revoke(paths, record)
    shown = trail.read_history(paths)
    assert [e["event"] for e in shown] == ["accepted", "revoked"]
    assert shown[-1] == _shown("revoked", "b", revoked)


# Kills x_unresolved__mutmut_12 (the lines walked back two at a time: the intent just before
# a torn last line is skipped, so the revocation on disk would read as aborted); also the
# mutants the test above kills (x_resolve__mutmut_33, _35, _36, _37, _39, _45, _46, _47 and
# x_read_history__mutmut_4).
def test_a_change_killed_while_appending_its_outcome_reads_as_done(
    paths: Paths, shipped: Agreement
) -> None:
    record = _accepted(paths, shipped)
    revoked = _killed_revoke(paths, record, TORN_OUTCOME)
    shown = trail.read_history(paths)
    assert [e["event"] for e in shown] == ["accepted", "revoked", "damaged"]
    assert shown[1] == _shown("revoked", "b", revoked)
    consent_store.tidy(paths)  # and the next writer of the store writes it down so
    assert trail.read_lines(paths)[-1] == json.loads(
        trail.line_for("revoked", revoked, txn="b", reconciled=True)
    )


# Kills x_unresolved__mutmut_22 (`id matches or is an outcome`: any later outcome, even of
# another change, would settle the intent, and the revocation on disk read as aborted); also
# x_unresolved__mutmut_12 and the mutants the killed-change test above kills.
def test_an_outcome_of_another_change_does_not_settle_an_intent(
    paths: Paths, shipped: Agreement
) -> None:
    record = _accepted(paths, shipped)
    other = _line(event="aborted", id="c", **record.to_json())  # e.g. a merged history
    revoked = _killed_revoke(paths, record, other)
    shown = trail.read_history(paths)
    assert [e["event"] for e in shown] == ["accepted", "revoked", "aborted"]
    assert shown[1] == _shown("revoked", "b", revoked)


# Kills x_resolve__mutmut_26, _27 and _28 (an earlier intent with no outcome shown as None,
# "XXabortedXX" or "ABORTED" instead of "aborted") and x_unresolved__mutmut_12 (which would
# take the earlier intent for the unresolved one).
def test_an_earlier_intent_without_an_outcome_reads_as_aborted(
    paths: Paths, shipped: Agreement
) -> None:
    record = _accepted(paths, shipped)  # on disk, as the intent "a" also meant it
    paths.history_file.write_text(
        trail.line_for("intent", record, txn="a", intent="accepted")
        + "\n"
        + trail.line_for("intent", record, txn="b", intent="accepted")
        + "\n"
        + trail.line_for("accepted", record, txn="b")
        + "\n"
    )
    shown = trail.read_history(paths)
    assert shown[0] == _shown("aborted", "a", record)
    assert [e["event"] for e in shown] == ["aborted", "accepted"]


# Kills x__someone_writes__mutmut_3 (no lock file taken to mean a writer is at work: the
# killed change would read as pending for ever).
def test_with_no_lock_file_nobody_is_writing_and_a_killed_change_is_resolved(
    paths: Paths, shipped: Agreement
) -> None:
    record = _accepted(paths, shipped)
    revoked = _killed_revoke(paths, record)
    paths.consent_lock.unlink()
    assert trail.read_history(paths)[-1] == _shown("revoked", "b", revoked)


# Kills x__someone_writes__mutmut_10 (a lock that cannot be opened, here a link the lock will
# not follow, taken to mean a writer is at work: the killed change would read as pending).
def test_a_lock_that_cannot_be_opened_is_no_writer_at_work(
    paths: Paths, shipped: Agreement, tmp_path: Path
) -> None:
    record = _accepted(paths, shipped)
    revoked = _killed_revoke(paths, record)
    target = tmp_path / "a-regular-file"
    target.write_bytes(b"")
    paths.consent_lock.unlink()
    paths.consent_lock.symlink_to(target)
    assert trail.read_history(paths)[-1] == _shown("revoked", "b", revoked)


# Kills x__someone_writes__mutmut_8 (`acquire(timeout=1)`: reading the history would wait for
# the writer, here one that finishes during the first pause, instead of saying at once that a
# change is pending); x__someone_writes__mutmut_7 (`timeout=None`, mutmut: timeout) hangs it
# until pytest's timeout.
def test_reading_the_history_never_waits_for_a_writer_and_shows_its_change_pending(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _accepted(paths, shipped)
    revoked = _killed_revoke(paths, record)
    writer = FileLock(str(paths.consent_lock))
    writer.acquire(timeout=0)
    pauses: list[float] = []

    def writer_finishes(seconds: float) -> None:
        pauses.append(seconds)
        writer.release()

    monkeypatch.setattr("bg20k_fetch.util.oslock.time.sleep", writer_finishes)
    try:
        shown = trail.read_history(paths)
    finally:
        writer.release()
    assert pauses == []
    assert shown[-1] == _shown("pending", "b", revoked)


# Kills x_remove_torn_writes__mutmut_8 (`suppress(None)` around the unlink: a leftover that
# cannot be removed raises TypeError out of every status, history, accept and revoke).
def test_a_leftover_that_cannot_be_removed_does_not_stop_the_store(
    paths: Paths, shipped: Agreement
) -> None:
    paths.config_dir.mkdir(parents=True)
    stuck = paths.config_dir / ".consent.yaml.1@host.a.tmp"
    stuck.mkdir()  # unlink(2) refuses a directory, even to root
    torn = paths.config_dir / ".consent.yaml.2@host.b.tmp"
    torn.write_bytes(b"status: acc")
    consent_store.tidy(paths)
    assert not torn.exists() and stuck.is_dir()
    _accepted(paths, shipped)
    assert [e["event"] for e in trail.read_history(paths)] == ["accepted"]
