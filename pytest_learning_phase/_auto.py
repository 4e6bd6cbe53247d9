"""The ``auto`` backend: drive the frameworks the suite imported, and say which and why.

``auto`` (the default) drives the reference backend and every supported
framework found in ``sys.modules`` when collection ends, that is, imported
by a plugin, a ``conftest.py`` or a test module. It never imports one: that
stays the suite's choice. The choice is made once per session; a supported
framework first imported while the tests run is not driven, and gets one
:class:`LearningPhaseBackendWarning` at the end of the session.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

import pytest

__all__ = [
    "AUTO",
    "FRAMEWORKS",
    "LearningPhaseBackendWarning",
    "auto_reason",
    "imported_frameworks",
    "late_import_warning",
]

AUTO: Final = "auto"
"""The backend setting that lets the suite's imports decide."""

FRAMEWORKS: Final = ("tf_keras", "torch")
"""The supported frameworks ``auto`` looks for: each is its backend's name and its module's."""


class LearningPhaseBackendWarning(pytest.PytestWarning):
    """A supported framework the ``auto`` backend did not drive: first imported too late."""


def imported_frameworks() -> tuple[str, ...]:
    """Return the supported frameworks imported so far (in ``sys.modules``), in a fixed order."""
    return tuple(name for name in FRAMEWORKS if name in sys.modules)


def auto_reason(frameworks: Sequence[str]) -> str:
    """Say why ``auto`` chose what it chose, for the header line."""
    if not frameworks:
        return f"no {' or '.join(FRAMEWORKS)} imported by the tests"
    return "imported by the tests"


def late_import_warning(frameworks: Sequence[str], driven: Sequence[str]) -> str:
    """Say that ``frameworks`` were imported while the tests ran, and which setting drives them."""
    names = " and ".join(frameworks)
    setting = ",".join([*driven, *frameworks])
    verb, its = ("was", "its") if len(frameworks) == 1 else ("were", "their")
    return (
        f"{names} {verb} first imported while the tests ran, after the learning phase backends "
        f"were chosen (auto: {', '.join(driven)}), so {its} phase was not set, isolated or "
        f"checked for leaks; import it in a conftest.py or at the top of a test module, or set "
        f"learning_phase_backend = {setting} (or --learning-phase-backend={setting})"
    )
