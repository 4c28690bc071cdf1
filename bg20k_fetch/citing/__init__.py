"""What the agreement asks of papers: the references to cite, in BibTeX, biblatex, text and
CITATION.cff.
"""
