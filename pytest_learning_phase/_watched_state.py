"""The state a helper watches: the non-trainable state of layers and modules, by path.

For :func:`~pytest_learning_phase.assert_no_state_update_in_inference`: a
torch module's buffers (``running_mean``, ``running_var``,
``num_batches_tracked``), a tf_keras layer's or model's non-trainable weights,
a reference ``BatchNormalization``'s moving statistics. Frameworks are
recognised through ``sys.modules``; nothing is imported at import.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from pytest_learning_phase._compare import short_repr, shorten
from pytest_learning_phase._helper_calls import describe, torch_module_class
from pytest_learning_phase._snapshots import torch_to_numpy

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "Watched",
    "eval_mode",
    "is_unbuilt",
    "missing_state",
    "read_state",
    "watched_objects",
]

EXPECTED = "expected a layer, a model, a torch.nn.Module or a list of them"


class Watched(NamedTuple):
    """One object whose state is watched, with its prefix in paths (``[1].`` in a list)."""

    argument: str
    """How messages name it: ``state=Linear(...)``, ``state[1]=...``, ``fn=model``."""
    prefix: str
    value: Any


def _reference_layer_class() -> type | None:
    cls = getattr(sys.modules.get("pytest_learning_phase.layers"), "Layer", None)
    return cls if isinstance(cls, type) else None


def _kind(value: object) -> str | None:
    """Return ``torch``, ``keras`` or ``reference`` for an object whose state can be read."""
    module_class = torch_module_class()
    if module_class is not None and isinstance(value, module_class):
        return "torch"
    reference = _reference_layer_class()
    if reference is not None and isinstance(value, reference):
        return "reference"
    if isinstance(value, type):
        return None
    if _has(value, "non_trainable_weights") and _has(value, "trainable_weights"):
        return "keras"  # tf_keras (and Keras 3) layers and models
    return None


def _has(value: object, name: str) -> bool:
    """Return whether ``value`` has ``name``, without reading it.

    A property is looked for on the class, not read: an unbuilt tf_keras
    model's weights raise a ``ValueError``, which ``hasattr`` lets through.
    """
    if hasattr(type(value), name):
        return True
    try:
        return name in vars(value)
    except TypeError:  # no __dict__
        return False


def watched_objects(helper: str, state: object, fn: object, fn_name: str) -> list[Watched]:
    """Return what ``state`` (or ``fn``, for ``state=None``) names; raise naming the helper.

    :raises TypeError: if it is neither a layer, a model, a torch module nor a list of them.
    :raises ValueError: if it is an empty list.
    """
    __tracebackhide__ = True
    if state is None:
        if _kind(fn) is None:
            raise TypeError(
                f"{helper}: fn={fn_name} is not a layer or module, so state= must say what to "
                "watch: the layer, model or torch module, or a list of them"
            )
        return [Watched(f"fn={fn_name}", "", fn)]
    if isinstance(state, (list, tuple)):
        if not state:
            raise ValueError(f"{helper}: state={state!r}: {EXPECTED}, at least one")
        watched = []
        for index, item in enumerate(state):
            if _kind(item) is None:
                raise TypeError(f"{helper}: state[{index}]={short_repr(item)}: {EXPECTED}")
            watched.append(
                Watched(f"state[{index}]={shorten(describe(item))}", f"[{index}].", item)
            )
        return watched
    if _kind(state) is None:
        raise TypeError(f"{helper}: state={short_repr(state)}: {EXPECTED}")
    return [Watched(f"state={shorten(describe(state))}", "", state)]


def _torch_state(module: Any) -> Iterator[tuple[str, npt.NDArray[Any]]]:
    torch = sys.modules["torch"]
    for name, buffer in module.named_buffers():
        yield name, torch_to_numpy(buffer, torch, name)  # type: ignore[misc]


def _keras_state(layer: Any) -> Iterator[tuple[str, npt.NDArray[Any]]]:
    import numpy as np

    for variable in layer.non_trainable_weights:
        name = getattr(variable, "path", None) or variable.name
        yield str(name), np.array(variable.numpy())


def _reference_state(layer: Any) -> Iterator[tuple[str, npt.NDArray[Any]]]:
    """Yield a reference layer's moving statistics, then those of the layers it holds.

    A frozen layer's other weights (``gamma``, ``beta``) are non-trainable too, as
    in tf_keras. The layers it holds are found in its attributes (directly, or
    in lists and tuples), as tf_keras tracks a layer's sublayers.
    """
    import numpy as np

    reference = _reference_layer_class()
    seen: set[int] = set()

    def visit(current: Any) -> Iterator[tuple[str, npt.NDArray[Any]]]:
        if id(current) in seen:
            return
        seen.add(id(current))
        names = ["moving_mean", "moving_variance"]
        if not current.trainable:
            names = ["gamma", "beta", *names]
        for name in names:
            value = getattr(current, name, None)
            if value is not None:
                yield f"{current.name}/{name}", np.array(value)
        for attribute in vars(current).values():
            held = attribute if isinstance(attribute, (list, tuple)) else [attribute]
            for item in held:
                if reference is not None and isinstance(item, reference):
                    yield from visit(item)

    yield from visit(layer)


_READERS = {"torch": _torch_state, "keras": _keras_state, "reference": _reference_state}


def read_state(watched: Watched) -> dict[str, npt.NDArray[Any]]:
    """Return a copy of the non-trainable state of one watched object, by path.

    :raises UncomparableResult: for a buffer on the ``meta`` device.
    """
    kind = _kind(watched.value)
    assert kind is not None
    state: dict[str, npt.NDArray[Any]] = {}
    seen: dict[str, int] = {}
    for name, value in _READERS[kind](watched.value):
        path = f"{watched.prefix}{name}"
        seen[path] = count = seen.get(path, 0) + 1
        if count > 1:  # two variables of one name (Keras allows it): both are watched
            path = f"{path} (#{count})"
        state[path] = value
    return state


def is_unbuilt(value: object) -> bool:
    """Return whether ``value`` is a Keras layer or reference normalization not built yet."""
    kind = _kind(value)
    if kind == "reference" and not hasattr(value, "moving_mean"):
        return False  # a reference Dropout never has state, built or not
    return kind in ("keras", "reference") and getattr(value, "built", True) is False


def missing_state(watched: Watched) -> str:
    """Say what a watched object with no state lacks, in its framework's words."""
    if _kind(watched.value) == "torch":
        return "no buffers; parameters are not watched, frozen or not"
    return "no non-trainable weights"


@contextlib.contextmanager
def eval_mode(watched: list[Watched]) -> Iterator[None]:
    """Put every watched torch module in eval mode for the block; put every flag back after."""
    with contextlib.ExitStack() as stack:
        for item in watched:
            if _kind(item.value) == "torch":
                from pytest_learning_phase.adapters.torch import modules_in_mode

                stack.enter_context(modules_in_mode(item.value, False))
        yield
