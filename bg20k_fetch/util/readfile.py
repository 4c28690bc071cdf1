"""Reading a small file bg20k trusts no more than its size says: apart from fs.py so that the
commands answered at once (`cite`, `agreement --sha256`) read theirs without loading pathlib."""

from __future__ import annotations

import os
import stat


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """A regular file's bytes, refusing anything larger than ``limit`` (or not a regular file:
    a FIFO or /dev/zero named where a record belongs would otherwise hang the command).

    Raises OSError (FileNotFoundError when absent) or ValueError when it is too big."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"it is {info.st_size} bytes, more than the {limit} allowed")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # grew while being read
                raise ValueError(f"it is more than the {limit} bytes allowed")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
