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
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError


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


def _zip_members(zf: zipfile.ZipFile, archive: Path, limits: Limits) -> list[Member]:
    checker, members = _Checker(limits, archive), []
    infos = zf.infolist()
    ends = _zip_spaces(zf, infos, archive)
    for info in infos:
        if not info.filename:  # zipfile's own is_dir() fails on it (fuzzing)
            raise UnsafeArchiveError(f"{archive.name} holds a member without a name; refused.")
        if info.filename != info.orig_filename:  # zipfile cut it at a NUL
            raise UnsafeArchiveError(f"Archive member {info.orig_filename!r} is not a name.")
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if info.is_dir() and kind in (0, stat.S_IFDIR):
            safe_name(info.filename)
            continue
        if kind not in (0, stat.S_IFREG):
            what = "a symbolic link" if kind == stat.S_IFLNK else "a special file"
            raise UnsafeArchiveError(f"Archive member {info.filename!r} is {what}; refused.")
        where = (info.header_offset, info.compress_size, info.compress_type, info.CRC)
        members.append(
            checker.add(
                info.filename, info.file_size, info.compress_size,
                *where, info.flag_bits, ends[info.header_offset],
            )
        )  # fmt: skip
    return members


def _zip_spaces(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], archive: Path) -> dict[int, int]:
    """Where each member's space ends (the next member's local header, or the central
    directory), by its local header's offset. Overlapping entries (the zip-bomb trick of many
    names sharing one body) are refused as unsafe; an entry outside the archive's data as
    damage."""
    spans = sorted(
        (i.header_offset, i.header_offset + 30 + _name_bytes(i) + i.compress_size, i) for i in infos
    )
    ends: dict[int, int] = {}
    followings = [start for start, _, _ in spans[1:]]
    for (start, end, info), later in zip(spans, [*followings, None], strict=True):
        following = zf.start_dir if later is None else later
        if start < 0 or (later is None and end > following):
            raise DamagedData(
                f"{archive.name} is damaged: its member {info.filename!r} cannot be read "
                "(it lies outside the archive's data).",
                hint="Delete it and fetch again.",
            )
        if end > following:
            raise UnsafeArchiveError(f"Archive member {info.filename!r} overlaps another; refused.")
        ends[start] = following
    return ends


def _name_bytes(info: zipfile.ZipInfo) -> int:
    return len(info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"))


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
            with zipfile.ZipFile(path) as zf:
                return _zip_members(zf, path, limits)
        with tarfile.open(path, "r:*") as tf:
            return _tar_members(tf, path, limits, max(path.stat().st_size, 1))
    except UNREADABLE as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
        raise DamagedData(
            f"{path.name} is not a readable archive: {first_line}.",
            hint="The download may be damaged; fetch it again.",
        ) from exc
