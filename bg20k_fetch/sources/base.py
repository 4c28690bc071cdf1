"""What every kind of source is: something that can say what it would fetch (for the dry run)
and bring its files into the staging tree (for the fetch), and the context both get."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

import requests

from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.gdrive.throttle import Throttle
from bg20k_fetch.locations import Paths
from bg20k_fetch.progress import Reporter
from bg20k_fetch.transfer.cache import (
    CacheEntry,
    discard_download,
    forget_failed,
    note_failed,
    remove_if_unused,
)
from bg20k_fetch.transfer.download import Download
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.resume import Downloaded

if TYPE_CHECKING:
    from bg20k_fetch.config import Config
    from bg20k_fetch.dataset.pin import LockFile
    from bg20k_fetch.dataset.provenance import ArchiveInfo
    from bg20k_fetch.fetching.staging import Staging
    from bg20k_fetch.gdrive.cookies import DriveCookies


@dataclass(frozen=True)
class Description:
    """For the dry run: what a source would bring, as far as can be known without fetching."""

    size: int | None
    needs: str  # what it uses: "network", "local files"


class Source(Protocol):
    kind: ClassVar[str]  # as shown in the dry run: http, path, gdrive-file, gdrive-folder …

    @property
    def sha256(self) -> str | None:
        """The pinned SHA-256 of the one file this source is, if any."""
        ...

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> Self:
        """Parse what the user wrote (the registry chose this kind by its scheme)."""
        ...

    def describe(self, session: requests.Session | None) -> Description:
        """What the dry run shows; ``session`` is None when the network may not be used yet."""
        ...

    def gather(self, into: Staging, ctx: Fetching) -> None:
        """Bring this source's files into the staging tree."""
        ...


@dataclass
class Fetching:
    """What a fetch gives its sources: the network, the cache, the destination and the place to
    record which archives served the bytes."""

    session: requests.Session
    urls: DriveUrls
    paths: Paths
    target: Target
    reporter: Reporter
    policy: RetryPolicy
    jobs: int | None  # None: the source's own default (a Drive folder adapts)
    throttle: Throttle
    keep_archive: bool = False  # caches outlive the fetch: never share files with the tree
    # Optional splits asked for (--with): a published copy brings only these of its own.
    components: tuple[str, ...] = ()
    # A lock file the dataset must match: a source that knows its manifest before downloading
    # (a published copy) checks it first.
    lock: LockFile | None = None
    cookies: DriveCookies | None = None  # --cookies: for Drive's hosts only
    archives: list[ArchiveInfo] = field(default_factory=list)
    # Earlier hops when the data comes from a copy bg20k published (who fetched it first,
    # from where, when, under which agreement): carried into PROVENANCE.yaml.
    chain: list[dict[str, str]] = field(default_factory=list)
    caches: list[Path] = field(default_factory=list)  # ours to delete once installed
    held: list[CacheEntry] = field(default_factory=list)

    def download(self, url: str, dest: Path, **options: Any) -> Downloaded:
        """The one place a Download is built: this fetch's session, policy and reporter, unless
        a caller (a folder's worker thread) passes its own."""
        options.setdefault("reporter", self.reporter)
        options.setdefault("policy", self.policy)
        session = options.pop("session", self.session)
        return Download(session, url, dest, **options).run()

    def stage_archive(self, into: Staging, path: Path, *, label: str | None = None) -> None:
        """Extract a downloaded archive; one that cannot be read or is unsafe is provably not
        worth keeping, so it leaves the cache (a later run downloads it afresh, not reuses it)."""
        try:
            into.add_archive(path, label=label)
        except (DamagedData, UnsafeArchiveError):
            discard_download(path)
            raise

    def hold(self, path: Path) -> Path:
        """Use a cache entry under its lock until this source is installed or has failed."""
        self.held.append(CacheEntry(path, self.reporter))
        if path not in self.caches:
            self.caches.append(path)
        return path

    def release(self) -> None:
        while self.held:
            self.held.pop().release()

    def failed(self, since: int) -> None:
        """The source that held the entries from ``caches[since]`` on has failed: they are kept
        for this destination's next run, and marked so a later success can remove them."""
        for path in self.caches[since:]:
            note_failed(path, self.target.root)

    def remove_caches(self) -> None:
        """Delete what this run downloaded, and what earlier runs kept for this destination
        after a source failed, unless another process is using it now."""
        self.release()
        for path in self.caches:
            remove_if_unused(path)
        forget_failed(self.paths.cache_dir, self.target.root)
