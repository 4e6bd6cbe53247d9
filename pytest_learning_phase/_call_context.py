"""The ``training`` argument: how a value is judged, and the enclosing call's value.

:func:`training_flag` judges a ``training`` value as tf_keras does.

An outer layer called with ``training=True`` passes it to every layer it calls
(and to ``in_train_phase``), as tf_keras's ``base_layer_utils.call_context()``
does. Like tf_keras, each layer call *replaces* the value for the calls inside
it with the value that call resolved (``None`` included), and the previous
value comes back when the call returns or raises.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Final


def training_flag(value: object) -> bool | None:
    """Return ``True`` for a train value (1), ``False`` for a test value (0), else ``None``.

    The tests are tf_keras's own (``training == 1 or training is True``, then the
    same with 0 and ``False``); a comparison that fails or gives no truth value
    makes the value invalid.
    """
    try:
        if value is True or bool(value == 1):
            return True
        if value is False or bool(value == 0):
            return False
    except (TypeError, ValueError):
        return None
    return None


def invalid_training(value: object) -> ValueError:
    """Return the error for a ``training`` value that is neither a phase nor an array."""
    return ValueError(
        f"Invalid `training` value: {value!r}. Expected None, 0, 1, True, False "
        "(or a number or numpy scalar equal to 0 or 1), or a numpy array of 0/1 values."
    )


class _CallContext(threading.local):
    def __init__(self) -> None:
        self.training: object | None = None


_CONTEXT: Final = _CallContext()


def enclosing_training() -> object | None:
    """Return the ``training`` of the innermost enclosing layer call, or ``None``."""
    return _CONTEXT.training


class LayerCall:
    """Make ``training`` the enclosing value while a layer's ``call`` runs."""

    __slots__ = ("_previous", "_training")

    def __init__(self, training: object | None) -> None:
        self._training = training

    def __enter__(self) -> None:
        self._previous = _CONTEXT.training
        _CONTEXT.training = self._training

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _CONTEXT.training = self._previous
