"""In graph mode: a test that needs the training phase and does not ask for it."""

import numpy as np
import tf_keras
from tf_keras import backend as K


def test_dropout_drops_units():
    inputs = tf_keras.Input((8,))
    drop = tf_keras.layers.Dropout(0.5, seed=0)
    predict = K.function([inputs], [drop(inputs)])  # the mode goes into the graph here
    outputs = predict([np.ones((2, 8), dtype="float32")])[0]
    assert (outputs == 0).any()
