"""Hooks that pytest-learning-phase adds to pytest (registered via ``pytest_addhooks``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = ["AdapterFactory", "pytest_learning_phase_backends"]

AdapterFactory = Callable[[], "LearningPhaseAdapter"]
"""Builds an adapter; called only when its backend is chosen, so imports stay lazy."""


@pytest.hookspec
def pytest_learning_phase_backends(
    config: pytest.Config,
) -> Mapping[str, AdapterFactory] | None:
    """Offer learning-phase backends by name.

    Return a mapping from backend name (what ``--learning-phase-backend`` takes)
    to a zero-argument factory that builds the adapter. Factories are called
    only for the chosen backend, so import heavy frameworks inside them. A
    factory whose framework is missing should raise ``pytest.UsageError`` saying
    what to install. Implement it in a plugin or in a ``conftest.py`` that
    pytest loads at start-up (the rootdir's, or one on a path given on the
    command line). The built-in ``reference`` and ``tf_keras`` backends are
    offered through this same hook.

    :param config: the pytest config.
    """
