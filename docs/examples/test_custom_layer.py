"""A layer of our own that reads the learning phase when it is not told ``training``."""

import numpy as np
import pytest


@pytest.fixture
def flip_augment(K, layers):
    """Our augmentation layer: flips the features left-right, in training only."""

    class FlipAugment(layers.Layer):
        def call(self, inputs, training=None):
            if training is None:
                training = K.learning_phase()
            return inputs[..., ::-1] if training else inputs

    return FlipAugment()


INPUTS = np.array([[1.0, 2.0, 3.0]], dtype="float32")


@pytest.mark.learning_phase(0, 1)
def test_flip_augment_flips_only_in_training(learning_phase, flip_augment):
    expected = INPUTS[..., ::-1] if learning_phase == 1 else INPUTS

    np.testing.assert_array_equal(np.asarray(flip_augment(INPUTS)), expected)


@pytest.mark.learning_phase(None)
def test_flip_augment_passes_through_when_the_phase_is_unset(flip_augment):
    # Nothing set: `call` gets training=None, and learning_phase() reads 0.
    np.testing.assert_array_equal(np.asarray(flip_augment(INPUTS)), INPUTS)


@pytest.mark.learning_phase(1)
def test_training_argument_wins_over_the_phase(flip_augment):
    outputs = flip_augment(INPUTS, training=False)

    np.testing.assert_array_equal(np.asarray(outputs), INPUTS)
