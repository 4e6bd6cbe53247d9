"""Unit tests of the reference backend: validation, warnings, scopes, clear_session, helpers."""

from __future__ import annotations

import inspect
import re
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pytest_learning_phase import _state
from pytest_learning_phase import backend as K
from pytest_learning_phase._phase import ABSENT
from pytest_learning_phase.layers import Dropout, Layer
from tests import _phase_values as values
from tests._phase_values import Rejected

pytestmark = pytest.mark.usefixtures("restored_backend_state")


@pytest.fixture
def _fresh_session() -> None:
    """Start the test as after ``clear_session()`` (dropout seeds' sequences restarted)."""
    K.clear_session()


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def recorded(calls: list[str], name: str, result: object) -> Callable[[], object]:
    """Return a callable that appends ``name`` to ``calls``, then returns ``result``."""

    def call() -> object:
        calls.append(name)
        return result

    return call


def message(function_name: str) -> str:
    return (
        f"`tf.keras.backend.{function_name}` is deprecated and will be removed after "
        "2020-10-11. To update it, simply pass a True/False value to the `training` "
        "argument of the `__call__` method of your layer or model."
    )


ACCEPTED = pytest.mark.parametrize(
    "value", list(values.ACCEPTED_PHASES.values()), ids=list(values.ACCEPTED_PHASES)
)
REJECTED = pytest.mark.parametrize(
    "value", list(values.REJECTED_PHASES.values()), ids=list(values.REJECTED_PHASES)
)
UNHASHABLE = pytest.mark.parametrize(
    ("value", "type_name"),
    list(values.UNHASHABLE_PHASES.values()),
    ids=list(values.UNHASHABLE_PHASES),
)

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


@ACCEPTED
def test_set_learning_phase_stores_the_value_as_given(value: object) -> None:
    with pytest.deprecated_call():
        K.set_learning_phase(value)
    assert K.learning_phase() is value
    assert K.global_learning_phase_is_set() is True


@ACCEPTED
def test_internal_set_stores_the_value_as_given_without_warning(value: object) -> None:
    K.deprecated_internal_set_learning_phase(value)
    assert K.learning_phase() is value
    assert K.global_learning_phase_is_set() is True


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@REJECTED
@pytest.mark.parametrize("setter", SETTERS)
def test_setters_reject_values_other_than_0_and_1(
    setter: Callable[[object], None], value: object
) -> None:
    K.deprecated_internal_set_learning_phase(1)
    with pytest.raises(ValueError, match=r"^Expected learning phase to be 0 or 1\.$"):
        setter(value)
    assert _state.snapshot() == (1, True)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@UNHASHABLE
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
@ACCEPTED
def test_scope_stores_the_value_as_given(scope: Callable[[object], Any], value: object) -> None:
    _state.unset()
    with scope(value):
        assert (K.learning_phase() is value, K.global_learning_phase_is_set()) == (True, True)
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize("scope", SCOPES)
@REJECTED
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
@UNHASHABLE
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


# -- a scope object is used once, as tf_keras's generator-based scopes ----------------------

ALL_SCOPES = [
    pytest.param(K.learning_phase_scope, "learning_phase_scope", id="learning_phase_scope"),
    pytest.param(
        K.deprecated_internal_learning_phase_scope,
        "deprecated_internal_learning_phase_scope",
        id="deprecated_internal_scope",
    ),
    pytest.param(
        K.eager_learning_phase_scope, "eager_learning_phase_scope", id="eager_learning_phase_scope"
    ),
]


def entered_twice(name: str, value: object) -> str:
    return exactly(
        f"This {name}({value!r}) was already entered; a scope can be entered only once: "
        f"call {name}({value!r}) again for a new one."
    )


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize(("scope_factory", "name"), ALL_SCOPES)
def test_entering_a_scope_object_twice_raises_and_changes_nothing(
    scope_factory: Callable[[object], Any], name: str
) -> None:
    _state.unset()
    scope = scope_factory(1)
    with scope:
        pass
    K.deprecated_internal_set_learning_phase(0)
    with pytest.raises(AttributeError, match=entered_twice(name, 1)):
        scope.__enter__()
    assert _state.snapshot() == (0, True)


def test_entering_a_public_scope_twice_does_not_warn_again() -> None:
    scope = K.learning_phase_scope(1)
    with pytest.deprecated_call(), scope:
        pass
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(AttributeError):
            scope.__enter__()
    assert record == []


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize(("scope_factory", "name"), ALL_SCOPES)
def test_entering_a_scope_again_inside_it_keeps_it_open(
    scope_factory: Callable[[object], Any], name: str
) -> None:
    _state.unset()
    scope = scope_factory(1)
    with scope:
        with pytest.raises(AttributeError, match=entered_twice(name, 1)):
            scope.__enter__()
        assert K.learning_phase() == 1
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize(("scope_factory", "name"), ALL_SCOPES)
def test_a_scope_whose_enter_failed_cannot_be_entered_again(
    scope_factory: Callable[[object], Any], name: str
) -> None:
    _state.unset()
    scope = scope_factory(2)
    with pytest.raises((ValueError, AssertionError)):
        scope.__enter__()
    with pytest.raises(AttributeError, match=entered_twice(name, 2)):
        scope.__enter__()
    assert not scope.__exit__(None, None, None)
    assert _state.snapshot() == (ABSENT, False)


@pytest.mark.filterwarnings("ignore::pytest_learning_phase.backend.LearningPhaseDeprecationWarning")
@pytest.mark.parametrize(("scope_factory", "name"), ALL_SCOPES)
def test_exiting_a_scope_a_second_time_does_nothing(
    scope_factory: Callable[[object], Any], name: str
) -> None:
    _state.unset()
    scope = scope_factory(1)
    with scope:
        pass
    K.deprecated_internal_set_learning_phase(0)
    assert not scope.__exit__(None, None, None)
    assert not scope.__exit__(KeyError, KeyError("k"), None)
    assert _state.snapshot() == (0, True)


@pytest.mark.parametrize(("scope_factory", "name"), ALL_SCOPES)
def test_exiting_a_scope_never_entered_raises_and_changes_nothing(
    scope_factory: Callable[[object], Any], name: str
) -> None:
    K.deprecated_internal_set_learning_phase(0)
    with pytest.raises(
        RuntimeError, match=exactly(f"This {name}(1) was exited without being entered.")
    ):
        scope_factory(1).__exit__(None, None, None)
    assert _state.snapshot() == (0, True)


# -- eager_learning_phase_scope -------------------------------------------------------------


@pytest.mark.usefixtures("unset")
def test_eager_scope_stores_without_setting_the_flag() -> None:
    with K.eager_learning_phase_scope(1):
        assert state() == (1, False)
    assert _state.snapshot() == (ABSENT, False)


@ACCEPTED
def test_eager_scope_stores_the_value_as_given(value: object) -> None:
    _state.unset()
    with K.eager_learning_phase_scope(value):
        assert K.learning_phase() is value


def test_eager_scope_restores_the_previous_value_when_the_flag_was_set() -> None:
    K.deprecated_internal_set_learning_phase(0)
    with K.eager_learning_phase_scope(1):
        assert state() == (1, True)
    assert _state.snapshot() == (0, True)


@REJECTED
def test_eager_scope_rejects_invalid_values_with_a_bare_assertion_error(value: object) -> None:
    _state.unset()
    with pytest.raises(AssertionError, match=r"^$"):
        K.eager_learning_phase_scope(value).__enter__()
    assert _state.snapshot() == (ABSENT, False)


@UNHASHABLE
def test_eager_scope_fails_on_the_hash_of_unhashable_values(value: object, type_name: str) -> None:
    _state.unset()
    with pytest.raises(TypeError, match="^" + re.escape(f"unhashable type: '{type_name}'") + "$"):
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

TRAIN = pytest.mark.parametrize(
    "training", list(values.TRAIN_TRAININGS.values()), ids=list(values.TRAIN_TRAININGS)
)
TEST = pytest.mark.parametrize(
    "training", list(values.TEST_TRAININGS.values()), ids=list(values.TEST_TRAININGS)
)


@TRAIN
def test_in_train_phase_returns_x_for_train_values(training: object) -> None:
    assert K.in_train_phase("x", "alt", training=training) == "x"


@TEST
def test_in_train_phase_returns_alt_for_test_values(training: object) -> None:
    assert K.in_train_phase("x", "alt", training=training) == "alt"


@pytest.mark.parametrize(
    "training",
    [*values.TRAIN_TRAININGS.values(), *values.TEST_TRAININGS.values()],
    ids=[*values.TRAIN_TRAININGS, *values.TEST_TRAININGS],
)
def test_in_test_phase_is_in_train_phase_with_branches_swapped(training: object) -> None:
    assert K.in_test_phase("x", "alt", training) == K.in_train_phase("alt", "x", training)


@pytest.mark.parametrize(("training", "expected"), [(1, ["x"]), (0, ["alt"])])
def test_in_train_phase_calls_only_the_chosen_callable_once(
    training: int, expected: list[str]
) -> None:
    calls: list[str] = []
    result = K.in_train_phase(
        recorded(calls, "x", "x"), recorded(calls, "alt", "alt"), training=training
    )
    assert result == expected[0]
    assert calls == expected


def test_in_train_phase_returns_non_callables_unchanged() -> None:
    x, alt = np.ones(3), np.zeros(3)
    assert K.in_train_phase(x, alt, training=True) is x


@pytest.mark.usefixtures("unset")
def test_in_train_phase_without_training_and_unset_returns_alt() -> None:
    assert K.in_train_phase("x", "alt") == "alt"


@ACCEPTED
def test_in_train_phase_without_training_follows_the_set_phase(value: object) -> None:
    K.deprecated_internal_set_learning_phase(value)
    assert K.in_train_phase("x", "alt") == ("x" if value == 1 else "alt")


def test_in_train_phase_follows_the_eager_scope() -> None:
    _state.unset()
    with K.eager_learning_phase_scope(1):
        assert K.in_train_phase("x", "alt") == "x"


class _CallsInTrainPhase(Layer):
    def call(self, inputs: Any) -> Any:
        return K.in_train_phase("x", "alt", training=None)


class _CallsInTrainPhaseWithTraining(Layer):
    def call(self, inputs: Any, training: Any = None) -> Any:
        return K.in_train_phase("x", "alt", training=None)


@pytest.mark.parametrize("probe", [_CallsInTrainPhase, _CallsInTrainPhaseWithTraining])
@pytest.mark.parametrize(
    "training", list(values.ENCLOSING_TRAININGS.values()), ids=list(values.ENCLOSING_TRAININGS)
)
def test_in_train_phase_with_training_none_follows_the_enclosing_layer_call(
    probe: type[Layer], training: object
) -> None:
    K.deprecated_internal_set_learning_phase(1 - int(bool(training)))
    assert probe()(0, training=training) == ("x" if training else "alt")


@pytest.mark.parametrize("probe", [_CallsInTrainPhase, _CallsInTrainPhaseWithTraining])
def test_in_train_phase_with_training_none_inside_a_call_in_the_eager_scope_is_train(
    probe: type[Layer],
) -> None:
    _state.unset()
    with K.eager_learning_phase_scope(1):
        assert probe()(0) == "x"


@pytest.mark.parametrize(
    "training",
    list(values.ONE_ELEMENT_ARRAY_TRAININGS.values()),
    ids=list(values.ONE_ELEMENT_ARRAY_TRAININGS),
)
def test_in_train_phase_treats_a_one_element_array_as_its_scalar(training: Any) -> None:
    calls: list[str] = []
    x, alt = np.arange(3), np.zeros(3)
    result = K.in_train_phase(recorded(calls, "x", x), recorded(calls, "alt", alt), training)
    chosen = "x" if training.item() == 1 else "alt"
    assert result is (x if chosen == "x" else alt)
    assert calls == [chosen]


def test_in_train_phase_chooses_elementwise_for_a_multi_element_array() -> None:
    result = K.in_train_phase(
        np.array([10.0, 20.0, 30.0]),
        np.array([1.0, 2.0, 3.0]),
        training=values.ELEMENTWISE_TRAININGS["array-[1, 0, 1]"],
    )
    np.testing.assert_array_equal(result, [10.0, 2.0, 30.0])


def test_in_train_phase_elementwise_broadcasts_like_np_where() -> None:
    result = K.in_train_phase(
        10,
        lambda: np.zeros((2, 2)),
        training=values.ELEMENTWISE_TRAININGS["array-[True, False]"],
    )
    np.testing.assert_array_equal(result, [[10.0, 0.0], [10.0, 0.0]])


def test_in_train_phase_elementwise_calls_each_callable_once() -> None:
    calls: list[str] = []
    K.in_train_phase(
        recorded(calls, "x", 1),
        recorded(calls, "alt", 0),
        values.ELEMENTWISE_TRAININGS["array-[0, 1]"],
    )
    assert sorted(calls) == ["alt", "x"]


@pytest.mark.parametrize(
    "row", list(values.INVALID_TRAININGS.values()), ids=list(values.INVALID_TRAININGS)
)
def test_in_train_phase_rejects_other_training_values_naming_them(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        K.in_train_phase("x", "alt", training=row.value)


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


@pytest.mark.parametrize("dtype", list(values.FLOAT_DTYPES.values()), ids=list(values.FLOAT_DTYPES))
def test_dropout_keeps_the_dtype(dtype: type[np.floating[Any]]) -> None:
    assert K.dropout(np.ones((2, 3), dtype=dtype), 0.5, seed=0).dtype == dtype


def test_dropout_accepts_nested_lists() -> None:
    assert K.dropout([[1.0, 2.0]], 0.5, seed=0).shape == (1, 2)


X_8_BY_8 = np.ones((8, 8), dtype=np.float32)


@pytest.mark.usefixtures("_fresh_session")
def test_dropout_with_a_seed_draws_a_new_mask_on_each_call() -> None:
    assert not np.array_equal(K.dropout(X_8_BY_8, 0.5, seed=7), K.dropout(X_8_BY_8, 0.5, seed=7))


@pytest.mark.usefixtures("_fresh_session")
def test_clear_session_restarts_each_seeds_sequence_of_masks() -> None:
    first = [K.dropout(X_8_BY_8, 0.5, seed=7) for _ in range(3)]
    K.clear_session()
    again = [K.dropout(X_8_BY_8, 0.5, seed=7) for _ in range(3)]
    for mask, same in zip(first, again, strict=True):
        np.testing.assert_array_equal(mask, same)


@pytest.mark.usefixtures("_fresh_session")
def test_a_seeds_sequence_of_masks_is_shared_by_threads() -> None:
    first = K.dropout(X_8_BY_8, 0.5, seed=7)
    second = K.dropout(X_8_BY_8, 0.5, seed=7)
    K.clear_session()
    K.dropout(X_8_BY_8, 0.5, seed=7)
    in_thread: list[Any] = []
    thread = threading.Thread(target=lambda: in_thread.append(K.dropout(X_8_BY_8, 0.5, seed=7)))
    thread.start()
    thread.join()
    assert not np.array_equal(in_thread[0], first)
    np.testing.assert_array_equal(in_thread[0], second)


@pytest.mark.usefixtures("_fresh_session")
def test_dropout_seeds_have_sequences_of_their_own() -> None:
    first = K.dropout(X_8_BY_8, 0.5, seed=7)
    K.dropout(X_8_BY_8, 0.5, seed=8)
    K.clear_session()
    K.dropout(X_8_BY_8, 0.5, seed=8)
    np.testing.assert_array_equal(K.dropout(X_8_BY_8, 0.5, seed=7), first)


def test_dropout_with_different_seeds_differs() -> None:
    assert not np.array_equal(K.dropout(X_8_BY_8, 0.5, seed=7), K.dropout(X_8_BY_8, 0.5, seed=8))


def test_dropout_accepts_a_negative_seed() -> None:
    assert K.dropout(X_8_BY_8, 0.5, seed=-1).shape == (8, 8)


@pytest.mark.parametrize(
    ("noise_shape", "constant_along"),
    list(values.NOISE_SHAPES.values()),
    ids=list(values.NOISE_SHAPES),
)
def test_dropout_broadcasts_the_mask_of_noise_shape_none_being_the_size_of_x(
    noise_shape: Any, constant_along: tuple[bool, bool]
) -> None:
    x = np.ones(values.NOISE_SHAPE_X_SHAPE, dtype=np.float32)
    result = K.dropout(x, 0.5, noise_shape=noise_shape, seed=2)
    assert tuple(values.constant_along(result)) == constant_along
    assert set(np.unique(result).tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize(
    "row", list(values.BAD_NOISE_SHAPES.values()), ids=list(values.BAD_NOISE_SHAPES)
)
def test_dropout_rejects_a_noise_shape_that_does_not_broadcast(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        K.dropout(np.ones((2, 3), dtype=np.float32), 0.5, noise_shape=row.value)


@pytest.mark.parametrize(
    "row", list(values.DROPOUT_BAD_LEVELS.values()), ids=list(values.DROPOUT_BAD_LEVELS)
)
def test_dropout_rejects_a_level_that_is_not_a_number_in_0_1(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        K.dropout(np.ones(3, dtype=np.float32), row.value)


@pytest.mark.parametrize(
    "row", list(values.DROPOUT_NON_FLOATING.values()), ids=list(values.DROPOUT_NON_FLOATING)
)
def test_dropout_rejects_non_floating_x(row: Rejected) -> None:
    with pytest.raises(ValueError, match=exactly(row.message)):
        K.dropout(np.ones(3, dtype=row.value), 0.5)


# -- import cost --------------------------------------------------------------------------


def test_importing_the_backend_does_not_import_numpy(pytester: pytest.Pytester) -> None:
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys; import pytest_learning_phase.backend; print('numpy' in sys.modules)",
    )
    assert result.outlines == ["False"]
