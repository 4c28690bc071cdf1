"""Telling a host that is down from a host that is busy.

A folder fetch makes thousands of requests. When none of them can even connect (the host is
unknown, refuses, or never answers the handshake), retrying each file and pausing "for
throttling" would spend the whole budget on one fault. Connection failures are counted across
all workers; a host that no request has reached for a while is one error for the whole fetch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bg20k_fetch.errors import SourceError
from bg20k_fetch.transfer.retry import short_error


class HostHealth:
    def __init__(
        self,
        *,
        fresh_grace: float = 5.0,
        grace: float = 30.0,
        min_failures: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Down after ``min_failures`` failures and ``fresh_grace`` seconds when the host has
        not answered once in this run, or ``grace`` seconds after its last answer."""
        self.fresh_grace, self.grace, self.min_failures = fresh_grace, grace, min_failures
        self.clock = clock
        self._lock = threading.Lock()
        self._since = clock()
        self._answered = False
        self._failures = 0
        self._last: BaseException | None = None

    def answered(self) -> None:
        with self._lock:
            self._since, self._answered, self._failures = self.clock(), True, 0

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self._last = exc

    def check(self, done: int) -> None:
        """Raise SourceError (exit 4) once the host counts as down."""
        with self._lock:
            grace = self.grace if self._answered else self.fresh_grace
            down = self._failures >= self.min_failures and self.clock() - self._since > grace
            last = self._last
        if down and last is not None:
            raise SourceError(
                f"Google Drive's download host cannot be reached ({short_error(last)}); "
                f"{done} files are done and kept.",
                hint="Check the network (and HTTPS_PROXY, BG20K_GDRIVE_USERCONTENT_URL), then "
                "run the same command again: it continues where it stopped.",
            )
