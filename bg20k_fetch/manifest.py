"""The manifest (``sha256sum`` format), the dataset digest, layout checks and lock files.

The dataset digest is the SHA-256 of the manifest text: one ``<sha256>  <path>`` line per image,
sorted by path. It depends only on the images, so the same tree gives the same digest whatever
source or archive packing produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IntegrityError, UsageError
from .hashing import FileInfo
from .release import Release

MANIFEST_NAME = "MANIFEST.sha256"


def manifest_text(files: Mapping[str, str]) -> str:
    """``files`` maps path -> sha256."""
    return "".join(f"{files[path]}  {path}\n" for path in sorted(files))


def dataset_digest(files: Mapping[str, str]) -> str:
    return hashlib.sha256(manifest_text(files).encode("utf-8")).hexdigest()


def parse_manifest(text: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path:
            raise IntegrityError(f"{MANIFEST_NAME} line {number} is malformed.")
        files[path] = digest
    return files


@dataclass
class LayoutReport:
    counts: dict[str, int]
    expected: dict[str, int]
    missing: dict[str, int] = field(default_factory=dict)
    surplus: dict[str, int] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.surplus or self.damaged or self.unexpected)

    def summary(self) -> str:
        parts = [f"{split}: {self.counts.get(split, 0)}/{n}" for split, n in self.expected.items()]
        if self.damaged:
            parts.append(f"{len(self.damaged)} damaged (not JPEG)")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} outside the known folders")
        return ", ".join(parts)

    def problem_lines(self) -> list[str]:
        lines = [f"missing {n} file(s) in {s}/" for s, n in self.missing.items()]
        lines += [f"{n} more file(s) than expected in {s}/" for s, n in self.surplus.items()]
        lines += [f"damaged (not a complete JPEG): {p}" for p in self.damaged]
        lines += [f"unexpected: {p}" for p in self.unexpected]
        return lines


def check_layout(files: Mapping[str, FileInfo], release: Release) -> LayoutReport:
    expected = {s.name: s.count for s in release.layout.splits if s.count is not None}
    optional = {s.name for s in release.layout.optional_splits}
    counts: dict[str, int] = {}
    report = LayoutReport(counts, expected)
    for path, info in files.items():
        split = path.split("/", 1)[0]
        counts[split] = counts.get(split, 0) + 1
        if split not in expected and split not in optional:
            report.unexpected.append(path)
        if not info.jpeg_ok:
            report.damaged.append(path)
    for split, n in expected.items():
        have = counts.get(split, 0)
        if have < n:
            report.missing[split] = n - have
        elif have > n:
            report.surplus[split] = have - n
    report.damaged.sort()
    return report


@dataclass(frozen=True)
class LockFile:
    dataset: str
    release: str
    digest: str
    files: dict[str, str]
    complete: bool = True

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "dataset": self.dataset,
                    "release": self.release,
                    "digest": self.digest,
                    "complete": self.complete,
                    "file_count": len(self.files),
                    "manifest": manifest_text(self.files),
                },
                indent=2,
            )
            + "\n"
        )

    @classmethod
    def read(cls, path: Path) -> LockFile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = parse_manifest(data["manifest"])
            lock = cls(
                str(data["dataset"]),
                str(data["release"]),
                str(data["digest"]),
                files,
                complete=data.get("complete", True) is True,
            )
        except (OSError, ValueError, KeyError, TypeError, IntegrityError) as exc:
            raise UsageError(
                f"{path} is not a bg20k lock file ({exc}).",
                hint="Write one with `bg20k lock -o FILE`.",
            ) from exc
        if dataset_digest(files) != lock.digest:
            raise IntegrityError(f"{path} is inconsistent: its manifest does not give its digest.")
        return lock

    def require(self, files: Mapping[str, str], where: str) -> None:
        digest = dataset_digest(files)
        if digest == self.digest:
            return
        missing = sorted(set(self.files) - set(files))
        added = sorted(set(files) - set(self.files))
        changed = sorted(p for p in set(files) & set(self.files) if files[p] != self.files[p])
        detail = ", ".join(
            f"{n} {what}"
            for n, what in (
                (len(missing), "missing"),
                (len(added), "added"),
                (len(changed), "changed"),
            )
            if n
        )
        raise IntegrityError(
            f"{where} has dataset digest {digest}, but the lock file requires {self.digest} "
            f"({detail}).",
            hint="Use the source the lock was made from, or update the lock deliberately.",
        )
