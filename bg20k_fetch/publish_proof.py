"""What a prefix proves about itself: the dataset a completion marker committed, and which keys
bg20k wrote there (a committed copy's receipts and manifests, an unfinished publish's journal).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from .dataset import RELEASE_FILES_NAME, component_manifest, read_manifest, receipt_names
from .objectstore import PUBLISHED_MARKER, Store
from .publish_lease import ours_by_journal
from .release import Release


def committed_marker(store: Store) -> dict[str, object] | None:
    raw = store.read(PUBLISHED_MARKER, 1 << 16)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


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
            raw = store.read(name) or b""
            ours |= {line.split("  ", 1)[1] for line in raw.decode().splitlines() if "  " in line}
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
