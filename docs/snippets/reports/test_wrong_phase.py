import pytest

from pytest_learning_phase import layers

inputs = [[1.0, 2.0, 3.0, 4.0]]


@pytest.mark.learning_phase(1)
class TestTrainingStep:
    def test_dropout_keeps_every_value(self):
        # Written for inference, but the class marker runs it in training.
        assert layers.Dropout(0.5, seed=0)(inputs).tolist() == inputs
