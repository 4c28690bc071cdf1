"""Where each extracting worker creates its files: a directory of its own, then a link into place.

Creating a file holds its directory's lock for the whole of the file system's work on the new
inode, so workers creating files in one directory (``train/`` holds three quarters of BG-20k)
take turns, and spin while they wait. On the benchmark machine (benchmarks/create_dirs.py) two
threads creating 20,000 files in one directory took 4-12 s, often at twice the CPU; in two
directories 3-6.5 s; a 20,000-member extraction 4.6 s against 6.0 s (docs/performance.md, round
2g). A link, not a rename, puts each file in place: it never replaces a file already there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading

from bg20k_fetch.errors import StorageError


class WorkerDir:
    """One worker's directory to create files in, holding at most the file being written;
    without a scratch directory, files are created in place. A file system that refuses a
    link (FAT, some network ones; AFS between directories) gets the first file copied into
    place, and every later one created in place."""

    def __init__(self, scratch: str | None) -> None:
        self.dir = (
            None
            if scratch is None
            else os.path.join(scratch, f".bg20k-extract-{threading.get_ident()}")
        )
        self._temp = None if self.dir is None else os.path.join(self.dir, "member")
        self.file = self._temp  # where the next member is created; None: in place

    def __enter__(self) -> WorkerDir:
        if self.dir is not None:
            try:
                os.mkdir(self.dir)  # ours from here: an existing one is refused
            except OSError as exc:
                raise write_error(self.dir, exc) from exc
        return self

    def place(self, target: str) -> None:
        if self.file is None:
            return
        try:
            os.link(self.file, target)  # fails on an existing file; a rename would replace it
        except FileExistsError:
            raise
        except OSError:
            with open(self.file, "rb") as made, open(target, "xb") as out:
                shutil.copyfileobj(made, out)
            self.file = None
        os.unlink(self._temp)  # type: ignore[arg-type]

    def __exit__(self, failed: object, *exc: object) -> None:
        if self.dir is None or self._temp is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)  # a member whose writing failed
            os.rmdir(self.dir)
        except OSError as exc:
            if failed is None:  # else the first error is the one to report
                raise write_error(self.dir, exc) from exc


def write_error(target: str | os.PathLike[str], exc: OSError) -> StorageError:
    return StorageError(
        f"Cannot write {target}: {exc.strerror or exc}.",
        hint="Check free space and permissions at the destination.",
    )
