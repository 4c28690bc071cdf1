"""Writing the consent trail: acceptances, revocations and the history, never one without the
other; and holding the record steady while data fetched under it is installed.

The history line is appended (fsynced) before the record is written; a record that cannot be
written is logged as aborted. Writers take a lock in the config directory, since the nodes of a
cluster may share one home directory.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from ._version import __version__
from .agreement import Agreement
from .consent import ConsentRecord, Method, State, describe, read_status
from .errors import ConsentError, StorageError, UsageError
from .fsutil import append_line, atomic_write, make_dirs, read_limited
from .locations import Paths

# The record and history hold personal data (name, e-mail, host, OS user): owner only.
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
HISTORY_LIMIT = 256 << 20


def _os_user() -> str:
    try:
        return _printable(getpass.getuser())
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _printable(text: str) -> str:
    """A login or host name as the OS gave it, made storable: bytes that are not UTF-8
    (surrogate escapes) become \\xNN instead of making the record unreadable."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _check_identity(**values: str | None) -> None:
    for name, value in values.items():
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(
                f"--{name} is not valid UTF-8 text; nothing was accepted.",
                hint="Give it in a UTF-8 terminal or locale.",
            ) from exc


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
    _check_identity(name=name, email=email, affiliation=affiliation)
    with _store_lock(paths):
        record = _record_acceptance(paths, agreement, method, name, email, affiliation)
        if not read_status(paths, agreement).in_force:  # never say "accepted" unless it reads so
            with contextlib.suppress(StorageError):
                _log(paths, "aborted", record)
            raise StorageError(
                f"The consent record {paths.consent_file} does not read back as in force; "
                "the agreement is not accepted."
            )
        return record


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
        host=_printable(socket.gethostname()),
        tool_version=__version__,
        name=name,
        email=email,
        affiliation=affiliation,
        accepted_text=_printable(str(text_copy)),
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
    paths: Paths, agreement: Agreement
) -> Iterator[tuple[ConsentRecord, Callable[[Path], None]]]:
    """Hold the consent store while fetched data is installed.

    Consent must be in force now (a renewal during the fetch is fine; a revocation is not: then
    nothing is installed, ConsentError). A revocation that comes later waits for the install
    and then names the dataset. Yields the record in force (for the dataset's CONSENT.yaml) and
    a function that notes where the data went.
    """
    with _store_lock(paths):
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
                noted = current.model_copy(update={"datasets": [*current.datasets, where]})
                atomic_write(paths.consent_file, noted.to_yaml(), mode=PRIVATE_FILE)

        yield current, note


def read_history(paths: Paths) -> list[dict[str, object]]:
    """Every event in order. A line that is not a JSON object (a torn append, garbage) is shown
    as ``{"event": "damaged", "line": N, "text": …}``, never hidden."""
    try:
        data = read_limited(paths.history_file, HISTORY_LIMIT)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StorageError(
            f"Cannot read the consent history {paths.history_file}: {reason}."
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
