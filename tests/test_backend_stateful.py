"""Random sequences of sets, scopes (exited in any order), eager scopes and clear_session.

A hypothesis state machine drives the reference backend and an independent
model of one thread's state (stored phase or absent, ``is_set`` flag), and
checks ``learning_phase()`` (value, type and identity) and
``global_learning_phase_is_set()`` after every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pytest_learning_phase import _state
from pytest_learning_phase import backend as K
from pytest_learning_phase._phase import ABSENT
from tests import _phase_values as values

VALID = list(values.ACCEPTED_PHASES.values())
INVALID = list(values.REJECTED_PHASES.values())


@dataclass
class OpenScope:
    """A scope entered by the machine, and the model's snapshot taken at its entry."""

    context: Any
    eager: bool
    previous_phase: object
    previous_is_set: bool


class BackendStateMachine(RuleBasedStateMachine):
    """Compare the backend with a model after every operation."""

    def __init__(self) -> None:
        super().__init__()
        self.saved = _state.snapshot()
        _state.unset()
        self.phase: object = ABSENT
        self.is_set = False
        self.open_scopes: list[OpenScope] = []

    def teardown(self) -> None:
        _state.restore(self.saved)

    # -- the model --------------------------------------------------------------------

    def model_learning_phase(self) -> object:
        return 0 if self.phase is ABSENT else self.phase

    # -- rules ------------------------------------------------------------------------

    @rule(value=st.sampled_from(VALID), public=st.booleans())
    def set_phase(self, value: object, public: bool) -> None:
        if public:
            with pytest.deprecated_call():
                K.set_learning_phase(value)
        else:
            K.deprecated_internal_set_learning_phase(value)
        self.phase, self.is_set = value, True

    @rule(value=st.sampled_from(INVALID))
    def set_invalid_phase(self, value: object) -> None:
        with pytest.raises(ValueError, match=r"^Expected learning phase to be 0 or 1\.$"):
            K.deprecated_internal_set_learning_phase(value)

    @rule(value=st.sampled_from(VALID), public=st.booleans())
    def enter_scope(self, value: object, public: bool) -> None:
        if public:
            context = K.learning_phase_scope(value)
            with pytest.deprecated_call():
                context.__enter__()
        else:
            context = K.deprecated_internal_learning_phase_scope(value)
            context.__enter__()
        self.open_scopes.append(OpenScope(context, False, self.phase, self.is_set))
        self.phase, self.is_set = value, True

    @rule(value=st.sampled_from(VALID))
    def enter_eager_scope(self, value: object) -> None:
        context = K.eager_learning_phase_scope(value)
        context.__enter__()
        previous = self.model_learning_phase() if self.is_set else ABSENT
        self.open_scopes.append(OpenScope(context, True, previous, self.is_set))
        self.phase = value

    @rule(value=st.sampled_from(INVALID))
    def enter_invalid_scope(self, value: object) -> None:
        with pytest.raises(ValueError, match=r"^Expected learning phase to be 0 or 1\.$"):
            K.deprecated_internal_learning_phase_scope(value).__enter__()

    @precondition(lambda self: bool(self.open_scopes))
    @rule(data=st.data())
    def exit_scope(self, data: st.DataObject) -> None:
        """Exit the innermost scope, or any other one (out of order)."""
        index = data.draw(
            st.one_of(
                st.just(len(self.open_scopes) - 1),
                st.integers(0, len(self.open_scopes) - 1),
            ),
            label="scope index",
        )
        scope = self.open_scopes.pop(index)
        if scope.eager:
            self.exit_eager(scope)
            return
        scope.context.__exit__(None, None, None)
        if not scope.previous_is_set:
            self.is_set = False
        self.phase = scope.previous_phase

    def exit_eager(self, scope: OpenScope) -> None:
        if scope.previous_is_set:
            scope.context.__exit__(None, None, None)
            self.phase = scope.previous_phase
        elif self.phase is ABSENT:
            with pytest.raises(KeyError):
                scope.context.__exit__(None, None, None)
        else:
            scope.context.__exit__(None, None, None)
            self.phase = ABSENT

    @rule(value=st.sampled_from(VALID), inner=st.sampled_from(VALID))
    def raise_inside_scope(self, value: object, inner: object) -> None:
        """A block that sets the phase then raises: the exception propagates, the scope exits."""
        observed: list[object] = []

        def block() -> None:
            with K.deprecated_internal_learning_phase_scope(value):
                observed.append(K.learning_phase())
                K.deprecated_internal_set_learning_phase(inner)
                raise RuntimeError("inside the scope")

        with pytest.raises(RuntimeError, match="inside the scope"):
            block()
        assert observed[0] is value
        # The scope's exit puts the snapshot back: the model is unchanged.

    @rule()
    def clear_session(self) -> None:
        K.clear_session()
        self.phase, self.is_set = ABSENT, False

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def learning_phase_matches_the_model(self) -> None:
        phase = K.learning_phase()
        if self.phase is ABSENT:
            assert (phase, type(phase)) == (0, int)
        else:
            assert phase is self.phase

    @invariant()
    def flag_matches_the_model(self) -> None:
        assert K.global_learning_phase_is_set() is self.is_set

    @invariant()
    def snapshot_matches_the_model(self) -> None:
        stored, is_set = _state.snapshot()
        assert (stored is self.phase, is_set) == (True, self.is_set)


TestBackendState = BackendStateMachine.TestCase
TestBackendState.settings = settings(max_examples=250, deadline=None, stateful_step_count=30)
