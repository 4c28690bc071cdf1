"""Properties of every parser on the data side: what a server, an archive or a user's file hands
bg20k ends in a value or a typed error, never another exception, and every round trip is the
identity. Hypothesis generates the inputs (profiles in conftest.py; fuzz/ searches further).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text, parse_manifest
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.provenance import (
    ArchiveInfo,
    Component,
    Provenance,
    ReleaseFile,
    SizesDamaged,
    SourceAttempt,
    parse_provenance,
    provenance_files,
)
from bg20k_fetch.errors import IntegrityError, UsageError
from bg20k_fetch.gdrive.pages import (
    PageKind,
    classify,
    download_form,
    folder_entries,
    legacy_confirm_token,
)
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.resume import parse_content_range
from bg20k_fetch.util.plainyaml import parse_plain
from bg20k_fetch.util.strict import Invalid, build
from bg20k_fetch.util.yamlio import YamlError, dump_yaml, load_yaml
from tests.helpers import REPO

# Text a file can hold: any code point but the surrogates UTF-8 cannot encode.
TEXT = st.text(st.characters(exclude_categories=("Cs",)))
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
# A path in a tree: components with anything a POSIX name may hold but "/" and NUL. A newline
# is left out: a manifest is one line per file, and an archive member so named is refused first.
NAME = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="/\x00\n"), min_size=1, max_size=12
)
PATHS = st.lists(NAME, min_size=1, max_size=3).map("/".join)
WHEN = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
COUNT = st.integers(min_value=0, max_value=2**53)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


# -- MANIFEST.sha256 ------------------------------------------------------------------------------


@given(st.dictionaries(PATHS, HEX64, max_size=8))
@example({"train/a\x85b.jpg": "0" * 64, "train/c\u2028d.jpg": "1" * 64})
def test_a_manifest_reads_back_as_written(files: dict[str, str]) -> None:
    assert parse_manifest(manifest_text(files)) == files


@given(TEXT)
def test_any_manifest_text_is_a_manifest_or_an_integrity_error(text: str) -> None:
    try:
        files = parse_manifest(text)
    except IntegrityError as exc:
        assert "is malformed" in str(exc)
        return
    assert all(len(d) == 64 for d in files.values()) and all(files)


# -- Content-Range --------------------------------------------------------------------------------


@given(st.one_of(st.none(), TEXT, st.from_regex(r"\s*bytes \d{1,20}-\d{1,20}/(\d{1,20}|\*)\s*")))
def test_a_content_range_is_none_or_a_range_inside_its_total(value: str | None) -> None:
    parsed = parse_content_range(value)
    if parsed is not None:
        start, end, total = parsed
        assert 0 <= start <= end and (total is None or end < total)


@given(COUNT, COUNT, st.one_of(st.none(), COUNT))
def test_a_content_range_reads_back_as_a_server_writes_it(a: int, b: int, t: int | None) -> None:
    start, end = min(a, b), max(a, b)
    value = f"bytes {start}-{end}/{'*' if t is None else t}"
    expected = (start, end, t) if t is None or end < t else None
    assert parse_content_range(value) == expected


# -- lock files -----------------------------------------------------------------------------------


# At least one file: a lock of nothing pins nothing, and an empty manifest is refused on read.
@given(NAME, NAME, st.dictionaries(PATHS, HEX64, min_size=1, max_size=6), st.booleans())
def test_a_lock_file_reads_back_as_written(
    dataset: str, release: str, files: dict[str, str], complete: bool
) -> None:
    lock = LockFile(dataset, release, dataset_digest(files), files, complete)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bg20k.lock"
        path.write_text(lock.to_json(), encoding="utf-8")
        assert LockFile.read(path, dataset) == lock


@given(st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
@example(b"[" * 100_000)
@example(
    b'{"dataset":"d","release":"r","digest":"%s","manifest":"x","file_count":NaN}' % (b"0" * 64)
)
def test_any_lock_file_is_a_lock_or_a_usage_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bg20k.lock"
        path.write_bytes(data)
        with contextlib.suppress(UsageError, IntegrityError):
            LockFile.read(path)
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["bg20k.lock"]  # read only


# -- PROVENANCE.yaml and SIZES.json ---------------------------------------------------------------

PROVENANCE = st.builds(
    Provenance,
    tool=TEXT,
    created_at=WHEN,
    dataset=TEXT,
    release=TEXT,
    agreement_version=TEXT,
    agreement_sha256=HEX64,
    complete=st.booleans(),
    served_by=TEXT,
    failed_sources=st.lists(st.builds(SourceAttempt, source=TEXT, error=st.none() | TEXT)),
    archives=st.lists(st.builds(ArchiveInfo, name=TEXT, origin=TEXT, size=COUNT, sha256=HEX64)),
    counts=st.dictionaries(TEXT, COUNT, max_size=3),
    file_count=COUNT,
    digest=HEX64,
    extras_ignored=COUNT,
    checked_against=st.sampled_from(["counts", "split lists"]),
    release_files=st.dictionaries(
        TEXT,
        st.builds(
            ReleaseFile, origin=st.sampled_from(["release", "bg20k"]), size=COUNT, sha256=HEX64
        ),
        max_size=2,
    ),
    components=st.dictionaries(
        TEXT,
        st.builds(Component, file_count=COUNT, digest=HEX64, served_by=TEXT, created_at=WHEN),
        max_size=2,
    ),
    chain=st.lists(st.dictionaries(TEXT, TEXT, max_size=3), max_size=2),
    adopted=st.booleans(),
    sizes=st.dictionaries(PATHS, COUNT, max_size=5),
)


@given(PROVENANCE)
def test_provenance_reads_back_as_written(provenance: Provenance) -> None:
    written = provenance_files(provenance)
    parsed = parse_provenance(written["PROVENANCE.yaml"], lambda: written["SIZES.json"])
    assert parsed == provenance


@given(st.binary(max_size=300), st.one_of(st.none(), st.binary(max_size=100)))
@example(b"sizes: &a [*a]", None)
@example(b"- " * 5000 + b"x", None)
def test_any_provenance_is_one_or_a_value_error(text: bytes, sizes: bytes | None) -> None:
    with contextlib.suppress(SizesDamaged, ValueError):
        parse_provenance(text, lambda: sizes)


# -- YAML -----------------------------------------------------------------------------------------


@given(TEXT)
@example("a: &x [*x, *x]\n" + "".join(f"x{i}: &x{i} [*x, *x]\n" for i in range(40)))
@example("[" * 5000)
def test_any_yaml_text_is_a_value_or_a_yaml_error(text: str) -> None:
    with contextlib.suppress(YamlError):
        load_yaml(text)


@given(JSON)
def test_yaml_reads_back_as_dumped(value: object) -> None:
    assert load_yaml(dump_yaml(value)) == value
    assert load_yaml(dump_yaml(value, allow_unicode=True)) == value


# The plain subset bg20k reads without PyYAML: records as dump_yaml writes them, and lines of
# the shapes the subset accepts, mixed with the ones it must leave to PyYAML.
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=30),
    st.text(st.sampled_from("abcxyz0123456789.-_/@+ :#'\""), max_size=20),
    st.sampled_from(["yes", "No", "on", "~", "0b101", "0x1f", "012", "1.0", "0.2.0", "1e5"]),
)
RECORD = st.dictionaries(
    st.one_of(
        st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True), st.sampled_from(["on", "y"])
    ),
    st.one_of(SCALAR, st.lists(SCALAR, max_size=3)),
    max_size=8,
)
LINE = st.one_of(
    st.builds("{}: {}".format, st.sampled_from(["a", "b", "on", "key"]), st.text(max_size=12)),
    st.builds("- {}".format, st.text(max_size=12)),
    st.sampled_from(["a:", "b:", "- x", "a: []", "a: 'x'' y'", "  - x", "a: b: c", "a:b"]),
    st.text(max_size=15),
)


@given(st.one_of(RECORD.map(dump_yaml), st.lists(LINE, max_size=6).map("\n".join)))
@example(dump_yaml({"tool_version": "0.2.0", "sha": "0b1", "datasets": ["/d/BG-20k"]}))
@example("k" * 1025 + ": v\n")  # longer than YAML allows a plain key (a review found it)
def test_the_plain_reader_answers_only_as_pyyaml_would(text: str) -> None:
    try:
        expected: object = yaml.safe_load(text)
    except yaml.YAMLError:
        assert parse_plain(text) is None
        return
    assert parse_plain(text) in (None, expected)


def test_a_consent_record_is_read_without_pyyaml() -> None:
    record = {
        "schema_version": 1,
        "agreement_title": "BG-20k Dataset v1.0 Release Agreement",
        "agreement_sha256": "0" * 63 + "a",
        "accepted_at": "2026-12-06T14:48:10Z",
        "tool_version": "0.2.0",
        "name": None,
        "email": "ada@example.org",
        "datasets": ["/data/BG-20k", "/mnt/lab/BG-20k"],
        "revoked_at": None,
    }
    assert parse_plain(dump_yaml(record)) == record


# -- the release description ----------------------------------------------------------------------

SHIPPED = yaml.safe_load((REPO / "agreement" / "bg20k.yaml").read_text(encoding="utf-8"))


def _paths(value: object, at: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*at, i))
    return found


def _replaced(value: Any, path: tuple[object, ...], new: object) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)  # type: ignore[index]
    return copy


def test_the_shipped_release_description_builds() -> None:
    assert build(Release, SHIPPED).dataset == "BG-20k"


@given(st.sampled_from(_paths(SHIPPED)), JSON)
def test_any_change_to_the_release_description_builds_or_names_the_field(
    path: tuple[object, ...], new: object
) -> None:
    try:
        build(Release, _replaced(SHIPPED, path, new))
    except Invalid as exc:
        assert str(exc)


# -- Drive's pages --------------------------------------------------------------------------------

KEYS = st.sampled_from(["id", "class", "href", "action", "name", "value"])
ATTRS = st.lists(st.tuples(KEYS, TEXT))
TAGS = st.sampled_from(["div", "a", "form", "input", "title", "script", "p"])
HTML = st.lists(
    st.one_of(
        TEXT,
        st.builds(lambda t, a: f"<{t} " + " ".join(f'{k}="{v}"' for k, v in a) + ">", TAGS, ATTRS),
        TAGS.map(lambda t: f"</{t}>"),
        st.sampled_from(
            [
                '<div class="flip-entry" id="entry-',
                '<div class="flip-entry-title">',
                '<form id="download-form" action="',
                "<title>Google Drive - Virus scan warning</title>",
                "confirm=",
                "&#x",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@given(HTML, st.sampled_from(["https://drive.google.com/uc?id=x", "http://127.0.0.1:9/", ""]))
@example('<form id="download-form" action="http://[::1"><input name="id" value="x"></form>', "")
def test_any_page_is_classified_and_parsed_without_an_exception(page: str, url: str) -> None:
    assert isinstance(classify(page, url), PageKind)
    form = download_form(page, url or "https://drive.usercontent.google.com/download")
    if form is not None:  # a URL on the host the action names, whatever the page's query holds
        assert urlsplit(form.url()).netloc == urlsplit(form.action).netloc
    token = legacy_confirm_token(page)
    assert token is None or token.replace("_", "").replace("-", "").isalnum()
    for entry in folder_entries(page):
        assert entry.name == entry.name.strip() and entry.name and entry.id


# -- redaction ------------------------------------------------------------------------------------

SECRET = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/", min_size=6,
                 max_size=24).map(lambda s: "Zq" + s)  # fmt: skip
PARAM = st.sampled_from(
    ["key", "api_key", "apikey", "token", "access_token", "auth", "password", "passwd", "secret",
     "sig", "signature", "X-Amz-Signature", "X-Amz-Credential", "x-goog-signature", "KEY"]
)  # fmt: skip
HOST = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}(:[0-9]{2,5})?", fullmatch=True)


@st.composite
def urls_with_secrets(draw: st.DrawFn) -> tuple[str, list[str]]:
    secrets: list[str] = []
    userinfo = ""
    if draw(st.booleans()):
        user = draw(st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True))
        password = draw(SECRET).replace("/", "%2F")  # a "/" in a password is percent-encoded
        userinfo, secrets = f"{user}:{password}@", [password]
    params = []
    for _ in range(draw(st.integers(0, 3))):
        value = draw(SECRET)
        params.append(f"{draw(PARAM)}={value}")
        secrets.append(value)
    params += draw(
        st.lists(st.sampled_from(["id=abc", "export=download", "confirm=t"]), max_size=2)
    )
    query = ("?" + "&".join(draw(st.permutations(params)))) if params else ""
    scheme = draw(st.sampled_from(["https", "http", "s3", "gs"]))
    path = draw(st.from_regex(r"[a-z0-9/._-]{0,12}", fullmatch=True))
    url = f"{scheme}://{userinfo}{draw(HOST)}/{path}{query}"
    return url, secrets


@given(urls_with_secrets(), st.sampled_from(["{}", "Cannot reach {}: timed out", "'{}'", "({})"]))
def test_no_secret_survives_redaction_wherever_the_url_is_quoted(
    case: tuple[str, list[str]], context: str
) -> None:
    from bg20k_fetch.redact import redact

    url, secrets = case
    text = context.format(url)
    masked = redact(text)
    assert not [s for s in secrets if s in masked]
    assert redact(masked) == masked  # masking is done once and for all
    if not secrets:
        assert masked == text  # nothing else is touched


@given(TEXT)
def test_text_without_a_credential_shape_is_unchanged(text: str) -> None:
    from bg20k_fetch.redact import redact

    if "@" not in text and "=" not in text:
        assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://u:pw@host/p?key=abc&id=1", "https://***@host/p?key=***&id=1"),
        ('Invalid bucket name "AKIA:s3cr3t@lab-data"', 'Invalid bucket name "***@lab-data"'),
        ("GET /x?X-Amz-Signature=f00&X-Amz-Date=1", "GET /x?X-Amz-Signature=***&X-Amz-Date=***"),
        ("mail ada@example.org, not a credential", "mail ada@example.org, not a credential"),
    ],
    ids=["url", "bare-userinfo-in-a-message", "signed-url", "an-address-is-kept"],
)  # fmt: skip
def test_redaction_masks_the_secret_in_place_and_keeps_the_rest(text: str, masked: str) -> None:
    """The mask stands where the secret was, so a message still reads (and the parameter's
    name still says what was hidden)."""
    from bg20k_fetch.redact import redact

    assert redact(text) == masked
