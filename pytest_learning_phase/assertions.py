"""Harness helpers: call a function in several learning phases and compare the results.

The helpers drive the backend the pytest session chose (``--learning-phase-backend``),
or the reference backend outside pytest. Results are compared leaf by leaf through
nested dicts, lists and tuples; numeric leaves (numpy arrays, array-likes such as
tensors, Python and numpy scalars) as :func:`numpy.testing.assert_allclose` does,
anything else with ``==``. A failure is an :class:`AssertionError` whose message
says where the results differ, and every helper frame is hidden from pytest's
traceback, so it ends in the test that called the helper.

numpy is imported inside the functions that compare, never at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

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
    import numpy as np
    import numpy.typing as npt

    from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = [
    "assert_deterministic_in_inference",
    "assert_phase_dependent",
    "assert_phase_invariant",
    "run_in_phases",
]

_T = TypeVar("_T")

_MAX_DIFFERENCE_LINES: Final = 5
_MAX_REPR_LENGTH: Final = 60


class _Tolerance(NamedTuple):
    """How close two numeric leaves must be, as in ``numpy.testing.assert_allclose``."""

    rtol: float
    atol: float
    equal_nan: bool

    def __str__(self) -> str:
        return f"rtol={self.rtol!r}, atol={self.atol!r}"


# -- Phases ------------------------------------------------------------------------


def _phase_label(phase: Phase) -> str:
    """Return ``'phase 0 (test)'``, ``'phase 1 (train)'`` or ``'phase unset'``."""
    return f"phase {describe_phase(phase)}"


def _join(items: list[str]) -> str:
    """Join ``['a', 'b', 'c']`` as ``'a, b and c'``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _normalize_phases(phases: object, helper: str, minimum: int) -> tuple[Phase, ...]:
    """Return the phases as 0, 1 or None; raise ``ValueError`` naming what is wrong."""
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


def _describe_callable(fn: object) -> str:
    """Name ``fn`` by its ``__qualname__``, or its ``repr`` (partials, callable objects)."""
    qualname = getattr(fn, "__qualname__", None)
    return qualname if isinstance(qualname, str) else repr(fn)


def _call_in_phase(
    adapter: LearningPhaseAdapter,
    phase: Phase,
    fn: Callable[..., _T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> _T:
    """Call ``fn`` with ``phase`` set; put the backend's whole state back afterwards."""
    __tracebackhide__ = True
    state = adapter.save_state()
    try:
        adapter.set_phase(phase)
        return fn(*args, **kwargs)
    finally:
        adapter.restore_state(state)


def _run(
    helper: str,
    fn: Callable[..., _T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    phases: object,
    minimum: int,
) -> dict[Phase, _T]:
    """Validate ``phases``, then call ``fn`` once in each, in order."""
    __tracebackhide__ = True
    normalized = _normalize_phases(phases, helper, minimum)
    adapter = current_adapter()
    results: dict[Phase, _T] = {}
    for phase in normalized:  # a loop, not a comprehension: its frame would show (< 3.12)
        results[phase] = _call_in_phase(adapter, phase, fn, args, kwargs)
    return results


def run_in_phases(
    fn: Callable[..., _T],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    **kwargs: Any,
) -> dict[Phase, _T]:
    """Call ``fn(*args, **kwargs)`` once per phase; return ``{phase: result}`` in that order.

    Each call runs with the phase set (``None``: unset, as after ``clear_session()``)
    through the session's backend, whose whole state is restored after the call,
    also when ``fn`` raises. ``phases`` takes 0, 1, None or any value
    ``set_learning_phase`` accepts (``True`` is phase 1), each phase once; it is the
    only keyword this helper keeps, every other one goes to ``fn``.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> results = run_in_phases(Dropout(0.5, seed=0), x)
    >>> bool((results[0] == x).all()), bool((results[1] == x).all())
    (True, False)
    """
    __tracebackhide__ = True
    return _run("run_in_phases", fn, args, kwargs, phases, minimum=1)


# -- Comparison --------------------------------------------------------------------


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR_LENGTH else f"{text[: _MAX_REPR_LENGTH - 3]}..."


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
    values = f"{_element(reference, index)} ({first}) vs {_element(other, index)} ({second})"
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
        shown.append(f"  ... and {len(lines) - _MAX_DIFFERENCE_LINES} more differences")
    return "\n".join(shown)


# -- Assertions --------------------------------------------------------------------


def assert_phase_invariant(
    fn: Callable[..., _T],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> dict[Phase, _T]:
    """Assert that ``fn(*args, **kwargs)`` gives the same result in every phase.

    Calls ``fn`` as :func:`run_in_phases` does and compares each phase's result with
    the first phase's (the ``desired`` of ``numpy.testing.assert_allclose``).
    ``phases`` (at least two), ``rtol``, ``atol`` and ``equal_nan`` are the helper's;
    every other keyword goes to ``fn``. Returns ``{phase: result}``.

    For example (``training=False`` goes to the layer, which then ignores the phase):

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> _ = assert_phase_invariant(Dropout(0.5), x, training=False)
    """
    __tracebackhide__ = True
    helper = "assert_phase_invariant"
    results = _run(helper, fn, args, kwargs, phases, minimum=2)
    tolerance = _Tolerance(rtol, atol, equal_nan)
    reference_phase, *other_phases = results
    for phase in other_phases:
        labels = PHASE_IDS[reference_phase], PHASE_IDS[phase]
        lines = _differences(results[reference_phase], results[phase], "result", labels, tolerance)
        if lines:
            raise AssertionError(
                f"{helper}: {_describe_callable(fn)} gave different results in "
                f"{_phase_label(reference_phase)} and {_phase_label(phase)}\n"
                f"{_format_differences(lines)}"
            )
    return results


def assert_phase_dependent(
    fn: Callable[..., _T],
    *args: Any,
    phases: Iterable[object] = (0, 1),
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> dict[Phase, _T]:
    """Assert that ``fn(*args, **kwargs)`` does not give the same result in every phase.

    The opposite of :func:`assert_phase_invariant`: it fails when every phase's
    result matches the first phase's within the tolerances. ``phases`` (at least
    two), ``rtol``, ``atol`` and ``equal_nan`` are the helper's; every other keyword
    goes to ``fn``. Returns ``{phase: result}``.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> results = assert_phase_dependent(Dropout(0.5, seed=0), np.ones((4, 4), "float32"))
    >>> sorted(results)
    [0, 1]
    """
    __tracebackhide__ = True
    helper = "assert_phase_dependent"
    results = _run(helper, fn, args, kwargs, phases, minimum=2)
    tolerance = _Tolerance(rtol, atol, equal_nan)
    reference_phase, *other_phases = results
    for phase in other_phases:
        labels = PHASE_IDS[reference_phase], PHASE_IDS[phase]
        if _differences(results[reference_phase], results[phase], "result", labels, tolerance):
            return results
    raise AssertionError(
        f"{helper}: {_describe_callable(fn)} gave the same result in "
        f"{_join([_phase_label(phase) for phase in results])} ({tolerance})"
    )


def assert_deterministic_in_inference(
    fn: Callable[..., _T],
    *args: Any,
    rtol: float = 1e-7,
    atol: float = 0,
    equal_nan: bool = True,
    **kwargs: Any,
) -> _T:
    """Assert that two calls of ``fn(*args, **kwargs)`` in phase 0 (test) give equal results.

    Catches noise or state updates that leak into inference. ``rtol``, ``atol`` and
    ``equal_nan`` are the helper's (as in ``numpy.testing.assert_allclose``, the
    first call's result being the desired one); every other keyword goes to ``fn``.
    Returns the first call's result.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import GaussianNoise
    >>> _ = assert_deterministic_in_inference(GaussianNoise(0.1), np.ones((4, 4), "float32"))
    """
    __tracebackhide__ = True
    helper = "assert_deterministic_in_inference"
    adapter = current_adapter()
    first = _call_in_phase(adapter, 0, fn, args, kwargs)
    second = _call_in_phase(adapter, 0, fn, args, kwargs)
    tolerance = _Tolerance(rtol, atol, equal_nan)
    lines = _differences(first, second, "result", ("first call", "second call"), tolerance)
    if lines:
        raise AssertionError(
            f"{helper}: {_describe_callable(fn)} gave different results in two calls in "
            f"{_phase_label(0)}\n{_format_differences(lines)}"
        )
    return first
