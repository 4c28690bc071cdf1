"""One place for HTTP: the session, timeouts, redirects and what counts as retryable.

Redirects are followed here rather than by requests so that every hop is checked: an HTTPS URL
may never be sent to plain HTTP, and the number of hops is capped.
"""

from __future__ import annotations

import email.utils
import html
import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests

from bg20k_fetch._version import __version__
from bg20k_fetch.errors import SourceError
from bg20k_fetch.transfer.settings import CONNECT_TIMEOUT, read_timeout

MAX_REDIRECTS = 10
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def make_session(pool_size: int = 10) -> requests.Session:
    """TLS verification stays on; proxies and CA bundles come from the standard variables."""
    session = requests.Session()
    session.headers["User-Agent"] = f"bg20k/{__version__} (+https://github.com/JizhiziLi/GFM)"
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def page_title(page: str) -> str:
    """An HTML page's <title>, unescaped and on one line, for error messages."""
    m = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return " ".join(html.unescape(m.group(1)).split()) if m else "(untitled)"


class RetryableHTTPError(Exception):
    """A status worth retrying (408, 429, 5xx), with the server's Retry-After if it gave one."""

    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def get(
    session: requests.Session,
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    stream: bool = True,
    cookie: Callable[[str], str | None] | None = None,
) -> requests.Response:
    """GET (or HEAD) following redirects by hand. ``cookie`` gives the Cookie header for each
    hop's URL (or None): a user's cookies never follow a redirect to a host not meant for them.

    Raises RetryableHTTPError, SourceError, or requests' own exceptions.
    """
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        hop = dict(headers or {})
        if cookie is not None and (value := cookie(current)):
            hop["Cookie"] = value
        response = session.request(
            method,
            current,
            headers=hop,
            params=params,
            stream=stream,
            allow_redirects=False,
            timeout=(CONNECT_TIMEOUT, read_timeout()),
        )
        params = None  # carried in the Location from here on
        if not response.is_redirect:
            if response.status_code in RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                raise RetryableHTTPError(current, response.status_code, retry_after)
            return response
        target = urljoin(current, response.headers.get("Location", ""))
        response.close()
        if urlsplit(target).scheme not in ("http", "https"):
            raise SourceError(
                f"{current} redirected to {target}, which is not an http(s) URL; refused."
            )
        if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
            raise SourceError(
                f"{current} redirected to {target}, which is not HTTPS; refused.",
                hint="Use a mirror that stays on HTTPS.",
            )
        current = target
    raise SourceError(f"{url} redirected more than {MAX_REDIRECTS} times; giving up.")
