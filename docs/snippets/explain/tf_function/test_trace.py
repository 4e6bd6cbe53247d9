"""A tf.function keeps the phase of its first trace: build it in the test that calls it."""

import numpy as np
import pytest
import tensorflow as tf
from tf_keras import layers

inputs = np.ones((2, 8), dtype="float32")
dropout = layers.Dropout(0.5, seed=1)
predict = tf.function(lambda batch: dropout(batch))  # one function for every test


@pytest.mark.learning_phase(1)
def test_training_drops_units():
    assert (predict(inputs).numpy() == 0).any()  # the first call traces, in phase 1


@pytest.mark.learning_phase(0)
def test_inference_keeps_every_unit():
    # Fails: the call reuses the trace made in phase 1, which drops units.
    assert not (predict(inputs).numpy() == 0).any()


@pytest.mark.learning_phase(0)
def test_a_function_built_in_the_test_traces_in_its_phase():
    fresh = tf.function(lambda batch: dropout(batch))
    assert not (fresh(inputs).numpy() == 0).any()
