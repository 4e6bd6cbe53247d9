"""The ``training`` value of the enclosing layer call, per thread.

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
