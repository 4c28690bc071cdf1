"""Who with access to a shared copy has accepted the current agreement, and since when.

One row per person (OS user): their latest event in the register — accepted this text,
accepted only an older text, revoked — or, for the people given as having access
(``--people``, ``--group``), no acceptance on record. Files that are not intact records are
named with what is wrong with them: an altered record cannot pass for one.
"""

from __future__ import annotations

import grp
import pwd
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.errors import ExitCode, UsageError
from bg20k_fetch.register.places import Found, Register
from bg20k_fetch.register.records import Damaged, RegisterRecord, parse

CURRENT, OLDER, REVOKED, NONE = "accepted", "accepted an older text", "revoked", "no acceptance"


@dataclass(frozen=True)
class Row:
    os_user: str
    state: str
    at: str | None = None  # ISO time of the latest event
    host: str | None = None
    method: str | None = None
    agreement_version: str | None = None
    agreement_sha256: str | None = None
    name: str | None = None
    email: str | None = None
    affiliation: str | None = None
    records: int = 0


@dataclass
class Audit:
    location: str
    agreement_title: str
    agreement_version: str
    agreement_sha256: str
    made_at: str
    rows: list[Row]
    dataset_digest: str | None = None
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)

    @property
    def missing(self) -> list[Row]:
        return [r for r in self.rows if r.state != CURRENT]

    @property
    def exit_code(self) -> ExitCode:
        if self.damaged:
            return ExitCode.INTEGRITY
        return ExitCode.NOT_ALL_ACCEPTED if self.missing else ExitCode.OK

    def to_json(self) -> dict[str, object]:
        return {
            "location": self.location,
            "agreement": {
                "title": self.agreement_title,
                "version": self.agreement_version,
                "sha256": self.agreement_sha256,
            },
            "made_at": self.made_at,
            "dataset_digest": self.dataset_digest,
            "rows": [asdict(r) for r in self.rows],
            "damaged": [{"file": n, "why": w} for n, w in self.damaged],
            "everyone_accepted": not self.missing and not self.damaged,
            "exit_code": int(self.exit_code),
        }


def audit(
    location: str,
    agreement: Agreement,
    *,
    people: list[str] | None = None,
    group: str | None = None,
) -> Audit:
    latest: dict[tuple[str, str], tuple[RegisterRecord, int]] = {}
    damaged: list[tuple[str, str]] = []
    for found in Register(location).files():
        try:
            record = _checked(found)
        except Damaged as exc:
            damaged.append((found.name, str(exc)))
            continue
        person = (record.os_user, record.host)  # one login on two hosts may be two people
        seen = latest.get(person)
        count = (seen[1] if seen else 0) + 1
        if seen is None or _order(record) >= _order(seen[0]):
            latest[person] = (record, count)
        else:
            latest[person] = (seen[0], count)
    rows = [_row(record, count, agreement) for record, count in latest.values()]
    with_access = set(people or []) | (set(group_members(group)) if group else set())
    on_record = {user for user, _ in latest}
    rows += [Row(user, NONE) for user in sorted(with_access - on_record)]
    rows.sort(key=lambda r: (r.state == CURRENT, r.os_user))
    return Audit(
        location=location,
        agreement_title=agreement.title,
        agreement_version=agreement.version,
        agreement_sha256=agreement.sha256,
        made_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        rows=rows,
        dataset_digest=_digest(location),
        damaged=damaged,
    )


def _digest(location: str) -> str | None:
    """The copy's dataset digest, for the page an auditor files (None if it cannot be read)."""
    from bg20k_fetch.dataset.provenance import read_provenance
    from bg20k_fetch.errors import Bg20kError
    from bg20k_fetch.storage.proof import read_published
    from bg20k_fetch.storage.store import is_store_url, open_store

    try:
        if is_store_url(location):
            return read_published(open_store(location.rstrip("/")))[1].digest
        return read_provenance(Path(location).expanduser()).digest
    except (Bg20kError, OSError, ValueError):
        return None


def _order(record: RegisterRecord) -> tuple[datetime, datetime]:
    # The order events joined the register (to the microsecond), then when they happened.
    return record.registered_at, record.at


def _checked(found: Found) -> RegisterRecord:
    if found.data is None:
        raise Damaged(found.problem or "cannot be read")
    record = parse(found.name, found.data)
    if found.owner is not None and found.owner != record.os_user:
        # On a file system the account that wrote a record owns it: one person cannot
        # register for another (root included).
        raise Damaged(f"written by {found.owner}, but names {record.os_user}")
    return record


def _row(record: RegisterRecord, count: int, agreement: Agreement) -> Row:
    if record.event == "revoked":
        state = REVOKED
    elif record.agreement_sha256 == agreement.sha256:
        state = CURRENT
    else:
        state = OLDER
    return Row(
        os_user=record.os_user,
        state=state,
        at=record.at.isoformat(),
        host=record.host,
        method=record.method,
        agreement_version=record.agreement_version,
        agreement_sha256=record.agreement_sha256,
        name=record.name,
        email=record.email,
        affiliation=record.affiliation,
        records=count,
    )


def read_people(path: str) -> list[str]:
    """One OS user per line; blank lines and ``#`` comments skipped."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the people file {path}: {exc}.") from exc
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def group_members(name: str) -> list[str]:
    """The members of a Unix group: listed ones, and those whose primary group it is."""
    try:
        entry = grp.getgrnam(name)
    except KeyError as exc:
        raise UsageError(f"There is no group {name!r} on this machine.") from exc
    primary = [p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid]
    return sorted(set(entry.gr_mem) | set(primary))
