"""Save the backend's phase before each test, set what it asked for, restore it after.

Also finds tests that leak: a test that leaves the phase other than the
plugin set it gets a :class:`LearningPhaseLeakWarning`.
"""

from __future__ import annotations

import warnings

import pytest

from pytest_learning_phase._phase import Phase, describe_phase
from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = ["LearningPhaseLeakWarning", "PhaseIsolation"]


class LearningPhaseLeakWarning(pytest.PytestWarning):
    """A test left the learning phase other than the plugin had set it.

    Raised at the end of the test's teardown, after the phase was restored, so
    ``-W error::pytest_learning_phase.LearningPhaseLeakWarning`` makes it a
    teardown error of that one test.
    """

    __module__ = "pytest_learning_phase"


class PhaseIsolation:
    """Apply one adapter's phase around each test and put its state back afterwards.

    One test runs at a time in a pytest process, so the saved state is kept
    here, tagged with its item, rather than in ``item.stash``.
    """

    def __init__(self, adapter: LearningPhaseAdapter) -> None:
        self.adapter = adapter
        self.current_item: pytest.Item | None = None
        """The test whose reports are being made: from its setup to the next test's."""
        self._saved: tuple[pytest.Item, object, Phase] | None = None

    def begin(self, item: pytest.Item, phase: Phase) -> None:
        """Save the whole state, then set ``phase`` for the test's setup, call and teardown."""
        self.current_item = item
        self._saved = (item, self.adapter.save_state(), phase)
        self.adapter.set_phase(phase)

    def end(self, item: pytest.Item, *, warn: bool = True) -> None:
        """Restore the state saved by :meth:`begin`; warn if the test changed the phase.

        Does nothing when the state of ``item`` was already restored (or never saved).
        """
        __tracebackhide__ = True
        saved = self._saved
        if saved is None or saved[0] is not item:
            return
        self._saved = None
        _, previous_state, phase_set = saved
        found = self.adapter.get_phase()
        self.adapter.restore_state(previous_state)
        if warn and found != phase_set:
            _warn_leak(item, found, phase_set, self.adapter.get_phase())


def _warn_leak(item: pytest.Item, found: Phase, phase_set: Phase, restored: Phase) -> None:
    """Warn at the test's own file and line, so the summary points at the test."""
    __tracebackhide__ = True
    message = (
        f"{item.nodeid} left the learning phase at {describe_phase(found)} "
        f"(the plugin had set {describe_phase(phase_set)}); restored {describe_phase(restored)}"
    )
    _, lineno, _ = item.location
    warnings.warn_explicit(
        LearningPhaseLeakWarning(message),
        LearningPhaseLeakWarning,
        filename=str(item.path),
        lineno=(lineno or 0) + 1,
    )
