"""The built wheel, not the source tree, must carry the agreement and the dataset description."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import AGREEMENT_SHA256, REPO

# Real processes and their timing: the slow layer.
pytestmark = pytest.mark.slow


SHA = AGREEMENT_SHA256


def test_installed_wheel_serves_agreement_and_citations(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("bg20k-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bg20k_fetch/agreement/bg20k.yaml" in names
    assert "bg20k_fetch/agreement/BG-20k_Dataset_v1.0_Release_Agreement.md" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}

    def run(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "bg20k_fetch", *args],
            cwd=away,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    where = subprocess.run(
        [sys.executable, "-c", "import bg20k_fetch; print(bg20k_fetch.__file__)"],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))
    assert hashlib.sha256(run("agreement").encode()).hexdigest() == SHA
    assert run("agreement", "--sha256").strip() == SHA
    assert "@article{li2022bridging," in run("cite")
    assert str(target) in run("status")  # the description is read from the installed copy
