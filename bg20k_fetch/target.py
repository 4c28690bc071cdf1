"""Where a dataset goes: the ``--dest`` directory and its ``BG-20k/`` root, worked out once.

A ``BG-20k`` that is a symbolic link (data on another disk) is followed, never replaced: the
tree is built beside the link's target, on the target's file system, and the link stays. bg20k's
own working entries beside the tree carry the process and host that made them, so a later run
can tell which are provably dead.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .locations import Paths
from .release import Release
from .userpath import user_path

_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "localhost"
WORK_KINDS = ("staging", "old")


def owner_tag() -> str:
    """This process, as written into the names of its working entries: ``PID@HOST``."""
    return f"{os.getpid()}@{_HOST}"


def tag_is_dead(tag: str) -> bool:
    """True only when the process that made an entry is provably gone: it ran on this host
    and no process has its PID. (Another host's process cannot be checked from here.)"""
    pid_text, _, host = tag.partition("@")
    if host and host != _HOST:
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


@dataclass(frozen=True)
class Target:
    dest_dir: Path  # what --dest names: the lock and the problems file live here
    root: Path  # dest_dir / BG-20k, as the user names it (may be a link)
    real_root: Path  # the directory the tree is, or will be, in

    @classmethod
    def resolve(cls, dest: str | os.PathLike[str] | None, paths: Paths, release: Release) -> Target:
        dest_dir = user_path(dest, "--dest") if dest is not None else paths.data_dir
        root = dest_dir / release.layout.root
        real = Path(os.path.realpath(root)) if root.is_symlink() else root
        return cls(dest_dir, root, real)

    @property
    def linked(self) -> bool:
        return self.real_root != self.root

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def build_dir(self) -> Path:
        """Where working entries go: beside the real tree, so the final move is one rename."""
        return self.real_root.parent

    @property
    def problems_file(self) -> Path:
        return self.dest_dir / f"{self.name}.problems.txt"

    def work_dir(self, kind: str) -> Path:
        return self.build_dir / f".{self.real_root.name}.{kind}-{owner_tag()}"

    def leftovers(self, kind: str) -> list[tuple[Path, str]]:
        """Working entries of ``kind`` left by any process: (path, owner tag)."""
        prefix = f".{self.real_root.name}.{kind}-"
        try:
            names = sorted(os.listdir(self.build_dir))
        except OSError:
            return []
        return [(self.build_dir / n, n[len(prefix) :]) for n in names if n.startswith(prefix)]

    def kept_dir(self) -> Path:
        """A new directory name beside the tree for files bg20k did not make."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = self.build_dir / f"{self.real_root.name}.kept-{stamp}"
        candidate, n = base, 1
        while candidate.exists() or candidate.is_symlink():
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        return candidate

    def is_own_entry(self, name: str) -> bool:
        """Names of bg20k's working entries, which a walk of a source folder must skip."""
        real = self.real_root.name
        return name.startswith((f".{real}.", f"{real}.kept-", ".bg20k-fetch.lock"))
