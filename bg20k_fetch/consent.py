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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ._version import __version__
from .agreement import Agreement
from .errors import ConsentError, StorageError, validation_problem
from .fsutil import append_line, atomic_write, make_dirs
from .paths import Paths

Method = Literal["prompt", "flag", "environment"]
# The record and history hold personal data (name, e-mail, host, OS user): owner only.
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


class ConsentRecord(BaseModel):
    # Strict: a value of the wrong type (a number for a time, true for a version) is a damaged
    # record, never coerced into consent.
    model_config = ConfigDict(extra="forbid", strict=True)

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

    @model_validator(mode="after")
    def _consistent(self) -> ConsentRecord:
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
        return self

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> ConsentRecord:
        """Validate what YAML gave: times arrive as text (or as YAML timestamps), nothing else
        is converted."""
        if isinstance(raw.get("schema_version"), bool):
            # true equals 1 to pydantic's Literal[1]; a version is a number, never a flag.
            raise TypeError("schema_version: must be the number 1, not a boolean")
        # Validated as JSON so that times may be ISO text while every other type stays strict.
        return cls.model_validate_json(json.dumps(raw, default=_json_default))

    def to_yaml(self) -> bytes:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False).encode("utf-8")


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
        record = ConsentRecord.from_mapping(raw)
    except (ValidationError, TypeError) as exc:
        problem = validation_problem(exc) if isinstance(exc, ValidationError) else str(exc)
        return ConsentStatus(State.DAMAGED, reason=f"is invalid: {problem}")
    if record.status == "revoked":
        return ConsentStatus(State.REVOKED, record)
    if record.dataset != agreement.dataset:
        return ConsentStatus(State.OTHER_DATASET, record)
    if record.agreement_sha256 != agreement.sha256:
        return ConsentStatus(State.OTHER_AGREEMENT, record)
    return ConsentStatus(State.IN_FORCE, record)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _store_lock(paths: Paths) -> FileLock:
    """One writer of the record at a time (many nodes may share one home directory)."""
    make_dirs(paths.config_dir, mode=PRIVATE_DIR)
    return FileLock(str(paths.config_dir / ".consent.lock"))


def _log(paths: Paths, event: str, record: ConsentRecord) -> None:
    line = {"event": event, **record.model_dump(mode="json")}
    append_line(paths.history_file, json.dumps(line, sort_keys=False), mode=PRIVATE_FILE)


def _write_record(paths: Paths, record: ConsentRecord, event: str, failed: str) -> None:
    """The audit log first (fsynced), then the record: a record never exists without its log
    line. If the record cannot be written, the log says the event was aborted."""
    try:
        _log(paths, event, record)
    except StorageError as exc:
        raise StorageError(f"{exc.message.rstrip('.')}; {failed}.", hint=exc.hint) from exc
    try:
        atomic_write(paths.consent_file, record.to_yaml(), mode=PRIVATE_FILE)
    except StorageError as exc:
        with contextlib.suppress(StorageError):
            _log(paths, "aborted", record)
        raise StorageError(f"{exc.message.rstrip('.')}; {failed}.", hint=exc.hint) from exc


def _set_aside_damaged(paths: Paths) -> Path | None:
    """Keep a damaged record for inspection instead of deleting it."""
    path = paths.consent_file
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists() or aside.is_symlink():  # never replace an earlier one
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    try:
        os.rename(path, aside)
    except OSError as exc:
        raise StorageError(
            f"Cannot set the damaged consent record {path} aside: {exc.strerror}; "
            "the agreement is not accepted."
        ) from exc
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
    with _store_lock(paths):
        return _record_acceptance(paths, agreement, method, name, email, affiliation)


def _record_acceptance(
    paths: Paths,
    agreement: Agreement,
    method: Method,
    name: str | None,
    email: str | None,
    affiliation: str | None,
) -> ConsentRecord:
    failed = "the agreement is not accepted"
    previous = read_status(paths, agreement)
    if previous.state is State.DAMAGED:
        _set_aside_damaged(paths)
    text_copy = paths.accepted_texts_dir / f"{agreement.sha256}.md"
    if not text_copy.exists():
        make_dirs(paths.accepted_texts_dir, mode=PRIVATE_DIR)
        try:
            atomic_write(text_copy, agreement.text.encode("utf-8"), mode=PRIVATE_FILE)
        except StorageError as exc:
            raise StorageError(f"{exc.message.rstrip('.')}; {failed}.") from exc
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
    _write_record(paths, record, "accepted", failed)
    return record


def revoke(paths: Paths, agreement: Agreement) -> ConsentRecord | None:
    """Returns the revoked record, or None when there was nothing in force to revoke."""
    with _store_lock(paths):
        status = read_status(paths, agreement)
        if status.record is None or status.record.status == "revoked":
            return None
        record = status.record.model_copy(
            update={"status": "revoked", "revoked_at": datetime.now(UTC).replace(microsecond=0)}
        )
        _write_record(paths, record, "revoked", "consent is still in force")
        return record


@contextlib.contextmanager
def consent_held(
    paths: Paths, agreement: Agreement, record: ConsentRecord
) -> Iterator[Callable[[Path], None]]:
    """Hold the consent store while data fetched under ``record`` is installed.

    A revocation that lands during the fetch is seen here and nothing is installed
    (ConsentError); one that comes later waits until the install is done and then names the
    dataset. Yields a function that notes where the data went (shown on revocation).
    """
    with _store_lock(paths):
        status = read_status(paths, agreement)
        current = status.record
        if not status.in_force or current is None or current.accepted_at != record.accepted_at:
            raise ConsentError(
                f"Consent changed while the data was being fetched ({describe(status)}); "
                "nothing was installed.",
                hint="Accept the agreement again and re-run the fetch.",
            )

        def note(location: Path) -> None:
            where = str(location.absolute())
            if where not in current.datasets:
                noted = current.model_copy(update={"datasets": [*current.datasets, where]})
                atomic_write(paths.consent_file, noted.to_yaml(), mode=PRIVATE_FILE)

        yield note


def read_history(paths: Paths) -> list[dict[str, object]]:
    """Every event in order. A line that is not a JSON object (a torn append, garbage) is shown
    as ``{"event": "damaged", "line": N, "text": …}``, never hidden."""
    try:
        data = paths.history_file.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(
            f"Cannot read the consent history {paths.history_file}: {exc.strerror}."
        ) from exc
    events: list[dict[str, object]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            item = None
        if isinstance(item, dict) and isinstance(item.get("event"), str):
            events.append(item)
        else:
            text = raw.decode("utf-8", "replace")
            events.append({"event": "damaged", "line": number, "text": text[:200]})
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
    if status.state is State.OTHER_DATASET and status.record is not None:
        return f"the consent record is for another dataset ({status.record.dataset})"
    if status.state is State.OTHER_AGREEMENT and status.record is not None:
        return f"consent was given for a different text ({status.record.agreement_sha256[:12]})"
    return "consent is in force"
