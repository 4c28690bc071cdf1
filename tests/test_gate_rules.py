"""The consent gate in-process (``gate.require_consent``): what counts as acceptance, in order,
and what is said when nothing does."""

from __future__ import annotations

import pytest

from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.gate import environment_pin, require_consent
from bg20k_fetch.consent.record import ConsentStatus, State
from bg20k_fetch.consent.store import read_history
from bg20k_fetch.errors import ConsentError, UsageError
from bg20k_fetch.locations import Paths
from tests.helpers import AGREEMENT_SHA256 as SHA

OTHER = "f" * 64


def _events(paths: Paths) -> list[tuple[object, object]]:
    return [(e["event"], e.get("method")) for e in read_history(paths)]


def test_nothing_given_is_refused_and_says_how_to_accept(paths: Paths, shipped: Agreement) -> None:
    with pytest.raises(ConsentError) as caught:
        require_consent(paths, shipped)
    assert caught.value.message == (
        "The BG-20k agreement v1.0 has not been accepted (no consent recorded)."
    )
    assert caught.value.hint == (
        "Read it with `bg20k agreement`, then run `bg20k accept` or pass --accept."
    )
    assert not paths.consent_file.exists() and read_history(paths) == []


def test_a_record_in_force_is_used_and_renewed_only_when_asked(
    paths: Paths, shipped: Agreement
) -> None:
    first = require_consent(paths, shipped, accept=True, identity={"name": "Ada"})
    assert first.method == "flag" and first.name == "Ada"
    again = require_consent(paths, shipped)  # nothing given: the record in force stands
    assert again == first and _events(paths) == [("accepted", "flag")]
    renewed = require_consent(paths, shipped, accept=True, renew=True)
    assert renewed.name is None
    assert _events(paths) == [("accepted", "flag"), ("accepted", "flag")]


@pytest.mark.parametrize("value", ["yes", " YES ", SHA, SHA[:12].upper()])
def test_the_environment_accepts_yes_or_the_shipped_digest(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BG20K_ACCEPT_AGREEMENT", value)
    record = require_consent(paths, shipped, identity={"name": "CI runner"})
    assert record.method == "environment" and _events(paths) == [("accepted", "environment")]
    assert record.name == "CI runner"


@pytest.mark.parametrize("value", ["", "no", " No ", "0", "false", "FALSE"])
def test_the_environment_saying_no_accepts_nothing(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BG20K_ACCEPT_AGREEMENT", value)
    assert environment_pin() is None
    with pytest.raises(ConsentError, match="has not been accepted"):
        require_consent(paths, shipped)
    assert read_history(paths) == []


def test_the_environment_pinning_another_text_is_refused(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BG20K_ACCEPT_AGREEMENT", OTHER)
    with pytest.raises(ConsentError) as caught:
        require_consent(paths, shipped)
    assert caught.value.message == (
        f"The pinned agreement digest {OTHER} does not match the shipped agreement v1.0 "
        f"({SHA}); nothing was accepted."
    )
    assert caught.value.hint == (
        "Read it with `bg20k agreement` and pin the new digest if you accept it."
    )
    assert read_history(paths) == []


def test_the_environment_with_anything_else_is_a_usage_error(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BG20K_ACCEPT_AGREEMENT", "maybe")
    with pytest.raises(UsageError) as caught:
        require_consent(paths, shipped)
    assert caught.value.message == (
        "BG20K_ACCEPT_AGREEMENT='maybe' is neither 'yes' nor an agreement digest."
    )


def test_a_flag_pin_is_checked_before_anything_else(paths: Paths, shipped: Agreement) -> None:
    with pytest.raises(ConsentError, match=f"digest {OTHER[:12]} does not match"):
        require_consent(paths, shipped, accept=True, pin=OTHER[:12].upper())
    assert read_history(paths) == []
    record = require_consent(paths, shipped, accept=True, pin=f" {SHA.upper()} ")
    assert record.agreement_sha256 == SHA


def test_a_person_is_asked_last_and_only_their_yes_counts(paths: Paths, shipped: Agreement) -> None:
    asked: list[ConsentStatus] = []

    def no(agreement: Agreement, status: ConsentStatus) -> bool:
        assert agreement == shipped  # the text the person is shown is the shipped one
        asked.append(status)
        return False

    with pytest.raises(ConsentError) as caught:
        require_consent(paths, shipped, ask=no)
    assert caught.value.message == (
        "The agreement was not accepted; nothing was recorded or fetched."
    )
    assert [s.state for s in asked] == [State.MISSING] and read_history(paths) == []
    record = require_consent(paths, shipped, ask=lambda a, s: True, identity={"email": "a@b.c"})
    assert record.method == "prompt" and record.email == "a@b.c"
    assert require_consent(paths, shipped, ask=no) == record  # in force: nobody is asked
    assert len(asked) == 1


def test_the_flag_comes_before_the_environment_and_both_before_a_person(
    paths: Paths, shipped: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(agreement: Agreement, status: ConsentStatus) -> bool:
        raise AssertionError("asked although acceptance was given")

    monkeypatch.setenv("BG20K_ACCEPT_AGREEMENT", "yes")
    assert require_consent(paths, shipped, accept=True, ask=never).method == "flag"
    assert require_consent(paths, shipped, ask=never, renew=True).method == "environment"
