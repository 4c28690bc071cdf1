"""Sources: what a ``--source``/``--from`` string names, and the plan of what to try.

Each kind is one module with one class following ``base.Source``; ``REGISTRY`` maps a scheme to
its class, like pooch's ``choose_downloader``. Adding a kind is one module and one line here.
A Drive web link is first rewritten to its short form (``gdrive:ID``, ``gdrive-folder:ID``),
so Drive is chosen by scheme like everything else; text without a scheme is a local path.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from bg20k_fetch.config import Config
from bg20k_fetch.errors import SourceError, UsageError
from bg20k_fetch.gdrive.links import DriveUrls, parse_drive_link
from bg20k_fetch.release import Release
from bg20k_fetch.sources.base import Description, Fetching, Source
from bg20k_fetch.sources.gdrive_file import DriveFile
from bg20k_fetch.sources.gdrive_folder import DriveFolder
from bg20k_fetch.sources.http_archive import HttpArchive
from bg20k_fetch.sources.local import LocalPath
from bg20k_fetch.sources.object_store import ObjectStore

REGISTRY: dict[str, type[Source]] = {
    "http": HttpArchive,
    "https": HttpArchive,
    "gdrive": DriveFile,
    "gdrive-folder": DriveFolder,
    "s3": ObjectStore,
    "gs": ObjectStore,
    "gcs": ObjectStore,
    "az": ObjectStore,
    "abfs": ObjectStore,
}


def parse_source(text: str, config: Config, *, sha256: str | None = None) -> Source:
    try:
        parts = urlsplit(text)
        if parts.scheme.lower() in ("http", "https"):
            parts.port  # noqa: B018 - validates host and port, raising ValueError
    except ValueError as exc:
        raise UsageError(f"{text!r} is not a valid URL: {exc}.") from exc
    link = parse_drive_link(text, DriveUrls.resolve(config))
    if link is not None:
        text = f"gdrive-folder:{link.id}" if link.kind == "folder" else f"gdrive:{link.id}"
    scheme = urlsplit(text).scheme.lower()
    kind = REGISTRY.get(scheme)
    if kind is not None:
        return kind.from_text(text, config=config, sha256=sha256)
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, i.e. a path
        known = ", ".join(f"{s}://" for s in REGISTRY if s.startswith("http"))
        raise UsageError(f"Unsupported source {text!r}: give {known} URL, a Drive link or a path.")
    return LocalPath.from_text(text, config=config, sha256=sha256)


def official_sources(config: Config, release: Release) -> list[Source]:
    """The mirrors from config.yaml, in order, then the official Drive folder."""
    sources: list[Source] = [parse_source(m.url, config) for m in config.mirrors]
    folder = release.official_folder
    if folder is not None and folder.id:
        sources.append(DriveFolder(folder.id))
    return sources


def plan_sources(
    sources: Sequence[str],
    from_paths: Sequence[str],
    sha256: str | None,
    config: Config,
    release: Release,
) -> list[list[Source]]:
    """Groups of sources, tried in order; the sources within a group make one dataset.

    Validates the combination first, so a dry run refuses what the fetch would refuse."""
    if sha256 and (len(sources) != 1 or from_paths):
        raise UsageError("--sha256 pins one archive: give exactly one --source with it.")
    if sources and from_paths:
        raise UsageError("Give --source or --from, not both.")
    if from_paths:
        return [[parse_source(p, config) for p in from_paths]]
    if sources:
        return [[parse_source(s, config, sha256=sha256)] for s in sources]
    plan = [[s] for s in official_sources(config, release)]
    if not plan:
        raise SourceError(
            "No source is known for this release.",
            hint="Give one with --source URL or --from PATH.",
        )
    return plan


__all__ = [
    "REGISTRY",
    "Description",
    "DriveFile",
    "DriveFolder",
    "Fetching",
    "HttpArchive",
    "LocalPath",
    "ObjectStore",
    "Source",
    "official_sources",
    "parse_source",
    "plan_sources",
]
