import pytest


@pytest.mark.learning_phase(2)
def test_y():
    pass


def test_the_rest_still_runs():
    pass
