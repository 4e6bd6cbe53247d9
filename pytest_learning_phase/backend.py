"""The reference learning-phase backend: the Keras 2 learning-phase API in pure Python.

``from pytest_learning_phase import backend as K`` stands where
``from tf_keras import backend as K`` stood. The state is per thread: a stored
phase (absent, or the exact object last stored) and an ``is_set`` flag. Values
are validated and stored exactly as ``tf_keras`` 2.21 does; see
``docs/semantics.md`` for the few deliberate differences.

numpy is imported only by the functions that compute on arrays, so that the
pytest plugin can drive this module without paying for numpy at start-up.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeGuard, TypeVar

from pytest_learning_phase import _call_context
from pytest_learning_phase._phase import ABSENT
from pytest_learning_phase._state import (
    EVERY_THREAD,
    EVERY_THREAD_LOCK,
    READS,
    THREAD,
    next_seeded_draw,
    reset_seeded_draws,
    reset_uids,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "LearningPhaseDeprecationWarning",
    "clear_session",
    "deprecated_internal_learning_phase_scope",
    "deprecated_internal_set_learning_phase",
    "dropout",
    "eager_learning_phase_scope",
    "global_learning_phase_is_set",
    "in_test_phase",
    "in_train_phase",
    "learning_phase",
    "learning_phase_scope",
    "set_learning_phase",
]

_T = TypeVar("_T")


class LearningPhaseDeprecationWarning(DeprecationWarning, UserWarning):
    """Emitted by the deprecated public API, as tf_keras's ``UserWarning`` is.

    A subclass of both, so ``pytest.deprecated_call()`` and
    ``pytest.warns(UserWarning)`` both catch it.
    """


_INVALID_PHASE_MESSAGE: Final = "Expected learning phase to be 0 or 1."


def _deprecation_message(function_name: str) -> str:
    return (
        f"`tf.keras.backend.{function_name}` is deprecated and will be removed after "
        "2020-10-11. To update it, simply pass a True/False value to the `training` "
        "argument of the `__call__` method of your layer or model."
    )


def learning_phase() -> Any:
    """Return this thread's stored phase, exactly as stored, or ``0`` when absent."""
    READS.count += 1
    phase = THREAD.state.phase
    return 0 if phase is ABSENT else phase


def global_learning_phase_is_set() -> bool:
    """Return whether this thread's phase was set by ``set_learning_phase`` or a scope."""
    READS.count += 1
    return THREAD.state.is_set


def deprecated_internal_set_learning_phase(value: object) -> None:
    """Set the phase to ``value`` (0 or 1) without the deprecation warning."""
    if value not in {0, 1}:
        raise ValueError(_INVALID_PHASE_MESSAGE)
    state = THREAD.state
    state.is_set = True
    state.phase = value


def set_learning_phase(value: object) -> None:
    """Set the phase to ``value`` (0 = test, 1 = train); deprecated, warns on every call.

    :raises ValueError: if ``value`` is neither 0 nor 1 (after the warning).
    :raises TypeError: if ``value`` is unhashable (a list, a numpy array, 0-d included): ``value in
        {0, 1}`` fails on its hash, as in tf_keras.
    """
    warnings.warn(
        _deprecation_message("set_learning_phase"),
        LearningPhaseDeprecationWarning,
        stacklevel=2,
    )
    deprecated_internal_set_learning_phase(value)


# A scope object's stage: a scope can be entered once, as tf_keras's generator-based
# scopes can (their second __enter__ raises AttributeError).
_NEW: Final = 0
_ENTERED: Final = 1
_DONE: Final = 2


def _entered_twice(name: str, value: object) -> AttributeError:
    """Return the error for entering one scope object a second time (tf_keras's type)."""
    return AttributeError(
        f"This {name}({value!r}) was already entered; a scope can be entered only once: "
        f"call {name}({value!r}) again for a new one."
    )


def _exited_before_entered(name: str, value: object) -> RuntimeError:
    """Return the error for exiting a scope object never entered (tf_keras's type)."""
    return RuntimeError(f"This {name}({value!r}) was exited without being entered.")


class deprecated_internal_learning_phase_scope:
    """A scope in which the phase is ``value``, without the deprecation warning.

    Calling builds the object and does nothing else. ``__enter__`` validates,
    snapshots this thread's stored phase (or its absence) and ``is_set``, then
    stores ``value`` and sets the flag; ``__exit__``, also when the block
    raises, lowers the flag if it was down and puts the old phase back (or
    deletes it). A class rather than a generator: entering and leaving cost a
    few attribute lookups.

    As tf_keras's scopes, an object can be entered only once (a second
    ``__enter__``, even after a failed first one, is an ``AttributeError``
    that changes nothing); a second ``__exit__`` does nothing, and an
    ``__exit__`` before any ``__enter__`` is a ``RuntimeError``.
    """

    __slots__ = ("_previous_is_set", "_previous_phase", "_stage", "_value")
    _name: ClassVar[str] = "deprecated_internal_learning_phase_scope"

    def __init__(self, value: object) -> None:
        self._value = value
        self._stage = _NEW

    def __enter__(self) -> None:
        value = self._value
        if self._stage:
            raise _entered_twice(self._name, value)
        self._stage = _DONE
        if value not in {0, 1}:
            raise ValueError(_INVALID_PHASE_MESSAGE)
        state = THREAD.state
        self._previous_phase = state.phase
        self._previous_is_set = state.is_set
        state.is_set = True
        state.phase = value
        self._stage = _ENTERED

    def __exit__(self, *exc_info: object) -> None:
        if self._stage != _ENTERED:
            if self._stage == _NEW:
                raise _exited_before_entered(self._name, self._value)
            return
        self._stage = _DONE
        state = THREAD.state
        if not self._previous_is_set:
            state.is_set = False
        state.phase = self._previous_phase


class _DeprecatedLearningPhaseScope(deprecated_internal_learning_phase_scope):
    """The public, deprecated scope: warns at ``__enter__``, then as the internal one."""

    __slots__ = ()
    _name: ClassVar[str] = "learning_phase_scope"

    def __enter__(self) -> None:
        if self._stage:
            raise _entered_twice(self._name, self._value)
        warnings.warn(
            _deprecation_message("learning_phase_scope"),
            LearningPhaseDeprecationWarning,
            stacklevel=2,
        )
        super().__enter__()


def learning_phase_scope(value: object) -> deprecated_internal_learning_phase_scope:
    """Return a scope in which the phase is ``value``; deprecated, warns on ``__enter__``.

    On exit the previous phase (or its absence) and the previous ``is_set`` flag
    come back, also when the block raises. The object can be entered only once.

    :raises ValueError: at ``__enter__``, if ``value`` is neither 0 nor 1 (after the warning).
    :raises TypeError: at ``__enter__``, if ``value`` is unhashable (as ``set_learning_phase``).
    :raises AttributeError: at a second ``__enter__`` of the same object (no warning).
    """
    return _DeprecatedLearningPhaseScope(value)


class _EagerLearningPhaseScope:
    """Store a phase without touching ``is_set``, as tf_keras's eager scope does."""

    __slots__ = ("_previous_is_set", "_previous_phase", "_stage", "_value")

    def __init__(self, value: object) -> None:
        self._value = value
        self._stage = _NEW

    def __enter__(self) -> None:
        if self._stage:
            raise _entered_twice("eager_learning_phase_scope", self._value)
        self._stage = _DONE
        if self._value not in {0, 1}:
            raise AssertionError
        state = THREAD.state
        self._previous_is_set = state.is_set
        if self._previous_is_set:
            self._previous_phase = learning_phase()
        state.phase = self._value
        self._stage = _ENTERED

    def __exit__(self, *exc_info: object) -> None:
        if self._stage != _ENTERED:
            if self._stage == _NEW:
                raise _exited_before_entered("eager_learning_phase_scope", self._value)
            return
        self._stage = _DONE
        state = THREAD.state
        if self._previous_is_set:
            state.phase = self._previous_phase
        elif state.phase is ABSENT:
            raise KeyError(state)  # tf_keras: del of an entry that is already gone
        else:
            state.phase = ABSENT


def eager_learning_phase_scope(value: object) -> _EagerLearningPhaseScope:
    """Return tf_keras's internal eager scope: no warning, ``is_set`` left alone.

    An invalid value is a bare ``AssertionError`` at ``__enter__``; on exit the
    stored phase is deleted if the flag was not set on entry (``KeyError`` if it
    is already gone, as in tf_keras). Like the other scopes, the object can be
    entered only once.
    """
    return _EagerLearningPhaseScope(value)


def clear_session() -> None:
    """Unset this thread's flag, drop every thread's stored phase, reset layer names.

    Also restarts the sequence of masks of each ``dropout`` seed.
    """
    THREAD.state.is_set = False
    with EVERY_THREAD_LOCK:
        for state in EVERY_THREAD:
            state.phase = ABSENT
    reset_uids()
    reset_seeded_draws()


# -- Functions that compute with the phase: in_train_phase, in_test_phase, dropout. --


def _is_ndarray(value: object) -> TypeGuard[npt.NDArray[Any]]:
    """Return whether ``value`` is a numpy array, without importing numpy."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _call_if_callable(value: Callable[[], _T] | _T) -> _T:
    if callable(value):
        return value()
    return value


def in_train_phase(x: Any, alt: Any, training: object = None) -> Any:
    """Return ``x`` in the train phase and ``alt`` otherwise (callables are called).

    ``training=None`` means the ``training`` of the enclosing layer call, else
    ``learning_phase()``. Only the chosen callable is called, once.

    A numpy array ``training`` (tf_keras 2.21 handles only the one-element case,
    and fails with "truth value of an array ... is ambiguous" on more):

    * one element (0-d included): treated as its scalar, exactly as tf_keras
      does (``np.array([1])`` chooses ``x``, unchanged, and calls only it);
    * more than one element: an elementwise choice, ``np.where(training, x, alt)``
      with numpy broadcasting; both callables are called, once each. Every
      element must be 0 or 1.
    * no element: a ``ValueError``, as in tf_keras.

    :raises ValueError: for any other ``training`` (2, 0.5, nan, "1", a list, an empty array, ...),
        naming the value; tf_keras fails there with an ``AttributeError`` (or numpy's ``ValueError``
        for an empty array).
    """
    if training is None:
        training = _call_context.enclosing_training()
    if training is None:
        training = learning_phase()
    if _is_ndarray(training):
        return _in_train_phase_array(x, alt, training)
    chosen = _call_context.training_flag(training)
    if chosen is None:
        raise _call_context.invalid_training(training)
    return _call_if_callable(x if chosen else alt)


def _in_train_phase_array(x: Any, alt: Any, training: npt.NDArray[Any]) -> Any:
    import numpy as np

    if training.size == 1:
        chosen = _call_context.training_flag(training.reshape(()).item())
        if chosen is None:
            raise _call_context.invalid_training(training)
        return _call_if_callable(x if chosen else alt)
    if (
        training.size == 0
        or training.dtype.kind not in "biuf"
        or not np.isin(training, (0, 1)).all()
    ):
        raise _call_context.invalid_training(training)
    return np.where(training.astype(bool), _call_if_callable(x), _call_if_callable(alt))


def in_test_phase(x: Any, alt: Any, training: object = None) -> Any:
    """Return ``x`` in the test phase and ``alt`` otherwise: ``in_train_phase(alt, x, ...)``."""
    return in_train_phase(alt, x, training=training)


def _check_dropout_rate(level: object) -> float:
    """Return ``level`` as a float, or raise tf's ``ValueError`` for a rate outside [0, 1).

    A number is a ``numbers.Real`` (numpy scalars included), as tf's check; a
    numpy array, 0-d included, is not one there either. ``nan`` is refused
    (tf_keras lets it through and drops everything): see ``docs/semantics.md``.
    """
    import numbers

    if not isinstance(level, numbers.Real):
        raise ValueError(f"`rate` must be a scalar or scalar tensor. Received: rate={level}")
    if not 0 <= float(level) < 1:
        raise ValueError(
            f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={level}"
        )
    return float(level)


def _mask_shape(
    shape: tuple[int, ...], noise_shape: Sequence[int | None] | None
) -> tuple[int, ...]:
    """Return the keep/drop mask's shape: ``noise_shape``, its ``None`` sizes taken from ``shape``.

    As tf's ``_get_noise_shape``, ``None`` sizes are filled only when
    ``noise_shape`` has ``x``'s rank; elsewhere they are an error.
    """
    if noise_shape is None:
        return shape
    sizes = tuple(noise_shape)
    if len(sizes) == len(shape):
        sizes = tuple(
            x_size if size is None else size for size, x_size in zip(sizes, shape, strict=True)
        )
    resolved = tuple(size for size in sizes if size is not None)
    if len(resolved) != len(sizes):
        raise ValueError(
            f"`noise_shape` must broadcast to the shape of `x` {shape}. "
            f"Received: noise_shape={noise_shape}"
        )
    return resolved


def dropout(
    x: npt.ArrayLike,
    level: float,
    noise_shape: Sequence[int | None] | None = None,
    seed: int | None = None,
) -> npt.NDArray[Any]:
    """Inverted dropout of ``x``, whatever the phase: drop with probability ``level``.

    Kept values are scaled by ``1 / (1 - level)``; the result has ``x``'s
    floating dtype. ``noise_shape`` is the shape of the keep/drop mask, which
    must broadcast to ``x``'s shape; a ``None`` size in it (when it has ``x``'s
    rank) is ``x``'s size on that axis.

    ``seed`` makes the masks reproducible, the way tf_keras's eager op seed
    does: the calls with one seed draw that seed's sequence of masks, a new
    mask on each call, and ``clear_session()`` restarts every sequence. (The
    masks themselves are numpy's, not TensorFlow's numbers.) Without a seed,
    each call draws a fresh random mask.

    :raises ValueError: for ``level`` outside [0, 1) (tf's message) or not a number, a non-floating
        ``x``, or a ``noise_shape`` that does not broadcast to ``x``.
    """
    import numpy as np

    def generator() -> np.random.Generator:
        if seed is None:
            return np.random.default_rng()
        return np.random.default_rng((seed % 2**64, next_seeded_draw(seed)))

    return _dropout(x, level, noise_shape, generator)


def _dropout(
    x: npt.ArrayLike,
    level: object,
    noise_shape: Sequence[int | None] | None,
    generator: Callable[[], np.random.Generator],
) -> npt.NDArray[Any]:
    """Check the arguments, then drop with a mask from ``generator()`` (called only then).

    :func:`dropout` and the ``Dropout`` layer (which draws from its own generator)
    share it.
    """
    import numpy as np

    rate = _check_dropout_rate(level)
    array = np.asarray(x)
    if array.dtype.kind != "f":
        raise ValueError(
            "`x.dtype` must be a floating point tensor as `x` will be scaled. "
            f"Received: x_dtype=<dtype: '{array.dtype.name}'>"
        )
    mask_shape = _mask_shape(array.shape, noise_shape)
    try:
        broadcast = np.broadcast_shapes(mask_shape, array.shape)
    except ValueError:
        broadcast = None
    if broadcast != array.shape:
        raise ValueError(
            f"`noise_shape` must broadcast to the shape of `x` {array.shape}. "
            f"Received: noise_shape={noise_shape}"
        )
    # Draw the mask in the input's precision (numpy draws float32 or float64 only):
    # half the memory traffic of float64 for float32 inputs. Then two in-place
    # passes: zero the dropped values, scale the kept ones.
    random_dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float32
    keep = generator().random(mask_shape, dtype=random_dtype) >= rate
    dropped: npt.NDArray[Any] = np.multiply(array, keep, dtype=array.dtype)
    dropped *= array.dtype.type(1.0 / (1.0 - rate))
    return dropped
