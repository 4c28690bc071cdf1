"""One publisher at a time per prefix, and the journal that proves which keys a publish wrote.

The lease is an object written only if none exists (``If-None-Match: *``), naming its owner
(``PID@HOST``) and an expiry it renews while it uploads. Another publisher waits for nothing:
it is refused with the owner's name, unless the lease has expired or its owner ran on this host
and is provably gone — then it is taken over. Before committing, the holder checks the lease is
still its own.

The journal is written under the lease before the first upload: every key this publish may
write, added to those of any earlier journal, so that a publish killed half-way leaves the
proof of which objects under the prefix are bg20k's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bg20k_fetch.errors import StorageError
from bg20k_fetch.redact import redact
from bg20k_fetch.storage.store import Store
from bg20k_fetch.util.procs import owner_tag, tag_is_dead

LEASE = ".bg20k-publish-lease"
JOURNAL = ".bg20k-publish-journal"
LEASE_SECONDS = 900.0  # renewed at least every RENEW_SECONDS while uploading
RENEW_SECONDS = 60.0


def read_json(store: Store, key: str, limit: int = 64 << 20) -> dict[str, object] | None:
    """A small JSON object bg20k keeps in a prefix: None when absent, {} when not an object."""
    raw = store.read(key, limit)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def ours_by_journal(store: Store) -> set[str]:
    journal = read_json(store, JOURNAL) or {}
    keys = journal.get("keys")
    return {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()


def _body(digest: str) -> bytes:
    now = time.time()
    return json.dumps(
        {
            "owner": owner_tag(),
            "digest": digest,
            "since": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
            "expires": now + LEASE_SECONDS,
        }
    ).encode()


def _take(store: Store, digest: str) -> None:
    if store.put_once(LEASE, _body(digest)):
        return
    other = read_json(store, LEASE) or {}
    owner, expires = str(other.get("owner", "")), other.get("expires")
    stale = not isinstance(expires, int | float) or expires < time.time() or tag_is_dead(owner)
    if stale:
        store.delete([LEASE])  # expired, or its owner is provably gone
        if store.put_once(LEASE, _body(digest)):
            return
        other = read_json(store, LEASE) or {}
        owner = str(other.get("owner", ""))
    raise StorageError(
        f"Another publish ({owner or 'owner unknown'}, since {other.get('since', '?')}) is "
        f"writing to {redact(store.url)}; nothing was uploaded.",
        hint="Wait for it to finish and run again (a lease nobody renews expires after "
        f"{LEASE_SECONDS / 60:g} minutes).",
    )


@contextmanager
def lease(store: Store, digest: str, keys: Collection[str]) -> Iterator[Callable[[], None]]:
    """Hold the prefix for one publish; yields ``renew()``, to call as work progresses."""
    _take(store, digest)
    renewed = time.monotonic()

    def renew() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= RENEW_SECONDS:
            _require_own(store)
            store.pipe(LEASE, _body(digest))
            renewed = time.monotonic()

    try:
        journal = sorted(ours_by_journal(store) | set(keys))
        store.pipe(JOURNAL, json.dumps({"digest": digest, "keys": journal}).encode())
        yield renew
        _require_own(store)
        store.delete([JOURNAL])
    finally:
        current = read_json(store, LEASE) or {}
        if current.get("owner") == owner_tag():
            store.delete([LEASE])


def _require_own(store: Store) -> None:
    current = read_json(store, LEASE) or {}
    if current.get("owner") != owner_tag():
        raise StorageError(
            f"This publish lost its lease on {redact(store.url)} to "
            f"{current.get('owner', 'nobody')}; it is not committed.",
            hint="Run it again once the other publish is done.",
        )
