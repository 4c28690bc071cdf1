"""Adopting a ``--from`` that is the destination's own tree (fetching/adopt.py), rule by rule.

A copy of the user's adopted in place is never bg20k's: adoption adds receipts beside the images
and changes nothing else, and every refusal leaves the tree exactly as it was and says, in
exact words, why and what to do instead. In-process CLI calls, real files on disk.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.dataset.manifest import dataset_digest
from bg20k_fetch.dataset.provenance import read_provenance
from bg20k_fetch.errors import StorageError
from tests.data import SMALL, make_tree
from tests.helpers import Result, cli


def fetch(*args: str) -> Result:
    return cli("fetch", "--accept", *args)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes (links read through), but for the destination lock."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".bg20k-fetch.lock")
    }


def error_line(result: Result) -> str:
    return result.err.splitlines()[-1]


@pytest.fixture
def copy(tmp_path: Path, small_release: Path) -> Path:
    """The user's own complete copy, lying where the destination's tree goes."""
    root = tmp_path / "t" / "BG-20k"
    make_tree(root, SMALL)
    return root


# -- refusals: what the fetch would have had to do to its own source ----------------------------


def test_part_of_a_foreign_tree_is_refused_as_a_replacement(copy: Path) -> None:
    """A tree bg20k did not make would be replaced; the user is told so, and where to point."""
    before = snapshot(copy.parent)
    result = fetch("--from", str(copy / "train"), "--dest", str(copy.parent))
    assert result.code == 2, result.err
    assert error_line(result) == (
        f"bg20k: error: {copy / 'train'} lies inside {copy}, which this fetch would replace; "
        "a source is never moved or deleted, so the fetch is refused. "
        "Give a copy that lies outside the destination, or another --dest."
    )
    assert snapshot(copy.parent) == before


def test_a_tree_already_adopted_is_not_adopted_again_by_force(copy: Path) -> None:
    """--force on bg20k's own tree means a rebuild, which would consume its own source: refused,
    and the message says rebuild (not replace), since the tree is provably bg20k's."""
    assert fetch("--from", str(copy), "--dest", str(copy.parent)).code == 0
    before = snapshot(copy.parent)
    result = fetch("--from", str(copy), "--dest", str(copy.parent), "--force")
    assert result.code == 2, result.err
    assert error_line(result) == (
        f"bg20k: error: {copy} lies inside {copy}, which this fetch would rebuild; "
        "a source is never moved or deleted, so the fetch is refused. "
        "Give a copy that lies outside the destination, or another --dest."
    )
    assert snapshot(copy.parent) == before


# -- what stands in the way of adoption ---------------------------------------------------------


def test_files_in_a_split_folder_that_are_not_images_block_adoption(copy: Path) -> None:
    """Each would count as an added file: adoption is refused, the first three are named (so
    the user knows what to move), and nothing is changed. Every one is found, not only the
    first of a folder, and regular files count as much as odd ones."""
    for name in ("a.txt", "b.png", "c.jpg.bak", "d.txt"):
        (copy / "train" / name).write_text("mine")
    before = snapshot(copy.parent)
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 2, result.err
    assert error_line(result) == (
        f"bg20k: error: {copy} cannot be adopted in place: its split folders hold files that "
        "are not images (train/a.txt, train/b.png, train/c.jpg.bak); nothing was changed. "
        "Move those files out of the split folders, or fetch into another --dest."
    )
    assert snapshot(copy.parent) == before


def test_a_linked_image_blocks_adoption(copy: Path, tmp_path: Path) -> None:
    """An image that is a link is not a file of this tree: recording it would claim bytes that
    live elsewhere, so adoption is refused and the link is left as it was."""
    elsewhere = tmp_path / "elsewhere.jpg"
    linked = copy / "train" / "h_00000000.jpg"
    elsewhere.write_bytes(linked.read_bytes())
    linked.unlink()
    linked.symlink_to(elsewhere)
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 2, result.err
    assert "not images (train/h_00000000.jpg); nothing was changed." in error_line(result)
    assert linked.is_symlink() and linked.readlink() == elsewhere
    assert not (copy / "PROVENANCE.yaml").exists() and not (copy / ".bg20k-tree").exists()


def test_the_users_files_named_like_bg20k_receipts_block_adoption(copy: Path) -> None:
    """bg20k would overwrite them: adoption is refused, all are named, none is touched."""
    (copy / "README.md").write_text("my own readme")
    (copy / "CITATION.bib").write_text("@misc{mine}")
    before = snapshot(copy.parent)
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 2, result.err
    assert error_line(result) == (
        f"bg20k: error: {copy} cannot be adopted in place: it already holds CITATION.bib, "
        "README.md, which bg20k would write; nothing was changed. Fetch into another --dest."
    )
    assert snapshot(copy.parent) == before


# -- what adoption records and reports ----------------------------------------------------------


def test_adoption_reports_its_progress_and_result_as_json(copy: Path) -> None:
    """Scripts read these events: the hashing phase counts files one by one, and the done event
    carries the digest of the user's own images, their number and completeness."""
    images = {
        p.relative_to(copy).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in copy.rglob("*.jpg")
    }
    result = fetch("--json", "--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    hashing = [e for e in events if e["event"] in ("phase", "progress")]
    name = "hash BG-20k in place"
    assert hashing[0] == {"event": "phase", "name": name, "total": None, "unit": "files"}
    assert hashing[1] == {
        "event": "progress",
        "name": name,
        "done": 1,  # the first file (the next events are at most one a second)
        "total": None,
        "unit": "files",
        "bytes": 0,
    }
    assert events[-1] == {
        "event": "done",
        "path": str(copy),
        "digest": dataset_digest(images),
        "files": 9,
        "complete": True,
    }


def test_an_incomplete_copy_is_named_as_the_adopted_one(
    tmp_path: Path, small_release: Path
) -> None:
    """The integrity error names the copy and says it was to be adopted in place, so the user
    knows which tree fell short (not a download)."""
    root = tmp_path / "t" / "BG-20k"
    make_tree(root, {"train": 5, "testval": 3})
    before = snapshot(root)
    result = fetch("--from", str(root), "--dest", str(root.parent))
    assert result.code == 5, result.err
    assert error_line(result).startswith(
        f"bg20k: error: {root} (adopted in place) does not give a complete BG-20k: "
        "train: 5/6, testval: 3/3;"
    )
    assert snapshot(root) == before


def test_the_copys_own_split_lists_are_checked_and_kept_as_they_are(copy: Path) -> None:
    """The release's files that came with the copy are the user's: its split list is what the
    images are checked against, and it is recorded as the release's, byte for byte, never
    rewritten. Only the list the copy lacks is written, from its images."""
    names = sorted(p.name for p in (copy / "train").iterdir())
    users_list = "".join(f"{n}\r\n" for n in reversed(names)).encode()  # not as bg20k writes
    (copy / "train.txt").write_bytes(users_list)
    (copy / "readme.txt").write_text("the authors' notes")
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 0, result.err
    assert (copy / "train.txt").read_bytes() == users_list
    provenance = read_provenance(copy)
    assert provenance.checked_against == "split lists"
    origins = {n: (f.origin, f.sha256) for n, f in provenance.release_files.items()}
    assert origins["train.txt"] == ("release", hashlib.sha256(users_list).hexdigest())
    assert origins["readme.txt"][0] == "release"
    assert origins["testval.txt"][0] == "bg20k"


def test_a_copy_its_own_split_list_disagrees_with_is_not_adopted(copy: Path) -> None:
    """The copy's train.txt names an image it does not hold: the copy is short by its own
    inventory, even though it has as many images as the release counts."""
    names = sorted(p.name for p in (copy / "train").iterdir())
    (copy / "train.txt").write_text("".join(f"{n}\n" for n in [*names, "h_lost.jpg"]))
    before = snapshot(copy)
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 5, result.err
    assert "does not give a complete BG-20k: train: 6/7" in error_line(result)
    assert snapshot(copy) == before


def test_a_partial_copy_without_one_split_folder_keeps_the_other(
    tmp_path: Path, small_release: Path
) -> None:
    """With --allow-partial, a copy lacking testval/ is adopted with every train/ image: a
    missing split folder does not end the scan of the others."""
    root = tmp_path / "t" / "BG-20k"
    files = make_tree(root, {"train": 6})
    result = fetch("--allow-partial", "--from", str(root), "--dest", str(root.parent))
    assert result.code == 0, result.err
    provenance = read_provenance(root)
    assert (provenance.file_count, provenance.complete) == (6, False)
    assert set(provenance.sizes) == set(files)


def test_a_consent_record_that_cannot_note_the_copy_does_not_fail_the_adoption(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receipts are written; a full disk under the consent store (simulated: root cannot
    fill a tmpfs on demand) only costs the note of where the data is, and the user is told."""
    from bg20k_fetch.util.fs import atomic_write as real_write

    def full_disk(path: Path, data: bytes, **kwargs: Any) -> None:
        if str(copy).encode() in data:  # the record noting where the dataset went
            raise StorageError(f"Cannot write in {path.parent}: No space left on device.")
        real_write(path, data, **kwargs)

    monkeypatch.setattr("bg20k_fetch.consent.store.atomic_write", full_disk)
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 0, result.err
    assert "The dataset is installed, but the consent record could not note where: " in result.err
    assert "No space left on device" in result.err
    assert read_provenance(copy).adopted


@pytest.mark.parametrize("kind", ["link", "folder"])
def test_a_split_list_that_is_a_link_or_a_folder_is_never_written_over(
    copy: Path, kind: str
) -> None:
    """bg20k writes the split lists an adopted copy lacks; where the user has a link (or a
    folder) by that name, adoption is refused before anything is written: the link is the
    user's, and a write that failed halfway would leave a file of ours in their tree."""
    mine = copy.parent / "mine_train.txt"
    mine.write_text("h_00000000.jpg\n")
    if kind == "link":
        (copy / "train.txt").symlink_to(mine)
    else:
        (copy / "testval.txt").mkdir()
    before = snapshot(copy.parent)
    entries_before = sorted(p.name for p in copy.iterdir())
    result = fetch("--from", str(copy), "--dest", str(copy.parent))
    assert result.code == 2, result.err
    which = "train.txt" if kind == "link" else "testval.txt"
    assert f"it already holds {which}, which bg20k would write; nothing was changed" in result.err
    assert snapshot(copy.parent) == before
    assert sorted(p.name for p in copy.iterdir()) == entries_before
    if kind == "link":
        assert (copy / "train.txt").is_symlink()
