"""Backend adapters: how the plugin saves, sets, reads and restores a backend's phase.

The plugin core talks to adapters only. An adapter for another framework is
any object with the four methods of :class:`LearningPhaseAdapter` and a
``name``; offer it through the ``pytest_learning_phase_backends`` hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

__all__ = ["LearningPhaseAdapter", "Phase", "builtin_backends"]

Phase = Literal[0, 1] | None
"""A phase as the plugin speaks of it: ``0`` (test), ``1`` (train), ``None`` (unset)."""


@runtime_checkable
class LearningPhaseAdapter(Protocol):
    """What the plugin needs from a backend, for the current thread."""

    @property
    def name(self) -> str:
        """The backend's name, as given to ``--learning-phase-backend``."""
        ...

    def save_state(self) -> object:
        """Return an opaque snapshot of the backend's whole learning-phase state."""
        ...

    def restore_state(self, state: object) -> None:
        """Put back exactly the state ``save_state`` returned, "unset" included."""
        ...

    def set_phase(self, phase: Phase) -> None:
        """Set ``0`` or ``1``, or make the phase unset (``None``), with no deprecation warning."""
        ...

    def get_phase(self) -> Phase:
        """Return the phase in effect: ``0``, ``1``, or ``None`` when unset."""
        ...


def builtin_backends() -> dict[str, Callable[[], LearningPhaseAdapter]]:
    """Return the built-in backends by name; building ``tf_keras`` imports TensorFlow."""
    return {"reference": _make_reference_adapter, "tf_keras": _make_tf_keras_adapter}


def _make_reference_adapter() -> LearningPhaseAdapter:
    from pytest_learning_phase.adapters.reference import ReferenceAdapter

    return ReferenceAdapter()


def _make_tf_keras_adapter() -> LearningPhaseAdapter:
    from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

    return make_tf_keras_adapter()
