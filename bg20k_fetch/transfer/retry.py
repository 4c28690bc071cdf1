"""Retrying what is worth retrying: connection errors, timeouts, 408, 429 and 5xx.

Exponential backoff with jitter, the server's Retry-After honoured (capped), a bounded number
of attempts and a bounded total time. The download engine and the Drive listing share it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import NewConnectionError

from bg20k_fetch.errors import SourceError
from bg20k_fetch.progress import Reporter
from bg20k_fetch.transfer.http import RetryableHTTPError
from bg20k_fetch.transfer.policy import RetryPolicy

T = TypeVar("T")
RETRYABLE = (requests.ConnectionError, requests.Timeout, ChunkedEncodingError)


class RetriesExhausted(SourceError):
    """Every attempt failed with a retryable error; the partial file is kept for a re-run."""

    def __init__(self, message: str, *, hint: str | None = None, cause: BaseException) -> None:
        super().__init__(message, hint=hint)
        self.cause = cause

    @property
    def connect_failure(self) -> bool:
        return is_connect_failure(self.cause)

    @property
    def throttled(self) -> bool:
        """The service kept answering 429 or 5xx: about the whole service, not one file."""
        return isinstance(self.cause, RetryableHTTPError)


def is_connect_failure(exc: BaseException) -> bool:
    """No connection could be made: the host is unknown, refuses, or never answered the
    handshake. (A connection that broke or stalled mid-transfer is not one of these.)

    Judged by urllib3's exception types, not by the message: requests wraps urllib3's
    MaxRetryError, whose ``reason`` is the cause (through a proxy, the proxy error's
    ``original_error``); a name that does not resolve is a NewConnectionError too."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)
    cause = getattr(cause, "original_error", cause)
    return isinstance(cause, NewConnectionError)


def host_of(exc: BaseException) -> str | None:
    match = _HOST.search(str(exc))
    return f"{match.group(1)}:{match.group(2)}" if match else None


_HOST = re.compile(r"host='([^']+)', port=(\d+)")
_REASONS = (
    re.compile(r"(CERTIFICATE_VERIFY_FAILED\]?[^'\")(]*)"),
    re.compile(r"\[Errno -?\d+\] ([^'\")]+)"),
    re.compile(r"(Read timed out|Connect timed out|timed out)"),
)


def short_error(exc: BaseException) -> str:
    """One readable clause instead of urllib3's nested reprs."""
    text = str(exc)
    host = host_of(exc)
    if isinstance(exc, requests.ReadTimeout) and "Read timed out" in text:
        return f"timed out waiting for {host or 'the server'} to send data"
    if isinstance(exc, requests.ConnectionError | requests.Timeout) and host:
        for pattern in _REASONS:
            if match := pattern.search(text):
                return f"cannot connect to {host}: {match.group(1).strip().rstrip('.')}"
    return text if len(text) < 200 else text[:197] + "..."


NETWORK_HINT = "Check the network (and HTTPS_PROXY), then run the same command again."


def with_retries(
    call: Callable[[], T],
    what: str,
    policy: RetryPolicy,
    reporter: Reporter,
    *,
    hint: str | Callable[[], str] = NETWORK_HINT,
    progress: Callable[[], int] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()`` until it succeeds, retrying transient failures; RetriesExhausted at the end.

    Only the waiting counts against ``policy.total_budget``, not time spent transferring; and an
    attempt that moved bytes (``progress()`` grew) starts the count of attempts afresh, so a
    long download that breaks now and then is never abandoned while it advances. Any other
    requests error (a malformed URL, say) becomes a SourceError naming ``what``.
    """
    attempt, waited, attempts = 0, 0.0, 0
    seen = progress() if progress else 0
    cause: BaseException
    while True:
        attempt += 1
        attempts += 1
        try:
            return call()
        except RetryableHTTPError as exc:
            last, retry_after, cause = str(exc), exc.retry_after, exc
        except RETRYABLE as exc:
            last, retry_after, cause = short_error(exc), None, exc
        except requests.RequestException as exc:
            raise SourceError(f"Cannot fetch {what}: {short_error(exc)}.") from exc
        if progress is not None and progress() > seen:
            seen, attempt = progress(), 1  # it advanced: this was a fresh first attempt
        delay = policy.delay(attempt, retry_after)
        if attempt >= policy.attempts or waited + delay > policy.total_budget:
            plural = "s" if attempts > 1 else ""
            raise RetriesExhausted(
                f"Giving up on {what} after {attempts} attempt{plural}: {last}.",
                hint=hint() if callable(hint) else hint,
                cause=cause,
            )
        reporter.note(f"{last}; retrying in {delay:.1f}s")
        sleep(delay)
        waited += delay
