"""Another module: the session's model as the session fixture left it, in train mode."""


def test_trains_in_train_mode(model):
    assert all(module.training for module in model.modules())
