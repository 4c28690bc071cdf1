"""Fuzz targets: each takes bytes a server, a disk or a user could hand bg20k and feeds them to
one parser. A target may end in the parser's typed error (``ALLOWED``); any other exception is a
finding. The same functions replay the kept corpus in the fast tests
(``tests/test_fuzz_corpus.py``), so every input that once found a bug stays a regression test.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bg20k_fetch.citing.bib_scan import decode, parse_aux, parse_bbl, parse_bcf, parse_bib
from bg20k_fetch.citing.pdf_scan import entries, read_pdf
from bg20k_fetch.citing.references import existing_keys, unclosed_entry
from bg20k_fetch.citing.tex_scan import scan_project
from bg20k_fetch.consent.record import parse_record
from bg20k_fetch.consent.trail import read_lines
from bg20k_fetch.dataset.manifest import parse_manifest
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.provenance import SizesDamaged, parse_provenance
from bg20k_fetch.errors import Bg20kError
from bg20k_fetch.gdrive.pages import classify, download_form, folder_entries, legacy_confirm_token
from bg20k_fetch.locations import Paths
from bg20k_fetch.register.records import Damaged, parse
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.archive import list_members
from bg20k_fetch.transfer.extract import Item, copy_members
from bg20k_fetch.transfer.members import open_members
from bg20k_fetch.transfer.resume import parse_content_range
from bg20k_fetch.util.strict import Invalid, build
from bg20k_fetch.util.yamlio import YamlError, load_yaml

_SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - RAM, for speed
_SCRATCH = Path(tempfile.mkdtemp(prefix="bg20k-fuzz-", dir=_SHM))
atexit.register(shutil.rmtree, _SCRATCH, True)  # every process that imports this leaves none


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def manifest(data: bytes) -> None:
    files = parse_manifest(_text(data))
    assert all(len(d) == 64 for d in files.values())


def content_range(data: bytes) -> None:
    parsed = parse_content_range(_text(data))
    if parsed is not None:
        start, end, total = parsed
        assert 0 <= start <= end and (total is None or end < total)


def lock_file(data: bytes) -> None:
    path = _SCRATCH / "bg20k.lock"
    path.write_bytes(data)
    LockFile.read(path)


def provenance(data: bytes) -> None:
    yaml_part, _, sizes = data.partition(b"\x00")
    parse_provenance(yaml_part, lambda: sizes or None)


def yaml_text(data: bytes) -> None:
    load_yaml(_text(data))


def release_description(data: bytes) -> None:
    build(Release, load_yaml(_text(data)))


def consent_record(data: bytes) -> None:
    parse_record(_text(data))


def history(data: bytes) -> None:
    paths = Paths(_SCRATCH, _SCRATCH, _SCRATCH)
    paths.history_file.write_bytes(data)
    for event in read_lines(paths):
        assert event["event"] in ("intent", "accepted", "revoked", "aborted", "damaged")


def register_record(data: bytes) -> None:
    parse(hashlib.sha256(data).hexdigest() + ".json", data)


def drive_page(data: bytes) -> None:
    page = _text(data)
    classify(page, "https://drive.google.com/uc?id=x")
    form = download_form(page, "https://drive.usercontent.google.com/download")
    if form is not None:
        form.url()
    legacy_confirm_token(page)
    for entry in folder_entries(page):
        assert entry.id and entry.name


def bib(data: bytes) -> None:
    text = decode(data)
    parse_bib("refs.bib", text)
    existing_keys(text)
    unclosed_entry(text)


def tex(data: bytes) -> None:
    text = _text(data)
    scan_project(["main.tex"], lambda name: text if name == "main.tex" else None)


def build_outputs(data: bytes) -> None:
    text = _text(data)
    parse_aux("main.aux", text)
    parse_bbl("main.bbl", text)
    parse_bcf("main.bcf", data)


def pdf(data: bytes) -> None:
    text = read_pdf("paper.pdf", data)
    text.body()
    for _, page in text.reference_pages():
        entries(page)


def archive(data: bytes) -> None:
    path = _SCRATCH / ("a.zip" if data[:2] == b"PK" else "a.tar")
    path.write_bytes(data)
    approved = list_members(path)
    with open_members(path, approved) as stream:  # read out in archive order
        for _, handle in stream:
            while handle.read(1 << 16):
                pass
    if path.suffix == ".zip":  # and as a zip's extraction reads them: from the checked offsets
        items = [Item(member, member.name, None) for member in approved]  # hashed, not written
        copy_members(path, items, workers=1, advance=lambda n: None)


TARGETS: dict[str, Callable[[bytes], None]] = {
    f.__name__: f
    for f in (
        manifest,
        content_range,
        lock_file,
        provenance,
        yaml_text,
        release_description,
        consent_record,
        history,
        register_record,
        drive_page,
        bib,
        tex,
        build_outputs,
        pdf,
        archive,
    )
}

# What each parser may raise: its typed errors. Anything else is a bug.
ALLOWED: tuple[type[BaseException], ...] = (
    Bg20kError,  # IntegrityError, UsageError, DamagedData: the CLI's one-line errors
    Damaged,
    Invalid,
    SizesDamaged,
    YamlError,
)
# parse_record and parse_provenance document ValueError (their callers turn it into words).
ALLOWED_VALUE_ERROR = {"consent_record", "provenance"}


def run(name: str, data: bytes) -> None:
    """One input through one target: returns, or raises what is a finding."""
    try:
        TARGETS[name](data)
    except ALLOWED:
        pass
    except ValueError:
        if name not in ALLOWED_VALUE_ERROR:
            raise
