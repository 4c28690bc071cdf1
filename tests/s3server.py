"""A real S3 API on 127.0.0.1 (moto's server), for the object-store tests and benchmarks.

s3fs does not work with moto's in-process mock; its server speaks real HTTP. Credentials are
dummies; AWS_ENDPOINT_URL points every AWS client at the server.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Found, not imported: importing s3fs and moto in a test module would cost every worker a second.
NEEDS_STORE = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("s3fs", "moto")),
    reason="the object-store extra and moto are not installed",
)

# Where the shared server's URL appears (set by the run's controller, read by every worker).
_URL_FILE = "BG20K_TEST_S3_URL_FILE"


def s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret-Kx9",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# The fixtures every object-store test file uses (a pytest plugin: tests/conftest.py loads it):
# one moto server for the whole run, a fresh bucket per test with the AWS variables set.
#
# The server is a process of its own, started by the run's controller as the run begins: every
# xdist worker shares it (moto and its S3 backend load once, not once per worker and module),
# and its work runs beside the client's instead of under the same GIL as the test.


def start_server(url_file: Path) -> subprocess.Popen[bytes]:
    """moto's server in a process of its own; its URL appears in ``url_file``. Its stdin is a
    pipe from the caller: when the caller stops it (stop_server) or ends, however it ends, the
    server reads end-of-file and stops (see _serve)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.s3server", str(url_file)],
        stdin=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _URL_FILE in os.environ:
        return  # a worker (the controller started it), or an outer run's server
    url_file = Path(tempfile.mkdtemp(prefix="bg20k-moto-")) / "url"
    config.stash[_SERVER] = start_server(url_file)
    os.environ[_URL_FILE] = str(url_file)


def pytest_unconfigure(config: pytest.Config) -> None:
    proc = config.stash.get(_SERVER, None)
    if proc is not None:
        stop_server(proc)
        shutil.rmtree(Path(os.environ.pop(_URL_FILE)).parent, ignore_errors=True)


_SERVER = pytest.StashKey[subprocess.Popen[bytes]]()


@pytest.fixture(scope="session")
def endpoint() -> str:
    url_file = os.environ[_URL_FILE]  # set by pytest_configure, in the controller
    deadline = time.monotonic() + 60
    while not os.path.exists(url_file):
        if time.monotonic() > deadline:
            pytest.fail(f"moto's server did not start within 60 s ({url_file} never appeared)")
        time.sleep(0.02)
    return Path(url_file).read_text()


def _serve(url_file: Path) -> None:
    from moto import backends

    # moto lists its package directory and stats each of ~200 entries on every request, to
    # see whether the Host names a service: a fifth of the server's CPU in a test run. The
    # list cannot change while the server runs.
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    with moto_server() as url:
        tmp = url_file.with_suffix(".tmp")
        tmp.write_text(url)
        tmp.rename(url_file)  # whole, or not there: a reader never sees half a URL
        sys.stdin.read()  # until the test run closes the pipe (or dies)
        # Its buckets live only in memory: nothing to shut down gracefully, and werkzeug's
        # shutdown waits out a half-second poll at the end of every test run.
        os._exit(0)


@pytest.fixture(scope="session")
def _client(endpoint: str) -> Any:
    """One boto3 client per test process: making one costs 30 ms of CPU, twice a test."""
    import boto3

    env = s3_env(endpoint)
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def bucket(endpoint: str, _client: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in s3_env(endpoint).items():
        monkeypatch.setenv(name, value)
    name = f"lab-{uuid.uuid4().hex[:10]}"
    _client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(_client: Any, bucket: str) -> Any:
    return _client


def keys(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under ``prefix``: key -> bytes."""
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in found}


def dataset(tmp_path: Path, name: str, start: int = 0) -> Path:
    """A publisher's verified tree ``tmp_path/name`` (see helpers.fetched_copy)."""
    from tests.helpers import fetched_copy

    return fetched_copy(tmp_path, name, f"{name}.zip", start)


@pytest.fixture
def local(tmp_path: Path, small_release: Path) -> Path:
    return dataset(tmp_path, "publisher")


def with_denoise(tmp_path: Path, local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Add train_denoise/ to the publisher's tree from its (emulated) official Drive file."""
    from tests.data import SMALL, jpeg, zip_bytes
    from tests.gdrive_emulator import DriveEmulator, Options
    from tests.helpers import cli, write_release

    train = sorted(p.name for p in (local / "BG-20k" / "train").iterdir())
    denoised = {f"train_denoise/{name}": jpeg(900 + n) for n, name in enumerate(train)}
    with DriveEmulator(Options(warn_size=10**9)) as drive, monkeypatch.context() as patch:
        for name, value in drive.env().items():
            patch.setenv(name, value)
        file_id = drive.add_file("train_denoise.zip", zip_bytes(denoised))
        release = write_release(tmp_path / "rel-denoise", counts=SMALL, denoise_file=file_id)
        patch.setenv("BG20K_RELEASE_FILE", str(release))
        result = cli("fetch", "--accept", "--dest", str(local), "--with", "train_denoise")
        assert result.code == 0, result.err


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
