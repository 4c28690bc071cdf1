"""The paper check's reading rules, on the forms real papers hold references in (fast: no
LaTeX run; tests/test_check_paper.py compiles real papers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bg20k_fetch.citing.bib_scan import decode, parse_aux, parse_bbl, parse_bib
from bg20k_fetch.citing.identify import Wanted, flat, recognise
from bg20k_fetch.citing.pdf_scan import cited_in_body, entries
from bg20k_fetch.citing.tex_scan import blank_comments
from bg20k_fetch.release import load_release
from tests.helpers import cli


@pytest.fixture
def required() -> Wanted:
    return Wanted.of(next(r for r in load_release().references if r.role == "required"))


@pytest.mark.parametrize(
    "text",
    [
        "doi = {https://doi.org/10.1007/S11263-021-01541-0}",
        "Available: http://dx.doi.org/10.1007/s11263-021-01541-0.",
        "doi:10.1007/s11263-\n021-01541-0",  # broken at a line end in a PDF
        "{{B}ridging} {C}omposite and {R}eal: {T}owards {E}nd-to-{E}nd {D}eep {I}mage "
        "{M}atting, IJCV 2022",
        "Bridging composite and real: To-\nwards end-to-end deep image matting. 2021",
        "Bridging Composite and Real: Towards End-to-End Deep Image Matting \u2014 2022",
    ],
)
def test_the_required_paper_is_recognised_in_every_form(required: Wanted, text: str) -> None:
    seen = recognise(required, text)
    assert seen is not None and seen.year_found is None


def test_near_misses_are_told_apart(required: Wanted) -> None:
    assert recognise(required, "Deep Automatic Natural Image Matting, IJCAI 2021") is None
    assert recognise(required, "arXiv preprint arXiv:2010.16188, 2020").how == "arxiv"  # type: ignore[union-attr]
    assert recognise(required, "pages 2010.16188, 2020") is None  # a bare number is not an id
    wrong = recognise(
        required, "Bridging Composite and Real: Towards End-to-End Deep Image Matting. 2019"
    )
    assert wrong is not None and wrong.year_found == 2019


def test_flattening_undoes_typesetting() -> None:
    assert (
        flat('\\\'{E}t\\"{u}de {\\em na\\"ive} ﬁne') == flat("Étude naïve fine") == "etudenaivefine"
    )


def test_bib_macros_concatenation_crossref_and_latin1() -> None:
    text = (
        '@STRING{ j = "Int. J." }\n@Article{ k1 , title = "A" # { B} , journal = j # " Vis.",\n'
        "  crossref = {p}}\n@proceedings{p, booktitle = {Proc}, year = 2021}\n"
        "% @article{commented, title={no}}\n"
    )
    (k1, p) = parse_bib("r.bib", text)[:2]
    assert k1.key == "k1" and "A B" in k1.text and "Int. J. Vis." in k1.text
    assert "Proc" in k1.text and "2021" in k1.text and k1.place.line == 2 and p.key == "p"
    assert decode("café".encode("latin-1")) == "café" and decode(b"\xef\xbb\xbfx") == "x"


def test_comments_and_iffalse_blocks_are_blanked_line_for_line() -> None:
    lines = blank_comments(
        "a \\cite{x} % \\cite{y}\n\\iffalse\n\\cite{z} \\ifx a b \\fi\n\\fi b\n100\\% real"
    )
    assert lines == ["a \\cite{x} ", "", "", " b", "100\\% real"]


def test_build_outputs_name_what_was_cited() -> None:
    aux = "\\relax\n\\citation{a,b}\n\\citation{*}\n\\abx@aux@cite{0}{c}\n"
    assert sorted(parse_aux("m.aux", aux)) == ["*", "a", "b", "c"]
    bbl = "\\entry{k}{article}{}\n\\field{title}{X}\n\\verb{doi}\n\\verb 10.1/x\n\\endverb\n"
    (entry,) = parse_bbl("m.bbl", bbl)
    assert entry.key == "k" and "doi 10.1/x" in entry.text


def test_a_pdf_entry_counts_only_if_the_body_cites_it() -> None:
    listed = "[1] A. B. One.\n[2] J. Li et al. Bridging.\n[3] C. D. Three.\n"
    second = entries(listed)[1]
    assert cited_in_body(second, "as in [1, 2] and [3]", "Li", 3)
    assert cited_in_body(second, "as in [1–3]", "Li", 3)
    assert cited_in_body(second, "as in [1]–[3]", "Li", 3)  # IEEE's range
    assert not cited_in_body(second, "as in [1] and [3]", "Li", 3)
    assert not cited_in_body(second, "values in [0, 2] and [0-255]", "Li", 3)  # not citations
    assert cited_in_body("Li, J., Zhang, J.: Bridging", "as Li et al. show", "Li", 0)
    assert not cited_in_body("Li, J.: Bridging", "by Wei Li, and Li 2021", "Li", 0)


# -- what the hostile probe of the first version found (each was a false verdict) -----------

BIB = (
    "@article{good, author={Li, Jizhizi and others}, title={Bridging Composite and Real: "
    "Towards End-to-End Deep Image Matting}, journal={IJCV}, year={2022}}\n"
)


def paper(where: Path, body: str, bib: str = BIB, name: str = "main.tex") -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "refs.bib").write_text(bib)
    (where / name).write_text(
        f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\bibliography{{refs}}\n"
        "\\end{document}\n"
    )
    return where


def verdict(*paths: Path | str) -> tuple[int, str]:
    result = cli("check-paper", "--json", *map(str, paths))
    report = json.loads(result.out)
    return result.code, next(r for r in report["references"] if r["role"] == "required")["status"]


@pytest.mark.parametrize(
    ("body", "bib"),
    [
        ("a \\\\% was \\cite{good}", BIB),  # \\ is a line break: the % starts a comment
        ("\\defcitealias{good}{BG paper} Nothing else.", BIB),
        ("\\begin{verbatim}\n\\cite{good}\n\\end{verbatim}", BIB),
        (
            "\\cite{other}",
            BIB + "@article{other, title={Unrelated}, note={Compared against "
            "doi:10.1007/s11263-021-01541-0}, year={2023}}\n",
        ),
        (
            "\\cite{comment}",
            "@article{comment, title={A Comment on ``Bridging Composite and Real: Towards "
            "End-to-End Deep Image Matting''}, year={2023}}\n",
        ),
    ],
    ids=["escaped-percent", "defcitealias", "verbatim", "doi-in-a-note", "title-inside-title"],
)
def test_what_is_not_a_citation_of_it_is_not_cited(tmp_path: Path, body: str, bib: str) -> None:
    code, status = verdict(paper(tmp_path, body, bib))
    assert code == 8 and status != "cited"


@pytest.mark.parametrize(
    "body",
    [
        "\\cite{x,\n  good}",
        "\\cites[see][]{x}{good}",
        "$a \\iff b$ \\iffalse hidden \\fi \\cite{good}",
    ],
    ids=["cite-over-two-lines", "cites", "iff-is-not-an-if"],
)
def test_forms_of_citing_it_are_cited(tmp_path: Path, body: str) -> None:
    assert verdict(paper(tmp_path, body)) == (0, "cited")


def test_inputs_relative_to_the_main_file_and_stray_files_beside_it(tmp_path: Path) -> None:
    paper(tmp_path / "p" / "tex", "\\input{../sections/intro}")
    (tmp_path / "p" / "sections").mkdir()
    (tmp_path / "p" / "sections" / "intro.tex").write_text("We use BG-20k \\cite{good}.\n")
    assert verdict(tmp_path / "p") == (0, "cited")
    # A backup main file and an old .bib the paper does not name do not count.
    stray = paper(tmp_path / "q", "Nothing cited.")
    paper(stray / "old", "\\cite{good}", name="main_v1.tex")
    (stray / "unused.bib").write_text(BIB.replace("{good", "{good2"))
    assert verdict(stray) == (8, "listed, never cited")


def test_a_title_with_markup_is_still_its_title(tmp_path: Path) -> None:
    bib = BIB.replace("title={Bridging", "title={\\textbf{B}ridging")
    assert verdict(paper(tmp_path, "\\cite{good}", bib)) == (0, "cited")


def test_damaged_pdfs_are_exit_2_and_one_path_is_one_path(tmp_path: Path) -> None:
    from PIL import Image

    pdf = tmp_path / "p.pdf"
    Image.new("RGB", (200, 200), "white").save(pdf, "PDF")
    (tmp_path / "half.pdf").write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    result = cli("check-paper", str(tmp_path / "half.pdf"))
    assert result.code == 2 and "not a readable PDF" in result.err and "Traceback" not in result.err
    from bg20k_fetch import check_paper

    project = paper(tmp_path / "one", "\\cite{good}")
    assert check_paper(str(project)).exit_code == 0 and check_paper(project).exit_code == 0


def test_a_tex_without_its_bib_cannot_tell(tmp_path: Path) -> None:
    project = paper(tmp_path, "We use BG-20k \\cite{good}.")
    result = cli("check-paper", str(project / "main.tex"))
    assert result.code == 9 and "Cannot tell" in result.err
