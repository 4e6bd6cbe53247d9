import torch
from torch import nn

from pytest_learning_phase import assert_no_state_update_in_inference

X = torch.arange(12.0).reshape(4, 3)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.BatchNorm1d(3), nn.ReLU())
        self.head = nn.Linear(3, 2)

    def forward(self, batch):
        return self.head(self.features(batch))


class SelfTraining(Classifier):
    def forward(self, batch):
        self.features.train()  # the bug: back to train mode in every forward
        return super().forward(batch)


def predict(model, batch):
    with torch.no_grad():
        return model(batch).argmax(dim=1)


def test_the_model_leaves_its_statistics_alone():
    assert_no_state_update_in_inference(Classifier(), X)


def test_the_prediction_function_leaves_them_alone():
    model = Classifier()
    assert_no_state_update_in_inference(predict, model, X, state=model)


def test_a_model_that_trains_itself_in_forward():
    assert_no_state_update_in_inference(SelfTraining(), X)
