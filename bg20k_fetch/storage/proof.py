"""What a prefix proves about itself: the dataset a completion marker committed, and which keys
bg20k wrote there (a committed copy's receipts and manifests, an unfinished publish's journal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from bg20k_fetch.dataset.manifest import MANIFEST_NAME, dataset_digest, parse_manifest
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
    and what the journal of a publish that did not finish names. A manifest proves something
    only while it still gives the digest the completion marker committed (directly, or through
    the committed provenance for an optional split and the release's files): an edited one
    names no key, so ``publish --force`` never deletes what someone listed in it afterwards."""
    ours = ours_by_journal(store)
    if committed is None:
        return ours
    receipts = set(receipt_names(release))
    ours |= receipts & set(present)
    for listed in _proven_manifests(store, committed, receipts & set(present)):
        ours |= set(listed)
    return ours


def _proven_manifests(
    store: Store, committed: dict[str, object], names: Collection[str]
) -> list[dict[str, str]]:
    raw = store.read(MANIFEST_NAME) if MANIFEST_NAME in names else None
    if raw is None or hashlib.sha256(raw).hexdigest() != committed.get("digest"):
        return []  # without the main manifest the marker proves nothing else either
    proven = [_lenient(raw)]
    try:
        provenance = parse_provenance(store.read(PROVENANCE_NAME) or b"", lambda: b'{"sizes": {}}')
    except ValueError:
        return proven
    if provenance.digest != committed.get("digest"):
        return proven
    for name, component in provenance.components.items():
        listed = _lenient(store.read(component_manifest(name)) or b"")
        if dataset_digest(listed) == component.digest:
            proven.append(listed)
    released = _lenient(store.read(RELEASE_FILES_NAME) or b"")
    if released and released == {n: f.sha256 for n, f in provenance.release_files.items()}:
        proven.append(released)
    return proven


def _lenient(raw: bytes) -> dict[str, str]:
    """A manifest's path -> digest, lines ending in "\n" only (a key may hold "\u2028");
    bytes that do not decode name nothing of ours."""
    text = raw.decode("utf-8", "replace")
    return {
        line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in text.split("\n") if "  " in line
    }


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
    for name, component in provenance.components.items():
        listed = parse_manifest((store.read(component_manifest(name)) or b"").decode())
        if dataset_digest(listed) != component.digest:
            raise _changed(store, component_manifest(name))
        expected |= listed
    if provenance.release_files:
        released = parse_manifest((store.read(RELEASE_FILES_NAME) or b"").decode())
        if released != {n: f.sha256 for n, f in provenance.release_files.items()}:
            raise _changed(store, RELEASE_FILES_NAME)
        expected |= released
    return expected, provenance


def _changed(store: Store, name: str) -> IntegrityError:
    return IntegrityError(
        f"{redact(store.url)}/{name} does not match what {PROVENANCE_NAME} recorded; the "
        "published dataset was changed afterwards.",
        hint="Publish it again, or fetch from another source.",
    )
