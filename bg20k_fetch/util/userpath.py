"""Paths as users write them: ``~`` expanded, and a ``~nosuchuser`` a usage error, not a crash."""

from __future__ import annotations

import os

from bg20k_fetch.errors import UsageError

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from pathlib import Path


def user_path(text: str | os.PathLike[str], what: str = "path") -> Path:
    from pathlib import Path  # not at import: `bg20k cite` and its kin need no pathlib

    try:
        return Path(text).expanduser()
    except RuntimeError as exc:  # pathlib's way of saying "no such user's home"
        reason = str(exc).rstrip(".")
        raise UsageError(f"Cannot expand the {what} {os.fspath(text)!r}: {reason}.") from exc
