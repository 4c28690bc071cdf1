"""The download cache, shared by every bg20k process of a user (or of a cluster's shared home).

An entry (one archive, or one Drive folder's files) is used under its own lock, held from the
moment its download starts until its data is staged: a second fetch of the same source waits,
then reuses what the first completed, instead of resuming the first one's live ``.part``.
Removing an entry takes its lock without waiting and leaves alone an entry another process
holds. Lock files live apart in ``.locks/`` and are never deleted (deleting a lock file that
another process has open is how two holders happen).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import StorageError
from .fsutil import make_dirs
from .progress import Reporter
from .target import owner_tag, tag_is_dead

SIDE_FILES = (".part", ".part.json", ".done.json")


def _lock_path(path: Path) -> Path:
    locks = path.parent / ".locks"
    make_dirs(locks)
    name = path.name if len(path.name) < 200 else hashlib.sha256(path.name.encode()).hexdigest()
    return locks / f"{name}.lock"


class CacheEntry:
    """A cache path held by this process until ``release()``.

    A process that has to wait says so with a marker beside the lock, so the holder, when it
    is done, leaves the entry for the waiter to reuse instead of deleting it under its feet.
    """

    def __init__(self, path: Path, reporter: Reporter) -> None:
        self.path = path
        lock_path = _lock_path(path)
        self._lock = FileLock(str(lock_path))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            reporter.note(f"Another bg20k process is using {path}; waiting for it to finish.")
            marker = lock_path.with_name(f"{lock_path.name}.waiting-{owner_tag()}")
            marker.touch()
            try:
                self._lock.acquire()
            finally:
                marker.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot lock the cache entry {path}: {exc.strerror}.") from exc

    def release(self) -> None:
        self._lock.release()


def _someone_waits(lock_path: Path) -> bool:
    waiting = False
    for marker in lock_path.parent.glob(f"{glob.escape(lock_path.name)}.waiting-*"):
        if tag_is_dead(marker.name.rsplit(".waiting-", 1)[1]):
            marker.unlink(missing_ok=True)  # a waiter that died: its marker is stale
        else:
            waiting = True
    return waiting


def remove_if_unused(path: Path) -> bool:
    """Delete a cache entry (and its side files) unless another process holds or awaits it."""
    lock_path = _lock_path(path)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    if _someone_waits(lock_path):
        lock.release()
        return False
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        for suffix in SIDE_FILES:
            with contextlib.suppress(OSError):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return True
    finally:
        lock.release()


def discard_download(path: Path) -> None:
    """Drop a download that proved to be bad, with its records (the caller holds its entry)."""
    for victim in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(OSError):
            victim.unlink(missing_ok=True)
