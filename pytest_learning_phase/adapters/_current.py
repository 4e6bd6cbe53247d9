"""The adapter the harness helpers drive: the session's chosen backend, else the reference.

The plugin sets it in ``pytest_configure`` and puts the previous one back in
``pytest_unconfigure``. Under ``auto``, until collection ends, the plugin also
sets a chooser that gives the first framework imported so far: the helpers
called at collection time (at module level, in ``parametrize`` arguments)
drive it. Imports neither pytest nor any framework, so that
:mod:`pytest_learning_phase.assertions` stays cheap to import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = ["Chooser", "current_adapter", "set_collection_chooser", "set_current_adapter"]

Chooser = Callable[[], "LearningPhaseAdapter | None"]
"""Gives the adapter to drive while collecting (``auto``), or None once it no longer decides."""

_current: LearningPhaseAdapter | None = None
_chooser: Chooser | None = None


def current_adapter() -> LearningPhaseAdapter:
    """Return the adapter of the running pytest session's backend, or the reference one."""
    if _chooser is not None:
        chosen = _chooser()
        if chosen is not None:
            return chosen
    if _current is not None:
        return _current
    from pytest_learning_phase.adapters.reference import ReferenceAdapter

    return ReferenceAdapter()


def set_current_adapter(adapter: LearningPhaseAdapter | None) -> LearningPhaseAdapter | None:
    """Make ``adapter`` the current one (``None``: the reference); return the previous one."""
    global _current
    previous, _current = _current, adapter
    return previous


def set_collection_chooser(chooser: Chooser | None) -> Chooser | None:
    """Make ``chooser`` decide before ``_current`` (``None``: no chooser); return the previous."""
    global _chooser
    previous, _chooser = _chooser, chooser
    return previous
