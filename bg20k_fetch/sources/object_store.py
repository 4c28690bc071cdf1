"""A dataset published to an object store (``bg20k publish``), or a single archive in one:
``s3://lab-data/datasets/BG-20k``, ``s3://lab-data/BG-20k.zip`` (any fsspec URL whose package is
installed).

A published tree is fetched only once its completion marker is there and its manifest gives
the committed digest; every object is hashed as it arrives and checked against the published
manifest before it goes anywhere, then through the same layout check, staging and install as
any source. The published provenance's chain travels on: who first fetched it, from where, when,
under which agreement.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, ClassVar

import requests

from bg20k_fetch.config import Config
from bg20k_fetch.dataset.provenance import SIZES_NAME, ArchiveInfo
from bg20k_fetch.errors import IntegrityError, SourceError, StorageError
from bg20k_fetch.gdrive.folder_cache import with_markers
from bg20k_fetch.redact import redact
from bg20k_fetch.sources.base import Description, Fetching
from bg20k_fetch.storage.proof import read_published
from bg20k_fetch.storage.store import Store, open_store
from bg20k_fetch.transfer.archive import archive_kind, sniff
from bg20k_fetch.transfer.hashing import CHUNK, FileInfo

if TYPE_CHECKING:
    from bg20k_fetch.fetching.staging import Staging


@dataclass(frozen=True)
class ObjectStore:
    kind: ClassVar[str] = "object-store"
    url: str
    sha256: str | None = None

    def __str__(self) -> str:
        return redact(self.url)

    @classmethod
    def from_text(cls, text: str, *, config: Config, sha256: str | None) -> ObjectStore:
        return cls(text.rstrip("/"), sha256.lower() if sha256 else None)

    @property
    def archive(self) -> bool:
        return archive_kind(PurePosixPath(self.url)) is not None

    def describe(self, session: requests.Session | None) -> Description:
        """A published copy's size from its SIZES.json, once the network may be used."""
        if session is None or self.archive:
            return Description(None, "network: object store")
        store = open_store(self.url)
        try:
            sizes = json.loads(store.read(SIZES_NAME, 64 << 20) or b"null")["sizes"]
            size = sum(v for v in sizes.values() if type(v) is int)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            size = None
        return Description(size, "network: object store")

    def gather(self, into: Staging, ctx: Fetching) -> None:
        store = open_store(self.url)
        if self.archive:
            self._archive(store, into, ctx)
        else:
            self._tree(store, into, ctx)

    def _archive(self, store: Store, into: Staging, ctx: Fetching) -> None:
        name = "store-" + hashlib.sha256(self.url.encode()).hexdigest()[:12]
        dest = ctx.hold(ctx.paths.cache_dir / f"{name}-{PurePosixPath(self.url).name}")
        info = _fetch_object(store, "", dest, self.sha256, sniff_archive=True)
        ctx.stage_archive(into, dest)
        ctx.archives.append(
            ArchiveInfo(name=dest.name, origin=redact(self.url), size=info.size, sha256=info.sha256)
        )

    def _tree(self, store: Store, into: Staging, ctx: Fetching) -> None:
        expected, published = read_published(store)
        expected = _wanted_files(self.url, expected, into, ctx)
        cache = ctx.hold(
            ctx.paths.cache_dir / f"store-{hashlib.sha256(self.url.encode()).hexdigest()[:12]}"
        )
        ctx.reporter.phase(f"download {len(expected)} files", len(expected), "files")

        def one(rel: str) -> tuple[str, FileInfo]:
            size = published.sizes.get(rel)
            info = _fetch_object(store, rel, cache / rel, expected[rel], known_size=size)
            ctx.reporter.advance(1)
            return rel, info

        pool = ThreadPoolExecutor(max_workers=ctx.jobs or 8)
        try:
            done = dict(pool.map(one, sorted(expected)))
        finally:  # Ctrl-C even while map() queues the files: the queued ones are not fetched
            pool.shutdown(wait=True, cancel_futures=True)
        into.add_listed(cache, done, link=not ctx.keep_archive)
        ctx.chain.extend(
            [
                *published.chain,
                {
                    "served_by": published.served_by,
                    "created_at": published.created_at.isoformat(),
                    "agreement_sha256": published.agreement_sha256,
                },
            ]
        )


def _split(path: str) -> str | None:
    return path.split("/", 1)[0] if "/" in path else None


def _wanted_files(
    url: str, expected: dict[str, str], into: Staging, ctx: Fetching
) -> dict[str, str]:
    """What this fetch takes of a published copy: one optional split into an existing dataset,
    or the dataset with the optional splits asked for (--with) — checked against a lock file
    first, from the published manifest, before anything is downloaded."""
    if into.component is not None:
        part = {p: h for p, h in expected.items() if _split(p) == into.component}
        if not part:
            raise SourceError(f"{redact(url)} holds no {into.component}/.")
        return part
    required = {s.name for s in into.release.layout.splits}
    if ctx.lock is not None:
        ctx.lock.require({p: h for p, h in expected.items() if _split(p) in required}, redact(url))
    wanted = {*required, *ctx.components, None}
    return {p: h for p, h in expected.items() if _split(p) in wanted}


def _fetch_object(
    store: Store,
    rel: str,
    dest: Path,
    sha256: str | None,
    *,
    sniff_archive: bool = False,
    known_size: int | None = None,
) -> FileInfo:
    """One object to ``dest``, hashed as it arrives; kept only if it has the expected SHA-256.
    A complete earlier copy with the right hash is not downloaded again."""
    if dest.is_file() and sha256 is not None:
        from bg20k_fetch.transfer.hashing import hash_file

        known = hash_file(dest)
        if known.sha256 == sha256:
            return with_markers(dest, known)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    hasher, size = hashlib.sha256(), 0
    with _object_blocks(store, rel, known_size) as blocks, open(part, "wb") as out:
        first = True
        for block in blocks:
            if first and sniff_archive and (problem := sniff(block)):
                raise IntegrityError(f"{redact(store.url)} is not an archive: {problem}.")
            first = False
            hasher.update(block)
            out.write(block)
            size += len(block)
    digest = hasher.hexdigest()
    if sha256 is not None and digest != sha256:
        part.unlink(missing_ok=True)
        raise IntegrityError(
            f"{redact(store.url)}/{rel} has SHA-256 {digest}, not the {sha256} the published "
            "manifest lists: the object was changed or damaged; nothing of it was kept.",
            hint="Publish the dataset again from a verified copy.",
        )
    os.replace(part, dest)
    return with_markers(dest, FileInfo(digest, size, False))


WHOLE = 8 << 20  # objects the manifest says are at most this big are read in one GET


@contextmanager
def _object_blocks(store: Store, rel: str, known_size: int | None) -> Iterator[Iterator[bytes]]:
    """An object's bytes in blocks. A small one whose size the provenance gives (every image)
    is one GET; streaming would HEAD it first, a request more per file — 20,000 for BG-20k."""
    if known_size is not None and known_size <= WHOLE:
        try:
            data = store.read(rel, WHOLE)
        except StorageError as exc:
            raise IntegrityError(
                f"{redact(store.url)}/{rel} is far larger than the {known_size} bytes the "
                "published provenance lists: the object was changed; nothing of it was kept.",
                hint="Publish the dataset again from a verified copy.",
            ) from exc
        if data is None:
            raise IntegrityError(
                f"{redact(store.url)}/{rel} is listed in the published manifest but is not in "
                "the store.",
                hint="Run `bg20k publish --repair` from a verified copy, or use another source.",
            )
        yield iter((data,))
        return
    with store.open(rel) as source:
        yield iter(partial(source.read, CHUNK), b"")
