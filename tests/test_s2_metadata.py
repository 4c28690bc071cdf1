"""Object storage and the ecosystem files, round 2: items 8 (metadata that drops files) and 9
(CITATION.cff and `cite --format cff`), checked with the ecosystem's own tools offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import REPO, cli


@pytest.fixture
def mixed(tmp_path: Path, small_release: Path) -> Path:
    """A copy whose images are named in every case bg20k accepts: .jpg, .JPG, .jpeg, .JPEG."""
    files = make_tree(tmp_path / "orig", SMALL)
    renamed = {}
    for n, (path, data) in enumerate(sorted(files.items())):
        ext = (".jpg", ".JPG", ".jpeg", ".JPEG")[n % 4]
        renamed[path.rsplit(".", 1)[0] + ext] = data
    (tmp_path / "mixed.zip").write_bytes(zip_bytes(renamed))
    dest = tmp_path / "d"
    assert (
        cli("fetch", "--accept", "--from", str(tmp_path / "mixed.zip"), "--dest", str(dest)).code
        == 0
    )
    return dest / "BG-20k"


def test_s2_08_croissant_and_the_card_name_every_image_whatever_its_case(mixed: Path) -> None:
    import fnmatch

    doc = json.loads((mixed / "croissant.json").read_text())
    card = yaml.safe_load((mixed / "README.md").read_text().split("---")[1])
    for split in ("train", "testval"):
        on_disk = sorted(f"{split}/{p.name}" for p in (mixed / split).iterdir())
        (fileset,) = [d for d in doc["distribution"] if d["@id"] == f"{split}-images"]
        globs = (
            fileset["includes"] if isinstance(fileset["includes"], list) else [fileset["includes"]]
        )
        assert (
            sorted(p for p in on_disk if any(fnmatch.fnmatchcase(p, g) for g in globs)) == on_disk
        )
        (entry,) = [e for e in card["configs"][0]["data_files"] if e["split"] == split]
        paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        assert (
            sorted(p for p in on_disk if any(fnmatch.fnmatchcase(p, g) for g in paths)) == on_disk
        )


def test_s2_08_croissant_checksums_the_releases_root_files(mixed: Path) -> None:
    import hashlib

    doc = json.loads((mixed / "croissant.json").read_text())
    objects = {d["@id"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    for name in ("train.txt", "testval.txt"):  # written by bg20k from the images here
        assert objects[name]["sha256"] == hashlib.sha256((mixed / name).read_bytes()).hexdigest()


@pytest.mark.slow
def test_s2_08_mlcroissant_and_load_dataset_load_every_image(mixed: Path, tmp_path: Path) -> None:
    pytest.importorskip("mlcroissant")
    pytest.importorskip("datasets")
    import mlcroissant

    dataset = mlcroissant.Dataset(jsonld=str(mixed / "croissant.json"))
    for split, count in SMALL.items():
        assert len(list(dataset.records(split))) == count
    code = (
        "import datasets, json, sys\n"
        "d = datasets.load_dataset(sys.argv[1])\n"
        "print(json.dumps({k: v.num_rows for k, v in d.items()}))\n"
    )
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, str(mixed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == SMALL


def test_s2_08_the_optional_split_joins_the_metadata_when_fetched(
    tmp_path: Path, small_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.s3server import with_denoise

    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "d"
    assert (
        cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest)).code == 0
    )
    with_denoise(tmp_path, dest, monkeypatch)
    root = dest / "BG-20k"
    doc = json.loads((root / "croissant.json").read_text())
    assert "train_denoise" in [r["@id"] for r in doc["recordSet"]]
    card = yaml.safe_load((root / "README.md").read_text().split("---")[1])
    assert "train_denoise" in [e["split"] for e in card["configs"][0]["data_files"]]
    assert "| train_denoise | 6 |" in (root / "README.md").read_text()
    assert cli("verify", "--dest", str(dest), "--deep").code == 0  # the receipts still agree


def test_s2_09_cite_cff_follows_all_and_counts_what_it_wrote(tmp_path: Path) -> None:
    required = yaml.safe_load(cli("cite", "--format", "cff").out)
    everything = yaml.safe_load(cli("cite", "--format", "cff", "--all").out)
    assert "references" not in required
    assert [r["doi"] for r in everything["references"]] == [
        "10.24963/ijcai.2021/111",
        "10.1145/3474085.3475512",
    ]
    assert required["preferred-citation"]["doi"] == "10.1007/s11263-021-01541-0"
    assert "10.1007/s11263-021-01541-0" in required["message"]  # for tools that skip it
    result = cli("cite", "--format", "cff", "--all", "-o", str(tmp_path / "CITATION.cff"))
    assert result.code == 0 and "Wrote 3 reference(s)" in result.err


@pytest.mark.slow
def test_s2_09_what_cffconvert_makes_of_it_is_what_the_readme_says(tmp_path: Path) -> None:
    cffconvert = shutil.which("cffconvert") or str(Path(sys.executable).parent / "cffconvert")
    if not Path(cffconvert).exists():
        pytest.skip("cffconvert is a test dependency")
    cff = tmp_path / "CITATION.cff"
    assert cli("cite", "--format", "cff", "--all", "-o", str(cff)).code == 0
    proc = subprocess.run(
        [cffconvert, "-f", "bibtex", "-i", str(cff)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    # cffconvert 2 converts the top level (the dataset), not preferred-citation …
    assert "BG-20k background images" in proc.stdout and "Bridging" not in proc.stdout
    # … and the README says so, pointing paper authors at `bg20k cite`.
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "cffconvert 2 converts the dataset entry, not preferred-citation" in readme


@given(
    st.lists(
        st.text(st.characters(blacklist_characters="/\x00"), min_size=1, max_size=12).filter(
            lambda part: part not in (".", "..")
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_globs_split_a_path_as_pathlib_does(parts: list[str]) -> None:
    """The globs' folder and extension come from string slicing (20,000 Paths were a third of
    the receipts' time): for any clean relative path they are pathlib's own parent and suffix."""
    from bg20k_fetch.dataset.ecosystem import _folder_and_suffix

    path = "/".join(parts)
    pure = PurePosixPath(path)
    assert _folder_and_suffix(path) == (str(pure.parent), pure.suffix)
