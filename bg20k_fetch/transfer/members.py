"""Reading a checked archive's members: in archive order (``open_members``), or a zip's
members each straight from where its central directory put them (``MemberStream``).

The checks (archive.list_members, through zipdir.py) read the central directory once and keep,
with each member, where its bytes are. Opening the zip through zipfile for the copy would parse
that directory again into a ZipInfo per entry (12 MiB for 20,000 members) and re-read every
local header through three seeks and a 4 KiB read under a lock the workers share. Here each
worker reads with ``os.pread`` on its own descriptor (no seek, no lock) and checks what zipfile
would: the local header's signature and name, that the member is not encrypted, its length,
and its CRC-32 once the last byte is read. Stored and deflated members only; a member
compressed otherwise is read through zipfile, from the entry the checks approved.
"""

from __future__ import annotations

import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.transfer.archive import UNREADABLE, Member, kind_of, safe_name

# zipfile's local file header: signature, versions, flags, method, time, date, CRC-32, sizes,
# name length, extra field length.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_SIGNATURE = b"PK\x03\x04"
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_ENCRYPTED, _PATCHED, _STRONG, _UTF8 = 0x1, 0x20, 0x40, 0x800


def readable(member: Member) -> bool:
    """Whether this module reads ``member`` (else zipfile does)."""
    return 0 <= member.offset < member.end and member.method in (STORED, DEFLATED)


def data_start(fd: int, member: Member) -> int:
    """Where ``member``'s bytes begin, after its local header, which is checked as zipfile
    checks it: its signature and name, no encryption or patch data. Its bytes must end inside
    the member's own space (a long extra field would reach into the next member's)."""
    header = os.pread(fd, _LOCAL.size, member.offset)
    if len(header) != _LOCAL.size or header[:4] != _SIGNATURE:
        raise zipfile.BadZipFile(f"Bad magic number for file header of {member.raw!r}")
    fields = _LOCAL.unpack(header)
    flags, name_length, extra_length = fields[3], fields[10], fields[11]
    if (member.flags | flags) & _ENCRYPTED:
        raise RuntimeError(f"File {member.raw!r} is encrypted")
    if (member.flags | flags) & (_PATCHED | _STRONG):
        raise zipfile.BadZipFile(f"{member.raw!r} uses a zip feature bg20k does not read")
    name = os.pread(fd, name_length, member.offset + _LOCAL.size)
    try:
        local: str | None = name.decode("utf-8" if flags & _UTF8 else "cp437")
    except UnicodeDecodeError:
        local = None
    if local != member.raw:
        raise zipfile.BadZipFile(
            f"File name in directory {member.raw!r} and header {name!r} differ."
        )
    start: int = member.offset + _LOCAL.size + name_length + extra_length
    if start + member.packed > member.end:
        raise zipfile.BadZipFile(f"{member.raw!r} overlaps the next member")
    return start


def zipfile_entry(member: Member) -> zipfile.ZipInfo:
    """The checked entry, for zipfile to read a member compressed otherwise than stored or
    deflated: built from what the checks approved, never looked up by name (a name may be
    listed twice, the second time as a directory whose sizes no check read)."""
    info = zipfile.ZipInfo(member.raw)
    info.header_offset, info.compress_size, info.file_size = (
        member.offset,
        member.packed,
        member.size,
    )
    info.compress_type, info.flag_bits, info.CRC = member.method, member.flags, member.crc
    return info


class MemberStream:
    """A member's bytes, decompressed, from an open descriptor on its zip. Raises
    zipfile.BadZipFile (or RuntimeError for an encrypted member) as zipfile's streams do."""

    def __init__(self, fd: int, member: Member) -> None:
        self._at = data_start(fd, member)
        self._fd, self._member = fd, member
        self._packed_left = member.packed
        self._out = 0
        self._crc = 0
        self._inflate = zlib.decompressobj(-15) if member.method == DEFLATED else None

    def __enter__(self) -> MemberStream:
        return self

    def __exit__(self, *exc: object) -> None:
        pass  # the descriptor is the caller's

    def read(self, size: int) -> bytes:
        if size <= 0:  # zlib would take 0 as "no limit"
            return b""
        data = self._next(size)
        self._out += len(data)
        if self._out > self._member.size:
            raise zipfile.BadZipFile(f"{self._member.raw!r} holds more than its declared size")
        if data:
            self._crc = zlib.crc32(data, self._crc)
        elif self._crc != self._member.crc:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self._member.raw!r}")
        return data

    def _packed(self, size: int) -> bytes:
        if self._packed_left <= 0:
            return b""
        data = os.pread(self._fd, min(size, self._packed_left), self._at)
        if not data:
            raise zipfile.BadZipFile(f"{self._member.raw!r} is cut short")
        self._at += len(data)
        self._packed_left -= len(data)
        return data

    def _next(self, size: int) -> bytes:
        inflate = self._inflate
        if inflate is None:
            return self._packed(size)
        while not inflate.eof:
            # At most one byte past the declared size: enough to tell a member that holds
            # more than it declares, never a bomb's worth.
            limit = min(size, self._member.size - self._out + 1)
            packed = inflate.unconsumed_tail or self._packed(1 << 20)
            # With no input left zlib may still owe output it held back at the last limit;
            # past that, a stream that never ended is told by its CRC-32, as zipfile tells it.
            data = inflate.decompress(packed, limit)
            if data or not packed:
                return data
        return b""


@contextmanager
def _tar_stream(path: Path) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    # Stream mode reads a compressed tar once, front to back, instead of seeking per member.
    with tarfile.open(path, "r|*") as tf:

        def members() -> Iterator[tuple[str, IO[bytes]]]:
            for info in tf:
                if info.isreg():
                    handle = tf.extractfile(info)
                    if handle is not None:
                        yield safe_name(info.name), handle

        yield members()


@contextmanager
def _zip_stream(path: Path) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    with zipfile.ZipFile(path) as zf:

        def members() -> Iterator[tuple[str, IO[bytes]]]:
            for info in zf.infolist():
                if not info.is_dir():
                    with _open_zip_member(zf, info, path) as handle:  # CRC checked as read
                        yield safe_name(info.filename), handle

        yield members()


def _open_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> IO[bytes]:
    """The member's stream; DamagedData when its local header cannot be reached or read (an
    offset past the file, an encrypted member, an unknown compression method: fuzzing)."""
    try:
        return zf.open(info)
    except (*UNREADABLE, RuntimeError) as exc:
        raise DamagedData(
            f"{path.name} is damaged: its member {info.filename!r} cannot be read ({exc}).",
            hint="Delete it and fetch again.",
        ) from exc


@contextmanager
def open_members(
    path: Path, approved: list[Member]
) -> Iterator[Iterator[tuple[Member, IO[bytes]]]]:
    """Yield (member, stream) for the approved members only, in archive order."""
    by_name = {m.name: m for m in approved}
    opener = _zip_stream if kind_of(path) == "zip" else _tar_stream

    def checked(stream: Iterator[tuple[str, IO[bytes]]]) -> Iterator[tuple[Member, IO[bytes]]]:
        for name, handle in stream:
            member = by_name.get(name)
            if member is None:  # the archive changed between the check and the read
                raise UnsafeArchiveError(f"Archive member {name!r} was not checked; refused.")
            yield member, handle

    # Opening counts too: a tar whose members the check read at random can still fail in the
    # front-to-back stream read (a truncated header; found by fuzzing).
    try:
        with opener(path) as stream:
            yield checked(stream)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
        raise DamagedData(
            f"{path.name} is damaged: {exc}.", hint="Delete it and fetch again."
        ) from exc
