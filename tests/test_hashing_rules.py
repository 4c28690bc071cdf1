"""Hashing and the JPEG marker check in-process (``hashing.py``): one pass over the bytes,
however the stream hands them over, and every read failure named."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bg20k_fetch.errors import DamagedData, IntegrityError
from bg20k_fetch.transfer.hashing import HashingBehind, consume, hash_file, jpeg_markers_ok
from tests.data import jpeg


class Trickle(io.RawIOBase):
    """Hands over ``step`` bytes per read, as a slow pipe or a zip member may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block, self.data = self.data[: self.step], self.data[self.step :]
        return block


class Failing(io.RawIOBase):
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise self.exc


@pytest.mark.parametrize("step", [1, 2, 5, 1 << 20])
def test_one_pass_hashes_copies_and_checks_markers_whatever_the_block_size(step: int) -> None:
    data = jpeg(7)
    out = io.BytesIO()
    info = consume(Trickle(data, step), out)  # type: ignore[arg-type]
    assert (info.sha256, info.size, info.jpeg_ok) == (
        hashlib.sha256(data).hexdigest(),
        len(data),
        True,
    )
    assert out.getvalue() == data


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (b"\xff\xd8\xff\xd9", True),  # the least a JPEG can be
        (
            b"\xff\xd8\xff\xe0 body \xff\xd9" + b"\x00\r\n\t " * 12 + b"\x00\x00",
            True,
        ),  # 62 padding bytes
        (b"\xff\xd8\xff\xe0 body \xff\xd9" + b"\x00" * 63, False),  # the end marker out of sight
        (b"\xff\xd8\xff\xe0 body \xff\xd9 trailing", False),
        (b"\xff\xd8\xff\xe0 body \xff\xd9XX", False),  # only blank padding is allowed
        (b"\xff\xd8\xff\xe0 truncated", False),
        (b"\xff\xd8\xfe body \xff\xd9", False),
        (b"\x00\xff\xd8\xff body \xff\xd9", False),
        (b"\xff\xd8", False),
        (b"", False),
    ],
    ids=[
        "minimal",
        "padded",
        "padded-too-far",
        "trailing",
        "trailing-x",
        "no-end",
        "bad-start",
        "shifted",
        "short",
        "empty",
    ],
)
def test_what_counts_as_a_whole_jpeg(data: bytes, ok: bool) -> None:
    assert consume(Trickle(data, 3), None).jpeg_ok is ok  # type: ignore[arg-type]
    assert jpeg_markers_ok(data[:3], data[-64:]) is ok


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError(errno.EIO, os.strerror(errno.EIO)), "Input/output error"),
        (zlib.error("invalid stored block lengths"), "invalid stored block lengths"),
        (EOFError(), "EOFError"),
    ],
)
def test_a_stream_that_fails_is_damaged_data_named_by_its_origin(
    exc: BaseException, reason: str
) -> None:
    with pytest.raises(DamagedData) as caught:
        consume(Failing(exc), None, "train/a.jpg")  # type: ignore[arg-type]
    assert caught.value.message == f"Cannot read train/a.jpg: {reason}."
    assert caught.value.hint == "The copy is damaged or unreadable; use another source."
    with pytest.raises(DamagedData, match=r"^Cannot read a file: "):
        consume(Failing(exc), None)  # type: ignore[arg-type]


def test_a_file_that_cannot_be_read_is_refused_in_words(tmp_path: Path) -> None:
    missing = tmp_path / "gone.jpg"
    with pytest.raises(IntegrityError) as caught:
        hash_file(missing)
    assert caught.value.message == f"Cannot read {missing}: No such file or directory."
    assert caught.value.hint == "Check its permissions, or fetch the dataset again."
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(IntegrityError) as caught:
        hash_file(fifo)
    assert caught.value.message == f"{fifo} is not a regular file; refused."


def test_hashing_behind_hands_over_its_result_or_its_error(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(3))
    assert HashingBehind(path).result() == hash_file(path)
    with pytest.raises(IntegrityError, match="No such file"):
        HashingBehind(tmp_path / "gone.jpg").result()


def test_a_file_that_fails_while_being_read_is_named_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    import bg20k_fetch.transfer.hashing as hashing

    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(1))

    @contextlib.contextmanager
    def failing_disk(p: Path) -> Iterator[io.RawIOBase]:
        yield Failing(OSError(errno.EIO, os.strerror(errno.EIO)))  # a bad sector, mid-file

    monkeypatch.setattr(hashing, "open_regular", failing_disk)
    with pytest.raises(DamagedData) as caught:
        hash_file(path)
    assert caught.value.message == f"Cannot read {path}: Input/output error."
