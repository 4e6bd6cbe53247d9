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
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Final

import pytest

__all__ = [
    "AUTO",
    "FRAMEWORKS",
    "LearningPhaseBackendWarning",
    "auto_reason",
    "imported_frameworks",
    "late_import_warning",
    "stand_ins",
]

AUTO: Final = "auto"
"""The backend setting that lets the suite's imports decide."""

FRAMEWORKS: Final = ("tf_keras", "torch")
"""The supported frameworks ``auto`` looks for: each is its backend's name and its module's."""


class LearningPhaseBackendWarning(pytest.PytestWarning):
    """A supported framework the ``auto`` backend did not drive: first imported too late."""


_NEEDED: Final = {
    "tf_keras": ("tf_keras.src.backend", "learning_phase"),
    "torch": ("torch.nn", "Module"),
}
"""What each framework's adapter drives: a submodule the real package imports, and its name."""


def imported_frameworks() -> tuple[str, ...]:
    """Return the supported frameworks imported so far (in ``sys.modules``), in a fixed order.

    Only the installed packages count, not a stand-in a conftest put in
    ``sys.modules`` (see :func:`stand_ins`).
    """
    return tuple(name for name in FRAMEWORKS if name in sys.modules and _stand_in(name) is None)


def stand_ins() -> dict[str, str]:
    """Return the supported frameworks whose ``sys.modules`` entry is not the package, and why.

    ``sys.modules["torch"] = None`` (to make ``import torch`` fail), a
    ``MagicMock`` or an empty module: ``auto`` does not drive those.
    """
    found = {name: _stand_in(name) for name in FRAMEWORKS if name in sys.modules}
    return {name: why for name, why in found.items() if why is not None}


def _stand_in(name: str) -> str | None:
    """Say why ``sys.modules[name]`` is not the framework's package; None if it is."""
    module: object = sys.modules[name]  # a conftest may have put None or a mock there
    if not isinstance(module, ModuleType):
        what = "None" if module is None else f"a {type(module).__name__}"
        return f"sys.modules[{name!r}] is {what}, not a module"
    submodule, attribute = _NEEDED[name]
    if not callable(getattr(sys.modules.get(submodule), attribute, None)):
        return f"sys.modules[{name!r}] is a module without {submodule}.{attribute}"
    return None


def auto_reason(frameworks: Sequence[str], skipped: Mapping[str, str] | None = None) -> str:
    """Say why ``auto`` chose what it chose, for the header line; and what it skipped."""
    why = "imported by the tests"
    if not frameworks:
        why = f"no {' or '.join(FRAMEWORKS)} imported by the tests"
    for name, reason in (skipped or {}).items():
        why += f"; {name} not driven: {reason}"
    return why


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
