"""Copying a checked zip's members out on several threads at once, hashing each as it is written.

Only members ``archive.list_members`` approved are read, from where the checked central
directory put them (members.py); the directories are made first (parallel ``makedirs`` race),
then each worker takes a contiguous run of members in archive order, with its own descriptor
on the zip, so reads stay sequential and no lock is shared. Reading, CRC, SHA-256 and writing
all release the GIL, so the threads use every core.
Each worker creates its files in a directory of its own and links them into place
(workerdir.py): creating files in one shared directory, the workers would take turns.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bg20k_fetch.errors import DamagedData, IntegrityError
from bg20k_fetch.transfer.archive import UNREADABLE, Member
from bg20k_fetch.transfer.hashing import FileInfo, Readable, consume
from bg20k_fetch.transfer.members import MemberStream, data_start, readable, zipfile_entry
from bg20k_fetch.transfer.workerdir import WorkerDir, write_error
from bg20k_fetch.util.signals import deferred, wait_or_stop

BIG_ENOUGH = 64 << 20  # below this, one thread: starting more costs more than it saves


@dataclass(frozen=True, slots=True)  # one per file: 20,000 of them
class Item:
    member: Member
    rel: str  # where it lands, relative to the staging root
    # Where it is written, as text: a Path per file was 8 MiB of 20,000 members' peak memory.
    # None: read and hash only (a second copy of a file already placed).
    target: str | None


def workers_for(total_bytes: int, members: int) -> int:
    if total_bytes < BIG_ENOUGH or members < 2:
        return 1
    return max(1, min(4, os.cpu_count() or 1, members))


class Source:
    """One worker's way into the zip: its own descriptor, and zipfile only for a member
    members.py does not read (compressed with neither store nor deflate)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._zip: zipfile.ZipFile | None = None

    def zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        return self._zip

    def close(self) -> None:
        os.close(self.fd)
        if self._zip is not None:
            self._zip.close()


def open_stream(source: Source, member: Member) -> IO[bytes] | MemberStream:
    """The member's bytes (CRC checked as they are read out)."""
    if readable(member):
        return MemberStream(source.fd, member)
    data_start(source.fd, member)  # its local header checked, its bytes inside its own space
    return source.zip().open(zipfile_entry(member))


def _runs(items: Sequence[Item], workers: int) -> list[list[Item]]:
    """Contiguous runs of about equal bytes, in archive order."""
    total = sum(i.member.size for i in items) or 1
    runs: list[list[Item]] = [[] for _ in range(workers)]
    done = 0
    for item in items:
        runs[min(workers - 1, done * workers // total)].append(item)
        done += item.member.size
    return [r for r in runs if r]


def copy_members(
    path: Path,
    items: Sequence[Item],
    *,
    workers: int,
    advance: Callable[[int], None],
    stop: threading.Event | None = None,
    scratch: str | None = None,
) -> list[tuple[Item, FileInfo]]:
    """Copy (or just hash) every item; returns each with what it held. The first error stops
    the other workers at their next member (as does setting ``stop``) and is raised; files
    already written stay for the caller to discard with the rest of the staging tree.
    ``scratch``: a directory of the caller's on the targets' file system, where each worker
    makes its own directory to create files in (removed before this returns)."""
    for parent in sorted({os.path.dirname(i.target) for i in items if i.target is not None}):
        try:
            Path(parent).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(parent, exc) from exc
    stop = stop or threading.Event()
    lock = threading.Lock()

    def counted(size: int) -> None:
        with lock:
            advance(size)

    runs = _runs(items, workers)
    own_dirs = scratch is not None and len(runs) > 1

    def work(run: list[Item]) -> list[tuple[Item, FileInfo]]:
        try:
            source = Source(path)
        except OSError as exc:
            stop.set()
            raise DamagedData(
                f"Cannot read {path.name}: {exc.strerror or exc}.",
                hint="Delete it and fetch again.",
            ) from exc
        try:
            with WorkerDir(scratch if own_dirs else None) as own:
                return _copy_run(source, path, run, stop, counted, own)
        except BaseException:
            stop.set()
            raise
        finally:
            source.close()

    if len(runs) <= 1:
        return work(runs[0]) if runs else []
    # Ctrl-C or a kill stops the workers at their next member and is raised once they have
    # (util/signals.py: raised at once, it could land inside concurrent.futures' own code).
    with deferred() as held:
        pool = ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="extract")
        try:
            futures = [pool.submit(work, run) for run in runs]
            wait_or_stop(futures, stop, held)
            return [pair for future in futures for pair in future.result()]
        finally:
            stop.set()  # a worker's error: the others stop at their next member
            pool.shutdown(wait=True)


def _copy_run(
    source: Source,
    path: Path,
    run: list[Item],
    stop: threading.Event,
    advance: Callable[[int], None],
    own: WorkerDir,
) -> list[tuple[Item, FileInfo]]:
    done: list[tuple[Item, FileInfo]] = []
    for item in run:
        if stop.is_set():
            break
        origin = f"{path.name}:{item.member.name}"
        try:
            stream = open_stream(source, item.member)
        except (*UNREADABLE, RuntimeError) as exc:
            raise DamagedData(
                f"{path.name} is damaged: {exc}.", hint="Delete it and fetch again."
            ) from exc
        with stream:
            info = _copy_one(stream, item.target, origin, own)
        if info.size != item.member.size:
            raise IntegrityError(
                f"{origin} gave {info.size} bytes where {item.member.size} were declared."
            )
        done.append((item, info))
        advance(info.size)
    return done


def _copy_one(stream: Readable, target: str | None, origin: str, own: WorkerDir) -> FileInfo:
    if target is None:
        return consume(stream, None, origin)
    try:
        # An explicit buffer size: open() then skips its isatty() and second fstat(), two
        # system calls of the eight each of 20,000 files costs.
        with open(own.file or target, "xb", buffering=1 << 16) as out:
            info = consume(stream, out, origin)
        own.place(target)
        return info
    except OSError as exc:  # reads raise DamagedData inside consume: these are writes
        raise write_error(target, exc) from exc
