"""The helpers' arguments and calls: check what a helper was given, call ``fn`` in a phase.

Every argument is checked before ``fn`` is first called, and a bad one is an
error naming the helper. Each call sets the phase through the session's
adapter and puts the backend's whole state back after it; a torch model is put
in the phase's mode for the call, and every submodule's flag is put back (the
flag snapshot is the torch adapter's). Imports neither pytest, numpy nor a
framework at import.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from pytest_learning_phase._compare import Tolerance, short_repr
from pytest_learning_phase._phase import (
    ALLOWED_VALUES,
    InvalidPhaseError,
    Phase,
    describe_phase,
    normalize_phases,
)
from pytest_learning_phase._snapshots import UncomparableResult, snapshot
from pytest_learning_phase.adapters._current import current_adapter

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import torch

    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = [
    "Call",
    "Target",
    "add_note",
    "check_phases",
    "check_tolerance",
    "describe",
    "join",
    "phase_label",
    "start",
    "torch_module_class",
]


def phase_label(phase: Phase) -> str:
    """Return ``'phase 0 (test)'``, ``'phase 1 (train)'`` or ``'phase unset'``."""
    return f"phase {describe_phase(phase)}"


def join(items: list[str]) -> str:
    """Join ``['a', 'b', 'c']`` as ``'a, b and c'``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def check_phases(phases: object, helper: str, minimum: int) -> tuple[Phase, ...]:
    """Return the phases as 0, 1 or None; raise ``ValueError`` naming what is wrong."""
    __tracebackhide__ = True
    prefix = f"{helper}: phases={phases!r}"
    if isinstance(phases, (str, bytes)) or not isinstance(phases, Iterable):
        raise ValueError(f"{prefix}: expected a tuple of phases, e.g. phases=(0, 1)")
    try:
        normalized = normalize_phases(phases)
    except InvalidPhaseError as error:
        raise ValueError(f"{prefix}: {error.args[0]!r} is not a phase; {ALLOWED_VALUES}") from None
    except ValueError as error:  # a repeated phase
        raise ValueError(f"{prefix}: {error}; give each phase once") from None
    if len(normalized) < minimum:
        needed = "one phase" if minimum == 1 else f"{minimum} phases to compare"
        raise ValueError(f"{prefix}: expected at least {needed} (0, 1 or None)")
    return normalized


def _check_tolerance_value(helper: str, name: str, value: object) -> float:
    """Return ``value`` if it is a real number >= 0; raise naming the helper and argument."""
    __tracebackhide__ = True
    message = f"{helper}: {name}={value!r}: expected a finite real number >= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, Real)):
        raise TypeError(message)
    number = float(value)
    if not 0 <= number < math.inf:  # NaN and infinity too
        raise ValueError(message)
    return value if isinstance(value, int) else number  # an int shows as given: atol=0


def check_tolerance(helper: str, rtol: object, atol: object, equal_nan: object) -> Tolerance:
    """Validate the tolerances as ``numpy.testing.assert_allclose`` takes them."""
    __tracebackhide__ = True
    numpy = sys.modules.get("numpy")
    booleans = (bool, numpy.bool_) if numpy is not None else (bool,)
    if not isinstance(equal_nan, booleans):
        raise TypeError(f"{helper}: equal_nan={equal_nan!r}: expected True or False")
    return Tolerance(
        _check_tolerance_value(helper, "rtol", rtol),
        _check_tolerance_value(helper, "atol", atol),
        bool(equal_nan),
    )


class Target(NamedTuple):
    """What the helpers call: ``fn``, its name in messages, and the model if it is one."""

    call: Callable[..., object]
    name: str
    module: torch.nn.Module | None


def describe(value: object) -> str:
    """Name an object in messages: its one-line ``repr``, else ``Class(...)``.

    An object with the default ``repr`` and a ``name`` (a tf_keras layer) is
    ``<Dense name='dense'>``, as the reference layers write themselves.
    """
    text = repr(value)
    name = getattr(value, "name", None)
    if " object at 0x" in text and isinstance(name, str):
        return f"<{type(value).__name__} name={name!r}>"
    return text if "\n" not in text else f"{type(value).__name__}(...)"  # Sequential(...)


def _describe_callable(fn: object) -> str:
    """Name ``fn`` by its ``__qualname__``, else as :func:`describe` does."""
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return describe(fn)


def torch_module_class() -> type | None:
    """Return ``torch.nn.Module`` if torch is imported (a model can exist only then)."""
    module_class = getattr(getattr(sys.modules.get("torch"), "nn", None), "Module", None)
    return module_class if isinstance(module_class, type) else None


def _target(helper: str, fn: object) -> Target:
    """Return what to call for ``fn``; raise ``TypeError`` naming the helper if it is neither."""
    __tracebackhide__ = True
    module_class = torch_module_class()
    if module_class is not None and isinstance(fn, module_class):
        model = cast("torch.nn.Module", fn)
        return Target(model, _describe_callable(model), model)
    if not callable(fn):
        raise TypeError(
            f"{helper}: fn={short_repr(fn)}: expected a callable or a torch.nn.Module, "
            f"e.g. {helper}(model, x)"
        )
    return Target(fn, _describe_callable(fn), None)


def _mode(model: torch.nn.Module | None, phase: Phase) -> AbstractContextManager[object]:
    """Put ``model`` in the phase's mode for a call (1: train, 0: eval, None: as it is)."""
    if model is None:
        return contextlib.nullcontext()
    from pytest_learning_phase.adapters.torch import flags_kept, modules_in_mode

    if phase is None:
        return flags_kept(model)
    return modules_in_mode(model, phase == 1)


def add_note(error: BaseException, note: str) -> None:
    """Add ``note`` under the error's message, as ``BaseException.add_note`` (3.11) does."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pytest shows __notes__ on 3.10 too (through the exceptiongroup backport)
        notes = getattr(error, "__notes__", None)
        # typeshed knows __notes__ from 3.11 only
        setattr(error, "__notes__", [*(notes if isinstance(notes, list) else []), note])  # noqa: B010


@dataclass(frozen=True)
class Call:
    """One helper's call: which helper, what it calls, and the adapter it drives."""

    helper: str
    target: Target
    adapter: LearningPhaseAdapter

    @property
    def backend(self) -> str:
        """``on the reference backend``: how every message names the backend driven."""
        return f"on the {self.adapter.name} backend"

    def in_phase(
        self,
        phase: Phase,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        note: str,
        watched: AbstractContextManager[object] | None = None,
        *,
        keep_result: bool = False,
    ) -> object:
        """Call ``fn`` with ``phase`` set; put the backend's state and the model's flags back.

        Returns a snapshot of the result. An exception from ``fn`` propagates
        with its traceback, and ``note`` (which phase, which helper) under its
        message. ``watched`` is entered around the call too (more modules' modes).
        With ``keep_result``, the result is returned as it is, not snapshotted.

        :raises TypeError: if the result cannot be compared by value.
        """
        __tracebackhide__ = True
        state = self.adapter.save_state()
        try:
            self.adapter.set_phase(phase)
            try:
                with _mode(self.target.module, phase), watched or contextlib.nullcontext():
                    result = self.target.call(*args, **kwargs)
            except Exception as error:
                add_note(error, note)
                raise
            if keep_result:
                return result
            try:
                return snapshot(result)
            except UncomparableResult as uncomparable:
                raise TypeError(
                    f"{self.helper}: {self.target.name} returned {uncomparable.what} at "
                    f"{uncomparable.path} in {phase_label(phase)} {self.backend}, which cannot "
                    f"be compared by value; return {uncomparable.instead} instead"
                ) from None
        finally:
            self.adapter.restore_state(state)

    def in_phases(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], phases: tuple[Phase, ...]
    ) -> dict[Phase, Any]:
        """Call ``fn`` once in each phase, in order; return the snapshots."""
        __tracebackhide__ = True
        results: dict[Phase, Any] = {}
        for phase in phases:  # a loop, not a comprehension: its frame would show (< 3.12)
            note = f"{self.helper}: {self.target.name} raised this in {phase_label(phase)}"
            note += f" {self.backend}"
            if results:
                done = join([phase_label(earlier) for earlier in results])
                note += f", after returning in {done}"
            results[phase] = self.in_phase(phase, args, kwargs, note)
        return results


def start(helper: str, fn: object) -> Call:
    """Check ``fn`` and take the session's adapter: the start of every helper."""
    __tracebackhide__ = True
    return Call(helper, _target(helper, fn), current_adapter())
