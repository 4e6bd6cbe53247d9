import numpy as np

from pytest_learning_phase import (
    assert_deterministic_in_inference,
    assert_phase_dependent,
    assert_phase_invariant,
    layers,
)
from pytest_learning_phase import backend as K


def summary_structure():
    training = K.learning_phase() == 1
    return {
        "weights": np.zeros((2, 3) if training else (3, 2)),
        "history": [1.0, 2.0] if training else [1.0],
        "config": {"rate": 0.5} if training else {"seed": 0},
        "state": (0,) if training else None,
        "ids": np.arange(2.0) if training else np.array(["a", "b"]),
        "layers": ("dense",) if training else ["dense"],
    }


def summary_values():
    training = K.learning_phase() == 1
    return {
        "output": np.full((2, 2), 0.5 if training else 1.0),
        "scale": 0.1 if training else np.float16(0.1),
        "labels": np.array(["cat", "dog" if training else "cow"]),
        "mode": "train" if training else "test",
    }


def test_structure_differs():
    assert_phase_invariant(summary_structure)


def test_values_differ():
    assert_phase_invariant(summary_values)


def test_dropout_called_with_training_false_ignores_the_phase():
    assert_phase_dependent(layers.Dropout(0.5), np.ones((2, 2)), training=False)


class LeakyNormaliser:
    """Subtracts a running mean that it updates on every call, in inference too (the bug)."""

    def __init__(self):
        self.mean = 0.0

    def __call__(self, x):
        output = x - self.mean
        self.mean = 0.5 * self.mean + 0.5 * x.mean()
        return output

    def __repr__(self):
        return "LeakyNormaliser()"


def test_the_normaliser_is_deterministic_in_inference():
    assert_deterministic_in_inference(LeakyNormaliser(), np.array([[2.0, 4.0]]))
