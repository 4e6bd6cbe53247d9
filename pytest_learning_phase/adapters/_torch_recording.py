"""Provenance of torch modules: whose forward ran, in which mode, and where that mode came from.

A recording installs, until it stops, a global forward pre-hook and forward
hook (``torch.nn.modules.module.register_module_forward_*_hook``) and the
switchboard's ``on_build`` (the phase each module was built in). Whether a
module's mode was set explicitly since comes from the audit's read tracking
(the switchboard's ``moded``: a module leaves it when ``.train()`` or
``.eval()`` reaches it); a module built while the audit does not track reads
was built by a wider fixture set up during the run. Outside a recording
nothing is installed, and a model's forward runs at full speed.

Only modules whose ``forward`` reads ``training`` (``self.training`` or a
``training=`` argument, in its own code: ``Dropout``, the batch norms, RNNs,
``MultiheadAttention``, a user's module with ``if self.training``) are listed.
A module is named by its path in the outermost module that was called (the
*root*), after the name the calling code gives the root (``model.drop``);
a submodule reached twice is named once, as ``named_modules()`` does.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Iterable
from types import FrameType, ModuleType
from typing import Any, Final, cast

from pytest_learning_phase._phase import Phase
from pytest_learning_phase._provenance import Ran, Recording

__all__ = ["held_modules", "reads_training", "record_torch_modules"]

BEFORE_RUN: Final = "built before this run (by a wider fixture, or at import)"
COMPILE_WITH_GLOBAL_HOOKS: Final = r"Using `torch\.compile\(module\)` when there are global hooks"
"""torch's warning when a compiled module runs while global hooks (the recording's) are installed.

It is the recording's doing, not the test's: ignored while a recording runs, so
a suite with ``filterwarnings = error`` passes under the audit as without it.
"""
_READS_TRAINING: dict[type, bool] = {}
_PHASES: Final[dict[Phase, str]] = {None: "unset", 0: "0 (eval)", 1: "1 (train)"}
"""A phase in PyTorch's words (the torch adapter's ``phase_labels``)."""
_LABELS: Final = ("eval", "train")
"""A mode in PyTorch's words: a module's entry says eval mode, also beside another backend."""


def reads_training(module_class: type) -> bool:
    """Return whether ``module_class.forward``'s own code reads ``training``."""
    found = _READS_TRAINING.get(module_class)
    if found is None:
        code = getattr(getattr(module_class, "forward", None), "__code__", None)
        found = code is not None and ("training" in code.co_names or "training" in code.co_varnames)
        _READS_TRAINING[module_class] = found
    return found


def _caller_name(module: object) -> str | None:
    """Return the name the code calling ``module`` gives it (a local variable or ``self.x``)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("torch.", "pytest_learning_phase.")
    ):
        frame = frame.f_back
    if frame is None:
        return None
    local_values = frame.f_locals
    for name, value in local_values.items():
        if value is module and name.isidentifier():  # not pytest's ``@py_assert1``
            return name
    owner = local_values.get("self")
    for name, value in getattr(owner, "__dict__", {}).items():
        if value is module:
            return f"self.{name}"
    return None


def _names(roots: dict[int, tuple[Any, str]]) -> dict[int, str]:
    """Name every module under ``roots`` by its path from the outermost root holding it."""
    inner: set[int] = set()
    for root, _ in roots.values():
        inner.update(id(sub) for sub in root.modules() if sub is not root)
    names: dict[int, str] = {}
    for key, (root, root_name) in roots.items():
        if key in inner:
            continue
        for path, sub in root.named_modules():
            names.setdefault(id(sub), f"{root_name}.{path}" if path else root_name)
    return names


class _TorchRecording:
    """One recording of the modules whose forward ran; see the module docstring."""

    def __init__(self, torch_module: ModuleType, switchboard: Any) -> None:
        self._switchboard = switchboard
        self._module_class = torch_module.nn.Module
        self._depth = threading.local()
        self._lock = threading.Lock()
        self.built: dict[int, tuple[Any, Phase, bool, bool]] = {}
        """Each module built while recording: itself, the phase, its flag, whether the audit
        tracked reads then (it does not while a wider fixture is set up)."""
        self.roots: dict[int, tuple[Any, str]] = {}
        self.calls: dict[tuple[int, bool, str], int] = {}
        self.modules: dict[int, Any] = {}
        switchboard.on_build = self._built
        switchboard.on_copy = self._copied
        self._moded: Any = getattr(switchboard, "moded", None)
        """The modules whose mode came from the phase (the audit's read tracking keeps it)."""
        self._assigned: Any = getattr(switchboard, "assigned", ())
        """The modules whose ``training`` was assigned since they were built."""
        hooks = torch_module.nn.modules.module
        self._handles = [
            hooks.register_module_forward_pre_hook(self._before_forward),
            hooks.register_module_forward_hook(self._after_forward, always_call=True),
        ]
        warnings.filterwarnings("ignore", COMPILE_WITH_GLOBAL_HOOKS, UserWarning)
        self._quiet = warnings.filters[0]
        """The filter for torch's warning about our hooks, taken out again at ``stop()``."""

    def _built(self, module: object, phase: Phase) -> None:
        training: bool = module.training  # type: ignore[attr-defined]
        tracked = bool(getattr(self._switchboard, "tracking", True))
        self.built[id(module)] = (module, phase, training, tracked)

    def _copied(self, original: object, copy: object) -> None:
        """Record ``copy`` as built where ``original`` was (its mode came from the same phase)."""
        built = self.built.get(id(original))
        if built is not None and built[0] is original:
            self.built[id(copy)] = (copy, *built[1:])

    def _before_forward(self, module: Any, args: object) -> None:
        depth = getattr(self._depth, "depth", 0)
        self._depth.depth = depth + 1
        key = id(module)
        if depth == 0 and key not in self.roots:
            self.roots[key] = (module, _caller_name(module) or type(module).__name__.lower())
        if reads_training(type(module)):
            entry = (key, bool(module.training), self._source(module))
            with self._lock:
                self.modules[key] = module
                self.calls[entry] = self.calls.get(entry, 0) + 1

    def _after_forward(self, module: Any, args: object, output: object) -> None:
        self._depth.depth = max(0, getattr(self._depth, "depth", 1) - 1)

    def _source(self, module: Any) -> str:
        built = self.built.get(id(module))
        if built is None or built[0] is not module:
            return BEFORE_RUN
        if not built[3]:
            return f"built by a wider fixture while the phase was {_PHASES[built[1]]}"
        training = module.training
        moded = self._moded
        flag = None
        if moded is not None:
            try:
                flag = moded.get(module)
            except TypeError:  # an unhashable module is never marked
                moded = None
        if moded is not None and flag is None:  # unmarked by .train() / .eval() / an assignment
            with contextlib.suppress(TypeError):
                if module in self._assigned:
                    return "set by an assignment to .training"
            return f"set by .{'train' if training else 'eval'}()"
        if training is not built[2]:
            return "set by an assignment to .training"
        return f"built while the phase was {_PHASES[built[1]]}"

    def ran(self) -> list[Ran]:
        with self._lock:
            calls = list(self.calls.items())
        names = _names(self.roots)
        return [
            Ran(
                names.get(key) or type(self.modules[key]).__name__.lower(),
                type(self.modules[key]).__name__,
                training,
                source,
                count,
                _LABELS,
            )
            for (key, training, source), count in calls
        ]

    def stop(self) -> list[Ran]:
        for handle in self._handles:
            handle.remove()
        with contextlib.suppress(ValueError):  # a catch_warnings block already took it out
            cast(list[object], warnings.filters).remove(self._quiet)
        if self._switchboard.on_build == self._built:
            self._switchboard.on_build = None
        if getattr(self._switchboard, "on_copy", None) == self._copied:
            self._switchboard.on_copy = None
        found = self.ran()
        self.built.clear()
        self.roots.clear()
        self.modules.clear()
        self.calls.clear()
        return found


def record_torch_modules(torch_module: ModuleType, switchboard: object) -> Recording:
    """Start recording the modules whose forward runs, in any thread, until ``stop()``."""
    return _TorchRecording(torch_module, switchboard)


def held_modules(values: Iterable[tuple[str, object]], module_class: type) -> list[Ran]:
    """Return the modules reading ``training`` held by ``values`` (name, object), with their mode.

    A value that is a module is a root, named by its name; modules inside
    another root found here are named from that root.
    """
    roots: dict[int, tuple[Any, str]] = {}
    for name, value in values:
        if isinstance(value, module_class) and id(value) not in roots:
            roots[id(value)] = (value, name)
    names = _names(roots)
    found: list[Ran] = []
    seen: set[int] = set()
    for root, _ in roots.values():
        for sub in root.modules():
            if id(sub) in seen or not reads_training(type(sub)):
                continue
            seen.add(id(sub))
            found.append(Ran(names.get(id(sub), "?"), type(sub).__name__, bool(sub.training), ""))
    return found
