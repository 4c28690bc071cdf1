"""The consent record: who accepted which agreement text, when, where and how.

``consent.yaml`` holds the current record; every acceptance and revocation is also appended to
``consent-history.jsonl``; each accepted text is kept under ``accepted-agreements/<sha256>.md`` so
a later agreement can be shown as a diff and an auditor can read exactly what was accepted.
"""

from __future__ import annotations

import contextlib
import difflib
import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._version import __version__
from .agreement import Agreement
from .fsutil import append_line, atomic_write
from .paths import Paths

Method = Literal["prompt", "flag", "environment"]


class ConsentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    dataset: str
    agreement_title: str
    agreement_version: str
    agreement_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
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
    datasets: list[str] = Field(default_factory=list)

    def to_yaml(self) -> bytes:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False).encode("utf-8")


class State(StrEnum):
    IN_FORCE = "in-force"
    MISSING = "missing"
    DAMAGED = "damaged"
    REVOKED = "revoked"
    OTHER_AGREEMENT = "other-agreement"


@dataclass(frozen=True)
class ConsentStatus:
    state: State
    record: ConsentRecord | None = None
    reason: str | None = None

    @property
    def in_force(self) -> bool:
        return self.state is State.IN_FORCE


def read_status(paths: Paths, agreement: Agreement) -> ConsentStatus:
    """Never raises for a bad file: anything but a valid record for this text is not consent."""
    path = paths.consent_file
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConsentStatus(State.MISSING)
    except (OSError, UnicodeDecodeError) as exc:
        return ConsentStatus(State.DAMAGED, reason=f"cannot be read ({exc})")
    try:
        raw = yaml.safe_load(raw_text)
    except yaml.YAMLError:
        return ConsentStatus(State.DAMAGED, reason="is not valid YAML")
    if not isinstance(raw, dict):
        return ConsentStatus(State.DAMAGED, reason="is empty or not a mapping")
    try:
        record = ConsentRecord.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        return ConsentStatus(State.DAMAGED, reason=f"is invalid at {where}: {first['msg']}")
    if record.status == "revoked":
        return ConsentStatus(State.REVOKED, record)
    if record.dataset != agreement.dataset or record.agreement_sha256 != agreement.sha256:
        return ConsentStatus(State.OTHER_AGREEMENT, record)
    return ConsentStatus(State.IN_FORCE, record)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _write_record(paths: Paths, record: ConsentRecord, event: str) -> None:
    atomic_write(paths.consent_file, record.to_yaml())
    event_line = {"event": event, **record.model_dump(mode="json")}
    append_line(paths.history_file, json.dumps(event_line, sort_keys=False))


def _set_aside_damaged(paths: Paths) -> Path | None:
    """Keep a damaged record for inspection instead of deleting it."""
    path = paths.consent_file
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    return aside


def record_acceptance(
    paths: Paths,
    agreement: Agreement,
    method: Method,
    *,
    name: str | None = None,
    email: str | None = None,
    affiliation: str | None = None,
) -> ConsentRecord:
    previous = read_status(paths, agreement)
    if previous.state is State.DAMAGED:
        _set_aside_damaged(paths)
    text_copy = paths.accepted_texts_dir / f"{agreement.sha256}.md"
    if not text_copy.exists():
        atomic_write(text_copy, agreement.text.encode("utf-8"))
    record = ConsentRecord(
        dataset=agreement.dataset,
        agreement_title=agreement.title,
        agreement_version=agreement.version,
        agreement_sha256=agreement.sha256,
        status="accepted",
        accepted_at=datetime.now(UTC).replace(microsecond=0),
        method=method,
        os_user=_os_user(),
        host=socket.gethostname(),
        tool_version=__version__,
        name=name,
        email=email,
        affiliation=affiliation,
        accepted_text=str(text_copy),
        datasets=previous.record.datasets if previous.record else [],
    )
    _write_record(paths, record, "accepted")
    return record


def revoke(paths: Paths, agreement: Agreement) -> ConsentRecord | None:
    """Returns the revoked record, or None when there was nothing in force to revoke."""
    status = read_status(paths, agreement)
    if status.record is None or status.record.status == "revoked":
        return None
    record = status.record.model_copy(
        update={"status": "revoked", "revoked_at": datetime.now(UTC).replace(microsecond=0)}
    )
    _write_record(paths, record, "revoked")
    return record


def note_dataset(paths: Paths, agreement: Agreement, location: Path) -> None:
    """Remember where data fetched under the current consent lies (shown on revocation)."""
    status = read_status(paths, agreement)
    if not status.in_force or status.record is None:
        return
    where = str(location.resolve())
    if where in status.record.datasets:
        return
    record = status.record.model_copy(update={"datasets": [*status.record.datasets, where]})
    atomic_write(paths.consent_file, record.to_yaml())


def read_history(paths: Paths) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    with contextlib.suppress(FileNotFoundError):
        for line in paths.history_file.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                item = json.loads(line)
                if isinstance(item, dict):
                    events.append(item)
    return events


def agreement_diff(status: ConsentStatus, agreement: Agreement) -> str | None:
    """Unified diff from the text accepted earlier to the shipped one, when they differ."""
    if status.record is None or status.record.agreement_sha256 == agreement.sha256:
        return None
    old_text = ""
    if status.record.accepted_text:
        with contextlib.suppress(OSError):
            old_text = Path(status.record.accepted_text).read_text(encoding="utf-8")
    old = status.record
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
    if status.state is State.MISSING:
        return "no consent recorded"
    if status.state is State.DAMAGED:
        return f"the consent file {status.reason}"
    if status.state is State.REVOKED:
        return "consent was revoked"
    if status.state is State.OTHER_AGREEMENT and status.record is not None:
        return f"consent was given for a different text ({status.record.agreement_sha256[:12]})"
    return "consent is in force"
