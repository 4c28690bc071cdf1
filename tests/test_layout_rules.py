"""The layout check in-process (``layout.check_layout``): counts, split lists, damaged and
unexpected files, and what the dataset digest covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bg20k_fetch.dataset.layout import check_layout, main_hashes, parse_split_list, read_split_lists
from bg20k_fetch.errors import DamagedData
from bg20k_fetch.release import Release, load_release
from bg20k_fetch.transfer.hashing import FileInfo

GOOD, BAD = FileInfo("a" * 64, 10, True), FileInfo("b" * 64, 10, False)


@pytest.fixture
def release(small_release: Path) -> Release:
    return load_release()  # 6 train, 3 testval; train_denoise optional


def _tree(train: int, testval: int, **extra: FileInfo) -> dict[str, FileInfo]:
    files = {f"train/t{i}.jpg": GOOD for i in range(train)}
    files |= {f"testval/v{i}.jpg": GOOD for i in range(testval)}
    return files | {k.replace("__", "/"): v for k, v in extra.items()}


def test_the_counts_decide_without_split_lists(release: Release) -> None:
    ok = check_layout(_tree(6, 3), release)
    assert ok.complete and ok.checked_against == "counts"
    assert (ok.counts, ok.expected) == ({"train": 6, "testval": 3}, {"train": 6, "testval": 3})
    short = check_layout(_tree(5, 4), release)
    assert not short.complete
    assert (short.missing, short.surplus) == ({"train": 1}, {"testval": 1})
    assert check_layout(_tree(6, 0), release).missing == {"testval": 3}  # none at all


def test_damaged_and_unexpected_files_are_named_and_an_optional_split_is_neither(
    release: Release,
) -> None:
    files = _tree(6, 3, train__z_bad=BAD, notes__readme=GOOD, train_denoise__t0=GOOD)
    files["train/a_bad"] = BAD
    report = check_layout(files, release, not_jpeg=["train/p.png", "testval/a.png"])
    assert report.damaged == ["train/a_bad", "train/z_bad"]  # sorted, as problems.txt lists them
    assert report.unexpected == ["notes/readme"]  # train_denoise is a known optional split
    assert report.not_jpeg == ["testval/a.png", "train/p.png"]
    assert report.surplus == {"train": 2} and not report.complete
    only_optional = check_layout(_tree(6, 3, train_denoise__t0=GOOD), release)
    assert only_optional.complete


def test_split_lists_decide_when_they_came_with_the_data(release: Release) -> None:
    lists = {"train": ["t0.jpg", "t1.jpg", "t9.jpg"], "testval": ["v0.jpg", "v0.jpg"]}
    report = check_layout(_tree(2, 2, testval__sub__v9=GOOD), release, lists=lists)
    assert report.checked_against == "split lists"
    assert report.expected == {"train": 3, "testval": 1}  # a name listed twice counts once
    assert report.listed_missing == ["train/t9.jpg"]
    assert report.unlisted == ["testval/sub/v9", "testval/v1.jpg"]
    assert (report.missing, report.surplus) == ({"train": 1}, {"testval": 2})
    exact = check_layout(_tree(2, 3), release, lists={"train": ["t0.jpg", "t1.jpg"]})
    assert exact.missing == {} and exact.surplus == {}
    assert exact.expected == {"train": 2, "testval": 3}  # testval still by its count
    assert exact.complete


def test_a_split_list_is_bare_names_one_a_line() -> None:
    assert parse_split_list("a.jpg\r\n\n  b.jpg  \n\t\nc.jpg") == ["a.jpg", "b.jpg", "c.jpg"]


def test_split_lists_are_read_only_when_present(release: Release, tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_bytes(b"t0.jpg\nt\xff1.jpg\n")
    got = read_split_lists(tmp_path, {"train.txt"}, release)
    assert got == {"train": ["t0.jpg", "t\ufffd1.jpg"]}  # undecodable bytes replaced, not fatal
    assert read_split_lists(tmp_path, set(), release) == {}
    (tmp_path / "big").mkdir()
    with (tmp_path / "big" / "train.txt").open("wb") as sparse:
        sparse.truncate((64 << 20) + 1)  # more than any split list of 20,000 names
    with pytest.raises(DamagedData) as caught:
        read_split_lists(tmp_path / "big", {"train.txt"}, release)
    assert caught.value.message == (
        "The split list train.txt cannot be read: "
        f"it is {(64 << 20) + 1} bytes, more than the {64 << 20} allowed."
    )
    (tmp_path / "testval.txt").mkdir()
    with pytest.raises(DamagedData, match=r"^The split list testval\.txt cannot be read: "):
        read_split_lists(tmp_path, {"testval.txt"}, release)


def test_the_digest_covers_the_required_splits_only(release: Release) -> None:
    files = _tree(1, 1, train_denoise__t0=GOOD, notes__x=GOOD, train__sub__x=GOOD)
    assert sorted(main_hashes(files, release)) == [
        "testval/v0.jpg",
        "train/sub/x",  # a split is the first folder, however deep the file
        "train/t0.jpg",
    ]
    assert check_layout(files, release).counts == {
        "train": 2,
        "testval": 1,
        "train_denoise": 1,
        "notes": 1,
    }
