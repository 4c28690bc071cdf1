"""Who accepts: the OS user and host as the system names them, and what a person types about
themselves (name, e-mail, affiliation), checked before anything is recorded."""

from __future__ import annotations

import getpass
import os

from bg20k_fetch.errors import UsageError


def os_user() -> str:
    try:
        return printable(getpass.getuser())
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def printable(text: str) -> str:
    """A login or host name as the OS gave it, made storable: bytes that are not UTF-8
    (surrogate escapes) become \\xNN instead of making the record unreadable."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_identity(**values: str | None) -> None:
    for name, value in values.items():
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UsageError(
                f"--{name} is not valid UTF-8 text; nothing was accepted.",
                hint="Give it in a UTF-8 terminal or locale.",
            ) from exc
