"""Real papers for the paper check: LaTeX projects written to disk and compiled with the real
pdflatex, BibTeX and biber (.ci/run installs them), in the styles authors use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REQUIRED_BIB = r"""@article{LiEtAl:IJCV,
  author  = {Jizhizi Li and Jing Zhang and Stephen J. Maybank and Dacheng Tao},
  title   = {{Bridging} Composite and Real: {T}owards End-to-End Deep Image Matting},
  journal = IJCV,
  year    = 2022,
  volume  = {130},
  pages   = {246--266},
  doi     = {https://doi.org/10.1007/s11263-021-01541-0},
}
"""
# As Google Scholar gives it: the preprint's first title, the arXiv id in the journal field.
PREPRINT_BIB = r"""@article{li2020preprint,
  author  = {Li, Jizhizi and Zhang, Jing and Maybank, Stephen J. and Tao, Dacheng},
  title   = {End-to-end Animal Image Matting},
  journal = {arXiv preprint arXiv:2010.16188},
  year    = {2020},
}
"""
ENCOURAGED_BIB = r"""@inproceedings{gfm2,
  author    = {Li, Jizhizi and Zhang, Jing and Tao, Dacheng},
  title     = {Deep Automatic Natural Image Matting},
  booktitle = {IJCAI},
  year      = {2021},
}
"""
OTHER_BIB = "".join(
    f"@article{{other{n},\n  author = {{Author{n}, A.}},\n  title = {{Unrelated work number "
    f"{n} on segmentation}},\n  journal = {{Journal {n}}},\n  year = {{20{n % 20:02d}}},\n}}\n"
    for n in range(1, 4)
)
STRINGS = "@string{IJCV = {International Journal of Computer Vision}}\n"


def have_latex() -> bool:
    return all(shutil.which(t) for t in ("pdflatex", "bibtex", "biber"))


def write_paper(
    where: Path,
    body: str,
    *,
    style: str = "natbib",
    bib: str = STRINGS + REQUIRED_BIB + ENCOURAGED_BIB + OTHER_BIB,
    preamble: str = "",
) -> Path:
    """main.tex (with ``body``) and refs.bib in ``where``; returns main.tex."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "refs.bib").write_text(bib)
    head, tail = {
        "natbib": (
            "\\documentclass{article}\n\\usepackage[numbers]{natbib}\n",
            "\\bibliographystyle{plainnat}\n\\bibliography{refs}\n",
        ),
        "biblatex": (
            "\\documentclass{article}\n\\usepackage[backend=biber]{biblatex}\n"
            "\\addbibresource{refs.bib}\n",
            "\\printbibliography\n",
        ),
        "ieee": (
            "\\documentclass[conference]{IEEEtran}\n",
            "\\bibliographystyle{IEEEtran}\n\\bibliography{refs}\n",
        ),
        "thebibliography": ("\\documentclass{article}\n", ""),
    }[style]
    text = f"{head}{preamble}\\begin{{document}}\n{body}\n{tail}\\end{{document}}\n"
    (where / "main.tex").write_text(text)
    return where / "main.tex"


def compile_paper(main: Path, *, engine: str = "bibtex") -> Path:
    """pdflatex, the bibliography tool, pdflatex twice: the PDF."""

    def run(*command: str) -> None:
        proc = subprocess.run(
            command, cwd=main.parent, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0 or command[0] == "bibtex", proc.stdout[-2000:]

    latex = ("pdflatex", "-interaction=nonstopmode", "-halt-on-error", main.stem)
    run(*latex)
    if engine != "none":
        run(engine, main.stem)
    run(*latex)
    run(*latex)
    return main.with_suffix(".pdf")
