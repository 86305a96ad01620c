"""Temporary overrides of the ranking tunables in engine/ranking.py, for measuring alternatives
(`council-search eval --set RRF_K=20 --set PASSAGE_CHARS=250`).

Most code reads `ranking.NAME` at call time, so setting the module attribute is enough. A few
functions bind a tunable as a parameter default at import time; their defaults are re-bound too
(BOUND_DEFAULTS), so an override means the same thing everywhere. Everything is restored on exit.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from engine import ranking

# tunable -> [(module, function path, parameter)] whose default was bound from it at import time
BOUND_DEFAULTS: dict[str, list[tuple[str, str, str]]] = {
    "RRF_K": [("engine.fusion", "rrf", "k")],
    "SEMANTIC_CANDIDATES": [("engine.embedded.vectors", "VectorIndex.search", "candidates")],
    "SIMILAR_DEFAULT_SIZE": [("engine.searcher", "Searcher.similar", "size")],
}


class OverrideError(ValueError):
    """An unknown tunable or a value of the wrong type."""


def tunables() -> dict[str, Any]:
    return {name: getattr(ranking, name) for name in dir(ranking) if name.isupper()}


def parse_assignment(text: str) -> tuple[str, Any]:
    """'RRF_K=20' -> ('RRF_K', 20); 'FIELD_BOOSTS.title=6' -> ('FIELD_BOOSTS', {..., 'title': 6.0}).
    The value must have the current value's type (ints may become floats)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise OverrideError(f"expected NAME=VALUE, got {text!r}")
    base, _, key = name.partition(".")
    current = tunables()
    if base not in current:
        raise OverrideError(f"unknown tunable {base!r} (known: {', '.join(sorted(current))})")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        raise OverrideError(f"{name}: {raw!r} is not a Python literal") from None
    if key:
        mapping = current[base]
        if not isinstance(mapping, dict) or key not in mapping:
            raise OverrideError(f"{base} has no key {key!r}")
        value = {**mapping, key: _coerce(f"{name}", mapping[key], value)}
        return base, value
    return base, _coerce(name, current[base], value)


def _coerce(name: str, current: Any, value: Any) -> Any:
    if isinstance(current, bool) or isinstance(value, bool):
        if not (isinstance(current, bool) and isinstance(value, bool)):
            raise OverrideError(f"{name} expects {type(current).__name__}, got {value!r}")
        return value
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    if isinstance(current, dict) and isinstance(value, dict):
        return {k: _coerce(f"{name}.{k}", current.get(k, 1.0), v) for k, v in value.items()}
    if type(current) is not type(value):
        raise OverrideError(f"{name} expects {type(current).__name__}, got {value!r}")
    return value


@contextmanager
def overridden(values: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Apply overrides for the duration of the block; yields the effective tunables."""
    saved_attrs: dict[str, Any] = {}
    saved_defaults: list[tuple[Any, tuple | None, dict | None]] = []
    try:
        for name, value in values.items():
            if not hasattr(ranking, name):
                raise OverrideError(f"unknown tunable {name!r}")
            saved_attrs[name] = getattr(ranking, name)
            setattr(ranking, name, value)
            for module_name, path, param in BOUND_DEFAULTS.get(name, []):
                fn = _resolve(module_name, path)
                saved_defaults.append((fn, fn.__defaults__, fn.__kwdefaults__))
                _rebind(fn, param, value)
        yield tunables()
    finally:
        for fn, defaults, kwdefaults in reversed(saved_defaults):
            fn.__defaults__, fn.__kwdefaults__ = defaults, kwdefaults
        for name, value in saved_attrs.items():
            setattr(ranking, name, value)


def _resolve(module_name: str, path: str) -> Any:
    obj: Any = importlib.import_module(module_name)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _rebind(fn: Any, param: str, value: Any) -> None:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.default is not inspect.Parameter.empty
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in positional]
    if param in names:
        defaults = list(fn.__defaults__)
        defaults[names.index(param)] = value
        fn.__defaults__ = tuple(defaults)
    elif fn.__kwdefaults__ and param in fn.__kwdefaults__:
        fn.__kwdefaults__ = {**fn.__kwdefaults__, param: value}
    else:
        raise OverrideError(f"{fn.__qualname__} has no defaulted parameter {param!r}")
