"""The plain YAML bg20k writes for itself — a consent record, a config — read without PyYAML.

Importing PyYAML is 13 ms, a quarter of `bg20k status`, which only reads such a file. The
subset is a mapping of plain keys to scalars, with block lists of scalars: what
``dump_yaml`` writes for a record. Anything else (nesting, comments, flow style, a scalar
PyYAML might read as another type, a line it would fold) answers None and is read by PyYAML
itself, so this reader only ever answers where it agrees with PyYAML's safe loader
(tests/test_properties_data.py checks that on generated records and arbitrary text).
"""

from __future__ import annotations

import re

# YAML allows an implicit key 1,024 characters at most; far more than a record uses.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
# Plain scalars that are surely strings: starting with a letter or "/" (so never a number,
# a timestamp or an indicator), without ":" or "#" (never a mapping or a comment).
_TEXT = re.compile(r"[A-Za-z/][A-Za-z0-9._/@+-]*(?: [A-Za-z0-9._/@+-]+)*")
_INT = re.compile(r"0|[1-9][0-9]{0,17}")
# A version such as 0.2.0: two dots or more, so never a float (YAML 1.1 allows one).
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+){2,}")
# Lower-case hex with a letter (a SHA-256): never a number in YAML 1.1, but for 0b and binary.
_HEX = re.compile(r"(?!0b[01]*\Z)[0-9a-f]*[a-f][0-9a-f]*")
# Single-quoted, on one line, of characters PyYAML reads as they are: printable, and not one
# of the line breaks YAML 1.1 adds to "\n" (NEL, U+2028, U+2029), nor a byte-order mark.
_QUOTED = re.compile(
    "'((?:[^'\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ud800-\\udfff\\ufffe\\uffff]|'')*)'"
)
# YAML 1.1 reads these plain words as booleans or null.
_BOOLEANS = "y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF"
_WORDS = frozenset(f"{_BOOLEANS} null Null NULL".split())
_NOT = object()  # outside the subset
# A record is a few hundred bytes; a bigger document (a provenance, a description) is left
# to PyYAML before this reader splits it into lines for nothing.
_MAX_TEXT = 64 << 10


def parse_plain(text: str) -> dict[str, object] | None:
    """The mapping ``text`` holds, or None when it is not in the plain subset."""
    if len(text) > _MAX_TEXT:
        return None
    result: dict[str, object] = {}
    listing: str | None = None  # the key whose block list the next "- " lines extend
    items: list[object] = []  # that list
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        if line.startswith("- ") and listing is not None:
            item = _scalar(line[2:])
            if item is _NOT:
                return None
            result[listing] = items  # "key:" then items: a list after all
            items.append(item)
            continue
        key, colon, rest = line.partition(":")
        if not colon or not _KEY.fullmatch(key) or key in _WORDS or key in result:
            return None
        if rest == "":  # "key:" alone: null, or a block list on the lines below
            result[key], listing, items = None, key, []
            continue
        value = _scalar(rest[1:]) if rest.startswith(" ") else _NOT
        if value is _NOT:
            return None
        result[key], listing = value, None
    return result or None


def _scalar(text: str) -> object:
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if text == "[]":
        return []
    if _INT.fullmatch(text):
        return int(text)
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return quoted.group(1).replace("''", "'")
    if _TEXT.fullmatch(text) and text not in _WORDS:
        return text
    if _VERSION.fullmatch(text) or _HEX.fullmatch(text):
        return text
    return _NOT
