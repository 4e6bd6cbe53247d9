"""pytest-learning-phase: set, isolate and audit the Keras learning phase in tests."""

from pytest_learning_phase._version import __version__

__all__ = ["__version__"]
