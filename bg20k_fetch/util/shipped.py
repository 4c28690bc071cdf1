"""Where the shipped dataset description lives, and its precompiled copy.

Kept apart from release.py (which validates the description into dataclasses) so that the
commands answered from the precompiled copy (`cite`, `agreement --sha256`) can find and read it
without loading the validation machinery, nor pathlib: they work on paths as text.
"""

from __future__ import annotations

import json
import os
import zlib

from bg20k_fetch.errors import Bg20kError
from bg20k_fetch.util.readfile import read_limited

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from pathlib import Path

RELEASE_FILE_NAME = "bg20k.yaml"
COMPILED_NAME = "bg20k.json"  # the same, precompiled: JSON loads without importing PyYAML
LIMIT = 1 << 20


def _shipped_dir() -> str:
    # In a wheel the directory is copied into the package; in a source checkout (editable
    # install, or running from the tree) it sits beside the package at the repository top.
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    packaged = os.path.join(package, "agreement")
    if os.path.isfile(os.path.join(packaged, RELEASE_FILE_NAME)):
        return packaged
    return os.path.join(os.path.dirname(package), "agreement")


def shipped_dir() -> Path:
    from pathlib import Path

    return Path(_shipped_dir())


def _release_name() -> str:
    override = os.environ.get("BG20K_RELEASE_FILE")
    if override:
        from bg20k_fetch.util.userpath import user_path

        return str(user_path(override, "BG20K_RELEASE_FILE"))
    return os.path.join(_shipped_dir(), RELEASE_FILE_NAME)


def release_file() -> Path:
    from pathlib import Path

    return Path(_release_name())


def compiled_copy(path: str | os.PathLike[str], data: bytes) -> dict[str, object] | None:
    """The precompiled copy beside the description (``bg20k.json``), when it was compiled from
    these very bytes: an edited YAML is read as YAML, never through a stale copy."""
    compiled = os.path.join(os.path.dirname(os.fspath(path)), COMPILED_NAME)
    try:
        packed = json.loads(read_limited(compiled, 4 * LIMIT))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(packed, dict) or packed.get("source_crc32") != zlib.crc32(data):
        return None
    return packed if packed.get("source_size") == len(data) else None


def current_compiled_copy() -> dict[str, object] | None:
    """The compiled copy of the description in use, if it is current; None otherwise (and
    for any problem reading it: the caller then takes the full path, which words errors)."""
    try:
        path = os.path.realpath(_release_name())
        return compiled_copy(path, read_limited(path, LIMIT))
    except (OSError, ValueError, RuntimeError, Bg20kError):  # the full path words the error
        return None


def citation_key(fmt: str, include_encouraged: bool, explain: bool) -> str:
    return fmt + ("+all" if include_encouraged else "") + ("+explain" if explain else "")


def quick_citation(fmt: str, include_encouraged: bool, explain: bool) -> str | None:
    """`bg20k cite`'s output as precompiled from the description in use (citing/precompiled.py),
    or None when there is no current copy: then it is rendered."""
    packed = current_compiled_copy()
    answers = packed.get("answers") if packed else None
    cite = answers.get("cite") if isinstance(answers, dict) else None
    text = (
        cite.get(citation_key(fmt, include_encouraged, explain)) if isinstance(cite, dict) else None
    )
    return text if isinstance(text, str) else None


def agreement_facts() -> dict[str, str] | None:
    """The agreement's title, version, file and SHA-256, and the dataset's name, from the
    current compiled copy of the description in use; None when there is none (the caller then
    validates the description itself)."""
    packed = current_compiled_copy()
    description = packed.get("description") if packed else None
    agreement = description.get("agreement") if isinstance(description, dict) else None
    if not isinstance(agreement, dict) or not isinstance(description, dict):
        return None
    facts = {key: agreement.get(key) for key in ("title", "version", "file", "sha256")}
    facts["dataset"] = description.get("dataset")
    strings = {key: value for key, value in facts.items() if isinstance(value, str)}
    return strings if len(strings) == len(facts) else None


def agreement_path(facts: dict[str, str]) -> Path:
    """The agreement file ``facts`` names, beside the description in use."""
    from pathlib import Path

    return Path(_agreement_name(facts))


def _agreement_name(facts: dict[str, str]) -> str:
    return os.path.join(os.path.dirname(os.path.realpath(_release_name())), facts["file"])


def agreement_text(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """The agreement text's bytes and SHA-256; OSError or ValueError when it cannot be read."""
    import hashlib

    data = read_limited(path, LIMIT)
    return data, hashlib.sha256(data).hexdigest()


def quick_agreement_sha256() -> str | None:
    """The agreement text's SHA-256, when the text on disk is the one the current compiled
    description names; None otherwise (consent/agreement.py's load_agreement then says what is
    wrong, in words). Apart from it only so that `agreement --sha256` needs no dataclasses."""
    facts = agreement_facts()
    if facts is None:
        return None
    try:
        _, digest = agreement_text(_agreement_name(facts))
    except (OSError, ValueError):
        return None
    return digest if digest == facts["sha256"] else None
