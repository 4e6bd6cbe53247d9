"""New modules start in the phase's mode; explicit calls win."""

import pytest
import torch
from torch import nn


def build_classifier() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))


@pytest.mark.learning_phase(0, 1)  # two tests: [test] and [train]
def test_a_new_model_and_every_submodule_start_in_the_phase_s_mode(learning_phase):
    model = build_classifier()

    assert {module.training for module in model.modules()} == {learning_phase == 1}


@pytest.mark.learning_phase(0)
def test_dropout_keeps_every_unit_in_a_model_built_at_phase_0():
    model = build_classifier()
    inputs = torch.randn(4, 8)

    torch.testing.assert_close(model(inputs), model(inputs))


@pytest.mark.learning_phase(None)
def test_unset_is_pytorch_s_default_train_mode():
    assert build_classifier().training


@pytest.mark.learning_phase(1)
def test_an_explicit_eval_wins_over_the_phase():
    model = build_classifier().eval()

    assert not any(module.training for module in model.modules())


@pytest.fixture
def fresh_model():
    # function-scoped: built inside the test's phase, like the test's own code
    return build_classifier()


@pytest.mark.learning_phase(0)
def test_a_function_scoped_fixture_builds_in_the_test_s_phase(fresh_model):
    assert not fresh_model.training
