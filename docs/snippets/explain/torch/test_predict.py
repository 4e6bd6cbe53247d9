"""A predict() that forgets .eval(): its dropout is on while the phase is unset."""

import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 64)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(64, 3)

    def forward(self, inputs):
        return self.out(self.drop(torch.relu(self.hidden(inputs))))


def predict(model, inputs):
    with torch.no_grad():  # BUG: no model.eval()
        return model(inputs).argmax(dim=1)


def test_predictions_are_deterministic():
    torch.manual_seed(0)
    model = Classifier()
    inputs = torch.randn(64, 8)
    assert torch.equal(predict(model, inputs), predict(model, inputs))
