"""Provenance of Keras-style layers: each call's resolved ``training`` and where it came from.

While a recording runs, the method through which a layer call resolves
``training`` is wrapped on the base class (``Layer.__call__`` of the reference
layers; ``Layer._get_propagated_call_context_arguments`` of tf_keras 2.21),
and put back when it stops: outside a recording nothing is wrapped. The
source is worked out in the order the layer uses (explicit argument, enclosing
layer call, the global phase, the layer's default), reading the phase's state
directly, so recording is never counted as a read of the phase.

Keras calling a model's layers on placeholders to build it (in a scratch
graph it then drops) computes nothing and is not recorded. The layer whose
call enclosed each layer's first call is noted, so that two layers sharing a
name are listed by their path (``inner/drop``, ``outer/drop``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Final

from pytest_learning_phase import _call_context, _state
from pytest_learning_phase._phase import ABSENT
from pytest_learning_phase._provenance import Provenance, Ran, Recording

__all__ = ["held_layers", "record_reference_layers", "record_tf_keras_layers"]

TRACE_NOTE = "; inside a tf.function trace made in this run (its later calls reuse this mode)"
THREAD_NOTE = "; in another thread than the test's (each thread has its own phase)"


class _PatchRecording:
    """A recording that wraps ``owner.attribute`` until :meth:`stop`."""

    __slots__ = ("_attribute", "_original", "_owner", "_wrapper", "provenance")

    def __init__(self, owner: type, attribute: str, make: Callable[[Any, Provenance], Any]) -> None:
        self.provenance = Provenance()
        self._owner = owner
        self._attribute = attribute
        self._original = owner.__dict__[attribute]
        self._wrapper = make(self._original, self.provenance)
        setattr(owner, attribute, self._wrapper)

    def ran(self) -> list[Ran]:
        return self.provenance.ran()

    def stop(self) -> list[Ran]:
        if self._owner.__dict__.get(self._attribute) is self._wrapper:
            setattr(self._owner, self._attribute, self._original)
        return self.provenance.ran()


def _flag(value: object) -> bool | None:
    """Return the mode a resolved plain ``training`` value means; None for a tensor or array."""
    return _call_context.training_flag(value)


class _NothingRecorded:
    """The recording of a run in which no layer can be called: the layers are not imported."""

    __slots__ = ()

    def ran(self) -> list[Ran]:
        return []

    def stop(self) -> list[Ran]:
        return []


_NOTHING: Final = _NothingRecorded()


class _Calling(threading.local):
    layer: Any = None
    """The reference layer whose call is running in this thread, while recorded."""


_CALLING: Final = _Calling()


def record_reference_layers() -> Recording:
    """Record every reference layer call that takes ``training``, until the recording stops.

    Records nothing while ``pytest_learning_phase.layers`` is not imported (a
    suite that never imports it pays nothing for it); a test that imports it
    for the first time inside its body is not recorded in that run.
    """
    package = vars(sys.modules.get("pytest_learning_phase", sys))
    layers: Any = sys.modules.get("pytest_learning_phase.layers") or package.get("layers")
    if layers is None:
        return _NOTHING

    training_source = layers._training_source
    test_thread = threading.get_ident()

    def make(original: Any, provenance: Provenance) -> Any:
        calling = _CALLING
        parents = provenance.parents

        def __call__(layer: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            found = training_source(layer, args, kwargs)
            if found is not None:
                value, source = found
                if value is None:  # the layer's call reads learning_phase() itself
                    phase = _state.THREAD.state.phase
                    value = 0 if phase is ABSENT else phase
                    source += ", so the layer reads learning_phase()"
                if threading.get_ident() != test_thread:
                    source += THREAD_NOTE
                provenance.add(layer, layer.name, type(layer).__name__, _flag(value), source)
            parent = calling.layer
            if parent is not None and layer not in parents:
                parents[layer] = (parent, parent.name)
            calling.layer = layer
            try:
                return original(layer, inputs, *args, **kwargs)
            finally:
                calling.layer = parent

        return __call__

    return _PatchRecording(layers.Layer, "__call__", make)


def record_tf_keras_layers(backend: ModuleType) -> Recording:
    """Record every tf_keras layer call that takes ``training``, until the recording stops."""
    import tensorflow as tf
    from tf_keras.src.engine import base_layer

    test_thread = threading.get_ident()

    def make(original: Any, provenance: Provenance) -> Any:
        parents = provenance.parents

        def _get_propagated_call_context_arguments(
            layer: Any, args: Any, kwargs: Any, call_context: Any, local: Any
        ) -> Any:
            if tf.inside_function() and _in_construction(tf):
                # Keras calling the layer on placeholders to build a model: not a run.
                return original(layer, args, kwargs, call_context, local)
            parent = call_context.layer
            if parent is not None and layer not in parents:
                parents[layer] = (parent, parent.name)
            source = _tf_keras_source(layer, args, kwargs, call_context, backend)
            result = original(layer, args, kwargs, call_context, local)
            if source is not None:
                elsewhere = threading.get_ident() != test_thread
                _add_tf_keras_call(provenance, layer, result, source, elsewhere, backend, tf)
            return result

        return _get_propagated_call_context_arguments

    return _PatchRecording(base_layer.Layer, "_get_propagated_call_context_arguments", make)


def _in_construction(tf: Any) -> bool:
    """Return whether the graph being built is one of Keras's scratch graphs, not a trace.

    To build a model or infer its output shapes, tf_keras calls its layers on
    placeholders in a graph it then drops (``<layer>_scratch_graph``, and
    ``build_graph`` for ``Model.build``): such a call computes nothing, so it is
    no run of the layer, whatever a ``tf.function`` traced inside it does.
    """
    graph = tf.compat.v1.get_default_graph()
    while graph is not None:
        name = getattr(graph, "name", "")
        if name == "build_graph" or name.endswith("_scratch_graph"):
            return True
        graph = getattr(graph, "outer_graph", None)
    return False


def _add_tf_keras_call(
    provenance: Provenance,
    layer: Any,
    resolved: Any,
    source: str,
    elsewhere: bool,
    backend: ModuleType,
    tf: Any,
) -> None:
    """Note one tf_keras layer call: the ``training`` it resolved (``resolved`` args, kwargs).

    ``elsewhere``: the call ran in another thread than the test's.
    """
    try:
        value = layer._call_spec.get_arg_value("training", resolved[0], resolved[1])
    except KeyError:
        value = None
    if tf.is_tensor(value):  # an eager tensor has a value; a symbolic one has none yet
        with contextlib.suppress(Exception):
            value = bool(value.numpy())
    if value is None:  # the layer's call reads learning_phase() itself
        value = backend._GRAPH_LEARNING_PHASES.get(backend._DUMMY_EAGER_GRAPH.key, 0)
        source += ", so the layer reads learning_phase()"
    elif source in ("explicit argument", "enclosing layer call"):
        source = _with_value(source, value)
    if tf.inside_function():
        source += TRACE_NOTE
    if elsewhere:
        source += THREAD_NOTE
    provenance.add(layer, layer.name, type(layer).__name__, _flag(value), source)


def _with_value(source: str, value: object) -> str:
    """Return ``explicit argument training=True``, ``the enclosing layer call's training=...``."""
    shown = value if isinstance(value, (bool, int)) else type(value).__name__
    if source == "explicit argument":
        return f"explicit argument training={shown!r}"
    return f"the enclosing layer call's training={shown!r}"


def _tf_keras_source(
    layer: Any, args: Any, kwargs: Any, call_context: Any, backend: ModuleType
) -> str | None:
    """Return where a tf_keras layer call takes ``training`` from, as tf_keras 2.21 decides."""
    if not layer._expects_training_arg:
        return None
    spec = layer._call_spec
    if (
        spec.arg_was_passed("training", args, kwargs)
        and spec.get_arg_value("training", args, kwargs) is not None
    ):
        return "explicit argument"
    if call_context.get_call_context_arg("training") is not None:
        return "enclosing layer call"
    if backend._DUMMY_EAGER_GRAPH.learning_phase_is_set:
        return "the global phase"
    return f"the layer's default (training={spec.get_context_arg_default('training')!r})"


def held_layers(
    values: Sequence[tuple[str, object]],
    takes_training: Callable[[object], bool],
    source: str = "",
) -> list[Ran]:
    """Return the layers among ``values`` (name, object) whose call takes ``training``.

    Their mode is not known after the fact: resolved at each call (no
    ``source``), or fixed when a graph was built (tf_keras's graph mode:
    ``source`` says so).
    """
    found: list[Ran] = []
    seen: set[int] = set()
    for _, value in values:
        if id(value) in seen or not takes_training(value):
            continue
        seen.add(id(value))
        found.append(Ran(str(getattr(value, "name", "?")), type(value).__name__, None, source))
    return found
