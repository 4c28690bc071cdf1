"""The dataset description shipped in agreement/bg20k.yaml, validated with pydantic.

It is the one place that names the agreement, the official sources, the expected layout and the
references. ``BG20K_RELEASE_FILE`` points at another description (tests use it to make the
expected counts small without touching the shipped one).
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ReleaseDescriptionError, validation_problem
from .fsutil import read_limited
from .userpath import user_path
from .yamlio import load_yaml

RELEASE_FILE_NAME = "bg20k.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreementInfo(_Strict):
    title: str
    version: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pdf: str | None = None
    license: str | None = None


class SourceInfo(_Strict):
    kind: Literal["gdrive-folder", "gdrive-file", "baidu", "http"]
    url: str
    id: str | None = None
    password: str | None = None
    official: bool = False
    optional: bool = False
    component: str | None = None  # the optional split this source provides (train_denoise)
    note: str | None = None


class Split(_Strict):
    name: str
    count: int | None = Field(default=None, ge=0)


class Layout(_Strict):
    root: str
    splits: tuple[Split, ...]
    optional_splits: tuple[Split, ...] = ()
    extensions: tuple[str, ...] = (".jpg", ".jpeg")
    # Files the release keeps beside the split folders (the authors' notes and inventories).
    root_files: tuple[str, ...] = ()
    # Which of them lists a split's images, one bare file name per line.
    split_lists: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lists_are_root_files(self) -> Layout:
        for split, name in self.split_lists.items():
            if name not in self.root_files:
                raise ValueError(f"split list {name} for {split} is not among root_files")
        return self


class Person(_Strict):
    family: str
    given: str


class Reference(_Strict):
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_:-]*$")
    role: Literal["required", "encouraged"]
    type: Literal["article", "inproceedings"]
    authors: tuple[Person, ...]
    title: str
    year: int
    doi: str
    pages: tuple[int, int] | None = None
    journal: str | None = None
    journal_abbrev: str | None = None
    volume: str | None = None
    number: str | None = None
    booktitle: str | None = None
    editors: tuple[Person, ...] = ()
    series: str | None = None
    publisher: str | None = None
    address: str | None = None
    note: str | None = None


class Release(_Strict):
    dataset: str
    release: str
    title: str
    description: str = ""
    homepage: str | None = None
    date_published: str | None = None
    license_url: str | None = None
    agreement: AgreementInfo
    sources: tuple[SourceInfo, ...]
    layout: Layout
    references: tuple[Reference, ...]

    @property
    def official_folder(self) -> SourceInfo | None:
        return next((s for s in self.sources if s.kind == "gdrive-folder" and s.official), None)

    def component_source(self, name: str) -> SourceInfo | None:
        return next((s for s in self.sources if s.component == name), None)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.layout.optional_splits)


def _shipped_dir() -> Path:
    # In a wheel the directory is copied into the package; in a source checkout (editable
    # install, or running from the tree) it sits beside the package at the repository top.
    packaged = Path(str(resources.files("bg20k_fetch"))) / "agreement"
    if (packaged / RELEASE_FILE_NAME).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "agreement"


def release_file() -> Path:
    override = os.environ.get("BG20K_RELEASE_FILE")
    if override:
        return user_path(override, "BG20K_RELEASE_FILE")
    return _shipped_dir() / RELEASE_FILE_NAME


@cache
def _load(path: Path) -> Release:
    try:
        raw = load_yaml(read_limited(path, 1 << 20).decode("utf-8"), max_nodes=100_000)
    except UnicodeDecodeError as exc:
        raise ReleaseDescriptionError(
            f"The dataset description {path} is not UTF-8 text.",
            hint="Reinstall bg20k, or fix BG20K_RELEASE_FILE.",
        ) from exc
    except OSError as exc:
        raise ReleaseDescriptionError(
            f"Cannot read the dataset description {path}: {exc.strerror}.",
            hint="Reinstall bg20k, or fix BG20K_RELEASE_FILE.",
        ) from exc
    except ValueError as exc:
        raise ReleaseDescriptionError(
            f"The dataset description {path} is unusable: {exc}."
        ) from exc
    try:
        return Release.model_validate(raw)
    except ValidationError as exc:
        raise ReleaseDescriptionError(
            f"The dataset description {path} is invalid: {validation_problem(exc)}."
        ) from exc


def load_release() -> Release:
    return _load(release_file().resolve())


def release_dir() -> Path:
    return release_file().resolve().parent
