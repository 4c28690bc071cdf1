"""An exclusive advisory lock on a file: flock(2), which the kernel drops when the holding
process dies, so a crashed bg20k never leaves a lock that blocks for ever.

This is what the filelock package does on POSIX, and it interoperates with it (the same
flock on the same file). It replaced filelock because filelock's import alone (logging,
asyncio-aware state, platform checks) cost more than all of `bg20k status` otherwise does:
about 30 ms on every status, history, accept and fetch.
"""

from __future__ import annotations

import fcntl
import os
import time
from types import TracebackType


class LockBusy(TimeoutError):
    """Another process holds the lock (an OSError, as filelock's Timeout was)."""


class FileLock:
    """``with FileLock(path):`` waits as long as it takes; ``acquire(timeout=0)`` tries once.

    One holder per open: two FileLocks on the same path exclude each other even within one
    process. Acquiring a lock this object already holds only counts, as filelock did.
    """

    def __init__(self, path: str | os.PathLike[str], mode: int = 0o644) -> None:
        self.path, self._mode = os.fspath(path), mode
        self._fd: int | None = None
        self._depth = 0

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float | None = None, poll: float = 0.05) -> None:
        """Hold the lock; LockBusy if another holder keeps it past ``timeout`` seconds (None:
        no limit). A signal while waiting ends the wait with its exception (Ctrl-C works)."""
        if self._fd is not None:
            self._depth += 1
            return
        # Never through a link: a lock file made where a planted link points would be a file
        # bg20k made somewhere it was not asked to write.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, self._mode)
        try:
            _lock(fd, timeout, poll, self.path)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)  # closing alone would release it too; unlocking first says so

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _lock(fd: int, timeout: float | None, poll: float, path: str) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the kernel wakes us when the holder lets go
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockBusy(f"{path} is locked by another process") from None
            time.sleep(poll)
