"""Paths as users write them: ``~`` expanded, and a ``~nosuchuser`` a usage error, not a crash."""

from __future__ import annotations

import os
from pathlib import Path

from bg20k_fetch.errors import UsageError


def user_path(text: str | os.PathLike[str], what: str = "path") -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:  # pathlib's way of saying "no such user's home"
        reason = str(exc).rstrip(".")
        raise UsageError(f"Cannot expand the {what} {os.fspath(text)!r}: {reason}.") from exc
