"""The Python API a training script uses: fetch, verify, status and cite, in-process."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

import bg20k_fetch
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import AGREEMENT_SHA256

SHA = AGREEMENT_SHA256


@pytest.fixture
def archive(tmp_path: Path, small_release: Path) -> Path:
    path = tmp_path / "a.zip"
    path.write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    return path


def test_fetch_is_keyword_only_and_says_what_it_raises() -> None:
    params = inspect.signature(bg20k_fetch.fetch).parameters
    assert [p for p in params.values() if p.kind is not p.KEYWORD_ONLY] == [params["dest"]]
    doc = inspect.getdoc(bg20k_fetch.fetch) or ""
    for name in ("ConsentError", "SourceError", "IntegrityError", "StorageError", "Returns"):
        assert name in doc


def test_fetch_returns_what_was_fetched(archive: Path, tmp_path: Path) -> None:
    got = bg20k_fetch.fetch(tmp_path / "d", from_paths=[str(archive)], accept=True)
    assert got.path == tmp_path / "d" / "BG-20k" and os.fspath(got) == str(got.path)
    assert got.complete and got.file_count == sum(SMALL.values()) and len(got.digest) == 64
    assert (got.path / "MANIFEST.sha256").is_file()


def test_fetch_without_consent_raises_consent_error_and_fetches_nothing(
    server: FileServer, tmp_path: Path, small_release: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(b"PK")
    with pytest.raises(bg20k_fetch.ConsentError) as info:
        bg20k_fetch.fetch(tmp_path / "d", sources=[server.url("/x.zip")])
    assert info.value.exit_code == 3 and server.log == []


def test_fetch_errors_carry_their_exit_code(
    server: FileServer, tmp_path: Path, small_release: Path
) -> None:
    with pytest.raises(bg20k_fetch.SourceError) as info:
        bg20k_fetch.fetch(tmp_path / "e", sources=[server.url("/nope.zip")], accept=True)
    assert info.value.exit_code == 4 and "HTTP 404" in str(info.value)


def test_cache_and_config_dirs_as_arguments(
    archive: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    config, cache = tmp_path / "my-config", tmp_path / "my-cache"
    got = bg20k_fetch.fetch(
        tmp_path / "d", from_paths=[str(archive)], accept=True, config_dir=config, cache_dir=cache
    )
    assert got.complete
    assert (config / "consent.yaml").is_file()
    assert not (isolated_env["config"] / "consent.yaml").exists()
    assert bg20k_fetch.status(config_dir=config).in_force
    assert not bg20k_fetch.status().in_force


def test_verify_reports_and_require_ok_raises(archive: Path, tmp_path: Path) -> None:
    got = bg20k_fetch.fetch(tmp_path / "d", from_paths=[str(archive)], accept=True)
    report = bg20k_fetch.verify(tmp_path / "d", deep=True)
    assert report.ok and report.digest == got.digest and report.root == got.path
    (got.path / "train" / "h_extra.jpg").write_bytes(jpeg(99))
    bad = bg20k_fetch.verify(tmp_path / "d")
    assert not bad.ok and bad.added == ["train/h_extra.jpg"]
    with pytest.raises(bg20k_fetch.IntegrityError):
        bad.require_ok()


def test_status_and_cite_for_a_training_script(small_release: Path) -> None:
    assert bg20k_fetch.status().in_force is False
    bg20k_fetch.record_acceptance(
        bg20k_fetch.Paths.from_env(), bg20k_fetch.load_agreement(), "flag"
    )
    state = bg20k_fetch.status()
    assert state.in_force and state.record is not None
    assert state.record.agreement_sha256 == SHA
    assert bg20k_fetch.citation_keys() == ["li2022bridging"]
    assert bg20k_fetch.citation_keys(all=True) == ["li2022bridging", "li2021deep", "li2021privacy"]
    assert bg20k_fetch.cite().startswith("% li2022bridging")
    assert "Li, J." in bg20k_fetch.cite(all=True, format="text")


def test_public_names_are_importable() -> None:
    for name in bg20k_fetch.__all__:
        assert getattr(bg20k_fetch, name) is not None, name


def test_no_submodule_shadows_a_public_function() -> None:
    """Importing a submodule binds it as an attribute of the package: one named like a public
    function (a verify.py beside verify()) would silently replace it."""
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(bg20k_fetch.__path__, "bg20k_fetch."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    for name in ("fetch", "verify", "status", "cite", "citation_keys", "paths"):
        assert inspect.isfunction(getattr(bg20k_fetch, name)), name
