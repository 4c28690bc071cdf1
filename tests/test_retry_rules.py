"""How a failure is named and judged (``retry``), from real failures on loopback.

A refused port, a name that does not resolve and a server that never answers are produced for
real, so the checks read what requests and urllib3 actually say.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from bg20k_fetch.errors import SourceError, UsageError
from bg20k_fetch.progress import NullReporter
from bg20k_fetch.transfer.http import RetryableHTTPError
from bg20k_fetch.transfer.policy import RetryPolicy, backoff
from bg20k_fetch.transfer.retry import (
    RetriesExhausted,
    is_connect_failure,
    short_error,
    with_retries,
)


def _failure(url: str, timeout: float = 5) -> requests.RequestException:
    try:
        requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return exc
    raise AssertionError(f"{url} answered")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) and never sends a byte."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        yield int(s.getsockname()[1])


def test_a_refused_connection(closed_port: int) -> None:
    exc = _failure(f"http://127.0.0.1:{closed_port}/x.zip")
    assert is_connect_failure(exc)
    assert short_error(exc) == f"cannot connect to 127.0.0.1:{closed_port}: Connection refused"


def test_a_name_that_does_not_resolve() -> None:
    exc = _failure("http://bg20k-test.invalid/x.zip")
    assert is_connect_failure(exc)
    assert short_error(exc).startswith("cannot connect to bg20k-test.invalid:80: ")


def test_a_proxy_that_refuses_is_a_connect_failure(closed_port: int) -> None:
    try:
        requests.get(
            "http://bg20k-test.invalid/x.zip",
            proxies={"http": f"http://127.0.0.1:{closed_port}"},
            timeout=5,
        )
    except requests.ConnectionError as exc:
        assert isinstance(exc, requests.exceptions.ProxyError)
        assert is_connect_failure(exc)
    else:
        raise AssertionError("the proxy answered")


def test_a_server_that_never_answers_is_a_stall_not_a_connect_failure(silent_port: int) -> None:
    exc = _failure(f"http://127.0.0.1:{silent_port}/x.zip", timeout=0.3)
    assert isinstance(exc, requests.ReadTimeout)
    assert not is_connect_failure(exc)
    assert short_error(exc) == f"timed out waiting for 127.0.0.1:{silent_port} to send data"


@pytest.mark.parametrize(
    ("exc", "connect"),
    [
        (requests.ConnectTimeout("handshake timed out"), True),
        (requests.ConnectionError("Connection aborted: reset by peer"), False),  # mid-transfer
        (ValueError("Connection refused"), False),  # not a network error at all
        (requests.ConnectionError(), False),
        (requests.ConnectionError(NewConnectionError(None, "refused")), True),  # unwrapped
    ],
)
def test_what_counts_as_never_connecting(exc: BaseException, connect: bool) -> None:
    assert is_connect_failure(exc) is connect


def test_other_errors_are_kept_short() -> None:
    assert short_error(ValueError("plain")) == "plain"
    long = short_error(ValueError("x" * 300))
    assert len(long) == 200 and long.endswith("...")
    assert short_error(ValueError("y" * 199)) == "y" * 199
    assert short_error(ValueError("z" * 200)) == "z" * 197 + "..."


def test_a_stall_with_no_host_in_the_message_names_the_server() -> None:
    exc = requests.ReadTimeout("Read timed out.")
    assert short_error(exc) == "timed out waiting for the server to send data"


def test_only_network_errors_are_reworded() -> None:
    text = "HTTPConnectionPool(host='h', port=80): [Errno 113] No route to host."
    assert short_error(requests.ConnectionError(text)) == "cannot connect to h:80: No route to host"
    assert short_error(ValueError(text)) == text  # the same words from elsewhere are kept


def test_backoff_doubles_up_to_the_cap_less_its_jitter() -> None:
    assert [backoff(n, 0.5, 3.0, spread=0) for n in (0, 1, 2, 3, 4)] == [0.5, 0.5, 1.0, 2.0, 3.0]
    jittered = [backoff(3, 1.0, 60.0, spread=0.5) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in jittered) and len(set(jittered)) > 1


def test_retries_exhausted_says_whose_fault_it_was(closed_port: int) -> None:
    refused = RetriesExhausted("gave up", cause=_failure(f"http://127.0.0.1:{closed_port}/"))
    assert isinstance(refused, SourceError) and refused.exit_code == 4
    assert refused.connect_failure and not refused.throttled
    throttled = RetriesExhausted("gave up", cause=RetryableHTTPError("u", 429, 1.0))
    assert throttled.throttled and not throttled.connect_failure
    assert throttled.cause.status == 429  # type: ignore[attr-defined]


def test_the_retry_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BG20K_BACKOFF", raising=False)
    monkeypatch.delenv("BG20K_RETRIES", raising=False)
    assert RetryPolicy.from_env() == RetryPolicy()  # 8 attempts, 0.5 s first wait
    monkeypatch.setenv("BG20K_RETRIES", "100")
    monkeypatch.setenv("BG20K_BACKOFF", "7")
    assert (RetryPolicy.from_env().attempts, RetryPolicy.from_env().base_delay) == (100, 7.0)
    for bad in ("101", "2.5"):
        monkeypatch.setenv("BG20K_RETRIES", bad)
        with pytest.raises(UsageError) as caught:
            RetryPolicy.from_env()
        assert caught.value.message == (
            f"BG20K_RETRIES={bad!r} must be a whole number from 1 to 100."
        )


def _never(exc: Exception) -> Callable[[], str]:
    def call() -> str:
        raise exc

    return call


def test_a_budget_is_of_the_waiting_still_to_come() -> None:
    answers = iter([RetryableHTTPError("u", 503, 1.0), RetryableHTTPError("u", 503, 1.0), None])

    def call() -> str:
        if exc := next(answers):
            raise exc
        return "ok"

    slept: list[float] = []
    policy = RetryPolicy(attempts=10, total_budget=2.0)
    assert with_retries(call, "x", policy, NullReporter(), sleep=slept.append) == "ok"
    assert slept == [1.0, 1.0]  # two seconds of a two-second budget: allowed, exactly
    with pytest.raises(RetriesExhausted) as caught:
        with_retries(
            _never(RetryableHTTPError("u", 503, 1.0)),
            "x",
            policy,
            NullReporter(),
            sleep=slept.append,
        )
    assert caught.value.message == "Giving up on x after 3 attempts: HTTP 503 from u."
    with pytest.raises(RetriesExhausted) as caught:
        with_retries(
            _never(RetryableHTTPError("u", 503, None)),
            "x",
            RetryPolicy(attempts=1),
            NullReporter(),
            sleep=slept.append,
        )
    assert caught.value.message == "Giving up on x after 1 attempt: HTTP 503 from u."


def test_a_request_error_that_retrying_cannot_mend_is_named_at_once() -> None:
    with pytest.raises(SourceError) as caught:
        with_retries(
            _never(requests.exceptions.InvalidURL("no host in http:///x")),
            "the archive",
            RetryPolicy(),
            NullReporter(),
            sleep=lambda s: None,
        )
    assert not isinstance(caught.value, RetriesExhausted)
    assert caught.value.message == "Cannot fetch the archive: no host in http:///x."


def test_the_first_wait_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG20K_BACKOFF", "3601")
    with pytest.raises(UsageError, match="BG20K_BACKOFF='3601' must be a number from 0 to 3600"):
        RetryPolicy.from_env()
