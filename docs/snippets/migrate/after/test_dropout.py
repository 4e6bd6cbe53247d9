import numpy as np
import pytest

from pytest_learning_phase import layers


@pytest.mark.learning_phase(1)
def test_dropout_drops_in_training():
    assert (layers.Dropout(0.5)(np.ones((4, 8))) == 0).any()


@pytest.mark.learning_phase(0)
def test_dropout_is_the_identity_in_inference():
    inputs = np.ones((4, 8))
    np.testing.assert_array_equal(layers.Dropout(0.5)(inputs), inputs)
