"""One Google Drive file (an archive): through Drive's redirect and confirmation form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import requests

from bg20k_fetch.config import Config
from bg20k_fetch.dataset.provenance import ArchiveInfo
from bg20k_fetch.sources.base import Description, Fetching
from bg20k_fetch.transfer.archive import sniff

if TYPE_CHECKING:
    from bg20k_fetch.fetching.staging import Staging


@dataclass(frozen=True)
class DriveFile:
    kind: ClassVar[str] = "gdrive-file"
    id: str
    sha256: str | None = None

    def __str__(self) -> str:
        return f"gdrive:{self.id}"

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> DriveFile:
        return cls(text.split(":", 1)[1], sha256.lower() if sha256 else None)

    def describe(self, session: requests.Session | None) -> Description:
        return Description(None, "network: Google Drive")

    def gather(self, into: Staging, ctx: Fetching) -> None:
        from bg20k_fetch.gdrive.files import drive_opener

        name = f"gdrive-{self.id}"
        dest = ctx.hold(ctx.paths.cache_dir / name)
        got = ctx.download(
            ctx.urls.file_url(self.id),
            dest,
            expected_sha256=self.sha256,
            sniff=sniff,
            label=str(self),
            opener=drive_opener(ctx.session, ctx.urls, self.id, cookies=ctx.cookies),
        )
        ctx.stage_archive(into, got.path, label=str(self))
        ctx.archives.append(
            ArchiveInfo(name=name, origin=str(self), size=got.size, sha256=got.sha256)
        )
