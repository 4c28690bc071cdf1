"""Re-hashing files where they lie (``verify --deep``): SHA-256 only, as fast as the cores go.

Per file: one ``open`` of a raw descriptor, ``readinto`` one reused buffer, ``update`` from a
view of it, ``close`` (hashlib and the reads release the GIL; no file object, no copies). Many
small files cost more in per-file Python than in hashing, and that part holds the GIL: a tree
of thousands of files is hashed by worker processes, each with its own interpreter, in batches
(the parent only hands out names). A few files, or one core, stay on threads in this process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

BUFFER = 1 << 20
BATCH = 256  # files per task: a task's round trip costs more than hashing one small file
PROCESSES_FROM = 2_000  # files; below this a process pool's start costs more than it saves

NOT_REGULAR = "is not a regular file"
Outcome = tuple[str, str | None, str | None]  # path, its SHA-256, or why it could not be read


def _digest(path: str, buffer: bytearray) -> str:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")  # a FIFO would block, /dev/zero never end
        hasher, view = hashlib.sha256(), memoryview(buffer)
        while n := os.readv(fd, [view]):
            hasher.update(view[:n])
        return hasher.hexdigest()
    finally:
        os.close(fd)


def _batch(root: str, paths: list[str]) -> list[Outcome]:
    buffer = bytearray(BUFFER)  # one per task's worker, reused for every file of the batch
    out: list[Outcome] = []
    for rel in paths:
        try:
            out.append((rel, _digest(os.path.join(root, rel), buffer), None))
        except ValueError:
            out.append((rel, None, NOT_REGULAR))
        except OSError as exc:
            out.append((rel, None, exc.strerror or str(exc)))
    return out


def sha256_many(root: Path, paths: list[str], workers: int) -> Iterator[Outcome]:
    """Each of ``paths`` (relative to ``root``) with its SHA-256 (or why it could not be
    read), in the order given."""
    batches = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
    pool: Executor
    if workers > 1 and len(paths) >= PROCESSES_FROM:
        # forkserver, not fork: the caller may have threads (a progress display), and a fork
        # copies their locks mid-flight; the children import only this module's few needs.
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    else:
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
    with pool:
        for found in pool.map(_batch, [str(root)] * len(batches), batches):
            yield from found
