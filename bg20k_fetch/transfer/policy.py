"""How often and how long to retry: the policy alone, importable without the HTTP stack, so a
command that only reads an object store or a finished tree does not load requests."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bg20k_fetch.transfer.settings import env_number


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    total_budget: float = 600.0
    max_restarts: int = 3

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """BG20K_RETRIES (attempts per file, 1-100) and BG20K_BACKOFF (first wait, seconds)."""
        attempts = env_number("BG20K_RETRIES", cls.attempts, low=1, high=100, integer=True)
        base = env_number("BG20K_BACKOFF", cls.base_delay, low=0, high=3600)
        return cls(attempts=int(attempts), base_delay=base)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return backoff(attempt, self.base_delay, self.max_delay, spread=0.5)


def backoff(attempt: int, base: float, cap: float, *, spread: float) -> float:
    """The one exponential backoff: ``base * 2**(attempt-1)`` capped at ``cap``, with jitter
    taking off up to ``spread`` of it so that many clients do not retry in step."""
    delay = min(cap, base * 2 ** (max(attempt, 1) - 1))
    return float(delay * (1 - spread * random.random()))  # noqa: S311 - jitter, not crypto
