import numpy as np
import pytest

from pytest_learning_phase import backend as K
from pytest_learning_phase import layers

built_in = []


@pytest.fixture(scope="module")
def model():
    # Shared by tests marked 0 and 1: built in the phase of its own scope (the
    # session fixture's 0), whichever test asks for it first.
    built_in.append(K.learning_phase())
    return layers.Dropout(0.5, seed=1)


@pytest.mark.learning_phase(1)
def test_a_marker_wins_over_the_baseline(model):
    inputs = np.ones((4, 4), "float32")
    assert not np.array_equal(model(inputs), inputs)


def test_runs_in_the_session_baseline(model):
    assert K.learning_phase() == 0


@pytest.mark.learning_phase(0)
def test_the_module_fixture_was_built_in_its_scope_phase(model):
    assert built_in == [0]
