"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/: real files of the
kinds each parser reads (a fetched tree's receipts, a consent record and its history line, the
shipped release description, Drive's pages from the emulator, a compiled paper), so fuzzing
starts from the formats' real shapes. Run once; the corpus is kept in git.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bg20k_fetch.citing.references import render, select  # noqa: E402
from bg20k_fetch.consent.record import ConsentRecord  # noqa: E402
from bg20k_fetch.consent.trail import line_for  # noqa: E402
from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text  # noqa: E402
from bg20k_fetch.dataset.pin import LockFile  # noqa: E402
from bg20k_fetch.register.records import RegisterRecord  # noqa: E402
from bg20k_fetch.release import load_release  # noqa: E402
from tests.data import jpeg, zip_bytes  # noqa: E402
from tests.gdrive_emulator import DriveEmulator  # noqa: E402

RELEASE = load_release()
FILES = {"train/h_1.jpg": "a" * 64, "testval/h_2.jpg": "b" * 64}
RECORD = ConsentRecord(
    dataset="BG-20k",
    agreement_title=RELEASE.agreement.title,
    agreement_version=RELEASE.agreement.version,
    agreement_sha256="c" * 64,
    status="accepted",
    accepted_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    method="prompt",
    os_user="ada",
    host="node1",
    tool_version="1.0",
    name="Ada",
)
PAPER = (
    "\\documentclass{article}\n\\begin{document}\nWe composite onto BG-20k~\\cite{li2022bridging}"
    " % \\cite{other}\n\\input{intro}\n\\nocite{*}\n\\bibliographystyle{plain}\n"
    "\\bibliography{refs}\n\\end{document}\n"
)


def seeds() -> dict[str, list[bytes]]:
    bib = render(select(RELEASE, include_encouraged=True), RELEASE, "bibtex")
    shipped = (HERE.parent / "agreement" / "bg20k.yaml").read_bytes()
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as tf:
        info = tarfile.TarInfo("BG-20k/train/h_1.jpg")
        data = jpeg(1)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return {
        "manifest": [manifest_text(FILES).encode()],
        "content_range": [b"bytes 0-99/100", b"bytes 5-9/*", b"bytes */100"],
        "lock_file": [LockFile("BG-20k", "1.0", dataset_digest(FILES), FILES).to_json().encode()],
        "provenance": [
            b"tool: bg20k 1.0\ncreated_at: 2026-12-01T09:30:00+00:00\ndataset: BG-20k\n"
            b"complete: true\ndigest: " + b"d" * 64 + b'\x00{"sizes":{"train/h_1.jpg":5}}'
        ],
        "yaml_text": [shipped],
        "release_description": [shipped],
        "consent_record": [RECORD.to_yaml()],
        "history": [
            (line_for("intent", RECORD, txn="t", intent="accepted") + "\n").encode()
            + (line_for("accepted", RECORD, txn="t") + "\n").encode()
        ],
        "register_record": [RegisterRecord.of(RECORD).to_bytes()],
        "drive_page": _drive_pages(),
        "bib": [bib.encode(), b"@string{ijcv = {IJCV}}\n@article{x, journal = ijcv # { 2022}}\n"],
        "tex": [PAPER.encode()],
        "build_outputs": [b"\\citation{li2022bridging}\n\\bibcite{li2022bridging}{1}\n"],
        "pdf": [_pdf(bib)],
        "archive": [zip_bytes({"train/h_1.jpg": jpeg(1)}), tar.getvalue()],
    }


def _drive_pages() -> list[bytes]:
    with DriveEmulator() as emu:
        root = emu.add_tree({"train/h_1.jpg": jpeg(1), "big.zip": b"0" * 200_000})
        folder = requests.get(f"{emu.base_url}/embeddedfolderview?id={root}", timeout=10)
        big = emu.file_id("big.zip", root)
        warning = requests.get(f"{emu.base_url}/uc?id={big}&export=download", timeout=10)
    return [folder.content, warning.content]


def _pdf(bib: str) -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        (where / "refs.bib").write_text(bib)
        (where / "intro.tex").write_text("Backgrounds matter.\n")
        (where / "main.tex").write_text(PAPER)
        latex = ["pdflatex", "-interaction=batchmode", "main"]
        for step in (latex, ["bibtex", "main"], latex, latex):
            subprocess.run(step, cwd=where, capture_output=True, check=False)
        return (where / "main.pdf").read_bytes()


def main() -> None:
    for target, inputs in seeds().items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(inputs):
            (folder / f"seed-{n}").write_bytes(data)
        print(target, [len(d) for d in inputs])


if __name__ == "__main__":
    main()
