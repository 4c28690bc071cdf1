"""Turning a Drive file or folder source into files in the staging tree."""

from __future__ import annotations

from pathlib import Path

import requests

from ..archive import sniff
from ..dataset import ArchiveInfo
from ..download import Download, RetryPolicy
from ..progress import Reporter
from ..staging import Staging
from .files import drive_opener
from .folder import FolderFetch
from .links import DriveUrls
from .listing import list_folder


def gather_file(
    file_id: str,
    sha256: str | None,
    staging: Staging,
    session: requests.Session,
    urls: DriveUrls,
    cache_dir: Path,
    reporter: Reporter,
    policy: RetryPolicy | None,
) -> tuple[ArchiveInfo, Path]:
    """A single Drive file holding the dataset as an archive."""
    dest = cache_dir / f"gdrive-{file_id}"
    got = Download(
        session,
        urls.file_url(file_id),
        dest,
        expected_sha256=sha256,
        sniff=sniff,
        reporter=reporter,
        policy=policy,
        label=f"gdrive:{file_id}",
        opener=drive_opener(session, urls, file_id),
    ).run()
    staging.add_archive(got.path, label=f"gdrive:{file_id}")
    return ArchiveInfo(
        name=f"gdrive-{file_id}", origin=f"gdrive:{file_id}", size=got.size, sha256=got.sha256
    ), got.path


def gather_folder(
    folder_id: str,
    staging: Staging,
    session: requests.Session,
    urls: DriveUrls,
    cache_dir: Path,
    reporter: Reporter,
    policy: RetryPolicy | None,
    jobs: int,
) -> Path:
    """Every file of a Drive folder, loose images and archives alike; returns the cache dir."""
    files = list_folder(session, urls, folder_id, reporter)
    _note_short_listing([f.path for f in files], staging, reporter)
    target = cache_dir / f"gdrive-folder-{folder_id}"
    done = FolderFetch(urls, target, reporter, jobs=jobs, policy=policy).run(files)
    staging.add_directory(target, known=done)
    return target


def _note_short_listing(paths: list[str], staging: Staging, reporter: Reporter) -> None:
    if any(p.lower().endswith((".zip", ".tar", ".tgz", ".tar.gz")) for p in paths):
        return  # archives hide their counts until they are opened
    counts: dict[str, int] = {}
    for path in paths:
        rel = staging.target_for(path)
        if rel is not None:
            split = rel.split("/", 1)[0]
            counts[split] = counts.get(split, 0) + 1
    for expected in staging.release.layout.splits:
        have = counts.get(expected.name, 0)
        if expected.count is not None and have < expected.count:
            reporter.note(
                f"The Drive listing holds {have} of {expected.count} files for "
                f"{expected.name}/: the listing may be cut short; the dataset will be checked "
                "and reported incomplete rather than passed as complete."
            )
