import numpy as np
import pytest

from pytest_learning_phase import backend as K  # or: from tf_keras import backend as K
from pytest_learning_phase import layers


@pytest.fixture
def training():
    K.set_learning_phase(1)
    yield
    K.clear_session()


def test_dropout_drops_in_training(training):
    assert (layers.Dropout(0.5)(np.ones((4, 8))) == 0).any()


def test_dropout_is_the_identity_in_inference():
    K.set_learning_phase(0)
    try:
        inputs = np.ones((4, 8))
        np.testing.assert_array_equal(layers.Dropout(0.5)(inputs), inputs)
    finally:
        K.clear_session()
