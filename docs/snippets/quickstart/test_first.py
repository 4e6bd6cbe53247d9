import numpy as np
import pytest

from pytest_learning_phase import layers  # or: from tf_keras import layers


@pytest.mark.learning_phase(1)
def test_dropout_drops_in_training():
    outputs = layers.Dropout(0.5)(np.ones((4, 8)))

    assert (outputs == 0).any()


@pytest.mark.learning_phase(0, 1)
def test_dropout_keeps_the_mean(learning_phase):
    inputs = np.ones((1000, 100))

    outputs = layers.Dropout(0.5)(inputs)

    assert outputs.mean() == pytest.approx(1.0, abs=0.05)
