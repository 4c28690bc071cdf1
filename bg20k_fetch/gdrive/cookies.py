"""A signed-in way through Drive's throttling: the user's own browser cookies (``--cookies``).

A Netscape ``cookies.txt`` exported from a browser where the user is signed in to Google is read
once; its cookies go, in a Cookie header, only to the Drive hosts (``DriveUrls.drive_hosts``) and
only where a cookie's own domain, path and secure flag allow — never to a mirror, a bucket, the
Drive API or any host a redirect leads to. Their values are never logged or written anywhere:
messages name the file, never what is in it.
"""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from bg20k_fetch.errors import UsageError
from bg20k_fetch.redact import redact


class DriveCookies:
    def __init__(self, path: Path, cookies: Iterable[http.cookiejar.Cookie]) -> None:
        self.path = path
        self._cookies = list(cookies)

    @classmethod
    def load(cls, path: Path) -> DriveCookies:
        jar = http.cookiejar.MozillaCookieJar(str(path))
        try:
            jar.load(ignore_discard=True, ignore_expires=False)
        except (OSError, http.cookiejar.LoadError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not read"
            if isinstance(exc, http.cookiejar.LoadError):
                reason = "it is not a Netscape cookies.txt"
            raise UsageError(
                f"Cannot use the cookies file {path}: {reason}.",
                hint="Export cookies.txt (Netscape format) from a browser where you are signed "
                "in to Google, e.g. with a 'Get cookies.txt' extension.",
            ) from exc
        found = list(jar)
        if not found:
            raise UsageError(
                f"The cookies file {path} holds no cookie that has not expired.",
                hint="Export it again from a browser where you are signed in to Google.",
            )
        return cls(path, found)

    def header(self, url: str, drive_hosts: frozenset[str]) -> str | None:
        """The Cookie header for ``url``, or None when nothing may be sent there."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in drive_hosts:
            return None
        host, path = (parts.hostname or "").lower(), parts.path or "/"
        now = time.time()
        chosen = [
            f"{c.name}={c.value}"
            for c in self._cookies
            if _domain_matches(host, c.domain)
            and path.startswith(c.path or "/")
            and (not c.secure or parts.scheme == "https")
            and (c.expires is None or c.expires > now)
            and c.value is not None
        ]
        return "; ".join(chosen) or None

    def __repr__(self) -> str:  # never the values, not even in a traceback
        return f"DriveCookies({redact(str(self.path))}, {len(self._cookies)} cookies)"


def _domain_matches(host: str, domain: str) -> bool:
    domain = domain.lower()
    if domain.startswith("."):
        return host == domain[1:] or host.endswith(domain)
    return host == domain
