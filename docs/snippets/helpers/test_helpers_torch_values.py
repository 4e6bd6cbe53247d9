import torch
from torch import nn

from pytest_learning_phase import assert_no_state_update_in_inference, run_in_phases


def test_a_tensor_on_the_meta_device():
    with torch.device("meta"):
        model = nn.Linear(3, 2)  # built without memory: its weights have no values
    run_in_phases(lambda: {"weight": model.weight})


def test_a_model_on_the_meta_device():
    with torch.device("meta"):
        model = nn.BatchNorm1d(3)
    assert_no_state_update_in_inference(model, torch.ones(4, 3, device="meta"))
