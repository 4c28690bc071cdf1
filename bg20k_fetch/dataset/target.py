"""Where a dataset goes: the ``--dest`` directory and its ``BG-20k/`` root, worked out once.

A ``BG-20k`` that is a symbolic link (data on another disk) is followed, never replaced: the
tree is built beside the link's target, on the target's file system, and the link stays. bg20k's
own working entries beside the tree carry the process and host that made them, so a later run
can tell which are provably dead.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.errors import StorageError, UsageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.release import Release
from bg20k_fetch.util.procs import owner_tag
from bg20k_fetch.util.userpath import user_path

WORK_KINDS = ("staging", "old")


@dataclass(frozen=True)
class Target:
    dest_dir: Path  # what --dest names: the lock and the problems file live here
    root: Path  # dest_dir / BG-20k, as the user names it (may be a link)
    real_root: Path  # the directory the tree is, or will be, in

    @classmethod
    def resolve(cls, dest: str | os.PathLike[str] | None, paths: Paths, release: Release) -> Target:
        dest_dir = user_path(dest, "--dest") if dest is not None else paths.data_dir
        root = dest_dir / release.layout.root
        try:
            linked = stat.S_ISLNK(os.lstat(root).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            linked = False
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise UsageError(
                    f"The destination {dest_dir} cannot be used: {exc.strerror}.",
                    hint="Choose a --dest with shorter names.",
                ) from exc
            raise StorageError(f"Cannot look at {root}: {exc.strerror or exc}.") from exc
        if dest is not None and dest_dir.name == root.name and not linked and not root.exists():
            # `--dest d/BG-20k` means d: the dataset is never nested in a folder of its name.
            raise UsageError(
                f"--dest names the folder that holds {root.name}/, so {dest_dir} would give "
                f"{root}.",
                hint=f"Use --dest {dest_dir.parent}.",
            )
        real = Path(os.path.realpath(root)) if linked else root
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
