"""The user's config file (``config.yaml`` beside the consent record): mirrors and base URLs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bg20k_fetch.errors import UsageError, validation_problem
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.yamlio import load_yaml


class Mirror(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    size: int | None = Field(default=None, ge=0)

    @field_validator("url")
    @classmethod
    def _not_blank(cls, url: str) -> str:
        if not url.strip():  # read as a path, it would be the current directory
            raise ValueError("must not be empty")
        return url


class DriveConfig(BaseModel):
    """Base URLs for Google Drive (defaults are Google's), and an optional API key."""

    model_config = ConfigDict(extra="forbid")

    drive: str | None = None
    usercontent: str | None = None
    accounts: str | None = None
    api: str | None = None
    api_key: str | None = None


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mirrors: list[Mirror] = []
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
        return Config.model_validate(raw or {})
    except ValidationError as exc:
        raise UsageError(f"The config file {path} is invalid: {validation_problem(exc)}.") from exc
