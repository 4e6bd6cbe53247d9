"""The adapter the harness helpers drive: the session's chosen backend, else the reference.

The plugin sets it in ``pytest_configure`` and puts the previous one back in
``pytest_unconfigure``. Imports neither pytest nor any framework, so that
:mod:`pytest_learning_phase.assertions` stays cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = ["current_adapter", "set_current_adapter"]

_current: LearningPhaseAdapter | None = None


def current_adapter() -> LearningPhaseAdapter:
    """Return the adapter of the running pytest session's backend, or the reference one."""
    if _current is not None:
        return _current
    from pytest_learning_phase.adapters.reference import ReferenceAdapter

    return ReferenceAdapter()


def set_current_adapter(adapter: LearningPhaseAdapter | None) -> LearningPhaseAdapter | None:
    """Make ``adapter`` the current one (``None``: the reference); return the previous one."""
    global _current
    previous, _current = _current, adapter
    return previous
