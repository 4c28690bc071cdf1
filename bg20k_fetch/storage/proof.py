"""What a prefix proves about itself: the dataset a completion marker committed, and which keys
bg20k wrote there (a committed copy's receipts and manifests, an unfinished publish's journal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from bg20k_fetch.dataset.manifest import MANIFEST_NAME, parse_manifest
from bg20k_fetch.dataset.provenance import (
    PROVENANCE_NAME,
    RELEASE_FILES_NAME,
    SIZES_NAME,
    Provenance,
    component_manifest,
    parse_provenance,
    read_manifest,
    receipt_names,
)
from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.redact import redact
from bg20k_fetch.release import Release
from bg20k_fetch.storage.lease import ours_by_journal, read_json
from bg20k_fetch.storage.store import PUBLISHED_MARKER, Store


def committed_marker(store: Store) -> dict[str, object] | None:
    return read_json(store, PUBLISHED_MARKER, 1 << 16)


def owned_keys(
    store: Store, committed: dict[str, object] | None, present: Collection[str], release: Release
) -> set[str]:
    """Keys provably written by bg20k: a committed copy's receipts and what its manifests list,
    and what the journal of a publish that did not finish names."""
    ours = ours_by_journal(store)
    if committed is not None:
        receipts = set(receipt_names(release))
        ours |= receipts & set(present)
        for name in sorted(k for k in receipts & set(present) if k.endswith(".sha256")):
            # Lines end in "\n" only (a key may hold "\u2028"); a damaged manifest's bytes
            # prove nothing, so what does not decode names no key of ours.
            text = (store.read(name) or b"").decode("utf-8", "replace")
            ours |= {line.split("  ", 1)[1] for line in text.split("\n") if "  " in line}
    return ours


def data_files(
    root: Path, components: Collection[str], released: Collection[str]
) -> dict[str, str]:
    """Everything the receipts list (images, optional splits, the release's files) -> sha256."""
    data = read_manifest(root)
    for name in components:
        data |= read_manifest(root, component_manifest(name))
    if released:
        data |= read_manifest(root, RELEASE_FILES_NAME)
    return data


def read_published(store: Store) -> tuple[dict[str, str], Provenance]:
    """What the completion marker committed: every file's SHA-256, and the publisher's
    provenance. A prefix without the marker (a publish that never finished) is refused."""
    marker = committed_marker(store)
    if marker is None:
        nested = f"{store.url}/BG-20k"
        if store.read(f"BG-20k/{PUBLISHED_MARKER}", 1 << 16) is not None:
            hint = f"A published copy lies one level down: use {redact(nested)}."
        else:
            hint = "Publish it with `bg20k publish`, or check the URL (it ends in /BG-20k)."
        raise IntegrityError(
            f"{redact(store.url)} is not a published dataset: it has no completion marker "
            "(a publish that did not finish, or another prefix).",
            hint=hint,
        )
    manifest_bytes = store.read(MANIFEST_NAME) or b""
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    if digest != marker.get("digest"):
        raise IntegrityError(
            f"{redact(store.url)}/{MANIFEST_NAME} does not give the digest its completion "
            "marker committed; the published dataset was changed afterwards.",
            hint="Publish it again, or fetch from another source.",
        )
    try:
        provenance = parse_provenance(
            store.read(PROVENANCE_NAME) or b"", lambda: store.read(SIZES_NAME, 64 << 20)
        )
    except ValueError as exc:
        why = str(exc)
        raise IntegrityError(
            f"{redact(store.url)}/{PROVENANCE_NAME} is damaged: {why}.",
            hint="Publish it again, or fetch from another source.",
        ) from exc
    expected = parse_manifest(manifest_bytes.decode())
    for name in provenance.components:
        expected |= parse_manifest((store.read(component_manifest(name)) or b"").decode())
    if provenance.release_files:
        expected |= parse_manifest((store.read(RELEASE_FILES_NAME) or b"").decode())
    return expected, provenance
