"""A copy already on disk: an archive (browser zip parts, a mirror's file) or a directory (the
Baidu copy). Read where it lies; never moved or deleted."""

from __future__ import annotations

import contextlib
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import requests

from bg20k_fetch.config import Config
from bg20k_fetch.dataset.provenance import ArchiveInfo
from bg20k_fetch.errors import IntegrityError, SourceError, UsageError
from bg20k_fetch.sources.base import Description, Fetching
from bg20k_fetch.transfer.archive import archive_kind
from bg20k_fetch.transfer.hashing import HashingBehind
from bg20k_fetch.util.userpath import user_path

if TYPE_CHECKING:
    from bg20k_fetch.fetching.staging import Staging


@dataclass(frozen=True)
class LocalPath:
    kind: ClassVar[str] = "path"
    path: Path
    sha256: str | None = None
    size: int | None = None

    def __str__(self) -> str:
        return str(self.path)

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> LocalPath:
        mirror = next((m for m in config.mirrors if m.url == text), None)
        pinned = sha256 or (mirror.sha256 if mirror else None)
        source = cls(user_path(text, "source path"), pinned.lower() if pinned else None)
        with contextlib.suppress(OSError):  # one that does not exist yet is judged at fetch time
            source._refuse_special(source.path.stat().st_mode)
        return source

    def _refuse_special(self, mode: int) -> None:
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            # /dev/zero would never end, a FIFO would block for ever
            raise UsageError(
                f"{self.path} is neither a file nor a folder (a device, a FIFO, a socket); "
                "refused.",
                hint="Give an archive (.zip, .tar, .tar.gz, .tgz) or a folder.",
            )

    def describe(self, session: requests.Session | None) -> Description:
        size = None
        if self.path.is_file():
            size = self.path.stat().st_size
        elif self.path.is_dir():
            size = sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return Description(size, "local files")

    def checked(self) -> Path:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise SourceError(
                f"{self.path} does not exist.", hint="Check the path given to --source/--from."
            ) from None
        except OSError as exc:
            raise SourceError(f"Cannot read {self.path}: {exc.strerror or exc}.") from exc
        self._refuse_special(mode)
        if self.path.is_file() and archive_kind(self.path) is None:
            raise SourceError(f"{self.path} is not a .zip, .tar, .tar.gz or .tgz archive.")
        return self.path

    def gather(self, into: Staging, ctx: Fetching) -> None:
        path = self.checked()
        if path.is_dir():
            into.add_directory(path)
            return
        # Its digest (for the receipts and any pin) is taken while it is extracted; a wrong
        # pin fails the fetch before anything leaves staging.
        digest = HashingBehind(path)
        into.add_archive(path)
        info = digest.result()
        if self.sha256 and info.sha256 != self.sha256:
            raise IntegrityError(f"{path} has SHA-256 {info.sha256}, not the pinned {self.sha256}.")
        ctx.archives.append(
            ArchiveInfo(name=path.name, origin=str(path), size=info.size, sha256=info.sha256)
        )
