"""Secrets never leave the process: API keys, tokens and credentials in URLs are masked in every
message, event, problems list and receipt bg20k writes.

A Drive API key travels as ``key=…`` in a query string, credentials as ``user:pass@`` in a
mirror's or proxy's URL, and object-store signatures as ``X-Amz-…`` parameters; any of them can
end up in an error from requests or urllib3, which quote the URL they failed on.
"""

from __future__ import annotations

import re
from functools import cache

MASK = "***"


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled on first use, not at import: 2 ms that every command would pay at start-up
    (issue 25), and most never has a message to mask."""
    userinfo = re.compile(r"(?<=://)[^/\s@:]*(?::[^/\s@]*)?@")
    # The same credentials after a library has taken the URL apart ("KEY:SECRET@bucket" quoted
    # in botocore's message about a bucket name): a name, a colon, a secret, an at sign.
    bare_userinfo = re.compile(r"(?<![\w/:.@-])[\w.~%+-]+:[^\s/@'\"]+@(?=[\w.-])")
    secret_params = re.compile(
        r"(?i)(?<=[?&;])((?:api_?)?key|token|access_token|auth|password|passwd|secret|sig"
        r"|signature|x-amz-[a-z-]+|x-goog-[a-z-]+)=[^&#\s'\"]*"
    )
    return userinfo, bare_userinfo, secret_params


def redact(text: str) -> str:
    """``text`` with every credential in it masked; everything else unchanged."""
    if "@" not in text and "=" not in text:
        return text
    userinfo, bare_userinfo, secret_params = _patterns()
    if "@" in text:
        text = userinfo.sub(MASK + "@", text) if "://" in text else text
        text = bare_userinfo.sub(MASK + "@", text)
    if "=" in text:
        text = secret_params.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return text
