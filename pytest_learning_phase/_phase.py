"""The phase vocabulary: what a phase is, how it is named, which values are phases.

A leaf module: every other module imports it, it imports nothing of the
package (nor pytest, nor numpy), so the public helpers stay cheap to import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, TypeGuard

__all__ = [
    "ABSENT",
    "ALLOWED_VALUES",
    "PHASE_IDS",
    "InvalidPhaseError",
    "Phase",
    "describe_phase",
    "is_phase",
    "normalize_phase",
    "normalize_phases",
    "short_repr",
]

Phase = Literal[0, 1] | None
"""A phase as the plugin speaks of it: ``0`` (test), ``1`` (train), ``None`` (unset)."""

PHASE_IDS: Final[dict[Phase, str]] = {0: "test", 1: "train", None: "unset"}
"""The id of each phase in parametrized test ids: ``[test]``, ``[train]``, ``[unset]``."""

ALLOWED_VALUES: Final = (
    "expected 0, 1 or None (a value set_learning_phase accepts, or None for unset)"
)
"""What a phase may be, as error messages say it."""


class _Absent:
    """The stored phase of a backend that has none: restored as absence, never as a value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()
"""The sentinel for "no phase stored" (as monkeypatch's ``notset``)."""


def describe_phase(phase: Phase) -> str:
    """Return the one way a phase is written: ``0 (test)``, ``1 (train)`` or ``unset``.

    Messages put "phase" before it: ``phase 0 (test)``, ``phase unset``.
    """
    return "unset" if phase is None else f"{phase} ({PHASE_IDS[phase]})"


def is_phase(value: object) -> TypeGuard[Phase]:
    """Return whether ``value`` is a phase as adapters must answer it: 0, 1 or None, exactly.

    Never compares ``value`` with ``==`` (an array's answer has no truth value).
    """
    return value is None or (type(value) is int and (value == 0 or value == 1))


class InvalidPhaseError(ValueError):
    """A value that is neither None nor one ``set_learning_phase`` accepts."""


def normalize_phase(value: object) -> Phase:
    """Return 0, 1 or None for ``value``, as ``set_learning_phase`` would judge it.

    Accepts exactly what the backend accepts (``value in {0, 1}``: True, 1.0,
    numpy scalars, ...) plus ``None``; raises :class:`InvalidPhaseError` otherwise.
    """
    if value is None:
        return None
    try:
        accepted = value in {0, 1}
    except Exception:  # unhashable (lists, arrays) or a broken __eq__/__hash__
        accepted = False
    if not accepted:
        raise InvalidPhaseError(value)
    return 1 if value == 1 else 0


def normalize_phases(values: Iterable[object]) -> tuple[Phase, ...]:
    """Normalise several values; raise ``ValueError`` naming a bad or repeated one."""
    phases: list[Phase] = []
    for value in values:
        phase = normalize_phase(value)
        if phase in phases:
            raise ValueError(f"{short_repr(value)} repeats the phase {describe_phase(phase)}")
        phases.append(phase)
    return tuple(phases)


def short_repr(value: object, limit: int = 40) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for one-line messages.

    A value whose ``repr`` raises is named by its type instead: a message
    about a bad value must not fail itself.
    """
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object whose repr raised>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
