"""Every result compares by value, in real pytest sessions on each backend where it exists.

Object arrays holding arrays (a batch of sequences), ``tf.RaggedTensor``,
``tf.SparseTensor`` and torch nested tensors compare by value; a result that
has no value to compare (a generator, an iterator, an object whose ``==``
raises, a ``meta`` tensor) is an error naming the helper, the phase and what to
return instead.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_learning_phase import assert_phase_invariant, backend
from pytest_learning_phase.adapters._current import set_current_adapter
from pytest_learning_phase.adapters.reference import ReferenceAdapter
from tests._failures import error_lines_by_test
from tests._suite import BACKEND_MODULES, PHASE_HELPER, Suite

TOLERANCE = "(rtol=1e-07, atol=0)"


def invariant_head(name: str, backend: str) -> str:
    return (
        f"E       AssertionError: assert_phase_invariant: {name} gave different results in "
        f"phase 0 (test) and phase 1 (train) on the {backend} backend"
    )


def uncomparable(helper: str, name: str, what: str, backend: str, instead: str) -> str:
    return (
        f"E       TypeError: {helper}: {name} returned {what} in phase 0 (test) on the {backend} "
        f"backend, which cannot be compared by value; return {instead} instead"
    )


# -- numpy object arrays and Python results, on the reference and tf_keras backends --

OBJECT_ARRAYS = """
import numpy as np
from lp_backend import phase
from pytest_learning_phase import assert_phase_dependent, assert_phase_invariant, run_in_phases


def rows(*sequences):
    batch = np.empty(len(sequences), dtype=object)
    for index, sequence in enumerate(sequences):
        batch[index] = np.asarray(sequence, dtype=float)
    return batch


SAME = rows([1, 2, 3], [4, 5])


def test_the_same_object_array_in_both_phases():
    assert_phase_invariant(lambda: SAME)


def test_equal_object_arrays_built_in_each_phase():
    assert_phase_invariant(lambda: {"batch": rows([1, 2, 3], [4, 5])})


def test_an_object_array_whose_rows_differ_is_phase_dependent():
    assert_phase_dependent(lambda: rows([1, 2], [3 + phase()]))


def scaled_row():
    return rows([1, 2, 3], [4, 5 * (1 + phase())])


def test_a_value_that_differs_in_one_row():
    assert_phase_invariant(scaled_row)


def longer_row():
    return rows([1, 2, 3], [4, 5, 6][: 2 + phase()])


def test_a_row_whose_length_differs():
    assert_phase_invariant(longer_row)


class Accumulated:
    def __init__(self):
        self.batch = rows([0, 0], [0])

    def __repr__(self):
        return "Accumulated()"

    def __call__(self):
        if phase():
            self.batch[0] += 1  # the row array held by the object array, changed in place
        return self.batch


def test_a_row_changed_in_place_after_it_was_returned():
    assert_phase_invariant(Accumulated())
"""


def test_object_arrays_holding_arrays_compare_row_by_row(suite: Suite) -> None:
    suite.write(OBJECT_ARRAYS)

    result = suite.run()

    result.assert_outcomes(passed=3, failed=3)
    backend = suite.backend
    assert error_lines_by_test(result) == {
        "test_a_value_that_differs_in_one_row": [
            invariant_head("scaled_row", backend),
            "E         at result[1]: max abs difference 5 at index (1,): 5.0 (test) vs 10.0 "
            f"(train); 1 of 2 elements differ {TOLERANCE}",
        ],
        "test_a_row_whose_length_differs": [
            invariant_head("longer_row", backend),
            "E         at result[1]: shape (2,) (test) vs (3,) (train)",
        ],
        "test_a_row_changed_in_place_after_it_was_returned": [
            invariant_head("Accumulated()", backend),
            "E         at result[0]: max abs difference 1 at index (0,): 0.0 (test) vs 1.0 "
            f"(train); 2 of 2 elements differ {TOLERANCE}",
        ],
    }


UNCOMPARABLE = """
from lp_backend import phase
from pytest_learning_phase import assert_phase_invariant, run_in_phases


def numbers():
    return (n * phase() for n in range(3))


def test_a_generator():
    assert_phase_invariant(numbers)


def rows_by_key():
    return {"rows": map(abs, [-1, -2])}


def test_an_iterator_inside_a_dict():
    run_in_phases(rows_by_key)


class Opaque:
    def __eq__(self, other):
        raise RuntimeError("Opaque cannot be compared")

    __hash__ = object.__hash__


def opaque():
    return [1, Opaque()]


def test_an_object_whose_eq_raises():
    assert_phase_invariant(opaque)
"""


def test_results_with_no_value_to_compare_are_errors_naming_the_helper_and_the_phase(
    suite: Suite,
) -> None:
    suite.write(UNCOMPARABLE)

    result = suite.run()

    result.assert_outcomes(failed=3)
    backend = suite.backend
    a_list = "a list (list(...)) or a tuple"
    assert error_lines_by_test(result) == {
        "test_a_generator": [
            uncomparable(
                "assert_phase_invariant", "numbers", "a generator at result", backend, a_list
            )
        ],
        "test_an_iterator_inside_a_dict": [
            uncomparable(
                "run_in_phases",
                "rows_by_key",
                "an iterator (map) at result['rows']",
                backend,
                a_list,
            )
        ],
        "test_an_object_whose_eq_raises": [
            "E       TypeError: assert_phase_invariant: opaque returned results at result[1] in "
            f"phase 0 (test) and phase 1 (train) on the {backend} backend that cannot be "
            "compared by value: == raised RuntimeError: Opaque cannot be compared; return "
            "numbers, arrays, tensors, or dicts, lists and tuples of them instead"
        ],
    }


# -- TensorFlow's ragged and sparse tensors, on the tf_keras backend --


@pytest.fixture
def tf_keras_suite(preloaded_tf_keras: None, pytester: pytest.Pytester) -> Suite:
    """A pytester session driving tf_keras."""
    pytester.makepyfile(lp_backend=BACKEND_MODULES["tf_keras"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "tf_keras")


RAGGED_AND_SPARSE = """
import tensorflow as tf
from lp_backend import phase
from pytest_learning_phase import assert_phase_dependent, assert_phase_invariant, run_in_phases

RAGGED = tf.ragged.constant([[1.0, 2.0], [3.0]])
NESTED = tf.ragged.constant([[[1, 2], [3]], [[4]]])
SPARSE = tf.sparse.SparseTensor(indices=[[0, 1], [2, 0]], values=[1.0, 2.0], dense_shape=[3, 2])


def test_the_same_ragged_tensor_in_both_phases():
    assert_phase_invariant(lambda: RAGGED)
    assert_phase_invariant(lambda: NESTED)


def test_equal_ragged_tensors_built_in_each_phase():
    assert_phase_invariant(lambda: [tf.ragged.constant([[1.0, 2.0], [3.0]])])


def test_ragged_tensors_that_differ_are_phase_dependent():
    assert_phase_dependent(lambda: tf.ragged.constant([[1.0], [2.0] * (1 + phase())]))


def test_run_in_phases_gives_a_ragged_tensor_as_its_rows():
    rows = run_in_phases(lambda: RAGGED, phases=(0,))[0]
    assert [row.tolist() for row in rows] == [[1.0, 2.0], [3.0]]


def test_the_same_sparse_tensor_in_both_phases():
    assert_phase_invariant(lambda: SPARSE)


def test_a_sparse_tensor_with_its_entries_in_another_order_is_the_same():
    def entries():
        indices, values = [[0, 1], [2, 0]], [1.0, 2.0]
        if phase():
            indices, values = indices[::-1], values[::-1]
        return tf.sparse.SparseTensor(indices, values, dense_shape=[3, 2])

    assert_phase_invariant(entries)


def longer_second_row():
    return tf.ragged.constant([[1.0, 2.0], [3.0, 4.0][: 1 + phase()]])


def test_a_ragged_row_whose_length_differs():
    assert_phase_invariant(longer_second_row)


def scaled_first_row():
    return tf.ragged.constant([[1.0, 2.0 * (1 + phase())], [3.0]])


def test_a_ragged_value_that_differs():
    assert_phase_invariant(scaled_first_row)


def scaled_sparse_value():
    return tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.0, 2.0 + phase()], dense_shape=[3, 2])


def test_a_sparse_value_that_differs():
    assert_phase_invariant(scaled_sparse_value)


def wider_sparse_shape():
    return tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.0, 2.0], dense_shape=[3, 2 + phase()])


def test_a_sparse_shape_that_differs():
    assert_phase_invariant(wider_sparse_shape)
"""


def test_ragged_and_sparse_tensors_compare_by_value(tf_keras_suite: Suite) -> None:
    tf_keras_suite.write(RAGGED_AND_SPARSE)

    result = tf_keras_suite.run()

    result.assert_outcomes(passed=6, failed=4)
    assert error_lines_by_test(result) == {
        "test_a_ragged_row_whose_length_differs": [
            invariant_head("longer_second_row", "tf_keras"),
            "E         at result[1]: shape (1,) (test) vs (2,) (train)",
        ],
        "test_a_ragged_value_that_differs": [
            invariant_head("scaled_first_row", "tf_keras"),
            "E         at result[0]: max abs difference 2 at index (1,): 2.0 (test) vs 4.0 "
            f"(train); 1 of 2 elements differ {TOLERANCE}",
        ],
        "test_a_sparse_value_that_differs": [
            invariant_head("scaled_sparse_value", "tf_keras"),
            "E         at result.values: max abs difference 1 at index (1,): 2.0 (test) vs 3.0 "
            f"(train); 1 of 2 elements differ {TOLERANCE}",
        ],
        "test_a_sparse_shape_that_differs": [
            invariant_head("wider_sparse_shape", "tf_keras"),
            "E         at result.dense_shape: (3, 2) (test) vs (3, 3) (train)",
        ],
    }


# -- torch's nested and meta tensors, on the torch backend --

TORCH_TENSORS = """
import warnings

import torch
from pytest_learning_phase import assert_phase_dependent, assert_phase_invariant, run_in_phases

warnings.filterwarnings("ignore", "The PyTorch API of nested tensors", UserWarning)
NESTED = torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])


def test_the_same_nested_tensor_in_both_phases():
    assert_phase_invariant(lambda: NESTED)


def grows_in_training():
    length = 3 if torch.nn.Linear(1, 1).training else 2
    return torch.nested.nested_tensor([torch.ones(2), torch.ones(length)])


def test_a_nested_tensor_whose_row_differs():
    assert_phase_invariant(grows_in_training)


def test_a_nested_tensor_whose_row_differs_is_phase_dependent():
    assert_phase_dependent(grows_in_training)


def on_meta():
    return {"logits": torch.ones(2, device="meta")}


def test_a_meta_tensor():
    run_in_phases(on_meta)
"""


def test_nested_tensors_compare_by_value_and_a_meta_tensor_is_an_error(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_suite=textwrap.dedent(TORCH_TENSORS))

    result = pytester.runpytest(
        "-W", "default", "-p", "no:cacheprovider", "--learning-phase-backend=torch"
    )

    result.assert_outcomes(passed=2, failed=2)
    assert error_lines_by_test(result) == {
        "test_a_nested_tensor_whose_row_differs": [
            invariant_head("grows_in_training", "torch"),
            "E         at result[1]: shape (2,) (test) vs (3,) (train)",
        ],
        "test_a_meta_tensor": [
            uncomparable(
                "run_in_phases",
                "on_meta",
                "a torch tensor on the meta device (it has no values) at result['logits']",
                "torch",
                "a tensor with values (on the CPU or a GPU)",
            )
        ],
    }


# -- In process: properties of the comparison, over generated results --

FINITE = st.floats(-1e6, 1e6, allow_nan=False, width=64)
ROWS = st.lists(st.lists(FINITE, max_size=4), min_size=1, max_size=4)


def object_array(rows: list[list[float]]) -> np.ndarray:
    batch = np.empty(len(rows), dtype=object)
    for index, row in enumerate(rows):
        batch[index] = np.array(row, dtype=float)
    return batch


LEAVES = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    FINITE,
    st.text(max_size=3),
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3), elements=FINITE),
    ROWS.map(object_array),
)
RESULTS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=2), children, max_size=3),
    ),
    max_leaves=8,
)


@contextmanager
def reference_helpers() -> Iterator[None]:
    """Make the helpers drive the reference backend, whatever the session chose."""
    previous = set_current_adapter(ReferenceAdapter())
    yield
    set_current_adapter(previous)


def by_phase(test_result: object, train_result: object) -> Any:
    def result() -> object:
        return train_result if backend.learning_phase() else test_result

    return result


@settings(max_examples=60, deadline=None)
@given(result=RESULTS)
def test_a_result_and_its_deep_copy_compare_equal(result: object) -> None:
    with reference_helpers():
        assert_phase_invariant(lambda: result)
        assert_phase_invariant(by_phase(result, copy.deepcopy(result)))


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, data=st.data())
def test_a_changed_row_of_an_object_array_is_named_by_its_index(
    rows: list[list[float]], data: st.DataObject
) -> None:
    row = data.draw(st.sampled_from([i for i, values in enumerate(rows) if values] or [-1]))
    if row < 0:  # every row empty: there is nothing to change
        return
    column = data.draw(st.integers(0, len(rows[row]) - 1))
    changed = copy.deepcopy(rows)
    changed[row][column] += 1.0 + abs(changed[row][column])  # well past rtol=1e-7

    with reference_helpers(), pytest.raises(AssertionError) as excinfo:
        assert_phase_invariant(by_phase(object_array(rows), object_array(changed)))

    difference = str(excinfo.value).splitlines()[1]
    assert difference.startswith(f"  at result[{row}]: max abs difference ")
    assert f"at index ({column},)" in difference
