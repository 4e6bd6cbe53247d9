"""The adapter for :mod:`pytest_learning_phase.backend`, the reference backend."""

from __future__ import annotations

from typing import Final

from pytest_learning_phase import backend
from pytest_learning_phase.adapters import Phase

__all__ = ["ReferenceAdapter"]


class ReferenceAdapter:
    """Drive the reference backend's per-thread state directly.

    The plugin calls these around every test, so they touch the state object
    themselves instead of going through the backend's helper functions.
    """

    name: Final = "reference"

    def save_state(self) -> object:
        """Return (stored phase or absence, ``is_set``) of this thread."""
        state = backend._THREAD.state
        return state.phase, state.is_set

    def restore_state(self, state: object) -> None:
        """Restore a snapshot from :meth:`save_state`."""
        backend._restore(state)  # type: ignore[arg-type]

    def set_phase(self, phase: Phase) -> None:
        """Set 0 or 1 as ``deprecated_internal_set_learning_phase`` does, or unset."""
        if phase is None:
            state = backend._THREAD.state
            state.phase = backend.ABSENT
            state.is_set = False
        else:
            backend.deprecated_internal_set_learning_phase(phase)

    def get_phase(self) -> Phase:
        """Return ``None`` when nothing is stored and the flag is down, else 0 or 1."""
        state = backend._THREAD.state
        stored_phase = state.phase
        if stored_phase is backend.ABSENT:
            return 0 if state.is_set else None
        return 1 if stored_phase == 1 else 0
