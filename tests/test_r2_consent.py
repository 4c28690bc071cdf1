"""Data safety, round 2: the consent trail.

Item 3: a kill at any write of `accept` or `revoke` never leaves the history and the record
telling different stories, and the next reader removes what the kill left. Item 4: an empty pin
is refused. Item 5: a config folder that cannot be locked is one line and exit 7, never a hang.
Item 9: records that must not count as consent. Item 12: history lines and records that are
wrongly typed or say a key twice are damaged, never believed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bg20k_fetch.consent import store as consent_store
from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import State, read_status
from bg20k_fetch.locations import Paths
from bg20k_fetch.util import fs as fsutil
from tests.campaign_trail import KILL_AT_WRITE
from tests.helpers import AGREEMENT_SHA256, cli


class Killed(BaseException):
    """What a SIGKILL does to the code that was running: nothing after it runs."""


def trail(paths: Paths) -> tuple[dict[str, object], list[dict[str, object]]]:
    """What a person reads next: `status --json` and `history --json` (each tidies first)."""
    status = cli("status", "--json")
    history = cli("history", "--json")
    assert status.code == 0 and history.code == 0, status.err + history.err
    return json.loads(status.out), json.loads(history.out)


def assert_agree(status: dict[str, object], events: list[dict[str, object]]) -> None:
    """The history's last acceptance or revocation is the record on disk, and nothing is
    shown as pending when no writer is running."""
    assert all(e["event"] != "pending" for e in events)
    done = [e for e in events if e["event"] in ("accepted", "revoked")]
    record = status["record"]
    if status["state"] == "missing":
        assert done == []
        return
    assert isinstance(record, dict) and done, (status, events)
    last = done[-1]
    assert last["event"] == record["status"]
    assert last["accepted_at"] == record["accepted_at"]
    assert last["revoked_at"] == record["revoked_at"]
    assert status["in_force"] is (last["event"] == "accepted")


def no_torn_files(paths: Paths) -> None:
    left = [p.name for p in paths.config_dir.rglob("*.tmp")]
    assert left == []


# -- item 3, in-process: a "kill" before every write and after every append ------------------


def _killing(monkeypatch: pytest.MonkeyPatch, at: int, after: bool) -> Callable[[], int]:
    """Make the ``at``-th write of the consent trail the last thing that happens: an append
    (before or after it lands) or a rename into place (before it: the temporary file stays)."""
    count = 0
    real_append, real_replace = consent_store.append_line, fsutil.os.replace

    def step() -> None:
        nonlocal count
        count += 1
        if count == at:
            raise Killed

    def append(path: Path, line: str, mode: int) -> None:
        if not after:
            step()
        real_append(path, line, mode=mode)
        if after:
            step()

    def replace(src: str, dst: str) -> None:
        step()
        real_replace(src, dst)

    monkeypatch.setattr(consent_store, "append_line", append)
    monkeypatch.setattr(fsutil.os, "replace", replace)
    return lambda: count


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("command", ["accept", "revoke", "renew"])
def test_r2_03_a_kill_at_any_write_leaves_history_and_status_agreeing(
    command: str, after: bool, paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = 1
    while True:
        if paths.config_dir.exists():
            for p in sorted(paths.config_dir.rglob("*"), reverse=True):
                p.rmdir() if p.is_dir() else p.unlink()
        if command in ("revoke", "renew"):
            consent_store.record_acceptance(paths, shipped, "flag")
        with monkeypatch.context() as patch:
            steps = _killing(patch, at, after)
            try:
                if command == "revoke":
                    consent_store.revoke(paths, shipped)
                else:
                    consent_store.record_acceptance(paths, shipped, "flag", name="Ada")
                finished = True
            except Killed:
                finished = False
            total = steps()
        status, events = trail(paths)
        assert_agree(status, events)
        no_torn_files(paths)
        if finished:
            assert at > total >= 3  # every write point was tried before this clean run
            break
        # The next command of the same kind works, and the two still agree.
        again = cli("revoke") if command == "revoke" else cli("accept", "--yes")
        assert again.code == 0, again.err
        assert_agree(*trail(paths))
        at += 1


def test_r2_03_a_kill_at_the_records_rename_is_read_back_as_it_is_on_disk(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: killed at the rename of a revocation. The record still says accepted,
    so the history must not say revoked, and the fetch gate sees consent in force."""
    consent_store.record_acceptance(paths, shipped, "flag")
    with monkeypatch.context() as patch:
        _killing(patch, 1, after=False)  # the revocation's record rename
        patch.setattr(consent_store, "append_line", fsutil.append_line)
        with pytest.raises(Killed):
            consent_store.revoke(paths, shipped)
    assert list(paths.config_dir.glob(".consent.yaml.*.tmp"))  # what the kill left
    history = consent_store.read_history(paths)  # before anyone tidies
    assert [e["event"] for e in history] == ["accepted", "aborted"]
    assert history[-1]["reconciled"] is True
    status, events = trail(paths)
    assert status["in_force"] is True and [e["event"] for e in events] == ["accepted", "aborted"]
    no_torn_files(paths)


def test_r2_03_a_write_in_progress_is_shown_as_pending(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.util.oslock import FileLock

    consent_store.record_acceptance(paths, shipped, "flag")
    with monkeypatch.context() as patch:
        _killing(patch, 1, after=True)  # the revocation's intent is written, then "killed"
        with pytest.raises(Killed):
            consent_store.revoke(paths, shipped)
    with FileLock(str(paths.consent_lock)):  # another writer is busy right now
        assert [e["event"] for e in consent_store.read_history(paths)] == ["accepted", "pending"]
    assert [e["event"] for e in consent_store.read_history(paths)] == ["accepted", "aborted"]


def test_r2_03_a_lost_outcome_line_is_rebuilt_from_the_record(
    paths: Paths, shipped: Agreement
) -> None:
    consent_store.record_acceptance(paths, shipped, "flag")
    lines = paths.history_file.read_text().splitlines()
    paths.history_file.write_text(lines[0] + "\n")  # the intent survived; the outcome did not
    status, events = trail(paths)
    assert status["in_force"] is True
    assert [e["event"] for e in events] == ["accepted"] and events[0]["reconciled"] is True
    # ... and it was written down: a later reader does not have to work it out again.
    last = json.loads(paths.history_file.read_text().splitlines()[-1])
    assert last["event"] == "accepted" and last["reconciled"] is True


def test_r2_03_temporary_files_of_a_writer_still_running_are_left_alone(
    paths: Paths, shipped: Agreement
) -> None:
    from bg20k_fetch.util.oslock import FileLock

    consent_store.record_acceptance(paths, shipped, "flag")
    busy = paths.config_dir / ".consent.yaml.1@h.abcdefgh.tmp"
    busy.write_text("being written")
    with FileLock(str(paths.consent_lock)):
        assert cli("status").code == 0
        assert busy.exists()
    assert cli("status").code == 0
    assert not busy.exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["accept", "--yes"], ["revoke"]], ids=" ".join)
def test_r2_03_sigkill_at_every_write_in_a_real_process(
    command: list[str], paths: Paths, tmp_path: Path
) -> None:
    """A real SIGKILL at each file the command opens or renames in the config folder."""
    at = 1
    while True:
        if command[0] == "revoke":
            assert cli("accept", "--yes").code == 0
        proc = subprocess.run(
            [sys.executable, "-c", KILL_AT_WRITE, *command],
            env={**os.environ, "KILL_AT": str(at)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        status, events = trail(paths)
        assert_agree(status, events)
        no_torn_files(paths)
        if proc.returncode == 0:
            assert at > 4
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        at += 1


# -- item 4 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["accept", "--yes"], ["fetch", "--accept", "--dry-run"], ["fetch", "--accept"]]
)
def test_r2_04_an_empty_pin_is_a_usage_error(args: list[str], paths: Paths) -> None:
    result = cli(*args, "--agreement-sha256", "")
    assert result.code == 2, result.err
    assert "is not an agreement digest" in result.err
    assert not paths.consent_file.exists()


def test_r2_04_an_empty_environment_value_accepts_nothing(paths: Paths) -> None:
    result = cli("fetch", env={"BG20K_ACCEPT_AGREEMENT": ""})
    assert result.code == 3 and not paths.consent_file.exists()


# -- item 5: a config folder that cannot be locked ---------------------------------------------


def test_r2_05_a_lock_that_is_a_folder_is_exit_7(paths: Paths) -> None:
    paths.consent_lock.mkdir(parents=True)
    for args in (["accept", "--yes"], ["revoke"], ["fetch", "--accept"]):
        result = cli(*args)
        assert result.code == 7, (args, result.err)
        (line,) = result.err.splitlines()
        assert "Cannot lock the consent record" in line and "BG20K_CONFIG_DIR" in line


def test_r2_05_a_config_folder_in_proc_is_one_line_not_a_hang() -> None:
    result = cli("accept", "--yes", env={"BG20K_CONFIG_DIR": f"/proc/{os.getpid()}"})
    assert result.code == 7 and "Cannot lock the consent record" in result.err


@pytest.mark.slow
def test_r2_05_a_read_only_config_folder_as_a_normal_user() -> None:
    import shutil
    import tempfile

    if os.getuid() != 0 or not Path("/usr/bin/setpriv").exists():
        pytest.skip("needs root to become another user")
    public = Path(tempfile.mkdtemp(prefix="bg20k-ro-"))  # a folder the other user can reach
    public.chmod(0o755)
    config = public / "ro"
    config.mkdir(mode=0o555)
    try:
        proc = _as_nobody(config)
    finally:
        shutil.rmtree(public)
    assert proc.returncode == 7, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "Cannot lock the consent record" in line and "Permission denied" in line


def _as_nobody(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
         sys.executable, "-m", "bg20k_fetch", "accept", "--yes"],
        env={**os.environ, "BG20K_CONFIG_DIR": str(config)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# -- item 9: records that must not count as consent -------------------------------------------


def _edit(paths: Paths, old: str, new: str) -> None:
    text = paths.consent_file.read_text()
    assert old in text
    paths.consent_file.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("schema_version: 1", "schema_version: 1.0", "is invalid: schema_version"),
        ("agreement_version: v1.0", "agreement_version: v2.0", "names "),
        ("agreement_title: BG-20k", "agreement_title: Another", "names "),
        ("accepted_text: ", "accepted_text: /etc/passwd\nx_: ", "does not name the copy"),
        ("accepted_text: ", "accepted_text: null\nx_: ", "does not name the copy"),
    ],
    ids=["float-version", "version", "title", "text-elsewhere", "text-null"],
)
def test_r2_09_a_record_that_contradicts_itself_is_not_consent(
    old: str, new: str, reason: str, paths: Paths, shipped: Agreement
) -> None:
    consent_store.record_acceptance(paths, shipped, "flag")
    _edit(paths, old, new)
    if "x_: " in new:  # drop the original accepted_text value, keep the YAML valid
        lines = paths.consent_file.read_text().splitlines()
        paths.consent_file.write_text("\n".join(x for x in lines if not x.startswith("x_:")) + "\n")
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and status.reason is not None
    assert reason in status.reason
    assert "NOT in force" in cli("status").out
    assert cli("fetch").code == 3  # no terminal, no consent: nothing is fetched


def test_r2_09_a_record_from_the_future_is_not_consent(paths: Paths, shipped: Agreement) -> None:
    record = consent_store.record_acceptance(paths, shipped, "flag")
    later = record.accepted_at + timedelta(days=2)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    _edit(paths, record.accepted_at.strftime(stamp), later.strftime(stamp))
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and "in the future" in str(status.reason)


@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_r2_09_the_copy_of_the_accepted_text_is_checked_and_repaired(
    how: str, paths: Paths, shipped: Agreement
) -> None:
    consent_store.record_acceptance(paths, shipped, "flag")
    copy = paths.accepted_texts_dir / f"{AGREEMENT_SHA256}.md"
    if how == "changed":
        copy.write_text("You may do anything at all.")
    else:
        copy.unlink()
    status = cli("status")
    assert "NOT in force" in status.out and ("altered" in status.out or "missing" in status.out)
    assert cli("fetch").code == 3  # no terminal, no consent: nothing fetched
    assert cli("revoke").code == 0 and cli("accept", "--yes").code == 0
    assert copy.read_bytes() == shipped.text.encode()
    assert read_status(paths, shipped).in_force
    if how == "changed":  # the altered copy is kept aside, never deleted
        (aside,) = paths.accepted_texts_dir.glob(f"{AGREEMENT_SHA256}.md.damaged-*")
        assert aside.read_text() == "You may do anything at all."


# -- item 12: wrongly typed history lines, duplicate keys --------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        '{"event": "accepted", "accepted_at": 12}',
        '{"event": "revoked"}',
        '{"event": "intent", "intent": "delete everything"}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["number-time", "no-record", "bad-intent", "deep"],
)
def test_r2_12_a_wrongly_typed_history_line_is_damaged_not_an_event(
    line: str, paths: Paths, shipped: Agreement
) -> None:
    consent_store.record_acceptance(paths, shipped, "flag")
    with paths.history_file.open("a") as handle:
        handle.write(line + "\n")
    result = cli("history", "--json")
    assert result.code == 0, result.err
    events = json.loads(result.out)
    assert [e["event"] for e in events] == ["accepted", "damaged"]
    assert events[1]["line"] == 3 and events[1]["reason"]
    human = cli("history")
    assert "12 accepted" not in human.out and "damaged line 3" in human.out


def test_r2_12_a_key_given_twice_makes_a_damaged_record(paths: Paths, shipped: Agreement) -> None:
    consent_store.record_acceptance(paths, shipped, "flag")
    with paths.consent_file.open("a") as handle:
        handle.write("status: revoked\n")
    status = read_status(paths, shipped)
    assert status.state is State.DAMAGED and "appears twice" in str(status.reason)


def test_r2_12_any_yaml_bg20k_reads_refuses_a_key_given_twice(tmp_path: Path) -> None:
    from bg20k_fetch.util.yamlio import YamlError, load_yaml

    with pytest.raises(YamlError, match="the key 'url' appears twice"):
        load_yaml("mirrors:\n  - url: https://a\n    url: https://b\n")
    assert load_yaml("a: &x {b: 1}\nc: *x\nd: *x\n") == {
        "a": {"b": 1},
        "c": {"b": 1},
        "d": {"b": 1},
    }
