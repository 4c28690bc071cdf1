"""What a paper author has at hand, gathered into one read-only bundle of files: a LaTeX
project directory, single files (.tex, .bib, .aux, .bbl, .bcf, .pdf) and arXiv-style source
archives (.tar.gz, .tgz, .tar, .zip), whose members are checked one by one exactly as any
archive bg20k reads, and read in memory: nothing is written anywhere, ever."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bg20k_fetch.errors import Bg20kError, UsageError
from bg20k_fetch.transfer.archive import Limits, archive_kind, list_members
from bg20k_fetch.transfer.members import open_members

KINDS = (".tex", ".bib", ".aux", ".bbl", ".bcf", ".pdf")
MAX_FILE = 256 << 20  # a paper's PDF with figures; anything larger is not a paper
_ARCHIVE_LIMITS = Limits(max_members=50_000, max_total_bytes=4 << 30, max_ratio=1000.0)
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


@dataclass
class Bundle:
    files: dict[str, bytes] = field(default_factory=dict)  # display name -> bytes
    given: list[str] = field(default_factory=list)  # names the user pointed at directly

    def of_kind(self, suffix: str) -> list[str]:
        return sorted(n for n in self.files if n.lower().endswith(suffix))


def gather(paths: Iterable[str | os.PathLike[str]]) -> Bundle:
    bundle = Bundle()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            _add_dir(bundle, path)
        elif not path.exists():
            raise UsageError(f"{path}: no such file or directory.")
        elif archive_kind(PurePosixPath(path.name)):
            _add_archive(bundle, path)
        elif path.suffix.lower() in KINDS:
            bundle.files[str(path)] = _read(path)
            bundle.given.append(str(path))
        else:
            raise UsageError(
                f"{path}: not something a paper is made of; give a LaTeX project directory, "
                f"a {', '.join(KINDS)} file or a source archive (.tar.gz, .zip)."
            )
    if not bundle.files:
        raise UsageError("No .tex, .bib, build output or PDF was found in what was given.")
    return bundle


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise UsageError(f"{path} is {size} bytes: too large for a paper's file.")
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _add_dir(bundle: Bundle, root: Path) -> None:
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix.lower() in KINDS and path.is_file() and not path.is_symlink():
                bundle.files[str(path)] = _read(path)


def _add_archive(bundle: Bundle, path: Path) -> None:
    try:
        members = [
            m
            for m in list_members(path, _ARCHIVE_LIMITS)
            if PurePosixPath(m.name).suffix.lower() in KINDS and m.size <= MAX_FILE
        ]
        with open_members(path, members) as stream:
            for member, handle in stream:
                bundle.files[f"{path}/{member.name}"] = handle.read(MAX_FILE + 1)
    except Bg20kError as exc:  # unsafe or damaged: refused as a whole, nothing read from it
        raise UsageError(f"{path}: {exc.message}") from exc
