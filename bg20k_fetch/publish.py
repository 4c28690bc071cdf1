"""`bg20k publish`: a verified local dataset, with its receipts, to an object store — so one
person fetches from Google Drive and every machine of a lab fetches and verifies from there.

Committed last, and conditionally: the images and the release's files first, then the
manifests, PROVENANCE.yaml and the other receipts, then a completion marker written with
``If-None-Match: *``. A prefix without the marker is never a dataset, so a publish that is
killed half-way is never fetched from; run again, it skips every object already there with the
same SHA-256. Objects are listed and written one by one from the manifests — never a recursive
copy (which nests a second BG-20k/ into an existing one), never a rename (S3 has none).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ._version import __version__
from .consent import ConsentRecord
from .dataset import (
    CONSENT_NAME,
    MARKER_NAME,
    PROVENANCE_NAME,
    RELEASE_FILES_NAME,
    component_manifest,
    read_manifest,
    read_provenance,
    receipt_names,
)
from .errors import IntegrityError, StorageError
from .manifest import MANIFEST_NAME
from .objectstore import PUBLISHED_MARKER, Store, open_store
from .progress import NullReporter, Reporter
from .redact import redact
from .release import Release
from .verification import verify_tree


@dataclass(frozen=True)
class Published:
    url: str
    digest: str
    uploaded: int
    skipped: int
    removed: int


def publish_tree(
    root: Path,
    dest_url: str,
    *,
    release: Release,
    record: ConsentRecord,
    force: bool = False,
    jobs: int = 8,
    reporter: Reporter | None = None,
) -> Published:
    """Publish the verified dataset at ``root`` to ``dest_url``/BG-20k (consent already held)."""
    reporter = reporter or NullReporter()
    verify_tree(root, release).require_ok()
    provenance = read_provenance(root)
    store = open_store(f"{dest_url.rstrip('/')}/{release.layout.root}")
    previous = _committed(store)
    if previous is not None:
        if previous.get("digest") == provenance.digest and not force:
            reporter.note(f"{redact(store.url)} already holds this dataset; nothing to do.")
            return Published(store.url, provenance.digest, 0, 0, 0)
        if not force:
            raise StorageError(
                f"{redact(store.url)} holds another published dataset (digest "
                f"{str(previous.get('digest'))[:16]}…); refusing to replace it.",
                hint="Publish to another prefix, or pass --force to replace it.",
            )
        store.delete([PUBLISHED_MARKER])  # uncommitted from here until the new marker
    data = _data_files(root, provenance.components, provenance.release_files)
    present = store.listing()
    uploaded, skipped = _upload(store, root, data, present, jobs, reporter)
    removed = _remove_stale(store, present, set(data), release)
    _upload_receipts(store, root, release, record)
    marker = {
        "digest": provenance.digest,
        "file_count": provenance.file_count,
        "published_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "tool": f"bg20k {__version__}",
        "agreement_sha256": record.agreement_sha256,
    }
    if not store.put_once(PUBLISHED_MARKER, json.dumps(marker).encode() + b"\n"):
        other = _committed(store) or {}
        if other.get("digest") != provenance.digest:
            raise StorageError(
                f"Another publish committed a different dataset to {redact(store.url)} "
                "meanwhile; this one is not committed."
            )
    reporter.note(
        f"Published {provenance.file_count} images to {redact(store.url)} "
        f"({uploaded} uploaded, {skipped} already there); digest {provenance.digest}."
    )
    return Published(store.url, provenance.digest, uploaded, skipped, removed)


def _committed(store: Store) -> dict[str, object] | None:
    raw = store.read(PUBLISHED_MARKER, 1 << 16)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _data_files(
    root: Path, components: Collection[str], released: Collection[str]
) -> dict[str, str]:
    """Everything the receipts list (images, optional splits, the release's files) -> sha256."""
    data = read_manifest(root)
    for name in components:
        data |= read_manifest(root, component_manifest(name))
    if released:
        data |= read_manifest(root, RELEASE_FILES_NAME)
    return data


def _upload(
    store: Store,
    root: Path,
    data: dict[str, str],
    present: dict[str, int],
    jobs: int,
    reporter: Reporter,
) -> tuple[int, int]:
    """Put every file not already there with the same SHA-256, ``jobs`` at a time."""
    reporter.phase(f"publish {len(data)} files", len(data), "files")

    def one(rel: str) -> bool:
        size = (root / rel).stat().st_size
        if present.get(rel) == size and store.sha256(rel) == data[rel]:
            return False  # already there, same bytes: a re-run continues
        store.put(str(root / rel), rel, data[rel])
        return True

    uploaded = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for did in pool.map(one, sorted(data)):
            uploaded += did
            reporter.advance(1)
    return uploaded, len(data) - uploaded


def _remove_stale(store: Store, present: dict[str, int], keep: set[str], release: Release) -> int:
    """Objects of an earlier publish that the new one does not have: only files a split or
    the release's root holds (bg20k's), never anything else under the prefix."""
    splits = {s.name for s in (*release.layout.splits, *release.layout.optional_splits)}
    stale = [
        rel
        for rel in present
        if rel not in keep and (rel.split("/", 1)[0] in splits or rel in release.layout.root_files)
    ]
    store.delete(stale)
    return len(stale)


def _upload_receipts(store: Store, root: Path, release: Release, record: ConsentRecord) -> None:
    """The receipts after the data, PROVENANCE.yaml last of them; CONSENT.yaml is the
    publisher's record in force now."""
    names = [n for n in receipt_names(release) if n not in (PROVENANCE_NAME, MARKER_NAME)]
    with tempfile.TemporaryDirectory(prefix="bg20k-publish-") as scratch:
        consent = Path(scratch) / CONSENT_NAME
        consent.write_bytes(record.to_yaml())
        for name in [*names, PROVENANCE_NAME]:
            local = consent if name == CONSENT_NAME else root / name
            if not local.is_file():
                continue
            digest = hashlib.sha256(local.read_bytes()).hexdigest()
            store.put(str(local), name, digest)


def check_published_manifest(store: Store, marker: dict[str, object], manifest: str) -> None:
    """The published manifest must give the digest the marker committed."""
    digest = hashlib.sha256(manifest.encode("utf-8")).hexdigest()
    if digest != marker.get("digest"):
        raise IntegrityError(
            f"{redact(store.url)}/{MANIFEST_NAME} does not give the digest its completion marker "
            "committed; the published dataset was changed afterwards.",
            hint="Publish it again, or fetch from another source.",
        )
