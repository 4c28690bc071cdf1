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
import json
import shutil
from pathlib import Path

from bg20k_fetch.errors import StorageError
from bg20k_fetch.progress import Reporter
from bg20k_fetch.util.fs import atomic_write, make_dirs, read_limited
from bg20k_fetch.util.oslock import FileLock, LockBusy
from bg20k_fetch.util.procs import owner_tag, tag_is_dead

FAILED_MARK = ".failed-for.json"  # the destinations this entry's source failed for
SIDE_FILES = (".part", ".part.json", ".done.json", FAILED_MARK)


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
        except LockBusy:
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
    except LockBusy:
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


def _failed_for(mark: Path) -> list[str]:
    try:
        found = json.loads(read_limited(mark, 1 << 20))
    except (OSError, ValueError, RecursionError):
        return []
    return [d for d in found if isinstance(d, str)] if isinstance(found, list) else []


def note_failed(path: Path, destination: Path) -> None:
    """The source whose download is ``path`` failed for ``destination``: the entry is kept for
    that destination's next run to reuse (the caller holds the entry)."""
    if not any(path.with_name(path.name + s).exists() for s in ("", ".part")):
        return  # nothing was kept: nothing to mark
    mark = path.with_name(path.name + FAILED_MARK)
    where = str(destination.absolute())
    known = _failed_for(mark)
    if where not in known:
        with contextlib.suppress(StorageError):
            atomic_write(mark, json.dumps([*known, where]).encode(), make_parents=False)


def forget_failed(cache_dir: Path, destination: Path) -> None:
    """``destination`` now holds a verified dataset: entries kept only because a source failed
    for it are removed (unless another destination's run may still want them, or a process is
    using them)."""
    where = str(destination.absolute())
    with contextlib.suppress(OSError):
        for mark in sorted(cache_dir.glob(f"*{FAILED_MARK}")):
            entry = mark.with_name(mark.name.removesuffix(FAILED_MARK))
            others = [d for d in _failed_for(mark) if d != where]
            if others:
                with contextlib.suppress(StorageError):
                    atomic_write(mark, json.dumps(others).encode(), make_parents=False)
            else:
                remove_if_unused(entry)


def downloaded_since(cache_dir: Path, since: float) -> bool:
    """Whether any download in the cache (an archive, a ``.part``, a Drive folder's files)
    received bytes at or after ``since``: what an interrupted run can truthfully say it kept."""
    try:
        entries = list(cache_dir.iterdir())
    except OSError:
        return False
    for entry in entries:
        if entry.name == ".locks":
            continue
        files = entry.rglob("*") if entry.is_dir() and not entry.is_symlink() else [entry]
        for file in files:
            with contextlib.suppress(OSError):
                info = file.lstat()
                if info.st_size and info.st_mtime >= since and file.is_file():
                    return True
    return False
