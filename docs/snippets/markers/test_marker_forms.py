import pytest

from pytest_learning_phase import backend as K

pytestmark = pytest.mark.learning_phase(0)  # every test in this module: phase 0 ...


def test_module_marker_applies():
    assert K.learning_phase() == 0


@pytest.mark.learning_phase(1)  # ... unless a closer marker says otherwise
def test_function_marker_wins_over_module_marker():
    assert K.learning_phase() == 1


@pytest.mark.learning_phase(1)
class TestTraining:
    def test_class_marker_applies(self):
        assert K.learning_phase() == 1

    @pytest.mark.learning_phase(None)
    def test_unset(self, learning_phase):
        assert learning_phase is None
        assert not K.global_learning_phase_is_set()


@pytest.mark.learning_phase(0, 1, None)
def test_one_item_per_phase(learning_phase):
    assert K.global_learning_phase_is_set() == (learning_phase is not None)


@pytest.mark.parametrize(
    "width",
    [pytest.param(8, marks=pytest.mark.learning_phase(1)), 16],
)
def test_param_marker_is_the_closest(width, learning_phase):
    assert learning_phase == (1 if width == 8 else 0)


@pytest.mark.learning_phase(True)
def test_values_are_normalised(learning_phase):
    assert learning_phase == 1
    assert K.learning_phase() == 1
