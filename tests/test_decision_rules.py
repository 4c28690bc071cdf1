"""The decision a fetch and its dry run share (fetching/decision.py), case by case, on real trees:
what is done with what lies at the destination, the exact words the user reads, and who made
it. The CLI tests show the actions; these pin the reasons, since a user acts on them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.provenance import read_provenance
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.fetching.decision import Action, Decision, Owner, decide, owner_of
from bg20k_fetch.locations import Paths
from bg20k_fetch.release import Release, load_release
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.helpers import cli


@pytest.fixture
def release(small_release: Path) -> Release:
    return load_release()


def target(dest: Path, release: Release) -> Target:
    return Target.resolve(dest, Paths.from_env(), release)


@pytest.fixture
def built(tmp_path: Path, release: Release) -> Path:
    """A destination holding a verified tree bg20k made from a zip."""
    (tmp_path / "a.zip").write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    dest = tmp_path / "d"
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    return dest


def test_nothing_there_is_built(tmp_path: Path, release: Release) -> None:
    d = decide(target(tmp_path / "d", release), release)
    assert d == Decision(Action.BUILD, "absent", Owner.ABSENT)
    assert d.describe(tmp_path) == "absent"


def test_an_empty_folder_is_built_into(tmp_path: Path, release: Release) -> None:
    (tmp_path / "d" / "BG-20k").mkdir(parents=True)
    d = decide(target(tmp_path / "d", release), release)
    assert d == Decision(Action.BUILD, "an empty directory", Owner.EMPTY)


def test_a_file_named_like_the_tree_is_refused(tmp_path: Path, release: Release) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "BG-20k").write_bytes(b"notes")
    d = decide(target(tmp_path / "d", release), release)
    root = tmp_path / "d" / "BG-20k"
    assert d == Decision(
        Action.REFUSE, f"{root} exists and is not a directory", Owner.NOT_A_DIRECTORY
    )
    assert d.describe(root) == f"refused: {root} exists and is not a directory"


def test_a_folder_bg20k_did_not_make_is_refused(tmp_path: Path, release: Release) -> None:
    root = tmp_path / "d" / "BG-20k"
    (root / "train").mkdir(parents=True)
    (root / "train" / "mine.jpg").write_bytes(jpeg(1))
    d = decide(target(tmp_path / "d", release), release, force=True)  # --force changes nothing
    why = f"{root} exists and was not made by bg20k (it has no valid PROVENANCE.yaml)"
    assert d == Decision(Action.REFUSE, why, Owner.FOREIGN)
    assert owner_of(root) is Owner.FOREIGN


def test_a_tree_whose_provenance_is_damaged_but_marked_is_rebuilt(
    built: Path, release: Release
) -> None:
    (built / "BG-20k" / "PROVENANCE.yaml").write_text("not: [a provenance")
    d = decide(target(built, release), release)
    assert d == Decision(Action.REBUILD, "its PROVENANCE.yaml is damaged", Owner.BG20K_DAMAGED)
    assert d.describe(built) == "would be rebuilt: its PROVENANCE.yaml is damaged"
    (built / "BG-20k" / ".bg20k-tree").unlink()  # and without the marker: not provably ours
    assert decide(target(built, release), release).action is Action.REFUSE


def test_a_verified_tree_is_reused_and_says_what_it_holds(built: Path, release: Release) -> None:
    d = decide(target(built, release), release)
    digest = read_provenance(built / "BG-20k").digest
    assert (d.action, d.owner) == (Action.REUSE, Owner.BG20K)
    assert d.reason == f"9 files, digest {digest[:16]}…"
    assert d.report is not None and d.report.ok
    assert d.describe(built) == f"verified, nothing to do: 9 files, digest {digest[:16]}…"


def test_force_rebuilds_only_when_asked(built: Path, release: Release) -> None:
    assert decide(target(built, release), release, force=False).action is Action.REUSE
    d = decide(target(built, release), release, force=True)
    assert d == Decision(Action.REBUILD, "--force was given", Owner.BG20K)
    assert d.describe(built) == "would be rebuilt: --force was given"


def test_a_changed_image_rebuilds_and_says_how_it_differs(built: Path, release: Release) -> None:
    victim = sorted((built / "BG-20k" / "train").iterdir())[0]
    victim.write_bytes(victim.read_bytes() + b"more")
    d = decide(target(built, release), release)
    assert d.action is Action.REBUILD and d.owner is Owner.BG20K
    assert d.reason == f"it differs from its manifest (1 changed (e.g. train/{victim.name}))"


def test_a_tree_that_cannot_be_verified_is_rebuilt_naming_why(
    built: Path, release: Release
) -> None:
    manifest = built / "BG-20k" / "MANIFEST.sha256"
    manifest.write_text(manifest.read_text()[::-1])
    d = decide(target(built, release), release)
    assert d.action is Action.REBUILD and d.owner is Owner.BG20K
    assert d.reason.startswith("it cannot be verified (") and "MANIFEST.sha256" in d.reason


def test_a_partial_tree_is_rebuilt_unless_partial_is_allowed(
    tmp_path: Path, release: Release
) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    del files[sorted(files)[0]]
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "d"
    args = ("fetch", "--accept", "--allow-partial", "--from", str(tmp_path / "a.zip"))
    assert cli(*args, "--dest", str(dest)).code == 0
    d = decide(target(dest, release), release)
    assert d == Decision(Action.REBUILD, "it is a partial dataset", Owner.BG20K)
    reused = decide(target(dest, release), release, allow_partial=True)
    digest = read_provenance(dest / "BG-20k").digest
    assert reused.action is Action.REUSE
    assert reused.reason == f"8 files, partial, digest {digest[:16]}…"


def test_a_lock_file_for_another_dataset_rebuilds(built: Path, release: Release) -> None:
    digest = read_provenance(built / "BG-20k").digest
    other = LockFile("BG-20k", "1.0", "0" * 64, {"train/x.jpg": "1" * 64})
    d = decide(target(built, release), release, lock_file=other)
    assert d == Decision(
        Action.REBUILD, "it is not the dataset the lock file requires", Owner.BG20K
    )
    same = LockFile("BG-20k", "1.0", digest, {})
    assert decide(target(built, release), release, lock_file=same).action is Action.REUSE


def test_a_pinned_archive_reuses_only_a_tree_built_from_it(built: Path, release: Release) -> None:
    archive = read_provenance(built / "BG-20k").archives[0].sha256
    assert decide(target(built, release), release, archive_sha256=archive).action is Action.REUSE
    d = decide(target(built, release), release, archive_sha256="e" * 64)
    why = "it was not built from the archive --sha256 pins"
    assert d == Decision(Action.REBUILD, why, Owner.BG20K)


def test_a_link_into_nothing_is_refused(tmp_path: Path, release: Release) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "BG-20k").symlink_to(tmp_path / "unmounted" / "BG-20k")
    d = decide(target(tmp_path / "d", release), release)
    root, real = tmp_path / "d" / "BG-20k", tmp_path / "unmounted" / "BG-20k"
    assert d == Decision(
        Action.REFUSE, f"{root} is a link to {real}, which does not exist", Owner.ABSENT
    )


def test_an_optional_split_that_differs_leaves_the_dataset_reused_and_names_the_repair(
    built: Path, release: Release
) -> None:
    denoise = built / "BG-20k" / "train_denoise" / "extra"  # nested: the split is the top
    denoise.mkdir(parents=True)
    (denoise / "h_stray.jpg").write_bytes(jpeg(3))
    d = decide(target(built, release), release)
    digest = read_provenance(built / "BG-20k").digest
    assert d.action is Action.REUSE and d.owner is Owner.BG20K
    assert d.reason == (
        f"9 files, digest {digest[:16]}…; but train_denoise/ differs from its manifest "
        "(1 added (e.g. train_denoise/extra/h_stray.jpg)): `bg20k fetch --with train_denoise` "
        "repairs it"
    )
    # A difference in a required split as well is the dataset's: rebuilt.
    shutil.rmtree(built / "BG-20k" / "testval")
    assert decide(target(built, release), release).action is Action.REBUILD


def test_a_folder_that_cannot_be_listed_is_not_provably_ours(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: Path) -> object:
        raise PermissionError(13, "Permission denied")  # root is never denied for real

    monkeypatch.setattr(Path, "iterdir", denied)
    assert owner_of(built / "BG-20k") is Owner.FOREIGN
    assert os.path.isdir(built / "BG-20k")
