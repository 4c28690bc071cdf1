"""The download engine's own rules: TLS, redirects and Content-Range parsing."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bg20k_fetch.transfer.http import parse_retry_after
from bg20k_fetch.transfer.resume import parse_content_range
from tests.data import SMALL, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import run_bg20k


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-99/100", (0, 99, 100)),
        ("bytes 100-199/1000", (100, 199, 1000)),
        ("bytes 5-9/*", (5, 9, None)),
        ("  bytes 1-1/2 ", (1, 1, 2)),
        ("bytes 10-5/100", None),
        ("bytes */100", None),
        ("items 0-1/2", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_content_range(header: str | None, expected: object) -> None:
    assert parse_content_range(header) == expected


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
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
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[FileServer]:
    with FileServer(tls=certificate) as srv:
        yield srv


def test_https_with_the_right_ca_bundle(
    tls_server: FileServer, certificate: tuple[Path, Path], tmp_path: Path, small_release: Path
) -> None:
    tls_server.routes["/x.zip"] = Behaviour(zip_bytes(make_tree(tmp_path / "o", SMALL)))
    url = tls_server.url("/x.zip")
    # Verification is on: an unknown certificate is refused ...
    refused = run_bg20k(
        "fetch",
        "--accept",
        "--source",
        url,
        "--dest",
        str(tmp_path / "a"),
        env={"BG20K_RETRIES": "1"},
    )
    assert refused.code == 4 and "CERTIFICATE_VERIFY_FAILED" in refused.err
    # ... and the standard variable for a corporate CA bundle makes it trusted.
    ok = run_bg20k(
        "fetch",
        "--source",
        url,
        "--dest",
        str(tmp_path / "b"),
        env={"REQUESTS_CA_BUNDLE": str(certificate[0])},
    )
    assert ok.code == 0, ok.err


def test_https_to_http_redirect_is_refused(
    tls_server: FileServer,
    server: FileServer,
    certificate: tuple[Path, Path],
    tmp_path: Path,
    small_release: Path,
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(make_tree(tmp_path / "o", SMALL)))
    tls_server.routes["/x.zip"] = Behaviour(b"", redirect=server.url("/x.zip"))
    result = run_bg20k(
        "fetch",
        "--accept",
        "--source",
        tls_server.url("/x.zip"),
        "--dest",
        str(tmp_path / "d"),
        env={"REQUESTS_CA_BUNDLE": str(certificate[0])},
    )
    assert result.code == 4 and "not HTTPS; refused" in result.err
    assert server.log == []  # not even a request went to the plain-HTTP host


def test_redirect_loop_is_capped(server: FileServer, tmp_path: Path, small_release: Path) -> None:
    server.routes["/loop"] = Behaviour(b"", redirect="/loop")
    result = run_bg20k(
        "fetch", "--accept", "--source", server.url("/loop"), "--dest", str(tmp_path / "d")
    )
    assert result.code == 4 and "redirected more than 10 times" in result.err


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is None, reason="no object-store extra")
def test_an_object_store_over_tls_is_verified_by_every_client_though_the_context_is_shared(
    tls_server: FileServer, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 clients share one TLS context per CA setting (storage/s3client.py): sharing must never
    carry a trusted bundle over to a client that was not given it, in either order."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-Kx9",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": tls_server.base_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "BG20K_RETRIES": "1",
    }.items():
        monkeypatch.setenv(name, value)
    answers = []
    for bundle in ("", str(certificate[0]), "", str(certificate[0])):
        env = {"AWS_CA_BUNDLE": bundle} if bundle else {}
        if not bundle:
            monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
        answers.append(run_bg20k("verify", "s3://lab/BG-20k", env=env))
    untrusted, trusted = answers[0], answers[1]
    assert untrusted.code == 4 and "CERTIFICATE_VERIFY_FAILED" in untrusted.err
    # With the bundle the TLS handshake succeeds and the answer is the server's own (a 404).
    assert trusted.code == 4 and "CERTIFICATE" not in trusted.err
    assert "does not exist" in trusted.err
    assert [a.err for a in answers[2:]] == [untrusted.err, trusted.err]
