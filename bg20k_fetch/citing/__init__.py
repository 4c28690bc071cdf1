"""What the agreement asks of papers: the references to cite, in BibTeX, biblatex, text and
CITATION.cff.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Literal

    Format = Literal["bibtex", "biblatex", "csl-json", "text", "cff"]

# Here, not in references.py, so that building the command line does not load the release.
FORMATS: tuple[Format, ...] = ("bibtex", "biblatex", "csl-json", "text", "cff")
