from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fileserver import FileServer

# The object-store fixtures (endpoint, bucket, s3), shared by every file that needs a bucket.
pytest_plugins = ["tests.s3server"]

if TYPE_CHECKING:
    from bg20k_fetch.consent.agreement import Agreement
    from bg20k_fetch.locations import Paths

# Some machines set PYTHONDONTWRITEBYTECODE: then every test module is compiled and its asserts
# rewritten again in every worker, and every `python -m bg20k_fetch` a test starts compiles the
# package from source. The test run keeps bytecode (ignored by git) whatever the environment
# says: a third of the fast layer's time here. Code under test is unaffected.
sys.dont_write_bytecode = False


def _skip_finalization() -> None:
    """An xdist worker has sent every result by the time its exit handlers run; tearing down
    its interpreter (closing the object stores' clients one by one, collecting the heap) then
    took 0.3-0.8 s of CPU per worker at the very end of the run, with all four doing it at
    once on two cores. Registered here, before the run's own handlers, so it runs after them:
    temporary trees are still removed."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_skip_finalization)
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Test trees live in RAM where the machine has a roomy tmpfs (/dev/shm): real files on a real
# file system, without the disk's fsync and unlink costs (a tenth of the fast layer's time
# here). BG20K_TEST_TMP=disk keeps them on the disk; tests that need a full or tiny disk
# mount their own.
_SHM = Path("/dev/shm")
if (
    os.environ.get("BG20K_TEST_TMP") != "disk"
    and _SHM.is_dir()
    and os.access(_SHM, os.W_OK)
    and shutil.disk_usage(_SHM).free > 4 << 30
):
    tempfile.tempdir = str(_SHM)


try:  # Hypothesis is a test extra; its profiles are set once for every property file
    from hypothesis import HealthCheck, settings

    # "ci" (the default): the same examples on every run, so a red build is reproducible; the
    # fuzz targets in fuzz/ are where new inputs are searched for. "explore": a fresh search.
    _CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    settings.register_profile(
        "ci", max_examples=50, deadline=None, derandomize=True, suppress_health_check=_CHECKS
    )
    settings.register_profile(
        "explore", max_examples=5_000, deadline=None, suppress_health_check=_CHECKS
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover
    pass


def pytest_configure(config: pytest.Config) -> None:
    """A test run started in the background (nohup, `setsid … &`) ignores SIGINT, and every
    child inherits an ignored signal: the Ctrl-C journeys would then test a command that cannot
    be interrupted and time out. Children of this run start with SIGINT at its default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Modes of created files depend on the umask; pin the usual one."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Every test gets its own config, data and cache dirs, and no inherited acceptance."""
    dirs = {name: tmp_path / name for name in ("config", "data", "cache")}
    monkeypatch.setenv("BG20K_CONFIG_DIR", str(dirs["config"]))
    monkeypatch.setenv("BG20K_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("BG20K_CACHE_DIR", str(dirs["cache"]))
    for var in ("BG20K_ACCEPT_AGREEMENT", "BG20K_RELEASE_FILE", "CI", "BG20K_GDRIVE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    # No test may reach Google: every Drive base URL points at a closed loopback port unless
    # a test points it at the emulator.
    for var in (
        "BG20K_GDRIVE_URL",
        "BG20K_GDRIVE_USERCONTENT_URL",
        "BG20K_GDRIVE_ACCOUNTS_URL",
        "BG20K_GDRIVE_API_URL",
    ):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("BG20K_BACKOFF", "0.05")
    yield dirs


@pytest.fixture
def small_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test-only description expecting 6 train and 3 testval images (the shipped one is
    untouched); fast retries so failure tests do not wait minutes."""
    from tests.data import SMALL
    from tests.helpers import write_release

    path = write_release(tmp_path / "release", counts=SMALL)
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(path))
    monkeypatch.setenv("BG20K_BACKOFF", "0.05")
    return path


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as srv:
        yield srv


@pytest.fixture
def paths(isolated_env: dict[str, Path]) -> Paths:
    """Where consent and data go, resolved from the isolated environment."""
    from bg20k_fetch.locations import Paths

    return Paths.from_env()


@pytest.fixture
def shipped() -> Agreement:
    """The agreement text bg20k ships."""
    from bg20k_fetch.consent.agreement import load_agreement

    return load_agreement()
