"""One fetch per destination at a time.

The lock is flock(2) (util/oslock.py), which the kernel drops when the holding process dies,
so a crashed fetch never leaves a lock that blocks forever.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bg20k_fetch.errors import StorageError
from bg20k_fetch.progress import Reporter
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.oslock import FileLock, LockBusy

LOCK_NAME = ".bg20k-fetch.lock"


@contextmanager
def destination_lock(dest_dir: Path, *, wait: bool, reporter: Reporter) -> Iterator[None]:
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"Cannot create {dest_dir}: {exc.strerror}.") from exc
    path = dest_dir / LOCK_NAME
    try:  # one open first, so a failure is worded for the destination
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644))
    except OSError as exc:
        raise StorageError(
            f"Cannot lock {dest_dir} for writing ({path}: {exc.strerror or exc}).",
            hint="Check that the destination is a writable directory, or choose another --dest.",
        ) from exc
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except LockBusy:
        holder = _holder(path)
        if not wait:
            raise StorageError(
                f"Another bg20k fetch{holder} is writing to {dest_dir}.",
                hint="Wait for it to finish, or run without --no-wait to wait.",
            ) from None
        reporter.note(f"Another bg20k fetch{holder} is writing to {dest_dir}; waiting for it.")
        lock.acquire()
    except OSError as exc:  # after LockBusy, which is an OSError too
        raise StorageError(
            f"Cannot lock {dest_dir} for writing ({path}: {exc.strerror or exc}).",
            hint="Check that the destination is writable, or choose another --dest.",
        ) from exc
    try:
        _record_holder(path)
        yield
    finally:
        lock.release()


def _holder_file(path: Path) -> Path:
    return path.with_name(path.name + ".pid")


def _record_holder(path: Path) -> None:
    # Informational only, and in a directory others may write to: never through a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with contextlib.suppress(OSError):
        fd = os.open(_holder_file(path), flags, 0o644)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)


def _holder(path: Path) -> str:
    try:
        return f" (process {int(read_limited(_holder_file(path), 64))})"
    except (OSError, ValueError):
        return ""
