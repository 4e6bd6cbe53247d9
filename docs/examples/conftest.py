"""Fixtures that let the example suite run on either backend.

``pytest docs/examples`` drives the reference backend (no TensorFlow);
``pytest docs/examples --learning-phase-backend=tf_keras`` drives the real
tf_keras. The tests take the backend module as ``K`` and the layers module as
``layers`` from here; in your own suite you would simply import them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def _module_names(config: pytest.Config) -> tuple[str, str]:
    """Return the backend and layers modules of the backend the plugin drives."""
    backend = config.getoption("learning_phase_backend") or config.getini("learning_phase_backend")
    if backend == "tf_keras":
        return "tf_keras.backend", "tf_keras.layers"
    return "pytest_learning_phase.backend", "pytest_learning_phase.layers"


@pytest.fixture(scope="session")
def K(pytestconfig: pytest.Config) -> ModuleType:
    """Return the backend module: ``tf_keras.backend`` or ``pytest_learning_phase.backend``."""
    return importlib.import_module(_module_names(pytestconfig)[0])


@pytest.fixture(scope="session")
def layers(pytestconfig: pytest.Config) -> ModuleType:
    """Return the layers module: ``tf_keras.layers`` or ``pytest_learning_phase.layers``."""
    return importlib.import_module(_module_names(pytestconfig)[1])
