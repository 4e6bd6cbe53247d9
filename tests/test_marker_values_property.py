"""The marker accepts exactly the values ``set_learning_phase`` accepts, plus None."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pytest_learning_phase import _state, backend
from pytest_learning_phase._phase import InvalidPhaseError, normalize_phase
from tests._phase_values import ACCEPTED_PHASES, REJECTED_PHASES, UNHASHABLE_PHASES

numpy_scalars = st.one_of(
    st.integers(-3, 3).map(np.int64),
    st.integers(0, 3).map(np.uint8),
    st.booleans().map(np.bool_),
    st.floats(-2, 2, width=32).map(np.float32),
    st.sampled_from([0.0, 1.0, -0.0, 0.5]).map(np.float64),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, -0.0, 0.5]),
    st.text(max_size=3),
    st.sampled_from([Fraction(1), Fraction(1, 2), Decimal(0), Decimal("1.0"), Decimal("0.5")]),
    numpy_scalars,
    st.lists(st.integers(0, 1), max_size=2),
    st.tuples(st.integers(0, 1)),
    st.integers(0, 1).map(np.array),
    st.sampled_from(
        [
            *ACCEPTED_PHASES.values(),
            *REJECTED_PHASES.values(),
            *(value for value, _ in UNHASHABLE_PHASES.values()),
        ]
    ),
)


def _backend_accepts(value: object) -> bool:
    snapshot = _state.snapshot()
    try:
        backend.deprecated_internal_set_learning_phase(value)
    except (ValueError, TypeError):
        return False
    finally:
        _state.restore(snapshot)
    return True


@given(values)
def test_marker_value_is_accepted_exactly_when_the_backend_accepts_it(value: object) -> None:
    try:
        phase = normalize_phase(value)
    except InvalidPhaseError:
        assert value is not None
        assert not _backend_accepts(value)
    else:
        if value is None:
            assert phase is None
        else:
            assert _backend_accepts(value)
            assert phase == value
            assert type(phase) is int
