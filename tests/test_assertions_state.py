"""``assert_no_state_update_in_inference`` in real pytest sessions, on each backend.

Each backend's suite has a clean inference call that passes and the three
bugs the helper exists for: a ``training=True`` buried in a custom layer, a
submodule forced back to train mode in ``forward`` (torch), and a
``BatchNormalization`` called with the phase set to 1 inside the function.
Each failure names the changed variables or buffers and their largest change.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_learning_phase import assert_no_state_update_in_inference
from pytest_learning_phase.adapters._current import set_current_adapter
from pytest_learning_phase.layers import Dropout
from tests._failures import error_lines_by_test
from tests._suite import BACKEND_MODULES, PHASE_HELPER, Suite

HELPER = "assert_no_state_update_in_inference"
NOTHING_TO_WATCH = (
    "nothing to watch; watch the layer or model whose statistics inference must not update"
)
NO_STATE = f"has no non-trainable state (no non-trainable weights): {NOTHING_TO_WATCH}"
NO_BUFFERS = (
    "has no non-trainable state (no buffers; parameters are not watched, frozen or not): "
    f"{NOTHING_TO_WATCH}"
)
NOT_BUILT = "is not built yet, so it has no weights to watch: build it first (or call it once)"
KERAS_MEAN = (
    "max abs difference 0.065 at index (2,): 0.0 (before) vs 0.065 (after); 3 of 3 elements differ"
)
KERAS_VARIANCE = (
    "max abs difference 0.1025 at index (0,): 1.0 (before) vs 1.1025 (after); "
    "3 of 3 elements differ"
)
TORCH_MEAN = (
    "max abs difference 0.65 at index (2,): 0.0 (before) vs 0.65000004 (after); "
    "3 of 3 elements differ"
)
TORCH_VARIANCE = (
    "max abs difference 1.4 at index (0,): 1.0 (before) vs 2.4 (after); 3 of 3 elements differ"
)
TORCH_COUNT = "0 (before) vs 1 (after), abs difference 1"


def head(name: str, backend: str) -> str:
    return (
        f"E       AssertionError: {HELPER}: {name} updated non-trainable state in phase 0 (test) "
        f"on the {backend} backend"
    )


# -- The reference backend and its layers --

REFERENCE_SUITE = """
import numpy as np
from pytest_learning_phase import assert_no_state_update_in_inference
from pytest_learning_phase import backend as K
from pytest_learning_phase.layers import BatchNormalization, Dropout, Layer

x = np.arange(12.0, dtype="float32").reshape(4, 3)


def built_norm(name):
    norm = BatchNormalization(name=name)
    norm(x, training=False)  # builds it, leaves its statistics as they start
    return norm


class Block(Layer):
    def __init__(self):
        super().__init__(name="block")
        self.norm = built_norm("inner_norm")

    def call(self, inputs, training=None):
        return self.norm(inputs, training=True)  # the bug: a training=True buried here


def test_clean_inference_passes_and_returns_the_result():
    norm = built_norm("norm")
    output = assert_no_state_update_in_inference(norm, x)
    assert output.shape == (4, 3)


def test_clean_inference_of_a_list_of_layers_passes():
    first, second = built_norm("first"), built_norm("second")
    both = [first, second]
    assert_no_state_update_in_inference(lambda batch: second(first(batch)), x, state=both)


def test_a_buried_training_true():
    block = Block()
    assert_no_state_update_in_inference(block, x, state=block.norm)


def test_a_buried_training_true_in_a_layer_the_watched_layer_holds():
    assert_no_state_update_in_inference(Block(), x)


def test_a_norm_called_with_the_phase_set_to_1_inside_the_function():
    norm = built_norm("leaky_norm")

    def predict(batch):
        with K.learning_phase_scope(1):  # a leaking test or helper set the phase
            return norm(batch)

    assert_no_state_update_in_inference(predict, x, state=[built_norm("other"), norm])


def test_a_layer_with_no_state():
    assert_no_state_update_in_inference(Dropout(0.5), x)


def test_a_norm_not_built_yet():
    assert_no_state_update_in_inference(BatchNormalization(name="fresh"), x)


def test_a_function_and_no_state():
    assert_no_state_update_in_inference(np.negative, x)
"""


@pytest.fixture
def reference_suite(pytester: pytest.Pytester) -> Suite:
    pytester.makepyfile(lp_backend=BACKEND_MODULES["reference"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "reference")


def test_on_the_reference_backend(reference_suite: Suite) -> None:
    reference_suite.write(REFERENCE_SUITE)

    result = reference_suite.run()

    result.assert_outcomes(passed=2, failed=6)
    assert error_lines_by_test(result) == {
        "test_a_buried_training_true": [
            head("<Block name='block'>", "reference"),
            f"E         at inner_norm/moving_mean: {KERAS_MEAN}",
            f"E         at inner_norm/moving_variance: {KERAS_VARIANCE}",
        ],
        "test_a_buried_training_true_in_a_layer_the_watched_layer_holds": [
            head("<Block name='block'>", "reference"),
            f"E         at inner_norm/moving_mean: {KERAS_MEAN}",
            f"E         at inner_norm/moving_variance: {KERAS_VARIANCE}",
        ],
        "test_a_norm_called_with_the_phase_set_to_1_inside_the_function": [
            head(
                "test_a_norm_called_with_the_phase_set_to_1_inside_the_function.<locals>.predict",
                "reference",
            ),
            f"E         at [1].leaky_norm/moving_mean: {KERAS_MEAN}",
            f"E         at [1].leaky_norm/moving_variance: {KERAS_VARIANCE}",
        ],
        "test_a_layer_with_no_state": [
            f"E       ValueError: {HELPER}: fn=<Dropout name='dropout'> {NO_STATE}"
        ],
        "test_a_norm_not_built_yet": [
            f"E       ValueError: {HELPER}: fn=<BatchNormalization name='fresh'> {NOT_BUILT}"
        ],
        "test_a_function_and_no_state": [
            f"E       TypeError: {HELPER}: fn=negative is not a layer or module, so state= must "
            "say what to watch: the layer, model or torch module, or a list of them"
        ],
    }


# -- tf_keras --

TF_KERAS_SUITE = """
import numpy as np
import tf_keras
from lp_backend import K
from pytest_learning_phase import assert_no_state_update_in_inference

x = np.arange(12.0, dtype="float32").reshape(4, 3)


def built_model(name):
    model = tf_keras.Sequential(
        [
            tf_keras.layers.Dense(3, kernel_initializer="identity", name=f"{name}_dense"),
            tf_keras.layers.BatchNormalization(name=name),
        ]
    )
    model(x)
    return model


class Buried(tf_keras.layers.Layer):
    def call(self, inputs):
        return self.norm(inputs, training=True)  # the bug: a training=True buried here

    def build(self, input_shape):
        self.norm = tf_keras.layers.BatchNormalization(name="inner_norm")


def test_clean_inference_passes():
    model = built_model("norm")
    assert_no_state_update_in_inference(model, x)


def test_a_buried_training_true():
    buried = Buried(name="buried")
    buried(x[:1] * 0)  # builds it: one sample of zeros leaves the statistics as they start
    buried.norm.moving_mean.assign(np.zeros(3))
    buried.norm.moving_variance.assign(np.ones(3))
    assert_no_state_update_in_inference(buried, x)


def test_a_norm_called_with_the_phase_set_to_1_inside_the_function():
    model = built_model("leaky_norm")

    def predict(batch):
        with K.learning_phase_scope(1):  # a leaking test or helper set the phase
            return model(batch)

    assert_no_state_update_in_inference(predict, x, state=model)


def test_a_model_with_no_state():
    dense = tf_keras.layers.Dense(2, name="plain")
    dense(x)
    assert_no_state_update_in_inference(dense, x)


def test_a_norm_not_built_yet():
    fresh = tf_keras.layers.BatchNormalization(name="fresh")
    assert_no_state_update_in_inference(x.sum, state=fresh)


def test_a_model_not_built_yet():
    model = tf_keras.Sequential([tf_keras.layers.BatchNormalization()], name="unbuilt")
    assert_no_state_update_in_inference(model, x)


def test_a_model_never_called_that_shares_a_built_layer():
    norm = tf_keras.layers.BatchNormalization(name="shared_norm")
    called = tf_keras.Sequential([norm], name="called")
    never_called = tf_keras.Sequential([norm], name="never_called")
    called(x)
    assert_no_state_update_in_inference(lambda batch: norm(batch), x, state=[called, never_called])
"""


@pytest.fixture
def tf_keras_suite(preloaded_tf_keras: None, pytester: pytest.Pytester) -> Suite:
    pytester.makepyfile(lp_backend=BACKEND_MODULES["tf_keras"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "tf_keras")


def test_on_the_tf_keras_backend(tf_keras_suite: Suite) -> None:
    tf_keras_suite.write(TF_KERAS_SUITE)

    result = tf_keras_suite.run()

    result.assert_outcomes(passed=1, failed=6)
    assert error_lines_by_test(result) == {
        "test_a_buried_training_true": [
            head("<Buried name='buried'>", "tf_keras"),
            f"E         at buried/inner_norm/moving_mean:0: {KERAS_MEAN}",
            f"E         at buried/inner_norm/moving_variance:0: {KERAS_VARIANCE}",
        ],
        "test_a_norm_called_with_the_phase_set_to_1_inside_the_function": [
            head(
                "test_a_norm_called_with_the_phase_set_to_1_inside_the_function.<locals>.predict",
                "tf_keras",
            ),
            f"E         at leaky_norm/moving_mean:0: {KERAS_MEAN}",
            f"E         at leaky_norm/moving_variance:0: {KERAS_VARIANCE}",
        ],
        "test_a_model_with_no_state": [
            f"E       ValueError: {HELPER}: fn=<Dense name='plain'> {NO_STATE}"
        ],
        "test_a_norm_not_built_yet": [
            f"E       ValueError: {HELPER}: state=<BatchNormalization name='fresh'> {NOT_BUILT}"
        ],
        "test_a_model_not_built_yet": [
            f"E       ValueError: {HELPER}: fn=<Sequential name='unbuilt'> {NOT_BUILT}"
        ],
        "test_a_model_never_called_that_shares_a_built_layer": [
            f"E       ValueError: {HELPER}: state[1]=<Sequential name='never_called'> {NOT_BUILT}"
        ],
    }


# -- torch --

TORCH_SUITE = """
import torch
from torch import nn
from pytest_learning_phase import assert_no_state_update_in_inference

x = torch.arange(12.0).reshape(4, 3)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm1d(3)

    def forward(self, batch):
        return self.norm(batch)


class ForcedTrain(Encoder):
    def forward(self, batch):
        self.norm.train()  # the bug: forced back to train mode in forward
        return self.norm(batch)


class Buried(Encoder):
    def forward(self, batch):  # the bug: training=True buried in a functional call
        norm = self.norm
        return nn.functional.batch_norm(batch, norm.running_mean, norm.running_var, training=True)


def test_clean_inference_of_a_model_in_train_mode_passes_and_keeps_its_flags():
    model = nn.Sequential(Encoder(), nn.Dropout())
    assert_no_state_update_in_inference(model, x)
    assert all(module.training for module in model.modules())


def test_the_watched_model_is_in_eval_mode_when_fn_is_a_function():
    model = Encoder()
    assert_no_state_update_in_inference(lambda batch: model(batch), x, state=model)
    assert model.training


def test_a_submodule_forced_back_to_train_mode_in_forward():
    model = ForcedTrain()
    assert_no_state_update_in_inference(model, x)
    assert model.norm.training is True


def test_a_buried_training_true():
    assert_no_state_update_in_inference(Buried(), x)


def test_a_model_put_in_train_mode_inside_the_function():
    encoder, head = Encoder(), Encoder()

    def predict(batch):
        head.train()  # the phase set to 1, the way torch says it
        encoder(batch)
        return head(batch)

    assert_no_state_update_in_inference(predict, x, state=[encoder, head])


def test_a_model_with_no_buffers():
    assert_no_state_update_in_inference(nn.Linear(3, 3), x)


def test_a_model_with_frozen_parameters_and_no_buffers():
    frozen = nn.Linear(3, 3).requires_grad_(False)
    assert_no_state_update_in_inference(frozen, x)
"""


def test_on_the_torch_backend(preloaded_torch: None, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=textwrap.dedent(TORCH_SUITE))

    result = pytester.runpytest(
        "-W", "default", "-p", "no:cacheprovider", "--learning-phase-backend=torch"
    )

    result.assert_outcomes(passed=2, failed=5)
    assert error_lines_by_test(result) == {
        "test_a_submodule_forced_back_to_train_mode_in_forward": [
            head("ForcedTrain(...)", "torch"),
            f"E         at norm.running_mean: {TORCH_MEAN}",
            f"E         at norm.running_var: {TORCH_VARIANCE}",
            f"E         at norm.num_batches_tracked: {TORCH_COUNT}",
        ],
        "test_a_buried_training_true": [
            head("Buried(...)", "torch"),
            f"E         at norm.running_mean: {TORCH_MEAN}",
            f"E         at norm.running_var: {TORCH_VARIANCE}",
        ],
        "test_a_model_put_in_train_mode_inside_the_function": [
            head("test_a_model_put_in_train_mode_inside_the_function.<locals>.predict", "torch"),
            f"E         at [1].norm.running_mean: {TORCH_MEAN}",
            f"E         at [1].norm.running_var: {TORCH_VARIANCE}",
            f"E         at [1].norm.num_batches_tracked: {TORCH_COUNT}",
        ],
        "test_a_model_with_no_buffers": [
            f"E       ValueError: {HELPER}: fn=Linear(in_features=3, out_features=3, bias=True) "
            f"{NO_BUFFERS}"
        ],
        "test_a_model_with_frozen_parameters_and_no_buffers": [
            f"E       ValueError: {HELPER}: fn=Linear(in_features=3, out_features=3, bias=True) "
            f"{NO_BUFFERS}"
        ],
    }


# -- In process: arguments, flags and what the helper returns --


@pytest.fixture
def torch_adapter(preloaded_torch: None) -> Iterator[Any]:
    """Make the helpers drive the torch backend; yield ``torch``."""
    import torch

    from pytest_learning_phase.adapters.torch import make_torch_adapter

    previous = set_current_adapter(make_torch_adapter())
    yield torch
    set_current_adapter(previous)


def every_flag(model: Any) -> list[bool]:
    return [module.training for module in model.modules()]


def test_every_watched_flag_is_put_back_when_fn_raises(torch_adapter: Any) -> None:
    nn = torch_adapter.nn
    encoder, head = nn.Sequential(nn.BatchNorm1d(3), nn.Dropout()), nn.BatchNorm1d(3)
    head.eval()
    before = every_flag(encoder) + every_flag(head)
    seen: list[list[bool]] = []

    def predict() -> None:
        seen.append(every_flag(encoder) + every_flag(head))
        encoder[1].train()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError) as excinfo:
        assert_no_state_update_in_inference(predict, state=(encoder, head))

    assert seen == [[False] * 4]
    assert every_flag(encoder) + every_flag(head) == before
    assert str(excinfo.value) == "boom"
    assert getattr(excinfo.value, "__notes__", None) == [
        f"{HELPER}: test_every_watched_flag_is_put_back_when_fn_raises.<locals>.predict raised "
        "this in phase 0 (test) on the torch backend"
    ]


def test_the_result_is_returned_as_fn_returned_it(torch_adapter: Any) -> None:
    norm = torch_adapter.nn.BatchNorm1d(3)
    numbers = iter([1, 2])

    assert assert_no_state_update_in_inference(lambda: numbers, state=norm) is numbers


def test_two_variables_of_one_name_are_both_watched(torch_adapter: Any) -> None:
    nn = torch_adapter.nn
    first, second = nn.BatchNorm1d(2), nn.BatchNorm1d(2)

    with pytest.raises(AssertionError) as excinfo:
        assert_no_state_update_in_inference(
            lambda: second.running_mean.add_(1.0), state=DuplicateNames([first, second])
        )

    assert str(excinfo.value).splitlines()[1:] == [
        "  at norm/running_mean (#2): max abs difference 1 at index (0,): 0.0 (before) vs "
        "1.0 (after); 2 of 2 elements differ"
    ]


class DuplicateNames:
    """A Keras-like object whose non-trainable weights share one name."""

    trainable_weights: list[Any] = []  # noqa: RUF012

    def __init__(self, norms: list[Any]) -> None:
        self.non_trainable_weights = [Named(norm.running_mean) for norm in norms]


class Named:
    """A variable named ``norm/running_mean``, whatever tensor holds its value."""

    name = "norm/running_mean"

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor

    def numpy(self) -> Any:
        return self.tensor.numpy()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            [],
            "state=[]: expected a layer, a model, a torch.nn.Module or a list of them, "
            "at least one",
        ),
        (
            "model",
            "state='model': expected a layer, a model, a torch.nn.Module or a list of them",
        ),
        (
            [Dropout(0.5, name="dropout"), 3],
            "state[1]=3: expected a layer, a model, a torch.nn.Module or a list of them",
        ),
    ],
    ids=["empty", "a-string", "one-bad-item"],
)
def test_bad_state_is_an_error_naming_the_helper_before_fn_is_called(
    state: object, message: str
) -> None:
    calls: list[int] = []

    with pytest.raises((TypeError, ValueError)) as excinfo:
        assert_no_state_update_in_inference(lambda: calls.append(1), state=state)

    assert str(excinfo.value) == f"{HELPER}: {message}"
    assert calls == []
