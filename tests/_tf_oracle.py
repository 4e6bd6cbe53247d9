"""Scenarios run on both the reference backend and the real tf_keras 2.21, as JSON results.

Each scenario is a function of a :class:`Framework` (the backend module, the
layer classes, how to turn an output into numpy) returning plain JSON data:
values are encoded with their type, exceptions with their type and message.
``tests/differential/run_tf_keras.py`` runs every scenario on tf_keras in a
subprocess and prints the results; ``tests/test_differential_tf_keras.py``
runs them on the reference backend and compares.

This module imports neither TensorFlow nor tf_keras: only
:func:`tf_keras_framework` does, in the subprocess.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import ModuleType
from typing import Any

import numpy as np

JSON = Any


@dataclass(frozen=True)
class Framework:
    """What a scenario needs from one implementation."""

    name: str
    backend: ModuleType
    """Module with the public and internal learning-phase names."""
    layers: Any
    """Object with ``Layer``, ``Dropout``, ``GaussianNoise``, ``GaussianDropout``,
    ``BatchNormalization``."""

    @staticmethod
    def to_numpy(output: Any) -> np.ndarray[Any, Any]:
        """Return a layer's or a backend function's output as a numpy array."""
        return np.asarray(output.numpy() if hasattr(output, "numpy") else output)


def reference_framework() -> Framework:
    """The reference backend and layers."""
    from pytest_learning_phase import backend, layers

    return Framework("reference", backend, layers)


def tf_keras_framework() -> Framework:
    """tf_keras 2.21: the names of ``tf_keras.src.backend``, the layers of ``tf_keras.layers``."""
    import tf_keras
    from tf_keras.src import backend

    return Framework("tf_keras", backend, tf_keras.layers)


# -- encoding ----------------------------------------------------------------------------


def encode(value: Any) -> JSON:
    """Encode a returned value: its type name and repr (arrays: dtype and values)."""
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "dtype": str(value.dtype), "value": value.tolist()}
    return {"type": type(value).__name__, "repr": repr(value)}


def outcome(function: Callable[[], Any]) -> JSON:
    """Run ``function``; encode what it returned, or the exception's type and message."""
    try:
        return {"returns": encode(function())}
    except Exception as error:
        return {"raises": type(error).__name__, "message": str(error)}


def state(fw: Framework) -> JSON:
    """This thread's phase (value and type) and flag."""
    return [encode(fw.backend.learning_phase()), fw.backend.global_learning_phase_is_set()]


@contextmanager
def quiet() -> Iterator[None]:
    """Ignore every warning (the deprecation ones included) inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def recorded_warnings(function: Callable[[], Any]) -> JSON:
    """Run ``function``; return its outcome and the learning-phase warnings it emitted."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = outcome(function)
    caught = [
        {"message": str(w.message), "is_user_warning": issubclass(w.category, UserWarning)}
        for w in record
        if "learning_phase" in str(w.message)
    ]
    return {"outcome": result, "warnings": caught}


SCENARIOS: dict[str, Callable[[Framework], JSON]] = {}
"""Scenarios on which both implementations must agree exactly."""

DIFFERENCES: dict[str, Callable[[Framework], JSON]] = {}
"""Scenarios of the deliberate differences: each side is pinned separately."""


def scenario(
    name: str, registry: dict[str, Callable[[Framework], JSON]] = SCENARIOS
) -> Callable[[Callable[[Framework], JSON]], Callable[[Framework], JSON]]:
    def register(function: Callable[[Framework], JSON]) -> Callable[[Framework], JSON]:
        registry[name] = function
        return function

    return register


# -- values ------------------------------------------------------------------------------


def accepted_values() -> dict[str, Any]:
    import enum

    class Mode(enum.IntEnum):
        TEST = 0
        TRAIN = 1

    return {
        "int-0": 0,
        "int-1": 1,
        "True": True,
        "False": False,
        "float-0.0": 0.0,
        "float-1.0": 1.0,
        "float-minus-0.0": -0.0,
        "np.int64-1": np.int64(1),
        "np.int32-0": np.int32(0),
        "np.bool-True": np.bool_(True),
        "np.float32-1.0": np.float32(1.0),
        "np.float64-0.0": np.float64(0.0),
        "Fraction-1": Fraction(1),
        "Decimal-1": Decimal(1),
        "IntEnum-1": Mode.TRAIN,
    }


REJECTED_VALUES: dict[str, Any] = {
    "int-2": 2,
    "int-minus-1": -1,
    "float-0.5": 0.5,
    "nan": float("nan"),
    "str-1": "1",
    "None": None,
    "tuple-1": (1,),
    "np.float32-0.5": np.float32(0.5),
    "Fraction-1/2": Fraction(1, 2),
    "set-1": {1},
    "list-1": [1],
    "0-d-array": np.array(1),
    "1-element-array": np.array([1]),
}


def _register_value_scenarios() -> None:
    for label in accepted_values():

        @scenario(f"set_learning_phase[{label}]")
        def set_valid(fw: Framework, label: str = label) -> JSON:
            value = accepted_values()[label]
            warned = recorded_warnings(lambda: fw.backend.set_learning_phase(value))
            return {"set": warned, "state": state(fw)}

        @scenario(f"learning_phase_scope[{label}]")
        def scope_valid(fw: Framework, label: str = label) -> JSON:
            value = accepted_values()[label]
            inside: list[JSON] = []

            def enter() -> None:
                with fw.backend.learning_phase_scope(value):
                    inside.append(state(fw))

            return {"scope": recorded_warnings(enter), "inside": inside, "after": state(fw)}

        @scenario(f"eager_learning_phase_scope[{label}]")
        def eager_valid(fw: Framework, label: str = label) -> JSON:
            value = accepted_values()[label]
            with fw.backend.eager_learning_phase_scope(value):
                inside = state(fw)
            return {"inside": inside, "after": state(fw)}

    for label, value in REJECTED_VALUES.items():

        @scenario(f"set_learning_phase_rejects[{label}]")
        def set_invalid(fw: Framework, value: Any = value) -> JSON:
            with quiet():
                fw.backend.deprecated_internal_set_learning_phase(0)
            warned = recorded_warnings(lambda: fw.backend.set_learning_phase(value))
            return {"set": warned, "state": state(fw)}

        @scenario(f"learning_phase_scope_rejects[{label}]")
        def scope_invalid(fw: Framework, value: Any = value) -> JSON:
            def enter() -> None:
                with fw.backend.learning_phase_scope(value):
                    pass

            return {"scope": recorded_warnings(enter), "state": state(fw)}

        @scenario(f"eager_learning_phase_scope_rejects[{label}]")
        def eager_invalid(fw: Framework, value: Any = value) -> JSON:
            def enter() -> None:
                with fw.backend.eager_learning_phase_scope(value):
                    pass

            return {"scope": outcome(enter), "state": state(fw)}


_register_value_scenarios()


# -- warnings and the scope table --------------------------------------------------------


@scenario("warnings/scope_object_creation_is_silent")
def scope_creation_silent(fw: Framework) -> JSON:
    return recorded_warnings(lambda: (fw.backend.learning_phase_scope(1), None)[1])


@scenario("warnings/set_learning_phase_binding_error_before_warning")
def binding_error(fw: Framework) -> JSON:
    result = recorded_warnings(lambda: fw.backend.set_learning_phase())
    return {"raises": result["outcome"]["raises"], "warnings": result["warnings"]}


@scenario("warnings/internal_api_is_silent")
def internal_silent(fw: Framework) -> JSON:
    def use() -> None:
        fw.backend.deprecated_internal_set_learning_phase(1)
        with fw.backend.deprecated_internal_learning_phase_scope(0):
            pass
        with fw.backend.eager_learning_phase_scope(1):
            pass
        fw.backend.clear_session()

    return recorded_warnings(use)


@scenario("warnings/every_call_warns_even_after_clear_session")
def every_call_warns(fw: Framework) -> JSON:
    def use() -> None:
        fw.backend.set_learning_phase(1)
        fw.backend.set_learning_phase(1)
        fw.backend.clear_session()
        fw.backend.set_learning_phase(0)

    return recorded_warnings(use)


@scenario("table/scope(1)")
def table_scope_1(fw: Framework) -> JSON:
    with quiet(), fw.backend.learning_phase_scope(1):
        inside = state(fw)
    return {"inside": inside, "after": state(fw)}


@scenario("table/set(1)-then-scope(0)")
def table_set_then_scope(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(1)
        with fw.backend.learning_phase_scope(0):
            inside = state(fw)
    return {"inside": inside, "after": state(fw)}


@scenario("table/scope(1)-around-scope(0)-around-scope(1)")
def table_nested(fw: Framework) -> JSON:
    seen: list[JSON] = []
    with quiet():
        with fw.backend.learning_phase_scope(1):
            seen.append(state(fw))
            with fw.backend.learning_phase_scope(0):
                seen.append(state(fw))
                with fw.backend.learning_phase_scope(1):
                    seen.append(state(fw))
                seen.append(state(fw))
            seen.append(state(fw))
        seen.append(state(fw))
    return seen


@scenario("table/scope(0)-around-set(1)")
def table_set_inside(fw: Framework) -> JSON:
    with quiet(), fw.backend.learning_phase_scope(0):
        fw.backend.set_learning_phase(1)
        inside = state(fw)
    return {"inside": inside, "after": state(fw)}


@scenario("table/exit-A=scope(1)-before-B=scope(0)")
def table_out_of_order(fw: Framework) -> JSON:
    with quiet():
        outer = fw.backend.learning_phase_scope(1)
        inner = fw.backend.learning_phase_scope(0)
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)
        after_outer = state(fw)
        inner.__exit__(None, None, None)
    return {"after_A": after_outer, "after_B": state(fw)}


@scenario("scope/exception_inside_propagates_and_restores")
def scope_exception(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(0)

        def fail() -> None:
            with fw.backend.learning_phase_scope(1):
                raise KeyError("boom")

        result = outcome(fail)
    return {"outcome": result, "after": state(fw)}


@scenario("scope/open_across_clear_session")
def scope_across_clear(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(0)
        with fw.backend.learning_phase_scope(1):
            fw.backend.clear_session()
            inside = state(fw)
    return {"inside": inside, "after": state(fw)}


# -- eager scope and clear_session ---------------------------------------------------------


@scenario("eager/restores_previous_when_flag_set")
def eager_flag_set(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(0)
    with fw.backend.eager_learning_phase_scope(1):
        inside = state(fw)
    return {"inside": inside, "after": state(fw)}


@scenario("eager/key_error_when_phase_already_gone")
def eager_key_error(fw: Framework) -> JSON:
    def run() -> None:
        with fw.backend.eager_learning_phase_scope(1):
            fw.backend.clear_session()

    # The KeyError's message is the repr of an internal key object: compare its type only.
    return {"raises": outcome(run).get("raises"), "after": state(fw)}


@scenario("eager/inside_scope")
def eager_inside_scope(fw: Framework) -> JSON:
    with quiet(), fw.backend.learning_phase_scope(0):
        with fw.backend.eager_learning_phase_scope(1):
            inside = state(fw)
        after_eager = state(fw)
    return {"inside": inside, "after_eager": after_eager, "after": state(fw)}


@scenario("clear_session/drops_phase_and_flag")
def clear_session(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(1)
    fw.backend.clear_session()
    return state(fw)


@scenario("clear_session/resets_layer_names")
def layer_names(fw: Framework) -> JSON:
    names = [fw.layers.Dropout(0.5).name, fw.layers.Dropout(0.5).name]
    names += [fw.layers.BatchNormalization().name, fw.layers.GaussianNoise(0.1).name]
    names.append(fw.layers.GaussianDropout(0.1).name)
    fw.backend.clear_session()
    return {"names": names, "after_clear": fw.layers.Dropout(0.5).name}


def _in_thread(function: Callable[[], JSON]) -> JSON:
    result: list[JSON] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


@scenario("threads/new_thread_starts_unset")
def threads_new(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(1)
    return {"other": _in_thread(lambda: state(fw)), "here": state(fw)}


@scenario("threads/set_in_other_thread_not_seen")
def threads_isolated(fw: Framework) -> JSON:
    def set_train() -> JSON:
        with quiet():
            fw.backend.set_learning_phase(1)
        return state(fw)

    return {"other": _in_thread(set_train), "here": state(fw)}


@scenario("threads/clear_session_drops_other_threads_phase_keeps_flag")
def threads_clear(fw: Framework) -> JSON:
    has_set, release = threading.Event(), threading.Event()
    result: list[JSON] = []

    def other() -> None:
        with quiet():
            fw.backend.set_learning_phase(1)
        has_set.set()
        release.wait(timeout=30)
        result.append(state(fw))

    thread = threading.Thread(target=other)
    thread.start()
    has_set.wait(timeout=30)
    fw.backend.clear_session()
    release.set()
    thread.join()
    return {"other_after_clear": result[0], "here": state(fw)}


# -- in_train_phase / in_test_phase / dropout ------------------------------------------------

TRAINING_VALUES: dict[str, Any] = {
    "0": 0,
    "1": 1,
    "True": True,
    "False": False,
    "1.0": 1.0,
    "0.0": 0.0,
    "np.int64-1": np.int64(1),
    "np.bool-False": np.bool_(False),
    "np.float32-1": np.float32(1),
    "array-[1]": np.array([1]),
    "array-[0]": np.array([0]),
    "array-0-d-1": np.array(1),
    "array-[[1]]": np.array([[1]]),
}


def _register_in_train_phase() -> None:
    for label, training in TRAINING_VALUES.items():

        @scenario(f"in_train_phase/callables[training={label}]")
        def callables(fw: Framework, training: Any = training) -> JSON:
            calls: list[str] = []

            def branch(name: str) -> Callable[[], str]:
                return lambda: calls.append(name) or name  # type: ignore[func-returns-value]

            result = outcome(
                lambda: fw.backend.in_train_phase(branch("x"), branch("alt"), training=training)
            )
            return {"outcome": result, "calls": calls}

        @scenario(f"in_test_phase/values[training={label}]")
        def test_phase(fw: Framework, training: Any = training) -> JSON:
            x, alt = np.array([1.0, 2.0]), np.array([3.0, 4.0])
            return outcome(lambda: fw.backend.in_test_phase(x, alt, training=training))


_register_in_train_phase()


@scenario("in_train_phase/none_follows_learning_phase")
def in_train_phase_none(fw: Framework) -> JSON:
    results = [fw.backend.in_train_phase("x", "alt")]
    with quiet():
        fw.backend.set_learning_phase(1)
        results.append(fw.backend.in_train_phase("x", "alt"))
        with fw.backend.learning_phase_scope(0):
            results.append(fw.backend.in_train_phase("x", "alt"))
    fw.backend.clear_session()
    with fw.backend.eager_learning_phase_scope(1):
        results.append(fw.backend.in_train_phase("x", "alt"))
    return results


@scenario("in_train_phase/none_follows_the_enclosing_layer_call")
def in_train_phase_enclosing(fw: Framework) -> JSON:
    seen: list[str] = []

    class Probe(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def call(self, inputs: Any) -> Any:
            seen.append(fw.backend.in_train_phase("x", "alt"))
            return inputs

    with quiet():
        fw.backend.set_learning_phase(0)
        Probe()(np.ones(1, np.float32), training=True)
        Probe()(np.ones(1, np.float32))
    return seen


DROPOUT_LEVELS = {"1.0": 1.0, "-0.1": -0.1, "1.5": 1.5, "int-1": 1, "str-a": "a"}


def _register_dropout_levels() -> None:
    for label, level in DROPOUT_LEVELS.items():

        @scenario(f"dropout/rejects_level[{label}]")
        def bad_level(fw: Framework, level: Any = level) -> JSON:
            return outcome(lambda: fw.backend.dropout(np.ones(3, np.float32), level))


_register_dropout_levels()


@scenario("dropout/drops_at_phase_0_and_scales")
def dropout_phase_0(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(0)
    output = fw.to_numpy(fw.backend.dropout(np.ones(2000, np.float32), 0.5, seed=1))
    return {"values": sorted(set(output.tolist())), "dtype": str(output.dtype)}


@scenario("dropout/noise_shape_broadcasts_the_mask")
def dropout_noise_shape(fw: Framework) -> JSON:
    x = np.ones((200, 4), np.float32)
    output = fw.to_numpy(fw.backend.dropout(x, 0.5, noise_shape=(200, 1), seed=3))
    rows = {tuple(row) for row in output.tolist()}
    return sorted(rows)


@scenario("dropout/keeps_float64")
def dropout_float64(fw: Framework) -> JSON:
    return str(fw.to_numpy(fw.backend.dropout(np.ones(4, np.float64), 0.5, seed=0)).dtype)


# -- layers per phase ------------------------------------------------------------------------

PHASES = ["unset", "set(0)", "scope(0)", "set(1)", "set(1.0)", "scope(1)", "eager(1)"]
TRAININGS: dict[str, Any] = {"none": None, "True": True, "1": 1, "False": False, "0": 0}


@contextmanager
def phase_context(fw: Framework, phase: str) -> Iterator[None]:
    """Put ``fw`` in ``phase`` for the block (the runner clears the session afterwards)."""
    with quiet():
        if phase == "unset":
            yield
        elif phase == "eager(1)":
            with fw.backend.eager_learning_phase_scope(1):
                yield
        elif phase.startswith("set"):
            fw.backend.set_learning_phase(1.0 if phase == "set(1.0)" else int(phase[4]))
            yield
        else:
            with fw.backend.learning_phase_scope(int(phase[6])):
                yield


def call_layer(layer: Any, inputs: Any, training: Any) -> Any:
    return layer(inputs) if training is None else layer(inputs, training=training)


X = np.ones((32, 16), np.float32)


def _register_layer_table() -> None:
    for phase in PHASES:
        for label, training in TRAININGS.items():

            @scenario(f"layers/identity_or_not[{phase}-training={label}]")
            def identity(fw: Framework, phase: str = phase, training: Any = training) -> JSON:
                made = {
                    "Dropout": fw.layers.Dropout(0.5, seed=1),
                    "GaussianNoise": fw.layers.GaussianNoise(0.5, seed=1),
                    "GaussianDropout": fw.layers.GaussianDropout(0.5, seed=1),
                }
                result: dict[str, JSON] = {}
                with phase_context(fw, phase):
                    for name, layer in made.items():
                        output = fw.to_numpy(call_layer(layer, X, training))
                        result[name] = bool(np.array_equal(output, X))
                return result

            @scenario(f"layers/batch_norm_moving_stats_updated[{phase}-training={label}]")
            def batch_norm_updates(
                fw: Framework, phase: str = phase, training: Any = training
            ) -> JSON:
                layer = fw.layers.BatchNormalization()
                inputs = np.arange(12, dtype=np.float32).reshape(4, 3)
                with phase_context(fw, phase):
                    call_layer(layer, inputs, training)
                mean = layer.get_weights()[2]
                return {"moving_mean_updated": bool(np.any(mean != 0))}


_register_layer_table()


@scenario("layers/dropout_rate_zero_is_identity_in_training")
def dropout_rate_zero(fw: Framework) -> JSON:
    return bool(np.array_equal(fw.to_numpy(fw.layers.Dropout(0.0)(X, training=True)), X))


@scenario("layers/dropout_scales_kept_values")
def dropout_scaled(fw: Framework) -> JSON:
    output = fw.to_numpy(fw.layers.Dropout(0.75, seed=2)(X, training=True))
    return sorted(set(output.tolist()[0] + output.tolist()[1]))


@scenario("layers/batch_norm_not_trainable_forces_inference")
def batch_norm_not_trainable(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(trainable=False)
    output = fw.to_numpy(layer(np.arange(12, dtype=np.float32).reshape(4, 3), training=True))
    return {
        "weights": [w.tolist() for w in layer.get_weights()],
        "output": {"allclose": output.tolist()},
    }


BN_WEIGHTS = {
    "gamma": [1.5, 0.5, 2.0],
    "beta": [0.1, -0.2, 0.3],
    "moving_mean": [0.5, 10.0, -3.0],
    "moving_variance": [2.0, 50.0, 0.25],
}
BN_CASES: dict[str, tuple[tuple[int, ...], int]] = {
    "2d-axis-1": ((6, 3), -1),
    "3d-axis-1": ((2, 4, 3), -1),
    "4d-axis-last": ((2, 4, 5, 3), -1),
    "4d-axis-1": ((2, 3, 4, 5), 1),
    "4d-axis-2": ((2, 4, 3, 5), 2),
}


def _batch_norm_inputs(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    values = np.random.default_rng(sum(shape)).normal(2.0, 3.0, shape)
    return values.astype(np.float32)


def _register_batch_norm_numbers() -> None:
    for case, (shape, axis) in BN_CASES.items():
        for training in (False, True):

            @scenario(f"layers/batch_norm_numbers[{case}-training={training}]")
            def numbers(
                fw: Framework,
                shape: tuple[int, ...] = shape,
                axis: int = axis,
                training: bool = training,
            ) -> JSON:
                layer = fw.layers.BatchNormalization(axis=axis, momentum=0.9)
                layer.build(shape)
                layer.set_weights([np.array(w, np.float32) for w in BN_WEIGHTS.values()])
                output = fw.to_numpy(layer(_batch_norm_inputs(shape), training=training))
                weights = layer.get_weights()
                return {
                    "output": {"allclose": output.tolist()},
                    "dtype": str(output.dtype),
                    "weights": {"allclose": [w.tolist() for w in weights]},
                }


_register_batch_norm_numbers()


@scenario("layers/batch_norm_weights_per_center_scale")
def batch_norm_weights(fw: Framework) -> JSON:
    counts = []
    for center in (True, False):
        for scale in (True, False):
            layer = fw.layers.BatchNormalization(center=center, scale=scale)
            layer.build((2, 3))
            counts.append([w.tolist() for w in layer.get_weights()])
    return counts


# -- training resolution in Layer.__call__ -----------------------------------------------------


def _recorders(fw: Framework) -> dict[str, Any]:
    seen: list[JSON] = []

    class Recorder(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def call(self, inputs: Any, training: Any = None) -> Any:
            seen.append(encode(training))
            return inputs

    class RecorderDefaultTrue(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def call(self, inputs: Any, training: Any = True) -> Any:
            seen.append(encode(training))
            return inputs

    class NoTraining(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def call(self, inputs: Any) -> Any:
            return self.inner(inputs)

    class Outer(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, inner_training: Any) -> None:
            super().__init__()
            self.inner = inner
            self.inner_training = inner_training

        def call(self, inputs: Any, training: Any = None) -> Any:
            return self.inner(inputs, training=self.inner_training)

    return {
        "seen": seen,
        "Recorder": Recorder,
        "RecorderDefaultTrue": RecorderDefaultTrue,
        "NoTraining": NoTraining,
        "Outer": Outer,
    }


ONE = np.ones(1, np.float32)


@scenario("resolve/explicit_values_as_given")
def resolve_explicit(fw: Framework) -> JSON:
    r = _recorders(fw)
    with quiet():
        fw.backend.set_learning_phase(0)
        for training in (True, False, 1, 0, 1.0, np.int64(1)):
            r["Recorder"]()(ONE, training=training)
    return r["seen"]


@scenario("resolve/explicit_positional")
def resolve_positional(fw: Framework) -> JSON:
    r = _recorders(fw)
    r["Recorder"]()(ONE, 1)
    return r["seen"]


@scenario("resolve/set_phase_as_bool")
def resolve_set_phase(fw: Framework) -> JSON:
    r = _recorders(fw)
    with quiet():
        for phase in (1, 0, 1.0, np.int64(1)):
            fw.backend.set_learning_phase(phase)
            r["Recorder"]()(ONE)
            r["RecorderDefaultTrue"]()(ONE)
    return r["seen"]


@scenario("resolve/unset_gives_call_default")
def resolve_default(fw: Framework) -> JSON:
    r = _recorders(fw)
    r["Recorder"]()(ONE)
    r["RecorderDefaultTrue"]()(ONE)
    with fw.backend.eager_learning_phase_scope(1):
        r["Recorder"]()(ONE)
        r["RecorderDefaultTrue"]()(ONE)
    return r["seen"]


@scenario("resolve/enclosing_call_without_training_parameter")
def resolve_enclosing(fw: Framework) -> JSON:
    r = _recorders(fw)
    with quiet():
        fw.backend.set_learning_phase(0)
        for training in (True, 1, False):
            r["NoTraining"](r["NoTraining"](r["Recorder"]()))(ONE, training=training)
    return r["seen"]


@scenario("resolve/enclosing_call_with_training_parameter")
def resolve_enclosing_declared(fw: Framework) -> JSON:
    r = _recorders(fw)
    for training in (True, 1, False):
        r["Outer"](r["Recorder"](), None)(ONE, training=training)
        r["Outer"](r["Recorder"](), False)(ONE, training=training)
    return r["seen"]


@scenario("resolve/explicit_none_to_call_without_training_stops_propagation")
def resolve_none_quirk(fw: Framework) -> JSON:
    r = _recorders(fw)
    r["Outer"](r["NoTraining"](r["Recorder"]()), None)(ONE, training=True)
    return r["seen"]


# -- error messages shared with tf_keras -------------------------------------------------------


@scenario("errors/dropout_rate_outside_0_1_at_construction")
def dropout_construction(fw: Framework) -> JSON:
    return [outcome(lambda rate=rate: fw.layers.Dropout(rate)) for rate in (1.5, -1, -0.1)]


@scenario("errors/dropout_rate_one_fails_when_dropping_identity_otherwise")
def dropout_rate_one(fw: Framework) -> JSON:
    layer = fw.layers.Dropout(1.0)
    inference = bool(np.array_equal(fw.to_numpy(layer(X, training=False)), X))
    training = outcome(lambda: layer(X, training=True))
    message = "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"
    return {
        "inference_identity": inference,
        "raises": training["raises"],
        "message_contains": message in training["message"],
    }


@scenario("errors/batch_norm_axis_out_of_range")
def batch_norm_axis(fw: Framework) -> JSON:
    results = []
    for axis in (2, -3, 5):
        result = outcome(lambda axis=axis: fw.layers.BatchNormalization(axis=axis)(X))
        results.append(result)
    return results


@scenario("errors/set_weights_count")
def set_weights_count(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer.build((2, 3))
    result = outcome(lambda: layer.set_weights([np.ones(3, np.float32)] * 3))
    return {"raises": result["raises"], "message": result["message"].split(" Provided")[0]}


@scenario("errors/set_weights_shape")
def set_weights_shape(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer.build((2, 3))
    return outcome(lambda: layer.set_weights([np.ones(2, np.float32)] * 4))


# -- deliberate differences: each side pinned ------------------------------------------------


@scenario("in_train_phase_invalid_training[2]", DIFFERENCES)
def diff_invalid_training(fw: Framework) -> JSON:
    return outcome(lambda: fw.backend.in_train_phase("x", "alt", training=2))


@scenario("in_train_phase_invalid_training[array-[0.5]]", DIFFERENCES)
def diff_invalid_array(fw: Framework) -> JSON:
    return outcome(
        lambda: fw.backend.in_train_phase(np.ones(2), np.zeros(2), training=np.array([0.5]))
    )


@scenario("in_train_phase_multi_element_array", DIFFERENCES)
def diff_multi_element(fw: Framework) -> JSON:
    return outcome(
        lambda: fw.backend.in_train_phase(
            np.array([1.0, 2.0]), np.array([3.0, 4.0]), training=np.array([1, 0])
        )
    )


@scenario("warning_location", DIFFERENCES)
def diff_warning_location(fw: Framework) -> JSON:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fw.backend.set_learning_phase(1)
        with fw.backend.learning_phase_scope(0):
            pass
    return [
        {"category": w.category.__name__, "file": w.filename.rsplit("/", 1)[-1]}
        for w in record
        if "learning_phase" in str(w.message)
    ]


@scenario("dropout_layer_invalid_training[2]", DIFFERENCES)
def diff_dropout_training(fw: Framework) -> JSON:
    result = outcome(lambda: fw.layers.Dropout(0.5)(X, training=2))
    return result["raises"]


@scenario("batch_norm_float64_output_dtype", DIFFERENCES)
def diff_batch_norm_dtype(fw: Framework) -> JSON:
    output = fw.layers.BatchNormalization()(np.ones((2, 3), np.float64), training=False)
    return str(fw.to_numpy(output).dtype)


@scenario("gaussian_noise_negative_stddev", DIFFERENCES)
def diff_negative_stddev(fw: Framework) -> JSON:
    result = outcome(lambda: fw.layers.GaussianNoise(-1.0)(X, training=True))
    return result.get("raises", "returns")


@scenario("gaussian_dropout_rate_1.5", DIFFERENCES)
def diff_gaussian_dropout_rate(fw: Framework) -> JSON:
    result = outcome(lambda: fw.layers.GaussianDropout(1.5)(X, training=True))
    return result.get("raises", "returns")


@scenario("batch_norm_non_int_axis", DIFFERENCES)
def diff_axis_type(fw: Framework) -> JSON:
    return outcome(lambda: fw.layers.BatchNormalization(axis="a"))["raises"]


@scenario("dropout_layer_non_numeric_rate", DIFFERENCES)
def diff_dropout_rate_type(fw: Framework) -> JSON:
    result = outcome(lambda: fw.layers.Dropout("0.5"))
    return result.get("raises", "returns")


# -- running -------------------------------------------------------------------------------


def run(fw: Framework, registry: dict[str, Callable[[Framework], JSON]], name: str) -> JSON:
    """Run one scenario from a fresh session, and clear the session after it.

    A scenario that fails by itself (not an outcome it records) gives
    ``{"scenario_error": ...}``, which matches nothing on the other side.
    """
    fw.backend.clear_session()
    try:
        return registry[name](fw)
    except Exception:
        import traceback

        return {"scenario_error": traceback.format_exc()}
    finally:
        fw.backend.clear_session()


def run_all(fw: Framework) -> JSON:
    """Run every scenario and deliberate difference on ``fw``."""
    return {
        "scenarios": {name: run(fw, SCENARIOS, name) for name in SCENARIOS},
        "differences": {name: run(fw, DIFFERENCES, name) for name in DIFFERENCES},
    }
