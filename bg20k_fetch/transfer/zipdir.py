"""A zip's central directory, read one record at a time.

zipfile builds a ZipInfo object for every entry before anything can look at one: 11 MiB for
20,000 members, the largest part of a fetch's peak memory, held only for the checks to read a
few numbers and a name from each. This module reads the same records the way zipfile 3.11
reads them (the end record found as zipfile finds it, the Zip64 end records and extra fields,
data prepended to the archive, names decoded by the same flag) and raises what zipfile raises
on the same damage, with the same words. archive.py checks each entry as it comes; nothing is
kept but the directory's bytes (about 70 bytes an entry).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple
from zipfile import BadZipFile

# The record layouts of PKWARE's APPNOTE (4.3.12, 4.3.14–16), as zipfile spells them.
_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")
_LOCATOR_SIGNATURE = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_SIGNATURE = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")
_ENTRY_SIGNATURE = b"PK\x01\x02"
_EXTRA = struct.Struct("<HH")
_U64 = struct.Struct("<Q")
_MAX_EXTRACT_VERSION = 63  # zipfile refuses what needs a later version to read
_UTF8 = 0x800
_ZIP64_EXTRA = 0x0001
_COMMENT_MAX = 1 << 16
_NOT_A_ZIP = "File is not a zip file"


class Entry(NamedTuple):
    name: str  # as the archive spells it, decoded as zipfile decodes it
    name_bytes: int  # its length in the record, for where the local header's name ends
    flags: int
    method: int
    crc: int
    packed: int
    size: int
    offset: int  # of the local header in the file, data prepended to the archive counted
    mode: int  # the Unix mode in the external attributes (0: none given)


class Directory(NamedTuple):
    start: int  # where the central directory begins in the file: where members' space ends
    size: int  # its size as the end record gives it
    records: bytes
    concat: int  # bytes in front of the archive (a self-extractor's stub): zipfile's "concat"


def read_directory(path: Path) -> Directory:
    """The central directory of the zip at ``path``; BadZipFile where zipfile raises it."""
    with path.open("rb") as handle:
        length = handle.seek(0, 2)
        at, cd_size, cd_offset, zip64 = _end_record(handle, length)
        concat = at - cd_size - cd_offset - (_END64.size + _LOCATOR.size if zip64 else 0)
        start = cd_offset + concat
        if start < 0:
            raise BadZipFile("Bad offset for central directory")
        handle.seek(start)
        # Never more than the file holds: a Zip64 record may claim any size at all.
        records = handle.read(max(0, min(cd_size, length - start)))
    return Directory(start, cd_size, records, concat)


def _end_record(handle: IO[bytes], length: int) -> tuple[int, int, int, bool]:
    """(where the end record is, the directory's size and offset, whether Zip64 gave them)."""

    def read(offset: int, size: int) -> bytes:
        handle.seek(offset)
        return handle.read(size)

    if length < _END.size:
        raise BadZipFile(_NOT_A_ZIP)
    tail = read(length - _END.size, _END.size)
    if tail[:4] == _END_SIGNATURE and tail[-2:] == b"\x00\x00":  # no comment, as nearly all
        at, record = length - _END.size, tail
    else:  # a comment follows it: the last signature in the last 64 KiB
        first = max(length - _COMMENT_MAX - _END.size, 0)
        window = read(first, length - first)
        found = window.rfind(_END_SIGNATURE)
        if found < 0 or len(window) - found < _END.size:
            raise BadZipFile(_NOT_A_ZIP)
        at, record = first + found, window[found : found + _END.size]
    cd_size, cd_offset = _END.unpack(record)[5:7]
    if at < _LOCATOR.size:
        return at, cd_size, cd_offset, False
    signature, disk, _, disks = _LOCATOR.unpack(read(at - _LOCATOR.size, _LOCATOR.size))
    if signature != _LOCATOR_SIGNATURE:
        return at, cd_size, cd_offset, False
    if disk != 0 or disks > 1:
        raise BadZipFile("zipfiles that span multiple disks are not supported")
    where = at - _LOCATOR.size - _END64.size
    if where < 0:  # zipfile's seek before the file's start: its OSError, "not a zip file"
        raise BadZipFile(_NOT_A_ZIP)
    record64 = read(where, _END64.size)
    if record64[:4] != _END64_SIGNATURE:
        return at, cd_size, cd_offset, False
    cd_size, cd_offset = _END64.unpack(record64)[8:10]
    return at, cd_size, cd_offset, True


def entries(directory: Directory) -> Iterator[Entry]:
    """Each record of the directory, in its order; BadZipFile (and NotImplementedError, and
    UnicodeDecodeError for a name that is not the UTF-8 its flag claims) where zipfile raises
    them, so a damaged directory is refused before a single entry is checked."""
    records, at, concat = directory.records, 0, directory.concat
    while at < directory.size:
        if len(records) - at < _ENTRY.size:
            raise BadZipFile("Truncated central directory")
        fields = _ENTRY.unpack_from(records, at)
        if fields[0] != _ENTRY_SIGNATURE:
            raise BadZipFile("Bad magic number for central directory")
        version, flags, method, crc, packed, size = fields[3], *fields[5:7], *fields[9:12]
        name_length, extra_length, comment_length = fields[12:15]
        at += _ENTRY.size
        raw = records[at : at + name_length]  # shorter where the directory ends early, as zipfile
        name = raw.decode("utf-8" if flags & _UTF8 else "cp437")
        extra = records[at + name_length : at + name_length + extra_length]
        at += name_length + extra_length + comment_length
        if version > _MAX_EXTRACT_VERSION:
            raise NotImplementedError(f"zip file version {version / 10:.1f}")
        size, packed, offset = _zip64(extra, size, packed, fields[18])
        yield Entry(
            name, len(raw), flags, method, crc, packed, size, offset + concat, fields[17] >> 16
        )


def _zip64(extra: bytes, size: int, packed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset too large for the record, from its Zip64 extra field, read as zipfile
    reads it (every such field in turn, each taking only what is still a placeholder), but
    walked by position: zipfile copies the rest of the field at each step, which a field of
    16,000 empty entries turns into seconds a mebibyte."""
    at = 0
    while len(extra) - at >= _EXTRA.size:
        kind, length = _EXTRA.unpack_from(extra, at)
        if length + _EXTRA.size > len(extra) - at:
            raise BadZipFile(f"Corrupt extra field {kind:04x} (size={length})")
        if kind == _ZIP64_EXTRA:
            data = extra[at + _EXTRA.size : at + _EXTRA.size + length]
            field = ""
            try:
                if size in (0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF):
                    field = "File size"
                    (size,), data = _U64.unpack(data[:8]), data[8:]
                if packed == 0xFFFF_FFFF:
                    field = "Compress size"
                    (packed,), data = _U64.unpack(data[:8]), data[8:]
                if offset == 0xFFFF_FFFF:
                    field = "Header offset"
                    (offset,) = _U64.unpack(data[:8])
            except struct.error:
                raise BadZipFile(f"Corrupt zip64 extra field. {field} not found.") from None
        at += _EXTRA.size + length
    return size, packed, offset
