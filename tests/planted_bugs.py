"""Plant each one-line bug the test-strength issue named, in a throwaway clone, one at a time,
and run the tests that must catch it. Prints a Markdown table (docs/testing.md holds the last).

    .venv/bin/python tests/planted_bugs.py

Never touches the working tree: it clones HEAD into a temporary directory and puts that clone
first on PYTHONPATH, so subprocesses started by the tests run the planted code too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]


class Bug(NamedTuple):
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


G = "tests/test_guards.py::"
JPEG_CHECK = 'return head[:3] == JPEG_HEAD and tail.rstrip(b"\\x00\\r\\n\\t ").endswith(JPEG_TAIL)'
BUGS = (
    Bug(
        "a pin compared on its first 12 digits only",
        "bg20k_fetch/consent/agreement.py",
        "return digest.startswith(pin.lower())",
        "return digest[:12].startswith(pin.lower()[:12])",
        (G + "test_full_pin_differing_after_its_first_20_digits_is_refused",),
    ),
    Bug(
        "`BG20K_ACCEPT_AGREEMENT=yes` not recognised",
        "bg20k_fetch/consent/gate.py",
        'if value.lower() == "yes":',
        'if value.lower() == "yess":',
        (G + "test_environment_yes_accepts_and_no_refuses",),
    ),
    Bug(
        "`BG20K_ACCEPT_AGREEMENT=no` no longer refusing",
        "bg20k_fetch/consent/gate.py",
        'value.lower() in {"no", "0", "false"}',
        'value.lower() in {"0", "false"}',
        (G + "test_environment_yes_accepts_and_no_refuses",),
    ),
    Bug(
        "resume accepting a 206 from another offset",
        "bg20k_fetch/transfer/resume.py",
        "if rng[0] != offset:",
        "if False:",
        (G + "test_resume_refuses_a_206_that_does_not_continue_the_file",),
    ),
    Bug(
        "resume accepting a 206 with another total",
        "bg20k_fetch/transfer/resume.py",
        "if offset and saved_total is not None and rng[2] != saved_total:",
        "if False:",
        (G + "test_resume_refuses_a_206_that_does_not_continue_the_file",),
    ),
    Bug(
        "the JPEG end marker (FF D9) check removed",
        "bg20k_fetch/transfer/hashing.py",
        JPEG_CHECK,
        "return head[:3] == JPEG_HEAD",
        (
            G + "test_truncated_jpeg_and_headless_jpeg_in_an_archive",
            G + "test_truncated_jpeg_and_headless_jpeg_in_a_drive_folder",
        ),
    ),
    Bug(
        "the JPEG start marker (FF D8 FF) check removed",
        "bg20k_fetch/transfer/hashing.py",
        JPEG_CHECK,
        'return tail.rstrip(b"\\x00\\r\\n\\t ").endswith(JPEG_TAIL)',
        (
            G + "test_truncated_jpeg_and_headless_jpeg_in_an_archive",
            G + "test_truncated_jpeg_and_headless_jpeg_in_a_drive_folder",
        ),
    ),
    Bug(
        "verify not comparing the manifest with PROVENANCE.yaml's digest",
        "bg20k_fetch/dataset/verification.py",
        "if dataset_digest(manifest) != provenance.digest:",
        "if False:",
        (G + "test_verify_compares_the_manifest_with_the_recorded_digest",),
    ),
    Bug(
        "the Drive form parser taking any form",
        "bg20k_fetch/gdrive/pages.py",
        'if tag == "form" and a.get("id") == "download-form":',
        'if tag == "form":',
        (G + "test_form_parser_takes_only_the_download_forms_inputs",),
    ),
    Bug(
        "the Drive form parser taking inputs outside the form",
        "bg20k_fetch/gdrive/pages.py",
        'elif tag == "input" and self._inside and self.form is not None and a.get("name"):',
        'elif tag == "input" and self.form is not None and a.get("name"):',
        (G + "test_form_parser_takes_only_the_download_forms_inputs",),
    ),
    Bug(
        "the whole-folder pause after a 429 removed",
        "bg20k_fetch/gdrive/throttle.py",
        "        if delay > 0:\n            pause = self._sleep",
        "        if False:\n            pause = self._sleep",
        (
            G + "test_a_429_pauses_every_worker_for_its_retry_after",
            "tests/test_gdrive.py::test_throttling_mid_folder_backs_off_and_completes",
        ),
    ),
    Bug(
        "the agreement printed as raw Markdown on a terminal",
        "bg20k_fetch/cli/ui.py",
        "from rich.markdown import Markdown  # only a terminal needs the renderer",
        "Markdown = str  # planted",
        ("tests/test_agreement.py::test_agreement_on_a_terminal_is_rendered_markdown",),
    ),
    Bug(
        "`--jobs` ignored (one worker)",
        "bg20k_fetch/sources/gdrive_folder.py",
        "FolderFetch(ctx, target, jobs=ctx.jobs)",
        "FolderFetch(ctx, target, jobs=1)",
        (G + "test_jobs_means_files_in_flight_at_once",),
    ),
)


def plant(clone: Path, bug: Bug) -> list[str]:
    """The tests that failed with the bug in place (none: it survived)."""
    source = clone / bug.path
    original = source.read_text()
    if original.count(bug.old) != 1:
        raise SystemExit(f"{bug.path}: the line to plant '{bug.name}' in has changed")
    source.write_text(original.replace(bug.old, bug.new))
    env = {**os.environ, "PYTHONPATH": str(clone)}
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *bug.tests],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        source.write_text(original)
    return [line.split()[1] for line in run.stdout.splitlines() if line.startswith("FAILED")]


def main() -> int:
    rows = ["| bug planted | in | failing tests |", "| --- | --- | --- |"]
    survived = 0
    with tempfile.TemporaryDirectory(prefix="bg20k-planted-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        for bug in BUGS:
            failed = plant(clone, bug)
            survived += not failed
            names = ", ".join(f"`{f.split('::')[-1]}`" for f in failed) or "**none: survived**"
            rows.append(f"| {bug.name} | `{bug.path}` | {names} |")
            print(rows[-1], file=sys.stderr)
    print("\n".join(rows))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
