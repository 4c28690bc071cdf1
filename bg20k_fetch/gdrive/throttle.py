"""Backing off as a whole: when Drive throttles one request (429, 5xx), every worker waits.

Only answers about the whole service pause everyone. A quota page is about one file (it lasts
hours) and a host that cannot be reached is a different failure: see ``health.py``.
"""

from __future__ import annotations

import threading
import time

from ..retry import backoff
from ..settings import env_number


class Throttle:
    def __init__(self, base: float = 1.0, cap: float = 60.0, budget: float = 900.0) -> None:
        self.base, self.cap, self.budget = base, cap, budget
        self._lock = threading.Lock()
        self._until = 0.0
        self._streak = 0
        self.waited = 0.0  # total pause imposed, checked against the budget
        self.hits = 0

    @classmethod
    def from_env(cls) -> Throttle:
        """BG20K_THROTTLE_BUDGET: seconds of pausing allowed before a folder fetch stops."""
        return cls(budget=env_number("BG20K_THROTTLE_BUDGET", 900.0, low=0, high=7 * 86400))

    def wait(self) -> None:
        with self._lock:
            delay = self._until - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def hit(self, retry_after: float | None = None) -> float:
        """Record a throttling answer; returns the pause every worker now takes."""
        with self._lock:
            self.hits += 1
            self._streak += 1
            if retry_after is not None:
                delay = min(self.cap, retry_after)  # the server said how long: no less
            else:
                delay = backoff(self._streak, self.base, self.cap, spread=0.5)
            now = time.monotonic()
            until = now + delay
            if until > self._until:
                self.waited += until - max(self._until, now)
                self._until = until
            return delay

    def ok(self) -> None:
        with self._lock:
            self._streak = 0

    @property
    def exhausted(self) -> bool:
        return self.waited > self.budget
