import numpy as np

from pytest_learning_phase import assert_no_state_update_in_inference, layers
from pytest_learning_phase import backend as K

X = np.arange(12.0, dtype="float32").reshape(4, 3)


def built_norm(name):
    norm = layers.BatchNormalization(name=name)
    norm(X, training=False)  # builds it; its statistics stay as they start
    return norm


class Encoder(layers.Layer):
    def __init__(self):
        super().__init__(name="encoder")
        self.norm = built_norm("encoder_norm")

    def call(self, inputs, training=None):
        return self.norm(inputs, training=True)  # the bug: training=True, also in inference


def test_inference_leaves_the_statistics_alone():
    assert_no_state_update_in_inference(built_norm("norm"), X)


def test_a_training_true_buried_in_a_layer():
    assert_no_state_update_in_inference(Encoder(), X)  # watches the layers it holds too


def test_a_layer_called_with_the_phase_set_to_1():
    norm = built_norm("head_norm")

    def predict(batch):
        with K.learning_phase_scope(1):  # what a leaking test or helper leaves behind
            return norm(batch)

    assert_no_state_update_in_inference(predict, X, state=[built_norm("body_norm"), norm])


def test_a_layer_with_no_state():
    assert_no_state_update_in_inference(layers.Dropout(0.5, name="dropout"), X)


def test_a_layer_not_built_yet():
    assert_no_state_update_in_inference(layers.BatchNormalization(name="fresh"), X)


def test_a_function_and_no_state_argument():
    assert_no_state_update_in_inference(np.tanh, X)


def test_state_that_is_not_a_layer():
    assert_no_state_update_in_inference(np.tanh, X, state=X)
