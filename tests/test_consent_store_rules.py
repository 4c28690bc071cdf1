"""The consent store's lock, its tidying and its copy of the accepted text (consent/store.py):
the behaviours the surviving mutants of a mutmut run showed no test pinned.

Failures root cannot cause for real (a full disk, a rename refused) are simulated by replacing
the one `os` call that would fail, and only for the one file concerned.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.consent import store as consent_store
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import read_status
from bg20k_fetch.consent.store import record_acceptance
from bg20k_fetch.errors import StorageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.oslock import FileLock
from tests.helpers import full_disk_for

LOCK_HINT = "Point BG20K_CONFIG_DIR at a writable directory of your own."


def _lock_message(paths: Paths, code: int) -> str:
    return (
        f"Cannot lock the consent record in {paths.config_dir} ({paths.consent_lock}: "
        f"{os.strerror(code)}); nothing was recorded."
    )


# Kills x__store_lock__mutmut_12 (os.open without its mode: 0o777 less the umask) and
# x__store_lock__mutmut_24 (mode 385, which is 0o601).
def test_the_consent_lock_is_created_private_to_its_owner(
    paths: Paths, shipped: Agreement, umask_022: None
) -> None:
    record_acceptance(paths, shipped, "flag")
    assert stat.S_IMODE(paths.consent_lock.stat().st_mode) == 0o600


# Kills x__store_lock__mutmut_15 (getattr(None, "O_NOFOLLOW", 0)), x__store_lock__mutmut_21
# ("XXO_NOFOLLOWXX") and x__store_lock__mutmut_22 ("o_nofollow"): each drops O_NOFOLLOW, so
# the link is followed and a file made where it points. (Its exact message and hint also kill
# x__store_lock__mutmut_29, _30 and _32, as the next test does.)
def test_a_consent_lock_that_is_a_symlink_is_refused_and_nothing_is_made_where_it_points(
    paths: Paths, shipped: Agreement, tmp_path: Path
) -> None:
    target = tmp_path / "planted-by-someone-else"
    paths.config_dir.mkdir(parents=True)
    paths.consent_lock.symlink_to(target)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == _lock_message(paths, errno.ELOOP)
    assert caught.value.hint == LOCK_HINT
    assert not target.exists() and not target.is_symlink()
    assert paths.consent_lock.is_symlink()
    assert not paths.consent_file.exists() and not paths.history_file.exists()


# Kills x__store_lock__mutmut_29 (`exc.strerror and exc`: the raw "[Errno 21] ..." text),
# x__store_lock__mutmut_30 ("XX...XX" hint) and x__store_lock__mutmut_32 (upper-cased hint).
def test_a_lock_that_cannot_be_opened_is_one_sentence_naming_it_with_advice(
    paths: Paths, shipped: Agreement
) -> None:
    paths.consent_lock.mkdir(parents=True)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == _lock_message(paths, errno.EISDIR)
    assert caught.value.hint == LOCK_HINT
    assert not paths.consent_file.exists()


# Kills x_tidy__mutmut_5 (`lock.acquire(timeout=1)`: tidying waits for the writer, then
# removes the temporary file the writer is still using).
def test_tidying_never_waits_for_a_writer_and_leaves_its_files_alone(
    paths: Paths, shipped: Agreement
) -> None:
    record_acceptance(paths, shipped, "flag")
    busy = paths.config_dir / ".consent.yaml.1@h.abcdefgh.tmp"
    busy.write_text("being written")
    held, writing_for = threading.Event(), 0.9  # under the 1 s a waiting tidy would allow

    def writer() -> None:
        with FileLock(str(paths.consent_lock)):
            held.set()
            time.sleep(writing_for)

    other = threading.Thread(target=writer)
    other.start()
    try:
        assert held.wait(5)
        consent_store.tidy(paths)
        # Read while the writer still holds the lock: a tidy that waited for it (and then
        # took the writer's file for a torn one) would only return after the writer let go.
        still_held = other.is_alive()
        kept = busy.read_text() if busy.exists() else None
    finally:
        other.join()
    assert still_held  # `status` answered at once instead of queueing behind the writer
    assert kept == "being written"  # the writer's file is the writer's


# Kills x_tidy__mutmut_6 (`contextlib.suppress(None)`: the StorageError becomes a TypeError).
def test_tidying_a_history_that_cannot_be_written_leaves_it_as_it_was(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_acceptance(paths, shipped, "flag")
    intent = paths.history_file.read_text().splitlines()[0]
    paths.history_file.write_text(intent + "\n")  # a writer killed before its outcome line
    full_disk_for(paths.history_file, monkeypatch)
    consent_store.tidy(paths)  # what `status` and `history` do first: never a crash
    monkeypatch.undo()
    assert paths.history_file.read_text() == intent + "\n"
    assert read_status(paths, shipped).in_force


# Kills x__keep_text__mutmut_24 (what: None), x__keep_text__mutmut_25 (consequence: None),
# x__keep_text__mutmut_29 ("XX...XX") and x__keep_text__mutmut_30 (upper-cased what).
def test_an_altered_text_copy_that_cannot_be_set_aside_stops_the_acceptance_saying_why(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths.accepted_texts_dir.mkdir(parents=True)
    copy = paths.accepted_texts_dir / f"{shipped.sha256}.md"
    copy.write_text("You may do anything at all.")
    real_rename = os.rename

    def refused(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(src) == copy:
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", refused)
    with pytest.raises(StorageError) as caught:
        record_acceptance(paths, shipped, "flag")
    assert caught.value.message == (
        f"Cannot set an altered copy of the accepted text {copy} aside: "
        f"{os.strerror(errno.EACCES)}; the agreement is not accepted."
    )
    assert copy.read_text() == "You may do anything at all."  # kept as it was, not replaced
    assert not paths.consent_file.exists()
