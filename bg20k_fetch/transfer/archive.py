"""Safe archive reading: every member is checked before a single byte is written.

Refused (UnsafeArchiveError, naming the member): absolute paths, ``..``, backslashes, drive
letters, links, devices and other special files, duplicate names, and anything that looks like a
decompression bomb (too many members, too many bytes, a per-member ratio too high, overlapping zip
entries). Zip CRCs are checked as members are read.
"""

from __future__ import annotations

import re
import stat
import struct
import tarfile
import zipfile
from array import array
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePath

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.transfer import zipdir


@dataclass(frozen=True)
class Limits:
    max_members: int = 200_000
    max_total_bytes: int = 200 * 2**30
    max_ratio: float = 200.0  # JPEGs barely compress; a bomb compresses thousands to one


@dataclass(frozen=True, slots=True)  # one per file: 20,000 of them
class Member:
    name: str  # the safe, normalised POSIX path inside the archive
    size: int
    raw: str = ""  # the name exactly as the archive spells it, to read the member by
    # Where a zip member's bytes are, by its central directory (members.py reads them there),
    # and where its space ends; how to read a member, not what it is, so left out of
    # comparisons. -1: not in a zip.
    offset: int = field(default=-1, compare=False)
    packed: int = field(default=0, compare=False)
    method: int = field(default=0, compare=False)
    crc: int = field(default=0, compare=False)
    flags: int = field(default=0, compare=False)
    end: int = field(default=-1, compare=False)


def archive_kind(path: PurePath) -> str | None:
    """By name: the way local files are told apart without opening each one."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    return None


def kind_of(path: Path) -> str:
    """By the first bytes, which a mislabelled mirror cannot get wrong; else by name."""
    with path.open("rb") as handle:
        head = handle.read(512)
    return magic_kind(head) or archive_kind(path) or "tar"


def magic_kind(head: bytes) -> str | None:
    """ "zip" or "tar" (plain or gzip) from an archive's first bytes, else None."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b") or head[257:262] == b"ustar":
        return "tar"
    return None


def sniff(head: bytes) -> str | None:
    """A complaint when the first bytes are not a zip, gzip or tar, else None."""
    if magic_kind(head):
        return None
    return f"it starts with {head[:16]!r}, which is not a zip, gzip or tar archive"


_DRIVE = re.compile(r"^[A-Za-z]:")


def name_parts(name: str) -> list[str]:
    """What PurePosixPath(name).parts gives for a relative name, without pathlib interning
    every component for the life of the process (20,000 names: a 2 MiB table)."""
    return [part for part in name.split("/") if part and part != "."]


def safe_name(raw: str) -> str:
    if "\\" in raw or _DRIVE.match(raw) or raw.startswith("/") or "\x00" in raw:
        raise UnsafeArchiveError(
            f"Archive member {raw!r} has an absolute or Windows path; refused."
        )
    parts = name_parts(raw)
    if ".." in parts:
        raise UnsafeArchiveError(f"Archive member {raw!r} points outside the archive; refused.")
    if not parts:
        raise UnsafeArchiveError(f"Archive member {raw!r} has an empty name; refused.")
    return "/".join(parts)


class _Checker:
    def __init__(self, limits: Limits, archive: Path) -> None:
        self.limits, self.archive = limits, archive
        self.seen: set[str] = set()
        self.total = 0

    def add(self, raw: str, size: int, packed: int | None, *where: int) -> Member:
        name = safe_name(raw)
        if name in self.seen:
            raise UnsafeArchiveError(
                f"Archive member {raw!r} appears twice in {self.archive.name}."
            )
        self.seen.add(name)
        if len(self.seen) > self.limits.max_members:
            raise UnsafeArchiveError(
                f"{self.archive.name} has more than {self.limits.max_members} members; refused."
            )
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise UnsafeArchiveError(
                f"{self.archive.name} would expand beyond {self.limits.max_total_bytes} bytes."
            )
        if packed is not None and size > 1 << 20 and size > packed * self.limits.max_ratio:
            raise UnsafeArchiveError(
                f"Archive member {raw!r} expands {size / max(packed, 1):.0f}-fold; "
                "refused as a decompression bomb."
            )
        # One string for both when the archive spells the name plainly, as nearly all do.
        return Member(name, size, name if raw == name else raw, *where)


def _zip_members(archive: Path, limits: Limits) -> list[Member]:
    directory = zipdir.read_directory(archive)
    ends = _zip_spaces(directory, archive, limits)
    checker, members = _Checker(limits, archive), []
    for entry, end in zip(zipdir.entries(directory), ends, strict=True):
        name = entry.name
        if not name:
            raise UnsafeArchiveError(f"{archive.name} holds a member without a name; refused.")
        if "\x00" in name:  # zipfile would cut it there
            raise UnsafeArchiveError(f"Archive member {name!r} is not a name.")
        kind = stat.S_IFMT(entry.mode)
        if name.endswith("/") and kind in (0, stat.S_IFDIR):
            safe_name(name)
            continue
        if kind not in (0, stat.S_IFREG):
            what = "a symbolic link" if kind == stat.S_IFLNK else "a special file"
            raise UnsafeArchiveError(f"Archive member {name!r} is {what}; refused.")
        where = (entry.offset, entry.packed, entry.method, entry.crc, entry.flags, end)
        members.append(checker.add(name, entry.size, entry.packed, *where))
    return members


def _zip_spaces(directory: zipdir.Directory, archive: Path, limits: Limits) -> array[int]:
    """Where each entry's space ends (the next member's local header, or the central
    directory), in the directory's order. Overlapping entries (the zip-bomb trick of many
    names sharing one body) are refused as unsafe; an entry outside the archive's data as
    damage. Two arrays of numbers, not an object per entry: a first pass over the records."""
    starts, stops = array("q"), array("q")
    for entry in zipdir.entries(directory):
        if len(starts) > limits.max_members:  # before a hostile directory's millions are read
            raise UnsafeArchiveError(
                f"{archive.name} has more than {limits.max_members} members; refused."
            )
        # Past what a file can hold is past its end: kept at the largest number the array takes.
        starts.append(min(entry.offset, _FARTHEST))
        stops.append(min(entry.offset + 30 + entry.name_bytes + entry.packed, _FARTHEST))
    ends = array("q", bytes(8 * len(starts)))
    order = sorted(range(len(starts)), key=starts.__getitem__)
    for place, index in enumerate(order):
        last = place + 1 == len(order)
        following = directory.start if last else starts[order[place + 1]]
        if starts[index] < 0 or (last and stops[index] > following):
            raise DamagedData(
                f"{archive.name} is damaged: its member {_name_at(directory, index)!r} cannot "
                "be read (it lies outside the archive's data).",
                hint="Delete it and fetch again.",
            )
        if stops[index] > following:
            name = _name_at(directory, index)
            raise UnsafeArchiveError(f"Archive member {name!r} overlaps another; refused.")
        ends[index] = following
    return ends


_FARTHEST = 2**63 - 1


def _name_at(directory: zipdir.Directory, index: int) -> str:
    """The index-th entry's name, for an error message (read again rather than kept)."""
    return next(islice(zipdir.entries(directory), index, None)).name


def _tar_members(tf: tarfile.TarFile, archive: Path, limits: Limits, size: int) -> list[Member]:
    checker, members = _Checker(limits, archive), []
    for info in tf:
        if info.isdir():
            safe_name(info.name)
            continue
        if not info.isreg():
            what = "a link" if info.issym() or info.islnk() else "a special file"
            raise UnsafeArchiveError(f"Archive member {info.name!r} is {what}; refused.")
        members.append(checker.add(info.name, info.size, None))
    if checker.total > 1 << 20 and checker.total > size * limits.max_ratio:
        raise UnsafeArchiveError(f"{archive.name} expands {checker.total // size}-fold; refused.")
    return members


# What zipfile and tarfile raise on a hostile archive's metadata, besides their own errors: a
# name that is not the UTF-8 its flag claims (UnicodeDecodeError), an unknown compression
# method, a struct or a number that does not fit (found by fuzzing, fuzz/targets.py).
UNREADABLE = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    OverflowError,
    struct.error,
)


def list_members(path: Path, limits: Limits | None = None) -> list[Member]:
    """Check every member; return the regular files. Raises before anything is written."""
    limits = limits or Limits()
    try:
        if kind_of(path) == "zip":
            return _zip_members(path, limits)
        with tarfile.open(path, "r:*") as tf:
            return _tar_members(tf, path, limits, max(path.stat().st_size, 1))
    except UNREADABLE as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
        raise DamagedData(
            f"{path.name} is not a readable archive: {first_line}.",
            hint="The download may be damaged; fetch it again.",
        ) from exc
