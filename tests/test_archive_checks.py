"""The archive check alone (``archive.list_members``), in-process, one rule per case.

`test_archive_safety.py` proves a hostile archive is refused through the whole CLI; these pin
each rule of the check itself, for zip and tar alike.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
from pathlib import Path, PurePath, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bg20k_fetch.errors import DamagedData, UnsafeArchiveError
from bg20k_fetch.transfer import archive as archive_module
from bg20k_fetch.transfer.archive import (
    Limits,
    Member,
    archive_kind,
    kind_of,
    list_members,
    magic_kind,
    safe_name,
)


def _tar(path: Path, build: list[tarfile.TarInfo], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for info in build:
            data = b"x" * info.size if info.isreg() else None
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "BG-20k/train/a.jpg"
    return info


def test_tar_directories_are_checked_and_skipped_and_the_files_after_them_listed(
    tmp_path: Path,
) -> None:
    path = _tar(
        tmp_path / "a.tar",
        [_info("BG-20k", tarfile.DIRTYPE), _info("BG-20k/train/a.jpg", size=3)],
    )
    assert list_members(path) == [Member("BG-20k/train/a.jpg", 3, "BG-20k/train/a.jpg")]
    bad = _tar(tmp_path / "b.tar", [_info("../up", tarfile.DIRTYPE)])
    with pytest.raises(UnsafeArchiveError, match="points outside"):
        list_members(bad)


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.SYMTYPE, "is a link"),
        (tarfile.LNKTYPE, "is a link"),
        (tarfile.FIFOTYPE, "is a special file"),
        (tarfile.CHRTYPE, "is a special file"),
    ],
)
def test_tar_links_and_special_files_are_refused_by_name(
    tmp_path: Path, kind: bytes, what: str
) -> None:
    path = _tar(tmp_path / "a.tar", [_info("BG-20k/train/a.jpg", size=1), _info("x", kind)])
    with pytest.raises(UnsafeArchiveError, match=f"'x' {what}; refused"):
        list_members(path)


def test_a_compressed_tar_that_expands_past_the_ratio_is_refused(tmp_path: Path) -> None:
    size = 4 << 20  # zeros: gzip packs them about a thousand to one
    path = _tar(tmp_path / "bomb.tar.gz", [_info("BG-20k/train/a.jpg", size=size)], "w:gz")
    packed = path.stat().st_size
    with pytest.raises(UnsafeArchiveError, match=f"expands {size // packed}-fold; refused"):
        list_members(path)
    # The same bytes under a looser ratio pass: the bound is the ratio, not the size.
    assert list_members(path, Limits(max_ratio=size / packed + 1))[0].size == size


@pytest.mark.parametrize("size", [(1 << 20) - 1024, 1 << 20])
def test_a_small_tar_is_never_called_a_bomb(tmp_path: Path, size: int) -> None:
    path = _tar(tmp_path / "a.tar.gz", [_info("BG-20k/train/a.jpg", size=size)], "w:gz")
    assert len(list_members(path)) == 1  # highly compressible, but not over 1 MiB in all


def test_just_over_a_mebibyte_is_enough_to_be_a_bomb(tmp_path: Path) -> None:
    size = (3 << 20) // 2
    path = _tar(tmp_path / "a.tar.gz", [_info("BG-20k/train/a.jpg", size=size)], "w:gz")
    with pytest.raises(UnsafeArchiveError, match="-fold; refused"):
        list_members(path)


def test_zip_member_limits(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(3):
            zf.writestr(f"BG-20k/train/{i}.jpg", b"y" * 10)
    assert len(list_members(path, Limits(max_members=3))) == 3
    with pytest.raises(UnsafeArchiveError, match="more than 2 members"):
        list_members(path, Limits(max_members=2))
    assert len(list_members(path, Limits(max_total_bytes=30))) == 3
    with pytest.raises(UnsafeArchiveError, match="beyond 29 bytes"):
        list_members(path, Limits(max_total_bytes=29))


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("./BG-20k//train/a.jpg", "BG-20k/train/a.jpg"), ("a/./b", "a/b")],
)
def test_safe_name_normalises(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


@given(st.lists(st.sampled_from(["", ".", "..", "a", "b.jpg", "train", " ", "\u00e9"]), max_size=6))
def test_safe_name_splits_as_pathlib_does(parts: list[str]) -> None:
    """safe_name splits names by hand (pathlib interns every part it sees, for good): the
    same components as PurePosixPath's, for every relative name it accepts."""
    raw = "/".join(parts)
    expected = PurePosixPath(raw).parts
    if raw.startswith("/") or ".." in expected or not expected:
        with pytest.raises(UnsafeArchiveError):
            safe_name(raw)
    else:
        assert safe_name(raw) == "/".join(expected)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("/etc/passwd", "absolute or Windows"),
        ("C:evil", "absolute or Windows"),
        ("a\\b", "absolute or Windows"),
        ("a\x00b", "absolute or Windows"),
        ("a/../../b", "points outside"),
        ("./", "empty name"),
    ],
)
def test_safe_name_refuses(raw: str, why: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=why):
        safe_name(raw)


def test_a_tar_member_twice_is_refused_naming_the_archive(tmp_path: Path) -> None:
    twice = [_info("BG-20k/train/a.jpg", size=1), _info("BG-20k/./train/a.jpg", size=1)]
    with pytest.raises(UnsafeArchiveError, match=r"'BG-20k/./train/a.jpg' appears twice in a.tar"):
        list_members(_tar(tmp_path / "a.tar", twice))


def test_sniff_names_the_first_sixteen_bytes() -> None:
    from bg20k_fetch.transfer.archive import sniff

    head = b"<!DOCTYPE html><html><head>"
    assert sniff(head) == (
        "it starts with b'<!DOCTYPE html><', which is not a zip, gzip or tar archive"
    )
    assert sniff(b"PK\x03\x04rest") is None and sniff(b"\x1f\x8b\x08") is None


def _zip(path: Path, entries: list[tuple[str, int]]) -> Path:
    """Entries of (name, Unix mode); a name ending in / is a directory entry."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            if name.endswith("/"):
                info.external_attr |= 0x10  # the MS-DOS directory bit, as zip tools set it
            zf.writestr(info, b"" if name.endswith("/") else b"abc")
    return path


@pytest.mark.parametrize("dir_mode", [0, stat.S_IFDIR | 0o755])
def test_zip_directories_are_checked_and_skipped_and_the_files_after_them_listed(
    tmp_path: Path, dir_mode: int
) -> None:
    path = _zip(
        tmp_path / "a.zip",
        [
            ("BG-20k/", dir_mode),
            ("BG-20k/train/", dir_mode),
            ("BG-20k/train/a.jpg", stat.S_IFREG | 0o644),
            ("BG-20k/train/b.jpg", 0),  # no Unix mode at all (a zip made on Windows)
        ],
    )
    assert list_members(path) == [
        Member("BG-20k/train/a.jpg", 3, "BG-20k/train/a.jpg"),
        Member("BG-20k/train/b.jpg", 3, "BG-20k/train/b.jpg"),
    ]
    bad = _zip(tmp_path / "b.zip", [("../up/", dir_mode), ("BG-20k/train/a.jpg", 0)])
    with pytest.raises(UnsafeArchiveError, match="points outside"):
        list_members(bad)


@pytest.mark.parametrize(
    ("mode", "what"),
    [
        (stat.S_IFLNK | 0o777, "a symbolic link"),
        (stat.S_IFIFO | 0o644, "a special file"),
        (stat.S_IFDIR | 0o755, "a special file"),  # a directory's mode on a file's name
    ],
)
def test_zip_links_and_special_files_are_refused_by_name(
    tmp_path: Path, mode: int, what: str
) -> None:
    path = _zip(tmp_path / "a.zip", [("BG-20k/train/a.jpg", 0), ("BG-20k/train/x.jpg", mode)])
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == f"Archive member 'BG-20k/train/x.jpg' is {what}; refused."


def _deflated(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.zip", "zip"),
        ("A.ZIP", "zip"),
        ("a.tar", "tar"),
        ("a.TAR.GZ", "tar"),
        ("a.tgz", "tar"),
        ("a.7z", None),
        ("zip", None),
    ],
)
def test_archive_kind_by_name(name: str, kind: str | None) -> None:
    assert archive_kind(PurePath(name)) == kind


def test_archive_kind_by_first_bytes_before_name(tmp_path: Path) -> None:
    zipped = _deflated(tmp_path / "mislabelled.tar", {"BG-20k/train/a.jpg": b"abc"})
    assert kind_of(zipped) == "zip"  # the bytes say zip, whatever the name says
    (tmp_path / "plain.zip").write_bytes(b"not yet an archive")
    assert kind_of(tmp_path / "plain.zip") == "zip"  # no magic: the name decides
    (tmp_path / "data").write_bytes(b"no magic, no name")
    assert kind_of(tmp_path / "data") == "tar"  # and tarfile then says what it is


def test_a_zip_member_that_expands_past_the_ratio_is_refused_by_name(tmp_path: Path) -> None:
    size = (1 << 20) + 1  # zeros: deflate packs them about a thousand to one
    path = _deflated(tmp_path / "bomb.zip", {"BG-20k/train/a.jpg": bytes(size)})
    with zipfile.ZipFile(path) as zf:
        packed = zf.infolist()[0].compress_size
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == (
        f"Archive member 'BG-20k/train/a.jpg' expands {size / packed:.0f}-fold; "
        "refused as a decompression bomb."
    )


def test_what_a_zip_member_may_expand_to(tmp_path: Path) -> None:
    # One MiB of zeros is small enough not to matter; two MiB of noise barely compresses.
    small = _deflated(tmp_path / "a.zip", {"BG-20k/train/a.jpg": bytes(1 << 20)})
    noise = _deflated(tmp_path / "b.zip", {"BG-20k/train/b.jpg": os.urandom(2 << 20)})
    assert len(list_members(small)) == 1 and len(list_members(noise)) == 1


def test_zip_members_overlapping_by_one_byte_are_refused(tmp_path: Path) -> None:
    path = _deflated(
        tmp_path / "a.zip", {"BG-20k/train/a.jpg": b"a" * 100, "BG-20k/train/b.jpg": b"b" * 100}
    )
    with zipfile.ZipFile(path) as zf:
        first, second = zf.infolist()
    end_of_first = first.header_offset + 30 + len(first.filename) + first.compress_size
    assert second.header_offset == end_of_first  # written back to back
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)  # the second's directory entry
    data[entry + 42 : entry + 46] = struct.pack("<I", end_of_first - 1)
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == "Archive member 'BG-20k/train/a.jpg' overlaps another; refused."


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"PK\x03\x04rest", "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),  # an empty zip: only its end record
        (b"\x1f\x8b\x08\x00", "tar"),  # gzip: a .tar.gz
        (bytes(257) + b"ustar\x0000" + bytes(244), "tar"),  # POSIX tar
        (bytes(257) + b"ustar  \x00" + bytes(243), "tar"),  # GNU tar
        (bytes(258) + b"ustar" + bytes(249), None),  # one byte off
        (b"pk\x03\x04", None),
        (b"<!DOCTYPE html>", None),
    ],
)
def test_archive_kind_by_magic(head: bytes, kind: str | None) -> None:
    assert magic_kind(head) == kind


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("a.zip", b"garbage", "File is not a zip file"),
        ("a.tar", b"garbage" * 100, "file could not be opened successfully"),  # its colon dropped
    ],
)
def test_an_archive_that_cannot_be_read_is_damaged_data(
    tmp_path: Path, name: str, data: bytes, why: str
) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DamagedData) as caught:
        list_members(tmp_path / name)
    assert caught.value.message == f"{name} is not a readable archive: {why}."
    assert caught.value.hint == "The download may be damaged; fetch it again."


def test_an_unreadable_archive_without_a_message_is_named_by_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(path: Path) -> None:
        raise zipfile.BadZipFile()

    monkeypatch.setattr(archive_module.zipdir, "read_directory", unreadable)
    path = tmp_path / "a.zip"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DamagedData) as caught:
        list_members(path)
    assert caught.value.message == "a.zip is not a readable archive: BadZipFile."


def test_a_zip_member_that_claims_to_pack_into_nothing_is_a_bomb(tmp_path: Path) -> None:
    size = (1 << 20) + 1
    path = _deflated(tmp_path / "a.zip", {"BG-20k/train/a.jpg": bytes(size)})
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + 20 : entry + 24] = struct.pack("<I", 0)  # its directory says 0 bytes packed
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError) as caught:
        list_members(path)
    assert caught.value.message == (
        f"Archive member 'BG-20k/train/a.jpg' expands {size}-fold; refused as a decompression bomb."
    )
