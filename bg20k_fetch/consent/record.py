"""The consent record: who accepted which agreement text, when, where and how.

This module reads and judges the record; ``consent_store.py`` writes it. ``consent.yaml`` holds
the current record; every acceptance and revocation is also appended to
``consent-history.jsonl``; each accepted text is kept under ``accepted-agreements/<sha256>.md``
so a later agreement can be shown as a diff and an auditor can read exactly what was accepted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.strict import build
from bg20k_fetch.util.yamlio import YamlError, dump_yaml, load_yaml

RECORD_LIMIT = 1 << 20  # a record is a few hundred bytes; anything huge is not one
# Nodes sharing a home directory may disagree about the time by a little; a record from
# further ahead than this was not written by bg20k on any clock worth trusting.
CLOCK_SLACK = timedelta(minutes=10)
Method = Literal["prompt", "flag", "environment"]


_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class ConsentRecord:
    """Strict: a value of the wrong type (a number for a time, true for a version) is a
    damaged record, never coerced into consent. Built by util/strict.py, not pydantic: reading
    a record is what `bg20k status` does, and pydantic cost more to import than all of it."""

    schema_version: Literal[1] = 1
    dataset: str
    agreement_title: str
    agreement_version: str
    agreement_sha256: str
    status: Literal["accepted", "revoked"]
    accepted_at: datetime
    method: Method
    os_user: str
    host: str
    tool_version: str
    name: str | None = None
    email: str | None = None
    affiliation: str | None = None
    accepted_text: str | None = None
    revoked_at: datetime | None = None
    datasets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.agreement_sha256):
            raise ValueError("agreement_sha256: must be 64 lower-case hex digits")
        for name in ("accepted_at", "revoked_at"):
            when = getattr(self, name)
            if when is not None and when.utcoffset() is None:
                raise ValueError(f"{name} has no time zone")
        if self.status == "accepted" and self.revoked_at is not None:
            raise ValueError("status is accepted but revoked_at is set")
        if self.status == "revoked" and self.revoked_at is None:
            raise ValueError("status is revoked but revoked_at is missing")
        if self.revoked_at is not None and self.revoked_at < self.accepted_at:
            raise ValueError("revoked_at is before accepted_at")

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> ConsentRecord:
        """Validate what YAML or JSON gave: times arrive as ISO text (or as YAML timestamps),
        nothing else is converted. ValueError (util.strict.Invalid) or TypeError says what."""
        version = raw.get("schema_version", 1)
        if isinstance(version, bool):
            # true equals 1 to a Literal[1]; a version is a number, never a flag.
            raise TypeError("schema_version: must be the number 1, not a boolean")
        if type(version) is not int:
            # 1.0 equals 1 too; only bg20k writes this file, and it writes the integer.
            raise TypeError("schema_version: must be the whole number 1")
        # Through JSON, so a value JSON cannot hold (a YAML date, a set) is refused by name.
        data = json.loads(json.dumps(raw, default=_json_default))
        return build(cls, data)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data, fields in schema order, times as ISO text."""
        return {f.name: _plain_value(getattr(self, f.name)) for f in fields(self)}

    def replace(self, **changes: Any) -> ConsentRecord:
        return dataclasses.replace(self, **changes)

    def to_yaml(self) -> bytes:
        return dump_yaml(self.to_json()).encode("utf-8")


def _plain_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return list(value) if isinstance(value, list) else value


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a consent record value")


class State(StrEnum):
    IN_FORCE = "in-force"
    MISSING = "missing"
    DAMAGED = "damaged"
    REVOKED = "revoked"
    OTHER_AGREEMENT = "other-agreement"
    OTHER_DATASET = "other-dataset"


@dataclass(frozen=True)
class ConsentStatus:
    state: State
    record: ConsentRecord | None = None
    reason: str | None = None

    @property
    def in_force(self) -> bool:
        return self.state is State.IN_FORCE


def parse_record(raw_text: str) -> ConsentRecord:
    """A record from its YAML text; ValueError (saying what is wrong) for anything else."""
    try:
        raw = load_yaml(raw_text, max_nodes=10_000)
    except YamlError as exc:
        raise ValueError(f"is not a record: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("is empty or not a mapping")
    try:
        return ConsentRecord.from_mapping(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"is invalid: {exc}") from exc


def load_record(paths: Paths) -> ConsentRecord | None:
    """The record on disk as written, or None when there is none that parses."""
    try:
        return parse_record(read_limited(paths.consent_file, RECORD_LIMIT).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def read_status(paths: Paths, agreement: Agreement) -> ConsentStatus:
    """Never raises for a bad file: anything but a valid record for this text is not consent."""
    path = paths.consent_file
    try:
        raw_text = read_limited(path, RECORD_LIMIT).decode("utf-8")
    except FileNotFoundError:
        return ConsentStatus(State.MISSING)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return ConsentStatus(State.DAMAGED, reason=f"cannot be read ({exc})")
    try:
        record = parse_record(raw_text)
    except ValueError as exc:
        return ConsentStatus(State.DAMAGED, reason=str(exc))
    if record.status == "revoked":
        return ConsentStatus(State.REVOKED, record)
    if record.dataset != agreement.dataset:
        return ConsentStatus(State.OTHER_DATASET, record)
    if record.agreement_sha256 != agreement.sha256:
        return ConsentStatus(State.OTHER_AGREEMENT, record)
    problem = _contradiction(record, agreement, paths)
    if problem is not None:
        return ConsentStatus(State.DAMAGED, record, problem)
    return ConsentStatus(State.IN_FORCE, record)


def _contradiction(record: ConsentRecord, agreement: Agreement, paths: Paths) -> str | None:
    """What makes a well-typed record for this text still not a record of accepting it: a
    version or title the text does not have, a time that has not come yet, or no intact copy
    of the text it says was accepted (the copy is what an auditor reads)."""
    if (record.agreement_version, record.agreement_title) != (agreement.version, agreement.title):
        return (
            f"names {record.agreement_title!r} {record.agreement_version}, but the text with its "
            f"digest is {agreement.title!r} {agreement.version}"
        )
    if record.accepted_at > datetime.now(UTC) + CLOCK_SLACK:
        return f"says it was accepted in the future ({record.accepted_at.isoformat()})"
    copy = text_copy(paths, agreement.sha256)
    if record.accepted_text is None or Path(record.accepted_text).name != copy.name:
        return f"does not name the copy of the accepted text ({copy.name})"
    try:
        kept = read_limited(copy, RECORD_LIMIT)
    except FileNotFoundError:
        return f"names a copy of the accepted text that is missing ({copy})"
    except (OSError, ValueError) as exc:
        return f"names a copy of the accepted text that cannot be read ({copy}: {exc})"
    if hashlib.sha256(kept).hexdigest() != agreement.sha256:
        return f"names a copy of the accepted text that has been altered ({copy})"
    return None


def text_copy(paths: Paths, sha256: str) -> Path:
    """Where the copy of an accepted text is kept: named by its digest."""
    return paths.accepted_texts_dir / f"{sha256}.md"


def agreement_diff(status: ConsentStatus, agreement: Agreement) -> str | None:
    """Unified diff from the text accepted earlier to the shipped one, when they differ."""
    if status.record is None or status.record.agreement_sha256 == agreement.sha256:
        return None
    old_text = ""
    if status.record.accepted_text:
        with contextlib.suppress(OSError, ValueError):
            old_text = read_limited(Path(status.record.accepted_text), RECORD_LIMIT).decode()
    old = status.record
    import difflib  # only when the texts differ: not on every `bg20k status`

    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        agreement.text.splitlines(keepends=True),
        fromfile=f"accepted {old.agreement_version} ({old.agreement_sha256[:12]})",
        tofile=f"shipped {agreement.version} ({agreement.sha256[:12]})",
    )
    return "".join(lines)


def accepted_line(record: ConsentRecord, paths: Paths) -> str:
    return (
        f"Accepted the {record.agreement_title} ({record.agreement_version}, SHA-256 "
        f"{record.agreement_sha256}) by {record.method}; recorded in {paths.consent_file}."
    )


def describe(status: ConsentStatus) -> str:
    record = status.record
    match status.state:
        case State.MISSING:
            return "no consent recorded"
        case State.DAMAGED:
            return f"the consent file {status.reason}"
        case State.REVOKED:
            return "consent was revoked"
        case State.OTHER_DATASET:
            which = f" ({record.dataset})" if record else ""
            return f"the consent record is for another dataset{which}"
        case State.OTHER_AGREEMENT:
            which = f" ({record.agreement_sha256[:12]})" if record else ""
            return f"consent was given for a different text{which}"
    return "consent is in force"
