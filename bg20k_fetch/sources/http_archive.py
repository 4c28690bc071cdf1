"""An archive (zip, tar, tar.gz) at an http(s) URL: a mirror."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote, urlsplit

import requests

from bg20k_fetch.config import Config
from bg20k_fetch.dataset.provenance import ArchiveInfo
from bg20k_fetch.errors import SourceError
from bg20k_fetch.sources.base import Description, Fetching
from bg20k_fetch.transfer.archive import sniff
from bg20k_fetch.transfer.http import RetryableHTTPError, get
from bg20k_fetch.util.disk import plan_space, require_space

if TYPE_CHECKING:
    from bg20k_fetch.fetching.staging import Staging


def cache_name(url: str) -> str:
    """Stable per URL (so resume finds its .part), readable, and never a path."""
    base = Path(unquote(urlsplit(url).path)).name or "download"
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in base)[-80:]
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{base}"


def remote_size(session: requests.Session, url: str) -> int | None:
    """The size the server announces, for the disk check; None when it will not say."""
    try:
        response = get(session, url, method="HEAD", stream=False)
    except (requests.RequestException, RetryableHTTPError, SourceError):
        return None  # the download itself will report what is wrong
    with response:
        length = response.headers.get("Content-Length", "")
        return int(length) if response.status_code == 200 and length.isdigit() else None


@dataclass(frozen=True)
class HttpArchive:
    kind: ClassVar[str] = "http"
    url: str
    sha256: str | None = None
    size: int | None = None

    def __str__(self) -> str:
        return self.url

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> HttpArchive:
        mirror = next((m for m in config.mirrors if m.url == text), None)
        pinned = sha256 or (mirror.sha256 if mirror else None)
        return cls(text, pinned.lower() if pinned else None, mirror.size if mirror else None)

    def describe(self, session: requests.Session | None) -> Description:
        size = self.size
        if size is None and session is not None:
            size = remote_size(session, self.url)
        return Description(size, "network")

    def gather(self, into: Staging, ctx: Fetching) -> None:
        size = self.size or remote_size(ctx.session, self.url)
        if size:
            require_space(plan_space(ctx.paths.cache_dir, ctx.target.dest_dir, size))
        dest = ctx.hold(ctx.paths.cache_dir / cache_name(self.url))
        got = ctx.download(
            self.url, dest, expected_sha256=self.sha256, expected_size=self.size, sniff=sniff
        )
        ctx.stage_archive(into, got.path)
        ctx.archives.append(
            ArchiveInfo(name=got.path.name, origin=self.url, size=got.size, sha256=got.sha256)
        )
