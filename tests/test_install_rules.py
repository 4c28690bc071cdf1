"""Installing a finished tree over a previous one (fetching/install.py), rule by rule, on real
trees: what of the old tree is provably bg20k's (and goes), what is the user's (and is kept,
into the new tree or beside it), and the exact words a failed install leaves the user with.

In-process (``main(argv, ui)``), real zips and real files; os.rename, lstat or a read fail only
where root cannot make them fail for real.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bg20k_fetch.dataset.provenance import read_provenance
from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.fetching import install
from bg20k_fetch.transfer.hashing import FileInfo
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.helpers import Result, cli

README = b"The authors' notes on BG-20k.\n"


def fetch(*args: str) -> Result:
    return cli("fetch", "--accept", *args)


def copy_of(tmp_path: Path, name: str, start: int, readme: bytes = README) -> Path:
    """A zip of a complete small BG-20k with the release's readme.txt; ``start`` picks the
    images, so two copies with different starts share no image bytes."""
    files = make_tree(tmp_path / f"orig-{name}", SMALL, start=start)
    files["readme.txt"] = readme
    path = tmp_path / f"{name}.zip"
    path.write_bytes(zip_bytes(files))
    return path


@pytest.fixture
def copy_a(tmp_path: Path, small_release: Path) -> Path:
    return copy_of(tmp_path, "a", 0)


@pytest.fixture
def built(tmp_path: Path, copy_a: Path) -> Path:
    """A destination holding a verified tree bg20k made from copy A."""
    dest = tmp_path / "d"
    result = fetch("--from", str(copy_a), "--dest", str(dest))
    assert result.code == 0, result.err
    return dest


def rebuild(dest: Path, source: Path) -> Result:
    return fetch("--from", str(source), "--dest", str(dest), "--force")


def kept_dirs(dest: Path) -> list[Path]:
    return sorted(dest.glob("BG-20k.kept-*"))


def made_at(dest: Path) -> float:
    """When the tree's receipts say bg20k wrote it (whole seconds)."""
    return read_provenance(dest / "BG-20k").created_at.timestamp()


def stamp(path: Path, when: float) -> None:
    ns = round(when * 1e9)
    os.utime(path, ns=(ns, ns))


def in_old_tree(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies inside the tree an install moved aside (``.BG-20k.old-…``)."""
    return any(part.startswith(".BG-20k.old-") for part in Path(path).parent.parts)


def failing_rename(
    monkeypatch: pytest.MonkeyPatch, fails: Callable[[Path], OSError | None]
) -> None:
    real_rename = os.rename

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        error = fails(Path(src))
        if error is not None:
            raise error
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)


# -- what is provably bg20k's goes ---------------------------------------------------------------


def test_a_rebuild_from_another_copy_leaves_nothing_of_bg20ks_old_tree(
    built: Path, tmp_path: Path
) -> None:
    """Every old image and release file is listed in the old receipts with its size and is
    untouched: bg20k's, so it goes; keeping them would litter a kept folder with stale data."""
    old_images = sorted(p.name for p in (built / "BG-20k" / "train").iterdir())
    second = b"The authors' notes, second edition.\n"
    result = rebuild(built, copy_of(tmp_path, "b", 100, readme=second))
    assert result.code == 0, result.err
    assert kept_dirs(built) == []
    assert "Kept " not in result.err and "Moved " not in result.err
    train = built / "BG-20k" / "train"
    assert not set(old_images) & {p.name for p in train.iterdir()}
    assert (built / "BG-20k" / "readme.txt").read_bytes() == second
    assert cli("verify", "--dest", str(built), "--deep").code == 0


def test_an_optional_split_bg20k_fetched_is_bg20ks_on_a_rebuild(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optional split's own manifest proves its files bg20k's, and does not stop the main
    manifest from proving the images: a rebuild keeps none of either as the user's."""
    from tests.s3server import with_denoise

    with_denoise(tmp_path, built, monkeypatch)
    assert (built / "BG-20k" / "MANIFEST.train_denoise.sha256").is_file()
    # Fetched within the dataset's own second (a split fetched later: the test below).
    for image in (built / "BG-20k" / "train_denoise").iterdir():
        stamp(image, made_at(built))
    result = rebuild(built, copy_of(tmp_path, "b", 100))
    assert result.code == 0, result.err
    assert kept_dirs(built) == []
    assert "Kept " not in result.err and "Moved " not in result.err
    assert not (built / "BG-20k" / "train_denoise").exists()


def test_an_optional_split_fetched_later_is_still_bg20ks_on_a_rebuild(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--with train_denoise` a minute (or a month) after the dataset: its files are as much
    bg20k's, and a rebuild should not move them aside as files bg20k did not make."""
    import yaml

    from tests.s3server import with_denoise

    with_denoise(tmp_path, built, monkeypatch)
    # As if `--with` ran a minute after the dataset: its receipt and its files say so.
    receipt = built / "BG-20k" / "PROVENANCE.yaml"
    data = yaml.safe_load(receipt.read_text())
    later = made_at(built) + 60
    data["components"]["train_denoise"]["created_at"] = datetime.fromtimestamp(later, UTC)
    receipt.write_text(yaml.safe_dump(data, sort_keys=False))
    for image in (built / "BG-20k" / "train_denoise").iterdir():
        stamp(image, later)
    result = rebuild(built, copy_of(tmp_path, "b", 100))
    assert result.code == 0, result.err
    assert kept_dirs(built) == []


def test_files_stamped_within_the_receipts_second_are_bg20ks(built: Path, tmp_path: Path) -> None:
    """PROVENANCE.yaml records whole seconds and the images are written just before it, so a
    file stamped up to one second after the record (inclusive) is still bg20k's own."""
    at = made_at(built)
    train = sorted((built / "BG-20k" / "train").iterdir())
    stamp(train[0], at)
    stamp(train[1], at + 1)
    result = rebuild(built, copy_of(tmp_path, "b", 100))
    assert result.code == 0, result.err
    assert kept_dirs(built) == []


def test_a_same_size_edit_made_later_is_kept(built: Path, copy_a: Path) -> None:
    """A file changed after bg20k wrote it may hold the user's work even at the recorded size:
    it is kept beside the tree, and the user is told where."""
    image = built / "BG-20k" / "train" / "h_00000000.jpg"
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))
    stamp(image, made_at(built) + 1.5)
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    (kept,) = kept_dirs(built)
    assert (kept / "train" / "h_00000000.jpg").read_bytes() == bytes(data)
    note = (
        f"Moved 1 file(s) bg20k did not make out of the split folders to {kept}: "
        "train/h_00000000.jpg."
    )
    assert note in result.err.splitlines()


# -- what cannot be examined or compared is kept -------------------------------------------------


def test_an_entry_that_cannot_be_examined_is_kept(
    built: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose status cannot be read (an I/O error) is not provably bg20k's: kept."""
    (built / "BG-20k" / "notes.txt").write_text("my notes")
    real_lstat = Path.lstat

    def lstat(self: Path) -> os.stat_result:
        if self.name == "notes.txt" and in_old_tree(self):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))
        return real_lstat(self)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "lstat", lstat)
        result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    assert (built / "BG-20k" / "notes.txt").read_text() == "my notes"


def test_a_file_that_cannot_be_read_to_compare_is_kept(
    built: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited image that cannot be read back (a bad sector) cannot be shown to equal the
    new tree's: it is kept beside, never taken for a duplicate and deleted."""
    image = built / "BG-20k" / "train" / "h_00000001.jpg"
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))
    stamp(image, made_at(built) + 5)
    real_hash = install.hash_file

    def hash_file(path: Path) -> FileInfo:
        if in_old_tree(path):
            raise IntegrityError(f"Cannot read {path}: Input/output error.")
        return real_hash(path)

    monkeypatch.setattr(install, "hash_file", hash_file)
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    (kept,) = kept_dirs(built)
    assert (kept / "train" / "h_00000001.jpg").read_bytes() == bytes(data)


def test_a_link_in_place_of_an_image_is_kept_even_when_it_leads_to_the_same_bytes(
    built: Path, copy_a: Path, tmp_path: Path
) -> None:
    """A link the user put in the tree is theirs, wherever it leads: it is moved beside the
    tree as a link, not deleted because the bytes behind it match the new image."""
    image = built / "BG-20k" / "train" / "h_00000002.jpg"
    mine = tmp_path / "mine" / "h_00000002.jpg"
    mine.parent.mkdir()
    mine.write_bytes(image.read_bytes())
    image.unlink()
    image.symlink_to(mine)
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    (kept,) = kept_dirs(built)
    link = kept / "train" / "h_00000002.jpg"
    assert link.is_symlink() and link.readlink() == mine
    assert mine.read_bytes() == jpeg(2)


def test_a_link_to_a_users_folder_moves_into_the_new_tree(
    built: Path, copy_a: Path, tmp_path: Path
) -> None:
    """A link to a folder is one of the user's entries (never walked into): it moves into the
    new tree at the same place, and what it leads to is untouched."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "work.txt").write_text("mine")
    (built / "BG-20k" / "mylink").symlink_to(elsewhere, target_is_directory=True)
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    link = built / "BG-20k" / "mylink"
    assert link.is_symlink() and link.readlink() == elsewhere
    assert (elsewhere / "work.txt").read_text() == "mine"
    root = built / "BG-20k"
    assert f"Kept 1 file(s) bg20k did not make in {root}: mylink." in result.err.splitlines()


# -- where the user's files go -------------------------------------------------------------------


def test_a_users_folder_inside_a_split_moves_beside_the_tree(built: Path, copy_a: Path) -> None:
    """Anything under a split folder, however deep, would break verification there: it goes
    beside the tree, never into the new split."""
    sub = built / "BG-20k" / "train" / "sub"
    sub.mkdir()
    (sub / "mine.jpg").write_bytes(jpeg(700))
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    (kept,) = kept_dirs(built)
    assert (kept / "train" / "sub" / "mine.jpg").read_bytes() == jpeg(700)
    assert not (built / "BG-20k" / "train" / "sub").exists()
    assert cli("verify", "--dest", str(built), "--deep").code == 0


def test_a_users_edit_of_a_release_file_never_replaces_the_new_one(
    built: Path, copy_a: Path
) -> None:
    """The new tree's own file wins its place; the user's edited copy is kept beside it."""
    readme = built / "BG-20k" / "readme.txt"
    readme.write_bytes(README + b"my notes\n")
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    assert readme.read_bytes() == README
    (kept,) = kept_dirs(built)
    assert (kept / "readme.txt").read_bytes() == README + b"my notes\n"
    assert cli("verify", "--dest", str(built), "--deep").code == 0


@pytest.mark.parametrize(
    ("count", "listed"),
    [
        (2, "n1.txt, n2.txt."),
        (5, "n1.txt, n2.txt, n3.txt, n4.txt, n5.txt."),
        (6, "n1.txt, n2.txt, n3.txt, n4.txt, n5.txt and 1 more."),
        (7, "n1.txt, n2.txt, n3.txt, n4.txt, n5.txt and 2 more."),
    ],
)
def test_the_note_names_five_kept_files_and_counts_the_rest(
    built: Path, copy_a: Path, count: int, listed: str
) -> None:
    """The user reads where their files went: the first five by name, then how many more."""
    root = built / "BG-20k"
    for n in range(1, count + 1):
        (root / f"n{n}.txt").write_text(f"note {n}")
    result = rebuild(built, copy_a)
    assert result.code == 0, result.err
    assert f"Kept {count} file(s) bg20k did not make in {root}: {listed}" in result.err.splitlines()
    assert [(root / f"n{n}.txt").read_text() for n in range(1, count + 1)] == [
        f"note {n}" for n in range(1, count + 1)
    ]


# -- a failed install says what happened and what to do ------------------------------------------


def test_a_failed_swap_says_the_previous_dataset_is_unchanged(
    built: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line a script can act on: what failed, that nothing is lost, and what to check."""
    nospace = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with monkeypatch.context() as patch:
        failing_rename(
            patch, lambda src: nospace if src.name.startswith(".BG-20k.staging-") else None
        )
        result = rebuild(built, copy_a)
    root = built / "BG-20k"
    assert result.code == 7
    assert result.err.splitlines()[-1] == (
        f"bg20k: error: Cannot move the finished dataset to {root}: No space left on device; "
        "the previous one is unchanged. Check permissions and free space at the destination."
    )


def test_a_failed_first_install_says_nothing_was_replaced(
    tmp_path: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no previous dataset there is nothing to be unchanged: the user is told nothing was
    replaced, not promised a previous copy that never existed."""
    nospace = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    dest = tmp_path / "d"
    with monkeypatch.context() as patch:
        failing_rename(
            patch, lambda src: nospace if src.name.startswith(".BG-20k.staging-") else None
        )
        result = fetch("--from", str(copy_a), "--dest", str(dest))
    root = dest / "BG-20k"
    assert result.code == 7
    assert result.err.splitlines()[-1] == (
        f"bg20k: error: Cannot move the finished dataset to {root}: No space left on device; "
        "nothing was replaced. Check permissions and free space at the destination."
    )
    assert not root.exists()


def test_a_swap_that_cannot_be_undone_says_where_the_previous_dataset_waits(
    built: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If even putting the old tree back fails, the user must learn where it is, whole, and
    the two ways to get it back."""
    root = built / "BG-20k"
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def fails(src: Path) -> OSError | None:
        if src.name.startswith(".BG-20k.staging-"):
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if src.name.startswith(".BG-20k.old-"):
            return OSError(errno.EACCES, os.strerror(errno.EACCES))
        return None

    with monkeypatch.context() as patch:
        failing_rename(patch, fails)
        result = rebuild(built, copy_a)
    (old,) = built.glob(".BG-20k.old-*")
    assert result.code == 7
    assert result.err.splitlines()[-1] == (
        f"bg20k: error: Cannot move the finished dataset to {root} (No space left on device), "
        f"nor put the previous one back (Permission denied): it is intact at {old}. Run the same "
        f"command again once the destination is writable, or move {old} back to {root} yourself."
    )
    assert {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()} == before


def test_a_users_file_that_cannot_be_moved_out_stops_with_the_old_tree_kept(
    built: Path, copy_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing of the old tree is deleted when one of the user's files cannot be moved out: the
    error names the file, where it was going, and where the old tree now is."""
    root = built / "BG-20k"
    (root / "notes.txt").write_text("my notes")
    denied = OSError(errno.EACCES, os.strerror(errno.EACCES))
    with monkeypatch.context() as patch:
        failing_rename(patch, lambda src: denied if in_old_tree(src) else None)
        result = rebuild(built, copy_a)
    (old,) = built.glob(".BG-20k.old-*")
    assert result.code == 7
    assert result.err.splitlines()[-1] == (
        f"bg20k: error: Cannot move {old / 'notes.txt'} (a file bg20k did not make) to "
        f"{root / 'notes.txt'}: Permission denied; the replaced tree is kept at {old}. "
        "Move your files out of it by hand, then delete it."
    )
    assert (old / "notes.txt").read_text() == "my notes"
    assert (old / "train" / "h_00000000.jpg").read_bytes() == jpeg(0)


def test_a_replaced_tree_that_cannot_be_removed_is_finished_by_the_next_fetch(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new dataset is in place; failing to delete the old one (a busy mount, an NFS
    silly-rename) was an internal error that hid where the user's files went. Now it is a note,
    and the next fetch into the destination removes what is provably bg20k's."""
    import shutil

    import bg20k_fetch.fetching.install as install

    (built / "BG-20k" / "train" / "notes.txt").write_text("mine")
    real_rmtree = shutil.rmtree

    def busy(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)).name.startswith(".BG-20k.old-"):  # only the replaced tree
            raise OSError(16, "Device or resource busy")
        real_rmtree(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(install.shutil, "rmtree", busy)
    result = rebuild(built, copy_of(tmp_path, "b", 100))
    assert result.code == 0, result.err
    assert "could not be removed (Device or resource busy)" in result.err
    assert "Moved 1 file(s) bg20k did not make" in result.err  # and where they went, still
    [kept] = kept_dirs(built)
    assert (kept / "train" / "notes.txt").read_text() == "mine"
    [left] = built.glob(".BG-20k.old-*")
    monkeypatch.setattr(install.shutil, "rmtree", real_rmtree)
    dead = left.with_name(".BG-20k.old-999999999@" + left.name.split("@", 1)[1])
    left.rename(dead)  # as if the process that left it were gone (this one is alive)
    again = fetch("--from", str(copy_of(tmp_path, "b2", 100)), "--dest", str(built))
    assert again.code == 0, again.err
    assert not dead.exists() and "the dataset an interrupted install replaced" in again.err
