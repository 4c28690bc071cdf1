"""The security review's points that are about the code itself (docs/security.md lists each
point with the test that shows it; most behavioural ones live beside their features)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import REPO, cli

PACKAGE = REPO / "bg20k_fetch"


def _code() -> dict[Path, str]:
    return {p: p.read_text() for p in PACKAGE.rglob("*.py")}


def test_tls_verification_cannot_be_turned_off_anywhere_in_the_code() -> None:
    for path, text in _code().items():
        assert not re.search(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False", text), path
        assert "PYTHONHTTPSVERIFY" not in text and "insecure" not in text.lower(), path


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_an_empty_ca_bundle_variable_does_not_turn_verification_off(
    variable: str, tmp_path: Path, small_release: Path
) -> None:
    import ssl
    import subprocess

    from tests.fileserver import FileServer

    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    assert ssl.OPENSSL_VERSION
    with FileServer(tls=(cert, key)) as server:
        server.routes["/x.zip"] = Behaviour(zip_bytes(make_tree(tmp_path / "o", SMALL)))
        result = cli(
            "fetch",
            "--accept",
            "--source",
            server.url("/x.zip"),
            "--dest",
            str(tmp_path / "d"),
            env={variable: "", "BG20K_RETRIES": "1"},
        )
    assert result.code == 4 and "CERTIFICATE_VERIFY_FAILED" in result.err


def test_yaml_is_loaded_only_through_the_safe_loader() -> None:
    for path, text in _code().items():
        assert not re.search(r"yaml\.(load|unsafe_load|full_load)\(|Loader\s*=", text), path
        if "safe_load" in text or "SafeLoader" in text:
            assert path.name == "yamlio.py", f"{path}: YAML is read through yamlio.load_yaml"
    # The one loader (libyaml's C build where present) constructs only plain data.
    from yaml.constructor import FullConstructor, SafeConstructor

    from bg20k_fetch.util import yamlio as yamlio

    assert issubclass(yamlio._safe_loader(), SafeConstructor)
    assert not issubclass(yamlio._safe_loader(), FullConstructor)


def test_no_code_runs_from_data() -> None:
    for path, text in _code().items():
        assert not re.search(r"\bpickle\b|\beval\(|\bexec\(|shell\s*=\s*True", text), path


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x.zip", "gopher://x"])
def test_a_redirect_to_another_scheme_is_refused(
    location: str, server: FileServer, tmp_path: Path, small_release: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(b"", redirect=location)
    result = cli("fetch", "--accept", "--source", server.url("/x.zip"), "--dest", str(tmp_path))
    assert result.code == 4 and "not an http(s) URL; refused" in result.err


@pytest.mark.parametrize("source", ["ftp://mirror/x.zip", "file:///etc/passwd", "s4://x"])
def test_only_known_schemes_are_sources(source: str) -> None:
    result = cli("fetch", "--accept", "--source", source)
    assert result.code == 2 and "Unsupported source" in result.err


def test_an_alias_bomb_is_refused_before_anything_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """A billion laughs (10**10 values from a few lines) and a node that contains itself are
    refused from the parsed node graph: the constructor, which would walk every expansion, is
    never reached. Aliases within the limit still load, each shared value counted per use."""
    import yaml

    from bg20k_fetch.util import yamlio

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, c in zip("abcdefghi", "bcdefghij", strict=True)
    )
    built: list[object] = []
    loader = yamlio._safe_loader()
    monkeypatch.setattr(
        loader, "construct_document", lambda self, node: built.append(node) or {}, raising=True
    )
    for text in (bomb, "a: &a [1, *a]\n"):
        with pytest.raises(yamlio.YamlError, match="expands to more than"):
            yamlio.load_yaml(text)
    assert built == []
    monkeypatch.undo()
    shared = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"  # 1 + 2 keys + 4 + (1 + 3 x 4) values
    assert yamlio.load_yaml(shared, max_nodes=20) == yaml.safe_load(shared)
    with pytest.raises(yamlio.YamlError):
        yamlio.load_yaml(shared, max_nodes=15)
