"""Properties of the consent trail's parsers: a consent record, a history line and a register
record read back exactly as written, and any bytes a disk or another user hands bg20k are a
record, a damaged entry or a typed error, never consent by accident and never a crash.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bg20k_fetch.consent.record import ConsentRecord, parse_record
from bg20k_fetch.consent.trail import line_for, read_lines
from bg20k_fetch.errors import StorageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.register.records import Damaged, RegisterRecord, parse

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
SOME_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
WHEN = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2026, 1, 1),
    timezones=st.sampled_from([UTC, datetime.now().astimezone().tzinfo or UTC]),
)


@st.composite
def records(draw: st.DrawFn) -> ConsentRecord:
    accepted = draw(WHEN)
    revoked = draw(st.booleans())
    return ConsentRecord(
        dataset=draw(TEXT),
        agreement_title=draw(TEXT),
        agreement_version=draw(TEXT),
        agreement_sha256=draw(HEX64),
        status="revoked" if revoked else "accepted",
        accepted_at=accepted,
        revoked_at=min(
            accepted + draw(st.timedeltas(timedelta(0), timedelta(days=900))),
            datetime.now(UTC) - timedelta(days=1),  # never in the future: that is not believed
        )
        if revoked
        else None,
        method=draw(st.sampled_from(["prompt", "flag", "environment"])),
        os_user=draw(TEXT),
        host=draw(TEXT),
        tool_version=draw(TEXT),
        name=draw(st.none() | TEXT),
        email=draw(st.none() | TEXT),
        affiliation=draw(st.none() | TEXT),
        accepted_text=draw(st.none() | TEXT),
        datasets=draw(st.lists(TEXT, max_size=3)),
    )


# -- consent.yaml ---------------------------------------------------------------------------------


@given(records())
def test_a_consent_record_reads_back_as_written(record: ConsentRecord) -> None:
    assert parse_record(record.to_yaml().decode("utf-8")) == record


@given(st.one_of(TEXT, st.text(st.characters(exclude_categories=("Cs",)), max_size=400)))
@example("schema_version: true\n")
@example("&a [*a, *a]")
@example("{" * 3000)
def test_any_consent_file_is_a_record_or_a_value_error(text: str) -> None:
    try:
        record = parse_record(text)
    except ValueError:
        return
    assert record.status in ("accepted", "revoked")  # only a whole, valid record gets here


# -- consent-history.jsonl ------------------------------------------------------------------------


@given(records(), st.sampled_from(["intent", "accepted", "revoked", "aborted"]), st.booleans())
def test_a_history_line_reads_back_as_the_event_it_records(
    record: ConsentRecord, event: str, reconciled: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths(Path(scratch), Path(scratch), Path(scratch))
        intent = "accepted" if event == "intent" else None
        line = line_for(event, record, txn="t1", intent=intent, reconciled=reconciled)  # type: ignore[arg-type]
        paths.history_file.write_text(line + "\n", encoding="utf-8")
        [read] = read_lines(paths)
    assert read["event"] == event and read["id"] == "t1"
    fields = {k: v for k, v in read.items() if k not in ("event", "intent", "id", "reconciled")}
    assert ConsentRecord.from_mapping(fields) == record


@given(st.lists(st.binary(max_size=120), max_size=6), records())
@example([b"[" * 100_000], None)
@example([b'{"event": "accepted", "id": 7}'], None)
def test_any_history_is_events_and_damaged_lines_never_an_exception(
    garbage: list[bytes], record: ConsentRecord | None
) -> None:
    """Whatever surrounds it, a good line is read as itself, and every other line is shown as
    damaged with its number: a torn line never swallows its neighbour."""
    good = line_for("accepted", record, txn="good").encode() if record is not None else None
    lines = [g.replace(b"\n", b" ") for g in garbage] + ([good] if good else [])
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths(Path(scratch), Path(scratch), Path(scratch))
        paths.history_file.write_bytes(b"\n".join(lines) + b"\n")
        try:
            events = read_lines(paths)
        except StorageError:
            return
    for event in events:
        assert event["event"] in ("intent", "accepted", "revoked", "aborted", "damaged")
    if good is not None:
        assert events[-1].get("id") == "good" and events[-1]["event"] == "accepted"


# -- .bg20k-register/<sha256>.json ----------------------------------------------------------------


@given(records(), st.none() | SOME_TEXT)
def test_a_register_record_reads_back_under_its_name(
    record: ConsentRecord, name: str | None
) -> None:
    registered = RegisterRecord.of(record.replace(name=name))
    assume(registered.os_user and registered.host and registered.agreement_version)
    assume(record.tool_version)
    data = registered.to_bytes()
    assert parse(registered.file_name(), data) == registered


@given(
    st.binary(max_size=300)
    | st.builds(
        lambda v: json.dumps(v).encode(),
        st.dictionaries(
            st.sampled_from(["schema", "event", "at", "registered_at", "os_user", "host", "name"]),
            st.none() | st.integers() | TEXT | st.lists(st.integers(), max_size=2),
        ),
    )
)
@example(b"[" * 100_000)
@example(b'{"schema": 1, "at": "2020-01-01T00:00:00", "registered_at": 5}')
def test_any_register_file_is_a_record_or_named_damaged(data: bytes) -> None:
    name = hashlib.sha256(data).hexdigest() + ".json"  # a squatter can name it right
    try:
        parse(name, data)
    except Damaged as exc:
        assert str(exc)
    with pytest.raises(Damaged, match="altered"):  # the same bytes under another name
        parse("0" * 64 + ".json", data)


def test_a_register_record_with_a_naive_time_is_damaged_not_a_crash() -> None:
    """fromisoformat("2025-12-06+00:00") gives a time without a zone, which cannot be compared
    with now: a TypeError out of the register's reader (found by fuzz/targets.py)."""
    data = (
        b'{"agreement_sha256":"' + b"c" * 64 + b'","agreement_version":"v1.0",'
        b'"at":"2026-12-01T09:30:00+00:00","event":"accepted","host":"node1",'
        b'"method":"prompt","os_user":"root","registered_at":"2025-12-06T10:00:00",'
        b'"schema":1,"tool_version":"1.0"}\n'
    )
    with pytest.raises(Damaged, match="its event or time is not one bg20k writes"):
        parse(hashlib.sha256(data).hexdigest() + ".json", data)
