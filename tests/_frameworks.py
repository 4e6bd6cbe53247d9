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


def is_installed(name: str) -> bool:
    """Return whether the top-level module ``name`` can be found, without importing it."""
    import importlib.util

    return importlib.util.find_spec(name) is not None


def tf_keras_is_installed() -> bool:
    """Return whether ``tf_keras`` can be found, without importing TensorFlow."""
    return is_installed("tf_keras")


def torch_is_installed() -> bool:
    """Return whether ``torch`` can be found, without importing it."""
    return is_installed("torch")


def require_installed(name: str, hint: str = "") -> None:
    """Skip the test (fail it under CI) unless module ``name`` is installed; import nothing.

    For tests that use the module only in a subprocess: importing it here would
    put it in pytester's snapshot of ``sys.modules``, to be forgotten after the
    test, and TensorFlow and torch cannot be imported twice in one process.
    """
    if not is_installed(name):
        message = f"{name} is not installed" + (f": {hint}" if hint else "")
        if running_in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)


def _require(name: str, hint: str) -> ModuleType:
    """Return module ``name``; skip the test (fail it under CI) when it is not installed."""
    require_installed(name, hint)
    return import_and_freeze(name)


def require_tf_keras() -> ModuleType:
    """Return ``tf_keras``; skip the test (fail it under CI) when it is not installed."""
    return _require("tf_keras", TF_INSTALL_HINT)


def require_torch() -> ModuleType:
    """Return ``torch``; skip the test (fail it under CI) when it is not installed."""
    return _require("torch", TORCH_INSTALL_HINT)
