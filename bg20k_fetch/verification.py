"""Verifying a finished dataset against its own receipts: quickly (names, sizes, counts) or
deeply (every file re-hashed, on every core), and against a lock file."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .dataset import PROVENANCE_NAME, read_manifest, read_provenance
from .errors import IntegrityError
from .hashing import hash_file
from .manifest import MANIFEST_NAME, dataset_digest
from .release import Release


@dataclass
class VerifyReport:
    root: Path
    digest: str
    manifest: dict[str, str]  # path -> sha256, as recorded
    complete: bool
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    lock_problem: str | None = None  # set when a lock file was given and does not match

    @property
    def file_count(self) -> int:
        return len(self.manifest)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.added or self.changed or self.lock_problem)

    def require_ok(self) -> None:
        """Raise IntegrityError (exit 5) unless the dataset matched."""
        if self.missing or self.added or self.changed:
            raise IntegrityError(
                f"{self.root} differs from its manifest: {self.describe()}.",
                hint="Run `bg20k fetch --force` to restore it.",
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


def _listed_images(root: Path, splits: set[str]) -> set[str]:
    found: set[str] = set()
    for split in splits:
        base = root / split
        if base.is_dir():
            found.update(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())
    return found


def verify_tree(
    root: Path, release: Release, *, deep: bool = False, workers: int | None = None
) -> VerifyReport:
    provenance = read_provenance(root)
    manifest = read_manifest(root)
    if dataset_digest(manifest) != provenance.digest:
        raise IntegrityError(
            f"{root / MANIFEST_NAME} does not match the digest in {PROVENANCE_NAME}."
        )
    splits = {s.name for s in (*release.layout.splits, *release.layout.optional_splits)}
    splits |= {p.split("/", 1)[0] for p in manifest}
    on_disk = _listed_images(root, splits)
    report = VerifyReport(
        root,
        provenance.digest,
        manifest,
        provenance.complete,
        missing=sorted(set(manifest) - on_disk),
        added=sorted(on_disk - set(manifest)),
    )
    present = sorted(set(manifest) & on_disk)
    for path in present:
        if (root / path).stat().st_size != provenance.sizes.get(path):
            report.changed.append(path)
    if deep:
        # hashlib releases the GIL on large reads, so threads use every core.
        todo = [p for p in present if p not in report.changed]
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            for path, info in zip(todo, pool.map(lambda p: hash_file(root / p), todo), strict=True):
                if info.sha256 != manifest[path]:
                    report.changed.append(path)
        report.changed.sort()
    return report
