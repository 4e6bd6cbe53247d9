import numpy as np

from pytest_learning_phase import (
    assert_deterministic_in_inference,
    assert_phase_dependent,
    assert_phase_invariant,
    layers,
    run_in_phases,
)

INPUTS = np.ones((4, 16))


def test_run_in_phases_returns_one_result_per_phase():
    results = run_in_phases(layers.Dropout(0.5), INPUTS, phases=(0, 1, None))

    np.testing.assert_array_equal(results[0], INPUTS)
    assert (results[1] == 0).any()
    np.testing.assert_array_equal(results[None], INPUTS)


def test_dropout_depends_on_the_phase():
    assert_phase_dependent(layers.Dropout(0.5), INPUTS)


def test_dropout_called_with_training_false_does_not():
    assert_phase_invariant(layers.Dropout(0.5), INPUTS, training=False)


def test_batchnorm_is_deterministic_in_inference():
    assert_deterministic_in_inference(layers.BatchNormalization(), INPUTS)
