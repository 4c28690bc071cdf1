"""Where bg20k keeps things. Every location is overridable by an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from bg20k_fetch.util.userpath import user_path

APP_NAME = "bg20k"


def _dir(env_var: str, default: str, given: str | os.PathLike[str] | None = None) -> Path:
    value = os.fspath(given) if given is not None else os.environ.get(env_var)
    return user_path(value, env_var) if value else Path(default)


@dataclass(frozen=True)
class Paths:
    """Locations resolved once per command, from the environment at call time (not import time)."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(
        cls,
        *,
        config_dir: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> Paths:
        """Each location: the argument if given, else its BG20K_*_DIR, else platformdirs'."""
        return cls(
            config_dir=_dir("BG20K_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME), config_dir),
            data_dir=_dir("BG20K_DATA_DIR", platformdirs.user_data_dir(APP_NAME), data_dir),
            cache_dir=_dir("BG20K_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME), cache_dir),
        )

    @property
    def consent_file(self) -> Path:
        return self.config_dir / "consent.yaml"

    @property
    def history_file(self) -> Path:
        return self.config_dir / "consent-history.jsonl"

    @property
    def consent_lock(self) -> Path:
        """Held by whoever writes the record or the history (nodes may share one home)."""
        return self.config_dir / ".consent.lock"

    @property
    def accepted_texts_dir(self) -> Path:
        """Copies of every agreement text ever accepted, named by digest, for diffs and audits."""
        return self.config_dir / "accepted-agreements"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.yaml"
