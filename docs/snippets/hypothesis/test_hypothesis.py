import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_learning_phase import backend as K
from pytest_learning_phase import layers

widths = st.integers(min_value=1, max_value=16)


# The marker sets the phase once for the whole test, before the first example.
@pytest.mark.learning_phase(0)
@given(width=widths)
def test_dropout_keeps_every_value_in_inference(width):
    x = np.ones((2, width))

    np.testing.assert_array_equal(layers.Dropout(0.5)(x), x)
    assert K.learning_phase() == 0


# The fixture's value is the same for every example: the health check can be suppressed.
@pytest.mark.learning_phase(0, 1)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=widths)
def test_dropout_keeps_the_shape_in_both_phases(learning_phase, width):
    x = np.ones((2, width))

    assert layers.Dropout(0.5)(x).shape == x.shape
    assert K.learning_phase() == learning_phase
