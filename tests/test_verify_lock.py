from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.helpers import run_bg20k


@pytest.fixture
def fetched(tmp_path: Path, small_release: Path) -> Path:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "dest"
    result = run_bg20k("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    return dest


def verify(dest: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_bg20k("verify", "--dest", str(dest), *args)


def test_verify_passes_on_a_fresh_dataset(fetched: Path) -> None:
    quick, deep = verify(fetched), verify(fetched, "--deep")
    assert quick.code == 0 and "names, sizes and counts" in quick.err
    assert deep.code == 0 and "re-hashed" in deep.err


def test_flipped_byte_needs_deep(fetched: Path) -> None:
    victim = sorted((fetched / "BG-20k" / "train").iterdir())[2]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    assert verify(fetched).code == 0  # same size: the quick check cannot see it
    deep = verify(fetched, "--deep", "--json")
    assert deep.code == 5
    report = json.loads(deep.out)
    assert report["changed"] == [f"train/{victim.name}"] and report["ok"] is False


def test_deleted_file(fetched: Path) -> None:
    victim = sorted((fetched / "BG-20k" / "testval").iterdir())[0]
    victim.unlink()
    result = verify(fetched)
    assert result.code == 5 and "1 missing" in result.err and victim.name in result.err


def test_added_file(fetched: Path) -> None:
    (fetched / "BG-20k" / "train" / "h_intruder.jpg").write_bytes(jpeg(77))
    result = verify(fetched)
    assert result.code == 5 and "1 added" in result.err and "h_intruder.jpg" in result.err


def test_a_file_added_in_a_new_folder_inside_a_split(fetched: Path) -> None:
    nested = fetched / "BG-20k" / "train" / "extra" / "deeper"
    nested.mkdir(parents=True)
    (nested / "h_intruder.jpg").write_bytes(jpeg(78))
    result = verify(fetched, "--json")
    assert result.code == 5
    assert json.loads(result.out)["added"] == ["train/extra/deeper/h_intruder.jpg"]


def test_refetch_repairs_a_damaged_dataset(fetched: Path, tmp_path: Path) -> None:
    sorted((fetched / "BG-20k" / "train").iterdir())[0].unlink()
    result = run_bg20k("fetch", "--from", str(tmp_path / "a.zip"), "--dest", str(fetched))
    assert result.code == 0 and "rebuilding" in result.err
    assert verify(fetched, "--deep").code == 0


def test_lock_round_trip(fetched: Path, tmp_path: Path) -> None:
    lock = tmp_path / "bg20k.lock"
    made = run_bg20k("lock", "--dest", str(fetched), "-o", str(lock))
    assert made.code == 0, made.err
    data = json.loads(lock.read_text())
    provenance_digest = data["digest"]
    assert data["file_count"] == sum(SMALL.values())
    assert verify(fetched, "--lock", str(lock)).code == 0
    # The lock pins the same dataset however it is fetched again.
    again = run_bg20k(
        "fetch",
        "--from",
        str(tmp_path / "a.zip"),
        "--dest",
        str(tmp_path / "d2"),
        "--lock",
        str(lock),
    )
    assert again.code == 0, again.err
    assert provenance_digest in again.err
    # A different dataset is refused by both fetch and verify, and nothing is installed.
    other = make_tree(tmp_path / "other", SMALL, start=100)
    (tmp_path / "b.zip").write_bytes(zip_bytes(other))
    refused = run_bg20k(
        "fetch",
        "--from",
        str(tmp_path / "b.zip"),
        "--dest",
        str(tmp_path / "d3"),
        "--lock",
        str(lock),
    )
    assert refused.code == 5 and "lock file requires" in refused.err
    assert not (tmp_path / "d3" / "BG-20k").exists()
    assert verify(tmp_path / "d2", "--lock", str(lock)).code == 0
    lock.write_text(lock.read_text().replace(data["digest"], "0" * 64))
    assert verify(fetched, "--lock", str(lock)).code == 5


def test_verify_without_a_dataset(tmp_path: Path, small_release: Path) -> None:
    result = verify(tmp_path / "nothing")
    assert result.code == 5 and "bg20k fetch" in result.err


def test_sizes_live_apart_and_trees_from_before_still_verify(fetched: Path) -> None:
    """Sizes are in SIZES.json (fast to read for 20,000 files); a tree written before, with
    its sizes inside PROVENANCE.yaml and no SIZES.json, verifies the same way."""
    import yaml

    root = fetched / "BG-20k"
    provenance = yaml.safe_load((root / "PROVENANCE.yaml").read_text())
    sizes = json.loads((root / "SIZES.json").read_text())["sizes"]
    assert "sizes" not in provenance
    assert sizes == {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*.jpg")}
    provenance["sizes"] = sizes  # the layout bg20k 0.2.0 wrote
    (root / "PROVENANCE.yaml").write_text(yaml.safe_dump(provenance, sort_keys=False))
    (root / "SIZES.json").unlink()
    assert verify(fetched).code == 0
    victim = sorted((root / "testval").iterdir())[0]
    victim.write_bytes(victim.read_bytes() + b"\0")
    changed = verify(fetched, "--json")
    assert changed.code == 5 and json.loads(changed.out)["changed"] == [
        victim.relative_to(root).as_posix()
    ]


def test_the_verify_report_says_what_differs_and_names_the_first_three(tmp_path: Path) -> None:
    from bg20k_fetch.dataset.verification import VerifyReport
    from bg20k_fetch.errors import IntegrityError

    report = VerifyReport(tmp_path, "d" * 64, {"train/a.jpg": "0" * 64}, complete=True)
    assert report.ok and report.describe() == ""
    report.require_ok()  # nothing to say: no error
    report.missing, report.added = ["train/a.jpg", "train/b.jpg"], ["train/x.jpg"]
    report.changed = ["testval/c.jpg"]
    assert not report.ok
    assert report.describe() == (
        "2 missing, 1 added, 1 changed (e.g. train/a.jpg, train/b.jpg, train/x.jpg)"
    )
    with pytest.raises(IntegrityError, match=r"differs from its manifest: 2 missing") as err:
        report.require_ok()
    assert err.value.exit_code == 5
    assert err.value.hint == "Run `bg20k fetch --force` to restore it."
    only_lock = VerifyReport(tmp_path, "d" * 64, {}, True, lock_problem="the lock pins another")
    assert not only_lock.ok
    with pytest.raises(IntegrityError, match="the lock pins another"):
        only_lock.require_ok()


@pytest.mark.parametrize("workers", [1, 2, None])
@pytest.mark.parametrize("count", [1, 64, 65, 300])
def test_deep_verify_hashes_every_file_exactly_once(
    tmp_path: Path, count: int, workers: int | None
) -> None:
    """Across batch boundaries (64 files a task), on one thread or many: none skipped, none
    twice, each its own, in order."""
    import hashlib

    from bg20k_fetch.dataset.verification import _hashed

    paths = [f"train/{i:04d}.jpg" for i in range(count)]
    (tmp_path / "train").mkdir()
    for i, p in enumerate(paths):
        (tmp_path / p).write_bytes(b"%d" % i * (i % 5000))  # empty, small and > one buffer
    got = list(_hashed(tmp_path, paths, workers=workers))
    assert got == [
        (p, hashlib.sha256(b"%d" % i * (i % 5000)).hexdigest()) for i, p in enumerate(paths)
    ]


def test_deep_verify_finds_a_change_and_names_what_it_cannot_read(fetched: Path) -> None:
    import os

    from bg20k_fetch.dataset.verification import _hashed
    from bg20k_fetch.errors import IntegrityError

    victim = sorted((fetched / "BG-20k" / "train").iterdir())[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    result = verify(fetched, "--deep", "--json")
    assert result.code == 5 and json.loads(result.out)["changed"] == [f"train/{victim.name}"]
    # A file gone (or turned into a FIFO) between the listing and its hashing is named.
    root = fetched / "BG-20k"
    victim.unlink()
    with pytest.raises(IntegrityError, match=f"Cannot read .*{victim.name}: No such file"):
        list(_hashed(root, [f"train/{victim.name}"], workers=2))
    os.mkfifo(victim)
    with pytest.raises(IntegrityError, match="is not a regular file; refused"):
        list(_hashed(root, [f"train/{victim.name}"], workers=2))


def test_a_manifest_line_is_a_digest_two_spaces_and_a_path() -> None:
    from bg20k_fetch.dataset.manifest import parse_manifest
    from bg20k_fetch.errors import IntegrityError

    a, b = "a" * 64, "b" * 64
    assert parse_manifest(f"{a}  train/x.jpg\n{b}  train/two  spaces.jpg\n") == {
        "train/x.jpg": a,
        "train/two  spaces.jpg": b,  # only the first two spaces separate
    }
    for bad in (f"{a} train/x.jpg", f"{a[:-1]}  train/x.jpg", f"{a}  "):
        with pytest.raises(IntegrityError) as caught:
            parse_manifest(f"{b}  train/ok.jpg\n{bad}\n", "MANIFEST.train_denoise.sha256")
        assert str(caught.value) == "MANIFEST.train_denoise.sha256 line 2 is malformed."


def test_verify_tree_is_quick_unless_asked_and_checks_every_split_its_receipts_name(
    fetched: Path, small_release: Path
) -> None:
    from dataclasses import replace

    from bg20k_fetch.dataset.verification import verify_tree
    from bg20k_fetch.errors import IntegrityError
    from bg20k_fetch.release import load_release

    root, release = fetched / "BG-20k", load_release()
    victim = sorted((root / "train").iterdir())[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    assert verify_tree(root, release).ok  # names and sizes only, unless asked
    deep = verify_tree(root, release, deep=True)
    assert deep.changed == [f"train/{victim.name}"]
    with pytest.raises(IntegrityError) as caught:
        deep.require_ok()
    assert caught.value.message.startswith(f"{root} differs from its manifest: 1 changed")
    # A description that no longer names the splits (an older or newer bg20k): the receipts
    # still say which folders hold the dataset, and every file in them is checked.
    bare = replace(release, layout=replace(release.layout, splits=(), optional_splits=()))
    assert verify_tree(root, bare, deep=True).changed == [f"train/{victim.name}"]
    assert not verify_tree(root, bare).missing
    # An optional split that was never fetched: its folder is still looked into.
    (root / "train_denoise").mkdir()
    (root / "train_denoise" / "stray.jpg").write_bytes(jpeg(90))
    assert verify_tree(root, release).added == ["train_denoise/stray.jpg"]


def test_what_to_do_about_a_changed_copy_depends_on_where_it_lies(tmp_path: Path) -> None:
    """A local tree is restored by fetching it again; a published copy (its root is a URL) only
    by the publisher, from the verified copy."""
    from bg20k_fetch.dataset.verification import VerifyReport
    from bg20k_fetch.errors import IntegrityError

    for root, hint in (
        (tmp_path, "Run `bg20k fetch --force` to restore it."),
        (
            "s3://lab/BG-20k",
            "Run `bg20k publish --repair` from the publisher's verified copy to restore it.",
        ),
    ):
        report = VerifyReport(root, "d" * 64, {}, True, changed=["train/x.jpg"])  # type: ignore[arg-type]
        with pytest.raises(IntegrityError) as caught:
            report.require_ok()
        assert caught.value.hint == hint
        assert (
            caught.value.message
            == f"{root} differs from its manifest: 1 changed (e.g. train/x.jpg)."
        )


def test_a_split_folder_that_cannot_be_read_is_named_and_nothing_is_judged(
    fetched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from bg20k_fetch.dataset.verification import _listed_images
    from bg20k_fetch.errors import StorageError

    real = os.scandir

    def denied(path: object) -> object:
        if str(path).endswith("testval"):
            raise PermissionError(13, "Permission denied")  # root is never denied for real
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(StorageError) as caught:
        _listed_images(fetched / "BG-20k", {"train", "testval"})
    folder = fetched / "BG-20k" / "testval"
    assert caught.value.message == f"Cannot read {folder}: Permission denied; it was not checked."
    assert caught.value.hint == "Make it readable (bg20k reads every split folder), then run again."


def test_an_image_that_cannot_be_read_says_what_to_check(fetched: Path) -> None:
    from bg20k_fetch.dataset.verification import _hashed
    from bg20k_fetch.errors import IntegrityError

    with pytest.raises(IntegrityError) as caught:
        list(_hashed(fetched / "BG-20k", ["train/gone.jpg"], workers=2))
    assert caught.value.hint == "Check its permissions, or fetch the dataset again."
