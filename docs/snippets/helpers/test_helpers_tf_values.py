import tensorflow as tf
from tf_keras import backend as K

from pytest_learning_phase import assert_phase_invariant


def tokens():
    """Return one ragged row per sentence: the last one is longer in training."""
    last = [7, 8, 9] if K.learning_phase() else [7, 8]
    return tf.ragged.constant([[1, 2, 3], last])


def test_ragged_rows_that_differ():
    assert_phase_invariant(tokens)


def features():
    """Return a sparse tensor whose second value is doubled in training."""
    second = 4.0 if K.learning_phase() else 2.0
    return tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.0, second], dense_shape=[3, 2])


def test_sparse_values_that_differ():
    assert_phase_invariant(features)


def test_the_same_ragged_and_sparse_tensors_compare_equal():
    ragged = tf.ragged.constant([[1.0], [2.0, 3.0]])
    sparse = tf.sparse.SparseTensor([[0, 0]], [1.0], dense_shape=[2, 2])
    assert_phase_invariant(lambda: {"ragged": ragged, "sparse": sparse})
