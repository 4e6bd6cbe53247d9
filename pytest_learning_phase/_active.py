"""Which adapter the harness helpers drive: the plugin's chosen backend, else the reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_learning_phase.adapters import LearningPhaseAdapter

_active_adapter: LearningPhaseAdapter | None = None


def active_adapter() -> LearningPhaseAdapter:
    """Return the adapter of the running pytest session's backend, or the reference one."""
    if _active_adapter is not None:
        return _active_adapter
    from pytest_learning_phase.adapters.reference import ReferenceAdapter

    return ReferenceAdapter()


def set_active_adapter(adapter: LearningPhaseAdapter | None) -> LearningPhaseAdapter | None:
    """Make ``adapter`` the active one (``None``: the reference); return the previous one."""
    global _active_adapter
    previous, _active_adapter = _active_adapter, adapter
    return previous
