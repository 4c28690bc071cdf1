"""Copying a zip out on several threads: every member lands whole and hashed, whichever worker
took it; the first damaged member stops every worker; nothing already there is overwritten."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import zipfile
from pathlib import Path

import pytest

import bg20k_fetch.transfer.extract as extract
from bg20k_fetch.errors import DamagedData, StorageError
from bg20k_fetch.transfer.archive import list_members
from bg20k_fetch.transfer.extract import Item, _runs, copy_members
from tests.data import SMALL, jpeg, make_tree
from tests.helpers import cli


def write_zip(path: Path, files: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", method) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)


def many(n: int) -> dict[str, bytes]:
    return {f"BG-20k/train/h_{i:05d}.jpg": jpeg(i) * (1 + i % 5) for i in range(n)}


def items_for(archive: Path, root: Path) -> list[Item]:
    return [Item(m, m.name, str(root / m.name)) for m in list_members(archive)]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_two_workers_copy_every_member_whole(tmp_path: Path, method: int) -> None:
    files = many(120)
    archive = tmp_path / "a.zip"
    write_zip(archive, files, method)
    threads: set[str] = set()
    counted: list[int] = []

    def advance(size: int) -> None:
        threads.add(threading.current_thread().name)
        counted.append(size)

    copied = copy_members(archive, items_for(archive, tmp_path / "out"), workers=2, advance=advance)
    # Two runs of about equal bytes, in archive order; which pool thread runs each is the
    # pool's choice (on a loaded machine one thread may finish the first run before the
    # second is handed out, and take that too).
    first, second = _runs(items_for(archive, tmp_path / "out"), 2)
    assert first and second and abs(len(first) - len(second)) < len(files) // 4
    assert 1 <= len(threads) <= 2 and all(t.startswith("extract") for t in threads)
    assert [item.rel for item, _ in copied] == list(files)  # archive order, no member twice
    for item, info in copied:
        data = files[item.rel]
        assert (tmp_path / "out" / item.rel).read_bytes() == data
        assert info.sha256 == hashlib.sha256(data).hexdigest() and info.size == len(data)
        assert info.jpeg_ok
    assert sum(counted) == sum(len(d) for d in files.values())


def test_a_damaged_member_stops_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = many(200)
    archive = tmp_path / "a.zip"
    write_zip(archive, files)
    with zipfile.ZipFile(archive) as zf:
        victim = zf.infolist()[0]  # the first worker's first member
    raw = bytearray(archive.read_bytes())
    data_at = victim.header_offset + 30 + len(victim.filename.encode()) + len(victim.extra)
    raw[data_at + 5] ^= 0xFF  # same size, wrong CRC
    archive.write_bytes(bytes(raw))
    items = items_for(archive, tmp_path / "out")
    second_run = extract._runs(items, 2)[1][0].member
    stop = threading.Event()
    real = extract.open_stream

    def second_worker_waits(zf: zipfile.ZipFile, member: object):  # type: ignore[no-untyped-def]
        if member == second_run:
            assert stop.wait(10)  # the second worker starts only once the first has failed
        return real(zf, member)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "open_stream", second_worker_waits)
    with pytest.raises(DamagedData, match=r"h_00000\.jpg"):
        copy_members(archive, items, workers=2, advance=lambda n: None, stop=stop)
    written = sorted(p.name for p in (tmp_path / "out").rglob("*.jpg"))
    # The second worker stopped before its first member, or after the one it had begun:
    # never its whole half.
    assert set(written) <= {"h_00000.jpg", second_run.name.rsplit("/", 1)[1]}


@pytest.mark.parametrize("own_dirs", [False, True])
def test_an_existing_file_is_never_overwritten(tmp_path: Path, own_dirs: bool) -> None:
    files = many(10)
    archive = tmp_path / "a.zip"
    write_zip(archive, files)
    out = tmp_path / "out"
    kept = out / "BG-20k/train/h_00004.jpg"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"someone else's")
    scratch = str(out) if own_dirs else None
    with pytest.raises(StorageError, match=r"Cannot write .*h_00004\.jpg: File exists"):
        copy_members(
            archive, items_for(archive, out), workers=2, advance=lambda n: None, scratch=scratch
        )
    assert kept.read_bytes() == b"someone else's"
    assert not [p for p in out.iterdir() if p.name.startswith(".bg20k")]  # no worker dir left


def test_each_worker_creates_its_files_in_a_directory_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a file holds its directory's lock: workers sharing train/ take turns. Each
    creates in its own directory and links the file into place; none is left behind."""
    files = many(60)
    archive = tmp_path / "a.zip"
    write_zip(archive, files)
    out = tmp_path / "out"
    out.mkdir()
    created: dict[str, set[str]] = {}
    real_open = open

    def spy(path: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        worker = threading.current_thread().name
        if worker.startswith("extract"):  # not the check that links work, made beforehand
            created.setdefault(worker, set()).add(os.path.dirname(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(extract, "open", spy, raising=False)
    copied = copy_members(
        archive, items_for(archive, out), workers=2, advance=lambda n: None, scratch=str(out)
    )
    assert len(copied) == len(files)
    for item, _ in copied:
        assert (out / item.rel).read_bytes() == files[item.rel]
        assert (out / item.rel).stat().st_nlink == 1  # linked into place, then unlinked
    dirs = [d for per_thread in created.values() for d in per_thread]
    assert (
        created
        and len(dirs) == len(created)
        and all(
            os.path.dirname(d) == str(out) and os.path.basename(d).startswith(".bg20k-extract-")
            for d in dirs
        )
    )
    assert len(set(dirs)) == len(dirs)  # never two threads in one directory
    assert sorted(p.name for p in out.iterdir()) == ["BG-20k"]


def test_without_hard_links_the_workers_create_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that refuses links (FAT; AFS between directories): each worker copies its
    first file into place, then creates the rest in place; every file lands whole, nothing of
    the workers' is left."""
    files = many(30)
    archive = tmp_path / "a.zip"
    write_zip(archive, files)
    out = tmp_path / "out"
    out.mkdir()
    tried: list[str] = []

    def no_links(src: str, dst: str) -> None:
        tried.append(threading.current_thread().name)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(extract.os, "link", no_links)
    copied = copy_members(
        archive, items_for(archive, out), workers=2, advance=lambda n: None, scratch=str(out)
    )
    assert len(copied) == len(files)
    assert all((out / item.rel).read_bytes() == files[item.rel] for item, _ in copied)
    assert sorted(p.name for p in out.iterdir()) == ["BG-20k"]
    assert 1 <= len(tried) <= 2  # one try for each of the two runs, then in place


def test_runs_are_contiguous_and_balanced_by_bytes() -> None:
    from bg20k_fetch.transfer.archive import Member

    items = [
        Item(Member(f"m{i}", size, f"m{i}"), f"m{i}", None)
        for i, size in enumerate([100, 1, 1, 1, 100, 1, 1, 100])
    ]
    runs = extract._runs(items, 2)
    assert [i.rel for r in runs for i in r] == [i.rel for i in items]
    sizes = [sum(i.member.size for i in r) for r in runs]
    assert len(runs) == 2 and max(sizes) <= 2 * min(sizes)


def test_a_fetch_on_two_workers_with_a_path_given_twice(
    tmp_path: Path, small_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole fetch on the threaded path (forced for a small archive): identical second
    copies of a path are fine, a different one is refused and nothing is installed."""
    monkeypatch.setattr(extract, "BIG_ENOUGH", 0)
    files = make_tree(tmp_path / "orig", SMALL)
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for rel, data in files.items():
            zf.writestr("BG-20k/" + rel, data)
        zf.writestr("copy/BG-20k/train/h_00000000.jpg", files["train/h_00000000.jpg"])
    result = cli("fetch", "--accept", "--from", str(archive), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    for rel, data in files.items():
        assert (tmp_path / "d" / "BG-20k" / rel).read_bytes() == data
    manifest = (tmp_path / "d" / "BG-20k" / "MANIFEST.sha256").read_text().splitlines()
    assert len(manifest) == len(files)  # the second copy is not a second file

    clash = tmp_path / "clash.zip"
    with zipfile.ZipFile(clash, "w") as zf:
        for rel, data in files.items():
            zf.writestr("BG-20k/" + rel, data)
        zf.writestr("copy/BG-20k/train/h_00000000.jpg", jpeg(999))
    result = cli("fetch", "--accept", "--from", str(clash), "--dest", str(tmp_path / "e"))
    assert result.code == 5, result.err
    assert "train/h_00000000.jpg" in result.err
    assert not (tmp_path / "e" / "BG-20k").exists()


def test_a_worker_directory_already_there_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    """A worker removes only the directory it made and the one member it was writing: one of
    the same name already there (not bg20k's to prove) stops the copy and is kept whole."""
    from bg20k_fetch.transfer.workerdir import WorkerDir

    theirs = tmp_path / f".bg20k-extract-{threading.get_ident()}"
    theirs.mkdir()
    (theirs / "member").write_bytes(b"not bg20k's")
    with pytest.raises(StorageError, match=r"Cannot write .*File exists"), WorkerDir(str(tmp_path)):
        pass  # never reached
    assert (theirs / "member").read_bytes() == b"not bg20k's"
