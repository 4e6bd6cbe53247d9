"""The real ``tf_keras`` layers follow the marker's phase when the plugin drives tf_keras."""

from __future__ import annotations

import pytest

from tests._suite import BACKEND_MODULES, PHASE_HELPER, Suite, preload_tf_keras


@pytest.fixture
def tf_keras_loaded() -> None:
    """Import TensorFlow before ``pytester`` snapshots ``sys.modules`` (it can't load twice)."""
    preload_tf_keras()


@pytest.fixture
def tf_keras_suite(tf_keras_loaded: None, pytester: pytest.Pytester) -> Suite:
    """A pytester session driving the real tf_keras."""
    pytester.makepyfile(lp_backend=BACKEND_MODULES["tf_keras"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "tf_keras")


REAL_LAYER_SUITE = """
import numpy as np
import pytest
import tf_keras

x = np.ones((64, 32), "float32")

def drops(output):
    return not np.array_equal(np.asarray(output), x)

@pytest.mark.learning_phase(1)
def test_dropout_drops_under_marker_1():
    assert drops(tf_keras.layers.Dropout(0.5)(x))

@pytest.mark.learning_phase(0)
def test_dropout_is_identity_under_marker_0():
    assert not drops(tf_keras.layers.Dropout(0.5)(x))

@pytest.mark.learning_phase(None)
def test_dropout_is_identity_when_unset():
    assert not drops(tf_keras.layers.Dropout(0.5)(x))

def test_dropout_follows_train_phase_fixture(train_phase):
    assert drops(tf_keras.layers.Dropout(0.5)(x))

@pytest.mark.learning_phase(0, 1)
def test_batchnorm_updates_moving_mean_only_in_training(learning_phase):
    layer = tf_keras.layers.BatchNormalization(momentum=0.5)
    layer(x + 3.0)
    moving_mean = np.asarray(layer.moving_mean)
    if learning_phase == 1:
        np.testing.assert_allclose(moving_mean, 2.0)
    else:
        np.testing.assert_allclose(moving_mean, 0.0)
"""


def test_real_tf_keras_layers_follow_the_marker(tf_keras_suite: Suite) -> None:
    tf_keras_suite.write(REAL_LAYER_SUITE)
    tf_keras_suite.run(
        "-W", "error::pytest_learning_phase.LearningPhaseLeakWarning"
    ).assert_outcomes(passed=6)


def test_real_tf_keras_layers_follow_the_command_line_default(tf_keras_suite: Suite) -> None:
    tf_keras_suite.write(
        """
        import numpy as np
        import tf_keras

        def test_dropout_drops_in_a_training_session():
            x = np.ones((64, 32), "float32")
            assert not np.array_equal(np.asarray(tf_keras.layers.Dropout(0.5)(x)), x)
        """
    )
    tf_keras_suite.run("--learning-phase=1").assert_outcomes(passed=1)
    tf_keras_suite.run("--learning-phase=0").assert_outcomes(failed=1)
