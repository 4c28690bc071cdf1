"""A finished BG-20k directory's compliance trail: writing the receipts, and reading them back.

Next to the images the tool keeps the agreement (verbatim), the consent record it was fetched
under, CITATION.bib, MANIFEST.sha256 (``sha256sum -c`` works with no Python) and PROVENANCE.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ._version import __version__
from .agreement import Agreement
from .citations import render, select
from .consent import ConsentRecord
from .errors import IntegrityError
from .fsutil import atomic_write, read_limited
from .hashing import FileInfo
from .layout import LayoutReport
from .manifest import MANIFEST_NAME, dataset_digest, manifest_text, parse_manifest
from .redact import redact
from .release import Release
from .yamlio import load_yaml

PROVENANCE_NAME = "PROVENANCE.yaml"
MARKER_NAME = ".bg20k-tree"  # a small proof of authorship, apart from PROVENANCE.yaml
CONSENT_NAME = "CONSENT.yaml"
CITATION_NAME = "CITATION.bib"
# 20,000 sizes dump about 10x faster with libyaml's C dumper, when present. Loading stays
# yamlio.load_yaml (the safe loader, bounded), the one way this project reads YAML.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class SourceAttempt(BaseModel):
    source: str
    error: str | None = None


class ArchiveInfo(BaseModel):
    name: str
    origin: str
    size: int
    sha256: str


class Provenance(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tool: str
    created_at: datetime
    dataset: str
    release: str
    agreement_version: str
    agreement_sha256: str
    complete: bool
    served_by: str
    failed_sources: list[SourceAttempt] = []
    archives: list[ArchiveInfo] = []
    counts: dict[str, int]
    file_count: int
    digest: str
    extras_ignored: int = 0
    sizes: dict[str, int]


def receipt_names(release: Release) -> tuple[str, ...]:
    """The files bg20k writes beside the images: its to replace in a tree it made."""
    return (
        release.agreement.file,
        CONSENT_NAME,
        CITATION_NAME,
        MANIFEST_NAME,
        MARKER_NAME,
        PROVENANCE_NAME,
    )


def read_marker(root: Path) -> datetime | None:
    """When bg20k made the tree, from its marker; None when there is no valid marker."""
    try:
        data = json.loads(read_limited(root / MARKER_NAME, 4096))
        if data.get("made_by") != "bg20k":
            return None
        return datetime.fromisoformat(str(data["created_at"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


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
    extras_ignored: int = 0,
) -> Provenance:
    """Write the compliance trail into ``root``. PROVENANCE.yaml, which marks the tree as
    bg20k's, is written last: a crash before it leaves a tree that is not yet claimed."""
    hashes = {p: i.sha256 for p, i in files.items()}
    # Receipts are shared with colleagues and buckets: no credential of a URL goes in them.
    served_by = redact(served_by)
    failed = [SourceAttempt(source=redact(f.source), error=redact(f.error or "")) for f in failed]
    archives = [a.model_copy(update={"origin": redact(a.origin)}) for a in archives]
    provenance = Provenance(
        tool=f"bg20k {__version__}",
        created_at=datetime.now(UTC).replace(microsecond=0),
        dataset=release.dataset,
        release=release.release,
        agreement_version=agreement.version,
        agreement_sha256=agreement.sha256,
        complete=report.complete,
        served_by=served_by,
        failed_sources=failed,
        archives=archives,
        counts=report.counts,
        file_count=len(hashes),
        digest=dataset_digest(hashes),
        extras_ignored=extras_ignored,
        sizes={p: files[p].size for p in sorted(files)},
    )
    receipts = {
        release.agreement.file: agreement.text,
        CONSENT_NAME: record.to_yaml().decode("utf-8"),
        CITATION_NAME: render(select(release, include_encouraged=True), release, "bibtex"),
        MANIFEST_NAME: manifest_text(hashes),
        PROVENANCE_NAME: yaml.dump(
            provenance.model_dump(mode="json"), Dumper=_Dumper, sort_keys=False
        ),
    }
    # The marker proves the tree is bg20k's even if PROVENANCE.yaml is damaged later.
    marker = {"made_by": "bg20k", "created_at": provenance.created_at.isoformat()}
    receipts = {MARKER_NAME: json.dumps(marker) + "\n", **receipts}
    for name, text in receipts.items():
        atomic_write(root / name, text.encode("utf-8"), make_parents=False)
    return provenance


def read_provenance(root: Path) -> Provenance:
    if not root.is_dir():
        raise IntegrityError(
            f"There is no dataset at {root}.",
            hint="Fetch it with `bg20k fetch`, or give the right --dest.",
        )
    try:
        raw = load_yaml(read_limited(root / PROVENANCE_NAME, 256 << 20).decode("utf-8"))
        return Provenance.model_validate(raw)
    except FileNotFoundError as exc:
        raise IntegrityError(
            f"{root} has no {PROVENANCE_NAME}: it was not made by bg20k fetch.",
            hint="Fetch it with `bg20k fetch`.",
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError, ValidationError) as exc:
        raise IntegrityError(
            f"{root / PROVENANCE_NAME} is damaged.",
            hint="Run `bg20k fetch --force` to rebuild the dataset.",
        ) from exc


def read_manifest(root: Path) -> dict[str, str]:
    try:
        return parse_manifest(read_limited(root / MANIFEST_NAME, 256 << 20).decode("utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise IntegrityError(
            f"{root / MANIFEST_NAME} cannot be read: {reason}.",
            hint="Run `bg20k fetch --force` to rebuild the dataset.",
        ) from exc
