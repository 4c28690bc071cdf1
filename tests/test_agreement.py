from __future__ import annotations

import hashlib
import json
import re
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
    assert data["version"] == "v1.0" and data["dataset"] == "BG-20k"
    assert data["title"] == "BG-20k Dataset v1.0 Release Agreement"
    shipped = SHIPPED.read_bytes()
    assert data["sha256"] == hashlib.sha256(shipped).hexdigest()  # the file's own bytes …
    assert data["text"].encode("utf-8") == shipped  # … and the text is exactly them
    assert "Indemnification" in data["text"]


@pytest.mark.slow
def test_agreement_on_a_terminal_is_rendered_markdown() -> None:
    child = spawn_bg20k("agreement")
    screen = child.read()  # everything the terminal showed, not only what followed a match
    child.close()
    assert child.exitstatus == 0
    assert "Indemnification" in screen and "SHA-256 be1bf734" in screen
    # Rendered, not raw: the Markdown emphasis and heading markers are gone.
    assert "Licenses:" in screen and "**Licenses:**" not in screen
    assert "**" not in screen and not re.search(r"^#+ ", screen, re.MULTILINE)


@pytest.mark.slow
def test_terminal_rendering_shows_every_word() -> None:
    """A legal text must never be cut at the terminal's edge: every word reaches the screen."""
    child = spawn_bg20k("agreement")
    child.expect(pexpect.EOF)
    child.close()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before or "")
    shown = " ".join(screen.split())
    text = SHIPPED.read_text()
    words = re.sub(r"\(mailto:[^)]*\)|[*#\[\]()]", " ", text).split()
    # List numbers are drawn by the renderer ("1" for "1."); every other word must appear.
    missing = [w for w in words if w not in shown and not re.fullmatch(r"\d+\.", w)]
    assert missing == []
    for sentence in (
        "Proceedings of the 30th International Joint Conference on Artificial Intelligence, 2021.",
        "The dataset administrator reserves the right to terminate your access to "
        "the Dataset at any time.",
    ):
        assert sentence in shown


def test_tampered_description_is_refused(tmp_path: Path) -> None:
    release = write_release(tmp_path, agreement_text=b"other text")
    release.write_text(
        release.read_text().replace(hashlib.sha256(b"other text").hexdigest(), "f" * 64)
    )
    result = run_bg20k("agreement", env={"BG20K_RELEASE_FILE": str(release)})
    assert result.code == 5
    assert "SHA-256" in result.err and "Traceback" not in result.err


def _release_with_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes) -> Path:
    path = write_release(tmp_path / "release", agreement_text=text)
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(path))
    return path.parent / "BG-20k_Dataset_v1.0_Release_Agreement.md"


def test_an_agreement_text_that_cannot_be_read_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.errors import ReleaseDescriptionError

    text = _release_with_text(tmp_path, monkeypatch, b"x")
    text.unlink()
    with pytest.raises(ReleaseDescriptionError) as caught:
        load_agreement()
    assert caught.value.message == (
        f"Cannot read the agreement text {text}: No such file or directory."
    )
    assert caught.value.hint == "Reinstall bg20k."
    big = b"x" * ((1 << 20) + 1)  # more than any agreement: not read into memory
    text = _release_with_text(tmp_path, monkeypatch, big)
    with pytest.raises(ReleaseDescriptionError) as caught:
        load_agreement()
    assert caught.value.message == (
        f"Cannot read the agreement text {text}: it is {len(big)} bytes, more than the "
        f"{1 << 20} allowed."
    )


def test_a_text_edited_without_its_digest_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.errors import IntegrityError

    text = _release_with_text(tmp_path, monkeypatch, SHIPPED.read_bytes())
    text.write_bytes(SHIPPED.read_bytes() + b"\nA clause added later.\n")
    with pytest.raises(IntegrityError) as caught:
        load_agreement()
    assert caught.value.hint == (
        "Update agreement/bg20k.yaml together with the text, or reinstall bg20k."
    )


def test_the_precompiled_release_description_is_the_shipped_yaml() -> None:
    """agreement/bg20k.json lets `cite` and `agreement` start without PyYAML and answers `cite`
    without rendering; it must say exactly what the YAML and the renderers say. After editing
    either, write it again with: python -m bg20k_fetch.citing.precompiled agreement/bg20k.yaml"""
    from bg20k_fetch.citing.precompiled import compiled_with_answers

    shipped = REPO / "agreement" / "bg20k.yaml"
    written = (REPO / "agreement" / "bg20k.json").read_text(encoding="utf-8")
    assert written == compiled_with_answers(shipped)


def test_an_edited_description_is_read_as_yaml_never_through_a_stale_compiled_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import bg20k_fetch.release as release_module

    for name in ("bg20k.yaml", "bg20k.json", "BG-20k_Dataset_v1.0_Release_Agreement.md"):
        shutil.copy(REPO / "agreement" / name, tmp_path / name)
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(tmp_path / "bg20k.yaml"))
    release_module._load.cache_clear()
    compiled = release_module.load_release()
    text = (tmp_path / "bg20k.yaml").read_text(encoding="utf-8")
    (tmp_path / "bg20k.yaml").write_text(text.replace("title: BG-20k", "title: Edited BG-20k"))
    release_module._load.cache_clear()
    edited = release_module.load_release()
    assert compiled.title.startswith("BG-20k") and edited.title.startswith("Edited BG-20k")
    (tmp_path / "bg20k.json").write_text("{not json")  # a damaged copy is no copy either
    release_module._load.cache_clear()
    assert release_module.load_release() == edited
    release_module._load.cache_clear()


def _description_copy(where: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    for name in ("bg20k.yaml", "bg20k.json", "BG-20k_Dataset_v1.0_Release_Agreement.md"):
        shutil.copy(REPO / "agreement" / name, where / name)
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(where / "bg20k.yaml"))
    return where / "bg20k.yaml"


def test_cite_is_answered_from_the_precompiled_copy_only_while_it_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import cli

    shipped = cli("cite", "--all", "--format", "text").out
    yaml_file = _description_copy(tmp_path, monkeypatch)
    assert cli("cite", "--all", "--format", "text").out == shipped
    text = yaml_file.read_text(encoding="utf-8")
    assert "Bridging Composite and Real" in text
    yaml_file.write_text(text.replace("Bridging Composite and Real", "Bridging Edited"))
    edited = cli("cite", "--all", "--format", "text")
    assert edited.code == 0 and "Bridging Edited" in edited.out  # rendered, not the stale copy
    assert "Bridging Composite and Real" not in edited.out


def test_agreement_sha256_is_never_printed_for_a_text_the_description_does_not_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import cli

    _description_copy(tmp_path, monkeypatch)
    assert (
        cli("agreement", "--sha256").out == hashlib.sha256(SHIPPED.read_bytes()).hexdigest() + "\n"
    )
    text = tmp_path / "BG-20k_Dataset_v1.0_Release_Agreement.md"
    text.write_bytes(text.read_bytes().replace(b"agree", b"AGREE", 1))
    altered = cli("agreement", "--sha256")
    assert altered.code == 5 and altered.out == ""
    assert "but the dataset description says" in altered.err
