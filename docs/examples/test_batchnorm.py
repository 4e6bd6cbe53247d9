"""BatchNormalization uses the batch's statistics in training, its moving ones in inference."""

import numpy as np
import pytest


@pytest.mark.learning_phase(0, 1)
def test_batchnorm_normalises_with_batch_statistics_only_in_training(learning_phase, layers):
    inputs = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 30.0]], dtype="float32")
    batchnorm = layers.BatchNormalization()

    outputs = np.asarray(batchnorm(inputs))

    if learning_phase == 1:
        np.testing.assert_allclose(outputs.mean(axis=0), [0.0, 0.0], atol=1e-5)
    else:
        # A new layer's moving statistics are mean 0 and variance 1.
        expected = inputs / np.sqrt(1.0 + batchnorm.epsilon)
        np.testing.assert_allclose(outputs, expected, rtol=1e-5)


@pytest.mark.learning_phase(0, 1)
def test_batchnorm_updates_its_moving_mean_only_in_training(learning_phase, layers):
    batchnorm = layers.BatchNormalization(momentum=0.9)

    batchnorm(np.array([[0.0], [2.0]], dtype="float32"))  # batch mean: 1.0

    expected_moving_mean = 0.1 if learning_phase == 1 else 0.0
    np.testing.assert_allclose(np.asarray(batchnorm.moving_mean), [expected_moving_mean])
