"""YAML in, safely: only the safe loader (no tags that build objects), and a bound on how
much structure a document may expand into.

The loader is PyYAML's SafeLoader, in libyaml's C build (CSafeLoader) where the wheel has it:
the same safe constructor, many times faster — reading ``agreement/bg20k.yaml`` took 59 ms of
``bg20k cite``'s 0.2 s with the pure-Python one.

safe_load shares aliased nodes, so an alias bomb ("billion laughs") loads in little memory —
but anything that then walks it (validation, JSON) would walk every path through it. A walk
here counts nodes with their repeats and gives up past a limit, so such a document is refused
as damaged instead of hanging the command.
"""

from __future__ import annotations

import yaml

# SafeConstructor either way; never a loader that builds arbitrary objects.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 2_000_000  # a provenance of 20,000 files is about 40,000


_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: object, *, allow_unicode: bool = False) -> str:
    """``yaml.safe_dump(data, sort_keys=False)`` through libyaml's C emitter where the wheel has
    it: the same safe representer, a fraction of the time (consent records, CITATION.cff, the
    dataset card and PROVENANCE.yaml are written on every fetch)."""
    return yaml.dump(data, Dumper=_SafeDumper, sort_keys=False, allow_unicode=allow_unicode)


class YamlError(ValueError):
    """Not YAML, or a document bg20k will not expand."""


def load_yaml(text: str, *, max_nodes: int = MAX_NODES) -> object:
    try:
        data = _safe_load(text)
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


def _safe_load(text: str) -> object:
    """What ``yaml.safe_load`` does, with the C safe loader when there is one — but a mapping
    that names a key twice is refused: the safe loader keeps the last silently, and a record
    whose two ``status`` lines disagree has no one meaning."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _unique_keys(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _unique_keys(root: yaml.Node) -> None:
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: already checked where it was defined
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[object] = set()
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else id(key)
                if name in keys:
                    line = key.start_mark.line + 1
                    raise yaml.YAMLError(f"the key {name!r} appears twice (line {line})")
                keys.add(name)
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
