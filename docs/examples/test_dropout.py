"""Dropout drops units in training and passes its input through in inference."""

import numpy as np
import pytest


@pytest.mark.learning_phase(0, 1)
def test_dropout_drops_units_only_in_training(learning_phase, layers):
    inputs = np.ones((8, 32), dtype="float32")

    outputs = np.asarray(layers.Dropout(0.5)(inputs))

    if learning_phase == 1:
        # Inverted dropout: dropped units are 0, kept ones are scaled by 1 / (1 - rate).
        assert np.unique(outputs).tolist() == [0.0, 2.0]
    else:
        np.testing.assert_array_equal(outputs, inputs)
