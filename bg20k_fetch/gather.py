"""Bringing each kind of source's files into the staging tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import requests

from .archive import sniff
from .cache import CacheEntry, remove_if_unused
from .dataset import ArchiveInfo
from .disk import plan_space, require_space
from .download import Download
from .errors import IntegrityError
from .gdrive.files import drive_opener
from .gdrive.folder import FolderFetch
from .gdrive.links import DriveUrls
from .gdrive.listing import list_folder, short_listing_notes
from .gdrive.throttle import Throttle
from .hashing import hash_file
from .paths import Paths
from .progress import Reporter
from .retry import RetryPolicy
from .sources import Source, cache_name, local_path, remote_size
from .staging import Staging
from .target import Target


@dataclass
class Gatherer:
    session: requests.Session
    urls: DriveUrls
    paths: Paths
    target: Target
    reporter: Reporter
    policy: RetryPolicy | None
    jobs: int
    throttle: Throttle | None = None
    archives: list[ArchiveInfo] = field(default_factory=list)
    caches: list[Path] = field(default_factory=list)  # ours to delete once installed
    held: list[CacheEntry] = field(default_factory=list)

    def gather(self, group: list[Source], staging: Staging) -> None:
        for source in group:
            getattr(self, "_" + source.kind.replace("-", "_"))(source, staging)

    def _entry(self, path: Path) -> None:
        """Hold a cache entry until this source is installed or has failed."""
        self.held.append(CacheEntry(path, self.reporter))
        if path not in self.caches:
            self.caches.append(path)

    def release(self) -> None:
        while self.held:
            self.held.pop().release()

    def remove_caches(self) -> None:
        """Delete what this run downloaded, unless another process is using it now."""
        self.release()
        for path in self.caches:
            remove_if_unused(path)

    def _http(self, source: Source, staging: Staging) -> None:
        size = source.size or remote_size(self.session, source.location)
        if size:
            require_space(plan_space(self.paths.cache_dir, self.target.dest_dir, size))
        dest = self.paths.cache_dir / cache_name(source.location)
        self._entry(dest)
        got = Download(
            self.session,
            source.location,
            dest,
            expected_sha256=source.sha256,
            expected_size=source.size,
            sniff=sniff,
            reporter=self.reporter,
            policy=self.policy,
        ).run()
        staging.add_archive(got.path)
        self.archives.append(
            ArchiveInfo(
                name=got.path.name, origin=source.location, size=got.size, sha256=got.sha256
            )
        )

    def _gdrive_file(self, source: Source, staging: Staging) -> None:
        name = f"gdrive-{source.location}"
        dest = self.paths.cache_dir / name
        self._entry(dest)
        opener = drive_opener(self.session, self.urls, source.location)
        got = Download(
            self.session,
            self.urls.file_url(source.location),
            dest,
            expected_sha256=source.sha256,
            sniff=sniff,
            reporter=self.reporter,
            policy=self.policy,
            label=str(source),
            opener=opener,
        ).run()
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
        self._entry(target)
        done = FolderFetch(
            self.urls,
            target,
            self.reporter,
            jobs=self.jobs,
            policy=self.policy,
            throttle=self.throttle,
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
