"""What the agreement asks of papers: the references to cite, in BibTeX, biblatex, text and
CITATION.cff.
"""

from __future__ import annotations

from typing import Literal

# Here, not in references.py, so that building the command line does not load the release.
Format = Literal["bibtex", "biblatex", "csl-json", "text", "cff"]
FORMATS: tuple[Format, ...] = ("bibtex", "biblatex", "csl-json", "text", "cff")
