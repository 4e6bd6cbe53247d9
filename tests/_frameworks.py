"""Import the real frameworks for tests: skip when missing, but fail under CI.

A missing tf_keras must never turn into a silent skip in CI (``CI=true``).
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
from types import ModuleType

import pytest

TF_INSTALL_HINT = 'pip install "pytest-learning-phase[tf]" (tensorflow-cpu and tf-keras 2.21)'
TORCH_INSTALL_HINT = 'pip install "pytest-learning-phase[torch]" (a CPU build of torch)'


@functools.cache
def import_and_freeze(name: str) -> ModuleType:
    """Import the framework ``name``, then move every live object out of the collector's way.

    TensorFlow and torch leave some 400,000 objects that every full garbage
    collection walks again: about 0.2 s each with TensorFlow loaded. pytest
    8.4.0's pytester collects five times after each in-process run (8.4.1 no
    longer does), which made the plugin's tests ten times slower there.
    ``gc.freeze()`` puts what is alive now in a generation no collection visits.
    """
    module = importlib.import_module(name)
    gc.freeze()
    return module


def running_in_ci() -> bool:
    """Return whether this run is CI's (``CI=true``), where nothing may be skipped."""
    return os.environ.get("CI", "").lower() == "true"


def tf_keras_is_installed() -> bool:
    """Return whether ``tf_keras`` can be found, without importing TensorFlow."""
    import importlib.util

    return importlib.util.find_spec("tf_keras") is not None


def require_tf_keras() -> ModuleType:
    """Return ``tf_keras``; skip the test (fail it under CI) when it is not installed."""
    if not tf_keras_is_installed():
        message = f"tf_keras is not installed: {TF_INSTALL_HINT}"
        if running_in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return import_and_freeze("tf_keras")


def torch_is_installed() -> bool:
    """Return whether ``torch`` can be found, without importing it."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def require_torch() -> ModuleType:
    """Return ``torch``; skip the test (fail it under CI) when it is not installed."""
    if not torch_is_installed():
        message = f"torch is not installed: {TORCH_INSTALL_HINT}"
        if running_in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return import_and_freeze("torch")
