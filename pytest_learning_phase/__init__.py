"""pytest-learning-phase: set, isolate and audit the Keras learning phase in tests.

The public names are imported on first use, so that ``import
pytest_learning_phase.backend`` stays free of pytest and numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytest_learning_phase._version import __version__

if TYPE_CHECKING:
    from pytest_learning_phase._auto import LearningPhaseBackendWarning
    from pytest_learning_phase._leaks import LearningPhaseLeakWarning
    from pytest_learning_phase.assertions import (
        assert_deterministic_in_inference,
        assert_no_state_update_in_inference,
        assert_phase_dependent,
        assert_phase_invariant,
        run_in_phases,
    )

__all__ = [
    "LearningPhaseBackendWarning",
    "LearningPhaseLeakWarning",
    "__version__",
    "assert_deterministic_in_inference",
    "assert_no_state_update_in_inference",
    "assert_phase_dependent",
    "assert_phase_invariant",
    "run_in_phases",
]

_LAZY_NAMES = {
    "LearningPhaseBackendWarning": "pytest_learning_phase._auto",
    "LearningPhaseLeakWarning": "pytest_learning_phase._leaks",
    "assert_deterministic_in_inference": "pytest_learning_phase.assertions",
    "assert_no_state_update_in_inference": "pytest_learning_phase.assertions",
    "assert_phase_dependent": "pytest_learning_phase.assertions",
    "assert_phase_invariant": "pytest_learning_phase.assertions",
    "run_in_phases": "pytest_learning_phase.assertions",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pytest_learning_phase' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
