"""Backing off as a whole: when Drive throttles one request, every worker waits."""

from __future__ import annotations

import os
import random
import threading
import time

from ..errors import UsageError


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
        try:
            budget = float(os.environ.get("BG20K_THROTTLE_BUDGET", "900"))
        except ValueError as exc:
            raise UsageError(f"BG20K_THROTTLE_BUDGET must be a number of seconds ({exc}).") from exc
        return cls(budget=budget)

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
            backoff = min(self.cap, self.base * 2 ** (self._streak - 1))
            delay = min(self.cap, retry_after) if retry_after is not None else backoff
            delay *= 0.75 + random.random() / 2  # noqa: S311 - jitter, not crypto
            until = time.monotonic() + delay
            if until > self._until:
                self.waited += until - max(self._until, time.monotonic())
                self._until = until
            return delay

    def ok(self) -> None:
        with self._lock:
            self._streak = 0

    @property
    def exhausted(self) -> bool:
        return self.waited > self.budget
