"""A test that depends on the phase without saying so: `--learning-phase-audit` finds it."""

import numpy as np


def test_predictions_are_deterministic(layers):
    model = layers.Dropout(0.5)  # stands for a model with dropout inside
    inputs = np.ones((4, 64), dtype="float32")

    # True in inference (the default phase), false once the phase is 1.
    np.testing.assert_array_equal(np.asarray(model(inputs)), np.asarray(model(inputs)))
