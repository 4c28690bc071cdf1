"""The hostile-world campaign at the size CI runs (the large run's figures are in
docs/reliability.md; `python -m tests.campaign --help` for the knobs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import campaign

pytestmark = pytest.mark.slow


def test_campaign_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BG20K_CONFIG_DIR", "BG20K_DATA_DIR", "BG20K_CACHE_DIR", "BG20K_RELEASE_FILE"):
        monkeypatch.delenv(name, raising=False)  # the campaign sets up its own world
    figures = tmp_path / "figures.json"
    code = campaign.main(
        [
            "--seed",
            "11",
            "--steps",
            "30",
            "--drive-steps",
            "10",
            "--rounds",
            "2",
            "--kill-rate",
            "0.3",
            "--store-steps",
            "8",
            "--json",
            str(figures),
        ]
    )
    data = json.loads(figures.read_text())
    assert data["violations"] == [] and code == 0
    assert data["faulted_steps"] >= 10 and sum(data["kills"].values()) >= 3
    assert data["rounds"] == 2 and data["revoke_rounds"] == 1
    # http, drive, consent-trail faults (kills at writes, full stdout, full store) and
    # object-store steps behind the faulty S3 proxy. (The many-process rounds' mirror faults
    # are drawn per request from processes racing each other: two short rounds may draw none.)
    kinds = {k.split(":")[0] for k in data["faults"]}
    assert kinds >= {"http", "drive", "trail", "store"}
    assert data["faults"]["trail:kill-at-write"] >= 3 and data["faults"]["trail:full-stdout"] >= 3
