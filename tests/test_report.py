"""The reports explain: what ran in which mode, and where that mode came from.

Real pytest sessions on each backend: the "learning phase" section of a
failure (a plain run describes what the failing code holds; a run under the
audit, what ran), and the audit's findings.
"""

from __future__ import annotations

import pytest

from tests._suite import Suite
from tests.test_plugin_torch import run as run_torch

LAYERS = {
    "reference": "from pytest_learning_phase import layers",
    "tf_keras": "from tf_keras import layers",
}
UNSET_KERAS = (
    "ran under phase unset (unset = learning_phase() reads 0, and a layer called without "
    "training uses its default) from default (backend {backend})"
)
UNSET_TORCH = (
    "ran under phase unset (unset = PyTorch's default, train mode) from default (backend torch)"
)
PREDICT_WITHOUT_EVAL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.lin(x))

def predict(model, x):
    return model(x)  # forgot model.eval()

def test_predict_is_deterministic():
    torch.manual_seed(0)
    model = Net()
    x = torch.ones(8, 4)
    assert torch.equal(predict(model, x), predict(model, x))
"""


# -- The failure section of a plain run. -------------------------------------------


def test_failing_unset_reader_gets_the_section_with_the_layers_it_holds(suite: Suite) -> None:
    suite.write(
        f"""
        {LAYERS[suite.backend]}
        import numpy as np

        def test_dropout_is_the_identity():
            drop = layers.Dropout(0.5, seed=1)
            x = np.ones((4, 8), dtype="float32")
            assert np.array_equal(drop(x, training=True), x)
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            UNSET_KERAS.format(backend=suite.backend),
            "  dropout* (Dropout): its mode is resolved at each call",
        ]
    )


def test_failing_test_that_holds_and_touches_nothing_gets_no_section(
    reference_suite: Suite,
) -> None:
    reference_suite.write("def test_fails():\n    numbers = [1, 2]\n    assert numbers == []\n")
    result = reference_suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*- learning phase -*")


def test_torch_predict_forgetting_eval_says_unset_is_train_mode_and_names_the_dropout(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(pytester, PREDICT_WITHOUT_EVAL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- learning phase -*", UNSET_TORCH, "  model.drop (Dropout) is in train mode", "*FAILED*"]
    )
    # Linear reads no mode: it is not listed.
    result.stdout.no_fnmatch_line("*model.lin*")


def test_torch_section_writes_phase_0_as_eval_and_shows_an_explicit_train(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import pytest
        from torch import nn

        @pytest.mark.learning_phase(0)
        def test_eval():
            net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.BatchNorm1d(2))
            net[2].train()
            assert not any(module.training for module in net.modules())
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 0 (eval) from @pytest.mark.learning_phase(0) on the test function "
            "(backend torch)",
            "  net.1 (Dropout) is in eval mode",
            "  net.2 (BatchNorm1d) is in train mode",
        ]
    )
