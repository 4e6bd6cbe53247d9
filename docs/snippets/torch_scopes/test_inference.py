"""A module fixture puts the session's model in eval mode for this module's tests."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def inference(model):
    model.eval()  # this module's baseline: every test here starts with it
    yield
    model.train()  # torn down: the session's baseline again


def test_predicts_in_eval_mode(model):
    assert not model[1].training


def test_still_in_eval_mode_after_another_test(model):
    assert not any(module.training for module in model.modules())
