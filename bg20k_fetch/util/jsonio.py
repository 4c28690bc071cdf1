"""JSON from a disk, a store or a user, read so that every failure is a ValueError.

``json.loads`` raises RecursionError, not ValueError, for a document nested a few thousand
levels deep (a 4 KiB file of ``[``); a reader that catches only ValueError then dies with an
internal error. Property tests and fuzzing found it in six readers.
"""

from __future__ import annotations

import json
from typing import Any


class TooDeep(ValueError):
    """A JSON document nested deeper than Python's parser goes."""


def load_json(data: str | bytes, **options: Any) -> Any:
    try:
        return json.loads(data, **options)
    except RecursionError as exc:
        raise TooDeep("it nests deeper than any document bg20k reads") from exc
