"""A Drive folder's cache: which files are already complete, so a re-run fetches only the rest.

An index beside the files remembers each finished file's size, mtime and SHA-256; a file whose
size and mtime still match is taken as it is, without reading it again. A file that finished
before its index line was written is hashed once.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from bg20k_fetch.gdrive.listing import RemoteFile
from bg20k_fetch.transfer.hashing import FileInfo, hash_file, jpeg_markers_ok
from bg20k_fetch.util.fs import read_limited
from bg20k_fetch.util.jsonio import load_json

INDEX_NAME = ".bg20k-index.jsonl"


class FolderCache:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.done: dict[str, FileInfo] = {}  # by the file's path in the cache
        self._lock = threading.Lock()
        self._index = self._read_index()

    def complete(self, f: RemoteFile) -> FileInfo | None:
        """The file's info if it is already complete in the cache (and remembered), else None."""
        path = self.target / f.local
        try:
            stat = path.stat()
        except OSError:
            return None
        if f.size is not None and stat.st_size != f.size:
            return None
        known = self._index.get(f.local)
        if known and (
            known.get("size") != stat.st_size or known.get("mtime_ns") != stat.st_mtime_ns
        ):
            # Changed since it was downloaded (edited through a hard link, say): those are not
            # the bytes Drive served, so it is fetched again rather than trusted.
            path.unlink(missing_ok=True)
            return None
        if known:
            info = with_markers(path, FileInfo(str(known["sha256"]), stat.st_size, False))
            with self._lock:
                self.done[f.local] = info
            return info
        info = hash_file(path)  # finished before its index line was written: hash it once
        self.remember(f, info)
        return info

    def remember(self, f: RemoteFile, info: FileInfo) -> None:
        line = json.dumps(
            {
                "path": f.local,
                "id": f.id,
                "size": info.size,
                "sha256": info.sha256,
                "mtime_ns": (self.target / f.local).stat().st_mtime_ns,
            }
        )
        with self._lock:
            self.done[f.local] = info
            with (self.target / INDEX_NAME).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def _read_index(self) -> dict[str, dict[str, object]]:
        index: dict[str, dict[str, object]] = {}
        with contextlib.suppress(OSError, ValueError):
            text = read_limited(self.target / INDEX_NAME, 256 << 20).decode("utf-8", "replace")
            for line in text.splitlines():
                with contextlib.suppress(ValueError):
                    item = load_json(line)
                    if isinstance(item, dict) and isinstance(item.get("path"), str):
                        index[item["path"]] = item
        return index


def with_markers(path: Path, info: FileInfo) -> FileInfo:
    """The JPEG start/end markers, from two small reads instead of the whole file."""
    with path.open("rb") as handle:
        head = handle.read(3)
        handle.seek(max(0, info.size - 64))
        tail = handle.read()
    return FileInfo(info.sha256, info.size, jpeg_markers_ok(head, tail))
