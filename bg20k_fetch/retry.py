"""Retrying what is worth retrying: connection errors, timeouts, 408, 429 and 5xx.

Exponential backoff with jitter, the server's Retry-After honoured (capped), a bounded number
of attempts and a bounded total time. The download engine and the Drive listing share it.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from requests.exceptions import ChunkedEncodingError

from .errors import SourceError, UsageError
from .http import RetryableHTTPError
from .progress import Reporter

T = TypeVar("T")
RETRYABLE = (requests.ConnectionError, requests.Timeout, ChunkedEncodingError)


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
        """BG20K_RETRIES (attempts per file) and BG20K_BACKOFF (first wait, seconds)."""
        try:
            attempts = int(os.environ.get("BG20K_RETRIES", cls.attempts))
            base = float(os.environ.get("BG20K_BACKOFF", cls.base_delay))
        except ValueError as exc:
            raise UsageError(f"BG20K_RETRIES/BG20K_BACKOFF must be numbers ({exc}).") from exc
        return cls(attempts=max(1, attempts), base_delay=max(0.0, base))

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(backoff * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not crypto


class RetriesExhausted(SourceError):
    """Every attempt failed with a retryable error; the partial file is kept for a re-run."""


_HOST = re.compile(r"host='([^']+)', port=(\d+)")
_REASONS = (
    re.compile(r"(CERTIFICATE_VERIFY_FAILED\]?[^'\")(]*)"),
    re.compile(r"\[Errno -?\d+\] ([^'\")]+)"),
    re.compile(r"(Read timed out|Connect timed out|timed out)"),
)


def short_error(exc: BaseException) -> str:
    """One readable clause instead of urllib3's nested reprs."""
    text = str(exc)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        host = _HOST.search(text)
        where = f" to {host.group(1)}:{host.group(2)}" if host else ""
        for pattern in _REASONS:
            if match := pattern.search(text):
                return f"cannot connect{where}: {match.group(1).strip().rstrip('.')}"
    return text if len(text) < 200 else text[:197] + "..."


NETWORK_HINT = "Check the network (and HTTPS_PROXY), then run the same command again."


def with_retries(
    call: Callable[[], T],
    what: str,
    policy: RetryPolicy,
    reporter: Reporter,
    *,
    hint: str = NETWORK_HINT,
) -> T:
    """``call()`` until it succeeds, retrying transient failures; RetriesExhausted at the end.

    Any other requests error (a malformed URL, say) becomes a SourceError naming ``what``.
    """
    started, attempt = time.monotonic(), 0
    while True:
        attempt += 1
        try:
            return call()
        except RetryableHTTPError as exc:
            last, retry_after = str(exc), exc.retry_after
        except RETRYABLE as exc:
            last, retry_after = short_error(exc), None
        except requests.RequestException as exc:
            raise SourceError(f"Cannot fetch {what}: {short_error(exc)}.") from exc
        delay = policy.delay(attempt, retry_after)
        if attempt >= policy.attempts or time.monotonic() - started + delay > policy.total_budget:
            raise RetriesExhausted(
                f"Giving up on {what} after {attempt} attempt{'s' if attempt > 1 else ''}: {last}.",
                hint=hint,
            )
        reporter.note(f"{last}; retrying in {delay:.1f}s")
        time.sleep(delay)
