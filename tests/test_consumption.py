"""The dataset as its users consume it: the release's own root files and split lists, the
optional denoised split, the metadata the ecosystem reads (validated by its own tools, offline),
and the paths training code asks for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import bg20k_fetch
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cli, write_release

README = b"BG-20k: see the paper. Images are for research.\n"


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, small_release: Path) -> Iterator[DriveEmulator]:
    with DriveEmulator(Options(warn_size=10**9)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


def split_list(files: dict[str, bytes], split: str) -> bytes:
    return "".join(f"{p.split('/')[1]}\r\n" for p in sorted(files) if p.startswith(split)).encode()


def release_tree(files: dict[str, bytes]) -> dict[str, bytes]:
    """The official folder's shape: the images and, at the root, readme.txt and the lists."""
    return files | {
        "readme.txt": README,
        "train.txt": split_list(files, "train/"),
        "testval.txt": split_list(files, "testval/"),
    }


def provenance(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / "PROVENANCE.yaml").read_text())
    assert isinstance(data, dict)
    return data


def fetch(*args: str):  # type: ignore[no-untyped-def]
    return cli("fetch", "--accept", *args)


# -- the release's own files ---------------------------------------------------------------------


def test_the_release_root_files_are_kept_and_the_lists_decide(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(release_tree(files))
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "a"))
    assert result.code == 0, result.err
    root = tmp_path / "a" / "BG-20k"
    assert (root / "readme.txt").read_bytes() == README
    assert (root / "train.txt").read_bytes() == split_list(files, "train/")
    data = provenance(root)
    assert data["checked_against"] == "split lists"
    assert {n: f["origin"] for n, f in data["release_files"].items()} == {  # type: ignore[union-attr]
        "readme.txt": "release",
        "train.txt": "release",
        "testval.txt": "release",
    }
    released = (root / "RELEASE-FILES.sha256").read_text()
    assert "readme.txt" in released and "readme.txt" not in (root / "MANIFEST.sha256").read_text()
    # The digest covers the images only: the same as from an archive without those files.
    (tmp_path / "plain.zip").write_bytes(zip_bytes(files))
    assert fetch("--from", str(tmp_path / "plain.zip"), "--dest", str(tmp_path / "b")).code == 0
    assert provenance(tmp_path / "b" / "BG-20k")["digest"] == data["digest"]
    assert cli("verify", "--dest", str(tmp_path / "a"), "--deep").code == 0
    (root / "readme.txt").write_bytes(b"edited")
    assert cli("verify", "--dest", str(tmp_path / "a")).code == 5  # release files are verified
    # Their list is a receipt checked against PROVENANCE.yaml, like the image manifest.
    (root / "readme.txt").write_bytes(README)
    listed = root / "RELEASE-FILES.sha256"
    listed.write_text("".join(sorted(listed.read_text().splitlines(keepends=True))[1:]))
    tampered = cli("verify", "--dest", str(tmp_path / "a"))
    assert tampered.code == 5
    assert f"{listed} does not match the release files in PROVENANCE.yaml." in tampered.err


@pytest.mark.parametrize("how", ["listed-but-missing", "present-but-unlisted"])
def test_the_split_lists_are_the_inventory(
    how: str, files: dict[str, bytes], tmp_path: Path
) -> None:
    tree = release_tree(files)
    victim = sorted(p for p in files if p.startswith("train/"))[0]
    if how == "listed-but-missing":
        del tree[victim]
        tree["BG-20k-extra/train/h_ffffffff.jpg"] = jpeg(999)  # counts alone would pass
    else:
        tree["train.txt"] = split_list({k: v for k, v in files.items() if k != victim}, "train/")
    (tmp_path / "a.zip").write_bytes(zip_bytes(tree))
    result = fetch("--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 5, result.err
    problems = (tmp_path / "d" / "BG-20k.problems.txt").read_text()
    if how == "listed-but-missing":
        assert f"listed in the split list but missing: {victim}" in problems
        assert "present but not in the split list: train/h_ffffffff.jpg" in problems
    else:
        assert f"present but not in the split list: {victim}" in problems


def test_without_lists_the_counts_decide_and_lists_are_written(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    assert fetch("--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path)).code == 0
    root = tmp_path / "BG-20k"
    data = provenance(root)
    assert data["checked_against"] == "counts"
    assert data["release_files"]["train.txt"]["origin"] == "bg20k"  # type: ignore[index]
    listed = (root / "testval.txt").read_text().splitlines()
    assert listed == sorted(p.name for p in (root / "testval").iterdir())
    # The way downstream scripts read them works on this copy.
    for name in listed:
        assert (root / "testval" / name).is_file()


def test_any_case_of_jpg_and_other_image_types_named(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    names = sorted(p for p in files if p.startswith("train/"))
    renamed = dict(files)
    renamed[names[0].replace(".jpg", ".JPG")] = renamed.pop(names[0])
    renamed[names[1].replace(".jpg", ".jpeg")] = renamed.pop(names[1])
    (tmp_path / "ok.zip").write_bytes(zip_bytes(renamed))
    ok = fetch("--from", str(tmp_path / "ok.zip"), "--dest", str(tmp_path / "ok"))
    assert ok.code == 0, ok.err
    with_png = renamed | {"train/h_00000099.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 64}
    (tmp_path / "png.zip").write_bytes(zip_bytes(with_png))
    bad = fetch("--from", str(tmp_path / "png.zip"), "--dest", str(tmp_path / "bad"))
    assert bad.code == 5 and "another image type" in bad.err
    problems = (tmp_path / "bad" / "BG-20k.problems.txt").read_text()
    assert "not a JPEG (another image type): train/h_00000099.png" in problems


# -- the denoised split --------------------------------------------------------------------------


def test_train_denoise_is_added_to_an_existing_dataset(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "d"
    assert fetch("--from", str(tmp_path / "a.zip"), "--dest", str(dest)).code == 0
    before = provenance(dest / "BG-20k")
    denoised = {
        f"train_denoise/{p.split('/')[1]}": jpeg(500 + n)
        for n, p in enumerate(sorted(files))
        if p.startswith("train/")
    }
    file_id = drive.add_file("train_denoise.zip", zip_bytes(denoised, prefix="BG-20k/"))
    release = write_release(tmp_path / "rel", counts=SMALL, denoise_file=file_id)
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(release))
    result = fetch(
        "--from", str(tmp_path / "a.zip"), "--dest", str(dest), "--with", "train_denoise"
    )
    assert result.code == 0, result.err
    assert "already there" in result.err  # the rest was not fetched again
    assert [p for p, _, _ in drive.log if p == "/download"]  # only the denoised file was
    after = provenance(dest / "BG-20k")
    assert after["digest"] == before["digest"]  # the dataset digest is unchanged
    component = after["components"]["train_denoise"]  # type: ignore[index]
    assert component["file_count"] == len(denoised)
    listed = (dest / "BG-20k" / "MANIFEST.train_denoise.sha256").read_text()
    assert len(listed.splitlines()) == len(denoised)
    assert cli("verify", "--dest", str(dest), "--deep").code == 0
    got = bg20k_fetch.paths("train_denoise", dest)
    assert [p.name for p in got] == sorted(p.split("/")[1] for p in denoised)
    # Its manifest is a receipt checked against the component's digest in PROVENANCE.yaml.
    receipt = dest / "BG-20k" / "MANIFEST.train_denoise.sha256"
    receipt.write_text("".join(listed.splitlines(keepends=True)[1:]))
    tampered = cli("verify", "--dest", str(dest))
    assert tampered.code == 5
    assert (
        f"{receipt} does not match the digest of train_denoise in PROVENANCE.yaml." in tampered.err
    )
    receipt.write_text(listed)
    again = fetch("--from", str(tmp_path / "a.zip"), "--dest", str(dest), "--with", "train_denoise")
    assert again.code == 0 and "train_denoise is already there" in again.err


def test_an_unknown_optional_split_is_a_usage_error(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    result = fetch("--from", str(tmp_path), "--with", "test_noise")
    assert result.code == 2 and "train_denoise" in result.err


# -- paths for training code ---------------------------------------------------------------------


def test_paths_for_training_code(files: dict[str, bytes], tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    assert fetch("--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path)).code == 0
    train = bg20k_fetch.paths("train", tmp_path)
    assert [p.name for p in train] == sorted(p.split("/")[1] for p in files if "train/" in p)
    assert all(p.is_absolute() and p.is_file() for p in train)
    shown = cli("paths", "--split", "testval", "--dest", str(tmp_path))
    assert shown.code == 0
    assert shown.out.splitlines() == [str(p) for p in bg20k_fetch.paths("testval", tmp_path)]
    assert cli("paths", "--split", "nope", "--dest", str(tmp_path)).code == 2
    assert cli("paths", "--split", "train_denoise", "--dest", str(tmp_path)).code == 2
    train[0].unlink()
    damaged = cli("paths", "--split", "train", "--dest", str(tmp_path))
    assert damaged.code == 5 and damaged.out == ""  # never a list of a tree that differs


def test_a_consumer_reading_the_tree_as_downstream_code_does(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    """Sorted listings of the split folders, dotfiles skipped, each opened with Pillow — and
    nothing bg20k writes inside a split folder (a stray file shifts everyone's splits)."""
    from PIL import Image

    folder = drive.add_tree(release_tree(files))
    assert fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path)).code == 0
    root = tmp_path / "BG-20k"
    manifest = set((root / "MANIFEST.sha256").read_text().split()[1::2])
    for split in ("train", "testval"):
        names = sorted(n for n in os.listdir(root / split) if not n.startswith("."))
        assert names == sorted(os.listdir(root / split))  # no dotfile there either
        assert {f"{split}/{n}" for n in names} <= manifest
        for name in names:
            with Image.open(root / split / name) as image:
                image.load()
                assert image.format == "JPEG"


# -- the metadata, validated by the ecosystem's own tools ----------------------------------------


@pytest.fixture
def installed(files: dict[str, bytes], tmp_path: Path) -> Path:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    assert fetch("--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "d")).code == 0
    return tmp_path / "d" / "BG-20k"


@pytest.mark.slow
def test_croissant_validates_and_loads_offline(installed: Path) -> None:
    pytest.importorskip("mlcroissant")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcroissant.scripts.validate",
            "--jsonld",
            str(installed / "croissant.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_NETWORK": "1"},
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "warning" not in output.lower(), output
    import mlcroissant

    dataset = mlcroissant.Dataset(jsonld=str(installed / "croissant.json"))
    records = list(dataset.records("train"))
    assert len(records) == SMALL["train"]
    names = sorted(r["train/file_name"].decode() for r in records)
    assert names == sorted(p.name for p in (installed / "train").iterdir())
    from PIL import Image

    assert all(isinstance(r["train/image"], Image.Image) for r in records)
    assert all(r["train/image"].size == (8, 6) for r in records)  # decoded, not bytes
    doc = json.loads((installed / "croissant.json").read_text())
    assert doc["license"] == "https://opensource.org/licenses/MIT"
    assert "@article{li2022bridging" in doc["citeAs"]


@pytest.mark.slow
def test_the_dataset_card_gives_load_dataset_both_splits_offline(
    installed: Path, tmp_path: Path
) -> None:
    pytest.importorskip("datasets")
    code = (
        "import datasets, json, sys\n"
        "d = datasets.load_dataset(sys.argv[1])\n"
        "print(json.dumps({k: [v.num_rows, list(v.features)] for k, v in d.items()}))\n"
    )
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
    }

    def load(root: Path) -> dict[str, list[object]]:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(root)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    assert load(installed) == {
        "train": [SMALL["train"], ["image"]],  # no label column: folders are splits here
        "testval": [SMALL["testval"], ["image"]],
    }
    bare = tmp_path / "bare"
    shutil.copytree(installed, bare)
    (bare / "README.md").unlink()  # imagefolder alone does not know "testval" as a split
    assert "testval" not in load(bare)


@pytest.mark.slow
def test_citation_cff_validates_and_matches_cite(installed: Path) -> None:
    cffconvert = shutil.which("cffconvert") or str(Path(sys.executable).parent / "cffconvert")
    if not Path(cffconvert).exists():
        pytest.skip("cffconvert is a test dependency")
    proc = subprocess.run(
        [cffconvert, "--validate", "-i", str(installed / "CITATION.cff")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cff = yaml.safe_load((installed / "CITATION.cff").read_text())
    assert cff["type"] == "dataset"
    assert cff["preferred-citation"]["doi"] == "10.1007/s11263-021-01541-0"
    assert [r["doi"] for r in cff["references"]] == [
        "10.24963/ijcai.2021/111",
        "10.1145/3474085.3475512",
    ]
    assert cli("cite", "--format", "cff", "--all").raw == (installed / "CITATION.cff").read_bytes()
