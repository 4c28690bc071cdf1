"""A finished BG-20k directory's compliance trail: writing the receipts, and reading them back.

Next to the images the tool keeps the agreement (verbatim), the consent record it was fetched
under, CITATION.bib, MANIFEST.sha256 (``sha256sum -c`` works with no Python) and PROVENANCE.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

from bg20k_fetch.dataset.ecosystem import METADATA_NAMES
from bg20k_fetch.dataset.manifest import MANIFEST_NAME, parse_manifest
from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.release import Release
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.jsonio import load_json
from bg20k_fetch.util.strict import build, plain
from bg20k_fetch.util.yamlio import dump_yaml, load_yaml

PROVENANCE_NAME = "PROVENANCE.yaml"
RELEASE_FILES_NAME = "RELEASE-FILES.sha256"  # the release's own root files, apart
MARKER_NAME = ".bg20k-tree"  # a small proof of authorship, apart from PROVENANCE.yaml
CONSENT_NAME = "CONSENT.yaml"
CITATION_NAME = "CITATION.bib"
# Every file's size, apart from PROVENANCE.yaml: the quick check reads 20,000 of them from
# JSON in milliseconds, where the YAML safe loader took about a second. (Trees written before
# keep their sizes in PROVENANCE.yaml and still read.)
SIZES_NAME = "SIZES.json"
# A shared copy's consent register (bg20k_fetch.register): people's records, never the
# dataset's files — verify, publish and fetch leave it out, a rebuild keeps it.
REGISTER_DIR = ".bg20k-register"
BOM_NAME = "bg20k.cdx.json"  # the copy in CycloneDX 1.6 (dataset/bom.py), a receipt


@dataclass(frozen=True, kw_only=True)
class SourceAttempt:
    source: str
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ArchiveInfo:
    name: str
    origin: str
    size: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class ReleaseFile:
    origin: Literal["release", "bg20k"]  # came with the data, or written by bg20k
    size: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Component:
    """An optional split (train_denoise), recorded apart: it never changes the dataset digest."""

    file_count: int
    digest: str
    served_by: str
    created_at: datetime


@dataclass(kw_only=True)
class Provenance:
    STRICT_IGNORES_UNKNOWN: ClassVar[bool] = True  # a newer bg20k's receipt still reads

    tool: str
    created_at: datetime
    dataset: str
    release: str
    agreement_version: str
    agreement_sha256: str
    complete: bool
    served_by: str
    failed_sources: list[SourceAttempt] = field(default_factory=list)
    archives: list[ArchiveInfo] = field(default_factory=list)
    counts: dict[str, int]
    file_count: int
    digest: str
    extras_ignored: int = 0
    checked_against: str = "counts"  # or "split lists": the release's own inventory
    release_files: dict[str, ReleaseFile] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    # Earlier hops, when fetched from a copy bg20k published: served_by, created_at, agreement.
    chain: list[dict[str, str]] = field(default_factory=list)
    # The images are the user's own copy, adopted where it lay: never bg20k's to delete.
    adopted: bool = False
    sizes: dict[str, int]


def receipt_names(release: Release) -> tuple[str, ...]:
    """The files bg20k writes beside the images: its to replace in a tree it made."""
    return (
        release.agreement.file,
        CONSENT_NAME,
        CITATION_NAME,
        MANIFEST_NAME,
        RELEASE_FILES_NAME,
        *(component_manifest(c) for c in release.components),
        *METADATA_NAMES,
        BOM_NAME,
        MARKER_NAME,
        SIZES_NAME,
        PROVENANCE_NAME,
    )


def provenance_files(provenance: Provenance) -> dict[str, bytes]:
    """SIZES.json, then PROVENANCE.yaml: written in this order, the provenance (which claims
    the tree) last."""
    sizes = json.dumps({"sizes": provenance.sizes}, separators=(",", ":"))
    described = plain(provenance)
    del described["sizes"]
    return {
        SIZES_NAME: sizes.encode("utf-8") + b"\n",
        PROVENANCE_NAME: dump_yaml(described).encode("utf-8"),
    }


class SizesDamaged(ValueError):
    """SIZES.json is missing, not JSON, or not a map of paths to sizes."""


def parse_provenance(text: bytes, read_sizes: Callable[[], bytes | None]) -> Provenance:
    """PROVENANCE.yaml's text, with the sizes from SIZES.json (read only when the YAML does not
    hold them, as it did before). Raises SizesDamaged, or ValueError (strict.Invalid among
    them) for a damaged provenance."""
    raw = load_yaml(text.decode("utf-8"))
    if isinstance(raw, dict) and "sizes" not in raw:
        raw["sizes"] = _sizes(read_sizes)
    return build(Provenance, raw)


def _sizes(read: Callable[[], bytes | None]) -> dict[str, int]:
    try:
        data = load_json(read() or b"null")
    except (OSError, ValueError) as exc:
        raise SizesDamaged(f"{SIZES_NAME} cannot be read: {exc}") from exc
    sizes = data.get("sizes") if isinstance(data, dict) else None
    if not isinstance(sizes, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in sizes.items()
    ):
        raise SizesDamaged(f"{SIZES_NAME} is missing or is not a map of paths to sizes")
    return sizes


def component_manifest(name: str) -> str:
    return f"MANIFEST.{name}.sha256"


ADOPTED_LABEL = "(adopted in place)"  # how trees adopted before `adopted:` existed say so


def was_adopted(root: Path) -> bool:
    """Whether the tree at ``root`` is a copy of the user's that bg20k adopted in place (its
    receipts or its marker say so): its images are the user's, whatever its manifest lists."""
    try:
        provenance = read_provenance(root)
        return provenance.adopted or provenance.served_by.endswith(ADOPTED_LABEL)
    except IntegrityError:
        pass
    try:
        return load_json(read_limited(root / MARKER_NAME, 4096)).get("adopted") is True
    except (OSError, ValueError, AttributeError):
        return False


def read_marker(root: Path) -> datetime | None:
    """When bg20k made the tree, from its marker; None when there is no valid marker."""
    try:
        data = load_json(read_limited(root / MARKER_NAME, 4096))
        if data.get("made_by") != "bg20k":
            return None
        return datetime.fromisoformat(str(data["created_at"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def read_provenance(root: Path) -> Provenance:
    if not root.is_dir():
        raise IntegrityError(
            f"There is no dataset at {root}.",
            hint="Fetch it with `bg20k fetch`, or give the right --dest.",
        )
    try:
        return parse_provenance(
            read_limited(root / PROVENANCE_NAME, 256 << 20),
            lambda: read_limited(root / SIZES_NAME, 64 << 20),
        )
    except SizesDamaged as exc:
        raise IntegrityError(
            f"{root / SIZES_NAME} is damaged.",
            hint="Run `bg20k fetch --force` to rebuild the dataset.",
        ) from exc
    except FileNotFoundError as exc:
        raise IntegrityError(
            f"{root} has no {PROVENANCE_NAME}: it was not made by bg20k fetch.",
            hint="Fetch it with `bg20k fetch`.",
        ) from exc
    except (OSError, ValueError) as exc:
        raise IntegrityError(
            f"{root / PROVENANCE_NAME} is damaged.",
            hint="Run `bg20k fetch --force` to rebuild the dataset.",
        ) from exc


def read_manifest(root: Path, name: str = MANIFEST_NAME) -> dict[str, str]:
    path = root / name
    try:
        return parse_manifest(read_limited(path, 256 << 20).decode("utf-8"), name)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise IntegrityError(
            f"{path} cannot be read: {reason}.",
            hint="Run `bg20k fetch --force` to rebuild the dataset.",
        ) from exc
