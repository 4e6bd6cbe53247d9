import numpy as np
import tf_keras

from pytest_learning_phase import assert_no_state_update_in_inference

X = np.arange(12.0, dtype="float32").reshape(4, 3)


class Residual(tf_keras.layers.Layer):
    def build(self, input_shape):
        self.norm = tf_keras.layers.BatchNormalization(name="norm")

    def call(self, inputs):
        return inputs + self.norm(inputs, training=True)  # the bug: training=True, always


def classifier(name, *blocks):
    norm = tf_keras.layers.BatchNormalization(name=f"{name}_norm")
    model = tf_keras.Sequential([*blocks, norm, tf_keras.layers.Dense(2)], name=name)
    model(X, training=False)  # builds it
    return model


def test_the_model_leaves_its_statistics_alone():
    assert_no_state_update_in_inference(classifier("clean"), X)


def test_predict_leaves_them_alone():
    model = classifier("served")
    assert_no_state_update_in_inference(model.predict, X, verbose=0, state=model)


def test_a_block_with_training_true_hard_coded():
    assert_no_state_update_in_inference(classifier("buggy", Residual(name="residual")), X)
