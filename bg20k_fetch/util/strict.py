"""Dataclasses built strictly from parsed YAML or JSON: every key known, every value of its
declared type (no coercion: ``"5"`` is not a number, ``1`` is not ``True``), and turned back
into plain data.

The dataset description is read on every start-up (``bg20k cite`` included) and a tree's
provenance on every ``verify``; pydantic would cost more to import than the whole command may
take, so this small checker does the job for the simple shapes they have: str, int, bool,
datetime (or its ISO-8601 text), Literal, X | None, tuple[X, ...], tuple[int, int], list[X],
dict[str, X] and nested dataclasses. A class with ``STRICT_IGNORES_UNKNOWN = True`` skips keys
it does not know (a receipt written by a newer bg20k).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")


class Invalid(ValueError):
    """``where``: the path of the bad value, e.g. ``layout.splits.0.count``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where, self.message = where, message


def build(cls: type[T], raw: object, where: str = "") -> T:
    """An instance of the dataclass ``cls`` from a mapping; Invalid names the first problem."""
    if not isinstance(raw, dict):
        raise Invalid(where, f"expected a mapping, got {type(raw).__name__}")
    hints, fields = _shape(cls)
    unknown = sorted(str(k) for k in set(raw) - set(fields))
    if unknown and not getattr(cls, "STRICT_IGNORES_UNKNOWN", False):
        raise Invalid(_join(where, unknown[0]), "unknown field")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        at = _join(where, name)
        if name in raw:
            values[name] = _value(hints[name], raw[name], at)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise Invalid(at, "missing")
    try:
        return cls(**values)
    except Invalid as exc:  # a check that names its field: the path goes on through it
        raise Invalid(_join(where, exc.where), exc.message) from exc
    except ValueError as exc:  # the dataclass's own __post_init__ checks
        raise Invalid(where, str(exc)) from exc


_Shape = tuple[dict[str, Any], dict[str, "dataclasses.Field[Any]"]]
_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    # Evaluating the annotations is most of a build's time; a description holds a dozen
    # people and sources of the same few classes.
    shape = _SHAPES.get(cls)
    if shape is None:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        shape = _SHAPES[cls] = (typing.get_type_hints(cls), fields)
    return shape


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
    if origin is list:
        if not isinstance(raw, list):
            raise Invalid(where, "expected a list")
        return [_value(args[0], v, f"{where}.{i}") for i, v in enumerate(raw)]
    if origin is dict:
        if not isinstance(raw, dict):
            raise Invalid(where, "expected a mapping")
        return {
            _value(args[0], k, where): _value(args[1], v, f"{where}.{k}") for k, v in raw.items()
        }
    if dataclasses.is_dataclass(kind):
        return build(kind, raw, where)  # type: ignore[arg-type]
    if kind is datetime:
        return _datetime(raw, where)
    if kind in (str, int, bool):
        if type(raw) is not kind:  # strict: no bool for int, no int for str
            raise Invalid(where, f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw
    raise TypeError(f"{where}: unsupported field type {kind!r}")  # a bug in a model, not data


def _datetime(raw: object, where: str) -> datetime:
    if isinstance(raw, datetime):  # YAML reads an unquoted timestamp as one
        return raw
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    raise Invalid(where, "expected an ISO-8601 date and time")


def plain(obj: object) -> Any:
    """A dataclass (and what it holds) as JSON-ready data: datetimes as ISO-8601 text, UTC as
    ``Z``; fields in declaration order."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat().replace("+00:00", "Z")
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj
