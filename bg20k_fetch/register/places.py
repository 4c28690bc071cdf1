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
import pwd
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bg20k_fetch.errors import IntegrityError, StorageError, UsageError
from bg20k_fetch.register.records import DIRECTORY, LIMIT
from bg20k_fetch.storage.proof import committed_marker
from bg20k_fetch.storage.store import Store, is_store_url, open_store
from bg20k_fetch.util.procs import owner_tag


@dataclass(frozen=True)
class Found:
    """One file in a register: its bytes (None when they cannot be read, with why), and on a
    file system the account that owns it."""

    name: str
    data: bytes | None
    owner: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Register:
    location: str  # the shared copy, as the user named it

    @property
    def remote(self) -> bool:
        return is_store_url(self.location)

    def add(self, name: str, data: bytes) -> bool:
        """Write one record if no record has that name; False if one had (the same bytes).
        A different file under the name is tampering: IntegrityError."""
        if self.remote:
            store = self._store()
            if store.put_once(f"{DIRECTORY}/{name}", data):
                return True
            there = store.read(f"{DIRECTORY}/{name}", LIMIT + 1)
        else:
            folder = self._dir(create=True)
            if _add_file(folder, name, data):
                return True
            there = (folder / name).read_bytes()
        if there != data:
            raise IntegrityError(
                f"The register of {self.location} holds a different file under the name of "
                f"this record ({name}): someone wrote it there.",
                hint="Ask the copy's admin to look at it; run `bg20k audit` on the copy.",
            )
        return False

    def files(self) -> Iterator[Found]:
        if self.remote:
            yield from self._objects()
            return
        folder = self._dir(create=False)
        try:
            if not folder.exists() and not folder.is_symlink():
                return
            listed = sorted(folder.iterdir())
        except OSError as exc:
            raise StorageError(f"Cannot read the register {folder}: {exc.strerror}.") from exc
        for path in listed:
            if path.name.startswith(".tmp-"):
                continue  # a write a kill cut short: never a record
            yield _found(path)

    def _objects(self) -> Iterator[Found]:
        store = open_store(f"{self._store().url}/{DIRECTORY}")
        for rel in sorted(store.listing()):
            try:
                yield Found(rel, store.read(rel, LIMIT) or b"")
            except StorageError:
                yield Found(rel, None, problem=f"larger than a record ({LIMIT} bytes)")

    def _store(self) -> Store:
        store = open_store(self.location.rstrip("/"))
        if committed_marker(store) is None:
            raise UsageError(
                f"{self.location} is not a published copy of BG-20k (no completion marker).",
                hint="Give the published copy itself, e.g. s3://bucket/prefix/BG-20k.",
            )
        return store

    def _dir(self, *, create: bool) -> Path:
        copy = Path(self.location).expanduser().resolve()
        try:
            ours = (copy / "PROVENANCE.yaml").is_file()
        except OSError as exc:
            raise StorageError(f"Cannot read {copy}: {exc.strerror}.") from exc
        if not ours:
            raise UsageError(
                f"{copy} is not a copy of BG-20k that bg20k made (no PROVENANCE.yaml in it).",
                hint="Give the BG-20k folder itself, e.g. /shared/datasets/BG-20k.",
            )
        folder = copy / DIRECTORY
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise IntegrityError(
                f"{folder} is not the register's folder (a link or a file in its place).",
                hint="Ask the copy's admin to put it back; bg20k writes only into the real one.",
            )
        if create:
            _make_shared_dir(folder, copy)
        return folder


def _found(path: Path) -> Found:
    try:
        info = path.lstat()
        owner = _account(info.st_uid)
        if not stat.S_ISREG(info.st_mode):
            return Found(path.name, None, owner, "not a regular file")
        with open(path, "rb") as handle:
            return Found(path.name, handle.read(LIMIT + 1), owner)
    except OSError as exc:
        return Found(path.name, None, None, f"cannot be read ({exc.strerror})")


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def _make_shared_dir(folder: Path, copy: Path) -> None:
    """Sticky, and writable by whoever can read the copy: its group (setgid, so records keep
    the copy's group) when only the group can read it, everyone when everyone can. Made again
    by its owner if a rebuild of the copy carried it over with plain permissions."""
    try:
        folder.mkdir()
    except FileExistsError:
        if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & stat.S_ISVTX:
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
