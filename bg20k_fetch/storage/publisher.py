"""`bg20k publish`: a verified local dataset, with its receipts, to an object store — so one
person fetches from Google Drive and every machine of a lab fetches and verifies from there.

The rule is the one on disk: bg20k deletes or replaces only objects it can prove it wrote. The
proof is a published copy's own manifests (behind its completion marker) or the journal a
publish writes before its first upload (``.bg20k-publish-journal``: every key it is about to
write). A prefix holding objects with neither is someone else's: refused without ``--force``,
and even with it no foreign object is overwritten or deleted.

One publisher at a time holds the prefix's lease (``.bg20k-publish-lease``, written only if
absent, with its owner and an expiry). Then: the journal, the data, the receipts, PROVENANCE.yaml
last of them, objects of ours the new copy no longer has removed, and the completion marker
written only if none exists (``If-None-Match: *``). A prefix without the marker is never a
dataset, so a publish killed half-way is never fetched from; run again, it skips every object
already there with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch._version import __version__
from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.dataset.provenance import (
    CONSENT_NAME,
    MARKER_NAME,
    PROVENANCE_NAME,
    component_manifest,
    read_provenance,
    receipt_names,
)
from bg20k_fetch.dataset.verification import verify_tree
from bg20k_fetch.errors import StorageError
from bg20k_fetch.progress import NullReporter, Reporter
from bg20k_fetch.redact import redact
from bg20k_fetch.release import Release
from bg20k_fetch.storage.lease import JOURNAL, LEASE, lease
from bg20k_fetch.storage.proof import committed_marker, data_files, owned_keys
from bg20k_fetch.storage.store import PUBLISHED_MARKER, Store, open_store

CONTROL = (PUBLISHED_MARKER, LEASE, JOURNAL)


@dataclass
class Published:
    """What a publish did (or, for a dry run, would do)."""

    url: str
    digest: str
    uploaded: int = 0
    skipped: int = 0
    removed: int = 0
    bytes: int = 0
    state: str = "published"  # or "unchanged", "repaired", "dry run"
    foreign: list[str] = field(default_factory=list)  # objects of others, left alone

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "digest": self.digest,
            "state": self.state,
            "uploaded": self.uploaded,
            "skipped": self.skipped,
            "removed": self.removed,
            "bytes": self.bytes,
            "foreign": self.foreign,
        }


def publish_tree(
    root: Path,
    dest_url: str,
    *,
    release: Release,
    record: ConsentRecord,
    force: bool = False,
    repair: bool = False,
    dry_run: bool = False,
    jobs: int = 8,
    reporter: Reporter | None = None,
) -> Published:
    """Publish the verified dataset at ``root`` to ``dest_url``/BG-20k (consent already held).

    ``repair`` re-checks every published object by its stored SHA-256 and re-uploads what
    differs; ``dry_run`` says what would be uploaded and removed, and writes nothing."""
    reporter = reporter or NullReporter()
    verify_tree(root, release).require_ok()
    provenance = read_provenance(root)
    store = open_store(f"{dest_url.rstrip('/')}/{release.layout.root}")
    url = redact(store.url)
    data = data_files(root, provenance.components, provenance.release_files)
    present = store.listing()
    committed = committed_marker(store)
    ours = owned_keys(store, committed, present, release)
    foreign = sorted(set(present) - ours - set(CONTROL))
    same = committed is not None and committed.get("digest") == provenance.digest
    _refuse(url, committed, same, foreign, force)
    writing = [*data, *receipt_names(release)]
    clashes = [k for k in foreign if k in writing]
    if clashes:
        raise StorageError(
            f"{url} holds objects bg20k did not write where this publish would write "
            f"({', '.join(clashes[:3])}); they were left as they are.",
            hint="Publish to another prefix, or move those objects away yourself.",
        )
    todo = _changed(store, root, data, present, check_stored=repair or not same)
    stale = sorted((ours & set(present)) - set(data) - set(receipt_names(release)) - set(CONTROL))
    result = Published(url, provenance.digest, foreign=foreign)
    result.bytes = sum((root / r).stat().st_size for r in todo)
    if same and not todo and not stale and not _new_parts(store, root, provenance.components):
        result.state, result.skipped = "unchanged", len(data)
        return result
    if dry_run:
        result.state, result.uploaded, result.skipped = "dry run", len(todo), len(data) - len(todo)
        result.removed = len(stale)
        return result
    with lease(store, provenance.digest, [*data, *receipt_names(release)]) as renew:
        if committed_marker(store) != committed:
            # Another publish committed between this one's look at the prefix and its lease:
            # everything decided above is stale, and nothing has been written yet.
            raise StorageError(
                f"Another publish committed {url} while this one was starting; nothing was "
                "written.",
                hint="Run the same command again: it will see what is there now.",
            )
        if committed is not None and not same:
            store.delete([PUBLISHED_MARKER])  # uncommitted from here until the new marker
        result.uploaded = _upload(store, root, todo, data, jobs, reporter, renew)
        result.skipped = len(data) - result.uploaded
        _upload_receipts(store, root, release, record)
        store.delete(stale)
        result.removed = len(stale)
        if not same:
            _commit(store, provenance.digest, provenance.file_count, record)
        result.state = "repaired" if same else "published"
    return result


def _refuse(
    url: str, committed: dict[str, object] | None, same: bool, foreign: list[str], force: bool
) -> None:
    if committed is not None and not same and not force:
        raise StorageError(
            f"{url} holds another published dataset (digest "
            f"{str(committed.get('digest'))[:16]}…); refusing to replace it.",
            hint="Publish to another prefix, or pass --force to replace it.",
        )
    if committed is None and foreign and not force:
        raise StorageError(
            f"{url} holds {len(foreign)} object(s) bg20k did not publish (e.g. {foreign[0]}); "
            "refusing to publish into it.",
            hint="Publish to another prefix, or pass --force to publish beside them "
            "(bg20k never overwrites or deletes them).",
        )


def _changed(
    store: Store, root: Path, data: dict[str, str], present: dict[str, int], *, check_stored: bool
) -> list[str]:
    """The files to upload: missing, another size, or (``check_stored``) another SHA-256 as
    the store keeps it."""
    todo = [r for r in sorted(data) if present.get(r) != (root / r).stat().st_size]
    if check_stored:
        rest = [r for r in sorted(data) if r not in set(todo)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            stored = dict(zip(rest, pool.map(store.sha256, rest), strict=True))
        todo += [r for r in rest if stored[r] != data[r]]
    return sorted(todo)


def _new_parts(store: Store, root: Path, components: Collection[str]) -> bool:
    """An optional split added locally since the copy was published (its own manifest)."""
    return any(
        store.read(component_manifest(n)) != (root / component_manifest(n)).read_bytes()
        for n in components
    )


def _upload(
    store: Store,
    root: Path,
    todo: list[str],
    data: dict[str, str],
    jobs: int,
    reporter: Reporter,
    renew: Callable[[], None],
) -> int:
    """Put every file of ``todo``, ``jobs`` at a time, progress counted in bytes."""
    sizes = {r: (root / r).stat().st_size for r in todo}
    reporter.phase(f"publish {len(todo)} of {len(data)} files", sum(sizes.values()), "bytes")

    def one(rel: str) -> str:
        store.put(str(root / rel), rel, data[rel])
        return rel

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for rel in pool.map(one, todo):
            reporter.advance(sizes[rel])
            renew()
    return len(todo)


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


def _commit(store: Store, digest: str, file_count: int, record: ConsentRecord) -> None:
    marker = {
        "digest": digest,
        "file_count": file_count,
        "published_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "tool": f"bg20k {__version__}",
        "agreement_sha256": record.agreement_sha256,
    }
    if not store.put_once(PUBLISHED_MARKER, json.dumps(marker).encode() + b"\n"):
        other = committed_marker(store) or {}
        if other.get("digest") != digest:
            raise StorageError(
                f"Another publish committed a different dataset to {redact(store.url)} "
                "meanwhile; this one is not committed."
            )
