"""The layout check: does a set of files make the dataset the release describes?

When the release's own split lists (``train.txt``, ``testval.txt``: one bare file name per
line) came with the data, they are the authors' inventory and decide: a listed image that is
missing makes the dataset incomplete, an image present but not listed is surplus, and both are
named. Without them, the counts in ``agreement/bg20k.yaml`` are the check. Every image must be
a complete JPEG; another image type in a split folder is named, never counted as a JPEG.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bg20k_fetch.errors import DamagedData
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.hashing import FileInfo
from bg20k_fetch.util.fs import read_limited


@dataclass
class LayoutReport:
    counts: dict[str, int]
    expected: dict[str, int]
    missing: dict[str, int] = field(default_factory=dict)
    surplus: dict[str, int] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    not_jpeg: list[str] = field(default_factory=list)
    listed_missing: list[str] = field(default_factory=list)  # in a split list, not present
    unlisted: list[str] = field(default_factory=list)  # present, not in its split list
    checked_against: str = "counts"  # or "split lists"

    @property
    def complete(self) -> bool:
        return not (
            self.missing or self.surplus or self.damaged or self.unexpected or self.not_jpeg
        )

    def summary(self) -> str:
        parts = [f"{split}: {self.counts.get(split, 0)}/{n}" for split, n in self.expected.items()]
        if self.listed_missing or self.unlisted:
            parts.append(
                f"{len(self.listed_missing)} listed but missing, "
                f"{len(self.unlisted)} present but unlisted"
            )
        if self.damaged:
            parts.append(f"{len(self.damaged)} damaged (not JPEG)")
        if self.not_jpeg:
            parts.append(f"{len(self.not_jpeg)} of another image type")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} outside the known folders")
        return ", ".join(parts)

    def problem_lines(self) -> list[str]:
        lines = [f"missing {n} file(s) in {s}/" for s, n in self.missing.items()]
        lines += [f"{n} more file(s) than expected in {s}/" for s, n in self.surplus.items()]
        lines += [f"listed in the split list but missing: {p}" for p in self.listed_missing]
        lines += [f"present but not in the split list: {p}" for p in self.unlisted]
        lines += [f"damaged (not a complete JPEG): {p}" for p in self.damaged]
        lines += [f"not a JPEG (another image type): {p}" for p in self.not_jpeg]
        lines += [f"unexpected: {p}" for p in self.unexpected]
        return lines


def parse_split_list(text: str) -> list[str]:
    """Bare file names, one a line; blank lines and surrounding spaces (and CRs) ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_layout(
    files: Mapping[str, FileInfo],
    release: Release,
    *,
    lists: Mapping[str, list[str]] | None = None,
    not_jpeg: list[str] | None = None,
) -> LayoutReport:
    """``lists``: the release's split lists that came with the data, by split."""
    lists = lists or {}
    expected = {s.name: s.count for s in release.layout.splits if s.count is not None}
    expected |= {split: len(set(names)) for split, names in lists.items()}
    optional = {s.name for s in release.layout.optional_splits}
    counts: dict[str, int] = {}
    report = LayoutReport(counts, expected, not_jpeg=sorted(not_jpeg or []))
    if lists:
        report.checked_against = "split lists"
    for path, info in files.items():
        split = path.split("/", 1)[0]
        counts[split] = counts.get(split, 0) + 1
        if split not in expected and split not in optional:
            report.unexpected.append(path)
        if not info.jpeg_ok:
            report.damaged.append(path)
    for split, names in lists.items():
        listed = {f"{split}/{name}" for name in names}
        present = {p for p in files if p.split("/", 1)[0] == split}
        report.listed_missing += sorted(listed - present)
        report.unlisted += sorted(present - listed)
    for split, n in expected.items():
        have = counts.get(split, 0)
        if split in lists:
            gone = sum(1 for p in report.listed_missing if p.startswith(f"{split}/"))
            extra = sum(1 for p in report.unlisted if p.startswith(f"{split}/"))
            if gone:
                report.missing[split] = gone
            if extra:
                report.surplus[split] = extra
        elif have < n:
            report.missing[split] = n - have
        elif have > n:
            report.surplus[split] = have - n
    report.damaged.sort()
    return report


def read_split_lists(
    base: Path, present: Collection[str], release: Release
) -> dict[str, list[str]]:
    """The release's split lists found among ``present`` root files under ``base``."""
    lists = {}
    for split, name in release.layout.split_lists.items():
        if name in present:
            try:
                text = read_limited(base / name, 64 << 20).decode("utf-8", "replace")
            except (OSError, ValueError) as exc:
                raise DamagedData(f"The split list {name} cannot be read: {exc}.") from exc
            lists[split] = parse_split_list(text)
    return lists


def main_hashes(files: Mapping[str, FileInfo], release: Release) -> dict[str, str]:
    """The images the dataset digest covers: the required splits' (optional ones apart)."""
    required = {s.name for s in release.layout.splits}
    return {p: i.sha256 for p, i in files.items() if p.split("/", 1)[0] in required}
