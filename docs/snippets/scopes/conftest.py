import warnings

import pytest

from pytest_learning_phase import backend as K


@pytest.fixture(scope="session", autouse=True)
def inference_by_default():
    # The classic pattern from before the plugin: set the phase once for the
    # whole session. With the plugin it becomes the session's baseline.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        K.set_learning_phase(0)
