"""The paper check's reading rules, on the forms real papers hold references in (fast: no
LaTeX run; tests/test_check_paper.py compiles real papers)."""

from __future__ import annotations

import pytest

from bg20k_fetch.citing.bib_scan import decode, parse_aux, parse_bbl, parse_bib
from bg20k_fetch.citing.identify import Wanted, flat, recognise
from bg20k_fetch.citing.pdf_scan import cited_in_body, entries
from bg20k_fetch.citing.tex_scan import blank_comments
from bg20k_fetch.release import load_release


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
    assert cited_in_body(second, "as in [1, 2] and [3]", "Li")
    assert cited_in_body(second, "as in [1–3]", "Li")
    assert not cited_in_body(second, "as in [1] and [3]", "Li")
    assert cited_in_body("Li, J., Zhang, J.: Bridging", "as Li et al. show", "Li")
