from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pexpect
import pytest

from tests.helpers import REPO, SEED_AGREEMENT, run_bg20k, spawn_bg20k, write_release

SHIPPED = REPO / "agreement" / "BG-20k_Dataset_v1.0_Release_Agreement.md"


def test_shipped_text_is_the_seed_verbatim() -> None:
    if not SEED_AGREEMENT.exists():
        pytest.skip("shared/seeds is not beside this checkout")
    assert SHIPPED.read_bytes() == SEED_AGREEMENT.read_bytes()


def test_piped_agreement_is_the_exact_text_and_its_digest_matches() -> None:
    text = run_bg20k("agreement")
    digest = run_bg20k("agreement", "--sha256")
    assert text.code == 0 and digest.code == 0
    assert text.out.encode() == SHIPPED.read_bytes()
    assert digest.out == hashlib.sha256(SHIPPED.read_bytes()).hexdigest() + "\n"


def test_agreement_json() -> None:
    result = run_bg20k("agreement", "--json")
    data = json.loads(result.out)
    assert data["version"] == "v1.0"
    assert data["title"] == "BG-20k Dataset v1.0 Release Agreement"
    assert data["sha256"] == hashlib.sha256(data["text"].encode()).hexdigest()
    assert "Indemnification" in data["text"]


def test_agreement_on_a_terminal_is_rendered_markdown() -> None:
    child = spawn_bg20k("agreement")
    child.expect("Indemnification")
    child.expect("SHA-256 be1bf734")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # Rendered, not raw: the Markdown emphasis markers are gone.
    assert "**Licenses:**" not in (child.before or "")


def test_tampered_description_is_refused(tmp_path: Path) -> None:
    release = write_release(tmp_path, agreement_text=b"other text")
    release.write_text(
        release.read_text().replace(hashlib.sha256(b"other text").hexdigest(), "f" * 64)
    )
    result = run_bg20k("agreement", env={"BG20K_RELEASE_FILE": str(release)})
    assert result.code == 5
    assert "SHA-256" in result.err and "Traceback" not in result.err
