"""The ``auto`` backend: drive the frameworks the suite imported, and say which and why.

``auto`` (the default) drives the reference backend and every supported
framework found in ``sys.modules`` when collection ends, that is, imported
by a plugin, a ``conftest.py`` or a test module. It never imports one: that
stays the suite's choice. The choice is made once per session; a supported
framework first imported while the tests run is not driven, and gets one
:class:`LearningPhaseBackendWarning` at the end of the session.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
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
    "watch_imports",
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
    verb, its, it = ("was", "its phase was", "it")
    if len(frameworks) > 1:
        verb, its, it = ("were", "their phases were", "them")
    return (
        f"{names} {verb} first imported while the tests ran, after the learning phase backends "
        f"were chosen (auto: {', '.join(driven)}), so {its} not set, isolated or "
        f"checked for leaks; import {it} in a conftest.py or at the top of a test module, or set "
        f"learning_phase_backend = {setting} (or --learning-phase-backend={setting})"
    )


def watch_imports(on_import: Callable[[str], None]) -> Callable[[], None]:
    """Call ``on_import(name)`` right after a supported framework is first imported.

    For collection: ``auto`` drives a framework a test module imports from
    then on, so that the modules the same test module builds at import
    start in the session's default phase. Returns the function that stops
    watching. Costs one name lookup per import while it watches.
    """
    watcher = _ImportWatcher(on_import)
    sys.meta_path.insert(0, watcher)

    def stop() -> None:
        if watcher in sys.meta_path:
            sys.meta_path.remove(watcher)

    return stop


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: hands a framework's spec on with a loader that reports its import."""

    def __init__(self, on_import: Callable[[str], None]) -> None:
        self.on_import = on_import
        self.finding = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in FRAMEWORKS or self.finding:
            return None
        self.finding = True
        try:
            spec = importlib.util.find_spec(fullname)  # the other finders' answer
        finally:
            self.finding = False
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return None
        spec.loader = _ReportingLoader(loader, self.on_import)
        return spec


class _ReportingLoader(importlib.abc.Loader):
    """Runs the real loader (put back on the module first), then reports the import."""

    def __init__(self, loader: importlib.abc.Loader, on_import: Callable[[str], None]) -> None:
        self.loader = loader
        self.on_import = on_import

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        module.__loader__ = self.loader
        self.loader.exec_module(module)
        self.on_import(module.__name__)
