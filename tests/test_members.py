"""Reading zip members from the checked central directory's offsets (transfer/members.py):
whatever zipfile would refuse when reading a member is refused here too, and a member
compressed otherwise than stored or deflated still lands, read through zipfile."""

from __future__ import annotations

import bz2
import hashlib
import struct
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.transfer.archive import list_members
from bg20k_fetch.transfer.extract import Item, copy_members
from bg20k_fetch.transfer.members import MemberStream, open_members, readable
from tests.data import jpeg

NAME = "BG-20k/train/a.jpg"


def one_member_zip(path: Path, data: bytes, method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr(NAME, data)
    return path


def copy_out(archive: Path, out: Path) -> dict[str, bytes]:
    items = [Item(m, m.name, str(out / m.name)) for m in list_members(archive)]
    copied = copy_members(archive, items, workers=1, advance=lambda n: None)
    for item, info in copied:
        assert info.sha256 == hashlib.sha256((out / item.rel).read_bytes()).hexdigest()
    return {item.rel: (out / item.rel).read_bytes() for item, _ in copied}


def patch(archive: Path, at: int, new: bytes) -> None:
    raw = bytearray(archive.read_bytes())
    raw[at : at + len(new)] = new
    archive.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_every_method_zipfile_writes_lands_byte_for_byte(tmp_path: Path, method: int) -> None:
    data = jpeg(7) * 40  # big enough to take several reads when deflated
    archive = one_member_zip(tmp_path / "a.zip", data, method)
    (member,) = list_members(archive)
    assert readable(member) == (method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
    assert copy_out(archive, tmp_path / "out") == {NAME: data}


def test_small_reads_of_a_deflated_member_give_the_whole_member(tmp_path: Path) -> None:
    data = bytes(range(256)) * 300
    archive = one_member_zip(tmp_path / "a.zip", data, zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    got = b""
    with archive.open("rb") as handle:
        stream = MemberStream(handle.fileno(), member)
        while block := stream.read(1000):
            assert len(block) <= 1000
            got += block
    assert got == data


def test_a_local_header_naming_another_file_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    (member,) = list_members(archive)
    patch(archive, member.offset + 30, b"BG-20k/train/b.jpg")  # the local name only
    with pytest.raises(DamagedData, match=r"header .*b\.jpg"):
        copy_out(archive, tmp_path / "out")
    assert not (tmp_path / "out" / NAME).exists()


def test_a_member_that_is_not_where_the_directory_says_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    (member,) = list_members(archive)
    patch(archive, member.offset, b"PK\x05\x06")
    with pytest.raises(DamagedData, match="Bad magic number"):
        copy_out(archive, tmp_path / "out")


@pytest.mark.parametrize("where", ["local", "central"])
def test_an_encrypted_member_is_refused(tmp_path: Path, where: str) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    (member,) = list_members(archive)
    if where == "local":
        patch(archive, member.offset + 6, struct.pack("<H", 1))
    else:
        central = archive.read_bytes().rindex(b"PK\x01\x02")
        patch(archive, central + 8, struct.pack("<H", 1))
    with pytest.raises(DamagedData, match="encrypted"):
        copy_out(archive, tmp_path / "out")


def test_a_wrong_crc_is_refused_after_the_last_byte(tmp_path: Path) -> None:
    data = jpeg(3)
    archive = one_member_zip(tmp_path / "a.zip", data)
    (member,) = list_members(archive)
    at = member.offset + 30 + len(NAME) + 10
    patch(archive, at, bytes([archive.read_bytes()[at] ^ 0xFF]))  # same length, other bytes
    with pytest.raises(DamagedData, match="Bad CRC-32"):
        copy_out(archive, tmp_path / "out")


def test_a_deflated_member_holding_more_than_declared_stops_one_byte_past(tmp_path: Path) -> None:
    """A deflate stream of 50 MiB of zeros where the directory declares 10 bytes: refused
    after 11 bytes of output, never inflated whole."""
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = packed.compress(bytes(50 << 20)) + packed.flush()
    archive = one_member_zip(tmp_path / "a.zip", b"0123456789", zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    start = member.offset + 30 + len(NAME)
    raw = archive.read_bytes()
    bomb = tmp_path / "bomb.bin"
    bomb.write_bytes(raw[:start] + body)
    with bomb.open("rb") as handle:
        grown = replace(member, packed=len(body), end=len(raw[:start] + body))
        stream = MemberStream(handle.fileno(), grown)
        assert len(stream.read(6)) == 6  # what a reader asks for, no more
        with pytest.raises(zipfile.BadZipFile, match="more than its declared size"):
            stream.read(1 << 20)  # inflates at most 5 + 1 more bytes, then says so


def test_a_member_cut_short_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(5) * 20, zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    short = tmp_path / "short.zip"
    short.write_bytes(archive.read_bytes()[: member.offset + 30 + len(NAME) + member.packed // 2])
    with short.open("rb") as handle:
        stream = MemberStream(handle.fileno(), member)
        with pytest.raises(zipfile.BadZipFile, match="cut short"):
            while stream.read(1 << 16):
                pass


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 255, 257, 258, 259, 4095, 65536])
def test_a_deflated_member_read_in_any_size_gives_every_byte(tmp_path: Path, size: int) -> None:
    """Whatever the read size, every byte arrives and none is refused as "cut short": output
    zlib holds back at a read's limit is asked for even when no input is left."""
    data = b"".join(b"%d matte background " % (i % 97) for i in range(4000))
    archive = one_member_zip(tmp_path / "a.zip", data, zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    got = []
    with archive.open("rb") as handle:
        stream = MemberStream(handle.fileno(), member)
        while block := stream.read(size):
            assert len(block) <= size
            got.append(block)
    assert b"".join(got) == data


def test_an_empty_deflated_member_lands_empty(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", b"", zipfile.ZIP_DEFLATED)
    assert copy_out(archive, tmp_path / "out") == {NAME: b""}


def central(archive: Path) -> int:
    return archive.read_bytes().rindex(b"PK\x01\x02")


def test_a_patched_data_flag_in_the_directory_alone_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    patch(archive, central(archive) + 8, struct.pack("<H", 0x20))
    with pytest.raises(DamagedData, match="zip feature"):
        copy_out(archive, tmp_path / "out")


def test_a_local_name_that_is_not_the_utf8_it_claims_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    (member,) = list_members(archive)
    patch(archive, member.offset + 6, struct.pack("<H", 0x800))
    patch(archive, member.offset + 30 + len(NAME) - 1, b"\xff")
    with pytest.raises(DamagedData, match="and header"):
        copy_out(archive, tmp_path / "out")


def test_a_name_cut_at_a_nul_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("BG-20k/train/a.jpgXevil", jpeg(1))
    raw = archive.read_bytes().replace(b"a.jpgXevil", b"a.jpg\x00evil")
    archive.write_bytes(raw)
    with pytest.raises(UnsafeArchiveError, match="is not a name"):
        list_members(archive)


def test_a_local_extra_field_reaching_the_next_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(NAME, jpeg(1))
        zf.writestr("BG-20k/train/b.jpg", jpeg(2))
    first = list_members(archive)[0]
    patch(archive, first.offset + 28, struct.pack("<H", 40))  # the first body moves 40 on
    with pytest.raises(DamagedData, match="overlaps the next member"):
        copy_out(archive, tmp_path / "out")


def test_a_member_placed_past_the_archives_data_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    size = archive.stat().st_size
    patch(archive, central(archive) + 42, struct.pack("<L", size - 40))
    with pytest.raises(DamagedData, match="lies outside the archive"):
        list_members(archive)


def test_a_stored_member_longer_than_declared_is_refused(tmp_path: Path) -> None:
    data = jpeg(4)
    archive = one_member_zip(tmp_path / "a.zip", data)
    patch(archive, central(archive) + 24, struct.pack("<L", len(data) - 10))
    with pytest.raises(DamagedData, match="more than its declared size"):
        copy_out(archive, tmp_path / "out")


def test_deflate_data_that_is_not_deflate_is_refused(tmp_path: Path) -> None:
    archive = one_member_zip(tmp_path / "a.zip", jpeg(6) * 4, zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    start = member.offset + 30 + len(NAME)
    patch(archive, start, b"\xff" * min(16, member.packed))  # reserved block type 3
    with pytest.raises(DamagedData):
        copy_out(archive, tmp_path / "out")


def test_a_member_with_no_space_of_its_own_is_not_read_by_offset() -> None:
    from bg20k_fetch.transfer.archive import Member

    assert readable(Member("a", 1, "a", 100, 1, zipfile.ZIP_STORED, 0, 0, 200))
    assert not readable(Member("a", 1, "a", 100, 1, zipfile.ZIP_STORED, 0, 0, 100))
    assert not readable(Member("a", 1, "a", 100, 1, zipfile.ZIP_BZIP2, 0, 0, 200))


@pytest.mark.parametrize("size", [0, -1])
def test_a_read_of_nothing_is_nothing_and_the_member_still_reads_whole(
    tmp_path: Path, size: int
) -> None:
    data = jpeg(8)
    archive = one_member_zip(tmp_path / "a.zip", data)
    (member,) = list_members(archive)
    with archive.open("rb") as handle:
        stream = MemberStream(handle.fileno(), member)
        assert stream.read(size) == b""
        assert stream.read(len(data) + 10) == data and stream.read(1) == b""


@pytest.mark.parametrize("size", [1, 2, 99, 100, 101])
def test_a_stored_member_read_in_any_size_gives_every_byte(tmp_path: Path, size: int) -> None:
    data = bytes(range(256))[:101] * 3  # 303 bytes: reads that leave one byte, and none
    archive = one_member_zip(tmp_path / "a.zip", data)
    (member,) = list_members(archive)
    got = []
    with archive.open("rb") as handle:
        stream = MemberStream(handle.fileno(), member)
        while block := stream.read(size):
            got.append(block)
    assert b"".join(got) == data


def test_a_name_in_cp437_is_read_as_cp437(tmp_path: Path) -> None:
    """A name without the UTF-8 flag is code page 437 in both headers (zipfile's rule)."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("BG-20k/train/\u00e9t\u00e9.jpg", jpeg(1))  # written with the UTF-8 flag
    raw = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.index(signature)
        flags = struct.unpack_from("<H", raw, at + flag_at)[0]
        struct.pack_into("<H", raw, at + flag_at, flags & ~0x800)
    archive.write_bytes(bytes(raw))
    (member,) = list_members(archive)
    assert member.name == "BG-20k/train/\u251c\u2310t\u251c\u2310.jpg"  # é's UTF-8 bytes in cp437
    assert copy_out(archive, tmp_path / "out") == {member.name: jpeg(1)}


def test_a_utf8_name_is_read_as_utf8(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("BG-20k/train/\u00e9t\u00e9.jpg", jpeg(2))
    assert copy_out(archive, tmp_path / "out") == {"BG-20k/train/\u00e9t\u00e9.jpg": jpeg(2)}


def test_a_deflate_stream_that_never_ends_is_refused_not_waited_on(tmp_path: Path) -> None:
    """The directory says the body is shorter than the stream: the input runs out before the
    stream's end, and the CRC-32 of what came out says so."""
    archive = one_member_zip(tmp_path / "a.zip", jpeg(9) * 8, zipfile.ZIP_DEFLATED)
    (member,) = list_members(archive)
    with archive.open("rb") as handle:
        stream = MemberStream(handle.fileno(), replace(member, packed=member.packed - 3))
        with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
            while stream.read(1 << 16):
                pass


def test_a_member_zipfile_cannot_open_is_damaged_data_that_says_what_to_do(
    tmp_path: Path,
) -> None:
    """Read in archive order (open_members, through zipfile): an encrypted member."""
    archive = one_member_zip(tmp_path / "a.zip", jpeg(1))
    (member,) = list_members(archive)
    patch(archive, central(archive) + 8, struct.pack("<H", 1))
    with pytest.raises(DamagedData) as caught, open_members(archive, [member]) as stream:
        for _, handle in stream:
            handle.read()
    assert "a.zip is damaged: its member" in caught.value.message
    assert "cannot be read" in caught.value.message
    assert caught.value.hint == "Delete it and fetch again."


def _local(name: bytes, method: int, crc: int, body: bytes, size: int, extra: bytes = b"") -> bytes:
    return struct.pack(
        "<4s2B4HL2L2H", b"PK\x03\x04", 46, 0, 0, method, 0, 0, crc, len(body), size, len(name),
        len(extra),
    ) + name + extra + body  # fmt: skip


def _central(
    name: bytes, method: int, crc: int, packed: int, size: int, at: int, mode: int
) -> bytes:
    return struct.pack(
        "<4s4B4HL2L5H2L", b"PK\x01\x02", 46, 3, 46, 0, 0, method, 0, 0, crc, packed, size,
        len(name), 0, 0, 0, 0, mode << 16, at,
    ) + name  # fmt: skip


def _zip_of(locals_: list[bytes], centrals: list[bytes]) -> bytes:
    body, directory = b"".join(locals_), b"".join(centrals)
    n = len(centrals)
    return (
        body
        + directory
        + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), len(body), 0)
    )


def test_a_member_read_through_zipfile_is_the_entry_the_checks_approved(tmp_path: Path) -> None:
    """A file listed again under its own name as a directory (skipped by the checks, sizes
    unread) whose body is a bzip2 bomb: zipfile looked up by name would find the directory
    entry, and write its 16 MiB before the size was compared (found by a hostile review)."""
    name, good, bomb = b"BG-20k/train/a.jpg/", b"abc", bz2.compress(bytes(16 << 20))
    packed = bz2.compress(good)
    first = _local(name, zipfile.ZIP_BZIP2, zlib.crc32(good), packed, len(good))
    second = _local(name, zipfile.ZIP_BZIP2, zlib.crc32(bytes(16 << 20)), bomb, 0xFFFF_FFFE)
    archive = tmp_path / "a.zip"
    archive.write_bytes(
        _zip_of(
            [first, second],
            [
                _central(
                    name, zipfile.ZIP_BZIP2, zlib.crc32(good), len(first) - 49, 3, 0, 0o100644
                ),
                _central(name, zipfile.ZIP_BZIP2, 0, len(bomb), 0xFFFF_FFFE, len(first), 0),
            ],
        )
    )
    assert copy_out(archive, tmp_path / "out") == {"BG-20k/train/a.jpg": good}


def test_a_member_read_through_zipfile_stays_inside_its_own_space(tmp_path: Path) -> None:
    """A local extra field long enough to push the member's bytes into the next member's."""
    name, data = b"BG-20k/train/a.jpg", b"abc"
    packed = bz2.compress(data)
    first = _local(name, zipfile.ZIP_BZIP2, zlib.crc32(data), packed, 3, extra=b"\x00" * 8)
    second = _local(b"BG-20k/train/b.jpg", 0, zlib.crc32(data), data, 3)
    archive = tmp_path / "a.zip"
    archive.write_bytes(
        _zip_of(
            [first, second],
            [
                _central(name, zipfile.ZIP_BZIP2, zlib.crc32(data), len(packed) + 8, 3, 0, 0),
                _central(b"BG-20k/train/b.jpg", 0, zlib.crc32(data), 3, 3, len(first), 0),
            ],
        )
    )
    with pytest.raises(DamagedData, match="overlaps the next member"):
        copy_out(archive, tmp_path / "out")
