"""A register record: one person's acceptance (or revocation) of the agreement, as added to a
shared copy's register. Canonical JSON, named by the SHA-256 of its bytes, so that a record
whose bytes were changed no longer matches its name — and ``audit`` says so.

It holds what the person's local record holds (OS user, host, time, method, the agreement's
version and SHA-256, name/email/affiliation only if they gave them) and nothing secret.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.dataset.provenance import REGISTER_DIR
from bg20k_fetch.util.jsonio import load_json

DIRECTORY = REGISTER_DIR  # beside a shared copy's receipts, and under a published prefix
NAME = re.compile(r"^([0-9a-f]{64})\.json$")
LIMIT = 64 << 10  # a record is a few hundred bytes


@dataclass(frozen=True)
class RegisterRecord:
    event: str  # accepted / revoked
    at: datetime  # when the person accepted (or revoked), from their local record
    os_user: str
    host: str
    method: str
    agreement_version: str
    agreement_sha256: str
    tool_version: str
    registered_at: datetime  # when it joined the register, to the microsecond: orders events
    name: str | None = None
    email: str | None = None
    affiliation: str | None = None
    schema: int = 1

    @classmethod
    def of(cls, record: ConsentRecord) -> RegisterRecord:
        revoked = record.status == "revoked" and record.revoked_at is not None
        return cls(
            event=record.status,
            at=record.revoked_at if revoked and record.revoked_at else record.accepted_at,
            # The account this process really runs as, not $LOGNAME: a register is read by
            # others, and one person must not be able to write as another.
            os_user=real_user() or record.os_user,
            registered_at=datetime.now(UTC),
            host=record.host,
            method=record.method,
            agreement_version=record.agreement_version,
            agreement_sha256=record.agreement_sha256,
            tool_version=record.tool_version,
            name=record.name,
            email=record.email,
            affiliation=record.affiliation,
        )

    def to_bytes(self) -> bytes:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["at"] = self.at.isoformat()
        data["registered_at"] = self.registered_at.isoformat()
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"

    def file_name(self) -> str:
        return f"{hashlib.sha256(self.to_bytes()).hexdigest()}.json"


class Damaged(ValueError):
    """A file in a register that is not an intact record: why, in a few words."""


_TEXT = ("event", "os_user", "host", "method", "agreement_version", "agreement_sha256",
         "tool_version")  # fmt: skip
_OPTIONAL = ("name", "email", "affiliation")
FUTURE = timedelta(days=1)  # clocks differ; a record dated later than this is not believed


def parse(name: str, data: bytes) -> RegisterRecord:
    """The record in ``data``, checked against its ``name``; raises Damaged."""
    m = NAME.match(name)
    if m is None:
        raise Damaged("not a register record (its name is not a SHA-256)")
    if hashlib.sha256(data).hexdigest() != m.group(1):
        raise Damaged("altered: its bytes do not hash to its name")
    try:
        raw = load_json(data)
    except ValueError as exc:
        raise Damaged("not a register record (not JSON)") from exc
    if not isinstance(raw, dict) or type(raw.get("schema")) is not int or raw["schema"] != 1:
        raise Damaged("not a register record of a schema this bg20k reads")
    unknown = set(raw) - {*_TEXT, *_OPTIONAL, "at", "registered_at", "schema"}
    wrong = [k for k in _TEXT if not isinstance(raw.get(k), str) or not raw[k]]
    wrong += [k for k in _OPTIONAL if k in raw and not isinstance(raw[k], str)]
    if unknown or wrong:
        raise Damaged(f"not a register record (fields {sorted(unknown | set(wrong))})")
    try:
        at = datetime.fromisoformat(raw["at"])
        registered = datetime.fromisoformat(raw["registered_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Damaged("not a register record (its times)") from exc
    record = RegisterRecord(**{**raw, "at": at, "registered_at": registered})
    utc = (at.utcoffset(), registered.utcoffset()) == (timedelta(0), timedelta(0))
    if record.event not in ("accepted", "revoked") or not utc:  # a naive time (fuzzing)
        raise Damaged("not a register record (its event or time is not one bg20k writes)")
    if max(at, registered) > datetime.now(UTC) + FUTURE:
        raise Damaged("dated in the future: not believed")
    if record.to_bytes() != data:
        raise Damaged("not written by bg20k (not in the canonical form)")
    return record


def real_user() -> str | None:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, AttributeError):
        return None
