"""The adapter for :mod:`pytest_learning_phase.backend`, the reference backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from pytest_learning_phase import _state
from pytest_learning_phase._phase import ABSENT, Phase
from pytest_learning_phase._provenance import Ran, Recording
from pytest_learning_phase.adapters._keras_recording import held_layers, record_reference_layers

__all__ = ["ReferenceAdapter"]


class ReferenceAdapter:
    """Drive the reference backend's per-thread state (``_state``) directly.

    The plugin calls these around every test, so they touch the state object
    themselves instead of going through the backend's public functions (which
    would count as reads of the phase, and warn).
    """

    name: Final = "reference"

    def save_state(self) -> object:
        """Return (stored phase or absence, ``is_set``) of this thread."""
        return _state.snapshot()

    def restore_state(self, state: object) -> None:
        """Restore a snapshot from :meth:`save_state`."""
        thread_state = _state.THREAD.state
        thread_state.phase, thread_state.is_set = state  # type: ignore[misc]

    def set_phase(self, phase: Phase) -> None:
        """Set 0 or 1 as ``deprecated_internal_set_learning_phase`` does, or unset."""
        state = _state.THREAD.state
        if phase is None:
            state.phase = ABSENT
            state.is_set = False
        else:
            state.phase = phase
            state.is_set = True

    def get_phase(self) -> Phase:
        """Return ``None`` when nothing is stored and the flag is down, else 0 or 1."""
        state = _state.THREAD.state
        stored_phase = state.phase
        if stored_phase is ABSENT:
            return 0 if state.is_set else None
        return 1 if stored_phase == 1 else 0

    def phase_read_counter(self) -> Callable[[], int]:
        """Return a function giving how often the phase was read so far (for the audit)."""
        reads = _state.READS
        return lambda: reads.count

    def record_provenance(self) -> Recording:
        """Record each reference layer call's resolved ``training`` and its source."""
        return record_reference_layers()

    def held_provenance(self, values: Sequence[tuple[str, object]]) -> list[Ran]:
        """Return the reference layers taking ``training`` among ``values`` (mode: per call)."""
        from pytest_learning_phase import layers

        def takes_training(value: object) -> bool:
            return isinstance(value, layers.Layer) and (
                layers._training_parameter_of(type(value).call).expected
            )

        return held_layers(values, takes_training)
