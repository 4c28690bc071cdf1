"""A Google Drive folder: listed, then fetched file by file into a cache that survives runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, ClassVar

import requests

from bg20k_fetch.config import Config
from bg20k_fetch.errors import UsageError
from bg20k_fetch.sources.base import Description, Fetching
from bg20k_fetch.transfer.archive import archive_kind

if TYPE_CHECKING:
    from bg20k_fetch.fetching.staging import Staging


@dataclass(frozen=True)
class DriveFolder:
    kind: ClassVar[str] = "gdrive-folder"
    id: str
    sha256: str | None = None  # always None: a folder has many files, nothing single to pin

    def __str__(self) -> str:
        return f"gdrive-folder:{self.id}"

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> DriveFolder:
        if sha256:
            raise UsageError("--sha256 pins one archive; a Drive folder has many files.")
        return cls(text.split(":", 1)[1])

    def describe(self, session: requests.Session | None) -> Description:
        return Description(None, "network: Google Drive")

    def gather(self, into: Staging, ctx: Fetching) -> None:
        """Loose images, archives or a mix; files land in a cache that survives a re-run."""
        from bg20k_fetch.gdrive.folder import FolderFetch
        from bg20k_fetch.gdrive.listing import list_folder

        files = list_folder(
            ctx.session, ctx.urls, self.id, ctx.reporter, ctx.policy, cookies=ctx.cookies
        )
        for note in short_listing_notes([f.path for f in files], into):
            ctx.reporter.note(note)
        target = ctx.hold(ctx.paths.cache_dir / f"gdrive-folder-{self.id}")
        done = FolderFetch(ctx, target, jobs=ctx.jobs).run(files)
        into.add_listed(target, done, link=not ctx.keep_archive)


def short_listing_notes(paths: list[str], staging: Staging) -> list[str]:
    """What to say when a listing holds fewer images than the release has."""
    if any(archive_kind(PurePosixPath(p)) for p in paths):
        return []  # archives hide their counts until they are opened
    notes = []
    counts: dict[str, int] = {}
    for path in paths:
        rel = staging.target_for(path)
        if rel is not None:
            split = rel.split("/", 1)[0]
            counts[split] = counts.get(split, 0) + 1
    for expected in staging.release.layout.splits:
        have = counts.get(expected.name, 0)
        if expected.count is not None and have < expected.count:
            notes.append(
                f"The Drive listing holds {have} of {expected.count} files for "
                f"{expected.name}/: the listing may be cut short; the dataset will be checked "
                "and reported incomplete rather than passed as complete."
            )
    return notes
