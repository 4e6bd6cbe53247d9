"""Offer the framework ``minifw`` as a learning-phase backend named ``minifw``."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pytest_learning_phase.adapters import Phase
from pytest_learning_phase.hookspecs import AdapterFactory


class MinifwAdapter:
    """Save, set, read and restore minifw's training flag."""

    name = "minifw"

    def __init__(self) -> None:
        import minifw  # imported only when this backend is chosen

        self._minifw = minifw

    def save_state(self) -> object:
        return self._minifw.get_training_flag()

    def restore_state(self, state: object) -> None:
        self._minifw.set_training_flag(state)

    def set_phase(self, phase: Phase) -> None:
        self._minifw.set_training_flag(None if phase is None else phase == 1)

    def get_phase(self) -> Phase:
        flag = self._minifw.get_training_flag()
        return None if flag is None else int(flag)


def pytest_learning_phase_backends(config: pytest.Config) -> Mapping[str, AdapterFactory]:
    return {"minifw": MinifwAdapter}
