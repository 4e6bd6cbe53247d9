"""The harness helpers: run_in_phases and the assert_phase_* / deterministic assertions."""

from __future__ import annotations

import contextlib
import functools
import re
import subprocess
import sys
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pytest

from pytest_learning_phase import backend
from pytest_learning_phase.adapters import Phase
from pytest_learning_phase.adapters._current import set_current_adapter
from pytest_learning_phase.adapters.reference import ReferenceAdapter
from pytest_learning_phase.assertions import (
    assert_deterministic_in_inference,
    assert_phase_dependent,
    assert_phase_invariant,
    run_in_phases,
)
from tests._frameworks import require_tf_keras, require_torch

ALLOWED = "expected 0, 1 or None (a value set_learning_phase accepts, or None for unset)"
TOLERANCE = "(rtol=1e-07, atol=0)"
REFERENCE = "reference"
TF_KERAS = "tf_keras"
INVARIANT_HEAD = (
    "assert_phase_invariant: {name} gave different results in phase 0 (test) and phase 1 (train) "
    "on the {backend} backend"
)
HELPERS = [
    run_in_phases,
    assert_phase_invariant,
    assert_phase_dependent,
    assert_deterministic_in_inference,
]
HELPERS_WITH_TOLERANCES = HELPERS[1:]


@pytest.fixture(autouse=True)
def reference_backend() -> Iterator[None]:
    """Make the helpers drive the reference backend, whatever the session chose."""
    previous = set_current_adapter(ReferenceAdapter())
    yield
    set_current_adapter(previous)


@contextmanager
def starting_phase(value: object) -> Iterator[None]:
    """Store ``value`` exactly as given (None: unset) for the block, then put things back."""
    adapter = ReferenceAdapter()
    state = adapter.save_state()
    try:
        if value is None:
            adapter.set_phase(None)
        else:
            backend.deprecated_internal_set_learning_phase(value)
        yield
    finally:
        adapter.restore_state(state)


def notes(error: BaseException) -> object:
    """Return the notes added under an exception's message (``add_note``), or None."""
    return getattr(error, "__notes__", None)


def observed_state() -> tuple[object, type, bool]:
    """Return what a user reads from the backend: the phase, its exact type, and the flag."""
    phase = backend.learning_phase()
    return phase, type(phase), backend.global_learning_phase_is_set()


# -- Functions under test: small numpy functions that read the phase. --


def phase_and_flag() -> tuple[object, bool]:
    return backend.learning_phase(), backend.global_learning_phase_is_set()


def identity(x: Any) -> Any:
    return x


def halve_in_training(x: Any) -> Any:
    return x * (0.5 if backend.learning_phase() else 1.0)


def drop_every_other_in_training(x: Any) -> Any:
    if not backend.learning_phase():
        return x
    dropped = x.copy()
    dropped[..., ::2] = 0.0
    return dropped


def fail_in_training() -> str:
    if backend.learning_phase():
        raise RuntimeError("boom in training")
    return "fine in test"


def set_phase_to_train() -> None:
    backend.deprecated_internal_set_learning_phase(1)


def results_by_phase(test_result: object, train_result: object) -> Any:
    """Return a function of no argument giving ``test_result`` at phase 0, else ``train_result``."""

    def by_phase() -> object:
        return train_result if backend.learning_phase() else test_result

    return by_phase


def numpy_accepts(actual: Any, desired: Any, **tolerances: Any) -> bool:
    """Return whether ``numpy.testing.assert_allclose`` accepts ``actual`` for ``desired``."""
    try:
        np.testing.assert_allclose(actual, desired, **tolerances)
    except AssertionError:
        return False
    return True


class Scale:
    """A callable object, named by its repr in messages."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, x: Any) -> Any:
        return x * (self.factor if backend.learning_phase() else 1.0)

    def apply(self, x: Any) -> Any:
        return self(x)

    def __repr__(self) -> str:
        return f"Scale({self.factor})"


class MovingMeanUpdatedInInference:
    """A buggy normaliser: it updates its moving mean on every call, inference included."""

    def __init__(self) -> None:
        self.moving_mean = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        output = x - self.moving_mean
        self.moving_mean = 0.5 * self.moving_mean + 0.5 * float(x.mean())
        return output


class Accumulator:
    """Return the same array on every call, after adding 1 to it in place in training."""

    def __init__(self) -> None:
        self.total = np.zeros(2)

    def __call__(self) -> np.ndarray:
        if backend.learning_phase():
            self.total += 1.0
        return self.total

    def __repr__(self) -> str:
        return "Accumulator()"


class Pair(NamedTuple):
    """A named tuple, rebuilt as itself."""

    first: Any
    second: Any


class TaggedList(list):  # type: ignore[type-arg]
    """A list subclass, rebuilt as itself."""


class ArrayLike:
    """Not an ndarray, but converts to one (as tensors do)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.values, dtype=dtype)


class RecordingAdapter:
    """An adapter that logs what the helpers ask of it."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.phase: Phase = None

    def save_state(self) -> object:
        self.calls.append(("save_state", self.phase))
        return ("snapshot", self.phase)

    def restore_state(self, state: object) -> None:
        self.calls.append(("restore_state", state))
        self.phase = state[1]  # type: ignore[index]

    def set_phase(self, phase: Phase) -> None:
        self.calls.append(("set_phase", phase))
        self.phase = phase

    def get_phase(self) -> Phase:
        return self.phase


def test_importing_the_helpers_does_not_import_numpy() -> None:
    code = "import sys, pytest_learning_phase.assertions; print('numpy' in sys.modules)"

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert completed.stdout == "False\n"


# -- run_in_phases --


def test_run_in_phases_calls_fn_once_in_each_phase_in_order() -> None:
    results = run_in_phases(phase_and_flag, phases=(None, 0, 1))

    assert list(results.items()) == [(None, (0, False)), (0, (0, True)), (1, (1, True))]


def test_run_in_phases_defaults_to_test_then_train() -> None:
    assert list(run_in_phases(phase_and_flag).items()) == [(0, (0, True)), (1, (1, True))]


@pytest.mark.parametrize(
    ("value", "phase"),
    [(True, 1), (False, 0), (1.0, 1), (np.int64(1), 1), (np.bool_(False), 0)],
    ids=["True", "False", "1.0", "np.int64(1)", "np.bool_(False)"],
)
def test_run_in_phases_normalises_accepted_values_to_int(value: object, phase: int) -> None:
    results = run_in_phases(backend.learning_phase, phases=(value,))

    assert list(results) == [phase]
    key: object = next(iter(results))
    assert type(key) is int
    result = next(iter(results.values()))
    assert result == phase
    assert type(result) is int


def test_run_in_phases_passes_other_arguments_to_fn() -> None:
    def combine(a: int, b: int, *, rtol: str, atol: str) -> tuple[int, int, str, str]:
        return a, b, rtol, atol

    results = run_in_phases(combine, 1, 2, rtol="r", atol="a", phases=(1,))

    assert results == {1: (1, 2, "r", "a")}


@pytest.mark.parametrize("initial", [None, 0, 1, True], ids=["unset", "0", "1", "True"])
def test_run_in_phases_restores_the_state_it_found(initial: object) -> None:
    with starting_phase(initial):
        before = observed_state()
        run_in_phases(phase_and_flag, phases=(None, 0, 1))
        assert observed_state() == before


@pytest.mark.parametrize("initial", [None, 0, True], ids=["unset", "0", "True"])
def test_run_in_phases_restores_the_state_when_fn_raises(initial: object) -> None:
    with starting_phase(initial):
        before = observed_state()
        with pytest.raises(RuntimeError, match=r"^boom in training\n"):
            run_in_phases(fail_in_training, phases=(0, 1))
        assert observed_state() == before


@pytest.mark.parametrize("initial", [None, 0], ids=["unset", "0"])
def test_run_in_phases_undoes_a_phase_that_fn_sets(initial: object) -> None:
    with starting_phase(initial):
        before = observed_state()
        run_in_phases(set_phase_to_train, phases=(None, 0))
        assert observed_state() == before


def test_run_in_phases_drives_the_active_adapter() -> None:
    adapter = RecordingAdapter()
    set_current_adapter(adapter)

    results = run_in_phases(adapter.get_phase, phases=(1, None))

    assert results == {1: 1, None: None}
    assert adapter.calls == [
        ("save_state", None),
        ("set_phase", 1),
        ("restore_state", ("snapshot", None)),
        ("save_state", None),
        ("set_phase", None),
        ("restore_state", ("snapshot", None)),
    ]


def test_run_in_phases_restores_through_the_active_adapter_when_fn_raises() -> None:
    adapter = RecordingAdapter()
    set_current_adapter(adapter)

    with pytest.raises(ZeroDivisionError):
        run_in_phases(lambda: 1 / 0, phases=(1,))

    assert adapter.calls[-1] == ("restore_state", ("snapshot", None))
    assert adapter.phase is None


@pytest.mark.parametrize(
    ("phases", "problem"),
    [
        ((0, 2), f"2 is not a phase; {ALLOWED}"),
        ((0.5,), f"0.5 is not a phase; {ALLOWED}"),
        (("1",), f"'1' is not a phase; {ALLOWED}"),
        (([0],), f"[0] is not a phase; {ALLOWED}"),
        ((1, True), "True repeats the phase 1 (train); give each phase once"),
        ((None, 0, None), "None repeats the phase unset; give each phase once"),
        ((), "expected at least one phase (0, 1 or None)"),
        (1, "expected a tuple of phases, e.g. phases=(0, 1)"),
        ("01", "expected a tuple of phases, e.g. phases=(0, 1)"),
    ],
    ids=["2", "0.5", "str", "list", "1-and-True", "None-twice", "empty", "int", "string"],
)
def test_run_in_phases_rejects_bad_phases(phases: Any, problem: str) -> None:
    with pytest.raises(ValueError, match="phases=") as excinfo:
        run_in_phases(identity, 1, phases=phases)

    assert str(excinfo.value) == f"run_in_phases: phases={phases!r}: {problem}"


def test_run_in_phases_validates_phases_before_calling_fn() -> None:
    calls: list[object] = []

    with pytest.raises(ValueError, match="is not a phase"):
        run_in_phases(calls.append, "called", phases=(0, 1, 2))

    assert calls == []


@pytest.mark.parametrize("helper", [assert_phase_invariant, assert_phase_dependent])
@pytest.mark.parametrize("phases", [(0,), (None,), (True,)])
def test_comparing_helpers_need_two_phases(helper: Any, phases: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="phases=") as excinfo:
        helper(identity, 1, phases=phases)

    assert str(excinfo.value) == (
        f"{helper.__name__}: phases={phases!r}: expected at least 2 phases to compare "
        "(0, 1 or None)"
    )


@pytest.mark.parametrize("helper", [assert_phase_invariant, assert_phase_dependent])
def test_comparing_helpers_name_themselves_in_bad_phase_messages(helper: Any) -> None:
    with pytest.raises(ValueError, match="phases=") as excinfo:
        helper(identity, 1, phases=(0, "train"))

    assert str(excinfo.value) == (
        f"{helper.__name__}: phases=(0, 'train'): 'train' is not a phase; {ALLOWED}"
    )


# -- assert_phase_invariant --


def test_assert_phase_invariant_passes_and_returns_copies_of_the_results() -> None:
    x = np.arange(6.0)

    results = assert_phase_invariant(identity, x)

    assert list(results) == [0, 1]
    np.testing.assert_array_equal(results[0], x)
    np.testing.assert_array_equal(results[1], x)
    assert results[0] is not x
    assert results[1] is not x


def test_assert_phase_invariant_reports_where_arrays_differ() -> None:
    x = np.arange(1.0, 13.0).reshape(3, 4)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(drop_every_other_in_training, x)

    assert str(excinfo.value) == (
        INVARIANT_HEAD.format(backend=REFERENCE, name="drop_every_other_in_training") + "\n"
        "  at result: max abs difference 11 at index (2, 2): 11.0 (test) vs 0.0 (train); "
        f"6 of 12 elements differ {TOLERANCE}"
    )


def test_assert_phase_invariant_reports_the_path_into_nested_results() -> None:
    def model(x: np.ndarray) -> dict[str, Any]:
        return {"logits": (x, halve_in_training(x)), "name": "dense", "extra": [1.0]}

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(model, np.ones((2, 3)))

    assert str(excinfo.value) == (
        INVARIANT_HEAD.format(backend=REFERENCE, name=model.__qualname__) + "\n"
        "  at result['logits'][1]: max abs difference 0.5 at index (0, 0): "
        f"1.0 (test) vs 0.5 (train); 6 of 6 elements differ {TOLERANCE}"
    )


def test_assert_phase_invariant_counts_one_difference_past_five_in_the_singular() -> None:
    def six(x: float) -> list[float]:
        return [halve_in_training(x + offset) for offset in range(6)]

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(six, 1.0)

    assert str(excinfo.value).splitlines()[-1] == "  ... and 1 more difference"


def test_assert_phase_invariant_lists_every_difference_up_to_five() -> None:
    def many(x: float) -> list[float]:
        return [halve_in_training(x + offset) for offset in range(7)]

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(many, 1.0)

    assert str(excinfo.value) == "\n".join(
        [INVARIANT_HEAD.format(backend=REFERENCE, name=many.__qualname__)]
        + [
            f"  at result[{i}]: {1.0 + i} (test) vs {(1.0 + i) / 2} (train), "
            f"abs difference {(1.0 + i) / 2:g} {TOLERANCE}"
            for i in range(5)
        ]
        + ["  ... and 2 more differences"]
    )


@pytest.mark.parametrize(
    ("test_result", "train_result", "line"),
    [
        (
            {"a": 1, "b": 2},
            {"a": 1, "c": 2},
            "at result: keys ['a', 'b'] (test) vs ['a', 'c'] (train)",
        ),
        ([1, 2, 3], [1, 2], "at result: length 3 (test) vs 2 (train)"),
        ({"a": [1, 2]}, {"a": (1, 2)}, "at result['a']: list (test) vs tuple (train)"),
        ([{"x": 1}], [[1]], "at result[0]: dict (test) vs list (train)"),
        (np.zeros((2, 3)), np.zeros((3, 2)), "at result: shape (2, 3) (test) vs (3, 2) (train)"),
        (np.zeros(3), np.zeros((1, 3)), "at result: shape (3,) (test) vs (1, 3) (train)"),
        (np.zeros(2), None, "at result: array([0., 0.]) (test) vs None (train)"),
        (
            {"mode": "test"},
            {"mode": "train"},
            "at result['mode']: 'test' (test) vs 'train' (train)",
        ),
        (
            np.array(["a", "b", "c"]),
            np.array(["a", "b", "x"]),
            "at result: 1 of 3 elements differ, first at index (2,): 'c' (test) vs 'x' (train)",
        ),
        (np.zeros(2), np.array(["a", "b"]), "at result: dtype float64 (test) vs <U1 (train)"),
        (
            np.array([Decimal(1), Decimal(2)], dtype=object),
            np.array([Decimal(1), Decimal(3)], dtype=object),
            "at result: 1 of 2 elements differ, first at index (1,): "
            "Decimal('2') (test) vs Decimal('3') (train)",
        ),
    ],
    ids=[
        "keys",
        "length",
        "list-vs-tuple",
        "dict-vs-list",
        "shape",
        "shape-broadcastable",
        "array-vs-None",
        "strings",
        "string-array",
        "dtype-kind",
        "object-array",
    ],
)
def test_assert_phase_invariant_reports_structure_differences(
    test_result: object, train_result: object, line: str
) -> None:
    fn = results_by_phase(test_result, train_result)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert (
        str(excinfo.value)
        == f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n  {line}"
    )


@pytest.mark.parametrize(
    ("test_result", "train_result"),
    [
        ({"a": np.ones(3), "b": [1, "x", None]}, {"b": [1.0, "x", None], "a": np.ones(3)}),
        (ArrayLike([1.0, 2.0]), np.array([1.0, 2.0])),
        (np.arange(3), np.arange(3.0)),
        (True, 1),
        (np.float32(0.1), np.float32(0.1)),
    ],
    ids=["nested-key-order", "array-like", "int-vs-float", "True-vs-1", "float32"],
)
def test_assert_phase_invariant_passes_for_equal_values(
    test_result: object, train_result: object
) -> None:
    assert_phase_invariant(results_by_phase(test_result, train_result))


def test_assert_phase_invariant_compares_array_likes_numerically() -> None:
    fn = results_by_phase(ArrayLike([1.0, 2.0]), ArrayLike([1.0, 3.0]))

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n"
        "  at result: max abs difference 1 at index (1,): 2.0 (test) vs 3.0 (train); "
        f"1 of 2 elements differ {TOLERANCE}"
    )


@pytest.mark.parametrize(
    ("tolerances", "passes"),
    [
        ({"atol": 0.5, "rtol": 0}, True),
        ({"atol": 0.25, "rtol": 0}, False),
        ({"rtol": 0.25}, True),
        ({"rtol": 0.2}, False),
        ({"rtol": 0.125, "atol": 0.25}, True),
    ],
    ids=["atol-just-inside", "atol-outside", "rtol-just-inside", "rtol-outside", "both-add-up"],
)
def test_assert_phase_invariant_tolerances_are_those_of_assert_allclose(
    tolerances: dict[str, Any], passes: bool
) -> None:
    fn = results_by_phase(2.0, 2.5)

    assert numpy_accepts(2.5, 2.0, **tolerances) is passes  # the oracle agrees
    if passes:
        assert_phase_invariant(fn, **tolerances)
    else:
        with pytest.raises(AssertionError, match=r"abs difference 0\.5"):
            assert_phase_invariant(fn, **tolerances)


def test_assert_phase_invariant_message_shows_the_tolerances() -> None:
    fn = results_by_phase(2.0, 2.5)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn, rtol=0.2, atol=1e-6)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n"
        "  at result: 2.0 (test) vs 2.5 (train), abs difference 0.5 (rtol=0.2, atol=1e-06)"
    )


def test_assert_phase_invariant_takes_the_first_phase_as_the_reference() -> None:
    # |2.5 - 2.0| = 0.5 is within rtol * |reference| only when the reference is 2.5.
    fn = results_by_phase(2.0, 2.5)

    assert_phase_invariant(fn, phases=(1, 0), rtol=0.2)
    with pytest.raises(AssertionError):
        assert_phase_invariant(fn, phases=(0, 1), rtol=0.2)


def test_assert_phase_invariant_treats_nan_in_the_same_place_as_equal() -> None:
    assert_phase_invariant(identity, np.array([1.0, np.nan, 3.0]))


def test_assert_phase_invariant_with_equal_nan_false_reports_nan() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(identity, np.array([1.0, np.nan, 3.0]), equal_nan=False)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name='identity')}\n"
        "  at result: max abs difference nan at index (1,): nan (test) vs nan (train); "
        f"1 of 3 elements differ {TOLERANCE}"
    )


def test_assert_phase_invariant_reports_nan_against_a_number_first() -> None:
    fn = results_by_phase(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 7.0]))

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n"
        "  at result: max abs difference nan at index (1,): 2.0 (test) vs nan (train); "
        f"2 of 3 elements differ {TOLERANCE}"
    )


def test_assert_phase_invariant_compares_unset_with_train() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(phase_and_flag, phases=(None, 1))

    assert str(excinfo.value) == (
        "assert_phase_invariant: phase_and_flag gave different results in "
        "phase unset and phase 1 (train) on the reference backend\n"
        f"  at result[0]: 0 (unset) vs 1 (train), abs difference 1 {TOLERANCE}\n"
        f"  at result[1]: False (unset) vs True (train), abs difference 1 {TOLERANCE}"
    )


def test_assert_phase_invariant_sees_unset_and_test_read_the_same_phase() -> None:
    assert_phase_invariant(halve_in_training, np.ones(3), phases=(None, 0))


def test_assert_phase_invariant_reports_the_first_phase_that_differs() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(phase_and_flag, phases=(0, 1, None))

    assert str(excinfo.value).splitlines()[0] == (
        "assert_phase_invariant: phase_and_flag gave different results in "
        "phase 0 (test) and phase 1 (train) on the reference backend"
    )


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (halve_in_training, "halve_in_training"),
        (Scale(0.5), "Scale(0.5)"),
        (Scale(0.5).apply, "Scale.apply"),
        (functools.partial(halve_in_training), repr(functools.partial(halve_in_training))),
    ],
    ids=["function", "callable-object", "bound-method", "partial"],
)
def test_assert_phase_invariant_names_fn(fn: Any, name: str) -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn, 1.0)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=name)}\n"
        f"  at result: 1.0 (test) vs 0.5 (train), abs difference 0.5 {TOLERANCE}"
    )


# -- assert_phase_dependent --


def test_assert_phase_dependent_passes_and_returns_the_results() -> None:
    results = assert_phase_dependent(halve_in_training, np.ones(2))

    assert list(results) == [0, 1]
    np.testing.assert_array_equal(results[0], [1.0, 1.0])
    np.testing.assert_array_equal(results[1], [0.5, 0.5])


def test_assert_phase_dependent_fails_when_results_are_equal() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_dependent(identity, np.ones(2))

    assert str(excinfo.value) == (
        "assert_phase_dependent: identity gave the same result in phase 0 (test) and "
        f"phase 1 (train) on the reference backend {TOLERANCE}"
    )


def test_assert_phase_dependent_names_every_phase_that_agreed() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_dependent(identity, {"x": [1.0]}, phases=(None, 0, 1), atol=0.5)

    assert str(excinfo.value) == (
        "assert_phase_dependent: identity gave the same result in phase unset, "
        "phase 0 (test) and phase 1 (train) on the reference backend (rtol=1e-07, atol=0.5)"
    )


@pytest.mark.parametrize(
    ("tolerances", "passes"),
    [({}, False), ({"rtol": 0}, True), ({"rtol": 0, "atol": 2e-9}, False)],
    ids=["default-rtol-sees-same", "exact-sees-different", "atol-sees-same"],
)
def test_assert_phase_dependent_counts_results_within_tolerance_as_the_same(
    tolerances: dict[str, Any], passes: bool
) -> None:
    fn = results_by_phase(1.0, 1.0 + 1e-9)

    if passes:
        assert_phase_dependent(fn, **tolerances)
    else:
        with pytest.raises(AssertionError, match="gave the same result"):
            assert_phase_dependent(fn, **tolerances)


def test_assert_phase_dependent_passes_when_any_phase_differs() -> None:
    assert_phase_dependent(halve_in_training, 1.0, phases=(None, 0, 1))


def test_assert_phase_dependent_sees_unset_differ_from_test_through_the_flag() -> None:
    assert_phase_dependent(phase_and_flag, phases=(None, 0))


@pytest.mark.parametrize("equal_nan", [True, False])
def test_assert_phase_dependent_follows_equal_nan(equal_nan: bool) -> None:
    x = np.array([np.nan])

    if equal_nan:
        with pytest.raises(AssertionError, match="gave the same result"):
            assert_phase_dependent(identity, x, equal_nan=equal_nan)
    else:
        assert_phase_dependent(identity, x, equal_nan=equal_nan)


# -- assert_deterministic_in_inference --


def test_assert_deterministic_in_inference_passes_and_returns_a_copy_of_the_first_result() -> None:
    x = np.arange(3.0)

    result = assert_deterministic_in_inference(drop_every_other_in_training, x)

    np.testing.assert_array_equal(result, x)
    assert result is not x


def test_assert_deterministic_in_inference_reports_a_state_update_in_inference() -> None:
    layer = MovingMeanUpdatedInInference()

    with pytest.raises(AssertionError) as excinfo:
        assert_deterministic_in_inference(layer, np.array([[2.0, 4.0], [6.0, 8.0]]))

    assert str(excinfo.value) == (
        "assert_deterministic_in_inference: "
        f"{layer!r} gave different results in two calls in phase 0 (test) on the reference "
        "backend\n"
        "  at result: max abs difference 2.5 at index (0, 0): 2.0 (first call) vs "
        f"-0.5 (second call); 4 of 4 elements differ {TOLERANCE}"
    )


@pytest.mark.parametrize("initial", [None, 1, True], ids=["unset", "1", "True"])
def test_assert_deterministic_in_inference_calls_fn_twice_in_phase_0(initial: object) -> None:
    calls: list[tuple[object, bool]] = []

    def record() -> None:
        calls.append(phase_and_flag())

    with starting_phase(initial):
        before = observed_state()
        assert_deterministic_in_inference(record)
        assert observed_state() == before

    assert calls == [(0, True), (0, True)]


def test_assert_deterministic_in_inference_uses_the_tolerances() -> None:
    values = iter([1.0, 1.25])

    assert_deterministic_in_inference(lambda: next(values), atol=0.25)


def test_assert_deterministic_in_inference_passes_other_keywords_to_fn() -> None:
    assert assert_deterministic_in_inference(dict, phases=(0, 1)) == {"phases": (0, 1)}


# -- Each phase's result is a snapshot --


def test_run_in_phases_shows_each_phases_own_value_of_an_array_changed_in_place() -> None:
    results = run_in_phases(Accumulator(), phases=(0, 1, None))

    np.testing.assert_array_equal(results[0], [0.0, 0.0])
    np.testing.assert_array_equal(results[1], [1.0, 1.0])
    np.testing.assert_array_equal(results[None], [1.0, 1.0])


def test_assert_phase_invariant_fails_on_an_array_changed_in_place_in_training() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(Accumulator())

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name='Accumulator()')}\n"
        "  at result: max abs difference 1 at index (0,): 0.0 (test) vs 1.0 (train); "
        f"2 of 2 elements differ {TOLERANCE}"
    )


def test_assert_phase_dependent_passes_on_an_array_changed_in_place_in_training() -> None:
    assert_phase_dependent(Accumulator())


def test_assert_deterministic_in_inference_fails_on_an_array_changed_in_place() -> None:
    total = np.zeros(1)

    def add_one() -> np.ndarray:
        total[0] += 1.0
        return total

    with pytest.raises(AssertionError, match=r"1\.0 \(first call\) vs 2\.0 \(second call\)"):
        assert_deterministic_in_inference(add_one)


def test_run_in_phases_snapshots_arrays_inside_dicts_lists_and_tuples() -> None:
    accumulator = Accumulator()

    def nested() -> dict[str, Any]:
        total = accumulator()
        return {"total": [total, (total, {"again": total})]}

    results = run_in_phases(nested)

    zeros, ones = np.zeros(2), np.ones(2)
    np.testing.assert_equal(results[0], {"total": [zeros, (zeros, {"again": zeros})]})
    np.testing.assert_equal(results[1], {"total": [ones, (ones, {"again": ones})]})


def test_run_in_phases_snapshots_a_list_that_fn_fills_in_place() -> None:
    history: list[object] = []

    def append_phase() -> list[object]:
        history.append(backend.learning_phase())
        return history

    assert run_in_phases(append_phase) == {0: [0], 1: [0, 1]}


def test_run_in_phases_snapshots_a_set_that_fn_fills_in_place() -> None:
    seen: set[object] = set()

    def add_phase() -> set[object]:
        seen.add(backend.learning_phase())
        return seen

    assert run_in_phases(add_phase) == {0: {0}, 1: {0, 1}}


@pytest.mark.parametrize(
    "result",
    [
        Pair(np.zeros(1), [np.zeros(1)]),
        OrderedDict(b=np.zeros(1), a=1),
        defaultdict(list, a=[np.zeros(1)]),
        TaggedList([np.zeros(1)]),
    ],
    ids=["named-tuple", "OrderedDict", "defaultdict", "list-subclass"],
)
def test_snapshots_keep_the_type_of_containers(result: Any) -> None:
    snapshot = run_in_phases(lambda: result, phases=(0,))[0]

    assert type(snapshot) is type(result)
    assert snapshot is not result
    np.testing.assert_equal(snapshot, result)


def test_snapshots_keep_a_defaultdicts_default() -> None:
    counts: defaultdict[str, list[int]] = defaultdict(list)

    snapshot = run_in_phases(lambda: counts, phases=(0,))[0]

    assert snapshot["new"] == []


def test_snapshots_rebuild_a_read_only_mapping_as_a_dict() -> None:
    values = {"x": np.zeros(1)}

    snapshot = run_in_phases(lambda: MappingProxyType(values), phases=(0,))[0]

    assert type(snapshot) is dict
    np.testing.assert_equal(snapshot, values)


def test_run_in_phases_keeps_objects_that_are_neither_arrays_nor_containers() -> None:
    class Box:
        phase: object = None

    box = Box()

    def fill() -> Box:
        box.phase = backend.learning_phase()
        return box

    results = run_in_phases(fill)

    assert results[0] is box
    assert results[1] is box


# -- Bad arguments --


@pytest.mark.parametrize("helper", HELPERS, ids=lambda helper: helper.__name__)
@pytest.mark.parametrize(
    ("fn", "shown"),
    [
        (5, "5"),
        (None, "None"),
        (np.ones((3, 3)), "array([[1., 1., 1.], [1., 1., 1.], [1., 1., 1.]])"),
        ("x" * 100, f"'{'x' * 56}..."),
    ],
    ids=["int", "None", "array", "long-repr"],
)
def test_helpers_reject_fn_that_is_not_callable(helper: Any, fn: object, shown: str) -> None:
    name = helper.__name__

    with pytest.raises(TypeError) as excinfo:
        helper(fn)

    assert str(excinfo.value) == (
        f"{name}: fn={shown}: expected a callable or a torch.nn.Module, e.g. {name}(model, x)"
    )


@pytest.mark.parametrize("helper", HELPERS_WITH_TOLERANCES, ids=lambda helper: helper.__name__)
@pytest.mark.parametrize(
    ("arguments", "error", "problem"),
    [
        ({"rtol": "x"}, TypeError, "rtol='x': expected a finite real number >= 0"),
        ({"atol": None}, TypeError, "atol=None: expected a finite real number >= 0"),
        ({"rtol": True}, TypeError, "rtol=True: expected a finite real number >= 0"),
        ({"atol": 1j}, TypeError, "atol=1j: expected a finite real number >= 0"),
        ({"atol": -1e-06}, ValueError, "atol=-1e-06: expected a finite real number >= 0"),
        ({"rtol": float("nan")}, ValueError, "rtol=nan: expected a finite real number >= 0"),
        ({"rtol": float("inf")}, ValueError, "rtol=inf: expected a finite real number >= 0"),
        ({"atol": np.inf}, ValueError, "atol=inf: expected a finite real number >= 0"),
        ({"equal_nan": "no"}, TypeError, "equal_nan='no': expected True or False"),
    ],
    ids=["str", "None", "bool", "complex", "negative", "nan", "inf", "numpy-inf", "equal_nan"],
)
def test_helpers_reject_bad_tolerances_naming_the_helper_and_the_argument(
    helper: Any, arguments: dict[str, object], error: type[Exception], problem: str
) -> None:
    calls: list[object] = []

    with pytest.raises(error) as excinfo:
        helper(calls.append, "called", **arguments)

    assert str(excinfo.value) == f"{helper.__name__}: {problem}"
    assert calls == []


def test_tolerances_accept_numpy_numbers_and_show_them_as_floats() -> None:
    fn = results_by_phase(2.0, 2.5)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn, rtol=np.float32(0.125), atol=np.int64(0), equal_nan=np.True_)  # type: ignore[arg-type]

    assert str(excinfo.value).endswith("abs difference 0.5 (rtol=0.125, atol=0.0)")


# -- An error raised by fn --


def test_an_error_in_one_phase_keeps_its_type_and_message_and_says_which_phase() -> None:
    with pytest.raises(RuntimeError) as excinfo:
        run_in_phases(fail_in_training)

    assert str(excinfo.value) == "boom in training"
    assert notes(excinfo.value) == [
        "run_in_phases: fail_in_training raised this in phase 1 (train) on the reference "
        "backend, after returning in phase 0 (test)"
    ]


def test_an_error_keeps_its_traceback_into_fn() -> None:
    with pytest.raises(RuntimeError) as excinfo:
        assert_phase_invariant(fail_in_training)

    assert excinfo.traceback[-1].name == "fail_in_training"


def test_an_error_in_the_first_phase_names_only_that_phase() -> None:
    with pytest.raises(RuntimeError) as excinfo:
        assert_phase_invariant(fail_in_training, phases=(1, 0))

    assert notes(excinfo.value) == [
        "assert_phase_invariant: fail_in_training raised this in phase 1 (train) on the "
        "reference backend"
    ]


def test_an_error_after_two_phases_names_the_phases_that_returned() -> None:
    with pytest.raises(RuntimeError) as excinfo:
        assert_phase_dependent(fail_in_training, phases=(None, 0, 1))

    assert notes(excinfo.value) == [
        "assert_phase_dependent: fail_in_training raised this in phase 1 (train) on the "
        "reference backend, after returning in phase unset and phase 0 (test)"
    ]


@pytest.mark.parametrize(
    ("failing_call", "note"),
    [
        (1, "raised this in the first call in phase 0 (test) on the reference backend"),
        (
            2,
            "raised this in the second call in phase 0 (test) on the reference backend, "
            "after returning in the first",
        ),
    ],
    ids=["first", "second"],
)
def test_assert_deterministic_in_inference_says_which_call_raised(
    failing_call: int, note: str
) -> None:
    calls = iter(range(1, 3))

    def fail_in_one_call() -> None:
        if next(calls) == failing_call:
            raise KeyError("cache")

    with pytest.raises(KeyError) as excinfo:
        assert_deterministic_in_inference(fail_in_one_call)

    assert notes(excinfo.value) == [
        f"assert_deterministic_in_inference: {fail_in_one_call.__qualname__} {note}"
    ]


def test_an_outcome_of_pytest_raised_in_fn_gets_no_note() -> None:
    def skip() -> None:
        pytest.skip("not on this machine")

    with pytest.raises(pytest.skip.Exception) as excinfo:
        run_in_phases(skip)

    assert not hasattr(excinfo.value, "__notes__")


# -- Numbers of different dtypes --


def test_a_float16_against_a_float64_shows_both_with_enough_digits_and_their_dtypes() -> None:
    fn = results_by_phase(np.float16(0.1), 0.1)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n"
        "  at result: 0.0999755859375 (test, float16) vs 0.1 (train, float64), "
        f"abs difference 2.44141e-05 {TOLERANCE}"
    )


def test_arrays_of_different_dtypes_show_the_values_in_the_common_dtype() -> None:
    fn = results_by_phase(np.array([1, 2], "int32"), np.array([1.5, 2.0]))

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name=fn.__qualname__)}\n"
        "  at result: max abs difference 0.5 at index (0,): 1.0 (test, int32) vs "
        f"1.5 (train, float64); 1 of 2 elements differ {TOLERANCE}"
    )


def test_numbers_of_the_same_dtype_are_shown_without_it() -> None:
    fn = results_by_phase(np.float32(0.1), np.float32(0.2))

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(fn)

    assert str(excinfo.value).splitlines()[1] == (
        f"  at result: 0.1 (test) vs 0.2 (train), abs difference 0.1 {TOLERANCE}"
    )


# -- On the real tf_keras backend --


@pytest.fixture
def tf_keras_backend() -> Iterator[Any]:
    """Make the helpers drive tf_keras; yield ``tf_keras``."""
    tf_keras = require_tf_keras()
    from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

    previous = set_current_adapter(make_tf_keras_adapter())
    yield tf_keras
    set_current_adapter(previous)


def test_run_in_phases_gives_tf_keras_tensors_as_numpy_arrays(tf_keras_backend: Any) -> None:
    dropout = tf_keras_backend.layers.Dropout(0.5, seed=1)

    results = run_in_phases(dropout, np.ones((2, 2), dtype="float32"))

    assert type(results[0]) is np.ndarray
    assert type(results[1]) is np.ndarray


def test_tf_keras_moving_mean_fails_assert_phase_invariant(tf_keras_backend: Any) -> None:
    norm = tf_keras_backend.layers.BatchNormalization()
    x = np.arange(12.0, dtype="float32").reshape(4, 3)

    def moving_mean_after_a_call() -> object:
        norm(x)
        return norm.moving_mean  # one tf.Variable, updated in place in training only

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(moving_mean_after_a_call)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=TF_KERAS, name=moving_mean_after_a_call.__qualname__)}\n"
        "  at result: max abs difference 0.065 at index (2,): 0.0 (test) vs 0.065 (train); "
        f"3 of 3 elements differ {TOLERANCE}"
    )


def test_run_in_phases_drives_tf_keras_when_it_is_the_active_backend(tf_keras_backend: Any) -> None:
    from tf_keras.src import backend as tf_keras_backend_internals

    def tf_keras_phase_and_flag() -> tuple[object, bool]:
        return (
            tf_keras_backend.backend.learning_phase(),
            tf_keras_backend_internals.global_learning_phase_is_set(),
        )

    before = tf_keras_phase_and_flag()

    results = run_in_phases(tf_keras_phase_and_flag, phases=(None, 0, True))

    assert results == {None: (0, False), 0: (0, True), 1: (1, True)}
    assert tf_keras_phase_and_flag() == before


def test_tf_keras_dropout_is_phase_dependent_and_deterministic_in_inference(
    tf_keras_backend: Any,
) -> None:
    dropout = tf_keras_backend.layers.Dropout(0.5, seed=1)
    x = np.ones((8, 8), dtype="float32")

    results = assert_phase_dependent(dropout, x)

    np.testing.assert_array_equal(np.asarray(results[0]), x)
    assert_deterministic_in_inference(dropout, x)


def test_tf_keras_dropout_fails_assert_phase_invariant_on_its_tensors(
    tf_keras_backend: Any,
) -> None:
    dropout = tf_keras_backend.layers.Dropout(0.5, seed=1)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(dropout, np.ones((8, 8), dtype="float32"))

    head, line = str(excinfo.value).splitlines()
    assert head == (
        f"assert_phase_invariant: <Dropout name={dropout.name!r}> gave different results in "
        "phase 0 (test) and phase 1 (train) on the tf_keras backend"
    )
    # Inverted dropout: kept values become 2.0, dropped ones 0.0; both differ from 1.0 by 1.
    assert re.fullmatch(
        r"  at result: max abs difference 1 at index \(\d, \d\): 1\.0 \(test\) vs "
        r"[02]\.0 \(train\); 64 of 64 elements differ \(rtol=1e-07, atol=0\)",
        line,
    )


# -- A torch.nn.Module in place of fn --


@pytest.fixture
def torch() -> Any:
    """Return ``torch``: skip without it, fail under CI."""
    return require_torch()


def every_flag(model: Any) -> list[bool]:
    """Return the ``training`` flag of the model and each submodule, in ``modules()`` order."""
    return [module.training for module in model.modules()]


def flag_recorder(torch: Any, fail_when: str | None = None) -> Any:
    """Return a model whose call returns every flag as it sees them; one submodule is in eval.

    ``fail_when`` ("train", "eval" or "always"): raise in that mode, after
    flipping a submodule, as a buggy forward might.
    """

    class FlagRecorder(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))

        def forward(self) -> list[bool]:
            seen = every_flag(self)
            mode = "train" if self.training else "eval"
            if fail_when in (mode, "always"):
                self.body[0].train(not self.body[0].training)
                raise RuntimeError(f"boom in {mode} mode")
            return seen

    model = FlagRecorder()
    model.body[1].eval()
    return model


def test_a_module_is_called_in_eval_mode_in_phase_0_and_train_mode_in_phase_1(
    torch: Any,
) -> None:
    model = flag_recorder(torch)

    results = run_in_phases(model, phases=(0, 1))

    assert results == {0: [False] * 4, 1: [True] * 4}


def test_a_module_is_called_with_its_flags_as_they_are_in_phase_unset(torch: Any) -> None:
    model = flag_recorder(torch)

    results = run_in_phases(model, phases=(None,))

    assert results == {None: [True, True, True, False]}


@pytest.mark.parametrize("helper", HELPERS, ids=lambda helper: helper.__name__)
def test_every_submodule_flag_is_restored_after_the_calls(torch: Any, helper: Any) -> None:
    model = flag_recorder(torch)
    before = every_flag(model)

    with contextlib.suppress(AssertionError):  # assert_phase_invariant fails: flags differ
        helper(model)

    assert every_flag(model) == before


@pytest.mark.parametrize(
    ("phases", "fail_when"),
    [((0, 1), "train"), ((1, 0), "eval"), ((0,), "always"), ((1,), "always"), ((None,), "always")],
    ids=["in-train-after-eval", "in-eval-after-train", "in-eval", "in-train", "unset"],
)
def test_every_submodule_flag_is_restored_when_the_call_raises(
    torch: Any, phases: tuple[Phase, ...], fail_when: str
) -> None:
    model = flag_recorder(torch, fail_when=fail_when)
    before = every_flag(model)

    with pytest.raises(RuntimeError, match=r"^boom in"):
        run_in_phases(model, phases=phases)

    assert every_flag(model) == before


def test_an_error_in_a_module_says_which_phase_and_names_the_model(torch: Any) -> None:
    model = flag_recorder(torch, fail_when="train")

    with pytest.raises(RuntimeError) as excinfo:
        assert_phase_invariant(model)

    assert notes(excinfo.value) == [
        "assert_phase_invariant: FlagRecorder(...) raised this in phase 1 (train) on the "
        "reference backend, after returning in phase 0 (test)"
    ]


def test_the_backends_phase_is_set_around_a_modules_call_too(torch: Any) -> None:
    class PhaseReader(torch.nn.Module):  # type: ignore[misc]
        def forward(self) -> tuple[object, bool]:
            return backend.learning_phase(), self.training

    assert run_in_phases(PhaseReader()) == {0: (0, False), 1: (1, True)}


def test_a_dropout_model_is_phase_dependent_and_deterministic_in_inference(torch: Any) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))
    x = torch.ones(8, 4)

    results = assert_phase_dependent(model, x)

    assert type(results[0]) is np.ndarray  # detached from autograd, converted
    assert_deterministic_in_inference(model, x)


def test_a_linear_model_is_phase_invariant(torch: Any) -> None:
    torch.manual_seed(0)

    results = assert_phase_invariant(torch.nn.Linear(4, 2), torch.ones(3, 4))

    assert results[0].shape == (3, 2)


def test_a_linear_model_fails_assert_phase_dependent_named_by_its_repr(torch: Any) -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_dependent(torch.nn.Linear(4, 2), torch.ones(3, 4))

    assert str(excinfo.value) == (
        "assert_phase_dependent: Linear(in_features=4, out_features=2, bias=True) gave the "
        f"same result in phase 0 (test) and phase 1 (train) on the reference backend {TOLERANCE}"
    )


def test_a_running_mean_changed_in_place_in_training_fails_assert_phase_invariant(
    torch: Any,
) -> None:
    class RunningMean(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.norm = torch.nn.BatchNorm1d(3)

        def forward(self, x: Any) -> Any:
            self.norm(x)
            return self.norm.running_mean  # one tensor, updated in place in train mode

    x = torch.arange(12.0).reshape(4, 3)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(RunningMean(), x)

    assert str(excinfo.value) == (
        f"{INVARIANT_HEAD.format(backend=REFERENCE, name='RunningMean(...)')}\n"
        "  at result: max abs difference 0.65 at index (2,): 0.0 (test) vs 0.65000004 (train); "
        f"3 of 3 elements differ {TOLERANCE}"
    )


def test_a_bfloat16_tensor_is_snapshotted_as_float32(torch: Any) -> None:
    results = run_in_phases(lambda: torch.full((2,), 0.1, dtype=torch.bfloat16), phases=(0,))

    assert results[0].dtype == np.float32
    assert results[0].tolist() == [0.10009765625, 0.10009765625]


# -- What a user sees in pytest's report --

USER_TEST = """
import numpy as np
from pytest_learning_phase import backend
from pytest_learning_phase.assertions import (
    assert_deterministic_in_inference,
    assert_phase_dependent,
    assert_phase_invariant,
    run_in_phases,
)


def halve_in_training(x):
    return x * (0.5 if backend.learning_phase() else 1.0)


def fail_in_training():
    if backend.learning_phase():
        raise RuntimeError("boom in training")


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return self.count


def test_invariant():
    assert_phase_invariant(halve_in_training, np.ones(4))


def test_dependent():
    assert_phase_dependent(abs, -1.0)


def test_deterministic():
    assert_deterministic_in_inference(Counter())


def test_fn_raises():
    run_in_phases(fail_in_training)
"""


@pytest.fixture(scope="module")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """Run the user's test file above in one subprocess, shared by the module's tests."""
    directory = tmp_path_factory.mktemp("user_run")
    (directory / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"]
    completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    return pytest.RunResult(
        completed.returncode, completed.stdout.splitlines(), completed.stderr.splitlines(), 0.0
    )


@pytest.mark.parametrize(
    ("test", "message_lines"),
    [
        (
            "test_invariant",
            [
                "E       AssertionError: assert_phase_invariant: halve_in_training gave "
                "different results in phase 0 (test) and phase 1 (train) on the reference "
                "backend",
                "E         at result: max abs difference 0.5 at index (0,): 1.0 (test) vs "
                f"0.5 (train); 4 of 4 elements differ {TOLERANCE}",
            ],
        ),
        (
            "test_dependent",
            [
                "E       AssertionError: assert_phase_dependent: abs gave the same result in "
                f"phase 0 (test) and phase 1 (train) on the reference backend {TOLERANCE}",
            ],
        ),
        (
            "test_deterministic",
            [
                "E       AssertionError: assert_deterministic_in_inference: <test_user.Counter "
                "object at 0x*> gave different results in two calls in phase 0 (test) on the "
                "reference backend",
                "E         at result: 1 (first call) vs 2 (second call), abs difference 1 "
                f"{TOLERANCE}",
            ],
        ),
    ],
    ids=["invariant", "dependent", "deterministic"],
)
def test_failure_shows_the_message_under_the_users_line(
    user_run: pytest.RunResult, test: str, message_lines: list[str]
) -> None:
    user_run.stdout.fnmatch_lines(
        [
            f"*_ {test} _*",
            f"    def {test}():",
            ">       *",
            *message_lines,
            "",
            "test_user.py:*: AssertionError",
        ]
    )


def test_failure_traceback_hides_the_helpers_frames(user_run: pytest.RunResult) -> None:
    user_run.assert_outcomes(failed=4)
    output = user_run.stdout.str()

    assert "assertions.py" not in output
    assert "__tracebackhide__ = True" not in output
    assert "raise AssertionError(" not in output


def test_error_from_fn_shows_the_users_frames(user_run: pytest.RunResult) -> None:
    user_run.stdout.fnmatch_lines(
        [
            "*_ test_fn_raises _*",
            ">       run_in_phases(fail_in_training)",
            "",
            "    def fail_in_training():",
            "        if backend.learning_phase():",
            '>           raise RuntimeError("boom in training")',
        ]
    )


def test_error_from_fn_has_a_note_under_it_saying_which_phase(user_run: pytest.RunResult) -> None:
    user_run.stdout.fnmatch_lines(
        [
            '>           raise RuntimeError("boom in training")',
            "E           RuntimeError: boom in training",
            "E           run_in_phases: fail_in_training raised this in phase 1 (train) on the "
            "reference backend, after returning in phase 0 (test)",
            "",
            "test_user.py:*: RuntimeError",
        ],
        consecutive=True,
    )
