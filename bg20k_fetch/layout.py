"""The layout check: does a set of files make the dataset the release describes?

Counts per split from ``agreement/bg20k.yaml``, every image a complete JPEG, nothing outside
the known split folders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .hashing import FileInfo
from .release import Release


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
