"""Which process made a working entry, and whether it is provably gone.

bg20k's working entries (staging trees, swapped-out trees, temporary files beside an output)
carry ``PID@HOST`` in their names. A later run may remove one only when that process ran on
this host and no longer exists: anything else might still be in use.
"""

from __future__ import annotations

import os
import re

# os.uname().nodename is what socket.gethostname() returns on POSIX, without importing socket
# (a few milliseconds of every `bg20k cite`).
HOST = re.sub(r"[^A-Za-z0-9.-]", "_", os.uname().nodename)[:64] or "localhost"


def owner_tag() -> str:
    """This process, as written into the names of its working entries: ``PID@HOST``."""
    return f"{os.getpid()}@{HOST}"


def tag_is_dead(tag: str) -> bool:
    """True only when the process that made an entry is provably gone: it ran on this host
    and no process has its PID. (Another host's process cannot be checked from here.)"""
    pid_text, _, host = tag.partition("@")
    if host and host != HOST:
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, but someone else's
    return False
