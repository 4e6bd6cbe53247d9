"""The examples in the public docstrings (shown in the reference pages) run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

PUBLIC_MODULES = [
    "pytest_learning_phase",
    "pytest_learning_phase.adapters",
    "pytest_learning_phase.assertions",
    "pytest_learning_phase.backend",
    "pytest_learning_phase.hookspecs",
    "pytest_learning_phase.layers",
    "pytest_learning_phase.plugin",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_docstring_examples_pass(module_name: str) -> None:
    module = importlib.import_module(module_name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert results.failed == 0


def test_the_helpers_docstrings_have_examples() -> None:
    module = importlib.import_module("pytest_learning_phase.assertions")
    assert doctest.testmod(module).attempted >= 4
