"""A lab's consent register and audit, on a shared folder (in-process; real OS users and the
browser are in tests/test_register_journeys.py)."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import cli

REGISTER = ".bg20k-register"


@pytest.fixture
def shared(tmp_path: Path, small_release: Path) -> Path:
    """A BG-20k folder the lab shares, fetched by its admin."""
    (tmp_path / "a.zip").write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path))
    assert result.code == 0, result.err
    return tmp_path / "BG-20k"


def as_person(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, user: str) -> None:
    """Another person, in this one process: their own config folder and account name. Files
    all belong to this process's account here, so the check that a record's file belongs to
    the account it names is left to tests/test_register_journeys.py, with real accounts."""
    monkeypatch.setenv("BG20K_CONFIG_DIR", str(tmp_path / f"config-{user}"))
    monkeypatch.setattr("getpass.getuser", lambda: user)
    monkeypatch.setattr("bg20k_fetch.register.records.real_user", lambda: user)
    monkeypatch.setattr("bg20k_fetch.register.places._account", lambda uid: None)


def audit(shared: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    result = cli("audit", str(shared), "--json", *extra)
    return result.code, json.loads(result.out), result.err


def rows(report: dict[str, object]) -> dict[str, str]:
    found = report["rows"]
    assert isinstance(found, list)
    return {r["os_user"]: r["state"] for r in found}


def test_each_person_registers_and_the_audit_names_who_has_not(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user in ("ada", "bob"):
        as_person(monkeypatch, tmp_path, user)
        added = cli("accept", "--yes", "--name", user.title(), "--register", str(shared))
        assert added.code == 0, added.err
        assert "added to the register" in added.err and "with your name" in added.err
    people = tmp_path / "people.txt"
    people.write_text("ada\nbob\n# the new student:\ncyd\n")
    code, report, err = audit(shared, "--people", str(people))
    assert rows(report) == {"ada": "accepted", "bob": "accepted", "cyd": "no acceptance"}
    assert code == 10 and "1 of 3 people" in err.splitlines()[-1]
    as_person(monkeypatch, tmp_path, "cyd")
    assert cli("accept", "--yes", "--register", str(shared)).code == 0
    code, report, _ = audit(shared, "--people", str(people))
    assert code == 0 and report["everyone_accepted"] is True
    as_person(monkeypatch, tmp_path, "bob")
    assert cli("revoke", "--register", str(shared)).code == 0
    code, report, _ = audit(shared)
    assert code == 10 and rows(report)["bob"] == "revoked"


def test_an_older_text_is_not_the_current_one(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.consent.record import load_record
    from bg20k_fetch.locations import Paths
    from bg20k_fetch.register import add_to_register

    as_person(monkeypatch, tmp_path, "old")
    assert cli("accept", "--yes").code == 0
    record = load_record(Paths.from_env())
    assert record is not None
    add_to_register(str(shared), record.replace(agreement_sha256="ab" * 32))
    code, report, _ = audit(shared)
    assert code == 10 and rows(report) == {"old": "accepted an older text"}


@pytest.mark.parametrize(
    "damage", ["edited", "another name", "truncated", "foreign file", "not canonical"]
)
def test_a_record_changed_by_hand_is_named_and_fails_the_audit(
    damage: str, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_person(monkeypatch, tmp_path, "ada")
    assert cli("accept", "--yes", "--register", str(shared)).code == 0
    (record,) = (shared / REGISTER).iterdir()
    data = record.read_bytes()
    os.chmod(record, 0o644)
    changed = {
        "edited": data.replace(b'"flag"', b'"prompt"'),
        "another name": data.replace(b'"ada"', b'"eve"'),
        "truncated": data[: len(data) // 2],
        "foreign file": data,
        "not canonical": data,
    }[damage]
    if damage == "foreign file":
        (shared / REGISTER / "notes.txt").write_text("hello")
    elif damage == "not canonical":
        import hashlib

        pretty = json.dumps(json.loads(data), indent=2).encode()
        (shared / REGISTER / f"{hashlib.sha256(pretty).hexdigest()}.json").write_bytes(pretty)
    else:
        record.write_bytes(changed)
    code, report, err = audit(shared)
    damaged = report["damaged"]
    assert code == 5 and isinstance(damaged, list) and len(damaged) == 1, report
    assert "not intact records" in err.splitlines()[-1]
    if damage in ("edited", "another name", "truncated"):
        assert damaged[0]["file"] == record.name and "altered" in damaged[0]["why"]
        assert "eve" not in rows(report)  # a changed record never passes for someone


def test_registering_at_once_loses_nothing(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.consent.record import load_record
    from bg20k_fetch.locations import Paths
    from bg20k_fetch.register import add_to_register

    as_person(monkeypatch, tmp_path, "ada")
    assert cli("accept", "--yes").code == 0
    record = load_record(Paths.from_env())
    assert record is not None
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(add_to_register(str(shared), record).added))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8  # eight registrations, eight whole records
    names = sorted(p.name for p in (shared / REGISTER).iterdir())
    assert len(names) == 8 and not any(n.startswith(".tmp-") for n in names)
    code, report, _ = audit(shared)
    assert code == 0 and rows(report) == {"ada": "accepted"}


def test_a_register_that_cannot_be_written_keeps_the_local_acceptance(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through permissions; tests/test_register_journeys.py covers it")
    (shared / REGISTER).mkdir(mode=0o555)
    as_person(monkeypatch, tmp_path, "ada")
    result = cli("accept", "--yes", "--register", str(shared))
    assert result.code == 7 and "Cannot add a record" in result.err
    assert json.loads(cli("status", "--json").out)["in_force"] is True


def test_register_needs_a_copy_and_a_record(shared: Path, tmp_path: Path) -> None:
    assert cli("register", str(shared)).code == 0  # the admin's own fetch accepted
    elsewhere = tmp_path / "not-a-copy"
    elsewhere.mkdir()
    result = cli("register", str(elsewhere))
    assert result.code == 2 and "is not a copy of BG-20k" in result.err
    assert not (elsewhere / REGISTER).exists()


def test_the_audit_as_csv_and_a_self_contained_page(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_person(monkeypatch, tmp_path, "ada")
    assert cli("accept", "--yes", "--name", "=HYPERLINK(1)", "--register", str(shared)).code == 0
    assert cli("accept", "--yes", "--name", "Ada <L>", "--register", str(shared)).code == 0
    out_csv, out_html = tmp_path / "audit.csv", tmp_path / "audit.html"
    result = cli("audit", str(shared), "--csv", str(out_csv), "--html", str(out_html))
    assert result.code == 0, result.err
    assert "ada" in result.out and "accepted since" in result.out
    (row,) = list(csv.DictReader(out_csv.open()))
    assert row["os_user"] == "ada" and row["state"] == "accepted" and row["name"] == "Ada <L>"
    from bg20k_fetch.register.report import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("Ada") == "Ada"
    page = out_html.read_text()
    assert "Ada &lt;L&gt;" in page and "be1bf73403b9" in page and "v1.0" in page
    digest = json.loads(cli("audit", str(shared), "--json").out)["dataset_digest"]
    assert digest and len(digest) == 64 and digest in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
