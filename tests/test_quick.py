"""`bg20k cite`, `agreement --sha256` and `status`, typed exactly so, are answered without the
parser (cli/quick.py): what they print, and how they fail, must be what the parser's path gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bg20k_fetch.cli import build_parser
from bg20k_fetch.cli.quick import QUICK, answer
from tests.helpers import cli

COMMANDS = [list(argv) for argv in QUICK]


@pytest.mark.parametrize("argv", COMMANDS)
def test_the_table_holds_what_the_parser_makes_of_the_command(argv: list[str]) -> None:
    parsed = vars(build_parser(argv[0]).parse_args(argv))
    parsed.pop("handler")
    _, values = QUICK[tuple(argv)]
    assert parsed == {"command": argv[0], "debug": False, **values}


@pytest.mark.parametrize(
    "argv",
    [
        ["cite", "--all"],
        ["--debug", "cite"],
        ["cite", "-o", "refs.bib"],
        ["agreement"],
        ["agreement", "--json"],
        ["status", "--json"],
        ["history"],
        ["citE"],
        [],
    ],
)
def test_any_other_command_line_goes_to_the_parser(argv: list[str]) -> None:
    assert answer(argv) is None


def test_status_accepted_and_not(tmp_path: Path) -> None:
    for _ in range(2):
        quick, parsed = cli("status", quick=True), cli("status")
        assert (quick.code, quick.out, quick.err) == (parsed.code, parsed.out, parsed.err)
        assert cli("accept", "--yes").code == 0
    assert "in force" in quick.out


@pytest.mark.parametrize("argv", COMMANDS)
def test_the_same_answer_from_the_shipped_description(argv: list[str]) -> None:
    quick, parsed = cli(*argv, quick=True), cli(*argv)
    assert quick.code == parsed.code == 0
    assert quick.raw == parsed.raw and quick.err == parsed.err


@pytest.mark.parametrize("argv", COMMANDS)
def test_the_same_error_when_the_description_is_missing(argv: list[str], tmp_path: Path) -> None:
    env = {"BG20K_RELEASE_FILE": str(tmp_path / "nowhere.yaml")}
    quick, parsed = cli(*argv, env=env, quick=True), cli(*argv, env=env)
    assert quick.code == parsed.code != 0
    assert quick.err == parsed.err and "nowhere.yaml" in quick.err
    assert quick.out == parsed.out == ""


@pytest.mark.parametrize("argv", COMMANDS)
def test_the_same_answer_from_an_edited_description(argv: list[str], tmp_path: Path) -> None:
    """An edited description has no current precompiled copy: both paths read the YAML."""
    from tests.helpers import write_release

    env = {"BG20K_RELEASE_FILE": str(write_release(tmp_path / "rel", counts={"train": 3}))}
    quick, parsed = cli(*argv, env=env, quick=True), cli(*argv, env=env)
    assert (quick.code, quick.raw, quick.err) == (parsed.code, parsed.raw, parsed.err)


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS)
def test_the_command_answers_without_importing_argparse(argv: list[str]) -> None:
    probe = (
        "import sys; sys.argv = ['bg20k', *sys.argv[1:]]\n"
        "from bg20k_fetch.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "sys.stderr.write(f'ARGPARSE {\"argparse\" in sys.modules} CODE {code}\\n')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert "ARGPARSE False CODE 0" in proc.stderr, proc.stderr
    assert proc.stdout
