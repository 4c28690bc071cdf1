"""YAML in, safely: only the safe loader (no tags that build objects), and a bound on how
much structure a document may expand into.

The loader is PyYAML's SafeLoader, in libyaml's C build (CSafeLoader) where the wheel has it:
the same safe constructor, many times faster — reading ``agreement/bg20k.yaml`` took 59 ms of
``bg20k cite``'s 0.2 s with the pure-Python one.

safe_load shares aliased nodes, so an alias bomb ("billion laughs") loads in little memory —
but anything that then walks it (validation, JSON) would walk every path through it. Before
anything is built, a walk of the parsed node graph counts what the document would expand to
(each shared node once, times its uses) and refuses it past a limit, so such a document is
refused as damaged at once instead of hanging the command.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from bg20k_fetch.util.plainyaml import parse_plain

if TYPE_CHECKING:
    import yaml

MAX_NODES = 2_000_000  # a provenance of 20,000 files is about 40,000
# Text a YAML 1.2 reader (ruamel, as in cffconvert; Go's yaml; GitHub's CFF parser) takes for a
# number though PyYAML's YAML 1.1 leaves it plain: 0o17 and 1e3. PyYAML already quotes what
# 1.1 reads as another type. A property test found "0o10" written as a CFF title.
_YAML12_NUMBER = re.compile(
    r"0o[0-7]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
    r"|\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|[-+]?[0-9]+"
)


@cache
def _safe_loader() -> type[yaml.SafeLoader]:
    import yaml

    # SafeConstructor either way; never a loader that builds arbitrary objects.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


@cache
def _safe_dumper() -> type[yaml.SafeDumper]:
    import yaml

    base: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    dumper: type[yaml.SafeDumper] = type("_SafeDumper", (base,), {})
    dumper.add_representer(str, _text)
    return dumper


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "'" if _YAML12_NUMBER.fullmatch(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def dump_yaml(data: object, *, allow_unicode: bool = False) -> str:
    """``yaml.safe_dump(data, sort_keys=False)`` through libyaml's C emitter where the wheel has
    it: the same safe representer, a fraction of the time (consent records, CITATION.cff, the
    dataset card and PROVENANCE.yaml are written on every fetch)."""
    import yaml

    return yaml.dump(data, Dumper=_safe_dumper(), sort_keys=False, allow_unicode=allow_unicode)


class YamlError(ValueError):
    """Not YAML, or a document bg20k will not expand."""


def load_yaml(text: str, *, max_nodes: int = MAX_NODES) -> object:
    plain = parse_plain(text)  # bg20k's own records, without importing PyYAML
    if plain is not None:
        return plain
    import yaml

    try:
        return _safe_load(text, max_nodes)
    except yaml.YAMLError as exc:
        raise YamlError(f"it is not valid YAML ({_first_line(exc)})") from exc


def _safe_load(text: str, max_nodes: int) -> object:
    """What ``yaml.safe_load`` does, with the C safe loader when there is one — but a mapping
    that names a key twice is refused: the safe loader keeps the last silently, and a record
    whose two ``status`` lines disagree has no one meaning."""
    loader = _safe_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _unique_keys(node)
        if _expanded_size(node, max_nodes) > max_nodes:
            raise YamlError(f"it expands to more than {max_nodes} values (aliases?)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _unique_keys(root: yaml.Node) -> None:
    import yaml

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


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values the document becomes once every alias is expanded, counted on the node
    graph (each shared node once, times its uses), so that a billion laughs is refused before
    anything is built, in time proportional to the file, not to what it would expand to.
    A node that contains itself expands without end."""
    import yaml

    def _children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in _children(node)))
            continue
        if key in size:
            continue
        if key in on_path:
            return limit + 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
