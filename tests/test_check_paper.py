"""`bg20k check-paper`: real papers, compiled with pdflatex, BibTeX and biber, checked from
their sources, from sources plus build outputs, and from the PDF alone — the three must agree.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.helpers import cli
from tests.papers import (
    ENCOURAGED_BIB,
    OTHER_BIB,
    PREPRINT_BIB,
    REQUIRED_BIB,
    STRINGS,
    compile_paper,
    have_latex,
    write_paper,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_latex(), reason="pdflatex, bibtex and biber are not installed"),
]
OTHERS = "\\cite{other1,other2}"


def views(main: Path) -> dict[str, list[str]]:
    """The three ways a paper reaches the check: its sources, sources and build, the PDF."""
    d = main.parent
    sources = [str(p) for p in (d / "main.tex", d / "refs.bib") if p.exists()]
    build = [str(p) for p in d.glob("main.*") if p.suffix in (".aux", ".bbl", ".bcf")]
    return {"source": sources, "build": sources + build, "pdf": [str(main.with_suffix(".pdf"))]}


def body_line(main: Path) -> int:
    """The line the body starts on (the one after \\begin{document})."""
    return main.read_text().splitlines().index("\\begin{document}") + 2


def check(*paths: str) -> tuple[int, dict[str, object], str]:
    result = cli("check-paper", "--json", *paths)
    return result.code, json.loads(result.out), result.err


def required(report: dict[str, object]) -> dict[str, object]:
    refs = report["references"]
    assert isinstance(refs, list)
    return next(r for r in refs if r["role"] == "required")


@pytest.mark.parametrize(
    ("style", "engine"),
    [("natbib", "bibtex"), ("biblatex", "biber"), ("ieee", "bibtex")],
)
def test_cited_under_the_authors_own_key_in_every_view(
    style: str, engine: str, tmp_path: Path
) -> None:
    body = f"We composite onto BG-20k backgrounds \\cite{{LiEtAl:IJCV}} and {OTHERS}.\n"
    main = write_paper(tmp_path / style, body, style=style)
    compile_paper(main, engine=engine)
    for view, paths in views(main).items():
        code, report, err = check(*paths)
        ref = required(report)
        assert code == 0, (view, err)
        assert ref["status"] == "cited" and ref["how"] in ("doi", "title"), (view, ref)
        if view == "source":
            assert ref["paper_key"] == "LiEtAl:IJCV"
            assert ref["where"] == [f"{main}:{body_line(main)}"]
        if view == "pdf":
            assert ref["where"][0].startswith(f"{main.with_suffix('.pdf')} p. ")


@pytest.mark.parametrize(
    ("case", "body", "status"),
    [
        ("listed", f"Only others {OTHERS}.", {"source": "listed, never cited"}),
        ("nocite", f"Only others {OTHERS}.\\nocite{{*}}", {"source": "nocite only"}),
        ("commented", f"Others {OTHERS}.\n% we used \\cite{{LiEtAl:IJCV}}", {}),
        ("iffalse", f"Others {OTHERS}.\\iffalse \\cite{{LiEtAl:IJCV}} \\fi", {}),
    ],
)
def test_not_cited_is_exit_8_in_every_view(
    case: str, body: str, status: dict[str, str], tmp_path: Path
) -> None:
    main = write_paper(tmp_path / case, body)
    compile_paper(main)
    for view, paths in views(main).items():
        code, report, err = check(*paths)
        assert code == 8, (case, view, report)
        assert required(report)["status"] != "cited"
        assert err.rstrip().splitlines()[-1].startswith("bg20k: error: The paper does not cite")
        if view in status:
            assert required(report)["status"] == status[view], (case, view)


def test_only_the_preprint_counts_with_advice_and_only_the_encouraged_one_does_not(
    tmp_path: Path,
) -> None:
    bib = STRINGS + REQUIRED_BIB + ENCOURAGED_BIB + PREPRINT_BIB + OTHER_BIB
    main = write_paper(tmp_path / "pre", f"We use \\cite{{li2020preprint}} {OTHERS}.", bib=bib)
    compile_paper(main)
    for view, paths in views(main).items():
        code, report, _ = check(*paths)
        ref = required(report)
        assert code == 0 and ref["how"] == "arxiv", (view, ref)
        assert any("arXiv:2010.16188" in n and "10.1007" in n for n in ref["notes"])
    main = write_paper(tmp_path / "enc", f"BG-20k from \\cite{{gfm2}} {OTHERS}.")
    compile_paper(main)
    for view, paths in views(main).items():
        code, report, _ = check(*paths)
        assert code == 8, view
        notes = " ".join(report["notes"])
        assert "Deep Automatic Natural Image Matting" in notes and "requires" in notes


def test_a_title_hyphenated_across_lines_in_a_two_column_pdf(tmp_path: Path) -> None:
    bib = STRINGS + REQUIRED_BIB.replace(
        "  doi     = {https://doi.org/10.1007/s11263-021-01541-0},\n", ""
    )
    main = write_paper(
        tmp_path / "ieee",
        f"BG-20k \\cite{{LiEtAl:IJCV}} {OTHERS}.",
        bib=bib + OTHER_BIB,
        style="ieee",
    )
    pdf = compile_paper(main)
    from bg20k_fetch.citing.pdf_scan import read_pdf

    text = "\n".join(read_pdf("p", pdf.read_bytes()).pages)
    assert "Bridging Composite and Real: Towards End-to-End Deep Image Matting" not in text
    code, report, _ = check(str(pdf))
    assert code == 0 and required(report)["how"] == "title"


def test_hand_written_thebibliography_and_a_source_tarball(tmp_path: Path) -> None:
    body = (
        "BG-20k~\\cite{bg}.\n\\begin{thebibliography}{9}\n\\bibitem{bg} J.~Li, J.~Zhang, "
        "S.~J. Maybank, D.~Tao. \\newblock Bridging composite and real: towards end-to-end "
        "deep image matting. \\newblock {\\em IJCV}, 130:246--266, 2022.\n"
        "\\end{thebibliography}"
    )
    main = write_paper(tmp_path / "hand", body, style="thebibliography", bib="")
    (main.parent / "refs.bib").unlink()
    compile_paper(main, engine="none")
    for view, paths in views(main).items():
        code, report, _ = check(*paths)
        assert code == 0 and required(report)["status"] == "cited", view
    archive = tmp_path / "arxiv.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(main, arcname="main.tex")
    code, report, _ = check(str(archive))
    assert code == 0 and required(report)["where"] == [f"{archive}/main.tex:{body_line(main)}"]


def test_named_and_linked_but_not_cited_and_a_wrong_year(tmp_path: Path) -> None:
    body = "We use BG-20k\\footnote{\\url{https://github.com/JizhiziLi/GFM}}." + OTHERS
    main = write_paper(tmp_path / "named", body, preamble="\\usepackage{url}\n")
    compile_paper(main)
    code, report, _ = check(*views(main)["source"])
    notes = " ".join(report["notes"])
    assert code == 8 and f"main.tex:{body_line(main)}" in notes
    assert "github.com/JizhiziLi/GFM" in notes
    code, report, _ = check(*views(main)["pdf"])
    assert code == 8 and "BG-20k is named" in " ".join(report["notes"])
    wrong = STRINGS + REQUIRED_BIB.replace("year    = 2022", "year    = 2019") + OTHER_BIB
    main = write_paper(tmp_path / "year", f"BG-20k \\cite{{LiEtAl:IJCV}} {OTHERS}", bib=wrong)
    code, report, _ = check(*views(main)["source"])
    assert code == 0 and any("2019" in n for n in required(report)["notes"])


def test_a_scanned_pdf_is_cannot_tell_never_cited(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(page).text((50, 50), "References [1] J. Li et al. Bridging ...", fill="black")
    scan = tmp_path / "scan.pdf"
    page.save(scan, "PDF")
    result = cli("check-paper", str(scan))
    assert result.code == 9 and "Cannot tell" in result.err.splitlines()[-1]


def test_what_cannot_be_read_is_a_usage_error_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert cli("check-paper", str(tmp_path / "nope")).code == 2
    assert cli("check-paper", str(tmp_path / "notes.txt")).code == 2
    bomb = tmp_path / "evil.tar.gz"
    with tarfile.open(bomb, "w:gz") as tf:
        info = tarfile.TarInfo("../../escape.tex")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = cli("check-paper", str(bomb))
    assert result.code == 2 and "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
