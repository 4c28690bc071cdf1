"""Secrets never leave the process: API keys, tokens and credentials in URLs are masked in every
message, event, problems list and receipt bg20k writes.

A Drive API key travels as ``key=…`` in a query string, credentials as ``user:pass@`` in a
mirror's or proxy's URL, and object-store signatures as ``X-Amz-…`` parameters; any of them can
end up in an error from requests or urllib3, which quote the URL they failed on.
"""

from __future__ import annotations

import re

MASK = "***"
_USERINFO = re.compile(r"(?<=://)[^/\s@:]*(?::[^/\s@]*)?@")
# The same credentials after a library has taken the URL apart ("KEY:SECRET@bucket" quoted in
# botocore's message about a bucket name): a name, a colon, a secret, an at sign.
_BARE_USERINFO = re.compile(r"(?<![\w/:.@-])[\w.~%+-]+:[^\s/@'\"]+@(?=[\w.-])")
_SECRET_PARAMS = re.compile(
    r"(?i)(?<=[?&;])((?:api_?)?key|token|access_token|auth|password|passwd|secret|sig|signature"
    r"|x-amz-[a-z-]+|x-goog-[a-z-]+)=[^&#\s'\"]*"
)


def redact(text: str) -> str:
    """``text`` with every credential in it masked; everything else unchanged."""
    if "@" in text:
        text = _USERINFO.sub(MASK + "@", text) if "://" in text else text
        text = _BARE_USERINFO.sub(MASK + "@", text)
    if "=" in text:
        text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return text
