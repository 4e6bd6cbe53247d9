"""Results at the edges of the by-value comparison, in process on the reference backend.

Found by an adversarial tester: dict subclasses rebuilt by ``update``
(``Counter`` counts doubled), NaT and NaN inside datetime and structured arrays,
results that hold themselves or nest past Python's recursion limit, the same
object with a raising ``==`` returned in both phases, infinite tolerances.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from pytest_learning_phase import backend
from pytest_learning_phase.assertions import assert_phase_invariant, run_in_phases
from tests._frameworks import (
    TF_INSTALL_HINT,
    TORCH_INSTALL_HINT,
    require_installed,
    require_tf_keras,
)
from tests.test_assertions_values import by_phase, reference_helpers


@pytest.fixture(autouse=True)
def reference_backend() -> Iterator[None]:
    """Make the helpers drive the reference backend, whatever the session chose."""
    with reference_helpers():
        yield


# -- dict, list and tuple subclasses are rebuilt holding exactly their items --


def test_a_counter_comes_back_with_its_counts() -> None:
    counts = collections.Counter({"a": 3})

    results = run_in_phases(lambda: counts)

    assert results == {0: collections.Counter(a=3), 1: collections.Counter(a=3)}
    assert type(results[0]) is collections.Counter


def test_a_counter_filled_in_each_phase_is_kept_as_it_was() -> None:
    state: collections.Counter[str] = collections.Counter()

    def count() -> collections.Counter[str]:
        state.clear()
        state["x"] = 1 + int(backend.learning_phase())
        return state

    assert run_in_phases(count) == {0: collections.Counter(x=1), 1: collections.Counter(x=2)}


class Doubling(dict[str, int]):
    """A dict whose ``__setitem__`` changes what it stores: its copy cannot hold the items."""

    def __setitem__(self, key: str, value: int) -> None:
        super().__setitem__(key, 2 * value)


class Upper(list[str]):
    """A list whose slice assignment changes what it stores."""

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, [item.upper() for item in value])


def test_a_subclass_that_changes_what_it_stores_comes_back_as_a_plain_container() -> None:
    doubling = Doubling()
    dict.__setitem__(doubling, "a", 1)
    upper = Upper(["a"])

    results = run_in_phases(lambda: (doubling, upper))

    assert results[0] == ({"a": 1}, ["a"])
    assert type(results[0][0]) is dict
    assert type(results[0][1]) is list


def test_ordered_and_default_dicts_keep_their_type_and_order() -> None:
    ordered = collections.OrderedDict([("b", 1), ("a", 2)])
    default = collections.defaultdict(list, {"k": [1]})

    results = run_in_phases(lambda: (ordered, default))

    assert list(results[0][0].items()) == [("b", 1), ("a", 2)]
    assert type(results[0][0]) is collections.OrderedDict
    assert type(results[0][1]) is collections.defaultdict
    assert results[0][1]["missing"] == []  # the default factory is kept


# -- NaT and NaN inside datetime and structured arrays --

DATES = np.array(["NaT", "2020-01-01"], dtype="datetime64[D]")
RECORD = [("a", "i4"), ("b", "f8"), ("when", "datetime64[s]"), ("pair", "f4", (2,))]


@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[ms]"])
def test_nat_in_the_same_place_is_equal(dtype: str) -> None:
    assert_phase_invariant(lambda: np.array(["NaT", 5], dtype=dtype))


def test_nat_is_printed_as_nat_and_differs_with_equal_nan_false() -> None:
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(lambda: DATES, equal_nan=False)

    assert str(excinfo.value).splitlines()[1] == (
        "  at result: 1 of 2 elements differ, first at index (0,): NaT (test) vs NaT (train)"
    )


def test_a_date_that_differs_is_printed_as_a_date() -> None:
    later = np.array(["NaT", "2020-01-02"], dtype="datetime64[D]")

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(by_phase(DATES, later))

    assert str(excinfo.value).splitlines()[1] == (
        "  at result: 1 of 2 elements differ, first at index (1,): "
        "2020-01-01 (test) vs 2020-01-02 (train)"
    )


def record(b: float = np.nan, pair: float = np.nan) -> np.ndarray:
    return np.array([(1, b, "NaT", (0.5, pair))], dtype=RECORD)


def test_nan_and_nat_inside_a_structured_array_are_equal() -> None:
    assert_phase_invariant(lambda: record())
    assert_phase_invariant(by_phase(record(), record()))


def test_a_structured_array_compares_its_numbers_within_the_tolerances() -> None:
    assert_phase_invariant(by_phase(record(1.0, 2.0), record(1.05, 2.05)), atol=0.1)

    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(by_phase(record(1.0, 2.0), record(1.0, 2.5)), atol=0.1)

    assert "1 of 1 elements differ, first at index (0,)" in str(excinfo.value)


def test_nan_inside_a_structured_array_differs_with_equal_nan_false() -> None:
    with pytest.raises(AssertionError):
        assert_phase_invariant(lambda: record(), equal_nan=False)


# -- bfloat16 and float8 (ml_dtypes arrays, TensorFlow tensors) compare in float32 --


@pytest.fixture(scope="module")
def tf() -> Any:
    """TensorFlow, whose ``numpy()`` of a bfloat16 tensor is an ``ml_dtypes`` array."""
    require_tf_keras()
    import tensorflow

    return tensorflow


def bfloat16(tf: Any, kind: str, value: float) -> object:
    import ml_dtypes

    if kind == "tf":
        return tf.constant([value], tf.bfloat16)
    return np.array([value], dtype=ml_dtypes.bfloat16)


@pytest.mark.parametrize("kind", ["tf", "numpy"])
def test_bfloat16_results_compare_within_the_tolerances(tf: Any, kind: str) -> None:
    one, next_one = bfloat16(tf, kind, 1.0), bfloat16(tf, kind, 1.0078125)

    assert_phase_invariant(by_phase(one, next_one), atol=0.1)
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(by_phase(one, next_one), atol=0.001)

    assert str(excinfo.value).splitlines()[1] == (
        "  at result: max abs difference 0.0078125 at index (0,): 1.0 (test) vs 1.0078125 "
        "(train); 1 of 1 elements differ (rtol=1e-07, atol=0.001)"
    )


@pytest.mark.parametrize("kind", ["tf", "numpy"])
def test_bfloat16_nan_in_the_same_place_is_equal(tf: Any, kind: str) -> None:
    assert_phase_invariant(lambda: bfloat16(tf, kind, np.nan))

    with pytest.raises(AssertionError):
        assert_phase_invariant(lambda: bfloat16(tf, kind, np.nan), equal_nan=False)


def test_float8_and_int4_arrays_compare_as_numbers(tf: Any) -> None:
    import ml_dtypes

    eights = [np.array([1.0, np.nan], dtype=ml_dtypes.float8_e4m3fn) for _ in range(2)]
    assert_phase_invariant(by_phase(*eights))
    fours = np.array([1, 2], dtype=ml_dtypes.int4), np.array([1, 3], dtype=ml_dtypes.int4)
    with pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(by_phase(*fours))

    assert "max abs difference 1 at index (1,): 2 (test) vs 3 (train)" in str(excinfo.value)


# -- The same object in both phases; results that hold themselves or nest too deeply --


class Prediction:
    """An object whose ``==`` raises, as a numpy-backed prediction's may."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("the truth value of a Prediction is ambiguous")

    __hash__ = object.__hash__


def test_the_same_object_in_both_phases_is_equal_even_when_its_eq_raises() -> None:
    prediction = Prediction()

    results = assert_phase_invariant(lambda: {"prediction": prediction})

    assert results[0]["prediction"] is prediction


def test_two_objects_whose_eq_raises_still_cannot_be_compared() -> None:
    with pytest.raises(TypeError, match=r"== raised ValueError: the truth value"):
        assert_phase_invariant(lambda: Prediction())


def holds_itself() -> list[object]:
    items: list[object] = [1]
    items.append({"again": items})
    return items


def nested(depth: int) -> object:
    result: object = 0
    for _ in range(depth):
        result = [result]
    return result


UNCOMPARABLE = (
    "{helper}: {name} returned {what} at {path} in phase 0 (test) on the reference backend, "
    "which cannot be compared by value; return {instead} instead"
)


@pytest.mark.parametrize(
    ("helper", "fn", "what", "path", "instead"),
    [
        (
            assert_phase_invariant,
            holds_itself,
            "a list that holds itself",
            "result[1]['again']",
            "a result that does not hold itself (the values to compare)",
        ),
        (
            run_in_phases,
            lambda: nested(5000),
            "a result nested deeper than Python's recursion limit ({limit})",
            "result",
            "a flatter result (an array, or fewer levels of dicts, lists and tuples)",
        ),
    ],
    ids=["holds-itself", "too-deep"],
)
def test_a_result_that_holds_itself_or_nests_too_deeply_is_a_type_error(
    helper: Any, fn: Any, what: str, path: str, instead: str
) -> None:
    import sys

    with pytest.raises(TypeError) as excinfo:
        helper(fn)

    assert str(excinfo.value) == UNCOMPARABLE.format(
        helper=helper.__name__,
        name=fn.__qualname__,
        what=what.format(limit=sys.getrecursionlimit()),
        path=path,
        instead=instead,
    )
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def test_an_object_array_that_holds_itself_is_a_type_error() -> None:
    batch = np.empty(2, dtype=object)
    batch[0], batch[1] = np.zeros(2), batch

    with pytest.raises(TypeError, match=r"returned a ndarray that holds itself at result\[1\] "):
        run_in_phases(lambda: batch)


def test_the_same_item_twice_is_not_a_result_that_holds_itself() -> None:
    row = [1.0, 2.0]

    assert run_in_phases(lambda: [row, {"again": row}])[0] == [row, {"again": row}]


def test_a_comparison_past_the_recursion_limit_is_a_type_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pytest_learning_phase.assertions as assertions

    def too_deep(*args: object) -> list[str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(assertions, "differences", too_deep)

    with pytest.raises(TypeError) as excinfo:
        assert_phase_invariant(lambda: [0])

    assert str(excinfo.value) == (
        "assert_phase_invariant: test_a_comparison_past_the_recursion_limit_is_a_type_error."
        "<locals>.<lambda> returned results in phase 0 (test) and phase 1 (train) on the "
        "reference backend nested deeper than Python's recursion limit, which cannot be "
        "compared by value; return a flatter result (an array, or fewer levels of dicts, lists "
        "and tuples) instead"
    )


# -- auto: helpers called while collecting drive the framework the module imported --

AT_COLLECTION = {
    "torch": """
import pytest
from torch import nn
from pytest_learning_phase import run_in_phases


def probe():
    return nn.Identity().training  # a module built in the phase starts in its mode


AT_IMPORT = run_in_phases(probe)


@pytest.mark.parametrize("results", [run_in_phases(probe)])
def test_helpers_called_while_collecting(results):
    assert AT_IMPORT == results == {0: False, 1: True}


def test_helpers_called_in_a_test():
    assert run_in_phases(probe) == {0: False, 1: True}
""",
    "tf_keras": """
import pytest
from tf_keras import backend
from pytest_learning_phase import run_in_phases

AT_IMPORT = run_in_phases(backend.learning_phase)


@pytest.mark.parametrize("results", [run_in_phases(backend.learning_phase)])
def test_helpers_called_while_collecting(results):
    assert AT_IMPORT == results == {0: 0, 1: 1}


def test_helpers_called_in_a_test():
    assert run_in_phases(backend.learning_phase) == {0: 0, 1: 1}
""",
}


@pytest.mark.parametrize("framework", ["torch", "tf_keras"])
def test_auto_helpers_called_while_collecting_drive_the_framework_imported_so_far(
    pytester: pytest.Pytester, framework: str
) -> None:
    require_installed(framework, TORCH_INSTALL_HINT if framework == "torch" else TF_INSTALL_HINT)
    pytester.makepyfile(test_suite=AT_COLLECTION[framework])

    # A fresh interpreter: here every framework is imported already, so auto drives it anyway.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "default", timeout=180)

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"learning-phase: *, backends: reference, {framework} (*"])
