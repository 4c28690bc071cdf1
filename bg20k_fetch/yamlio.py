"""YAML in, safely: only ``yaml.safe_load`` (no tags that build objects), and a bound on how
much structure a document may expand into.

safe_load shares aliased nodes, so an alias bomb ("billion laughs") loads in little memory —
but anything that then walks it (validation, JSON) would walk every path through it. A walk
here counts nodes with their repeats and gives up past a limit, so such a document is refused
as damaged instead of hanging the command.
"""

from __future__ import annotations

import yaml

MAX_NODES = 2_000_000  # a provenance of 20,000 files is about 40,000


class YamlError(ValueError):
    """Not YAML, or a document bg20k will not expand."""


def load_yaml(text: str, *, max_nodes: int = MAX_NODES) -> object:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise YamlError(f"it is not valid YAML ({_first_line(exc)})") from exc
    stack: list[object] = [data]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise YamlError(f"it expands to more than {max_nodes} values (aliases?)")
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return data


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
