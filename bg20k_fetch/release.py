"""The dataset description shipped in agreement/bg20k.yaml, validated strictly.

It is the one place that names the agreement, the official sources, the expected layout and the
references. ``BG20K_RELEASE_FILE`` points at another description (tests use it to make the
expected counts small without touching the shipped one).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from bg20k_fetch.errors import ReleaseDescriptionError
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.shipped import LIMIT, compiled_copy, release_file
from bg20k_fetch.util.strict import Invalid, build

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_:-]*$")


@dataclass(frozen=True)
class AgreementInfo:
    title: str
    version: str
    file: str
    sha256: str
    pdf: str | None = None
    license: str | None = None

    def __post_init__(self) -> None:
        if not _SHA256.match(self.sha256):
            raise ValueError("agreement.sha256 must be 64 lower-case hex digits")


@dataclass(frozen=True)
class SourceInfo:
    kind: Literal["gdrive-folder", "gdrive-file", "baidu", "http"]
    url: str
    id: str | None = None
    password: str | None = None
    official: bool = False
    optional: bool = False
    component: str | None = None  # the optional split this source provides (train_denoise)
    note: str | None = None


@dataclass(frozen=True)
class Split:
    name: str
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 0:
            raise ValueError(f"the count of {self.name} is negative")


@dataclass(frozen=True)
class Layout:
    root: str
    splits: tuple[Split, ...]
    optional_splits: tuple[Split, ...] = ()
    extensions: tuple[str, ...] = (".jpg", ".jpeg")
    # Files the release keeps beside the split folders (the authors' notes and inventories).
    root_files: tuple[str, ...] = ()
    # Which of them lists a split's images, one bare file name per line.
    split_lists: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for split, name in self.split_lists.items():
            if name not in self.root_files:
                raise ValueError(f"split list {name} for {split} is not among root_files")


@dataclass(frozen=True)
class Person:
    family: str
    given: str


@dataclass(frozen=True)
class Reference:
    key: str
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

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"{self.key!r} is not a usable BibTeX key")


@dataclass(frozen=True)
class Release:
    dataset: str
    release: str
    title: str
    agreement: AgreementInfo
    sources: tuple[SourceInfo, ...]
    layout: Layout
    references: tuple[Reference, ...]
    description: str = ""
    homepage: str | None = None
    date_published: str | None = None
    license_url: str | None = None

    @property
    def official_folder(self) -> SourceInfo | None:
        return next((s for s in self.sources if s.kind == "gdrive-folder" and s.official), None)

    def component_source(self, name: str) -> SourceInfo | None:
        return next((s for s in self.sources if s.component == name), None)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.layout.optional_splits)


def _description(path: Path) -> Release:
    data = read_limited(path, LIMIT)
    compiled = compiled_copy(path, data)
    if compiled is not None:
        return build(Release, compiled.get("description"))
    return _from_yaml(data)


@lru_cache(maxsize=8)
def _from_yaml(data: bytes) -> Release:
    """A description given as YAML, by its bytes: a process that opens many copies of one
    description (a test run writes one per test) parses and checks it once. A Release is
    frozen, so every caller may share it."""
    from bg20k_fetch.util.yamlio import load_yaml  # PyYAML: a third of `bg20k cite`'s start

    return build(Release, load_yaml(data.decode("utf-8"), max_nodes=100_000))


def compiled_text(path: Path, answers: dict[str, object] | None = None) -> str:
    """What ``bg20k.json`` holds for the YAML at ``path``, with ``answers`` precompiled from it
    (citing/precompiled.py writes it; tests/test_agreement.py checks the shipped one)."""
    from bg20k_fetch.util.yamlio import load_yaml

    data = path.read_bytes()
    packed = {
        "source": path.name,
        "source_size": len(data),
        "source_crc32": zlib.crc32(data),
        "description": load_yaml(data.decode("utf-8")),
        **({"answers": answers} if answers else {}),
    }
    return json.dumps(packed, indent=1, ensure_ascii=False) + "\n"


@cache
def _load(path: Path) -> Release:
    try:
        return _description(path)
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
    except Invalid as exc:
        raise ReleaseDescriptionError(f"The dataset description {path} is invalid: {exc}.") from exc
    except ValueError as exc:
        raise ReleaseDescriptionError(
            f"The dataset description {path} is unusable: {exc}."
        ) from exc


def load_release() -> Release:
    return _load(release_file().resolve())


def release_at(path: Path) -> Release:
    """The description in the file ``path`` (not the one in use), validated."""
    return _load(path.resolve())


def release_dir() -> Path:
    return release_file().resolve().parent
