"""The user's config file (``config.yaml`` beside the consent record): mirrors and base URLs.

Validated by util/strict.py, like every other file bg20k reads (unknown keys refused, no
coercion), not pydantic: pydantic's import was a quarter of every fetch's start and 8 MiB of
its memory, for three small classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bg20k_fetch.errors import UsageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.strict import Invalid, build
from bg20k_fetch.util.yamlio import load_yaml

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Mirror:
    url: str
    sha256: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if not self.url.strip():  # read as a path, it would be the current directory
            raise Invalid("url", "must not be empty")
        if self.sha256 is not None and not _SHA256.match(self.sha256):
            raise Invalid("sha256", "must be 64 hex digits")
        if self.size is not None and self.size < 0:
            raise Invalid("size", "must not be negative")


@dataclass(frozen=True)
class DriveConfig:
    """Base URLs for Google Drive (defaults are Google's), and an optional API key."""

    drive: str | None = None
    usercontent: str | None = None
    accounts: str | None = None
    api: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class Config:
    mirrors: list[Mirror] = field(default_factory=list)
    gdrive: DriveConfig | None = None


def load_config(paths: Paths) -> Config:
    path = paths.config_file
    try:
        raw = load_yaml(read_limited(path, 1 << 20).decode("utf-8"), max_nodes=100_000)
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"Cannot read the config file {path}: {exc}.") from exc
    try:
        return build(Config, raw or {})
    except Invalid as exc:
        raise UsageError(f"The config file {path} is invalid: {exc}.") from exc
