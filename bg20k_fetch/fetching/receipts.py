"""Writing a finished tree's compliance trail: the agreement, the consent record, the
citations, the manifests, the metadata the ecosystem reads, and the provenance last."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch._version import __version__
from bg20k_fetch.citing.references import render, select
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.dataset.bom import copy_facts
from bg20k_fetch.dataset.bom import document as bom_document
from bg20k_fetch.dataset.ecosystem import ecosystem_files, images_by_split
from bg20k_fetch.dataset.layout import LayoutReport, main_hashes
from bg20k_fetch.dataset.manifest import MANIFEST_NAME, dataset_digest, manifest_text
from bg20k_fetch.dataset.provenance import (
    BOM_NAME,
    CITATION_NAME,
    CONSENT_NAME,
    MARKER_NAME,
    RELEASE_FILES_NAME,
    ArchiveInfo,
    Component,
    Provenance,
    ReleaseFile,
    SourceAttempt,
    component_manifest,
    provenance_files,
)
from bg20k_fetch.redact import redact
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.hashing import FileInfo
from bg20k_fetch.util.fs import atomic_write


def _marker(provenance: Provenance) -> str:
    made = {"made_by": "bg20k", "created_at": provenance.created_at.isoformat()}
    return json.dumps(made | ({"adopted": True} if provenance.adopted else {})) + "\n"


def write_receipts(
    root: Path,
    files: Mapping[str, FileInfo],
    *,
    release: Release,
    agreement: Agreement,
    record: ConsentRecord,
    report: LayoutReport,
    served_by: str,
    failed: list[SourceAttempt],
    archives: list[ArchiveInfo],
    root_files: Mapping[str, FileInfo] | None = None,
    extras_ignored: int = 0,
    chain: list[dict[str, str]] | None = None,
    adopted: bool = False,
) -> Provenance:
    """Write the compliance trail into ``root``. PROVENANCE.yaml, which marks the tree as
    bg20k's, is written last: a crash before it leaves a tree that is not yet claimed.

    The dataset digest covers the required splits' images only, so it is the same from every
    source; optional splits (train_denoise) get a manifest and digest of their own, and the
    release's own root files a manifest apart. Split lists the release did not bring are
    written from the images, so scripts that read them work on any copy."""
    main = main_hashes(files, release)
    release_files = _release_files(root, files, root_files or {}, release)
    parts = _components(files, release)
    provenance = Provenance(
        tool=f"bg20k {__version__}",
        created_at=datetime.now(UTC).replace(microsecond=0),
        dataset=release.dataset,
        release=release.release,
        agreement_version=agreement.version,
        agreement_sha256=agreement.sha256,
        complete=report.complete,
        # Receipts are shared with colleagues and buckets: no credential of a URL goes in.
        served_by=redact(served_by),
        failed_sources=[
            SourceAttempt(source=redact(f.source), error=redact(f.error or "")) for f in failed
        ],
        archives=[replace(a, origin=redact(a.origin)) for a in archives],
        counts={s.name: report.counts.get(s.name, 0) for s in release.layout.splits},
        file_count=len(main),
        digest=dataset_digest(main),
        extras_ignored=extras_ignored,
        checked_against=report.checked_against,
        release_files=release_files,
        chain=[{k: redact(v) for k, v in hop.items()} for hop in chain or []],
        adopted=adopted,
        sizes={p: files[p].size for p in sorted(files)},
    )
    provenance.components = {name: _component(hashes, provenance) for name, hashes in parts.items()}
    manifest = manifest_text(main)
    receipts = {
        # The marker first: it proves the tree is bg20k's even if PROVENANCE.yaml is damaged.
        MARKER_NAME: _marker(provenance),
        release.agreement.file: agreement.text,
        CONSENT_NAME: record.to_yaml().decode("utf-8"),
        CITATION_NAME: render(select(release, include_encouraged=True), release, "bibtex"),
        MANIFEST_NAME: manifest,
        RELEASE_FILES_NAME: manifest_text({n: f.sha256 for n, f in release_files.items()}),
        **{component_manifest(name): manifest_text(hashes) for name, hashes in parts.items()},
        **ecosystem_files(
            release,
            manifest,
            images_by_split(release, [*main, *(p for h in parts.values() for p in h)]),
            {n: f.sha256 for n, f in release_files.items()},
        ),
        BOM_NAME: _bom(release, provenance, manifest, record),
        **{name: data.decode("utf-8") for name, data in provenance_files(provenance).items()},
    }
    for name, text in receipts.items():
        atomic_write(root / name, text.encode("utf-8"), make_parents=False)
    return provenance


def _bom(release: Release, provenance: Provenance, manifest: str, record: ConsentRecord) -> str:
    """The copy as a CycloneDX 1.6 BOM; the consent record by its digest only."""
    facts = copy_facts(provenance, manifest.encode("utf-8"), record.to_yaml())
    return json.dumps(bom_document(release, facts=facts), indent=2, ensure_ascii=False) + "\n"


def _component(hashes: Mapping[str, str], provenance: Provenance) -> Component:
    return Component(
        file_count=len(hashes),
        digest=dataset_digest(hashes),
        served_by=provenance.served_by,
        created_at=provenance.created_at,
    )


def _components(files: Mapping[str, FileInfo], release: Release) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for path, info in files.items():
        split = path.split("/", 1)[0]
        if split in release.components:
            out.setdefault(split, {})[path] = info.sha256
    return out


def _release_files(
    root: Path,
    files: Mapping[str, FileInfo],
    brought: Mapping[str, FileInfo],
    release: Release,
) -> dict[str, ReleaseFile]:
    """The release's root files that came with the data, and the split lists written for
    those that did not (sorted bare names, one a line)."""
    out = {
        name: ReleaseFile(origin="release", size=info.size, sha256=info.sha256)
        for name, info in sorted(brought.items())
    }
    for split, name in release.layout.split_lists.items():
        if name in out:
            continue
        names = sorted(p.split("/", 1)[1] for p in files if p.split("/", 1)[0] == split)
        data = "".join(f"{n}\n" for n in names).encode("utf-8")
        atomic_write(root / name, data, make_parents=False)
        out[name] = ReleaseFile(
            origin="bg20k", size=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
    return out
