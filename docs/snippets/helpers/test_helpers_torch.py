import torch

from pytest_learning_phase import (
    assert_deterministic_in_inference,
    assert_phase_dependent,
    assert_phase_invariant,
    run_in_phases,
)

X = torch.ones(8, 4)


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))


def test_dropout_makes_the_model_phase_dependent():
    model = make_model()

    assert_phase_dependent(model, X)  # phase 1: model.train(), phase 0: model.eval()
    assert_deterministic_in_inference(model, X)


def test_the_linear_layer_alone_is_phase_invariant():
    assert_phase_invariant(make_model()[0], X)


def test_every_flag_is_back_as_it_was():
    model = make_model()
    model[1].eval()  # a submodule in another mode than its parent

    results = run_in_phases(model, X, phases=(0, 1))

    assert type(results[1]).__module__ == "numpy"  # detached and converted
    assert [module.training for module in model.modules()] == [True, True, False]
