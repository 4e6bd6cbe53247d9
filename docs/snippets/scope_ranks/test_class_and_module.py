"""A class fixture and a module fixture set different phases: the closer scope wins."""

import warnings

import pytest

from pytest_learning_phase import backend as K


def set_phase(value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        K.set_learning_phase(value)


@pytest.fixture(scope="module")
def evaluation_data():
    set_phase(0)  # from now on the module's baseline is phase 0
    return [1.0, 2.0, 3.0]


class TestTraining:
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def training_mode(cls):
        set_phase(1)  # the class's baseline is phase 1

    def test_starts_in_the_train_phase(self):
        assert K.learning_phase() == 1

    def test_a_module_fixture_does_not_replace_the_class_phase(self, evaluation_data):
        # evaluation_data may be set up right now, for this test: the class
        # is still closer than the module
        assert K.learning_phase() == 1


def test_outside_the_class(evaluation_data):
    assert K.learning_phase() == 0
