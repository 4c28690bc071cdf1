"""Case 9: `bg20k check-paper` on a long paper — 32+ pages, 90 references, compiled with
pdflatex and BibTeX — from its sources and from its PDF. The yardsticks are the plain tools a
person would reach for: grep over the sources, poppler's pdftotext piped to grep for the PDF
(they only find a string; bg20k decides what is cited, where)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from report import Comparison

PARAGRAPH = (
    "Natural image matting estimates the opacity of a foreground object in an image. "
    "We composite foregrounds onto the backgrounds of BG-20k and train end to end. " * 6
)


def _paper(where: Path, references: int, pages: int) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    bib = [
        "@article{bridging, author={Li, Jizhizi and Zhang, Jing and Maybank, Stephen J. and "
        "Tao, Dacheng}, title={Bridging Composite and Real: Towards End-to-End Deep Image "
        "Matting}, journal={IJCV}, year={2022}, doi={10.1007/s11263-021-01541-0}}"
    ]
    bib += [
        f"@article{{r{n}, author={{Author{n}, A. and Other, B.}}, title={{A study of matting "
        f"number {n}}}, journal={{Journal {n % 7}}}, year={{20{n % 20:02d}}}}}"
        for n in range(references - 1)
    ]
    (where / "refs.bib").write_text("\n".join(bib) + "\n")
    others = references - 1
    body = "".join(
        f"\\section{{Part {n}}}\n{PARAGRAPH}\\cite{{r{n % others},r{(n * 7) % others}}}\n\n"
        + PARAGRAPH * 3
        + "\n\n"
        for n in range(pages * 2)
    )
    text = (
        "\\documentclass{article}\n\\begin{document}\nBG-20k~\\cite{bridging}.\\nocite{*}\n"
        f"{body}\\bibliographystyle{{plain}}\n\\bibliography{{refs}}\n\\end{{document}}\n"
    )
    main = where / "main.tex"
    main.write_text(text)
    latex = ["pdflatex", "-interaction=batchmode", "main"]
    for command in (latex, ["bibtex", "main"], latex, latex):
        subprocess.run(command, cwd=where, capture_output=True, check=False, timeout=300)
    return main


def paper_check(b: Any) -> list[Comparison]:
    quick = b.sizes.runs == 1 and b.sizes.download < (1 << 30)
    pages, refs = (4, 20) if quick else (16, 90)  # 16 sections of two pages each: 32+ pages
    main = _paper(b.work / "paper", refs, pages)
    pdf = main.with_suffix(".pdf")
    count = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    page_count = next(
        (line.split()[-1] for line in count.stdout.splitlines() if line.startswith("Pages")), "?"
    )
    env = {**b.env("paper", 10)}
    sources = f"{main} {main.parent / 'refs.bib'}"
    ours_src = b.run(
        "bg20k check-paper main.tex refs.bib", f"{b.bg20k} check-paper {sources}", env=env
    )
    grep_src = b.run("grep -n 10.1007/s11263 (sources)", f"grep -n 10.1007/s11263 {sources}")
    ours_pdf = b.run("bg20k check-paper main.pdf", f"{b.bg20k} check-paper {pdf}", env=env)
    grep_pdf = b.run(
        "pdftotext main.pdf - | grep -i bridging", f"pdftotext {pdf} - | grep -i bridging"
    )
    what = f"{page_count} pages, {refs} references"
    return [
        Comparison(f"9a. check-paper from sources ({what})", ours_src, [grep_src]),
        Comparison(f"9b. check-paper from the PDF ({what})", ours_pdf, [grep_pdf]),
    ]
