"""The phase asked for through fixtures instead of a marker."""

import numpy as np
import pytest

INPUTS = np.ones((8, 32), dtype="float32")


def test_dropout_drops_when_the_test_asks_for_train_phase(train_phase, layers):
    outputs = np.asarray(layers.Dropout(0.5)(INPUTS))

    assert train_phase == 1
    assert (outputs == 0).any()


def test_dropout_keeps_everything_when_the_test_asks_for_test_phase(test_phase, layers):
    outputs = np.asarray(layers.Dropout(0.5)(INPUTS))

    assert test_phase == 0
    np.testing.assert_array_equal(outputs, INPUTS)


@pytest.mark.parametrize("learning_phase", [0, 1], ids=["test", "train"], indirect=True)
def test_gaussian_noise_is_added_only_in_training(learning_phase, layers):
    outputs = np.asarray(layers.GaussianNoise(0.1)(INPUTS))

    noisy = not np.array_equal(outputs, INPUTS)
    assert noisy == (learning_phase == 1)


@pytest.fixture
def batchnorm_after_one_batch(train_phase, layers):
    """Return a BatchNormalization layer trained on one batch (so the test runs at phase 1)."""
    batchnorm = layers.BatchNormalization(momentum=0.0)
    batchnorm(np.array([[0.0], [2.0]], dtype="float32"))  # moving mean becomes 1.0
    return batchnorm


def test_inference_uses_the_mean_learned_in_training(batchnorm_after_one_batch):
    outputs = batchnorm_after_one_batch(np.array([[1.0]], dtype="float32"), training=False)

    np.testing.assert_allclose(np.asarray(outputs), [[0.0]], atol=1e-6)
