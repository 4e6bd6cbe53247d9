"""Harness helpers: call a function in several learning phases and compare the results.

The helpers drive the backend the pytest session chose (``--learning-phase-backend``),
or the reference backend outside pytest. ``fn`` may also be a ``torch.nn.Module``:
each call then puts the model (every submodule) in the phase's mode and puts
every flag back afterwards. Each result is snapshotted as it is returned (arrays
copied, tensors converted to numpy, dicts, lists and tuples rebuilt), so a
function that returns an object it changes in place is compared correctly.
Results are compared leaf by leaf through nested dicts, lists and tuples; numeric
leaves (numpy arrays, array-likes, Python and numpy scalars) as
:func:`numpy.testing.assert_allclose` does, anything else with ``==``. A failure is
an :class:`AssertionError` whose message says where the results differ, and every
helper frame is hidden from pytest's traceback, so it ends in the test that called
the helper.

numpy, torch and TensorFlow are never imported here at import: numpy is imported
by the functions that compare, and tensors are recognised through ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any, Final, NamedTuple, cast

from pytest_learning_phase._phase import (
    ALLOWED_VALUES,
    PHASE_IDS,
    InvalidPhaseError,
    Phase,
    describe_phase,
    normalize_phases,
)
from pytest_learning_phase.adapters._current import current_adapter

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import numpy as np
    import numpy.typing as npt
    import torch

    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = [
    "assert_deterministic_in_inference",
    "assert_phase_dependent",
    "assert_phase_invariant",
    "run_in_phases",
]

_MAX_DIFFERENCE_LINES: Final = 5
_MAX_REPR_LENGTH: Final = 60


class _Tolerance(NamedTuple):
    """How close two numeric leaves must be, as in ``numpy.testing.assert_allclose``."""

    rtol: float
    atol: float
    equal_nan: bool

    def __str__(self) -> str:
        return f"rtol={self.rtol!r}, atol={self.atol!r}"


# -- Arguments ---------------------------------------------------------------------


def _phase_label(phase: Phase) -> str:
    """Return ``'phase 0 (test)'``, ``'phase 1 (train)'`` or ``'phase unset'``."""
    return f"phase {describe_phase(phase)}"


def _join(items: list[str]) -> str:
    """Join ``['a', 'b', 'c']`` as ``'a, b and c'``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _short_repr(value: object) -> str:
    """Return ``repr(value)`` on one line, cut to a readable length."""
    text = re.sub(r"\n\s*", " ", repr(value))
    return text if len(text) <= _MAX_REPR_LENGTH else f"{text[: _MAX_REPR_LENGTH - 3]}..."


def _normalize_phases(phases: object, helper: str, minimum: int) -> tuple[Phase, ...]:
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


def _check_tolerance(helper: str, name: str, value: object) -> float:
    """Return ``value`` if it is a real number >= 0; raise naming the helper and argument."""
    __tracebackhide__ = True
    message = f"{helper}: {name}={value!r}: expected a real number >= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, Real)):
        raise TypeError(message)
    number = float(value)
    if not number >= 0:  # NaN too
        raise ValueError(message)
    return value if isinstance(value, int) else number  # an int shows as given: atol=0


def _tolerance(helper: str, rtol: object, atol: object, equal_nan: object) -> _Tolerance:
    """Validate the tolerances as ``numpy.testing.assert_allclose`` takes them."""
    __tracebackhide__ = True
    numpy = sys.modules.get("numpy")
    booleans = (bool, numpy.bool_) if numpy is not None else (bool,)
    if not isinstance(equal_nan, booleans):
        raise TypeError(f"{helper}: equal_nan={equal_nan!r}: expected True or False")
    return _Tolerance(
        _check_tolerance(helper, "rtol", rtol),
        _check_tolerance(helper, "atol", atol),
        bool(equal_nan),
    )


# -- Calling fn in a phase ---------------------------------------------------------


class _Target(NamedTuple):
    """What the helpers call: ``fn``, its name in messages, and the model if it is one."""

    call: Callable[..., object]
    name: str
    module: torch.nn.Module | None


def _describe_callable(fn: object) -> str:
    """Name ``fn`` by its ``__qualname__``, else its one-line ``repr``, else ``Class(...)``."""
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    text = repr(fn)
    return text if "\n" not in text else f"{type(fn).__name__}(...)"  # Sequential(...)


def _target(helper: str, fn: object) -> _Target:
    """Return what to call for ``fn``; raise ``TypeError`` naming the helper if it is neither."""
    __tracebackhide__ = True
    torch_module = sys.modules.get("torch")  # a model can exist only if torch was imported
    module_class = getattr(getattr(torch_module, "nn", None), "Module", None)
    if isinstance(module_class, type) and isinstance(fn, module_class):
        model = cast("torch.nn.Module", fn)
        return _Target(model, _describe_callable(model), model)
    if not callable(fn):
        raise TypeError(
            f"{helper}: fn={_short_repr(fn)}: expected a callable or a torch.nn.Module, "
            f"e.g. {helper}(model, x)"
        )
    return _Target(fn, _describe_callable(fn), None)


@contextlib.contextmanager
def _flags_kept(model: torch.nn.Module) -> Iterator[None]:
    """Leave every submodule's ``training`` flag as it is, and put it back after the block."""
    saved = [(module, module.training) for module in model.modules()]
    try:
        yield
    finally:
        for module, flag in saved:
            if module.training is not flag:
                module.training = flag


def _mode(model: torch.nn.Module | None, phase: Phase) -> AbstractContextManager[object]:
    """Put ``model`` in the phase's mode for a call (1: train, 0: eval, None: as it is)."""
    if model is None:
        return contextlib.nullcontext()
    if phase is None:
        return _flags_kept(model)
    from pytest_learning_phase.adapters.torch import modules_in_mode

    return modules_in_mode(model, phase == 1)


def _add_note(error: BaseException, note: str) -> None:
    """Add ``note`` under the error's message, as ``BaseException.add_note`` (3.11) does."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:  # pytest shows __notes__ on 3.10 too (through the exceptiongroup backport)
        notes = getattr(error, "__notes__", None)
        # typeshed knows __notes__ from 3.11 only
        setattr(error, "__notes__", [*(notes if isinstance(notes, list) else []), note])  # noqa: B010


def _call_in_phase(
    adapter: LearningPhaseAdapter,
    phase: Phase,
    target: _Target,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    note: str,
) -> object:
    """Call ``fn`` with ``phase`` set; put the backend's state and the model's flags back.

    Returns a snapshot of the result. An exception from ``fn`` propagates with
    its traceback, and ``note`` (which phase, which helper) under its message.
    """
    __tracebackhide__ = True
    state = adapter.save_state()
    try:
        adapter.set_phase(phase)
        try:
            with _mode(target.module, phase):
                result = target.call(*args, **kwargs)
        except Exception as error:
            _add_note(error, note)
            raise
        return _snapshot(result)
    finally:
        adapter.restore_state(state)


def _run(
    helper: str,
    target: _Target,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    phases: tuple[Phase, ...],
) -> dict[Phase, Any]:
    """Call ``fn`` once in each phase, in order; return the snapshots."""
    __tracebackhide__ = True
    adapter = current_adapter()
    results: dict[Phase, Any] = {}
    for phase in phases:  # a loop, not a comprehension: its frame would show (< 3.12)
        note = f"{helper}: {target.name} raised this in {_phase_label(phase)}"
        if results:
            note += f", after returning in {_join([_phase_label(done) for done in results])}"
        results[phase] = _call_in_phase(adapter, phase, target, args, kwargs, note)
    return results


# -- Snapshots ---------------------------------------------------------------------


def _snapshot(value: object) -> object:
    """Return ``value`` as it is now, so that later changes to it do not change the result.

    numpy arrays are copied; torch tensors and TensorFlow tensors and variables
    become numpy arrays (copies); dicts, lists and tuples (subclasses too) are
    rebuilt around snapshots of their items; sets and bytearrays are copied.
    Anything else is kept as it is: a deep copy may be costly, may fail, and
    would make objects compared by identity unequal.
    """
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    tensorflow = sys.modules.get("tensorflow")
    array_types = _types(numpy, "ndarray")
    torch_types = _types(torch, "Tensor")
    tensorflow_types = _types(tensorflow, "Tensor", "Variable")

    def snapshot(item: Any) -> object:
        if isinstance(item, array_types):
            return cast(Any, item).copy()
        if isinstance(item, torch_types):
            return _torch_to_numpy(item, torch)
        if isinstance(item, tensorflow_types):
            return _tensorflow_to_numpy(item)
        if isinstance(item, Mapping):
            return _rebuilt_mapping(item, {key: snapshot(entry) for key, entry in item.items()})
        if isinstance(item, list):
            return _rebuilt_list(item, [snapshot(entry) for entry in item])
        if isinstance(item, tuple):
            return _rebuilt_tuple(item, [snapshot(entry) for entry in item])
        if isinstance(item, (set, bytearray)):
            return item.copy()
        return item

    return snapshot(value)


def _types(module: object, *names: str) -> tuple[type, ...]:
    """Return the classes ``module.<name>`` that exist (none if the module is not loaded)."""
    found = (getattr(module, name, None) for name in names)
    return tuple(cls for cls in found if isinstance(cls, type))


def _torch_to_numpy(tensor: Any, torch: Any) -> object:
    """Return a copy of ``tensor`` as a numpy array (detached, on the CPU).

    numpy has no bfloat16 or float8: those become float32, which holds their values exactly.
    A sparse tensor becomes a dense array.
    """
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()
    if tensor.is_floating_point() and tensor.dtype not in (
        torch.float16,
        torch.float32,
        torch.float64,
    ):
        tensor = tensor.detach().to(torch.float32)
    return tensor.numpy(force=True).copy()


def _tensorflow_to_numpy(value: Any) -> object:
    """Return a copy of an eager TensorFlow tensor or variable as a numpy array.

    ``value.numpy()``, not ``numpy.array(value)``: a variable's ``__array__`` takes
    no ``copy`` keyword, which numpy 2 warns about. A symbolic tensor (inside a
    ``tf.function``) has no value yet and is kept as it is.
    """
    import numpy as np

    if not callable(getattr(value, "numpy", None)):
        return value
    try:
        return np.array(value.numpy())
    except (NotImplementedError, AttributeError, ValueError):  # symbolic: no value yet
        return value


def _rebuilt_mapping(original: Mapping[Any, Any], items: dict[Any, Any]) -> Mapping[Any, Any]:
    """Return ``items`` in ``original``'s type when it is a dict subclass, else a dict."""
    if type(original) is dict or not isinstance(original, dict):
        return items
    import copy

    try:
        rebuilt = copy.copy(original)
        rebuilt.update(items)
    except Exception:  # a subclass that cannot be copied: the items are what is compared
        return items
    return rebuilt


def _rebuilt_list(original: list[Any], items: list[Any]) -> list[Any]:
    """Return ``items`` in ``original``'s type (a list subclass is copied, then filled)."""
    if type(original) is list:
        return items
    import copy

    try:
        rebuilt = copy.copy(original)
        rebuilt[:] = items
    except Exception:
        return items
    return rebuilt


def _rebuilt_tuple(original: tuple[Any, ...], items: list[Any]) -> tuple[Any, ...]:
    """Return ``items`` in ``original``'s type: a tuple, named tuple or struct sequence."""
    cls = type(original)
    if cls is tuple:
        return tuple(items)
    try:
        make = getattr(cls, "_make", None)  # a named tuple
        rebuilt: tuple[Any, ...] = make(items) if callable(make) else cls(items)
    except Exception:
        return tuple(items)
    return rebuilt


# -- run_in_phases --------------------------------------------------------------


def run_in_phases(
    fn: Callable[..., object],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    **kwargs: Any,
) -> dict[Phase, Any]:
    """Call ``fn(*args, **kwargs)`` once per phase; return ``{phase: result}`` in that order.

    Each call runs with the phase set (``None``: unset, as after ``clear_session()``)
    through the session's backend, whose whole state is restored after the call,
    also when ``fn`` raises. ``phases`` takes 0, 1, None or any value
    ``set_learning_phase`` accepts (``True`` is phase 1), each phase once; it is the
    only keyword this helper keeps, every other one goes to ``fn``.

    ``fn`` may be a ``torch.nn.Module``: in phase 1 the model and every submodule
    are in train mode for the call, in phase 0 in eval mode, and in phase unset
    their flags are left as they are; afterwards every flag is as it was, also
    when the call raised.

    Each result is the value as ``fn`` returned it: numpy arrays are copied, torch
    and TensorFlow tensors and variables become numpy arrays, and dicts, lists and
    tuples are rebuilt around copies of their items; any other object is kept
    as it is (not copied). An exception from ``fn`` propagates with a note that
    says in which phase it was raised.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> results = run_in_phases(Dropout(0.5, seed=0), x)
    >>> bool((results[0] == x).all()), bool((results[1] == x).all())
    (True, False)
    """
    __tracebackhide__ = True
    helper = "run_in_phases"
    target = _target(helper, fn)
    normalized = _normalize_phases(phases, helper, minimum=1)
    return _run(helper, target, args, kwargs, normalized)


# -- Comparison --------------------------------------------------------------------


def _is_array_like(value: object) -> bool:
    """Return whether ``value`` is compared numerically: scalars, arrays, tensors."""
    return isinstance(value, (int, float, complex)) or hasattr(value, "__array__")


def _is_numeric(array: npt.NDArray[Any]) -> bool:
    return array.dtype.kind in "biufc"


def _element(array: npt.NDArray[Any], index: tuple[int, ...]) -> str:
    """Format one element: numbers as numpy prints them, anything else as its repr."""
    value = array[index]
    if _is_numeric(array):
        return str(value)
    return _short_repr(value.item() if hasattr(value, "item") else value)


def _mixed_dtype_values(
    reference: npt.NDArray[Any],
    other: npt.NDArray[Any],
    index: tuple[int, ...],
    labels: tuple[str, str],
) -> str:
    """Format two numbers of different dtypes in the dtype both convert to, with their dtypes.

    Each number printed in its own dtype's shortest form would hide the difference:
    float16 0.1 and float64 0.1 both print as ``0.1``; in float64 the first is
    ``0.0999755859375``.
    """
    import numpy as np

    common = np.result_type(reference.dtype, other.dtype)
    first, second = labels
    return (
        f"{common.type(reference[index])} ({first}, {reference.dtype}) vs "
        f"{common.type(other[index])} ({second}, {other.dtype})"
    )


def _format_index(index: tuple[int, ...]) -> str:
    return repr(tuple(int(position) for position in index))


def _compare_arrays(
    reference: npt.NDArray[Any],
    other: npt.NDArray[Any],
    labels: tuple[str, str],
    tolerance: _Tolerance,
) -> str | None:
    """Describe how ``other`` differs from ``reference`` (same shape), or return None."""
    import numpy as np

    first, second = labels
    numeric = _is_numeric(reference), _is_numeric(other)
    if numeric[0] != numeric[1]:
        return f"dtype {reference.dtype} ({first}) vs {other.dtype} ({second})"
    if numeric[0]:
        mismatch: npt.NDArray[np.bool_] = ~np.isclose(
            other,
            reference,
            rtol=tolerance.rtol,
            atol=tolerance.atol,
            equal_nan=tolerance.equal_nan,
        )
    else:
        unequal = np.asarray(reference != other, dtype=bool)  # 0-d if not comparable
        mismatch = np.broadcast_to(unequal, reference.shape)
    count = int(np.count_nonzero(mismatch))
    if count == 0:
        return None
    if not numeric[0]:
        flat_index = int(np.flatnonzero(mismatch)[0])
        index = tuple(int(i) for i in np.unravel_index(flat_index, reference.shape))
        values = f"{_element(reference, index)} ({first}) vs {_element(other, index)} ({second})"
        if reference.ndim == 0:
            return values
        return (
            f"{count} of {reference.size} elements differ, first at index "
            f"{_format_index(index)}: {values}"
        )
    dtype = np.result_type(reference, other, 1.0)
    with np.errstate(all="ignore"):
        difference = np.abs(reference.astype(dtype) - other.astype(dtype))
    # The largest difference among the mismatches; NaN (NaN vs a number) ranks first.
    ranking = np.where(mismatch, np.where(np.isnan(difference), np.inf, difference), -1.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ranking)), reference.shape))
    largest = f"{float(difference[index]):.6g}"
    if reference.dtype == other.dtype:
        values = f"{_element(reference, index)} ({first}) vs {_element(other, index)} ({second})"
    else:
        values = _mixed_dtype_values(reference, other, index, labels)
    if reference.ndim == 0:
        return f"{values}, abs difference {largest} ({tolerance})"
    return (
        f"max abs difference {largest} at index {_format_index(index)}: {values}; "
        f"{count} of {reference.size} elements differ ({tolerance})"
    )


def _compare_leaves(
    reference: object, other: object, labels: tuple[str, str], tolerance: _Tolerance
) -> str | None:
    """Describe how two non-container values differ, or return None when they match."""
    import numpy as np

    first, second = labels
    if _is_array_like(reference) and _is_array_like(other):
        reference_array, other_array = np.asarray(reference), np.asarray(other)
        if reference_array.shape != other_array.shape:
            return f"shape {reference_array.shape} ({first}) vs {other_array.shape} ({second})"
        return _compare_arrays(reference_array, other_array, labels, tolerance)
    try:
        equal = bool(reference == other)
    except (TypeError, ValueError):  # == gave something with no truth value
        equal = False
    if equal:
        return None
    return f"{_short_repr(reference)} ({first}) vs {_short_repr(other)} ({second})"


def _kind(value: object) -> str | None:
    """Return the container kind walked in parallel (``dict``, ``list``, ``tuple``), or None."""
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, list):
        return "list"
    if isinstance(value, tuple):
        return "tuple"
    return None


def _differences(
    reference: object,
    other: object,
    path: str,
    labels: tuple[str, str],
    tolerance: _Tolerance,
) -> list[str]:
    """Walk two results in parallel; return one ``at <path>: ...`` line per difference."""
    first, second = labels
    kinds = _kind(reference), _kind(other)
    if kinds[0] != kinds[1]:
        return [
            f"at {path}: {type(reference).__name__} ({first}) vs {type(other).__name__} ({second})"
        ]
    if isinstance(reference, Mapping) and isinstance(other, Mapping):
        if set(reference) != set(other):
            return [f"at {path}: keys {list(reference)} ({first}) vs {list(other)} ({second})"]
        lines: list[str] = []
        for key in reference:
            lines += _differences(reference[key], other[key], f"{path}[{key!r}]", labels, tolerance)
        return lines
    if isinstance(reference, (list, tuple)) and isinstance(other, (list, tuple)):
        if len(reference) != len(other):
            return [f"at {path}: length {len(reference)} ({first}) vs {len(other)} ({second})"]
        lines = []
        for position, (left, right) in enumerate(zip(reference, other, strict=True)):
            lines += _differences(left, right, f"{path}[{position}]", labels, tolerance)
        return lines
    difference = _compare_leaves(reference, other, labels, tolerance)
    return [] if difference is None else [f"at {path}: {difference}"]


def _format_differences(lines: list[str]) -> str:
    """Indent the difference lines, keeping the first few."""
    shown = [f"  {line}" for line in lines[:_MAX_DIFFERENCE_LINES]]
    if len(lines) > _MAX_DIFFERENCE_LINES:
        hidden = len(lines) - _MAX_DIFFERENCE_LINES
        shown.append(f"  ... and {hidden} more difference{'s' if hidden > 1 else ''}")
    return "\n".join(shown)


# -- Assertions --------------------------------------------------------------------


def _compared(
    helper: str,
    fn: Callable[..., object],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    phases: Iterable[object],
    tolerances: tuple[object, object, object],
) -> tuple[_Target, dict[Phase, Any], _Tolerance]:
    """Validate every argument of a comparing helper, then call ``fn`` in each phase."""
    __tracebackhide__ = True
    target = _target(helper, fn)
    normalized = _normalize_phases(phases, helper, minimum=2)
    tolerance = _tolerance(helper, *tolerances)
    return target, _run(helper, target, args, kwargs, normalized), tolerance


def _differences_from_the_first(
    results: dict[Phase, Any], tolerance: _Tolerance
) -> Iterator[tuple[Phase, Phase, list[str]]]:
    """Yield (first phase, other phase, difference lines) for each phase after the first."""
    reference_phase, *other_phases = results
    for phase in other_phases:
        labels = PHASE_IDS[reference_phase], PHASE_IDS[phase]
        yield (
            reference_phase,
            phase,
            _differences(results[reference_phase], results[phase], "result", labels, tolerance),
        )


def assert_phase_invariant(
    fn: Callable[..., object],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> dict[Phase, Any]:
    """Assert that ``fn(*args, **kwargs)`` gives the same result in every phase.

    Calls ``fn`` (a callable or a ``torch.nn.Module``) as :func:`run_in_phases`
    does and compares each phase's result with the first phase's (the ``desired``
    of ``numpy.testing.assert_allclose``). ``phases`` (at least two), ``rtol``,
    ``atol`` (real numbers >= 0) and ``equal_nan`` are the helper's; every other
    keyword goes to ``fn``. Returns ``{phase: result}``.

    For example (``training=False`` goes to the layer, which then ignores the phase):

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> _ = assert_phase_invariant(Dropout(0.5), x, training=False)
    """
    __tracebackhide__ = True
    helper = "assert_phase_invariant"
    target, results, tolerance = _compared(
        helper, fn, args, kwargs, phases, (rtol, atol, equal_nan)
    )
    for reference_phase, phase, lines in _differences_from_the_first(results, tolerance):
        if lines:
            raise AssertionError(
                f"{helper}: {target.name} gave different results in "
                f"{_phase_label(reference_phase)} and {_phase_label(phase)}\n"
                f"{_format_differences(lines)}"
            )
    return results


def assert_phase_dependent(
    fn: Callable[..., object],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> dict[Phase, Any]:
    """Assert that ``fn(*args, **kwargs)`` does not give the same result in every phase.

    The opposite of :func:`assert_phase_invariant`: it fails when every phase's
    result matches the first phase's within the tolerances. ``fn`` is a callable
    or a ``torch.nn.Module``; ``phases`` (at least two), ``rtol``, ``atol`` and
    ``equal_nan`` are the helper's; every other keyword goes to ``fn``. Returns
    ``{phase: result}``.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> results = assert_phase_dependent(Dropout(0.5, seed=0), np.ones((4, 4), "float32"))
    >>> sorted(results)
    [0, 1]
    """
    __tracebackhide__ = True
    helper = "assert_phase_dependent"
    target, results, tolerance = _compared(
        helper, fn, args, kwargs, phases, (rtol, atol, equal_nan)
    )
    for _, _, lines in _differences_from_the_first(results, tolerance):
        if lines:
            return results
    raise AssertionError(
        f"{helper}: {target.name} gave the same result in "
        f"{_join([_phase_label(phase) for phase in results])} ({tolerance})"
    )


def assert_deterministic_in_inference(
    fn: Callable[..., object],
    *args: Any,
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> Any:
    """Assert that two calls of ``fn(*args, **kwargs)`` in phase 0 (test) give equal results.

    Catches noise or state updates that leak into inference. ``fn`` is a callable
    or a ``torch.nn.Module`` (in eval mode for both calls). ``rtol``, ``atol`` and
    ``equal_nan`` are the helper's (as in ``numpy.testing.assert_allclose``, the
    first call's result being the desired one); every other keyword goes to ``fn``.
    Returns the first call's result, snapshotted as :func:`run_in_phases` does.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import GaussianNoise
    >>> _ = assert_deterministic_in_inference(GaussianNoise(0.1), np.ones((4, 4), "float32"))
    """
    __tracebackhide__ = True
    helper = "assert_deterministic_in_inference"
    target = _target(helper, fn)
    tolerance = _tolerance(helper, rtol, atol, equal_nan)
    adapter = current_adapter()
    in_test = _phase_label(0)
    first = _call_in_phase(
        adapter,
        0,
        target,
        args,
        kwargs,
        f"{helper}: {target.name} raised this in the first call in {in_test}",
    )
    second = _call_in_phase(
        adapter,
        0,
        target,
        args,
        kwargs,
        f"{helper}: {target.name} raised this in the second call in {in_test}, "
        "after returning in the first",
    )
    lines = _differences(first, second, "result", ("first call", "second call"), tolerance)
    if lines:
        raise AssertionError(
            f"{helper}: {target.name} gave different results in two calls in "
            f"{in_test}\n{_format_differences(lines)}"
        )
    return first
