"""The consent trail: the record and its audit log succeed or fail together, a torn log never
swallows an event, and nothing but a well-formed, consistent record counts as consent.

Data-safety issue, items 7-9. In-process (``main(argv, ui)``): the fast layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import AGREEMENT_SHA256, cli

SHA = AGREEMENT_SHA256


def status() -> dict[str, object]:
    result = cli("status", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert isinstance(data, dict)
    return data


def test_i07_history_that_cannot_be_written_means_no_consent(
    isolated_env: dict[str, Path],
) -> None:
    config = isolated_env["config"]
    config.mkdir(parents=True)
    (config / "consent-history.jsonl").mkdir()  # not writable as a file, even for root
    result = cli("accept", "--yes")
    assert result.code == 7, result.err
    assert "consent-history.jsonl" in result.err and "not accepted" in result.err
    assert not (config / "consent.yaml").exists()
    assert status()["in_force"] is False
    assert cli("fetch", "--from", str(config)).code == 3  # no acceptance on record: no fetch


def test_i07_record_that_cannot_be_written_is_logged_as_aborted(
    isolated_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bg20k_fetch.consent.store as consent
    from bg20k_fetch.errors import StorageError

    real = consent.atomic_write

    def failing(path: Path, data: bytes, **kw: object) -> None:
        if path.name == "consent.yaml":
            raise StorageError(f"Cannot write {path}: No space left on device.")
        real(path, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "atomic_write", failing)
    result = cli("accept", "--yes")
    assert result.code == 7, result.err
    assert "not accepted" in result.err
    assert status()["in_force"] is False
    events = json.loads(cli("history", "--json").out)
    # The attempt is shown once, as what became of it (its intent line is not an event).
    assert [e["event"] for e in events] == ["aborted"]
    assert events[0]["agreement_sha256"] == SHA


def test_i07_revocation_that_cannot_be_recorded_says_consent_is_still_in_force(
    isolated_env: dict[str, Path],
) -> None:
    config = isolated_env["config"]
    assert cli("accept", "--yes").code == 0
    history = config / "consent-history.jsonl"
    history.unlink()
    history.mkdir()
    result = cli("revoke")
    assert result.code == 7
    assert "still in force" in result.err
    assert status()["in_force"] is True  # what is on disk, and what was said


def test_i08_torn_last_line_does_not_swallow_the_next_event(
    isolated_env: dict[str, Path],
) -> None:
    config = isolated_env["config"]
    assert cli("accept", "--yes").code == 0
    with (config / "consent-history.jsonl").open("a") as handle:
        handle.write('{"event": "acc')  # a crash in the middle of an append
    assert cli("revoke").code == 0
    events = json.loads(cli("history", "--json").out)
    assert [e["event"] for e in events] == ["accepted", "damaged", "revoked"]
    # Lines 1 and 2 are the acceptance's intent and outcome; the torn one is line 3.
    assert events[1]["line"] == 3 and events[1]["text"] == '{"event": "acc'
    human = cli("history")
    assert "damaged line 3" in human.out and "revoked" in human.out


def test_i08_binary_history_is_shown_as_damaged(isolated_env: dict[str, Path]) -> None:
    config = isolated_env["config"]
    assert cli("accept", "--yes").code == 0
    with (config / "consent-history.jsonl").open("ab") as handle:
        handle.write(b"\xff\xfe\x00garbage\n")
    result = cli("history", "--json")
    assert result.code == 0, result.err
    assert [e["event"] for e in json.loads(result.out)] == ["accepted", "damaged"]


def test_i08_history_that_is_a_directory_is_exit_7(isolated_env: dict[str, Path]) -> None:
    (isolated_env["config"] / "consent-history.jsonl").mkdir(parents=True)
    result = cli("history")
    assert result.code == 7 and "consent-history.jsonl" in result.err


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (("accepted_at: '", "accepted_at: 12345 #'"), "accepted_at"),
        (("schema_version: 1", "schema_version: true"), "schema_version"),
        (("revoked_at: null", "revoked_at: '2026-01-01T00:00:00Z'"), "revoked_at"),
        (("status: accepted", "status: revoked"), "revoked_at"),
        (("method: flag", "method: 7"), "method"),
        (("accepted_at: '", "accepted_at: '2026-01-01T00:00:00' #"), "time zone"),
        (("os_user: ", "os_user: !!python/name:os.system "), "YAML"),
    ],
    ids=[
        "int-time",
        "bool-version",
        "accepted-but-revoked",
        "revoked-without-time",
        "int-method",
        "naive-time",
        "python-tag",
    ],
)
def test_i09_wrongly_typed_or_contradictory_record_is_not_consent(
    edit: tuple[str, str], why: str, isolated_env: dict[str, Path]
) -> None:
    path = isolated_env["config"] / "consent.yaml"
    assert cli("accept", "--yes").code == 0
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    data = status()
    assert data["in_force"] is False and data["state"] == "damaged"
    assert why in str(data["detail"])
    assert cli("fetch", "--from", str(path)).code == 3


def test_i09_record_for_another_dataset_says_so(isolated_env: dict[str, Path]) -> None:
    path = isolated_env["config"] / "consent.yaml"
    assert cli("accept", "--yes").code == 0
    path.write_text(path.read_text().replace("dataset: BG-20k", "dataset: AM-2k"))
    data = status()
    assert data["in_force"] is False and data["state"] == "other-dataset"
    assert "AM-2k" in str(data["detail"]) and "different text" not in str(data["detail"])


def test_consent_files_are_owner_only(isolated_env: dict[str, Path]) -> None:
    """Personal data (name, host, user): 0600 files in a 0700 directory, kept when rewritten."""
    config = isolated_env["config"]
    assert cli("accept", "--yes", "--name", "Ada").code == 0
    assert cli("revoke").code == 0
    assert cli("accept", "--yes").code == 0
    for name in ("consent.yaml", "consent-history.jsonl"):
        assert (config / name).stat().st_mode & 0o777 == 0o600, name
    texts = list((config / "accepted-agreements").iterdir())
    assert texts and all(p.stat().st_mode & 0o777 == 0o600 for p in texts)
    assert config.stat().st_mode & 0o777 == 0o700


def test_a_revocation_during_a_fetch_stops_the_install(
    tmp_path: Path, small_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consent is read again under the consent store's lock, just before the install: a
    revocation that lands after the data was downloaded and checked installs nothing."""
    import bg20k_fetch.fetching.build as build
    from tests.data import SMALL, make_tree, zip_bytes

    (tmp_path / "a.zip").write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    assert cli("accept", "--yes").code == 0
    real_checked = build.checked

    def revoked_meanwhile(*args: object, **kwargs: object) -> object:
        report = real_checked(*args, **kwargs)  # type: ignore[arg-type]
        assert cli("revoke").code == 0  # another terminal, while the data is staged
        return report

    monkeypatch.setattr(build, "checked", revoked_meanwhile)
    dest = tmp_path / "d"
    result = cli("fetch", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 3, result.err
    assert "withdrawn while the data was being fetched" in result.err
    assert "nothing was installed" in result.err
    assert not (dest / "BG-20k").exists()
    assert not [p for p in dest.iterdir() if ".staging" in p.name]  # the staged data is gone
    assert status()["in_force"] is False
