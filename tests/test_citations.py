from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import bibtexparser
import pybtex.errors
import pytest

from tests.helpers import parse_bibtex, run_bg20k

FACTS = {
    "li2022bridging": {
        "type": "article",
        "title": "Bridging Composite and Real: Towards End-to-End Deep Image Matting",
        "journal": "International Journal of Computer Vision",
        "volume": "130",
        "number": "2",
        "pages": "246--266",
        "year": "2022",
        "doi": "10.1007/s11263-021-01541-0",
        "authors": ["Li, Jizhizi", "Zhang, Jing", "Maybank, Stephen J.", "Tao, Dacheng"],
    },
    "li2021deep": {
        "type": "inproceedings",
        "title": "Deep Automatic Natural Image Matting",
        "booktitle": "Proceedings of the Thirtieth International Joint Conference on "
        "Artificial Intelligence, {IJCAI-21}",
        "pages": "800--806",
        "year": "2021",
        "doi": "10.24963/ijcai.2021/111",
        "authors": ["Li, Jizhizi", "Zhang, Jing", "Tao, Dacheng"],
        "editors": ["Zhou, Zhi-Hua"],
    },
    "li2021privacy": {
        "type": "inproceedings",
        "title": "Privacy-Preserving Portrait Matting",
        "booktitle": "Proceedings of the 29th {ACM} International Conference on Multimedia",
        "pages": "3501--3509",
        "year": "2021",
        "doi": "10.1145/3474085.3475512",
        "publisher": "Association for Computing Machinery",
        "authors": ["Li, Jizhizi", "Ma, Sihan", "Zhang, Jing", "Tao, Dacheng"],
    },
}


def cite(*args: str) -> str:
    result = run_bg20k("cite", *args)
    assert result.code == 0, result.err
    return result.out


def strict_parse(text: str):  # type: ignore[no-untyped-def]
    pybtex.errors.set_strict_mode(True)
    try:
        return parse_bibtex(text)
    finally:
        pybtex.errors.set_strict_mode(False)


def test_default_is_only_the_required_reference() -> None:
    data = strict_parse(cite())
    assert list(data.entries) == ["li2022bridging"]


def test_all_entries_match_the_facts_field_by_field() -> None:
    data = strict_parse(cite("--all"))
    assert list(data.entries) == list(FACTS)
    for key, facts in FACTS.items():
        entry = data.entries[key]
        assert entry.type == facts["type"]
        for field, value in facts.items():
            if field in ("type", "authors", "editors"):
                continue
            assert entry.fields[field] == value, (key, field)
        assert [str(p) for p in entry.persons["author"]] == facts["authors"]
        if "editors" in facts:
            assert [str(p) for p in entry.persons["editor"]] == facts["editors"]


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_bibtexparser_reads_every_block(fmt: str) -> None:
    library = bibtexparser.parse_string(cite("--all", "--format", fmt))
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == list(FACTS)
    assert all("doi" in e.fields_dict for e in library.entries)


def test_each_entry_says_why_it_is_there_in_a_comment() -> None:
    text = cite("--all")
    assert "% li2022bridging: required by the BG-20k Dataset v1.0 Release Agreement" in text
    assert "% li2021deep: encouraged by" in text
    # Nothing outside entries may hold an at-sign: BibTeX would read it as an entry start.
    outside = [line for line in text.splitlines() if line.startswith("%")]
    assert all("@" not in line for line in outside)


def test_csl_json() -> None:
    items = json.loads(cite("--all", "--format", "csl-json"))
    by_id = {item["id"]: item for item in items}
    assert by_id["li2022bridging"]["type"] == "article-journal"
    assert by_id["li2022bridging"]["page"] == "246-266"
    assert by_id["li2022bridging"]["issued"] == {"date-parts": [[2022]]}
    assert by_id["li2021deep"]["container-title"].endswith("IJCAI-21")  # braces removed
    assert by_id["li2021privacy"]["DOI"] == "10.1145/3474085.3475512"


def test_text_is_one_reference_a_line() -> None:
    lines = cite("--all", "--format", "text", "--explain").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Li, J., Zhang, J., Maybank, S. J., & Tao, D. (2022).")
    assert "130(2), 246–266" in lines[0] and lines[0].endswith("(clause 2)]")
    assert "{" not in "".join(lines)


def test_output_merges_into_an_existing_bib(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    mine = (
        "@book{knuth1984,\n  author = {Knuth, Donald E.},\n  title = {The {\\TeX}book},\n"
        "  publisher = {Addison-Wesley},\n  year = {1984}\n}\n\n"
        "@article{li2022bridging,\n  author = {Li, J.},\n  title = {My own copy},\n"
        "  journal = {IJCV},\n  year = {2021}\n}\n"
    )
    refs.write_text(mine)
    result = run_bg20k("cite", "--all", "-o", str(refs))
    assert result.code == 0 and "li2021deep, li2021privacy" in result.err
    text = refs.read_text()
    assert text.startswith(mine)  # the user's entries are untouched, their key kept
    data = strict_parse(text)
    assert list(data.entries) == ["knuth1984", "li2022bridging", "li2021deep", "li2021privacy"]
    assert data.entries["li2022bridging"].fields["title"] == "My own copy"
    again = run_bg20k("cite", "--all", "-o", str(refs))
    assert again.code == 0 and refs.read_text() == text


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("bibtex") is None, reason="BibTeX not installed (.ci/run installs it)"
)
def test_real_bibtex_compiles_without_warnings(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(cite("--all"))
    (tmp_path / "paper.aux").write_text("\\citation{*}\n\\bibdata{refs}\n\\bibstyle{plain}\n")
    proc = subprocess.run(["bibtex", "paper"], cwd=tmp_path, capture_output=True, text=True)
    log = (tmp_path / "paper.blg").read_text()
    assert proc.returncode == 0, proc.stdout
    assert "Warning" not in log and "error" not in log.lower(), log
    bbl = (tmp_path / "paper.bbl").read_text()
    assert bbl.count("\\bibitem") == 3 and "246--266" in bbl and "{IJCAI-21}" in bbl


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("biber") is None, reason="biber not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_biber_validates_the_output(fmt: str, tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(cite("--all", "--format", fmt))
    proc = subprocess.run(
        ["biber", "--tool", "--validate-datamodel", "refs.bib"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout
    problems = [line for line in proc.stdout.splitlines() if line.startswith(("WARN", "ERROR"))]
    assert problems == []
    assert "Datamodel validation complete" in proc.stdout
