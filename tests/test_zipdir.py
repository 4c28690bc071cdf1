"""The zip's central directory as zipdir reads it, against zipfile reading the same bytes.

zipdir replaced zipfile in the archive checks (the security boundary) only to avoid building a
ZipInfo per entry, so the oracle is zipfile itself: on every archive, whole or damaged, both
must see the same entries or fail with the same error. The archives are real zips written by
zipfile (comments, data in front, Zip64 records, UTF-8 names, directories), then damaged byte
by byte where the directory and its end records are.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.transfer.archive import Limits, Member, list_members
from bg20k_fetch.transfer.zipdir import entries, read_directory


@contextmanager
def _zip64_everywhere() -> Iterator[None]:
    """zipfile writes Zip64 records only past 65,535 entries or 2 GiB; with its limits below
    zero, every size and offset goes into a Zip64 extra field and the end records are Zip64."""
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT = -1
    try:
        yield
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits


def _build(members: list[tuple[str, bytes, int]], *, comment: bytes, zip64: bool) -> bytes:
    buf = io.BytesIO()
    with _zip64_everywhere() if zip64 else nullcontext(), zipfile.ZipFile(buf, "w") as zf:
        zf.comment = comment
        for name, data, method in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if name.endswith("/"):
                info.external_attr = 0o40755 << 16 | 0x10
            with zf.open(info, "w", force_zip64=zip64) as out:
                out.write(data)
    return buf.getvalue()


def _zipfile_view(path: Path) -> tuple[Any, ...]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            return ("read", zf.start_dir, [_info_fields(i) for i in infos])
    except Exception as exc:  # whatever it raises, zipdir must raise too
        return ("refused", type(exc), str(exc))


def _info_fields(i: zipfile.ZipInfo) -> tuple[Any, ...]:
    return (
        i.orig_filename, i.flag_bits, i.compress_type, i.CRC,
        i.compress_size, i.file_size, i.header_offset, i.external_attr >> 16,
    )  # fmt: skip


def _zipdir_view(path: Path) -> tuple[Any, ...]:
    try:
        directory = read_directory(path)
        found = [
            (e.name, e.flags, e.method, e.crc, e.packed, e.size, e.offset, e.mode)
            for e in entries(directory)
        ]
        return ("read", directory.start, found)
    except Exception as exc:
        return ("refused", type(exc), str(exc))


_NAMES = st.text(alphabet=st.sampled_from("ab/._-é漢 "), min_size=1, max_size=12).filter(
    lambda n: not n.startswith("/")
)
_MEMBERS = st.lists(
    st.tuples(_NAMES, st.binary(max_size=300), st.sampled_from([0, 8])),
    max_size=5,
    unique_by=lambda m: m[0],
)


@given(
    members=_MEMBERS,
    comment=st.binary(max_size=80),
    prefix=st.binary(max_size=40),
    zip64=st.booleans(),
)
def test_a_whole_zip_reads_as_zipfile_reads_it(
    tmp_path: Path,
    members: list[tuple[str, bytes, int]],
    comment: bytes,
    prefix: bytes,
    zip64: bool,
) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(prefix + _build(members, comment=comment, zip64=zip64))
    ours = _zipdir_view(path)
    assert ours == _zipfile_view(path)
    if members and b"PK" not in comment:  # a comment may hide the end record, for both
        assert ours[0] == "read" and [e[0] for e in ours[2]] == [m[0] for m in members]


def _sample(zip64: bool) -> bytes:
    members = [
        ("BG-20k/", b"", 0),
        ("BG-20k/train/a.jpg", b"\xff\xd8" + bytes(range(200)) + b"\xff\xd9", 0),
        ("BG-20k/train/é.jpg", b"\xff\xd8" + b"abc" * 90 + b"\xff\xd9", 8),
        ("BG-20k/testval/b.jpg", b"\xff\xd8\xff\xd9", 0),
    ]
    return _build(members, comment=b"", zip64=zip64)


_PLAIN, _ZIP64 = _sample(False), _sample(True)


def _directory_start(data: bytes) -> int:
    return data.index(b"PK\x01\x02")


def _fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of every number in the central directory's records and the end
    records: where a hostile or damaged archive lies."""
    found: list[tuple[int, int]] = []
    at = _directory_start(data)
    while data[at : at + 4] == b"PK\x01\x02":
        found += [(at + o, w) for o, w in ((6, 2), (8, 2), (10, 2), (16, 4), (20, 4), (24, 4))]
        found += [(at + o, w) for o, w in ((28, 2), (30, 2), (32, 2), (38, 4), (42, 4))]
        lengths = struct.unpack_from("<3H", data, at + 28)
        found += [(at + 46 + i, 1) for i in range(lengths[0])]  # the name, byte by byte
        if lengths[1]:  # and the first extra field's kind and length
            found += [(at + 46 + lengths[0], 2), (at + 48 + lengths[0], 2)]
        at += 46 + sum(lengths)
    for signature, numbers in (
        (b"PK\x06\x06", ((24, 8), (32, 8), (40, 8), (48, 8))),
        (b"PK\x06\x07", ((4, 4), (8, 8), (16, 4))),
        (b"PK\x05\x06", ((8, 2), (10, 2), (12, 4), (16, 4), (20, 2))),
    ):
        where = data.rfind(signature)
        found += [(where + o, w) for o, w in numbers] if where >= 0 else []
    return found


_VALUES = st.one_of(  # (set it to, add to it)
    st.tuples(
        st.sampled_from(
            [0, 1, 2, 29, 30, 45, 46, 47, 0x2F, 0x5C, 0x80, 0xFF, 0xFFFF, 0xFFFF_FFFF, 2**63]
        ),
        st.just(0),
    ),
    st.tuples(st.none(), st.integers(-50, 50)),
)


@settings(max_examples=300)  # about 3 ms each: enough to reach every error zipfile raises
@given(zip64=st.booleans(), edits=st.lists(st.tuples(st.integers(0, 400), _VALUES), max_size=3))
def test_a_directory_with_lying_numbers_fails_as_in_zipfile(
    tmp_path: Path, zip64: bool, edits: list[tuple[int, tuple[int | None, int]]]
) -> None:
    data = bytearray(_ZIP64 if zip64 else _PLAIN)
    fields = _fields(bytes(data))
    for choice, (value, delta) in edits:
        at, width = fields[choice % len(fields)]
        new = int.from_bytes(data[at : at + width], "little") + delta if value is None else value
        data[at : at + width] = (new % (1 << 8 * width)).to_bytes(width, "little")
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(data))
    assert _zipdir_view(path) == _zipfile_view(path)
    with suppress(DamagedData, UnsafeArchiveError):  # the checks raise nothing but these
        list_members(path)


@given(
    zip64=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 60),
)
def test_a_damaged_directory_fails_as_in_zipfile_and_only_with_typed_errors(
    tmp_path: Path, zip64: bool, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_ZIP64 if zip64 else _PLAIN)
    start = _directory_start(bytes(data))
    for where, value in edits:  # within the central directory and the end records
        data[start + where % (len(data) - start)] = value
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(data[: len(data) - cut] if cut < 30 else data))
    assert _zipdir_view(path) == _zipfile_view(path)
    with suppress(DamagedData, UnsafeArchiveError):  # the checks raise nothing but these
        list_members(path)


def test_the_end_record_behind_a_comment_and_data_in_front_are_found(tmp_path: Path) -> None:
    stub = b"#!/bin/sh\nexit 0\n" * 3  # a self-extractor's stub shifts every offset
    path = tmp_path / "a.zip"
    path.write_bytes(
        stub + _build([("BG-20k/train/a.jpg", b"abc", 0)], comment=b"x" * 300, zip64=True)
    )
    (member,) = list_members(path)
    assert member == Member("BG-20k/train/a.jpg", 3, "BG-20k/train/a.jpg")
    assert member.offset == len(stub)
    with zipfile.ZipFile(path) as zf:
        assert member.end == zf.start_dir


def test_a_directory_entry_listed_twice_is_refused_as_overlapping(tmp_path: Path) -> None:
    """Two names for one body, with the same length: zipfile's records could not even be
    sorted (the checks used to raise a bare TypeError here)."""
    data = _build([("BG-20k/train/a.jpg", b"x" * 100, 0)], comment=b"", zip64=False)
    end = data.rindex(b"PK\x05\x06")
    start = _directory_start(data)
    record = data[start:end]
    tail = bytearray(data[end:])
    struct.pack_into("<HHL", tail, 8, 2, 2, 2 * len(record))
    path = tmp_path / "a.zip"
    path.write_bytes(data[:start] + record + record + bytes(tail))
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == "Archive member 'BG-20k/train/a.jpg' overlaps another; refused."


def test_a_zip64_record_that_claims_more_than_the_file_is_refused(tmp_path: Path) -> None:
    data = bytearray(_ZIP64)
    at = data.rindex(b"PK\x06\x06")
    struct.pack_into("<Q", data, at + 40, 2**63 + 5)  # the directory's size
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedData) as caught:
        list_members(path)
    assert caught.value.message == (
        "a.zip is not a readable archive: Bad offset for central directory."
    )


@pytest.mark.parametrize("size", [0, 1, 21])
def test_a_file_too_short_for_an_end_record_is_not_a_zip(tmp_path: Path, size: int) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(b"PK\x05\x06"[:size] + bytes(max(0, size - 4)))
    with pytest.raises(DamagedData, match="not a readable archive: File is not a zip file"):
        list_members(path)


def _edit(data: bytes, signature: bytes, offset: int, value: int, width: int, last: bool) -> bytes:
    at = (data.rfind if last else data.find)(signature) + offset
    return data[:at] + value.to_bytes(width, "little") + data[at + width :]


_CD, _END, _LOCATOR = b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x07"
_DISKS = "zipfiles that span multiple disks are not supported"


@pytest.mark.parametrize(
    ("zip64", "edit", "error"),
    [  # (signature, offset, value, width, of the last such record)
        (False, (_CD, 28, 17, 2, True), "Truncated central directory"),
        (False, (_CD, 0, 0x0201_4B51, 4, False), "Bad magic number for central directory"),
        (False, (_CD, 6, 64, 2, False), "zip file version 6.4"),
        (False, (_END, 12, 46, 4, True), "Bad magic number for central directory"),
        (False, (_END, 12, 10**6, 4, True), "Bad offset for central directory"),
        (True, (_LOCATOR, 4, 1, 4, True), _DISKS),
        (True, (_LOCATOR, 16, 2, 4, True), _DISKS),
        (True, (_CD, 30, 40, 2, False), "Corrupt extra field 4b50 (size=513)"),
        (
            True,
            (_CD, 46 + 20 + 2, 8, 2, True),
            "Corrupt zip64 extra field. Compress size not found.",
        ),
    ],
)
def test_each_lie_in_the_directory_gets_zipfile_s_own_words(
    tmp_path: Path, zip64: bool, edit: tuple[bytes, int, int, int, bool], error: str
) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(_edit(_ZIP64 if zip64 else _PLAIN, *edit))
    view = _zipdir_view(path)
    assert view == _zipfile_view(path)
    assert view[0] == "refused" and view[2] == error
    with pytest.raises(DamagedData) as caught:
        list_members(path)
    assert caught.value.message == f"a.zip is not a readable archive: {error}."


def test_a_zip64_locator_with_no_room_for_its_record_is_not_a_zip(tmp_path: Path) -> None:
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    path = tmp_path / "a.zip"
    path.write_bytes(locator + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 0))
    assert (
        _zipdir_view(path)
        == _zipfile_view(path)
        == ("refused", zipfile.BadZipFile, "File is not a zip file")
    )


@pytest.mark.parametrize(
    ("byte", "message"),
    [
        (0x00, "Archive member 'BG-20k/train/\\x00.jpg' is not a name."),
        (0x5C, "Archive member 'BG-20k/train/\\\\.jpg' has an absolute or Windows path; "
                      "refused."),
    ],
)  # fmt: skip
def test_a_name_zipfile_would_alter_is_refused_as_it_is_spelled(
    tmp_path: Path, byte: int, message: str
) -> None:
    data = _build([("BG-20k/train/a.jpg", b"abc", 0)], comment=b"", zip64=False)
    at = _directory_start(data) + 46 + len("BG-20k/train/")
    path = tmp_path / "a.zip"
    path.write_bytes(data[:at] + bytes([byte]) + data[at + 1 :])
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == message


def _with_extra(extra: bytes, *, size: int, packed: int, offset: int) -> bytes:
    """One stored member whose directory record carries ``extra`` and the given numbers."""
    name, data = b"BG-20k/train/a.jpg", b"abc"
    local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 45, 0, 0, 0, 0, 0, 0, 3, 3, len(name), 0)
    record = struct.pack(
        "<4s4B4HL2L5H2L", b"PK\x01\x02", 45, 3, 45, 0, 0, 0, 0, 0, 0, packed, size,
        len(name), len(extra), 0, 0, 0, 0o100644 << 16, offset,
    ) + name + extra  # fmt: skip
    body = local + name + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(record), len(body), 0)
    return body + record + end


_TIMESTAMP = struct.pack("<HHB4s", 0x5455, 5, 1, b"\x00\x00\x00\x00")


@pytest.mark.parametrize(
    "extra",
    [
        _TIMESTAMP + struct.pack("<HH3Q", 1, 24, 3, 3, 0),  # the Zip64 field after another
        struct.pack("<HH2Q", 1, 16, 3, 3) + struct.pack("<HHQ", 1, 8, 0),  # two Zip64 fields
        struct.pack("<HH", 0x9999, 0) * 500 + struct.pack("<HH3Q", 1, 24, 3, 3, 0),
        _TIMESTAMP + struct.pack("<HH", 1, 30) + bytes(24),  # longer than what is left
        _TIMESTAMP + b"\x01\x00",  # a field cut short: ignored, as zipfile ignores it
    ],
)
def test_extra_fields_are_walked_as_zipfile_walks_them(tmp_path: Path, extra: bytes) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(_with_extra(extra, size=0xFFFF_FFFF, packed=0xFFFF_FFFF, offset=0xFFFF_FFFF))
    assert _zipdir_view(path) == _zipfile_view(path)


def test_an_offset_past_what_any_file_holds_lies_outside_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    extra = struct.pack("<HHQ", 1, 8, 2**64 - 1)
    path.write_bytes(_with_extra(extra, size=3, packed=3, offset=0xFFFF_FFFF))
    with pytest.raises(DamagedData) as caught:
        list_members(path)
    assert caught.value.message == (
        "a.zip is damaged: its member 'BG-20k/train/a.jpg' cannot be read "
        "(it lies outside the archive's data)."
    )


def test_a_directory_of_too_many_entries_is_refused_before_it_is_all_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.transfer import zipdir

    path = tmp_path / "a.zip"
    path.write_bytes(
        _build([(f"BG-20k/train/{i}.jpg", b"", 0) for i in range(50)], comment=b"", zip64=False)
    )
    read = 0
    real = zipdir.entries

    def counting(directory: zipdir.Directory) -> Iterator[zipdir.Entry]:
        nonlocal read
        for entry in real(directory):
            read += 1
            yield entry

    monkeypatch.setattr(zipdir, "entries", counting)
    with pytest.raises(UnsafeArchiveError, match="has more than 5 members; refused"):
        list_members(path, Limits(max_members=5))
    assert read <= 7
