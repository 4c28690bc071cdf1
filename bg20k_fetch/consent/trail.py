"""The consent history, written ahead of the record so that a kill can never make the two disagree.

Every change of the record is three steps, each durable before the next:

1. an *intent* line: ``{"event": "intent", "intent": "accepted", "id": …, <the new record>}``;
2. the record itself (``consent.yaml``, replaced atomically);
3. the *outcome* line: ``{"event": "accepted", "id": …, <record>}`` (or ``"aborted"``).

A kill between 1 and 3 leaves an intent without its outcome. Whoever reads the trail next
resolves it from what is on disk: if ``consent.yaml`` holds the intended record, the change
happened; otherwise it did not. Writers resolve it in writing (under the store's lock) before
adding their own intent, so at most the last intent is ever unresolved, and the history shown
and the record in force always tell the same story. Lines written before this scheme (an
outcome with no ``id``) read as they always did.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from typing import Literal

from bg20k_fetch.consent.record import ConsentRecord, load_record
from bg20k_fetch.errors import StorageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.fs import append_line, read_limited
from bg20k_fetch.util.oslock import FileLock, LockBusy

HISTORY_LIMIT = 256 << 20
PRIVATE_FILE = 0o600
OUTCOMES = ("accepted", "revoked", "aborted")
Event = dict[str, object]
# Fields of a history line that are not the record's.
_LINE_FIELDS = ("event", "intent", "id", "reconciled")


def line_for(
    event: Literal["intent", "accepted", "revoked", "aborted"],
    record: ConsentRecord,
    *,
    txn: str,
    intent: str | None = None,
    reconciled: bool = False,
) -> str:
    """One history line: the event (and what it intends), its id, then the record."""
    line: Event = {"event": event}
    if intent is not None:
        line["intent"] = intent
    line["id"] = txn
    if reconciled:
        line["reconciled"] = True
    line |= record.to_json()
    return json.dumps(line, sort_keys=False)


def read_lines(paths: Paths) -> list[Event]:
    """Every line in order, each checked: a line that is not a well-typed event with a valid
    record (a torn append, garbage, a number where a time belongs) is
    ``{"event": "damaged", "line": N, "text": …, "reason": …}``, never shown as an event."""
    try:
        data = read_limited(paths.history_file, HISTORY_LIMIT)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StorageError(
            f"Cannot read the consent history {paths.history_file}: {reason}."
        ) from exc
    events: list[Event] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        problem = _problem(raw)
        if problem is None:
            events.append(json.loads(raw))
        else:
            text = raw.decode("utf-8", "replace")
            events.append(
                {"event": "damaged", "line": number, "text": text[:200], "reason": problem}
            )
    return events


def _problem(raw: bytes) -> str | None:
    try:
        item = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not a JSON line"
    if not isinstance(item, dict):
        return "not an event"
    event = item.get("event")
    if event not in (*OUTCOMES, "intent"):
        return "not an event"
    if event == "intent" and item.get("intent") not in OUTCOMES[:2]:
        return "an intent to do nothing known"
    if "id" in item and not isinstance(item["id"], str):
        return "its id is not text"
    record = {k: v for k, v in item.items() if k not in _LINE_FIELDS}
    try:
        ConsentRecord.from_mapping(record)
    except (ValueError, TypeError) as exc:
        return f"its record is invalid: {exc}"
    return None


def unresolved(lines: list[Event]) -> Event | None:
    """The last intent, if no outcome with its id follows it."""
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.get("event") == "intent":
            done = any(
                later.get("id") == line.get("id") and later.get("event") in OUTCOMES
                for later in lines[index + 1 :]
            )
            return None if done else line
    return None


def record_of(line: Event) -> ConsentRecord:
    return ConsentRecord.from_mapping({k: v for k, v in line.items() if k not in _LINE_FIELDS})


def took_effect(intent: Event, current: ConsentRecord | None) -> bool:
    """Whether the record on disk is the one the intent was about to write (where its data
    went may have been noted since; nothing else may differ)."""
    if current is None:
        return False
    return current.replace(datasets=[]) == record_of(intent).replace(datasets=[])


def resolve(lines: list[Event], current: ConsentRecord | None, *, writing: bool) -> list[Event]:
    """The trail as a person reads it: outcomes, damaged lines, and intents shown as what
    became of them. The unresolved last intent took effect exactly when the record on disk is
    the intended one, and is ``pending`` while a writer holds the store (``writing``); an
    earlier one with no outcome (only a hand-edited file has one) did not take effect."""
    last = unresolved(lines)
    finished = {line.get("id") for line in lines if line.get("event") in OUTCOMES}
    shown: list[Event] = []
    for line in lines:
        if line.get("event") != "intent":
            shown.append(line)
            continue
        if line.get("id") in finished:
            continue
        if line is not last:
            state = "aborted"
        elif writing:
            state = "pending"
        else:
            state = str(line["intent"]) if took_effect(line, current) else "aborted"
        outcome = {k: v for k, v in line.items() if k != "intent"}
        shown.append(outcome | {"event": state, "reconciled": True})
    return shown


def reconcile(paths: Paths) -> None:
    """Under the store's lock: write down what became of an intent whose writer was killed,
    and remove the temporary files such a writer leaves (every writer of them holds this lock,
    so none is in use)."""
    try:
        lines = read_lines(paths)
    except StorageError:
        lines = []  # a history that cannot be read is reported by the write that follows
    intent = unresolved(lines)
    if intent is not None:
        took = took_effect(intent, load_record(paths))
        event = str(intent["intent"]) if took else "aborted"
        line = line_for(
            event,  # type: ignore[arg-type]
            record_of(intent),
            txn=str(intent["id"]),
            reconciled=True,
        )
        append_line(paths.history_file, line, mode=PRIVATE_FILE)
    remove_torn_writes(paths)


_TORN = {
    "config": re.compile(r"^\.consent\.yaml\..*\.tmp$"),
    "texts": re.compile(r"^\.[0-9a-f]{64}\.md\..*\.tmp$"),
}


def remove_torn_writes(paths: Paths) -> None:
    for directory, pattern in (
        (paths.config_dir, _TORN["config"]),
        (paths.accepted_texts_dir, _TORN["texts"]),
    ):
        with contextlib.suppress(OSError):
            for name in os.listdir(directory):
                if pattern.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(directory / name)


def read_history(paths: Paths) -> list[dict[str, object]]:
    """Every event in order, as it stands on disk (see ``resolve``). A line that is
    not a well-formed event (a torn append, garbage, a wrongly typed record) is shown as
    ``{"event": "damaged", "line": N, "text": …, "reason": …}``, never hidden."""
    lines = read_lines(paths)
    return resolve(lines, load_record(paths), writing=_someone_writes(paths))


def _someone_writes(paths: Paths) -> bool:
    lock_path = paths.consent_lock
    if not lock_path.is_file():
        return False
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except LockBusy:
        return True
    except OSError:
        return False
    lock.release()
    return False
