"""Bringing each kind of source's files into the staging tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import requests

from .archive import sniff
from .dataset import ArchiveInfo
from .disk import plan_space, require_space
from .download import Download
from .errors import IntegrityError
from .gdrive.files import drive_opener
from .gdrive.folder import FolderFetch
from .gdrive.links import DriveUrls
from .gdrive.listing import list_folder, short_listing_notes
from .paths import Paths
from .progress import Reporter
from .retry import RetryPolicy
from .sources import Source, download_archive, local_path, remote_size
from .staging import Staging, hash_file


@dataclass
class Gatherer:
    session: requests.Session
    urls: DriveUrls
    paths: Paths
    dest_dir: Path
    reporter: Reporter
    policy: RetryPolicy | None
    jobs: int
    archives: list[ArchiveInfo] = field(default_factory=list)
    caches: list[Path] = field(default_factory=list)  # ours to delete once installed

    def gather(self, group: list[Source], staging: Staging) -> None:
        for source in group:
            getattr(self, "_" + source.kind.replace("-", "_"))(source, staging)

    def _http(self, source: Source, staging: Staging) -> None:
        size = source.size or remote_size(self.session, source.location)
        if size:
            require_space(plan_space(self.paths.cache_dir, self.dest_dir, size))
        got = download_archive(
            source, self.session, self.paths.cache_dir, self.reporter, self.policy
        )
        self.caches.append(got.path)
        staging.add_archive(got.path)
        self.archives.append(
            ArchiveInfo(
                name=got.path.name, origin=source.location, size=got.size, sha256=got.sha256
            )
        )

    def _gdrive_file(self, source: Source, staging: Staging) -> None:
        name = f"gdrive-{source.location}"
        opener = drive_opener(self.session, self.urls, source.location)
        got = Download(
            self.session,
            self.urls.file_url(source.location),
            self.paths.cache_dir / name,
            expected_sha256=source.sha256,
            sniff=sniff,
            reporter=self.reporter,
            policy=self.policy,
            label=str(source),
            opener=opener,
        ).run()
        self.caches.append(got.path)
        staging.add_archive(got.path, label=str(source))
        self.archives.append(
            ArchiveInfo(name=name, origin=str(source), size=got.size, sha256=got.sha256)
        )

    def _gdrive_folder(self, source: Source, staging: Staging) -> None:
        """Loose images, archives or a mix; files land in a cache that survives a re-run."""
        files = list_folder(self.session, self.urls, source.location, self.reporter, self.policy)
        for note in short_listing_notes([f.path for f in files], staging):
            self.reporter.note(note)
        target = self.paths.cache_dir / f"gdrive-folder-{source.location}"
        self.caches.append(target)
        done = FolderFetch(
            self.urls, target, self.reporter, jobs=self.jobs, policy=self.policy
        ).run(files)
        staging.add_directory(target, known=done)

    def _path(self, source: Source, staging: Staging) -> None:
        path = local_path(source)
        if path.is_dir():
            staging.add_directory(path)
            return
        info = hash_file(path)
        if source.sha256 and info.sha256 != source.sha256:
            raise IntegrityError(
                f"{path} has SHA-256 {info.sha256}, not the pinned {source.sha256}."
            )
        staging.add_archive(path)
        self.archives.append(
            ArchiveInfo(name=path.name, origin=str(path), size=info.size, sha256=info.sha256)
        )
