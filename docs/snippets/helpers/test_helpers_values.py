import numpy as np

from pytest_learning_phase import assert_phase_invariant
from pytest_learning_phase import backend as K


def batch_of_sequences():
    """Sequences of different lengths in one object array, as a tokenizer returns them."""
    batch = np.empty(2, dtype=object)
    batch[0] = np.array([1.0, 2.0, 3.0])
    batch[1] = np.array([4.0, 5.0]) * (2.0 if K.learning_phase() else 1.0)
    return batch


def test_a_batch_of_sequences_compares_row_by_row():
    assert_phase_invariant(batch_of_sequences)


def scores():
    return (score for score in [0.1, 0.9])


def test_a_generator_has_no_value_to_compare():
    assert_phase_invariant(scores)


def test_the_same_scores_as_a_list_compare():
    assert_phase_invariant(lambda: list(scores()))


class Prediction:
    """An object whose == raises, as some table and array types do."""

    def __init__(self, labels):
        self.labels = labels

    def __eq__(self, other):
        raise ValueError("the truth value of a Prediction is ambiguous")

    __hash__ = object.__hash__


def predict():
    return {"prediction": Prediction(["cat", "dog"])}


def test_an_object_whose_equality_raises():
    assert_phase_invariant(predict)
