"""What a source string names, and turning a source into files on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import requests

from .archive import archive_kind
from .config import Config
from .errors import SourceError, UsageError
from .gdrive.links import DriveUrls, parse_drive_link
from .http import RetryableHTTPError, get
from .release import Release

Kind = Literal["http", "path", "gdrive-file", "gdrive-folder"]


@dataclass(frozen=True)
class Source:
    location: str
    kind: Kind
    sha256: str | None = None
    size: int | None = None

    def __str__(self) -> str:
        if self.kind == "gdrive-folder":
            return f"gdrive-folder:{self.location}"
        if self.kind == "gdrive-file":
            return f"gdrive:{self.location}"
        return self.location


def parse_source(text: str, config: Config, *, sha256: str | None = None) -> Source:
    link = parse_drive_link(text, DriveUrls.resolve(config))
    if link is not None:
        if link.kind == "folder" and sha256:
            raise UsageError("--sha256 pins one archive; a Drive folder has many files.")
        return Source(link.id, f"gdrive-{link.kind}", sha256.lower() if sha256 else None)  # type: ignore[arg-type]
    mirror = next((m for m in config.mirrors if m.url == text), None)
    pinned = sha256 or (mirror.sha256 if mirror else None)
    size = mirror.size if mirror else None
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return Source(text, "http", pinned.lower() if pinned else None, size)
    if scheme and len(scheme) > 1:
        raise UsageError(f"Unsupported source {text!r}: give an http(s) URL or a local path.")
    return Source(str(Path(text).expanduser()), "path", pinned.lower() if pinned else None, size)


def official_sources(config: Config, release: Release) -> list[Source]:
    """The mirrors from config.yaml, in order, then the official Drive folder."""
    sources = [
        Source(m.url, "http", m.sha256.lower() if m.sha256 else None, m.size)
        for m in config.mirrors
    ]
    folder = release.official_folder
    if folder is not None and folder.id:
        sources.append(Source(folder.id, "gdrive-folder"))
    return sources


def cache_name(url: str) -> str:
    """Stable per URL (so resume finds its .part), readable, and never a path."""
    base = Path(unquote(urlsplit(url).path)).name or "download"
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in base)[-80:]
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{base}"


def local_path(source: Source) -> Path:
    path = Path(source.location)
    if not path.exists():
        raise SourceError(
            f"{path} does not exist.", hint="Check the path given to --source/--from."
        )
    if path.is_file() and archive_kind(path) is None:
        raise SourceError(f"{path} is not a .zip, .tar, .tar.gz or .tgz archive.")
    return path


def remote_size(session: requests.Session, url: str) -> int | None:
    """The size the server announces, for the disk check; None when it will not say."""
    try:
        response = get(session, url, method="HEAD", stream=False)
    except (requests.RequestException, RetryableHTTPError, SourceError):
        return None  # the download itself will report what is wrong
    with response:
        length = response.headers.get("Content-Length", "")
        return int(length) if response.status_code == 200 and length.isdigit() else None


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
