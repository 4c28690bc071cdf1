"""Hostile archives: each is refused (exit 6) before anything is written anywhere."""

from __future__ import annotations

import io
import stat
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree
from tests.helpers import run_bg20k

# Every hostile archive also holds a complete, valid dataset: the refusal must come from the
# safety check on the hostile member, never from the dataset being incomplete.
COMPLETE = {
    f"BG-20k/{split}/h_{n:08x}.jpg": jpeg(n)
    for split, (start, count) in {"train": (0, 6), "testval": (6, 3)}.items()
    for n in range(start, start + count)
}


def _zip(entries: list[tuple[str, bytes, int | None]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # the duplicate-name case is the point of one test
        for name, data in COMPLETE.items():
            zf.writestr(name, data)
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return out.getvalue()


def _tar(add: Callable[[tarfile.TarFile], None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for name, data in COMPLETE.items():
            good = tarfile.TarInfo(name)
            good.size = len(data)
            tf.addfile(good, io.BytesIO(data))
        add(tf)
    return out.getvalue()


def _tar_member(
    name: str, kind: bytes, linkname: str = "", data: bytes = b""
) -> Callable[[tarfile.TarFile], None]:
    def add(tf: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data) if data else None)

    return add


def _overlapping_zip() -> bytes:
    """Two central-directory entries pointing at one local body (the overlapping-bomb trick)."""
    raw = bytearray(
        _zip([("BG-20k/train/a.jpg", jpeg(1), None), ("BG-20k/train/b.jpg", jpeg(2), None)])
    )
    first = raw.find(b"PK\x01\x02")
    last = first
    while (nxt := raw.find(b"PK\x01\x02", last + 4)) != -1:
        last = nxt
    raw[last + 42 : last + 46] = (0).to_bytes(4, "little")  # the last entry's body -> offset 0
    return bytes(raw)


GOOD = jpeg(0)
# Built by the test that uses it: the bomb alone is 64 MiB to deflate, once per worker otherwise.
HOSTILE: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "parent dir": (
        "a.zip",
        lambda: _zip([("BG-20k/train/../../../evil.jpg", GOOD, None)]),
        "evil.jpg",
    ),
    "absolute": ("a.zip", lambda: _zip([("/tmp/evil.jpg", GOOD, None)]), "/tmp/evil.jpg"),
    "backslash": (
        "a.zip",
        lambda: _zip([("BG-20k\\train\\..\\..\\evil.jpg", GOOD, None)]),
        "evil.jpg",
    ),
    "drive letter": ("a.zip", lambda: _zip([("C:/evil.jpg", GOOD, None)]), "C:/evil.jpg"),
    "zip symlink": (
        "a.zip",
        lambda: _zip([("BG-20k/train/link.jpg", b"/etc/passwd", stat.S_IFLNK | 0o777)]),
        "link.jpg",
    ),
    "duplicate": (
        "a.zip",
        lambda: _zip([("BG-20k/train/h_00000000.jpg", jpeg(5), None)]),  # a second, different body
        "h_00000000.jpg",
    ),
    "bomb": (
        "a.zip",
        lambda: _zip([("BG-20k/train/bomb.jpg", b"\0" * (64 * 2**20), None)]),
        "bomb.jpg",
    ),
    "overlap": ("a.zip", _overlapping_zip, "overlaps"),
    "tar symlink": (
        "a.tar",
        lambda: _tar(_tar_member("BG-20k/train/s.jpg", tarfile.SYMTYPE, "/etc")),
        "s.jpg",
    ),
    "tar hardlink": (
        "a.tar",
        lambda: _tar(_tar_member("BG-20k/train/h.jpg", tarfile.LNKTYPE, "/etc/passwd")),
        "h.jpg",
    ),
    "tar device": (
        "a.tar",
        lambda: _tar(_tar_member("BG-20k/train/dev.jpg", tarfile.CHRTYPE)),
        "dev.jpg",
    ),
    "tar fifo": (
        "a.tar",
        lambda: _tar(_tar_member("BG-20k/train/fifo.jpg", tarfile.FIFOTYPE)),
        "fifo.jpg",
    ),
    "tar parent": (
        "a.tar",
        lambda: _tar(_tar_member("BG-20k/train/../../../evil.jpg", tarfile.REGTYPE, data=GOOD)),
        "evil.jpg",
    ),
    "tar absolute": (
        "a.tar",
        lambda: _tar(_tar_member("/tmp/bg20k-evil.jpg", tarfile.REGTYPE, data=GOOD)),
        "/tmp/bg20k-evil.jpg",
    ),
}


@pytest.mark.parametrize("kind", ["a.zip", "a.tar"])
def test_without_its_hostile_member_each_archive_is_a_good_dataset(
    kind: str, tmp_path: Path, small_release: Path
) -> None:
    """So exit 6 below can only come from the safety check, not from an incomplete dataset."""
    archive = tmp_path / kind
    archive.write_bytes(_zip([]) if kind == "a.zip" else _tar(lambda tf: None))
    result = run_bg20k("fetch", "--accept", "--from", str(archive), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_archive_is_refused(
    kind: str, tmp_path: Path, small_release: Path, isolated_env: dict[str, Path]
) -> None:
    name, build, named = HOSTILE[kind]
    work = tmp_path / "work" / "inner"
    work.mkdir(parents=True)
    archive = work / name
    archive.write_bytes(build())
    dest = work / "dest"
    before = set(tmp_path.rglob("*"))
    outside_before = set(Path("/tmp").glob("*evil*"))
    result = run_bg20k("fetch", "--accept", "--from", str(archive), "--dest", str(dest))
    assert result.code == 6, result.err
    assert named in result.err and "Traceback" not in result.err
    written = set(tmp_path.rglob("*")) - before
    own = (dest, isolated_env["config"], isolated_env["cache"])
    outside = [p for p in written if not any(p == d or d in p.parents for d in own)]
    assert outside == []  # nothing at all outside the destination (and bg20k's own dirs)
    assert set(Path("/tmp").glob("*evil*")) == outside_before
    assert not (dest / "BG-20k").exists()
    assert all(p.name.startswith(".bg20k-fetch.lock") for p in dest.iterdir())


def test_multi_part_local_zips_merge(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    names = sorted(files)
    parts = [names[:5], names[4:]]  # one file appears in both parts, byte-identical
    for i, part in enumerate(parts, 1):
        _write_zip(
            tmp_path / f"BG-20k-20240101T000000Z-00{i}.zip",
            {f"BG-20k/{n}": files[n] for n in part} | {"BG-20k/readme.txt": b"hi"},
        )
    dest = tmp_path / "dest"
    result = run_bg20k(
        "fetch",
        "--accept",
        "--dest",
        str(dest),
        "--from",
        str(tmp_path / "BG-20k-20240101T000000Z-001.zip"),
        "--from",
        str(tmp_path / "BG-20k-20240101T000000Z-002.zip"),
    )
    assert result.code == 0, result.err
    for rel, data in files.items():
        assert (dest / "BG-20k" / rel).read_bytes() == data
    # The release's own readme is kept, beside the splits, and listed apart from the images.
    assert (dest / "BG-20k" / "readme.txt").read_bytes() == b"hi"
    assert "readme.txt" in (dest / "BG-20k" / "RELEASE-FILES.sha256").read_text()
    # The user's own files are never moved or deleted.
    assert (tmp_path / "BG-20k-20240101T000000Z-001.zip").exists()


def test_a_directory_copy_such_as_baidu(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "baidu" / "BG-20k", SMALL)
    dest = tmp_path / "dest"
    result = run_bg20k("fetch", "--accept", "--from", str(tmp_path / "baidu"), "--dest", str(dest))
    assert result.code == 0, result.err
    assert sorted(
        p.relative_to(dest / "BG-20k").as_posix() for p in (dest / "BG-20k").rglob("*.jpg")
    ) == sorted(files)
    assert (tmp_path / "baidu" / "BG-20k" / sorted(files)[0]).exists()


def test_conflicting_parts_are_an_integrity_error(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    first = sorted(files)[0]
    _write_zip(tmp_path / "a.zip", {f"BG-20k/{n}": d for n, d in files.items()})
    _write_zip(tmp_path / "b.zip", {f"BG-20k/{first}": jpeg(999)})
    result = run_bg20k(
        "fetch",
        "--accept",
        "--from",
        str(tmp_path / "a.zip"),
        "--from",
        str(tmp_path / "b.zip"),
        "--dest",
        str(tmp_path / "dest"),
    )
    assert result.code == 5 and first in result.err
    assert not (tmp_path / "dest" / "BG-20k").exists()


def test_damaged_zip_crc_is_caught(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(f"BG-20k/{n}", d)
    raw = bytearray(out.getvalue())
    body = raw.find(b"\xff\xd8\xff")  # first stored JPEG's bytes
    raw[body + 200] ^= 0xFF
    (tmp_path / "a.zip").write_bytes(bytes(raw))
    result = run_bg20k(
        "fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "dest")
    )
    assert result.code == 5 and "CRC" in result.err
    assert not (tmp_path / "dest" / "BG-20k").exists()


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _patched_zip(tmp_path: Path, patch: Callable[[bytearray, int], None]) -> Path:
    """A real zip of the small tree, with its first central-directory entry patched."""
    files = make_tree(tmp_path / "orig", SMALL)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(f"BG-20k/{n}", d)
    raw = bytearray(out.getvalue())
    patch(raw, raw.find(b"PK\x01\x02"))
    (tmp_path / "a.zip").write_bytes(bytes(raw))
    return tmp_path / "a.zip"


def _utf8_flag_on_a_name_that_is_not(raw: bytearray, entry: int) -> None:
    raw[entry + 9] |= 0x08  # general purpose flag bit 11: "the name is UTF-8"
    raw[entry + 46 + 7] = 0xFF  # a byte no UTF-8 text holds, inside the name


def _local_header_before_the_file(raw: bytearray, entry: int) -> None:
    # The end record says the central directory starts 4 KiB later than it does: zipfile takes
    # the difference for data prepended to the archive, and every member's local header then
    # lies before byte 0 (a seek there is EINVAL).
    end = raw.rfind(b"PK\x05\x06")
    start = int.from_bytes(raw[end + 16 : end + 20], "little")
    raw[end + 16 : end + 20] = (start + 4096).to_bytes(4, "little")


@pytest.mark.parametrize(
    "patch",
    [_utf8_flag_on_a_name_that_is_not, _local_header_before_the_file],
    ids=["name-not-utf8", "header-offset-out-of-file"],
)
def test_a_zip_whose_metadata_zipfile_cannot_read_is_damaged_data_not_a_crash(
    tmp_path: Path, small_release: Path, patch: Callable[[bytearray, int], None]
) -> None:
    """zipfile raises UnicodeDecodeError, OSError(EINVAL) and others on such archives, which
    were internal errors (found by fuzzing the archive checks, fuzz/targets.py)."""
    archive = _patched_zip(tmp_path, patch)
    result = run_bg20k("fetch", "--accept", "--from", str(archive), "--dest", str(tmp_path / "d"))
    assert result.code == 5, result.err
    assert "a.zip" in result.err and "internal error" not in result.err
    assert not (tmp_path / "d" / "BG-20k").exists()
    # The library says so in its typed error too, whoever reads the archive (check-paper does).
    from bg20k_fetch.errors import DamagedData
    from bg20k_fetch.transfer.archive import list_members
    from bg20k_fetch.transfer.members import open_members

    with pytest.raises(DamagedData) as caught, open_members(archive, list_members(archive)) as st:
        for _, handle in st:
            handle.read()
    assert caught.value.hint in (
        "Delete it and fetch again.",  # a member that cannot be opened
        "The download may be damaged; fetch it again.",  # metadata that cannot be read
    )
    if patch is _local_header_before_the_file:
        assert caught.value.hint == "Delete it and fetch again."
        assert "cannot be read" in caught.value.message


def test_a_zip_member_without_a_name_is_refused_as_unsafe(
    tmp_path: Path, small_release: Path
) -> None:
    """zipfile's own ZipInfo.is_dir() raised IndexError on it: an internal error (fuzzing)."""

    def nameless(raw: bytearray, entry: int) -> None:
        length = int.from_bytes(raw[entry + 28 : entry + 30], "little")
        raw[entry + 28 : entry + 30] = (0).to_bytes(2, "little")  # the name's length: none
        raw[entry + 32 : entry + 34] = (length).to_bytes(2, "little")  # its bytes: a comment

    archive = _patched_zip(tmp_path, nameless)
    result = run_bg20k("fetch", "--accept", "--from", str(archive), "--dest", str(tmp_path / "d"))
    assert result.code == 6 and "a member without a name" in result.err, result.err
    assert not (tmp_path / "d" / "BG-20k").exists()


def test_a_tar_that_passes_the_check_but_not_the_stream_read_is_damaged_data(
    tmp_path: Path,
) -> None:
    """The check reads a tar at random, extraction front to back; a truncated header showed in
    the second only, as a raw tarfile.ReadError from opening the stream (found by fuzzing; the
    input is the fuzzer's own, kept in its corpus)."""
    from bg20k_fetch.errors import DamagedData
    from bg20k_fetch.transfer.archive import list_members
    from bg20k_fetch.transfer.members import open_members

    corpus = Path(__file__).resolve().parent.parent / "fuzz" / "corpus" / "archive"
    archive = tmp_path / "a.tar"
    archive.write_bytes(
        (corpus / "archive-crash-e23e3fac7dd4cb1e0f87af726a21ea2e2c594fec").read_bytes()
    )
    approved = list_members(archive)
    with (
        pytest.raises(DamagedData, match=r"a\.tar is damaged"),
        open_members(archive, approved) as s,
    ):
        for _, handle in s:
            handle.read()
