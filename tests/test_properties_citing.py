"""Properties of the citation side: every rendering of every reference parses back with the
ecosystem's own parser (pybtex and bibtexparser, json, PyYAML and cffconvert), the .bib
appender never loses a byte of the user's file, and the paper check's verdict follows the
one thing that decides it (an uncommented \\cite of the paper) whatever surrounds it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import bibtexparser
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bg20k_fetch.citing.bib_scan import parse_aux, parse_bbl, parse_bcf, parse_bib
from bg20k_fetch.citing.paper_check import CITED, check_paper
from bg20k_fetch.citing.references import existing_keys, merge_into_bib, render
from bg20k_fetch.citing.tex_scan import scan_project
from bg20k_fetch.release import Person, Reference, Release, load_release
from tests.helpers import parse_bibtex

RELEASE = load_release()


def fewer(examples: int) -> settings:
    """Fewer examples in CI for the properties that run an ecosystem parser per example (the
    fast layer's budget); the explore profile keeps its own, larger number."""
    default = settings.default.max_examples
    return settings(max_examples=examples if default <= 120 else default)


REQUIRED = next(r for r in RELEASE.references if r.role == "required")

# Words as titles and names hold them: letters of any script, digits, the characters LaTeX
# treats specially (escaped on output), and brace-protected groups.
WORD = st.text(
    st.characters(categories=("L", "Nd"), exclude_characters="\x85"), min_size=1, max_size=8
)
SPECIAL = st.sampled_from(["&", "%", "#", "$", "-", ":", "'", "(", ")", "/", ",", "."])
TOKEN = st.one_of(WORD, SPECIAL, WORD.map(lambda w: "{" + w + "}"))
PHRASE = st.lists(TOKEN, min_size=1, max_size=8).map(" ".join)
PERSON = st.builds(Person, family=WORD, given=WORD)
KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9_:-]{0,15}", fullmatch=True)
DOI = st.from_regex(r"10\.[0-9]{4,5}/[A-Za-z0-9.()_-]{1,20}", fullmatch=True)


@st.composite
def references(draw: st.DrawFn) -> Reference:
    article = draw(st.booleans())
    first = draw(st.integers(1, 5000))
    return Reference(
        key=draw(KEY),
        role=draw(st.sampled_from(["required", "encouraged"])),
        type="article" if article else "inproceedings",
        authors=tuple(draw(st.lists(PERSON, min_size=1, max_size=4))),
        title=draw(PHRASE),
        year=draw(st.integers(1900, 2100)),
        doi=draw(DOI),
        pages=draw(st.none() | st.just((first, first + draw(st.integers(0, 40))))),
        journal=draw(PHRASE) if article else None,
        volume=draw(st.none() | st.integers(1, 300).map(str)),
        number=draw(st.none() | st.integers(1, 12).map(str)),
        booktitle=None if article else draw(PHRASE),
        editors=() if article else tuple(draw(st.lists(PERSON, max_size=2))),
        publisher=draw(st.none() | PHRASE),
        address=draw(st.none() | PHRASE),
        note=draw(st.none() | PHRASE),
    )


def _unescape(text: str) -> str:
    for char in "&%#$":
        text = text.replace("\\" + char, char)
    return text.replace("{", "").replace("}", "")


def _with(refs: list[Reference]) -> Release:
    return dataclasses.replace(RELEASE, references=tuple(refs))


@fewer(40)
@given(references())
def test_every_bibtex_and_biblatex_entry_parses_back(ref: Reference) -> None:
    for fmt in ("bibtex", "biblatex"):
        text = render([ref], _with([ref]), fmt)
        entry = parse_bibtex(text).entries[ref.key]  # pybtex: BibTeX's own rules
        assert _unescape(entry.fields["title"]) == ref.title.replace("{", "").replace("}", "")
        assert entry.fields["doi"] == ref.doi
        assert [p.last_names[0] for p in entry.persons["author"]] == [a.family for a in ref.authors]
        library = bibtexparser.parse_string(text)
        assert not library.failed_blocks and [e.key for e in library.entries] == [ref.key]


@fewer(60)
@given(references())
def test_every_csl_json_item_and_text_line_reads_back(ref: Reference) -> None:
    [item] = json.loads(render([ref], _with([ref]), "csl-json"))
    assert item["id"] == ref.key and item["DOI"] == ref.doi
    assert item["title"] == ref.title.replace("{", "").replace("}", "")
    assert [a["family"] for a in item["author"]] == [a.family for a in ref.authors]
    [line] = render([ref], _with([ref]), "text").splitlines()
    assert line.endswith(f"https://doi.org/{ref.doi}")


@fewer(20)
@given(st.lists(references(), min_size=1, max_size=3, unique_by=lambda r: r.key.lower()))
@example(  # YAML 1.2 (cffconvert's ruamel) reads 0o10 and 1e3 as numbers; PyYAML left them bare
    [dataclasses.replace(REQUIRED, type="inproceedings", title="1e3", booktitle="0o10")]
)
def test_every_citation_cff_is_valid_cff_that_reads_back(refs: list[Reference]) -> None:
    from cffconvert import Citation

    refs = [dataclasses.replace(r, role="encouraged") for r in refs]
    refs[0] = dataclasses.replace(refs[0], role="required")
    text = render(refs, _with(refs), "cff")
    Citation(text).validate()  # raises on a file CFF's schema refuses
    data = yaml.safe_load(text)
    assert data["preferred-citation"]["doi"] == refs[0].doi


# -- the .bib appender ----------------------------------------------------------------------------

ENTRY = st.builds(
    lambda kind, key, title: f"@{kind}{{{key},\n  title = {{{title}}},\n}}\n",
    st.sampled_from(["article", "ARTICLE", "inproceedings", "misc"]),
    KEY | st.sampled_from([REQUIRED.key, REQUIRED.key.upper()]),
    PHRASE.filter(lambda t: "@" not in t),
)
BETWEEN = st.sampled_from(["", "\n", "% a comment\n", "Text between entries.\n", "\n\n"])
BIB_FILE = st.lists(st.tuples(BETWEEN, ENTRY), max_size=4).map(
    lambda parts: "".join(a + b for a, b in parts)
) | st.text(st.characters(exclude_categories=("Cs",)), max_size=200)


@fewer(60)
@given(BIB_FILE, st.booleans())
@example("@article{open,\n  title = {never closed}\n", True)
@example("@article{li2022bridging,\n title={Same key, other case}}", False)
@example("\r", False)
def test_the_bib_appender_keeps_every_byte_and_adds_only_what_is_missing(
    before: str, trailing_newline: bool
) -> None:
    if before and trailing_newline and not before.endswith("\n"):
        before += "\n"
    refs = list(RELEASE.references)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "refs.bib"
        path.write_bytes(before.encode("utf-8"))
        try:
            added = merge_into_bib(path, refs, RELEASE, "bibtex")
        except ValueError:
            assert path.read_bytes() == before.encode("utf-8")  # refused: untouched
            return
        after = path.read_bytes().decode("utf-8")  # not read_text: it would turn \r into \n
        assert after.startswith(before)
        assert {r.key.lower() for r in refs} <= existing_keys(after)
        assert set(added) == {r.key for r in refs if r.key.lower() not in existing_keys(before)}
        assert merge_into_bib(path, refs, RELEASE, "bibtex") == []  # a second run adds nothing
        assert path.read_bytes().decode("utf-8") == after
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["refs.bib"]  # nothing else
    if before.count("@") == 0 or _parses(before):
        assert _parses(after)


def _parses(text: str) -> bool:
    try:
        parse_bibtex(text)
    except Exception:  # pybtex raises its own and several builtin errors
        return False
    return True


# -- the paper check ------------------------------------------------------------------------------

FILLER = st.lists(
    st.one_of(
        PHRASE,
        st.sampled_from(
            [
                "\\\\",
                "\\%",
                "% \\cite{" + REQUIRED.key + "}",
                "\\cite{other}",
                "\\nocite{other}",
                "$x \\in [0, 1]$",
                "\\iffalse \\cite{" + REQUIRED.key + "} \\fi",
                "\\begin{verbatim}\\cite{" + REQUIRED.key + "}\\end{verbatim}",
                "\\section{BG-20k}",
                "\\input{missing}",
            ]
        ),
    ),
    max_size=12,
).map(lambda parts: "\n".join(parts))

BIB = (
    f"@article{{{REQUIRED.key},\n  title = {{{REQUIRED.title}}},\n  doi = {{{REQUIRED.doi}}},\n"
    f"  year = {{{REQUIRED.year}}},\n}}\n"
    "@article{other,\n  title = {Something else},\n  year = {2020},\n}\n"
)


@fewer(40)
@given(FILLER, FILLER, st.booleans())
def test_the_paper_check_follows_the_one_uncommented_cite(
    before: str, after: str, cites: bool
) -> None:
    cite = f"\\cite{{{REQUIRED.key}}}" if cites else f"% \\cite{{{REQUIRED.key}}}"
    body = f"{before}\n{cite}\n{after}"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "refs.bib").write_text(BIB, encoding="utf-8")
        (root / "main.tex").write_text(
            f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n"
            "\\bibliography{refs}\n\\end{document}\n",
            encoding="utf-8",
        )
        report = check_paper(root, RELEASE)
    assert (report.required.status == CITED) is cites


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=400))
@example("\\input{main}")
@example("\\cite{" * 2000)
@example("\\iffalse" * 500)
def test_any_tex_and_build_file_is_read_without_an_exception(text: str) -> None:
    found = scan_project(["main.tex"], lambda name: text if name == "main.tex" else None)
    assert all(isinstance(k, str) for k in found.cited)
    parse_bib("refs.bib", text)
    parse_aux("main.aux", text)
    parse_bbl("main.bbl", text)


@given(st.binary(max_size=400))
@example(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><x>&b;</x>")
def test_any_bcf_is_read_as_the_keys_it_cites(data: bytes) -> None:
    cited = parse_bcf("main.bcf", data)  # damaged XML, entity expansion: nothing cited
    assert all(isinstance(k, str) and k for k in cited)
