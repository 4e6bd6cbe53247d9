import minifw
import numpy as np
import pytest


@pytest.mark.learning_phase(0, 1)
def test_dropout_follows_the_phase(learning_phase):
    inputs = np.ones((4, 8))

    dropped = (minifw.dropout(inputs, 0.5) == 0).any()

    assert dropped == (learning_phase == 1)


def test_a_leak_is_reported():
    minifw.set_training_flag(True)
