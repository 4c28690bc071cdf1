"""`bg20k verify s3://…/BG-20k`: a published dataset checked where it lies.

Quick: the completion marker, the manifest against the digest it committed, and every object
listed with the size the provenance records (nothing missing, nothing added). Deep: each
object's SHA-256 as the store keeps it (S3's ChecksumSHA256, no download), or, where a store
keeps none, the object streamed and hashed.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from bg20k_fetch.dataset.provenance import MARKER_NAME, REGISTER_DIR, receipt_names
from bg20k_fetch.dataset.verification import VerifyReport
from bg20k_fetch.redact import redact
from bg20k_fetch.release import Release
from bg20k_fetch.storage.lease import JOURNAL, LEASE
from bg20k_fetch.storage.proof import read_published
from bg20k_fetch.storage.store import PUBLISHED_MARKER, Store, open_store
from bg20k_fetch.transfer.hashing import CHUNK


def verify_published(
    url: str, release: Release, *, deep: bool = False, jobs: int = 8
) -> VerifyReport:
    store = open_store(url)
    expected, provenance = read_published(store)
    present = {k: v for k, v in store.listing().items() if not k.startswith(f"{REGISTER_DIR}/")}
    own = {*receipt_names(release), MARKER_NAME, PUBLISHED_MARKER, LEASE, JOURNAL}
    report = VerifyReport(
        redact(url.rstrip("/")),  # a URL, never a Path: Path("s3://b") is "s3:/b"
        provenance.digest,
        {
            p: s
            for p, s in expected.items()
            if p.split("/", 1)[0] in {x.name for x in release.layout.splits}
        },
        provenance.complete,
        missing=sorted(set(expected) - set(present)),
        added=sorted(set(present) - set(expected) - own),
    )
    sizes = provenance.sizes | {n: f.size for n, f in provenance.release_files.items()}
    report.changed = sorted(
        p for p in set(expected) & set(present) if sizes.get(p) not in (None, present[p])
    )
    if deep:
        todo = sorted(set(expected) & set(present) - set(report.changed))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for rel, digest in zip(
                todo, pool.map(lambda r: _stored_sha256(store, r), todo), strict=True
            ):
                if digest != expected[rel]:
                    report.changed.append(rel)
        report.changed.sort()
    return report


def main_hashes_of(expected: dict[str, str], release: Release) -> dict[str, str]:
    required = {s.name for s in release.layout.splits}
    return {p: s for p, s in expected.items() if p.split("/", 1)[0] in required}


def _stored_sha256(store: Store, rel: str) -> str:
    kept = store.sha256(rel)
    if kept is not None:
        return kept
    hasher = hashlib.sha256()  # a store that keeps no SHA-256: read the object once
    with store.open(rel) as handle:
        while block := handle.read(CHUNK):
            hasher.update(block)
    return hasher.hexdigest()
