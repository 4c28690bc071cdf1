from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Every test gets its own config, data and cache dirs, and no inherited acceptance."""
    dirs = {name: tmp_path / name for name in ("config", "data", "cache")}
    monkeypatch.setenv("BG20K_CONFIG_DIR", str(dirs["config"]))
    monkeypatch.setenv("BG20K_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("BG20K_CACHE_DIR", str(dirs["cache"]))
    for var in ("BG20K_ACCEPT_AGREEMENT", "BG20K_RELEASE_FILE", "CI"):
        monkeypatch.delenv(var, raising=False)
    yield dirs
