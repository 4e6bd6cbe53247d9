"""Bug pattern (b): a training step that never calls .train().

It works only because a new ``nn.Module`` starts in train mode. Given a model
that arrives in eval mode (Hugging Face's ``from_pretrained`` returns them so,
and so does any model that was just evaluated), it silently skips dropout and
freezes the batch-norm statistics. The test passes in a plain run; the audit
finds it (test: failed, train: passed). Fix train_step(): call
``model.train()`` at its start.
"""

import torch
from torch import nn


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, inputs, targets) -> float:
    # BUG: no model.train() here
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def test_a_training_step_updates_the_batch_norm_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    running_mean_before = model[1].running_mean.clone()

    train_step(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        torch.randn(32, 8),
        torch.randint(0, 2, (32,)),
    )

    assert not torch.equal(model[1].running_mean, running_mean_before)
