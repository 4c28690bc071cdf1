"""Writing the consent trail: acceptances, revocations and the history, never one without the
other; and holding the record steady while data fetched under it is installed.

Each change is logged ahead of the record (``consent_log``): an intent line, the record, then
the outcome line, each fsynced. Every writer first resolves what a killed writer left (an
intent without its outcome, temporary files), so after any kill the history and the record
agree. Writers take a lock in the config directory, since the nodes of a cluster may share one
home directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bg20k_fetch._version import __version__
from bg20k_fetch.consent import trail as consent_log
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.identity import check_identity, os_user, printable
from bg20k_fetch.consent.record import (
    ConsentRecord,
    Method,
    State,
    describe,
    read_status,
    text_copy,
)
from bg20k_fetch.consent.trail import read_history
from bg20k_fetch.errors import ConsentError, StorageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import append_line, atomic_write, make_dirs, read_limited, set_aside
from bg20k_fetch.util.oslock import FileLock, LockBusy

# The record and history hold personal data (name, e-mail, host, OS user): owner only.
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def _store_lock(paths: Paths) -> FileLock:
    """One writer of the record at a time (many nodes may share one home directory)."""
    make_dirs(paths.config_dir, mode=PRIVATE_DIR)
    path = paths.consent_lock
    try:  # one open first, so a failure (a folder, /proc, a link) is worded for the store
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
    except OSError as exc:
        raise StorageError(
            f"Cannot lock the consent record in {paths.config_dir} ({path}: "
            f"{exc.strerror or exc}); nothing was recorded.",
            hint="Point BG20K_CONFIG_DIR at a writable directory of your own.",
        ) from exc
    return FileLock(str(path))


@contextlib.contextmanager
def _writing(paths: Paths) -> Iterator[None]:
    """Hold the store, after finishing what a killed writer left."""
    with _store_lock(paths):
        consent_log.reconcile(paths)
        yield


def _log(
    paths: Paths,
    event: Literal["intent", "accepted", "revoked", "aborted"],
    record: ConsentRecord,
    txn: str,
    **extra: str | bool,
) -> None:
    line = consent_log.line_for(event, record, txn=txn, **extra)  # type: ignore[arg-type]
    append_line(paths.history_file, line, mode=PRIVATE_FILE)


def _write_record(
    paths: Paths,
    record: ConsentRecord,
    event: Literal["accepted", "revoked"],
    failed: str,
    check: Callable[[], str | None] = lambda: None,
) -> None:
    """The intent first (fsynced), then the record, then the outcome: a record never exists
    without its intent line, and an outcome is logged only for a record that is on disk and
    passes ``check`` (which returns what is wrong, or None). A kill anywhere in between is
    resolved by the next reader (consent_log)."""
    import uuid  # here, not at the top: `status` and `history` only read

    txn = uuid.uuid4().hex
    try:
        _log(paths, "intent", record, txn, intent=event)
    except StorageError as exc:
        raise StorageError(f"{exc.message.rstrip('.')}; {failed}.", hint=exc.hint) from exc
    try:
        atomic_write(paths.consent_file, record.to_yaml(), mode=PRIVATE_FILE)
        problem = check()
    except StorageError as exc:
        with contextlib.suppress(StorageError):
            _log(paths, "aborted", record, txn)
        raise StorageError(f"{exc.message.rstrip('.')}; {failed}.", hint=exc.hint) from exc
    if problem is not None:
        with contextlib.suppress(StorageError):
            _log(paths, "aborted", record, txn)
        raise StorageError(f"{problem}; {failed}.")
    # Lost, this line is rebuilt from the intent and the record by the next reader.
    with contextlib.suppress(StorageError):
        _log(paths, event, record, txn)


def tidy(paths: Paths) -> None:
    """What `status` and `history` do first: finish a killed writer's work if nobody is writing
    now and the store can be written; otherwise leave it to the reader's view."""
    if not paths.config_dir.is_dir():
        return
    try:
        lock = _store_lock(paths)
        lock.acquire(timeout=0)
    except (StorageError, LockBusy, OSError):
        return
    try:
        with contextlib.suppress(StorageError):
            consent_log.reconcile(paths)
    finally:
        lock.release()


def record_acceptance(
    paths: Paths,
    agreement: Agreement,
    method: Method,
    *,
    name: str | None = None,
    email: str | None = None,
    affiliation: str | None = None,
) -> ConsentRecord:
    check_identity(name=name, email=email, affiliation=affiliation)
    with _writing(paths):
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
    if previous.state is State.DAMAGED and paths.consent_file.exists():
        set_aside(paths.consent_file, "the damaged consent record", failed)
    copy = _keep_text(paths, agreement, failed)
    record = ConsentRecord(
        dataset=agreement.dataset,
        agreement_title=agreement.title,
        agreement_version=agreement.version,
        agreement_sha256=agreement.sha256,
        status="accepted",
        accepted_at=datetime.now(UTC).replace(microsecond=0),
        method=method,
        os_user=os_user(),
        host=printable(os.uname().nodename),  # socket.gethostname(), without socket's import
        tool_version=__version__,
        name=name,
        email=email,
        affiliation=affiliation,
        accepted_text=printable(str(copy)),
        datasets=previous.record.datasets if previous.record else [],
    )

    def reads_back() -> str | None:  # never say "accepted" unless it reads so
        if read_status(paths, agreement).in_force:
            return None
        return f"The consent record {paths.consent_file} does not read back as in force"

    _write_record(paths, record, "accepted", failed, reads_back)
    return record


def _keep_text(paths: Paths, agreement: Agreement, failed: str) -> Path:
    """The copy of the text being accepted, for diffs and audits: written when missing, and
    rewritten when it no longer holds that text (the altered one is set aside, not deleted)."""
    copy = text_copy(paths, agreement.sha256)
    try:
        intact = hashlib.sha256(read_limited(copy, 1 << 20)).hexdigest() == agreement.sha256
    except (OSError, ValueError):
        intact = False
    if intact:
        return copy
    make_dirs(paths.accepted_texts_dir, mode=PRIVATE_DIR)
    if copy.exists() or copy.is_symlink():
        set_aside(copy, "an altered copy of the accepted text", failed)
    try:
        atomic_write(copy, agreement.text.encode("utf-8"), mode=PRIVATE_FILE)
    except StorageError as exc:
        raise StorageError(f"{exc.message.rstrip('.')}; {failed}.") from exc
    return copy


def revoke(paths: Paths, agreement: Agreement) -> ConsentRecord | None:
    """Returns the revoked record, or None when there was nothing in force to revoke."""
    with _writing(paths):
        status = read_status(paths, agreement)
        if status.record is None or status.record.status == "revoked":
            return None
        # Never before the acceptance, which a clock behind the accepting node's may place
        # a few minutes ahead (read_status allows it): that record would read as damaged.
        now = max(datetime.now(UTC).replace(microsecond=0), status.record.accepted_at)
        record = status.record.replace(status="revoked", revoked_at=now)
        _write_record(paths, record, "revoked", "consent is still in force")
        return record


@contextlib.contextmanager
def consent_held(
    paths: Paths, agreement: Agreement
) -> Iterator[tuple[ConsentRecord, Callable[[Path], None]]]:
    """Hold the consent store while fetched data is installed.

    Consent must be in force now (a renewal during the fetch is fine; a revocation is not: then
    nothing is installed, ConsentError). A revocation that comes later waits for the install
    and then names the dataset. Yields the record in force (for the dataset's CONSENT.yaml) and
    a function that notes where the data went.
    """
    with _writing(paths):
        status = read_status(paths, agreement)
        current = status.record
        if not status.in_force or current is None:
            raise ConsentError(
                f"Consent was withdrawn while the data was being fetched ({describe(status)}); "
                "nothing was installed.",
                hint="Accept the agreement again and re-run the fetch.",
            )

        def note(location: Path) -> None:
            where = str(location.absolute())
            if where not in current.datasets:
                noted = current.replace(datasets=[*current.datasets, where])
                atomic_write(paths.consent_file, noted.to_yaml(), mode=PRIVATE_FILE)

        yield current, note


__all__ = ["consent_held", "read_history", "record_acceptance", "revoke", "tidy"]
