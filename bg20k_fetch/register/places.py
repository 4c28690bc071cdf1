"""Where a register lives: ``.bg20k-register/`` inside a shared copy — a directory on a shared
file system, or a published prefix in an object store. Records are only ever added, each
written only if absent; bg20k never rewrites or deletes one.

On a file system a record is written whole to a temporary file, then linked to its name
(``link`` fails if the name exists, and never replaces it), so a kill leaves at most a
temporary file, never a torn record. The register directory is sticky and group- or
world-writable, as the system's shared /tmp is: anyone who can read the copy can add a record,
nobody can remove or rename another person's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bg20k_fetch.errors import StorageError, UsageError
from bg20k_fetch.register.records import DIRECTORY, LIMIT
from bg20k_fetch.storage.store import is_store_url, open_store
from bg20k_fetch.util.procs import owner_tag


@dataclass(frozen=True)
class Register:
    location: str  # the shared copy, as the user named it

    @property
    def remote(self) -> bool:
        return is_store_url(self.location)

    def add(self, name: str, data: bytes) -> bool:
        """Write one record if no record has that name; False if one had (the same bytes)."""
        if self.remote:
            store = open_store(self.location.rstrip("/"))
            return store.put_once(f"{DIRECTORY}/{name}", data)
        return _add_file(self._dir(create=True), name, data)

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Every file in the register: (name, bytes), the bytes cut at a record's limit."""
        if self.remote:
            store = open_store(f"{self.location.rstrip('/')}/{DIRECTORY}")
            for rel in sorted(store.listing()):
                yield rel, store.read(rel, LIMIT + 1) or b""
            return
        folder = self._dir(create=False)
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".tmp-") or not path.is_file() or path.is_symlink():
                continue
            with open(path, "rb") as handle:
                yield path.name, handle.read(LIMIT + 1)

    def _dir(self, *, create: bool) -> Path:
        copy = Path(self.location).expanduser()
        if not (copy / "train").is_dir() and not (copy / "PROVENANCE.yaml").is_file():
            raise UsageError(
                f"{copy} is not a copy of BG-20k (no train/ or PROVENANCE.yaml in it).",
                hint="Give the BG-20k folder itself, e.g. /shared/datasets/BG-20k.",
            )
        folder = copy / DIRECTORY
        if create and not folder.is_dir():
            _make_shared_dir(folder, copy)
        return folder


def _make_shared_dir(folder: Path, copy: Path) -> None:
    """Sticky, and writable by whoever can read the copy: its group (setgid, so records keep
    the copy's group) when only the group can read it, everyone when everyone can."""
    try:
        folder.mkdir()
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"Cannot create the register {folder}: {exc.strerror}.") from exc
    info = copy.stat()
    others_read = bool(info.st_mode & stat.S_IROTH)
    with contextlib.suppress(OSError):  # the copy's group: the people who can read it
        os.chown(folder, -1, info.st_gid)
    os.chmod(folder, 0o1777 if others_read else 0o3770)


def _add_file(folder: Path, name: str, data: bytes) -> bool:
    target = folder / name
    temporary = folder / f".tmp-{owner_tag()}-{secrets.token_hex(6)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, target)  # fails if the name exists: never replaces a record
        except FileExistsError:
            return False
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            os.fsync(dir_fd)
            os.close(dir_fd)
        return True
    except OSError as exc:
        why = "read-only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else ""
        raise StorageError(
            f"Cannot add a record to {folder}: {exc.strerror}"
            + (f" (the register is {why} for you)" if why else "")
            + "."
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
