"""Frozen dataclasses built strictly from parsed YAML: every key known, every value of its
declared type (no coercion: ``"5"`` is not a number, ``1`` is not ``True``).

The dataset description is read on every start-up (``bg20k cite`` included); pydantic would
cost more to import than the whole command may take, so this small checker does the job for
the simple shapes the description has: str, int, bool, Literal, X | None, tuple[X, ...],
tuple[int, int], dict[str, str] and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")


class Invalid(ValueError):
    """``where``: the path of the bad value, e.g. ``layout.splits.0.count``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


def build(cls: type[T], raw: object, where: str = "") -> T:
    """An instance of the dataclass ``cls`` from a mapping; Invalid names the first problem."""
    if not isinstance(raw, dict):
        raise Invalid(where, f"expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise Invalid(_join(where, str(unknown[0])), "unknown field")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        at = _join(where, name)
        if name in raw:
            values[name] = _value(hints[name], raw[name], at)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise Invalid(at, "missing")
    try:
        return cls(**values)
    except ValueError as exc:  # the dataclass's own __post_init__ checks
        raise Invalid(where, str(exc)) from exc


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _value(kind: Any, raw: object, where: str) -> object:
    origin, args = get_origin(kind), get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        return _value(others[0] if len(others) == 1 else kind, raw, where)
    if origin is Literal:
        if raw not in args or type(raw) is bool:
            raise Invalid(where, f"must be one of {', '.join(map(repr, args))}")
        return raw
    if origin is tuple:
        if not isinstance(raw, list | tuple):
            raise Invalid(where, "expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v, f"{where}.{i}") for i, v in enumerate(raw))
        if len(raw) != len(args):
            raise Invalid(where, f"expected {len(args)} values")
        return tuple(
            _value(a, v, f"{where}.{i}") for i, (a, v) in enumerate(zip(args, raw, strict=True))
        )
    if origin is dict:
        if not isinstance(raw, dict):
            raise Invalid(where, "expected a mapping")
        return {
            _value(args[0], k, where): _value(args[1], v, f"{where}.{k}") for k, v in raw.items()
        }
    if dataclasses.is_dataclass(kind):
        return build(kind, raw, where)  # type: ignore[arg-type]
    if kind in (str, int, bool):
        if type(raw) is not kind:  # strict: no bool for int, no int for str
            raise Invalid(where, f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw
    raise TypeError(f"{where}: unsupported field type {kind!r}")  # a bug in a model, not data
