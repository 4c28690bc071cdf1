"""Build the dataset tree in a staging directory from archives and directories, hashing as it goes.

Whatever wraps the images (``BG-20k/``, ``something/BG-20k/``, or ``train/`` at the top), files
land at ``<split>/<name>``. Several parts merge; an identical file twice is fine, two different
files at one path are an integrity error. Each file's SHA-256, size and JPEG markers are taken
while it is written, so the manifest needs no second read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bg20k_fetch.errors import ConflictingFiles, IntegrityError
from bg20k_fetch.progress import NullReporter, Reporter
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.archive import (
    Limits,
    Member,
    archive_kind,
    kind_of,
    list_members,
    name_parts,
)
from bg20k_fetch.transfer.extract import Item, copy_members, workers_for
from bg20k_fetch.transfer.hashing import FileInfo, consume
from bg20k_fetch.transfer.members import open_members
from bg20k_fetch.transfer.workerdir import write_error
from bg20k_fetch.util.fs import open_regular

# Image types BG-20k does not hold: a file of one of them in a split folder is reported by
# name, never counted as a JPEG and never silently ignored.
OTHER_IMAGES = (".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif")


@dataclass
class Staging:
    root: Path
    release: Release
    reporter: Reporter = field(default_factory=NullReporter)
    limits: Limits = field(default_factory=Limits)
    files: dict[str, FileInfo] = field(default_factory=dict)  # images, by split/name
    root_files: dict[str, FileInfo] = field(default_factory=dict)  # the release's own notes
    not_jpeg: list[str] = field(default_factory=list)  # other image types in a split folder
    extras: list[str] = field(default_factory=list)
    # Names a directory walk passes over: bg20k's own working entries, when a source folder
    # contains the destination.
    skip: Callable[[str], bool] = field(default=lambda name: False)
    # Fetching one optional split: every image lands in it by name, however the source nests it.
    component: str | None = None

    def __post_init__(self) -> None:
        layout = self.release.layout
        self.splits = {s.name for s in (*layout.splits, *layout.optional_splits)}
        self.extensions = tuple(e.lower() for e in layout.extensions)
        self.root_names = set(layout.root_files)

    def target_for(self, name: str) -> str | None:
        """Where a file belongs inside BG-20k/ — ``split/…`` for an image, a bare name for one
        of the release's root files — or None for extras (a mirror's notes, OS clutter …)."""
        parts = name_parts(name)
        if "__MACOSX" in parts or parts[-1].startswith("."):
            return None
        if self.component is not None:
            rel = f"{self.component}/{parts[-1]}"
            if rel.lower().endswith(self.extensions):
                return rel
            if rel.lower().endswith(OTHER_IMAGES) and rel not in self.not_jpeg:
                self.not_jpeg.append(rel)
            return None
        for i, part in enumerate(parts[:-1]):
            if part in self.splits:
                rel = "/".join(parts[i:])
                if rel.lower().endswith(self.extensions):
                    return rel
                if rel.lower().endswith(OTHER_IMAGES) and rel not in self.not_jpeg:
                    self.not_jpeg.append(rel)  # never counted as a JPEG, never ignored
                return None
        return parts[-1] if parts[-1] in self.root_names else None

    def add_archive(self, path: Path, label: str | None = None) -> None:
        members = list_members(path, self.limits)
        placed: list[tuple[Member, str]] = []
        for member in members:
            rel = self.target_for(member.name)
            if rel is None:
                self.extras.append(f"{label or path.name}:{member.name}")
            else:
                placed.append((member, rel))
        total = sum(m.size for m, _ in placed)
        self.reporter.phase(f"extract {path.name}", total, "bytes")
        if kind_of(path) == "zip":
            items = self._items(placed)
            del members, placed  # the items hold what is copied; the peak is during the copy
            self._copy_zip(path, items, total)
            return
        wanted = {m.name: rel for m, rel in placed}
        with open_members(path, members) as stream:  # a tar is read once, front to back
            for member, handle in stream:
                rel = wanted.get(member.name)
                if rel is not None:
                    self._store(rel, handle, f"{path.name}:{member.name}", member.size)

    def _items(self, placed: list[tuple[Member, str]]) -> list[Item]:
        """What to copy: each path's first copy is written, the others only hashed and
        compared."""
        items, seen, root = [], set(), str(self.root)
        for member, rel in placed:
            fresh = rel not in self._bucket(rel) and rel not in seen
            seen.add(rel)
            items.append(Item(member, rel, os.path.join(root, rel) if fresh else None))
        return items

    def _copy_zip(self, path: Path, items: list[Item], total: int) -> None:
        copied = copy_members(
            path,
            items,
            workers=workers_for(total, len(items)),
            advance=self.reporter.advance,
            scratch=str(self.root),
        )
        for item, info in copied:
            if item.target is not None:
                self._bucket(item.rel)[item.rel] = info
        for item, info in copied:  # a second copy of a path must hold the same bytes
            if item.target is None and info.sha256 != self._bucket(item.rel)[item.rel].sha256:
                raise ConflictingFiles(item.rel, f"{path.name}:{item.member.name}")

    def add_directory(self, path: Path) -> None:
        """Add a directory's images (and archives), copying and hashing each."""
        self.reporter.phase(f"collect {path.name}", None, "bytes")
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not self.skip(d))
            for filename in sorted(f for f in filenames if not self.skip(f)):
                file = Path(dirpath, filename)
                self._add_file(file, file.relative_to(path).as_posix(), None)

    def add_listed(self, base: Path, known: Mapping[str, FileInfo], *, link: bool) -> None:
        """Add exactly the files a download just listed and hashed (relative POSIX path ->
        info), never whatever else a cache directory holds from earlier listings. They are
        hard-linked when ``link`` (a cache that is kept must not share files with the tree)."""
        self.reporter.phase(f"collect {base.name}", None, "bytes")
        for source_rel in sorted(known):
            self._add_file(base / source_rel, source_rel, known[source_rel] if link else None)

    def _add_file(self, file: Path, source_rel: str, info: FileInfo | None) -> None:
        rel = self.target_for(source_rel)
        if rel is None and not archive_kind(file):
            self.extras.append(str(file))  # never opened: it is not ours to read
            return
        if rel is not None and info is not None and self._adopt(rel, file, info):
            return
        with _open_source(file) as handle:
            if rel is not None:
                self._store(rel, handle, str(file), os.fstat(handle.fileno()).st_size)
                return
        self.add_archive(file)

    def _bucket(self, rel: str) -> dict[str, FileInfo]:
        return self.files if "/" in rel else self.root_files

    def _store(self, rel: str, stream: IO[bytes], origin: str, declared: int) -> None:
        target = self.root / rel
        bucket = self._bucket(rel)
        if rel in bucket:
            info = consume(stream, None, origin)
            if info.sha256 != bucket[rel].sha256:
                raise ConflictingFiles(rel, origin)
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as out:
                info = consume(stream, out, origin)
        except OSError as exc:  # reads raise IntegrityError inside _consume: these are writes
            raise write_error(target, exc) from exc
        if info.size != declared:
            raise IntegrityError(f"{origin} gave {info.size} bytes where {declared} were declared.")
        bucket[rel] = info
        self.reporter.advance(info.size)

    def _adopt(self, rel: str, file: Path, info: FileInfo) -> bool:
        """Link an already hashed file into place; False when it must be copied instead."""
        bucket = self._bucket(rel)
        if rel in bucket:
            if info.sha256 != bucket[rel].sha256:
                raise ConflictingFiles(rel, str(file))
            return True
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, target)
        except OSError:
            return False  # another file system, or links not allowed: copy and hash
        bucket[rel] = info
        self.reporter.advance(info.size)
        return True

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _open_source(file: Path) -> IO[bytes]:
    try:
        return open_regular(file)
    except ValueError as exc:
        raise IntegrityError(
            f"{file} is not a regular file (a FIFO, a device, a link to one); refused.",
            hint="Give a copy of the dataset made of plain files.",
        ) from exc
    except OSError as exc:
        raise IntegrityError(f"Cannot read {file}: {exc.strerror}.") from exc
