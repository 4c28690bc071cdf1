"""The user's config file (bg20k_fetch/config.py): what it may say, and the one line that
names what is wrong when it says anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bg20k_fetch.config import Config, DriveConfig, Mirror, load_config
from bg20k_fetch.errors import UsageError
from bg20k_fetch.locations import Paths

GOOD = "a" * 64


def _config(paths: Paths, text: str) -> Config:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text)
    return load_config(paths)


def test_no_file_is_an_empty_config(paths: Paths) -> None:
    assert load_config(paths) == Config(mirrors=[], gdrive=None)


def test_mirrors_and_drive_urls_are_read_as_written(paths: Paths) -> None:
    config = _config(
        paths,
        f"mirrors:\n  - url: https://lab/BG-20k.zip\n    sha256: {GOOD.upper()}\n    size: 5\n"
        "  - url: /data/BG-20k.zip\ngdrive:\n  drive: http://127.0.0.1:9/\n  api_key: k\n",
    )
    assert config.mirrors == [
        Mirror("https://lab/BG-20k.zip", GOOD.upper(), 5),
        Mirror("/data/BG-20k.zip"),
    ]
    assert config.gdrive == DriveConfig(drive="http://127.0.0.1:9/", api_key="k")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('mirrors:\n  - url: "  "\n', "mirrors.0.url: must not be empty"),
        ("mirrors:\n  - url: u\n    sha256: abc\n", "mirrors.0.sha256: must be 64 hex digits"),
        (
            "mirrors:\n  - url: u\n  - url: v\n    size: -1\n",
            "mirrors.1.size: must not be negative",
        ),
        ('mirrors:\n  - url: u\n    size: "5"\n', "mirrors.0.size: expected int, got str"),
        ("mirrors:\n  - url: u\n    size: true\n", "mirrors.0.size: expected int, got bool"),
        ("mirrors:\n  - url: u\n    urll: v\n", "mirrors.0.urll: unknown field"),
        ("mirrors:\n  - sha256: " + GOOD + "\n", "mirrors.0.url: missing"),
        ("mirrors: u\n", "mirrors: expected a list"),
        ("gdrive:\n  drive: 5\n", "gdrive.drive: expected str, got int"),
        ("mirror: []\n", "mirror: unknown field"),
        ("- a\n", "expected a mapping, got list"),
    ],
)
def test_anything_else_is_a_usage_error_naming_the_field(
    paths: Paths, text: str, said: str
) -> None:
    with pytest.raises(UsageError) as caught:
        _config(paths, text)
    assert caught.value.message == f"The config file {paths.config_file} is invalid: {said}."
    assert caught.value.exit_code == 2


def test_a_config_that_is_not_yaml_is_named(paths: Paths, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        _config(paths, "mirrors: [\n")
    assert caught.value.message.startswith(f"Cannot read the config file {paths.config_file}: ")
