"""Find the objects of one class that a value holds, wherever it holds them.

A wider fixture's value is walked once, when its setup ends: tuples, lists,
dicts, deques, sets and frozensets (and their subclasses) at any depth, and
the attributes of other objects (``__dict__`` and ``__slots__``: dataclasses,
namespaces, wrappers such as a skorch ``NeuralNet``). Each object is visited
once, so cycles end, and the walk stops after :data:`WALK_BUDGET` objects:
what lies beyond is not found.
"""

from __future__ import annotations

from collections import deque
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Final

__all__ = ["WALK_BUDGET", "find_held"]

WALK_BUDGET: Final = 10_000
"""How many objects one walk visits at most (breadth first: shallow objects first)."""

_LEAVES: Final = (
    str,
    bytes,
    bytearray,
    int,
    float,
    complex,
    range,
    type(None),
    type,
    ModuleType,
    FunctionType,
    BuiltinFunctionType,
    MethodType,
)
"""Objects never looked into: scalars, classes, modules and functions."""


def find_held(
    value: object, wanted: type | tuple[type, ...], leaves: tuple[type, ...] = ()
) -> list[tuple[str, object]]:
    """Return (path, object) for each instance of ``wanted`` that ``value`` holds, shallow first.

    ``wanted`` is a class or a tuple of classes. A path is how the object is
    reached from ``value``: ``""`` for ``value`` itself, ``[0]``, ``['model']``,
    ``model``, ``bundle.encoder[1]``, ``{0}`` (a set's first item, in its
    iteration order). Instances of ``wanted`` are not looked into, nor are
    instances of ``leaves``.
    """
    found: list[tuple[str, object]] = []
    seen: set[int] = set()
    queue: deque[tuple[object, str]] = deque([(value, "")])
    budget = WALK_BUDGET
    while queue and budget > 0:
        current, path = queue.popleft()
        if id(current) in seen:
            continue
        seen.add(id(current))
        budget -= 1
        if isinstance(current, wanted):
            found.append((path, current))
        elif not isinstance(current, _LEAVES) and not isinstance(current, leaves):
            for child in _children(current, path):
                if len(queue) >= budget:
                    break
                queue.append(child)
    return found


def _children(value: object, path: str) -> list[tuple[object, str]]:
    """Return what ``value`` holds, each with its path: items, else attributes."""
    if isinstance(value, dict):
        return [(item, f"{path}[{_key_text(key)}]") for key, item in list(value.items())]
    if isinstance(value, (list, tuple, deque)):
        return [(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):  # no index: the place in its iteration order
        return [(item, f"{path}{{{index}}}") for index, item in enumerate(value)]
    prefix = f"{path}." if path else ""
    return [(item, prefix + name) for name, item in _attributes(value)]


def _attributes(value: object) -> list[tuple[str, object]]:
    """Return the instance attributes of ``value``: its ``__dict__``, then its ``__slots__``.

    Read without ``getattr`` on the instance's class hooks, so nothing a
    property or ``__getattr__`` would compute is computed.
    """
    try:
        namespace = object.__getattribute__(value, "__dict__")
    except Exception:  # no __dict__, or a proxy that refuses
        namespace = None
    attributes = list(namespace.items()) if isinstance(namespace, dict) else []
    for klass in type(value).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if not isinstance(name, str) or name in ("__dict__", "__weakref__"):
                continue
            stored = name
            if name.startswith("__") and not name.endswith("__"):
                stored = f"_{klass.__name__.lstrip('_')}{name}"
            try:
                attributes.append((name, object.__getattribute__(value, stored)))
            except Exception:  # an empty slot
                continue
    return attributes


def _key_text(key: object) -> str:
    """Render a dict key as a path does: its ``repr``, or its type if that raises."""
    try:
        return repr(key)
    except Exception:
        return f"<{type(key).__name__}>"
