"""`bg20k check-paper PATH...`: does this paper cite what the BG-20k agreement requires?"""

from __future__ import annotations

import argparse

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import Bg20kError, ExitCode

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any


class NotCited(Bg20kError):
    exit_code = ExitCode.NOT_CITED


class CannotTell(Bg20kError):
    exit_code = ExitCode.CANNOT_TELL


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check-paper",
        help="does a paper cite what the agreement requires (sources, build outputs or PDF)",
        description="Reads a LaTeX project, .tex/.bib/.aux/.bbl/.bcf files, a PDF or a source "
        "archive, and says whether the paper cites the reference the BG-20k agreement requires "
        "(and the two it encourages). Writes nothing. Exit 0: cited; 8: not cited; 9: nothing "
        "readable (a scanned PDF); 2: cannot read what was given.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="project folder, files or archive")
    p.add_argument("--json", action="store_true", help="the findings as JSON on stdout")
    p.set_defaults(handler=cmd_check_paper)


def cmd_check_paper(args: argparse.Namespace, ui: Ui) -> int:
    from bg20k_fetch.api import check_paper
    from bg20k_fetch.citing.paper_check import CITED

    report = check_paper(args.paths)
    if args.json:
        ui.json(report.to_json())
    else:
        ui.raw(_summary(report))
    required = report.required
    if required.status == CITED:
        return 0
    if not report.readable:
        raise CannotTell(
            "Cannot tell whether the paper cites the BG-20k paper: nothing given says both what "
            "it cites and what those citations are (a scanned PDF, a .bib alone, or a .tex "
            "without its .bib).",
            hint="Give the LaTeX project folder, or the .tex with its .bib, or the build's .aux "
            "and .bbl.",
        )
    raise NotCited(
        f"The paper does not cite {required.title!r}, which the BG-20k agreement requires "
        f"({required.status}).",
        hint="Add the entry above and cite it where BG-20k is used."
        if required.status == "absent" and not args.json
        else "Cite it in the text where BG-20k is used (`bg20k cite` gives the entry).",
    )


def _summary(report: Any) -> str:
    from bg20k_fetch.api import cite
    from bg20k_fetch.citing.paper_check import CITED, LISTED, NOCITE

    lines = [f"BG-20k agreement, clause 2: what {_inputs(report.inputs)} cites"]
    for n, f in enumerate(report.findings, 1):
        lines.append(f"  [{n}] {f.role:<10} {f.status}: {f.title}")
        if f.status == CITED:
            key = f"\\cite{{{f.paper_key}}} " if f.paper_key else ""
            lines.append(f"      {key}at {', '.join(f.where)} (recognised by its {f.how})")
        elif f.status in (LISTED, NOCITE):
            entry = f"entry {f.paper_key} at " if f.paper_key else "in the reference list at "
            lines.append(f"      {entry}{f.listed_at}, cited nowhere in the text")
        lines += [f"      note: {note}" for note in f.notes]
    lines += [f"  note: {note}" for note in report.notes]
    required = report.required
    if required.status != CITED and report.readable:
        key = required.paper_key or "li2022bridging"
        if required.status == "absent":
            lines += ["", "Add this entry to the paper's .bib (bg20k cite gives it too):", ""]
            lines.append(cite().rstrip())
        lines += ["", f"and cite it where BG-20k is used: \\cite{{{key}}}"]
    return "\n".join(lines) + "\n"


def _inputs(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more files"
