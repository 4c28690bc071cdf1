"""`bg20k cite`'s every output, precompiled into ``agreement/bg20k.json`` at build time.

A script calls `bg20k cite` as often as `--version`; rendering means validating the whole
description into dataclasses first, three times the interpreter's own start. The renderings
are a pure function of the description, so they are written beside it with the crc32 and size
of the YAML they came from (util/shipped.py serves them only while those match), and
tests/test_agreement.py checks that the shipped copy is what this module writes.

Write it again after editing the YAML or the renderers:
    python -m bg20k_fetch.citing.precompiled agreement/bg20k.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

from bg20k_fetch.citing import FORMATS
from bg20k_fetch.citing.references import render, select
from bg20k_fetch.release import compiled_text, release_at
from bg20k_fetch.util.shipped import citation_key


def compiled_with_answers(path: Path) -> str:
    release = release_at(path)
    cite = {
        citation_key(fmt, everything, explain): render(
            select(release, include_encouraged=everything), release, fmt, explain=explain
        )
        for fmt in FORMATS
        for everything in (False, True)
        for explain in (False, True)
    }
    return compiled_text(path, answers={"cite": cite})


if __name__ == "__main__":
    source = Path(sys.argv[1])
    source.with_name("bg20k.json").write_text(compiled_with_answers(source), encoding="utf-8")
