"""Verifying a finished dataset against its own receipts: quickly (names, sizes, counts) or
deeply (every file re-hashed, on every core), and against a lock file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bg20k_fetch.dataset.manifest import MANIFEST_NAME, dataset_digest
from bg20k_fetch.dataset.provenance import (
    PROVENANCE_NAME,
    RELEASE_FILES_NAME,
    Provenance,
    component_manifest,
    read_manifest,
    read_provenance,
)
from bg20k_fetch.errors import IntegrityError, StorageError
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.rehash import NOT_REGULAR, sha256_many


@dataclass
class VerifyReport:
    root: Path | str  # a local tree, or a published copy's URL
    digest: str
    manifest: dict[str, str]  # path -> sha256, as recorded
    complete: bool
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    lock_problem: str | None = None  # set when a lock file was given and does not match
    components: dict[str, str] = field(default_factory=dict)  # optional split -> its digest

    @property
    def file_count(self) -> int:
        return len(self.manifest)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.added or self.changed or self.lock_problem)

    def require_ok(self) -> None:
        """Raise IntegrityError (exit 5) unless the dataset matched."""
        if self.missing or self.added or self.changed:
            remote = isinstance(self.root, str)
            raise IntegrityError(
                f"{self.root} differs from its manifest: {self.describe()}.",
                hint="Run `bg20k publish --repair` from the publisher's verified copy to restore "
                "it."
                if remote
                else "Run `bg20k fetch --force` to restore it.",
            )
        if self.lock_problem:
            raise IntegrityError(self.lock_problem)

    def describe(self) -> str:
        parts = [
            f"{len(v)} {k}"
            for k, v in (
                ("missing", self.missing),
                ("added", self.added),
                ("changed", self.changed),
            )
            if v
        ]
        first = (self.missing + self.added + self.changed)[:3]
        return ", ".join(parts) + (f" (e.g. {', '.join(first)})" if first else "")


def _listed_images(root: Path, splits: set[str]) -> dict[str, int]:
    """Every file under the split folders with its size, from one directory walk (one stat a
    file: the quick check of 20,000 files should cost milliseconds, not a second)."""
    found: dict[str, int] = {}
    pending = [(root / split, split) for split in sorted(splits)]
    while pending:
        folder, rel = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except (NotADirectoryError, FileNotFoundError):
            continue
        except OSError as exc:  # unreadable: nothing can be said of it, and nothing replaced
            raise StorageError(
                f"Cannot read {folder}: {exc.strerror or exc}; it was not checked.",
                hint="Make it readable (bg20k reads every split folder), then run again.",
            ) from exc
        for entry in entries:
            if entry.is_dir():
                pending.append((Path(entry.path), f"{rel}/{entry.name}"))
            elif entry.is_file():
                found[f"{rel}/{entry.name}"] = entry.stat().st_size
    return found


def _expected(root: Path, provenance: Provenance, manifest: dict[str, str]) -> dict[str, str]:
    """Every file a verified tree holds besides its receipts, with its SHA-256: the images (the
    main manifest, whose digest is the dataset's), each optional split's images (their own
    manifests and digests) and the release's root files."""
    if dataset_digest(manifest) != provenance.digest:
        raise IntegrityError(
            f"{root / MANIFEST_NAME} does not match the digest in {PROVENANCE_NAME}."
        )
    expected = dict(manifest)
    for name, component in provenance.components.items():
        listed = read_manifest(root, component_manifest(name))
        if dataset_digest(listed) != component.digest:
            raise IntegrityError(
                f"{root / component_manifest(name)} does not match the digest of {name} in "
                f"{PROVENANCE_NAME}."
            )
        expected |= listed
    if provenance.release_files:
        released = read_manifest(root, RELEASE_FILES_NAME)
        recorded = {n: f.sha256 for n, f in provenance.release_files.items()}
        if released != recorded:
            raise IntegrityError(
                f"{root / RELEASE_FILES_NAME} does not match the release files in "
                f"{PROVENANCE_NAME}."
            )
        expected |= released
    return expected


def _hashed(root: Path, paths: list[str], workers: int | None) -> Iterator[tuple[str, str]]:
    """Each path with its SHA-256 (transfer/rehash.py: raw reads on many threads);
    IntegrityError naming the first file that cannot be read."""
    for path, digest, problem in sha256_many(root, paths, workers):
        if digest is None and problem == NOT_REGULAR:
            raise IntegrityError(f"{root / path} is not a regular file; refused.")
        if digest is None:
            raise IntegrityError(
                f"Cannot read {root / path}: {problem}.",
                hint="Check its permissions, or fetch the dataset again.",
            )
        yield path, digest


def verify_tree(
    root: Path, release: Release, *, deep: bool = False, workers: int | None = None
) -> VerifyReport:
    provenance = read_provenance(root)
    main = read_manifest(root)
    expected = _expected(root, provenance, main)
    sizes = provenance.sizes | {n: f.size for n, f in provenance.release_files.items()}
    splits = {s.name for s in (*release.layout.splits, *release.layout.optional_splits)}
    splits |= {p.split("/", 1)[0] for p in expected if "/" in p}
    on_disk = _listed_images(root, splits)
    for name in provenance.release_files:
        if (root / name).is_file():
            on_disk[name] = (root / name).stat().st_size
    report = VerifyReport(
        root,
        provenance.digest,
        main,
        provenance.complete,
        missing=sorted(set(expected) - on_disk.keys()),
        added=sorted(on_disk.keys() - set(expected)),
    )
    report.components = {n: c.digest for n, c in provenance.components.items()}
    present = sorted(on_disk.keys() & set(expected))
    report.changed = [p for p in present if on_disk[p] != sizes.get(p)]
    if deep:
        differ = set(report.changed)
        todo = [p for p in present if p not in differ]
        for path, digest in _hashed(root, todo, workers):
            if digest != expected[path]:
                report.changed.append(path)
        report.changed.sort()
    return report
