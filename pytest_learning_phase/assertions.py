"""Harness helpers: call a function in several learning phases and compare the results.

The helpers drive the backend the pytest session chose (``--learning-phase-backend``),
or the reference backend outside pytest, and every failure names it. Under
``auto``, a helper called while pytest collects (at a test module's top level,
in ``parametrize`` arguments) drives the first framework imported so far
(tf_keras before torch), else the reference backend. ``fn`` may
also be a ``torch.nn.Module``: each call then puts the model (every submodule)
in the phase's mode and puts every flag back afterwards. Each result is
snapshotted as it is returned (:mod:`pytest_learning_phase._snapshots`) and
compared by value (:mod:`pytest_learning_phase._compare`). A failure is an
:class:`AssertionError` whose message says where the results differ, and every
helper frame is hidden from pytest's traceback, so it ends in the test that
called the helper.

numpy, torch and TensorFlow are never imported here at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pytest_learning_phase._compare import (
    EXACT,
    Tolerance,
    UncomparableValues,
    compare_arrays,
    differences,
    format_differences,
)
from pytest_learning_phase._helper_calls import (
    Call,
    check_phases,
    check_tolerance,
    join,
    phase_label,
    start,
)
from pytest_learning_phase._phase import PHASE_IDS, Phase
from pytest_learning_phase._snapshots import RETURN_FLATTER, UncomparableResult
from pytest_learning_phase._watched_state import (
    eval_mode,
    is_unbuilt,
    missing_state,
    read_state,
    watched_objects,
)

__all__ = [
    "assert_deterministic_in_inference",
    "assert_no_state_update_in_inference",
    "assert_phase_dependent",
    "assert_phase_invariant",
    "run_in_phases",
]

RETURN_VALUES = "numbers, arrays, tensors, or dicts, lists and tuples of them"
"""What to return instead of a result whose ``==`` raised."""


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
    also when ``fn`` raises. Under ``auto``, while pytest collects (at a test
    module's top level, in ``parametrize`` arguments), that is the first
    framework imported so far (tf_keras before torch), else the reference backend.
    ``phases`` takes 0, 1, None or any value ``set_learning_phase`` accepts
    (``True`` is phase 1), each phase once; it is the only keyword this helper
    keeps, every other one goes to ``fn``.

    ``fn`` may be a ``torch.nn.Module``: in phase 1 the model and every submodule
    are in train mode for the call, in phase 0 in eval mode, and in phase unset
    their flags are left as they are; afterwards every flag is as it was, also
    when the call raised.

    Each result is the value as ``fn`` returned it: numpy arrays are copied, torch
    and TensorFlow tensors and variables become numpy arrays (ragged ones object
    arrays of their rows), and dicts, lists and tuples are rebuilt around copies
    of their items; any other object is kept as it is (not copied). An exception
    from ``fn`` propagates with a note that says in which phase it was raised. A
    result with no value to compare (a generator, a ``meta`` tensor) is a
    ``TypeError`` that says what to return instead.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> results = run_in_phases(Dropout(0.5, seed=0), x)
    >>> bool((results[0] == x).all()), bool((results[1] == x).all())
    (True, False)
    """
    __tracebackhide__ = True
    call = start("run_in_phases", fn)
    normalized = check_phases(phases, call.helper, minimum=1)
    return call.in_phases(args, kwargs, normalized)


# -- Assertions --------------------------------------------------------------------


def _compared(
    helper: str,
    fn: Callable[..., object],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    phases: Iterable[object],
    tolerances: tuple[object, object, object],
) -> tuple[Call, dict[Phase, Any], Tolerance]:
    """Validate every argument of a comparing helper, then call ``fn`` in each phase."""
    __tracebackhide__ = True
    call = start(helper, fn)
    normalized = check_phases(phases, helper, minimum=2)
    tolerance = check_tolerance(helper, *tolerances)
    return call, call.in_phases(args, kwargs, normalized), tolerance


def _differences(
    call: Call,
    reference: object,
    other: object,
    labels: tuple[str, str],
    where: str,
    tolerance: Tolerance,
) -> list[str]:
    """Compare two snapshots; an ``==`` that raised is a ``TypeError`` naming the helper."""
    __tracebackhide__ = True
    try:
        return differences(reference, other, "result", labels, tolerance)
    except RecursionError:
        raise TypeError(
            f"{call.helper}: {call.target.name} returned results in {where} {call.backend} "
            "nested deeper than Python's recursion limit, which cannot be compared by value; "
            f"return {RETURN_FLATTER} instead"
        ) from None
    except UncomparableValues as uncomparable:
        error = uncomparable.error
        raise TypeError(
            f"{call.helper}: {call.target.name} returned results at {uncomparable.path} in "
            f"{where} {call.backend} that cannot be compared by value: == raised "
            f"{type(error).__name__}: {error}; return {RETURN_VALUES} instead"
        ) from None


def _differences_from_the_first(
    call: Call, results: dict[Phase, Any], tolerance: Tolerance
) -> Iterator[tuple[Phase, Phase, list[str]]]:
    """Yield (first phase, other phase, difference lines) for each phase after the first."""
    __tracebackhide__ = True
    reference_phase, *other_phases = results
    for phase in other_phases:
        labels = PHASE_IDS[reference_phase], PHASE_IDS[phase]
        where = f"{phase_label(reference_phase)} and {phase_label(phase)}"
        lines = _differences(
            call, results[reference_phase], results[phase], labels, where, tolerance
        )
        yield reference_phase, phase, lines


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
    ``atol`` (finite real numbers >= 0) and ``equal_nan`` are the helper's; every other
    keyword goes to ``fn``. Returns ``{phase: result}``.

    For example (``training=False`` goes to the layer, which then ignores the phase):

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import Dropout
    >>> x = np.ones((4, 4), "float32")
    >>> _ = assert_phase_invariant(Dropout(0.5), x, training=False)
    """
    __tracebackhide__ = True
    helper = "assert_phase_invariant"
    call, results, tolerance = _compared(helper, fn, args, kwargs, phases, (rtol, atol, equal_nan))
    for reference_phase, phase, lines in _differences_from_the_first(call, results, tolerance):
        if lines:
            raise AssertionError(
                f"{helper}: {call.target.name} gave different results in "
                f"{phase_label(reference_phase)} and {phase_label(phase)} {call.backend}\n"
                f"{format_differences(lines)}"
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
    call, results, tolerance = _compared(helper, fn, args, kwargs, phases, (rtol, atol, equal_nan))
    for _, _, lines in _differences_from_the_first(call, results, tolerance):
        if lines:
            return results
    raise AssertionError(
        f"{helper}: {call.target.name} gave the same result in "
        f"{join([phase_label(phase) for phase in results])} {call.backend} ({tolerance})"
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
    call = start(helper, fn)
    tolerance = check_tolerance(helper, rtol, atol, equal_nan)
    in_test = phase_label(0)
    name = call.target.name
    first = call.in_phase(
        0,
        args,
        kwargs,
        f"{helper}: {name} raised this in the first call in {in_test} {call.backend}",
    )
    second = call.in_phase(
        0,
        args,
        kwargs,
        f"{helper}: {name} raised this in the second call in {in_test} {call.backend}, "
        "after returning in the first",
    )
    labels = ("first call", "second call")
    lines = _differences(call, first, second, labels, f"two calls in {in_test}", tolerance)
    if lines:
        raise AssertionError(
            f"{helper}: {name} gave different results in two calls in {in_test} "
            f"{call.backend}\n{format_differences(lines)}"
        )
    return first


def assert_no_state_update_in_inference(
    fn: Callable[..., object], *args: Any, state: object = None, **kwargs: Any
) -> Any:
    """Assert that ``fn(*args, **kwargs)`` in phase 0 (test) leaves the non-trainable state alone.

    Catches an inference path that updates ``BatchNormalization``'s moving
    statistics: a ``training=True`` buried in a custom layer, a torch model
    left in train mode, a layer called with the phase set to 1. ``state`` is
    what to watch: a layer, a model, a ``torch.nn.Module`` or a list of them
    (default: ``fn`` itself, when it is one). Watched are the torch modules'
    buffers (``running_mean``, ``running_var``, ``num_batches_tracked``), the
    tf_keras layers' non-trainable weights, and the reference layers' moving
    statistics. ``fn`` is called once, in phase 0; the watched torch modules
    (and ``fn``, if it is one) are in eval mode for the call, and every flag is
    put back after it. Every other keyword goes to ``fn``. Returns ``fn``'s
    result, as it returned it.

    The failure names each variable or buffer that changed, by its path, and
    its largest change. A watched object with no non-trainable state (or not
    built yet) is a ``ValueError``: there would be nothing to check.

    For example:

    >>> import numpy as np
    >>> from pytest_learning_phase.layers import BatchNormalization
    >>> norm = BatchNormalization()
    >>> _ = norm(np.ones((4, 3), "float32"), training=False)  # builds it
    >>> _ = assert_no_state_update_in_inference(norm, np.ones((4, 3), "float32"))
    """
    __tracebackhide__ = True
    helper = "assert_no_state_update_in_inference"
    call = start(helper, fn)
    watched = watched_objects(helper, state, fn, call.target.name)
    before: dict[str, Any] = {}
    for item in watched:
        try:
            found = _read(call, item, "before the call")
        except ValueError:  # tf_keras's own, from a model not built yet
            if not is_unbuilt(item.value):
                raise
            found = {}
        if not found and is_unbuilt(item.value):
            problem = "is not built yet, so it has no weights to watch: build it first"
            raise ValueError(f"{helper}: {item.argument} {problem} (or call it once)")
        if not found:
            raise ValueError(
                f"{helper}: {item.argument} has no non-trainable state ({missing_state(item)}): "
                "nothing to watch; watch the layer or model whose statistics inference must "
                "not update"
            )
        before.update(found)
    in_test = phase_label(0)
    note = f"{helper}: {call.target.name} raised this in {in_test} {call.backend}"
    result = call.in_phase(0, args, kwargs, note, eval_mode(watched), keep_result=True)
    after: dict[str, Any] = {}
    for item in watched:
        after.update(_read(call, item, "after the call"))
    lines = _state_changes(before, after)
    if lines:
        changed = "\n".join(f"  {line}" for line in lines)
        raise AssertionError(
            f"{helper}: {call.target.name} updated non-trainable state in {in_test} "
            f"{call.backend}\n{changed}"
        )
    return result


def _read(call: Call, item: Any, when: str) -> dict[str, Any]:
    """Read one watched object's state; a buffer with no values is a ``ValueError``."""
    __tracebackhide__ = True
    try:
        return read_state(item)
    except UncomparableResult as uncomparable:
        raise ValueError(
            f"{call.helper}: {item.argument} holds {uncomparable.what} at "
            f"{item.prefix}{uncomparable.path} {when}: nothing to compare; give it values "
            "first (model.to_empty(device=...))"
        ) from None


def _state_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Return one ``at <path>: ...`` line per variable or buffer that changed, in order."""
    lines: list[str] = []
    for path, old in before.items():
        if path not in after:
            lines.append(f"at {path}: gone after the call")
            continue
        new = after[path]
        if old.shape != new.shape:
            lines.append(f"at {path}: shape {old.shape} (before) vs {new.shape} (after)")
            continue
        difference = compare_arrays(old, new, ("before", "after"), EXACT)
        if difference is not None:
            lines.append(f"at {path}: {difference}")
    lines += [f"at {path}: created by the call" for path in after if path not in before]
    return lines
