import pytest
from torch import nn


@pytest.fixture(scope="session")
def model():
    # built once for the whole session, in PyTorch's default, train mode
    return nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))
