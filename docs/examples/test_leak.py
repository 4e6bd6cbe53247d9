"""A test that changes the phase and never puts it back, and the test after it."""

import numpy as np
import pytest


def test_leaks_the_training_phase(K):
    # Old-style code: set the global phase and never restore it. The plugin
    # restores it after this test and reports the leak with a warning.
    with pytest.warns(UserWarning, match="set_learning_phase` is deprecated"):
        K.set_learning_phase(1)

    assert K.learning_phase() == 1


@pytest.mark.learning_phase(None)
def test_the_next_test_runs_with_the_phase_unset_again(K, layers):
    inputs = np.ones((8, 32), dtype="float32")

    assert K.learning_phase() == 0
    np.testing.assert_array_equal(np.asarray(layers.Dropout(0.5)(inputs)), inputs)
