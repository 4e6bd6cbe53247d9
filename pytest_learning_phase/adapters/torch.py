"""The adapter for PyTorch: the phase is the mode in which new ``torch.nn.Module`` objects start.

Importing this module is cheap: torch is imported only by
:func:`make_torch_adapter`, the factory the plugin calls when
``--learning-phase-backend=torch`` is chosen.

PyTorch has no global learning phase; every module carries its own
``training`` flag, ``True`` after ``Module.__init__``. The plugin gives it one:
each thread has a phase (``None``, ``0`` or ``1``), and a wrapper installed once
around ``torch.nn.Module.__init__`` sets ``training`` to ``phase == 1`` right
after the original ``__init__`` ran, when the phase is set. Every submodule's
``Module.__init__`` runs while the phase is in effect too, so a model and all
its submodules start in that mode; ``.train()``, ``.eval()`` or
``self.training = ...`` in the code run later and always win. Unset changes
nothing: modules start in train mode, as PyTorch makes them.

Only modules built for the user follow the phase (see :func:`built_for_the_user`):
by code outside PyTorch, or by ``torch.nn`` on its behalf. The modules the
rest of PyTorch builds while transforming a module (the ``GraphModule`` of
``torch.fx.symbolic_trace`` and its intermediate containers, the module of
``torch.export.export(...).module()``, the wrappers of ``torch.jit`` and
``torch.compile``) start as PyTorch makes them, so that a transform gives
exactly what it gives without the plugin. ``copy.deepcopy`` and unpickling
(``torch.load``) never call ``__init__`` and keep every flag of the original
(under the audit, a copy's mode comes from where the original's came from).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Final

from pytest_learning_phase._phase import Phase
from pytest_learning_phase._provenance import Ran, Recording
from pytest_learning_phase.adapters._held import find_held

if TYPE_CHECKING:
    import torch

__all__ = [
    "NOT_INSTALLED_MESSAGE",
    "ModuleFlags",
    "ReadTracker",
    "TorchAdapter",
    "built_for_the_user",
    "flags_kept",
    "install_init_wrapper",
    "make_torch_adapter",
    "modules_in_mode",
]

NOT_INSTALLED_MESSAGE: Final = (
    "the torch backend needs torch, which is not installed: "
    'pip install "pytest-learning-phase[torch]"'
)
"""The usage error of :func:`make_torch_adapter` when torch cannot be imported."""

SWITCHBOARD_ATTRIBUTE: Final = "_pytest_learning_phase_switchboard"
"""The attribute of ``torch.nn.Module`` (and of the wrapper) that marks the wrapper as installed.

It is put on the class, not only on the wrapper, because dynamo wraps
``Module.__init__`` again on the first ``torch.compile``: the class keeps the
mark whatever is wrapped around ours since.
"""

ROOT_NAME: Final = "<root>"
"""How :meth:`TorchAdapter.restore_module_flags` names the module a fixture returned itself."""


_INSTALL_LOCK: Final = threading.Lock()


class _ThreadPhase(threading.local):
    """One thread's phase; a new thread starts unset."""

    phase: Phase = None


class Switchboard:
    """What the ``__init__`` wrapper reads: the per-thread phase and a process-wide count."""

    def __init__(self) -> None:
        self.thread: Final = _ThreadPhase()
        self.tracking = False
        """Whether modules built for the user now are marked as moded by the phase (the audit)."""
        self.moded: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        """The modules whose mode came from the phase, with that mode (until set explicitly)."""
        self.reads = 0
        """How many forwards of such modules ran, in all threads (the audit's read count)."""
        self.builds = 0
        """How many modules were built for the user while tracking (a marked test's use)."""
        self.on_build: Callable[[object, Phase], None] | None = None
        """Called with each module built for the user and the phase it was built in, when set
        (while provenance is recorded)."""
        self.assigned: weakref.WeakSet[Any] = weakref.WeakSet()
        """The modules unmarked by an assignment to ``training`` (not by ``.train()``)."""
        self.on_copy: Callable[[object, object], None] | None = None
        """Called with a module and its copy (``copy.deepcopy``, a pickle round trip) made
        while tracking, when set (while provenance is recorded)."""


def built_for_the_user(module: object, frame: FrameType | None, module_class: type) -> bool:
    """Return whether ``module`` is built for the user, not by PyTorch for its own use.

    ``frame`` is the caller of ``Module.__init__``. Walking outwards:

    * a frame outside ``torch`` decides yes: user code (or torchvision, Hugging
      Face, ...) built the module;
    * a frame of ``torch.nn`` is passed: the module library builds modules for
      the code that called it (``Linear.__init__``, a ``TransformerEncoder``'s
      ``ModuleList`` in ``_get_clones``, ``torch.nn.utils.skip_init``);
    * in the rest of ``torch``, the frames of ``module``'s own ``__init__``
      chain (``GraphModule.__init__``, dynamo's wrapper of ``Module.__init__``)
      are passed, and a module building a submodule in its ``__init__`` hands
      the decision to that module; any other frame (a function of
      ``torch.fx``, ``torch.export``, ``torch.jit``, ``torch._dynamo``, ...)
      decides no: PyTorch builds that module while transforming another one.
    """
    while frame is not None:
        code_module: str = frame.f_globals.get("__name__", "")
        if code_module.startswith("torch.nn.") or code_module == "torch.nn":
            frame = frame.f_back
            continue
        if not (code_module.startswith("torch.") or code_module == "torch"):
            return True
        owner = frame.f_locals.get("self")
        if owner is not module:
            if frame.f_code.co_name != "__init__" or not isinstance(owner, module_class):
                return False
            module = owner  # a module building its submodule: decided as that module
        frame = frame.f_back
    return True


def install_init_wrapper(torch_module: ModuleType) -> Switchboard:
    """Wrap ``torch_module.nn.Module.__init__`` once per process; return its switchboard.

    Idempotent: a second call finds the switchboard on the class and returns it.
    The original ``__init__`` is never put back: dynamo wraps ``Module.__init__``
    too, on the first ``torch.compile``, around whatever is there, and putting
    an "original" back would remove its wrapper.

    Code that dynamo compiles (``torch.compile``, strict ``torch.export``) may
    build modules too; dynamo traces the wrapper then, and the wrapper returns
    as soon as ``torch.compiler.is_compiling()`` says so: such modules start as
    PyTorch makes them, and no compiled graph depends on the phase it was
    compiled in (dynamo could not guard on a per-thread value).
    """
    module_class = torch_module.nn.Module
    is_compiling = torch_module.compiler.is_compiling
    with _INSTALL_LOCK:
        installed: Switchboard | None = module_class.__dict__.get(SWITCHBOARD_ATTRIBUTE)
        if installed is not None:
            return installed
        switchboard = Switchboard()
        thread = switchboard.thread
        original_init = module_class.__init__

        def start_in_phase(module: Any, frame: FrameType | None) -> None:
            """Set a new module's ``training`` as the phase says, if set and built for the user."""
            phase = thread.phase
            on_build = switchboard.on_build
            tracking = switchboard.tracking
            if phase is None:
                if (tracking or on_build) and built_for_the_user(module, frame, module_class):
                    if tracking:
                        _mark_moded(switchboard, module)
                    if on_build is not None:
                        on_build(module, phase)
            elif built_for_the_user(module, frame, module_class):
                object.__setattr__(module, "training", phase == 1)
                if tracking:
                    _mark_moded(switchboard, module)
                if on_build is not None:
                    on_build(module, phase)

        # Only functions in the wrapper's closure: dynamo, which inlines it in
        # compiled code, can wrap those (not the switchboard) and never calls them.
        @functools.wraps(original_init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            if not is_compiling():
                start_in_phase(self, sys._getframe(1))

        setattr(__init__, SWITCHBOARD_ATTRIBUTE, switchboard)
        module_class.__init__ = __init__
        setattr(module_class, SWITCHBOARD_ATTRIBUTE, switchboard)
        return switchboard


def _mark_moded(switchboard: Switchboard, module: Any, *, count: bool = True) -> None:
    """Note that ``module``'s mode came from the phase (a module that cannot be hashed is not).

    ``count``: whether this is a build (a copy is not).
    """
    switchboard.builds += count
    with contextlib.suppress(TypeError):
        switchboard.moded[module] = module.training


COPIED_FROM: Final = "_pytest_learning_phase_copied_from"
"""The key a module's pickled state carries while tracking, when its mode came from the phase.

``Module.__setstate__`` (``copy.deepcopy``, ``pickle.loads``, ``torch.load``)
pops it and marks the copy: the copy's mode came from the phase too.
"""


_NOT_THE_USER: Final = ("torch.", "pytest_learning_phase.")
"""Where an assignment to ``training`` is not the user's (``torch.compile``'s wrapper passes its
own on to its module; ``.train()`` is tracked by its own wrapper)."""


class ReadTracker:
    """Count forwards of modules whose mode came from the phase, while on (for the audit).

    While on, modules built for the user are marked with the flag they got;
    a wrapper of ``Module.__call__`` counts a call of a marked module whose
    ``training`` is still that flag (through a ``torch.compile`` wrapper, its
    module's), a wrapper of ``Module.train`` unmarks a module whose mode is
    set explicitly (``.train()``, ``.eval()``, and every submodule they
    reach), and one of ``Module.__setattr__`` a module whose ``training`` the
    user's code assigns (even the value it has). A copy (``copy.deepcopy``, a pickle
    round trip) of a marked module is marked too: ``Module.__getstate__``'s
    wrapper adds :data:`COPIED_FROM` to the state, ``__setstate__``'s takes
    it out. These wrappers are there only while on (the audit turns it on
    while a test runs), except ``__setstate__``'s, put in for good when the
    tracker is made (under the audit only), so that a state pickled while on
    never leaves the key on a module loaded later. No hook is registered, so
    ``torch.compile`` and ``torch.fx`` see what they see without the audit.
    """

    def __init__(self, torch_module: ModuleType, switchboard: Switchboard) -> None:
        self._module_class: Any = torch_module.nn.Module
        self._switchboard = switchboard
        is_compiling = torch_module.compiler.is_compiling
        moded = switchboard.moded
        assigned = switchboard.assigned
        sources: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        # What each wrapper calls: whatever was there when tracking turned on.
        self._wrapped: dict[str, Any] = {
            name: getattr(self._module_class, name)
            for name in ("__call__", "train", "__setattr__", "__getstate__", "__setstate__")
        }
        wrapped = self._wrapped

        def flag_of(module: Any) -> bool | None:
            try:
                flag = moded.get(module)
                if flag is None and "_orig_mod" in module._modules:  # torch.compile's wrapper
                    flag = moded.get(module._modules["_orig_mod"])
            except TypeError:
                flag = None
            return flag

        def __call__(module: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_compiling() and moded:  # compiling: dynamo traces nothing of ours
                flag = flag_of(module)
                if flag is not None and module.training is flag:
                    switchboard.reads += 1
            return wrapped["__call__"](module, *args, **kwargs)

        def train(module: Any, mode: bool = True) -> Any:
            with contextlib.suppress(TypeError):
                if moded:
                    moded.pop(module, None)
                assigned.discard(module)
            return wrapped["train"](module, mode)

        def __setattr__(module: Any, name: str, value: Any) -> None:
            if (
                name == "training"
                and moded
                and not is_compiling()
                and not sys._getframe(1).f_globals.get("__name__", "").startswith(_NOT_THE_USER)
            ):
                with contextlib.suppress(TypeError):
                    if moded.pop(module, None) is not None:
                        assigned.add(module)
            wrapped["__setattr__"](module, name, value)

        def __getstate__(module: Any) -> Any:
            state = wrapped["__getstate__"](module)
            if moded and isinstance(state, dict) and flag_of(module) is module.training:
                sources[id(module)] = module
                state = {**state, COPIED_FROM: id(module)}
            return state

        def __setstate__(module: Any, state: Any) -> None:
            source = state.pop(COPIED_FROM, None) if isinstance(state, dict) else None
            wrapped["__setstate__"](module, state)
            original = None if source is None else sources.get(source)
            if original is None or not switchboard.tracking:
                return
            flag = flag_of(original)
            if flag is not None and module.training is flag:
                _mark_moded(switchboard, module, count=False)
                on_copy = switchboard.on_copy
                if on_copy is not None:
                    on_copy(original, module)

        self._wrappers: dict[str, Any] = {
            name: functools.wraps(wrapped[name])(wrapper)
            for name, wrapper in (
                ("__call__", __call__),
                ("train", train),
                ("__setattr__", __setattr__),
                ("__getstate__", __getstate__),
            )
        }
        # Once, for good: dynamo wraps ``Module.__setstate__`` too (on the first
        # ``torch.compile``), around whatever is there.
        self._module_class.__setstate__ = functools.wraps(wrapped["__setstate__"])(__setstate__)

    def turn(self, on: bool) -> None:
        """Turn tracking on (wrappers in, marking on) or off (wrappers out)."""
        module_class = self._module_class
        self._switchboard.tracking = on
        for name, wrapper in self._wrappers.items():
            installed = module_class.__dict__.get(name) is wrapper
            if on and not installed:
                self._wrapped[name] = getattr(module_class, name)
                setattr(module_class, name, wrapper)
            elif not on and installed:
                setattr(module_class, name, self._wrapped[name])


@dataclass(frozen=True)
class ModuleFlags:
    """The ``training`` flag of every module a value held, in the order ``named_modules()`` gives.

    A module's qualified name is built only when its flag is found changed:
    ``parents[i]`` is the position of module ``i``'s parent (``-1`` for a root)
    and ``keys[i]`` its attribute name there (for a root: its container path).
    """

    modules: list[torch.nn.Module]
    flags: list[object]
    parents: list[int]
    keys: list[str]
    containers: list[int]
    """The positions of the modules that had submodules when saved."""
    shapes: list[dict[str, Any]]
    """A copy of each container's ``_modules``, as last seen: its structure."""

    def name(self, index: int) -> str:
        """Return the qualified name of module ``index``: ``[0].encoder.1``, ``<root>``, ..."""
        parts: list[str] = []
        while index >= 0:
            parts.append(self.keys[index])
            index = self.parents[index]
        if not parts[-1]:
            parts.pop()  # a module held directly: its submodules' names are named_modules()'s
        return ".".join(reversed(parts)) or ROOT_NAME


def _save_flags(roots: Iterable[tuple[str, torch.nn.Module]]) -> ModuleFlags | None:
    """Return the flag of every module under ``roots``, each module once; None if none.

    Walks ``_modules`` as ``named_modules()`` does, in the same order, without
    building a name per module (a 1,500-module model takes well under 1 ms).
    """
    seen: set[torch.nn.Module] = set()
    modules: list[torch.nn.Module] = []
    parents: list[int] = []
    keys: list[str] = []

    def visit(module: torch.nn.Module, parent: int, key: str) -> None:
        seen.add(module)
        position = len(modules)
        modules.append(module)
        parents.append(parent)
        keys.append(key)
        for child_key, child in module._modules.items():
            if child is not None and child not in seen:
                visit(child, position, child_key)

    for path, root in roots:
        if root not in seen:
            visit(root, -1, path)
    if not modules:
        return None
    containers = [  # a ScriptModule's submodules are fixed, in a mapping of its own
        index
        for index, module in enumerate(modules)
        if module._modules and isinstance(module._modules, dict)
    ]
    shapes = [dict(modules[index]._modules) for index in containers]
    flags: list[object] = [module.training for module in modules]
    return ModuleFlags(modules, flags, parents, keys, containers, shapes)


def _restore_flags(saved: ModuleFlags, flags: Sequence[object] | None = None) -> list[str]:
    """Put back every saved flag (or ``flags``); return the qualified names of those that changed.

    ``training`` is a plain instance attribute of an ``nn.Module``, written as
    ``Module.__init__`` writes it; a module that keeps it elsewhere (a
    ``ScriptModule`` keeps it in C++) gets it through its ``__setattr__``.
    """
    wanted = saved.flags if flags is None else flags
    current = [module.training for module in saved.modules]
    if all(map(operator.is_, current, wanted)):
        return []  # the common case, at C speed
    changed: list[str] = []
    for index, (module, flag) in enumerate(zip(saved.modules, wanted, strict=True)):
        if current[index] is flag:
            continue
        if "training" in module.__dict__:
            object.__setattr__(module, "training", flag)
        else:
            module.training = flag  # type: ignore[assignment]
        changed.append(saved.name(index))
    return changed


@contextlib.contextmanager
def modules_in_mode(model: torch.nn.Module, training: bool) -> Iterator[torch.nn.Module]:
    """Put ``model`` and every submodule in train or eval mode, for the block only.

    ``model.train(training)`` sets the mode (so a module that overrides
    ``train`` behaves as it does for its users); on exit every submodule's
    ``training`` flag is put back exactly as it was, whatever the block raised.
    """
    saved = _save_flags([("", model)])
    try:
        model.train(training)
        yield model
    finally:
        if saved is not None:
            _restore_flags(saved)


@contextlib.contextmanager
def flags_kept(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Leave every submodule's ``training`` flag as it is; put each one back after the block."""
    saved = _save_flags([("", model)])
    try:
        yield model
    finally:
        if saved is not None:
            _restore_flags(saved)


class TorchAdapter:
    """Save, set, read and restore this thread's phase: the mode new modules start in."""

    name: Final = "torch"
    header_note: Final = "unset = PyTorch's default, train mode"
    audit_hint: Final = (
        "a test that checks one mode on purpose (train-mode behaviour, say) should say so: "
        "@pytest.mark.learning_phase(1) or (0); otherwise the code depends on the mode its "
        "modules start in: call .eval() (inference) or .train() (training) where the model "
        "is used"
    )
    phase_labels: Final = ("eval", "train")
    unset_phase: Final = 1
    """Unset is PyTorch's default, train mode: exactly phase 1 (the audit's shortcut)."""

    def __init__(self, module_class: type, switchboard: Switchboard) -> None:
        """Drive ``switchboard``, the one the ``__init__`` wrapper of ``module_class`` reads."""
        self._module_class = module_class
        self._torch = sys.modules[module_class.__module__.partition(".")[0]]
        self._tracker: ReadTracker | None = None
        self._switchboard = switchboard
        self._thread = switchboard.thread
        tensor = getattr(sys.modules.get("torch"), "Tensor", None)
        self._leaves: tuple[type, ...] = (tensor,) if isinstance(tensor, type) else ()
        """Objects the walk of a fixture's value never looks into (tensors)."""
        self._mode_watches: list[set[int]] = []
        """The ids each running :meth:`watch_mode_calls` noted, innermost last."""
        self._unwatched_train: tuple[Any, Any] | None = None
        """``Module.train`` and its wrapper, while a watch runs."""

    def save_state(self) -> Phase:
        """Return this thread's phase (``None`` when unset): the whole state."""
        return self._thread.phase

    def restore_state(self, state: object) -> None:
        """Put back a phase :meth:`save_state` returned, unset included."""
        if state not in (0, 1, None) or isinstance(state, bool):
            raise TypeError(f"expected a state saved by TorchAdapter, got {state!r}")
        self._thread.phase = state

    def set_phase(self, phase: Phase) -> None:
        """Make this thread's new modules start in eval (0) or train (1) mode, or as by default."""
        if phase is not None and (phase not in (0, 1) or isinstance(phase, bool)):
            raise ValueError(f"expected 0, 1 or None, got {phase!r}")
        self._thread.phase = phase

    def get_phase(self) -> Phase:
        """Return this thread's phase: ``0``, ``1``, or ``None`` when unset."""
        return self._thread.phase

    def phase_read_counter(self) -> Callable[[], int]:
        """Start counting reads of the phase, in all threads; return the count.

        For torch, a read is a forward of a module whose mode came from the
        phase: built for the user while a test ran (the phase set or unset), and
        not set explicitly since (``.train()``, ``.eval()``, an assignment to
        ``training``). Building a module is not a read, nor is running one built
        by a wider fixture or at import. Nothing is installed until the audit
        turns tracking on while a test runs (:meth:`track_reads`).
        """
        switchboard = self._switchboard
        if self._tracker is None:
            self._tracker = ReadTracker(self._torch, switchboard)
        return lambda: switchboard.reads

    def phase_use_counter(self) -> Callable[[], int]:
        """Count reads and module builds: a test that asks for a phase uses it by building."""
        switchboard = self._switchboard
        return lambda: switchboard.reads + switchboard.builds

    def track_reads(self, on: bool) -> None:
        """Track reads from now on (while a test runs), or stop (wider fixtures, between tests)."""
        if self._tracker is not None:
            self._tracker.turn(on)

    def record_provenance(self) -> Recording:
        """Record which modules ran forward, in which mode and why (``_torch_recording``)."""
        from pytest_learning_phase.adapters._torch_recording import record_torch_modules

        return record_torch_modules(sys.modules["torch"], self._switchboard)

    def held_provenance(self, values: Sequence[tuple[str, object]]) -> list[Ran]:
        """Return the modules reading ``training`` that ``values`` hold, with their mode now."""
        from pytest_learning_phase.adapters._torch_recording import held_modules

        return held_modules(values, self._module_class)

    def save_module_flags(self, value: object) -> ModuleFlags | None:
        """Return the ``training`` flag of every module ``value`` holds; None if it holds none.

        ``value`` is walked once (:func:`~pytest_learning_phase.adapters._held.find_held`):
        a module, or modules in containers at any depth, in dataclasses and
        other objects' attributes, within ``WALK_BUDGET`` objects. A module
        reached twice is saved once, under the first (shallowest) name.
        """
        return _save_flags(find_held(value, self._module_class, self._leaves))  # type: ignore[arg-type]

    def module_flags(self, saved: object) -> list[object]:
        """Return the current flags of the modules in ``saved``, in its order."""
        return [module.training for module in _checked(saved).modules]

    def watch_mode_calls(self) -> Callable[[object], bool]:
        """Note the modules ``.train()``/``.eval()`` reach, until the result is first called.

        ``Module.train`` is wrapped only meanwhile (wider fixtures' setups); a
        watch started inside another one notes only what its own span reached.
        The first call of the result stops the watch (``None``: just stop).
        """
        watches = self._mode_watches
        module_class: Any = self._module_class
        if not watches:
            original = module_class.train

            def train(module: Any, mode: bool = True) -> Any:
                if watches:
                    watches[-1].add(id(module))
                return original(module, mode)

            module_class.train = train
            self._unwatched_train = (original, train)
        reached: set[int] = set()
        watches.append(reached)
        stopped: list[bool] = []

        def set_in(saved: object) -> bool:
            if not stopped:
                stopped.append(True)
                with contextlib.suppress(ValueError):
                    watches.remove(reached)
                if not watches and self._unwatched_train is not None:
                    original, train = self._unwatched_train
                    if module_class.__dict__.get("train") is train:
                        module_class.train = original
                    self._unwatched_train = None
            if saved is None:
                return False
            return any(id(module) in reached for module in _checked(saved).modules)

        return set_in

    def restore_module_flags(
        self, saved: object, flags: Sequence[object] | None = None
    ) -> list[str]:
        """Put back the flags :meth:`save_module_flags` returned (or ``flags``); name the changed.

        A name is the submodule's qualified name (``named_modules()``), after
        the path by which the value holds the module (``[0].encoder.1``,
        ``['model'].1``, ``bundle.model.1``); a module held directly is
        ``<root>``. The modules saved are the ones restored, even if the code
        in between moved them. ``flags`` (one per saved module, as
        :meth:`module_flags` gives them) restores another mode of the same modules.

        A snapshot stays valid after a restore, so it can be restored again and
        again: save once when a fixture is set up, restore after each test (a
        restore that finds nothing changed reads the flags and compares them,
        a fraction of the cost of a save).
        """
        return _restore_flags(_checked(saved), flags)

    def structure_changes(self, saved: object) -> list[str]:
        """Name the submodules added, removed or replaced in ``saved``'s models since last asked.

        ``['1 replaced', '6 added']``, names as :meth:`restore_module_flags`
        gives them. The structure is not put back: the modules saved keep
        their flags, a module put in keeps its own mode.
        """
        return _structure_changes(_checked(saved))


_SUBMODULES: Final = operator.attrgetter("_modules")
_ABSENT: Final = object()
"""A submodule's place that is not in a container's ``_modules``."""


def _structure_changes(saved: ModuleFlags) -> list[str]:
    """Name the submodules added, removed or replaced since the structure was last seen.

    Only the modules that had submodules when saved are looked at (a leaf
    given a submodule is not seen). The structure seen becomes the new one.
    """
    modules = saved.modules
    children = list(map(_SUBMODULES, map(modules.__getitem__, saved.containers)))
    if children == saved.shapes:
        return []  # the common case: comparisons of small dicts, at C speed
    changes: list[str] = []
    for position, (index, now, before) in enumerate(
        zip(saved.containers, children, saved.shapes, strict=True)
    ):
        if now == before:
            continue
        parent = saved.name(index)
        for key in [*before, *(key for key in now if key not in before)]:
            old, new = before.get(key, _ABSENT), now.get(key, _ABSENT)
            if old is new:
                continue
            what = "added" if old is _ABSENT else "removed" if new is _ABSENT else "replaced"
            changes.append(f"{key if parent == ROOT_NAME else f'{parent}.{key}'} {what}")
        saved.shapes[position] = dict(now)
    return changes


def _checked(saved: object) -> ModuleFlags:
    """Return ``saved`` if :meth:`TorchAdapter.save_module_flags` made it, else raise TypeError."""
    if not isinstance(saved, ModuleFlags):
        raise TypeError(f"expected flags saved by TorchAdapter, got {saved!r}")
    return saved


def make_torch_adapter() -> TorchAdapter:
    """Import torch, wrap ``Module.__init__`` (once) and return the adapter: the backend's factory.

    :raises pytest.UsageError: if torch is not installed.
    """
    try:
        import torch.nn
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "torch":
            raise
        import pytest  # only here: importing this module stays free of pytest

        raise pytest.UsageError(NOT_INSTALLED_MESSAGE) from error
    return TorchAdapter(torch.nn.Module, install_init_wrapper(torch))
