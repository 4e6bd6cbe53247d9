"""Unit tests of the reference layers: how ``training`` is resolved, and what each layer does."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pytest_learning_phase import backend as K
from pytest_learning_phase.layers import (
    BatchNormalization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    Layer,
)
from tests import _phase_values as values
from tests._phase_values import Rejected

pytestmark = pytest.mark.usefixtures("unset")


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


# -- how Layer.__call__ resolves training ------------------------------------------------


class Recorder(Layer):
    """Record the ``training`` its call receives (no default)."""

    def call(self, inputs: Any, training: Any = None) -> Any:
        return training


class RecorderDefaultTrue(Layer):
    def call(self, inputs: Any, training: Any = True) -> Any:
        return training


class RecorderKwargs(Layer):
    def call(self, inputs: Any, **kwargs: Any) -> Any:
        return kwargs


class NoTrainingParameter(Layer):
    """Call an inner layer; its own ``call`` takes no ``training``."""

    def __init__(self, inner: Layer) -> None:
        super().__init__()
        self.inner = inner

    def call(self, inputs: Any) -> Any:
        return self.inner(inputs)


class WithTrainingParameter(NoTrainingParameter):
    def call(self, inputs: Any, training: Any = None) -> Any:
        return self.inner(inputs)


@pytest.mark.parametrize(
    "training", list(values.EXPLICIT_TRAININGS.values()), ids=list(values.EXPLICIT_TRAININGS)
)
def test_explicit_training_reaches_call_as_given(training: object) -> None:
    K.deprecated_internal_set_learning_phase(0)
    assert Recorder()(None, training=training) is training


def test_explicit_training_can_be_passed_positionally() -> None:
    assert Recorder()(None, 1) == 1


def test_explicit_training_wins_over_the_enclosing_call() -> None:
    class Outer(Layer):
        def call(self, inputs: Any, training: Any = None) -> Any:
            return Recorder()(inputs, training=False)

    assert Outer()(None, training=True) is False


@pytest.mark.parametrize("outer", [NoTrainingParameter, WithTrainingParameter])
@pytest.mark.parametrize(
    "training", list(values.ENCLOSING_TRAININGS.values()), ids=list(values.ENCLOSING_TRAININGS)
)
def test_enclosing_training_reaches_inner_layers(
    outer: Callable[[Layer], Layer], training: object
) -> None:
    K.deprecated_internal_set_learning_phase(1 - int(bool(training)))
    assert outer(Recorder())(None, training=training) is training


def test_enclosing_training_reaches_layers_nested_two_deep() -> None:
    layer = NoTrainingParameter(NoTrainingParameter(Recorder()))
    assert layer(None, training=True) is True


def test_explicit_none_to_a_layer_without_training_stops_propagation() -> None:
    class Outer(Layer):
        def call(self, inputs: Any, training: Any = None) -> Any:
            return NoTrainingParameter(Recorder())(inputs, training=None)

    assert Outer()(None, training=True) is None


@pytest.mark.parametrize(
    ("phase", "expected"),
    list(values.SET_PHASES_AS_BOOL.values()),
    ids=list(values.SET_PHASES_AS_BOOL),
)
def test_a_set_phase_reaches_call_as_a_bool(phase: object, expected: bool) -> None:
    K.deprecated_internal_set_learning_phase(phase)
    assert Recorder()(None) is expected


def test_a_scope_phase_reaches_call_as_a_bool() -> None:
    with K.deprecated_internal_learning_phase_scope(1):
        assert Recorder()(None) is True


def test_the_eager_scope_does_not_reach_call() -> None:
    with K.eager_learning_phase_scope(1):
        assert Recorder()(None) is None


def test_unset_phase_gives_the_call_default() -> None:
    assert RecorderDefaultTrue()(None) is True


def test_unset_phase_without_a_default_gives_none() -> None:
    assert Recorder()(None) is None


def test_set_phase_wins_over_the_call_default() -> None:
    K.deprecated_internal_set_learning_phase(0)
    assert RecorderDefaultTrue()(None) is False


def test_a_call_with_kwargs_receives_training() -> None:
    assert RecorderKwargs()(None, training=1) == {"training": 1}


def test_a_call_with_kwargs_receives_the_resolved_training() -> None:
    K.deprecated_internal_set_learning_phase(1)
    assert RecorderKwargs()(None) == {"training": True}


def test_a_call_without_training_does_not_receive_it() -> None:
    assert NoTrainingParameter(Recorder())(None, training=True) is True


def test_the_enclosing_training_is_restored_after_a_call_raises() -> None:
    class Failing(Layer):
        def call(self, inputs: Any, training: Any = None) -> Any:
            raise RuntimeError("inside call")

    with pytest.raises(RuntimeError, match="inside call"):
        Failing()(None, training=True)
    assert Recorder()(None) is None


def test_the_base_layer_returns_its_inputs() -> None:
    sentinel = object()
    assert Layer()(sentinel) is sentinel


# -- names ----------------------------------------------------------------------------------


def test_layers_get_tf_keras_style_automatic_names() -> None:
    K.clear_session()
    names = [
        Dropout(0.5).name,
        Dropout(0.5).name,
        GaussianNoise(0.1).name,
        GaussianDropout(0.1).name,
        BatchNormalization().name,
        BatchNormalization().name,
    ]
    assert names == [
        "dropout",
        "dropout_1",
        "gaussian_noise",
        "gaussian_dropout",
        "batch_normalization",
        "batch_normalization_1",
    ]


def test_clear_session_resets_automatic_names() -> None:
    Dropout(0.5)
    K.clear_session()
    assert Dropout(0.5).name == "dropout"


def test_an_explicit_name_is_kept() -> None:
    assert Dropout(0.5, name="my_dropout").name == "my_dropout"


# -- Dropout -----------------------------------------------------------------------------

ONES = np.ones((64, 32), dtype=np.float32)

LAYERS = [
    pytest.param(lambda: Dropout(0.5), id="Dropout"),
    pytest.param(lambda: GaussianNoise(0.5), id="GaussianNoise"),
    pytest.param(lambda: GaussianDropout(0.5), id="GaussianDropout"),
    pytest.param(lambda: BatchNormalization(), id="BatchNormalization"),
]


def is_identity(output: Any, inputs: Any = ONES) -> bool:
    return bool(np.array_equal(output, inputs))


def call_with(layer: Layer, inputs: Any, training: object) -> Any:
    if training is values.NOT_PASSED:
        return layer(inputs)
    return layer(inputs, training=training)


# The spec's table, observed on tf_keras 2.21 (the differential tests run the same rows).
PHASES_AND_TRAININGS = pytest.mark.parametrize(
    ("phase", "training_label"),
    [
        pytest.param(phase, label, id=f"{phase}-training={label}")
        for phase in values.PHASE_SETUPS
        for label in values.LAYER_TRAININGS
    ],
)


@PHASES_AND_TRAININGS
def test_dropout_follows_the_observed_table(phase: str, training_label: str) -> None:
    training = values.LAYER_TRAININGS[training_label]
    with values.phase_context(K, phase):
        output = call_with(Dropout(0.5, seed=0), ONES, training)
    assert is_identity(output) is not values.layer_trains(phase, training_label)


def test_dropout_in_training_zeroes_and_scales() -> None:
    output = Dropout(0.25, seed=1)(ONES, training=True)
    np.testing.assert_allclose(np.unique(output), [0.0, 4 / 3], rtol=1e-6)


def test_dropout_rate_zero_is_the_identity_even_in_training() -> None:
    assert is_identity(Dropout(0.0)(ONES, training=True))


def test_dropout_rate_zero_ignores_an_invalid_training() -> None:
    assert is_identity(Dropout(0)(ONES, training=2))


def test_dropout_output_does_not_alias_its_input() -> None:
    inputs = np.ones(3, dtype=np.float32)
    assert Dropout(0.5)(inputs, training=False) is not inputs


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize(
    ("dtype", "output_dtype"),
    list(values.LAYER_INPUT_DTYPES.values()),
    ids=list(values.LAYER_INPUT_DTYPES),
)
@pytest.mark.parametrize("training", [True, False])
def test_layers_keep_a_floating_dtype_and_turn_other_numbers_into_float32(
    layer: Callable[[], Layer], dtype: type[Any], output_dtype: str, training: bool
) -> None:
    output = layer()(np.ones((4, 2), dtype=dtype), training=training)
    assert output.dtype == np.dtype(output_dtype)


@pytest.mark.parametrize("inputs", [[1, 2, 3], [True, False]])
def test_dropout_turns_lists_of_non_floating_numbers_into_float32(inputs: Any) -> None:
    assert Dropout(0.5)(inputs, training=False).dtype == np.float32


def test_dropout_with_a_seed_is_reproducible() -> None:
    first = [Dropout(0.5, seed=42)(ONES, training=True) for _ in range(2)]
    second = [Dropout(0.5, seed=42)(ONES, training=True) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_dropout_draws_a_new_mask_on_each_call() -> None:
    layer = Dropout(0.5, seed=42)
    assert not np.array_equal(layer(ONES, training=True), layer(ONES, training=True))


def test_dropout_noise_shape_none_means_the_input_size() -> None:
    output = Dropout(0.5, noise_shape=(None, 1), seed=3)(ONES, training=True)
    assert all(len(set(row.tolist())) == 1 for row in output)


@pytest.mark.parametrize(
    "row", list(values.DROPOUT_LAYER_BAD_RATES.values()), ids=list(values.DROPOUT_LAYER_BAD_RATES)
)
def test_dropout_rejects_a_rate_that_is_not_a_number_in_0_1_at_construction(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        Dropout(row.value)


def test_dropout_rate_one_fails_when_it_drops() -> None:
    with pytest.raises(
        ValueError,
        match=exactly(
            "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"
        ),
    ):
        Dropout(1.0)(ONES, training=True)


def test_dropout_rate_one_is_the_identity_in_inference() -> None:
    assert is_identity(Dropout(1.0)(ONES, training=False))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize(
    "row", list(values.LAYER_INVALID_TRAININGS.values()), ids=list(values.LAYER_INVALID_TRAININGS)
)
def test_layers_reject_an_invalid_training_naming_it(
    layer: Callable[[], Layer], row: Rejected
) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        layer()(ONES, training=row.value)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize(
    ("inputs", "dtype"),
    list(values.NON_NUMERIC_INPUTS.values()),
    ids=list(values.NON_NUMERIC_INPUTS),
)
def test_layers_reject_non_numeric_inputs(
    layer: Callable[[], Layer], inputs: Any, dtype: str
) -> None:
    instance = layer()
    with pytest.raises(
        ValueError,
        match=exactly(
            f"Layer '{instance.name}' ({type(instance).__name__}) expects numeric inputs; "
            f"received an array of dtype {dtype}."
        ),
    ):
        instance(inputs, training=True)


# -- GaussianNoise / GaussianDropout -----------------------------------------------------

NOISE_LAYERS = [
    pytest.param(lambda seed: GaussianNoise(0.5, seed=seed), id="GaussianNoise"),
    pytest.param(lambda seed: GaussianDropout(0.5, seed=seed), id="GaussianDropout"),
]


@pytest.mark.parametrize("make_layer", NOISE_LAYERS)
@PHASES_AND_TRAININGS
def test_noise_layers_follow_the_observed_table(
    make_layer: Callable[[int], Layer], phase: str, training_label: str
) -> None:
    training = values.LAYER_TRAININGS[training_label]
    with values.phase_context(K, phase):
        output = call_with(make_layer(0), ONES, training)
    assert is_identity(output) is not values.layer_trains(phase, training_label)


@pytest.mark.parametrize("make_layer", NOISE_LAYERS)
@pytest.mark.parametrize(
    ("phase", "training_label"),
    [
        pytest.param(phase, label, id=f"{phase}-training={label}")
        for phase in values.PHASE_SETUPS
        for label in values.LAYER_TRAININGS
        if not values.layer_trains(phase, label)
    ],
)
def test_noise_layers_return_their_input_unchanged_in_inference(
    make_layer: Callable[[int], Layer], phase: str, training_label: str
) -> None:
    inputs = np.random.default_rng(5).normal(size=(4, 3)).astype(np.float32)
    with values.phase_context(K, phase):
        output = call_with(make_layer(1), inputs, values.LAYER_TRAININGS[training_label])
    np.testing.assert_array_equal(output, inputs)
    assert output.dtype == inputs.dtype


@pytest.mark.parametrize("make_layer", NOISE_LAYERS)
def test_noise_layers_with_a_seed_are_reproducible(make_layer: Callable[[int], Layer]) -> None:
    assert np.array_equal(make_layer(5)(ONES, training=True), make_layer(5)(ONES, training=True))


def test_gaussian_noise_has_the_requested_stddev() -> None:
    noise = GaussianNoise(0.5, seed=0)(np.zeros(100_000, dtype=np.float64), training=True)
    assert (round(float(noise.mean()), 2), round(float(noise.std()), 2)) == (0.0, 0.5)


def test_gaussian_dropout_has_mean_one_and_the_rate_stddev() -> None:
    noise = GaussianDropout(0.2, seed=0)(np.ones(100_000, dtype=np.float64), training=True)
    assert (round(float(noise.mean()), 2), round(float(noise.std()), 2)) == (1.0, 0.5)


def test_gaussian_noise_stddev_zero_is_the_identity() -> None:
    assert is_identity(GaussianNoise(0.0)(ONES, training=True))


def test_gaussian_dropout_rate_zero_is_the_identity() -> None:
    assert is_identity(GaussianDropout(0.0)(ONES, training=True))


def test_noise_layers_choose_elementwise_for_an_array_training() -> None:
    output = GaussianNoise(1.0, seed=0)(np.zeros((2, 3)), training=np.array([[1], [0]]))
    assert (bool(np.all(output[0] != 0)), output[1].tolist()) == (True, [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "row",
    list(values.GAUSSIAN_NOISE_BAD_STDDEVS.values()),
    ids=list(values.GAUSSIAN_NOISE_BAD_STDDEVS),
)
def test_gaussian_noise_rejects_a_negative_or_non_numeric_stddev(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        GaussianNoise(row.value)


@pytest.mark.parametrize(
    "row",
    list(values.GAUSSIAN_DROPOUT_BAD_RATES.values()),
    ids=list(values.GAUSSIAN_DROPOUT_BAD_RATES),
)
def test_gaussian_dropout_rejects_a_rate_outside_0_1(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        GaussianDropout(row.value)


# -- BatchNormalization ------------------------------------------------------------------

BATCH = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0], [7.0, 30.0]], dtype=np.float32)


def test_batch_norm_training_normalises_with_the_batch_statistics() -> None:
    output = BatchNormalization(epsilon=1e-6)(BATCH, training=True)
    np.testing.assert_allclose(output.mean(axis=0), [0, 0], atol=1e-5)
    np.testing.assert_allclose(output.std(axis=0), [1, 1], atol=1e-3)


def test_batch_norm_training_updates_the_moving_statistics() -> None:
    layer = BatchNormalization(momentum=0.9)
    layer(BATCH, training=True)
    assert layer.moving_mean is not None
    assert layer.moving_variance is not None
    np.testing.assert_allclose(layer.moving_mean, 0.1 * BATCH.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance, 0.9 + 0.1 * BATCH.var(axis=0), rtol=1e-6)


def test_batch_norm_2d_updates_with_the_biased_variance() -> None:
    layer = BatchNormalization(momentum=0.0)
    layer(BATCH, training=True)
    np.testing.assert_allclose(layer.get_weights()[3], BATCH.var(axis=0), rtol=1e-6)


@pytest.mark.parametrize(("axis", "biased"), [(-1, False), (3, False), (1, False), (2, True)])
def test_batch_norm_4d_uses_the_unbiased_variance_where_tf_keras_fuses(
    axis: int, biased: bool
) -> None:
    inputs = np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4) ** 1.5
    layer = BatchNormalization(axis=axis, momentum=0.0)
    layer(inputs, training=True)
    reduction = tuple(i for i in range(4) if i != axis % 4)
    expected = inputs.var(axis=reduction, ddof=0 if biased else 1)
    np.testing.assert_allclose(layer.get_weights()[3], expected, rtol=1e-5)


def test_batch_norm_inference_uses_the_moving_statistics() -> None:
    layer = BatchNormalization(epsilon=1e-3)
    layer.build(BATCH.shape)
    layer.set_weights(
        [np.array(weight) for weight in ([2.0, 1.0], [0.5, -1.0], [1.0, 10.0], [4.0, 100.0])]
    )
    variance = np.array([4.0, 100.0]) + 1e-3
    expected = (BATCH - [1.0, 10.0]) / np.sqrt(variance) * [2.0, 1.0] + [0.5, -1.0]
    np.testing.assert_allclose(layer(BATCH, training=False), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("training", [False, 0, None])
def test_batch_norm_inference_updates_nothing(training: object) -> None:
    layer = BatchNormalization()
    layer.build(BATCH.shape)
    before = layer.get_weights()
    layer(BATCH, training=training)
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights(), strict=True))


def test_batch_norm_not_trainable_is_in_inference_even_with_training_true() -> None:
    layer = BatchNormalization(trainable=False)
    layer.build(BATCH.shape)
    before = layer.get_weights()
    output = layer(BATCH, training=True)
    np.testing.assert_allclose(output, BATCH / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights(), strict=True))


def test_batch_norm_reads_the_eager_scope_phase() -> None:
    layer = BatchNormalization()
    with K.eager_learning_phase_scope(1):
        layer(BATCH)
    assert not np.array_equal(layer.get_weights()[2], [0.0, 0.0])


@pytest.mark.parametrize(
    ("center", "scale", "count"),
    [(True, True, 4), (False, True, 3), (True, False, 3), (False, False, 2)],
)
def test_batch_norm_weights_exist_per_center_and_scale(
    center: bool, scale: bool, count: int
) -> None:
    layer = BatchNormalization(center=center, scale=scale)
    layer.build((4, 3))
    assert [w.shape for w in layer.get_weights()] == [(3,)] * count


def test_batch_norm_get_weights_order_is_gamma_beta_mean_variance() -> None:
    layer = BatchNormalization(
        gamma_initializer=2.0,
        beta_initializer=3.0,
        moving_mean_initializer=4.0,
        moving_variance_initializer=5.0,
    )
    layer.build((1, 2))
    assert [w.tolist() for w in layer.get_weights()] == [[2, 2], [3, 3], [4, 4], [5, 5]]


def test_batch_norm_weights_are_float32_copies() -> None:
    layer = BatchNormalization()
    layer.build((1, 2))
    weights = layer.get_weights()
    weights[0][:] = 9
    assert ([w.dtype for w in weights], layer.get_weights()[0].tolist()) == (
        [np.dtype(np.float32)] * 4,
        [1.0, 1.0],
    )


def test_batch_norm_get_weights_before_build_is_empty() -> None:
    assert BatchNormalization().get_weights() == []


def test_batch_norm_set_weights_round_trip_before_build_is_accepted() -> None:
    layer = BatchNormalization()
    layer.set_weights(layer.get_weights())
    assert layer.built is False
    assert layer.get_weights() == []


def test_batch_norm_set_weights_with_the_wrong_count_fails_showing_the_weights() -> None:
    layer = BatchNormalization(name="bn")
    layer.build((1, 2))
    with pytest.raises(
        ValueError,
        match=exactly(
            'You called `set_weights(weights)` on layer "bn" with a weight list of length 3, '
            "but the layer was expecting 4 weights. "
            "Provided weights: [array([1., 1.], dtype=float32), array([1., 1.], d..."
        ),
    ):
        layer.set_weights([np.ones(2, dtype=np.float32)] * 3)


def test_batch_norm_set_weights_before_build_expects_no_weights() -> None:
    with pytest.raises(
        ValueError, match=r"^You called .* of length 4, but the layer was expecting 0 weights\. "
    ):
        BatchNormalization().set_weights([np.ones(2, dtype=np.float32)] * 4)


def test_batch_norm_set_weights_with_the_wrong_shape_fails_and_changes_nothing() -> None:
    layer = BatchNormalization(name="bn")
    layer.build((1, 2))
    with pytest.raises(
        ValueError,
        match=exactly(
            "Layer bn weight shape (2,) is not compatible with provided weight shape (3,)."
        ),
    ):
        layer.set_weights([np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(3)])
    assert layer.get_weights()[0].tolist() == [1.0, 1.0]


def test_batch_norm_set_weights_sees_a_list_as_a_weight_of_shape_empty() -> None:
    layer = BatchNormalization(name="bn")
    layer.build((1, 2))
    with pytest.raises(
        ValueError,
        match=exactly(
            "Layer bn weight shape (2,) is not compatible with provided weight shape ()."
        ),
    ):
        layer.set_weights([[1.0, 1.0]] * 4)


@pytest.mark.parametrize(
    "row",
    list(values.BATCH_NORM_AXES_OUT_OF_RANGE.values()),
    ids=list(values.BATCH_NORM_AXES_OUT_OF_RANGE),
)
def test_batch_norm_rejects_an_axis_that_does_not_fit_the_input(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        BatchNormalization(axis=row.value)(np.ones(values.BATCH_NORM_INPUT_SHAPE, np.float32))


@pytest.mark.parametrize(
    "row", list(values.BATCH_NORM_BAD_AXES.values()), ids=list(values.BATCH_NORM_BAD_AXES)
)
def test_batch_norm_rejects_a_non_integer_axis(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        BatchNormalization(axis=row.value)


@pytest.mark.parametrize(
    ("argument", "row"),
    list(values.BATCH_NORM_BAD_ARGUMENTS.values()),
    ids=list(values.BATCH_NORM_BAD_ARGUMENTS),
)
def test_batch_norm_rejects_a_non_numeric_momentum_and_a_bad_epsilon(
    argument: str, row: Rejected
) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        BatchNormalization(**{argument: row.value})


@pytest.mark.parametrize(
    "momentum", list(values.BATCH_NORM_MOMENTUMS.values()), ids=list(values.BATCH_NORM_MOMENTUMS)
)
def test_batch_norm_accepts_any_momentum_and_updates_with_it(momentum: float) -> None:
    layer = BatchNormalization(momentum=momentum)
    layer(BATCH, training=True)
    expected_mean = (1 - momentum) * BATCH.mean(axis=0)
    expected_variance = momentum + (1 - momentum) * BATCH.var(axis=0)
    np.testing.assert_allclose(layer.get_weights()[2], expected_mean, rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[3], expected_variance, rtol=1e-5)


def test_batch_norm_rejects_an_input_of_another_size_on_its_axis() -> None:
    layer = BatchNormalization(name="bn")
    layer(BATCH, training=False)
    with pytest.raises(
        ValueError,
        match=exactly(
            "Input of layer 'bn' has shape (4, 3), incompatible with the shape it was built for, "
            "(4, 2) (axis (1,) must match)."
        ),
    ):
        layer(np.ones((4, 3), dtype=np.float32))


def test_batch_norm_multi_axis_normalises_over_the_other_axes() -> None:
    inputs = np.random.default_rng(0).normal(3, 2, (8, 3, 5)).astype(np.float32)
    output = BatchNormalization(axis=[1, 2], epsilon=1e-6)(inputs, training=True)
    np.testing.assert_allclose(output.mean(axis=0), np.zeros((3, 5)), atol=1e-5)
