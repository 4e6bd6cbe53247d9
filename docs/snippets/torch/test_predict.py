"""Bug pattern (a): a predict() that uses torch.no_grad() but forgets .eval().

``torch.no_grad()`` only stops gradient tracking; dropout and batch
normalisation still behave as in training. The test below depends on the mode
the model starts in, and the audit says so (eval: passed, train: failed). Do
not mark it ``learning_phase(0)``: that would hide the bug. Fix predict():
call ``model.eval()`` in it (and put the previous mode back if callers need it).
"""

import torch
from torch import nn


def predict(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():  # BUG: no model.eval(), so dropout is still on in train mode
        return model(inputs).argmax(dim=1)


def test_predictions_are_deterministic():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3))
    inputs = torch.randn(64, 8)

    torch.testing.assert_close(predict(model, inputs), predict(model, inputs))
