import numpy as np

from pytest_learning_phase import (
    assert_deterministic_in_inference,
    assert_phase_invariant,
    layers,
    run_in_phases,
)
from pytest_learning_phase import backend as K

X = np.ones((2, 3))


def test_passing_the_layers_output_instead_of_the_layer():
    dropout = layers.Dropout(0.5)

    assert_phase_invariant(dropout(X))


def test_a_tolerance_read_from_a_config_file():
    assert_phase_invariant(layers.Dropout(0.5), X, rtol="1e-5")


def test_a_negative_tolerance():
    assert_phase_invariant(layers.Dropout(0.5), X, atol=-1e-6)


def test_equal_nan_given_as_a_word():
    assert_phase_invariant(layers.Dropout(0.5), X, equal_nan="yes")


def test_phases_given_as_one_number():
    run_in_phases(layers.Dropout(0.5), X, phases=1)


def test_a_phase_that_does_not_exist():
    run_in_phases(layers.Dropout(0.5), X, phases=(0, 2))


def test_a_phase_given_twice():
    run_in_phases(layers.Dropout(0.5), X, phases=(1, True))


def test_no_phase_at_all():
    run_in_phases(layers.Dropout(0.5), X, phases=())


def test_one_phase_is_nothing_to_compare():
    assert_phase_invariant(layers.Dropout(0.5), X, phases=(1,))


def normalise(x):
    if K.learning_phase() and len(x) < 2:
        raise ValueError("batch statistics need at least 2 samples")
    return x


def test_an_error_raised_in_training_only():
    run_in_phases(normalise, X[:1])


def test_an_error_raised_in_the_second_call_only():
    batches = iter([X])

    assert_deterministic_in_inference(next, batches)
