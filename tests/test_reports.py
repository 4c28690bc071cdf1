"""The words bg20k prints about a layout and a pin: exact, because users and scripts read them."""

from __future__ import annotations

import pytest

from bg20k_fetch.consent.agreement import load_agreement, validate_pin
from bg20k_fetch.dataset.layout import LayoutReport
from bg20k_fetch.errors import UsageError
from tests.helpers import AGREEMENT_SHA256

SHA = AGREEMENT_SHA256


def test_layout_summary_and_problem_lines_name_every_kind() -> None:
    report = LayoutReport(
        counts={"train": 5, "testval": 3},
        expected={"train": 6, "testval": 3},
        missing={"train": 1},
        surplus={"testval": 2},
        damaged=["train/d.jpg"],
        unexpected=["notes.txt"],
        not_jpeg=["train/p.png"],
        listed_missing=["train/l.jpg"],
        unlisted=["testval/u.jpg", "testval/v.jpg"],
    )
    assert not report.complete
    assert report.summary() == (
        "train: 5/6, testval: 3/3, 1 listed but missing, 2 present but unlisted, "
        "1 damaged (not JPEG), 1 of another image type, 1 outside the known folders"
    )
    assert report.problem_lines() == [
        "missing 1 file(s) in train/",
        "2 more file(s) than expected in testval/",
        "listed in the split list but missing: train/l.jpg",
        "present but not in the split list: testval/u.jpg",
        "present but not in the split list: testval/v.jpg",
        "damaged (not a complete JPEG): train/d.jpg",
        "not a JPEG (another image type): train/p.png",
        "unexpected: notes.txt",
    ]


def test_a_clean_layout_says_only_the_counts() -> None:
    report = LayoutReport(counts={"train": 6}, expected={"train": 6, "testval": 3})
    assert report.summary() == "train: 6/6, testval: 0/3"
    assert report.problem_lines() == []
    assert (
        LayoutReport(counts={}, expected={}, unlisted=["a"])
        .summary()
        .startswith("0 listed but missing, 1 present but unlisted")
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [(SHA, SHA), (SHA[:12], SHA[:12]), (f"  {SHA[:20].upper()} ", SHA[:20])],
)
def test_a_pin_is_a_digest_or_a_prefix_of_at_least_12_hex_digits(given: str, kept: str) -> None:
    assert validate_pin(given) == kept


@pytest.mark.parametrize("bad", [SHA[:11], SHA + "0", "z" * 12, "g" + SHA[1:], ""])
def test_anything_else_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as err:
        validate_pin(bad)
    assert err.value.exit_code == 2
    assert err.value.message == (
        f"'{bad.strip().lower()}' is not an agreement digest: give the SHA-256 (or at least its "
        "first 12 hex digits) printed by `bg20k agreement --sha256`."
    )


def test_agreement_json_carries_the_dataset() -> None:
    data = load_agreement().to_json()
    assert set(data) == {"dataset", "title", "version", "sha256", "text"}
    assert data["dataset"] == "BG-20k" and data["sha256"] == SHA
