"""Regression tests: JSON nested a few thousand levels deep, in every file bg20k reads as JSON.

``json.loads`` raises RecursionError for it, which no reader caught: a 4 KiB ``.bg20k-tree`` of
``[`` was an internal error in every command that looks at a tree. Found by the register's
property test (tests/test_properties_consent.py); the others by looking for its siblings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bg20k_fetch.util.jsonio import TooDeep, load_json

DEEP = b"[" * 100_000


def test_load_json_says_too_deep_as_a_value_error() -> None:
    with pytest.raises(TooDeep):
        load_json(DEEP)
    assert isinstance(TooDeep("x"), ValueError)
    assert load_json(b"[[1]]") == [[1]]


def test_a_tree_marker_nested_too_deep_is_no_marker(tmp_path: Path) -> None:
    from bg20k_fetch.dataset.provenance import MARKER_NAME, read_marker, was_adopted

    (tmp_path / MARKER_NAME).write_bytes(DEEP[:4096])
    assert was_adopted(tmp_path) is False
    assert read_marker(tmp_path) is None


def test_a_sizes_file_nested_too_deep_is_damaged() -> None:
    from bg20k_fetch.dataset.provenance import SizesDamaged, parse_provenance

    with pytest.raises(SizesDamaged):
        parse_provenance(b"tool: x\n", lambda: DEEP)


def test_a_download_sidecar_nested_too_deep_starts_the_part_over(tmp_path: Path) -> None:
    from bg20k_fetch.transfer.resume import PartFile

    part = PartFile(tmp_path / "a.zip", "http://127.0.0.1/a.zip")
    part.meta.write_bytes(DEEP)
    part.done.write_bytes(DEEP)
    assert part.saved() == {}
    assert part.complete(None) is None


def test_a_drive_cache_index_line_nested_too_deep_is_skipped(tmp_path: Path) -> None:
    from bg20k_fetch.gdrive.folder_cache import INDEX_NAME, FolderCache

    good = b'{"path": "train/a.jpg", "size": 1, "sha256": "' + b"0" * 64 + b'"}'
    (tmp_path / INDEX_NAME).write_bytes(DEEP + b"\n" + good + b"\n")
    cache = FolderCache(tmp_path)
    assert list(cache._index) == ["train/a.jpg"]


def test_a_bom_nested_too_deep_is_a_usage_error() -> None:
    from bg20k_fetch.dataset.bom import add_into
    from bg20k_fetch.errors import UsageError
    from bg20k_fetch.release import load_release

    with pytest.raises(UsageError, match="nothing was changed"):
        add_into(DEEP.decode(), load_release())


def test_a_register_record_nested_too_deep_is_damaged() -> None:
    import hashlib

    from bg20k_fetch.register.records import Damaged, parse

    with pytest.raises(Damaged, match="not JSON"):
        parse(hashlib.sha256(DEEP).hexdigest() + ".json", DEEP)
