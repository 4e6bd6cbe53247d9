"""A model shared by a module-scoped fixture: a test that changes a submodule's mode is reported."""

import pytest
from torch import nn


@pytest.fixture(scope="module")
def shared_model():
    # built once, outside any test's phase: it starts in PyTorch's default, train mode
    return nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))


def test_puts_the_dropout_in_eval_mode_and_forgets_it(shared_model):
    shared_model[1].eval()  # the plugin restores it after this test, with a warning

    assert not shared_model[1].training


def test_the_next_test_gets_the_shared_model_back_in_train_mode(shared_model):
    assert all(module.training for module in shared_model.modules())
