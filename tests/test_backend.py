"""Unit tests of the reference backend: validation, warnings, scopes, clear_session, helpers."""

from __future__ import annotations

import enum
import inspect
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from pytest_learning_phase import _state
from pytest_learning_phase import backend as K
from pytest_learning_phase._phase import ABSENT
from pytest_learning_phase.layers import Dropout, Layer


class Phase(enum.IntEnum):
    TEST = 0
    TRAIN = 1
    OTHER = 2


@pytest.fixture(autouse=True)
def _restore_backend_state() -> Iterator[None]:
    """Leave this thread's phase as the test found it, whatever the test did."""
    snapshot = _state.snapshot()
    yield
    _state.restore(snapshot)


@pytest.fixture
def unset() -> None:
    """Start the test with the phase unset (absent, flag down)."""
    _state.unset()


def message(function_name: str) -> str:
    return (
        f"`tf.keras.backend.{function_name}` is deprecated and will be removed after "
        "2020-10-11. To update it, simply pass a True/False value to the `training` "
        "argument of the `__call__` method of your layer or model."
    )


ACCEPTED = [
    pytest.param(0, id="int-0"),
    pytest.param(1, id="int-1"),
    pytest.param(True, id="True"),
    pytest.param(False, id="False"),
    pytest.param(0.0, id="float-0.0"),
    pytest.param(1.0, id="float-1.0"),
    pytest.param(-0.0, id="float-minus-0.0"),
    pytest.param(np.int64(1), id="np.int64-1"),
    pytest.param(np.int32(0), id="np.int32-0"),
    pytest.param(np.uint8(1), id="np.uint8-1"),
    pytest.param(np.bool_(True), id="np.bool-True"),
    pytest.param(np.bool_(False), id="np.bool-False"),
    pytest.param(np.float32(1.0), id="np.float32-1.0"),
    pytest.param(np.float64(0.0), id="np.float64-0.0"),
    pytest.param(Fraction(1), id="Fraction-1"),
    pytest.param(Fraction(0), id="Fraction-0"),
    pytest.param(Decimal(1), id="Decimal-1"),
    pytest.param(Decimal("0.0"), id="Decimal-0.0"),
    pytest.param(Phase.TRAIN, id="IntEnum-1"),
    pytest.param(Phase.TEST, id="IntEnum-0"),
]

REJECTED = [
    pytest.param(2, id="int-2"),
    pytest.param(-1, id="int-minus-1"),
    pytest.param(0.5, id="float-0.5"),
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="inf"),
    pytest.param("1", id="str-1"),
    pytest.param("0", id="str-0"),
    pytest.param(b"1", id="bytes-1"),
    pytest.param(None, id="None"),
    pytest.param((1,), id="tuple-1"),
    pytest.param(np.float32(0.5), id="np.float32-0.5"),
    pytest.param(np.int64(2), id="np.int64-2"),
    pytest.param(Fraction(1, 2), id="Fraction-1/2"),
    pytest.param(Decimal("0.5"), id="Decimal-0.5"),
    pytest.param(Phase.OTHER, id="IntEnum-2"),
    pytest.param({1}, id="set-looked-up-as-frozenset"),
]

UNHASHABLE = [
    pytest.param([1], "list", id="list"),
    pytest.param({1: 1}, "dict", id="dict"),
    pytest.param(np.array(1), "numpy.ndarray", id="0-d-array"),
    pytest.param(np.array([1]), "numpy.ndarray", id="1-element-array"),
]

SETTERS = [
    pytest.param(K.set_learning_phase, id="set_learning_phase"),
    pytest.param(K.deprecated_internal_set_learning_phase, id="deprecated_internal_set"),
]


def enter_scope(scope_factory: Callable[[object], Any], value: object) -> None:
    """Enter and exit a scope of ``value``, asserting the value inside."""
    with scope_factory(value):
        assert K.learning_phase() is value


SCOPES = [
    pytest.param(K.learning_phase_scope, id="learning_phase_scope"),
    pytest.param(K.deprecated_internal_learning_phase_scope, id="deprecated_internal_scope"),
]


# -- learning_phase / global_learning_phase_is_set ------------------------------------


@pytest.mark.usefixtures("unset")
def test_learning_phase_is_int_zero_when_absent() -> None:
    phase = K.learning_phase()
    assert phase == 0
    assert type(phase) is int


@pytest.mark.usefixtures("unset")
def test_global_learning_phase_is_set_starts_false() -> None:
    assert K.global_learning_phase_is_set() is False


@pytest.mark.usefixtures("unset")
def test_learning_phase_neither_warns_nor_stores() -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        K.learning_phase()
    assert record == []
    assert _state.snapshot() == (ABSENT, False)


# -- set_learning_phase and the internal setter ----------------------------------------


@pytest.mark.parametrize("value", ACCEPTED)
def test_set_learning_phase_stores_the_value_as_given(value: object) -> None:
    with pytest.deprecated_call():
        K.set_learning_phase(value)
    assert K.learning_phase() is value
    assert K.global_learning_phase_is_set() is True


@pytest.mark.parametrize("value", ACCEPTED)
def test_internal_set_stores_the_value_as_given_without_warning(value: object) -> None:
    K.deprecated_internal_set_learning_phase(value)
    assert K.learning_phase() is value
    assert K.global_learning_phase_is_set() is True


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("value", REJECTED)
@pytest.mark.parametrize("setter", SETTERS)
def test_setters_reject_values_other_than_0_and_1(
    setter: Callable[[object], None], value: object
) -> None:
    K.deprecated_internal_set_learning_phase(1)
    with pytest.raises(ValueError, match=r"^Expected learning phase to be 0 or 1\.$"):
        setter(value)
    assert _state.snapshot() == (1, True)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize(("value", "type_name"), UNHASHABLE)
@pytest.mark.parametrize("setter", SETTERS)
def test_setters_fail_on_the_hash_of_unhashable_values(
    setter: Callable[[object], None], value: object, type_name: str
) -> None:
    _state.unset()
    with pytest.raises(TypeError, match="^" + re.escape(f"unhashable type: '{type_name}'") + "$"):
        setter(value)
    assert _state.snapshot() == (ABSENT, False)


def test_set_learning_phase_argument_errors_raise_before_any_warning() -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="missing 1 required positional argument"):
            K.set_learning_phase()  # type: ignore[call-arg]
    assert record == []


# -- the deprecation warning --------------------------------------------------------------


def test_warning_category_is_both_deprecation_and_user_warning() -> None:
    assert issubclass(K.LearningPhaseDeprecationWarning, DeprecationWarning)
    assert issubclass(K.LearningPhaseDeprecationWarning, UserWarning)


def test_set_learning_phase_warns_with_the_tf_keras_text() -> None:
    with pytest.warns(K.LearningPhaseDeprecationWarning) as record:
        K.set_learning_phase(0)
    assert [str(w.message) for w in record] == [message("set_learning_phase")]


def test_learning_phase_scope_warns_with_the_tf_keras_text() -> None:
    with pytest.warns(K.LearningPhaseDeprecationWarning) as record, K.learning_phase_scope(1):
        pass
    assert [str(w.message) for w in record] == [message("learning_phase_scope")]


def test_deprecated_call_catches_set_learning_phase() -> None:
    with pytest.deprecated_call():
        K.set_learning_phase(1)


def test_warns_user_warning_catches_set_learning_phase() -> None:
    with pytest.warns(UserWarning, match="set_learning_phase` is deprecated"):
        K.set_learning_phase(1)


def test_deprecated_call_catches_learning_phase_scope() -> None:
    with pytest.deprecated_call(), K.learning_phase_scope(0):
        pass


def test_warns_user_warning_catches_learning_phase_scope() -> None:
    with (
        pytest.warns(UserWarning, match="learning_phase_scope` is deprecated"),
        K.learning_phase_scope(0),
    ):
        pass


def test_set_learning_phase_warning_points_at_the_caller() -> None:
    line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
    with pytest.warns(K.LearningPhaseDeprecationWarning) as record:
        K.set_learning_phase(1)
    assert (record[0].filename, record[0].lineno) == (__file__, line)


def test_learning_phase_scope_warning_points_at_the_with_statement() -> None:
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    with pytest.warns(K.LearningPhaseDeprecationWarning) as record, K.learning_phase_scope(1):
        pass
    assert (record[0].filename, record[0].lineno) == (__file__, line)


def test_set_learning_phase_warns_before_validating() -> None:
    with (
        pytest.warns(K.LearningPhaseDeprecationWarning) as record,
        pytest.raises(ValueError, match="Expected learning phase to be 0 or 1"),
    ):
        K.set_learning_phase(2)
    assert [str(w.message) for w in record] == [message("set_learning_phase")]


def test_learning_phase_scope_warns_before_validating() -> None:
    with (
        pytest.warns(K.LearningPhaseDeprecationWarning) as record,
        pytest.raises(ValueError, match="Expected learning phase to be 0 or 1"),
        K.learning_phase_scope(2),
    ):
        pass
    assert [str(w.message) for w in record] == [message("learning_phase_scope")]


def test_creating_a_learning_phase_scope_without_entering_it_is_silent() -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        scope = K.learning_phase_scope(1)
        invalid_scope = K.learning_phase_scope(2)
    assert (record, scope is not None, invalid_scope is not None) == ([], True, True)


def test_set_learning_phase_warns_on_every_call_even_after_clear_session() -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        K.set_learning_phase(1)
        K.set_learning_phase(1)
        K.clear_session()
        K.set_learning_phase(0)
    assert [w.category for w in record] == [K.LearningPhaseDeprecationWarning] * 3


@pytest.mark.parametrize(
    "use_internal_api",
    [
        pytest.param(lambda: K.deprecated_internal_set_learning_phase(1), id="internal_set"),
        pytest.param(
            lambda: enter_scope(K.deprecated_internal_learning_phase_scope, 1), id="scope"
        ),
        pytest.param(lambda: enter_scope(K.eager_learning_phase_scope, 1), id="eager_scope"),
        pytest.param(K.clear_session, id="clear_session"),
    ],
)
def test_internal_api_never_warns(use_internal_api: Callable[[], None]) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        use_internal_api()
    assert record == []


# -- learning_phase_scope: the spec's table ------------------------------------------------


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("value", ACCEPTED)
def test_scope_stores_the_value_as_given(scope: Callable[[object], Any], value: object) -> None:
    _state.unset()
    with scope(value):
        assert (K.learning_phase() is value, K.global_learning_phase_is_set()) == (True, True)
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("value", REJECTED)
def test_scope_rejects_values_other_than_0_and_1_at_enter(
    scope: Callable[[object], Any], value: object
) -> None:
    K.deprecated_internal_set_learning_phase(0)
    context = scope(value)
    with pytest.raises(ValueError, match=r"^Expected learning phase to be 0 or 1\.$"):
        context.__enter__()
    assert _state.snapshot() == (0, True)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize(("value", "type_name"), UNHASHABLE)
def test_scope_fails_on_the_hash_of_unhashable_values(
    scope: Callable[[object], Any], value: object, type_name: str
) -> None:
    _state.unset()
    context = scope(value)
    with pytest.raises(TypeError, match="^" + re.escape(f"unhashable type: '{type_name}'") + "$"):
        context.__enter__()
    assert _state.snapshot() == (ABSENT, False)


def state() -> tuple[object, bool]:
    return K.learning_phase(), K.global_learning_phase_is_set()


@pytest.mark.usefixtures("unset")
def test_scope_1_from_unset_restores_unset() -> None:
    with K.deprecated_internal_learning_phase_scope(1):
        assert state() == (1, True)
    assert state() == (0, False)
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.usefixtures("unset")
def test_scope_0_after_set_1_restores_1_set() -> None:
    K.deprecated_internal_set_learning_phase(1)
    with K.deprecated_internal_learning_phase_scope(0):
        assert state() == (0, True)
    assert state() == (1, True)


@pytest.mark.usefixtures("unset")
def test_nested_scopes_1_0_1_restore_in_turn() -> None:
    inside: list[tuple[object, bool]] = []
    after: list[tuple[object, bool]] = []
    with K.deprecated_internal_learning_phase_scope(1):
        inside.append(state())
        with K.deprecated_internal_learning_phase_scope(0):
            inside.append(state())
            with K.deprecated_internal_learning_phase_scope(1):
                inside.append(state())
            after.append(state())
        after.append(state())
    after.append(state())
    assert inside == [(1, True), (0, True), (1, True)]
    assert after == [(0, True), (1, True), (0, False)]


@pytest.mark.usefixtures("unset")
def test_set_inside_a_scope_from_unset_is_lost_with_the_flag() -> None:
    with K.deprecated_internal_learning_phase_scope(0):
        K.deprecated_internal_set_learning_phase(1)
        assert state() == (1, True)
    assert state() == (0, False)


@pytest.mark.usefixtures("unset")
def test_scopes_exited_out_of_order_leave_1_not_set() -> None:
    outer = K.deprecated_internal_learning_phase_scope(1)
    inner = K.deprecated_internal_learning_phase_scope(0)
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert state() == (0, False)
    inner.__exit__(None, None, None)
    assert state() == (1, False)
    assert _state.snapshot() == (1, False)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("scope", SCOPES)
def test_exception_inside_a_scope_propagates_and_restores(scope: Callable[[object], Any]) -> None:
    K.deprecated_internal_set_learning_phase(0)
    inside: list[tuple[object, bool]] = []

    def fail_inside_scope() -> None:
        with scope(1):
            inside.append(state())
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        fail_inside_scope()
    assert (inside, state()) == ([(1, True)], (0, True))


@pytest.mark.usefixtures("unset")
def test_scope_open_across_clear_session_restores_its_phase_not_the_flag() -> None:
    K.deprecated_internal_set_learning_phase(0)
    with K.deprecated_internal_learning_phase_scope(1):
        K.clear_session()
        assert state() == (0, False)
    assert _state.snapshot() == (0, False)


@pytest.mark.usefixtures("unset")
def test_scope_from_unset_open_across_clear_session_ends_unset() -> None:
    with K.deprecated_internal_learning_phase_scope(1):
        K.clear_session()
    assert _state.snapshot() == (ABSENT, False)


# -- eager_learning_phase_scope -------------------------------------------------------------


@pytest.mark.usefixtures("unset")
def test_eager_scope_stores_without_setting_the_flag() -> None:
    with K.eager_learning_phase_scope(1):
        assert state() == (1, False)
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.parametrize("value", ACCEPTED)
def test_eager_scope_stores_the_value_as_given(value: object) -> None:
    _state.unset()
    with K.eager_learning_phase_scope(value):
        assert K.learning_phase() is value


def test_eager_scope_restores_the_previous_value_when_the_flag_was_set() -> None:
    K.deprecated_internal_set_learning_phase(0)
    with K.eager_learning_phase_scope(1):
        assert state() == (1, True)
    assert _state.snapshot() == (0, True)


@pytest.mark.parametrize("value", REJECTED)
def test_eager_scope_rejects_invalid_values_with_a_bare_assertion_error(value: object) -> None:
    _state.unset()
    with pytest.raises(AssertionError, match=r"^$"):
        K.eager_learning_phase_scope(value).__enter__()
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.usefixtures("unset")
def test_eager_scope_exit_raises_key_error_when_the_phase_is_already_gone() -> None:
    with pytest.raises(KeyError), K.eager_learning_phase_scope(1):
        K.clear_session()
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.usefixtures("unset")
def test_eager_scope_restores_zero_when_set_flag_survived_a_drop() -> None:
    K.deprecated_internal_set_learning_phase(1)
    _state.restore((ABSENT, True))  # what another thread's clear_session() leaves behind
    with K.eager_learning_phase_scope(1):
        pass
    assert _state.snapshot() == (0, True)


@pytest.mark.usefixtures("unset")
def test_eager_scope_inside_a_scope_restores_the_scope_value() -> None:
    with K.deprecated_internal_learning_phase_scope(0):
        with K.eager_learning_phase_scope(1):
            assert state() == (1, True)
        assert state() == (0, True)
    assert _state.snapshot() == (ABSENT, False)


# -- clear_session ---------------------------------------------------------------------------


def test_clear_session_drops_the_phase_and_unsets_the_flag() -> None:
    K.deprecated_internal_set_learning_phase(1)
    K.clear_session()
    assert _state.snapshot() == (ABSENT, False)


def test_clear_session_resets_layer_names() -> None:
    K.clear_session()
    first = [Dropout(0.5).name, Dropout(0.5).name]
    K.clear_session()
    assert (first, Dropout(0.5).name) == (["dropout", "dropout_1"], "dropout")


# -- in_train_phase / in_test_phase ----------------------------------------------------------

TRAIN_VALUES = [1, True, 1.0, np.int64(1), np.bool_(True), np.float32(1), Fraction(1), Decimal(1)]
TEST_VALUES = [0, False, 0.0, -0.0, np.int64(0), np.bool_(False), np.float64(0), Decimal(0)]


@pytest.mark.parametrize("training", TRAIN_VALUES, ids=repr)
def test_in_train_phase_returns_x_for_train_values(training: object) -> None:
    assert K.in_train_phase("x", "alt", training=training) == "x"


@pytest.mark.parametrize("training", TEST_VALUES, ids=repr)
def test_in_train_phase_returns_alt_for_test_values(training: object) -> None:
    assert K.in_train_phase("x", "alt", training=training) == "alt"


@pytest.mark.parametrize("training", [*TRAIN_VALUES, *TEST_VALUES], ids=repr)
def test_in_test_phase_is_in_train_phase_with_branches_swapped(training: object) -> None:
    assert K.in_test_phase("x", "alt", training) == K.in_train_phase("alt", "x", training)


@pytest.mark.parametrize(("training", "expected"), [(1, ["x"]), (0, ["alt"])])
def test_in_train_phase_calls_only_the_chosen_callable_once(
    training: int, expected: list[str]
) -> None:
    calls: list[str] = []

    def branch(name: str) -> Callable[[], str]:
        return lambda: calls.append(name) or name  # type: ignore[func-returns-value]

    result = K.in_train_phase(branch("x"), branch("alt"), training=training)
    assert (result, calls) == (expected[0], expected)


def test_in_train_phase_returns_non_callables_unchanged() -> None:
    x, alt = np.ones(3), np.zeros(3)
    assert K.in_train_phase(x, alt, training=True) is x


@pytest.mark.parametrize(
    ("phase", "expected"), [(None, "alt"), (0, "alt"), (1, "x"), (1.0, "x"), (True, "x")]
)
def test_in_train_phase_without_training_follows_learning_phase(
    phase: object, expected: str
) -> None:
    _state.unset()
    if phase is not None:
        K.deprecated_internal_set_learning_phase(phase)
    assert K.in_train_phase("x", "alt") == expected


def test_in_train_phase_follows_the_eager_scope() -> None:
    _state.unset()
    with K.eager_learning_phase_scope(1):
        assert K.in_train_phase("x", "alt") == "x"


class _CallsInTrainPhase(Layer):
    def call(self, inputs: Any) -> Any:
        return K.in_train_phase("x", "alt")


@pytest.mark.parametrize(("training", "expected"), [(True, "x"), (False, "alt"), (1, "x")])
def test_in_train_phase_without_training_follows_the_enclosing_layer_call(
    training: object, expected: str
) -> None:
    K.deprecated_internal_set_learning_phase(1 - int(bool(training)))
    assert _CallsInTrainPhase()(0, training=training) == expected


@pytest.mark.parametrize(
    "training",
    [np.array(1), np.array([1]), np.array([[True]]), np.array([1.0])],
    ids=["0-d", "1-element", "1x1-bool", "1-element-float"],
)
def test_in_train_phase_treats_a_one_element_array_as_its_scalar(training: Any) -> None:
    calls: list[str] = []
    x = np.arange(3)
    result = K.in_train_phase(lambda: calls.append("x") or x, lambda: calls.append("alt"), training)
    assert (result is x, calls) == (True, ["x"])


def test_in_train_phase_one_element_array_zero_chooses_alt() -> None:
    alt = np.zeros(2)
    assert K.in_train_phase(np.ones(2), alt, training=np.array([0])) is alt


def test_in_train_phase_chooses_elementwise_for_a_multi_element_array() -> None:
    result = K.in_train_phase(
        np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0]), training=np.array([1, 0, 1])
    )
    np.testing.assert_array_equal(result, [10.0, 2.0, 30.0])


def test_in_train_phase_elementwise_broadcasts_like_np_where() -> None:
    result = K.in_train_phase(10, lambda: np.zeros((2, 2)), training=np.array([True, False]))
    np.testing.assert_array_equal(result, [[10.0, 0.0], [10.0, 0.0]])


def test_in_train_phase_elementwise_calls_each_callable_once() -> None:
    calls: list[str] = []
    K.in_train_phase(
        lambda: calls.append("x") or 1, lambda: calls.append("alt") or 0, np.array([0, 1])
    )
    assert sorted(calls) == ["alt", "x"]


INVALID_TRAINING = [
    pytest.param(2, "2", id="int-2"),
    pytest.param(-1, "-1", id="int-minus-1"),
    pytest.param(0.5, "0.5", id="float-0.5"),
    pytest.param(math.nan, "nan", id="nan"),
    pytest.param("1", "'1'", id="str-1"),
    pytest.param([1], "[1]", id="list"),
    pytest.param((1,), "(1,)", id="tuple"),
    pytest.param(Phase.OTHER, "<Phase.OTHER: 2>", id="IntEnum-2"),
    pytest.param(np.float32(0.5), repr(np.float32(0.5)), id="np.float32-0.5"),
    pytest.param(np.array([0.5]), "array([0.5])", id="1-element-array-0.5"),
    pytest.param(np.array([1, 2]), "array([1, 2])", id="array-with-2"),
    pytest.param(np.array(["1", "0"]), "array(['1', '0'], dtype='<U1')", id="str-array"),
]


@pytest.mark.parametrize(("training", "shown"), INVALID_TRAINING)
def test_in_train_phase_rejects_other_training_values_naming_them(
    training: object, shown: str
) -> None:
    expected = (
        f"Invalid `training` value: {shown}. Expected None, 0, 1, True, False "
        "(or a number or numpy scalar equal to 0 or 1), or a numpy array of 0/1 values."
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        K.in_train_phase("x", "alt", training=training)


def test_in_train_phase_calls_no_callable_when_training_is_invalid() -> None:
    calls: list[str] = []
    with pytest.raises(ValueError, match="Invalid `training` value: 2"):
        K.in_train_phase(lambda: calls.append("x"), lambda: calls.append("alt"), training=2)
    assert calls == []


# -- dropout -----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [0, 1])
def test_dropout_drops_whatever_the_phase(phase: int) -> None:
    x = np.ones(1000, dtype=np.float32)
    with K.deprecated_internal_learning_phase_scope(phase):
        result = K.dropout(x, 0.5, seed=3)
    assert set(np.unique(result).tolist()) == {0.0, 2.0}


def test_dropout_scales_kept_values_by_one_over_keep_probability() -> None:
    x = np.arange(1, 1001, dtype=np.float64)
    result = K.dropout(x, 0.2, seed=0)
    kept = result != 0
    np.testing.assert_allclose(result[kept], x[kept] / 0.8)


def test_dropout_drops_about_level_of_the_entries() -> None:
    result = K.dropout(np.ones(100_000, dtype=np.float32), 0.3, seed=1)
    assert abs(float(np.mean(result == 0)) - 0.3) < 0.01


def test_dropout_level_zero_keeps_everything() -> None:
    x = np.arange(6, dtype=np.float32)
    np.testing.assert_array_equal(K.dropout(x, 0.0, seed=0), x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dropout_keeps_the_dtype(dtype: type[np.floating[Any]]) -> None:
    assert K.dropout(np.ones((2, 3), dtype=dtype), 0.5, seed=0).dtype == dtype


def test_dropout_accepts_nested_lists() -> None:
    assert K.dropout([[1.0, 2.0]], 0.5, seed=0).shape == (1, 2)


def test_dropout_with_the_same_seed_is_reproducible() -> None:
    x = np.ones((50, 50), dtype=np.float32)
    np.testing.assert_array_equal(K.dropout(x, 0.5, seed=7), K.dropout(x, 0.5, seed=7))


def test_dropout_with_different_seeds_differs() -> None:
    x = np.ones((50, 50), dtype=np.float32)
    assert not np.array_equal(K.dropout(x, 0.5, seed=7), K.dropout(x, 0.5, seed=8))


def test_dropout_noise_shape_broadcasts_the_mask() -> None:
    result = K.dropout(np.ones((200, 5), dtype=np.float32), 0.5, noise_shape=(200, 1), seed=2)
    rows = {tuple(row) for row in result.tolist()}
    assert rows == {(0.0,) * 5, (2.0,) * 5}


@pytest.mark.parametrize("noise_shape", [(3, 2), (2, 3, 1), (4, 1)])
def test_dropout_rejects_a_noise_shape_that_does_not_broadcast(
    noise_shape: tuple[int, ...],
) -> None:
    expected = (
        "`noise_shape` must broadcast to the shape of `x` (2, 3). "
        f"Received: noise_shape={noise_shape}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        K.dropout(np.ones((2, 3), dtype=np.float32), 0.5, noise_shape=noise_shape)


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        (1.0, "1.0"),
        (-0.1, "-0.1"),
        (1.5, "1.5"),
        (1, "1"),
        (math.nan, "nan"),
        (np.float32(2), "2.0"),
    ],
)
def test_dropout_rejects_a_level_outside_0_1(level: float, shown: str) -> None:
    expected = (
        f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={shown}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        K.dropout(np.ones(3, dtype=np.float32), level)


@pytest.mark.parametrize(("level", "shown"), [("a", "a"), (None, "None"), ([0.5], "[0.5]")])
def test_dropout_rejects_a_non_numeric_level(level: Any, shown: str) -> None:
    expected = f"`rate` must be a scalar or scalar tensor. Received: rate={shown}"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        K.dropout(np.ones(3, dtype=np.float32), level)


def test_dropout_accepts_a_0_d_array_level() -> None:
    assert K.dropout(np.ones(3, dtype=np.float32), np.array(0.0), seed=0).tolist() == [1, 1, 1]  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [np.int32, np.bool_])
def test_dropout_rejects_non_floating_x(dtype: type[Any]) -> None:
    expected = (
        "`x.dtype` must be a floating point tensor as `x` will be scaled. "
        f"Received: x_dtype={np.dtype(dtype)}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        K.dropout(np.ones(3, dtype=dtype), 0.5)


# -- import cost --------------------------------------------------------------------------


def test_importing_the_backend_does_not_import_numpy(pytester: pytest.Pytester) -> None:
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys; import pytest_learning_phase.backend; print('numpy' in sys.modules)",
    )
    assert result.outlines == ["False"]
