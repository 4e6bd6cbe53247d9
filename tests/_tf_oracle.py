"""Scenarios run on both the reference backend and the real tf_keras 2.21, as JSON results.

Each scenario is a function of a :class:`Framework` (the backend module, the
layer classes, how to turn an output into numpy) returning plain JSON data:
values are encoded with their type, exceptions with their type and message.
The values come from ``tests/_phase_values.py``, the tables the unit tests
use too: a row on which tf_keras agrees is a scenario in :data:`SCENARIOS`, a
deliberate difference one in :data:`DIFFERENCES` (its row in
:data:`REJECTIONS` says what each side does).
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
from types import ModuleType
from typing import Any

import numpy as np

from tests import _phase_values as values
from tests._phase_values import Rejected

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

REJECTIONS: dict[str, Rejected] = {}
"""The table row of each difference scenario registered by :func:`register_rejections`."""


def scenario(
    name: str, registry: dict[str, Callable[[Framework], JSON]] = SCENARIOS
) -> Callable[[Callable[[Framework], JSON]], Callable[[Framework], JSON]]:
    def register(function: Callable[[Framework], JSON]) -> Callable[[Framework], JSON]:
        registry[name] = function
        return function

    return register


def register_rejections(
    prefix: str, table: dict[str, Rejected], attempt: Callable[[Framework, Any], Any]
) -> None:
    """Register ``attempt(fw, row.value)`` for every row of ``table``, as its outcome.

    A row on which tf_keras raises the same error becomes the scenario
    ``{prefix}[label]``; a deliberate difference, ``{prefix}[label]`` in
    :data:`DIFFERENCES`, with its row in :data:`REJECTIONS`.
    """
    for label, row in table.items():
        name = f"{prefix}[{label}]"
        registry = SCENARIOS if row.tf_keras is None else DIFFERENCES
        if row.tf_keras is not None:
            REJECTIONS[name] = row

        @scenario(name, registry)
        def rejects(fw: Framework, value: Any = row.value) -> JSON:
            return outcome(lambda: attempt(fw, value))


# -- values ------------------------------------------------------------------------------


def _register_value_scenarios() -> None:
    for label, value in values.ACCEPTED_PHASES.items():

        @scenario(f"set_learning_phase[{label}]")
        def set_valid(fw: Framework, value: Any = value) -> JSON:
            warned = recorded_warnings(lambda: fw.backend.set_learning_phase(value))
            return {"set": warned, "state": state(fw)}

        @scenario(f"learning_phase_scope[{label}]")
        def scope_valid(fw: Framework, value: Any = value) -> JSON:
            inside: list[JSON] = []

            def enter() -> None:
                with fw.backend.learning_phase_scope(value):
                    inside.append(state(fw))

            return {"scope": recorded_warnings(enter), "inside": inside, "after": state(fw)}

        @scenario(f"eager_learning_phase_scope[{label}]")
        def eager_valid(fw: Framework, value: Any = value) -> JSON:
            with fw.backend.eager_learning_phase_scope(value):
                inside = state(fw)
            return {"inside": inside, "after": state(fw)}

    rejected = dict(values.REJECTED_PHASES)
    rejected.update({label: value for label, (value, _) in values.UNHASHABLE_PHASES.items()})
    for label, value in rejected.items():

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


SCOPE_FACTORIES: dict[str, str] = {
    "public": "learning_phase_scope",
    "internal": "deprecated_internal_learning_phase_scope",
    "eager": "eager_learning_phase_scope",
}
"""The three scopes, by the name of their factory in the backend module."""


def _kind(result: JSON) -> JSON:
    """The kind of an outcome: the exception's type name, or "returns"."""
    return result.get("raises", "returns")


def _register_scope_reuse() -> None:
    for label, factory in SCOPE_FACTORIES.items():

        @scenario(f"scope/entered_twice[{label}]")
        def entered_twice(fw: Framework, factory: str = factory) -> JSON:
            scope = getattr(fw.backend, factory)(1)
            with quiet(), scope:
                pass
            again = recorded_warnings(scope.__enter__)
            return {
                "raises": _kind(again["outcome"]),
                "warnings": len(again["warnings"]),
                "state": state(fw),
            }

        @scenario(f"scope/entered_again_inside[{label}]")
        def entered_again_inside(fw: Framework, factory: str = factory) -> JSON:
            scope = getattr(fw.backend, factory)(1)
            with quiet(), scope:
                again = _kind(outcome(scope.__enter__))
                inside = state(fw)
            return {"raises": again, "inside": inside, "after": state(fw)}

        @scenario(f"scope/entered_after_a_failed_enter[{label}]")
        def entered_after_failure(fw: Framework, factory: str = factory) -> JSON:
            scope = getattr(fw.backend, factory)(2)
            with quiet():
                first = _kind(outcome(scope.__enter__))
                second = _kind(outcome(scope.__enter__))
                exited = outcome(lambda: bool(scope.__exit__(None, None, None)))
            return {"first": first, "second": second, "exit": exited, "state": state(fw)}

        @scenario(f"scope/exited_twice[{label}]")
        def exited_twice(fw: Framework, factory: str = factory) -> JSON:
            scope = getattr(fw.backend, factory)(1)
            with quiet(), scope:
                pass
            fw.backend.deprecated_internal_set_learning_phase(0)
            exits = [
                outcome(lambda: bool(scope.__exit__(None, None, None))),
                outcome(lambda: bool(scope.__exit__(KeyError, KeyError("k"), None))),
            ]
            return {"exits": exits, "state": state(fw)}

        @scenario(f"scope/exited_without_enter[{label}]")
        def exited_without_enter(fw: Framework, factory: str = factory) -> JSON:
            scope = getattr(fw.backend, factory)(1)
            with quiet():
                result = outcome(lambda: scope.__exit__(None, None, None))
            return {"raises": _kind(result), "state": state(fw)}

        @scenario(f"scope_reuse_messages[{label}]", DIFFERENCES)
        def reuse_messages(fw: Framework, factory: str = factory) -> JSON:
            entered = getattr(fw.backend, factory)(1)
            with quiet(), entered:
                pass
            never_entered = getattr(fw.backend, factory)(1)
            exited = recorded_warnings(lambda: never_entered.__exit__(None, None, None))
            return {
                "entered_twice": outcome(entered.__enter__)["message"],
                "exited_without_enter": exited["outcome"]["message"],
                "warnings_at_exit_without_enter": len(exited["warnings"]),
            }


_register_scope_reuse()


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


def _register_in_train_phase() -> None:
    for label, training in {**values.TRAIN_TRAININGS, **values.TEST_TRAININGS}.items():

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

    for label, phase in values.ACCEPTED_PHASES.items():

        @scenario(f"in_train_phase/none_follows_the_set_phase[{label}]")
        def follows_set_phase(fw: Framework, phase: Any = phase) -> JSON:
            fw.backend.deprecated_internal_set_learning_phase(phase)
            return fw.backend.in_train_phase("x", "alt")

    register_rejections(
        "in_train_phase_invalid_training",
        values.INVALID_TRAININGS,
        lambda fw, training: fw.backend.in_train_phase("x", "alt", training=training),
    )
    for label, training in values.ELEMENTWISE_TRAININGS.items():

        @scenario(f"in_train_phase_elementwise[{label}]", DIFFERENCES)
        def elementwise(fw: Framework, training: Any = training) -> JSON:
            return outcome(lambda: fw.backend.in_train_phase(1.0, 0.0, training=training))


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
        for training in values.ENCLOSING_TRAININGS.values():
            Probe()(np.ones(1, np.float32), training=training)
        Probe()(np.ones(1, np.float32))
    return seen


def _in_train_phase_probes(fw: Framework) -> dict[str, Any]:
    """Layers whose ``call`` returns ``in_train_phase(1, 0, training=None)``, as a number."""

    def choice() -> Any:
        return fw.backend.in_train_phase(lambda: 1.0, lambda: 0.0, training=None)

    class Probe(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def call(self, inputs: Any) -> Any:
            return inputs * 0 + choice()

    class ProbeWithTraining(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def call(self, inputs: Any, training: Any = None) -> Any:
            return inputs * 0 + choice()

    class Outer(fw.layers.Layer):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            self.inner = Probe()

        def call(self, inputs: Any) -> Any:
            return self.inner(inputs)

    return {"Probe": Probe, "ProbeWithTraining": ProbeWithTraining, "Outer(Probe)": Outer}


def _register_in_train_phase_inside_call() -> None:
    for phase in values.PHASE_SETUPS:

        @scenario(f"in_train_phase/explicit_none_inside_call[{phase}]")
        def inside_call(fw: Framework, phase: str = phase) -> JSON:
            result: dict[str, JSON] = {}
            with values.phase_context(fw.backend, phase):
                for name, probe in _in_train_phase_probes(fw).items():
                    for label, training in values.LAYER_TRAININGS.items():
                        output = call_layer(probe(), ONE, training)
                        result[f"{name}-{label}"] = float(fw.to_numpy(output)[0])
            return result


_register_in_train_phase_inside_call()

register_rejections(
    "dropout/rejects_level",
    values.DROPOUT_BAD_LEVELS,
    lambda fw, level: fw.backend.dropout(np.ones(3, np.float32), level),
)
register_rejections(
    "dropout/rejects_x_dtype",
    values.DROPOUT_NON_FLOATING,
    lambda fw, dtype: fw.backend.dropout(np.ones(3, dtype), 0.5),
)
register_rejections(
    "dropout_bad_noise_shape",
    values.BAD_NOISE_SHAPES,
    lambda fw, noise_shape: fw.backend.dropout(
        np.ones((2, 3), np.float32), 0.5, noise_shape=noise_shape
    ),
)


def _register_dropout_tables() -> None:
    for label, dtype in values.FLOAT_DTYPES.items():

        @scenario(f"dropout/keeps_dtype[{label}]")
        def keeps_dtype(fw: Framework, dtype: Any = dtype) -> JSON:
            return str(fw.to_numpy(fw.backend.dropout(np.ones(4, dtype), 0.5, seed=0)).dtype)

    for label, (noise_shape, _) in values.NOISE_SHAPES.items():

        @scenario(f"dropout/noise_shape[{label}]")
        def noise_shape_scenario(fw: Framework, noise_shape: Any = noise_shape) -> JSON:
            x = np.ones(values.NOISE_SHAPE_X_SHAPE, np.float32)
            output = fw.to_numpy(fw.backend.dropout(x, 0.5, noise_shape=noise_shape, seed=3))
            return {
                "constant_along": values.constant_along(output),
                "values_are_0_or_2": bool(np.isin(output, (0.0, 2.0)).all()),
            }


_register_dropout_tables()


@scenario("dropout/drops_at_phase_0_and_scales")
def dropout_phase_0(fw: Framework) -> JSON:
    with quiet():
        fw.backend.set_learning_phase(0)
    output = fw.to_numpy(fw.backend.dropout(np.ones(2000, np.float32), 0.5, seed=1))
    return {"values": sorted(set(output.tolist())), "dtype": str(output.dtype)}


@scenario("dropout/accepts_nested_lists")
def dropout_nested_lists(fw: Framework) -> JSON:
    return list(fw.to_numpy(fw.backend.dropout([[1.0, 2.0]], 0.5, seed=0)).shape)


@scenario("dropout/seed_draws_a_new_mask_on_each_call")
def dropout_seed_sequence(fw: Framework) -> JSON:
    x = np.ones((8, 8), np.float32)

    def draw(seed: int = 7) -> np.ndarray[Any, Any]:
        return fw.to_numpy(fw.backend.dropout(x, 0.5, seed=seed))

    first, second = draw(), draw()
    in_other_thread = _in_thread(lambda: draw().tolist())
    other_seed = draw(8)
    fw.backend.clear_session()
    after_clear_session = draw()
    negative_seed = outcome(lambda: draw(-1).shape)
    return {
        "negative_seed": negative_seed,
        "second_call_differs": not np.array_equal(first, second),
        "other_thread_continues_the_sequence": in_other_thread
        not in (first.tolist(), second.tolist()),
        "other_seed_differs": not np.array_equal(first, other_seed),
        "clear_session_restarts_the_sequence": bool(np.array_equal(first, after_clear_session)),
    }


# -- layers per phase ------------------------------------------------------------------------


def call_layer(layer: Any, inputs: Any, training: Any) -> Any:
    """Call ``layer`` on ``inputs`` with ``training`` (not passed at all for ``NOT_PASSED``)."""
    if training is values.NOT_PASSED:
        return layer(inputs)
    return layer(inputs, training=training)


X = np.ones((32, 16), np.float32)


def _register_layer_table() -> None:
    for phase in values.PHASE_SETUPS:
        for label, training in values.LAYER_TRAININGS.items():

            @scenario(f"layers/identity_or_not[{phase}-training={label}]")
            def identity(fw: Framework, phase: str = phase, training: Any = training) -> JSON:
                made = {
                    "Dropout": fw.layers.Dropout(0.5, seed=1),
                    "GaussianNoise": fw.layers.GaussianNoise(0.5, seed=1),
                    "GaussianDropout": fw.layers.GaussianDropout(0.5, seed=1),
                }
                result: dict[str, JSON] = {}
                with values.phase_context(fw.backend, phase):
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
                with values.phase_context(fw.backend, phase):
                    call_layer(layer, inputs, training)
                mean = layer.get_weights()[2]
                return {"moving_mean_updated": bool(np.any(mean != 0))}

            if values.layer_trains(phase, label):
                continue

            @scenario(f"layers/noise_layers_return_their_input_in_inference[{phase}-{label}]")
            def noise_identity(fw: Framework, phase: str = phase, training: Any = training) -> JSON:
                inputs = np.random.default_rng(5).normal(size=(4, 3)).astype(np.float32)
                result: dict[str, JSON] = {}
                with values.phase_context(fw.backend, phase):
                    for name in ("GaussianNoise", "GaussianDropout"):
                        layer = getattr(fw.layers, name)(0.5, seed=1)
                        output = fw.to_numpy(call_layer(layer, inputs, training))
                        result[name] = {"values": output.tolist(), "dtype": str(output.dtype)}
                result["inputs"] = inputs.tolist()
                return result


_register_layer_table()


@scenario("layers/dropout_rate_zero_is_identity_in_training")
def dropout_rate_zero(fw: Framework) -> JSON:
    return bool(np.array_equal(fw.to_numpy(fw.layers.Dropout(0.0)(X, training=True)), X))


@scenario("layers/dropout_scales_kept_values")
def dropout_scaled(fw: Framework) -> JSON:
    output = fw.to_numpy(fw.layers.Dropout(0.75, seed=2)(X, training=True))
    return sorted(set(output.tolist()[0] + output.tolist()[1]))


@scenario("layers/dropout_rate_zero_ignores_an_invalid_training")
def dropout_rate_zero_invalid_training(fw: Framework) -> JSON:
    return outcome(
        lambda: bool(np.array_equal(fw.to_numpy(fw.layers.Dropout(0)(X, training=2)), X))
    )


@scenario("layers/zero_noise_is_the_identity_in_training")
def zero_noise(fw: Framework) -> JSON:
    layers = {
        "GaussianNoise": fw.layers.GaussianNoise(0.0),
        "GaussianDropout": fw.layers.GaussianDropout(0.0),
    }
    return {
        name: bool(np.array_equal(fw.to_numpy(layer(X, training=True)), X))
        for name, layer in layers.items()
    }


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
    inputs = np.random.default_rng(sum(shape)).normal(2.0, 3.0, shape)
    return inputs.astype(np.float32)


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


def _register_batch_norm_momentums() -> None:
    for label, momentum in values.BATCH_NORM_MOMENTUMS.items():

        @scenario(f"layers/batch_norm_momentum[{label}]")
        def momentum_scenario(fw: Framework, momentum: float = momentum) -> JSON:
            layer = fw.layers.BatchNormalization(momentum=momentum)
            output = fw.to_numpy(
                layer(np.arange(12, dtype=np.float32).reshape(4, 3), training=True)
            )
            return {
                "output": {"allclose": output.tolist()},
                "weights": {"allclose": [w.tolist() for w in layer.get_weights()]},
            }


_register_batch_norm_momentums()


@scenario("layers/batch_norm_set_weights_round_trip_before_build")
def batch_norm_round_trip(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization()
    result = outcome(lambda: layer.set_weights(layer.get_weights()))
    return {"outcome": result, "built": layer.built, "weights": len(layer.get_weights())}


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
        for training in values.EXPLICIT_TRAININGS.values():
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
        for phase, _ in values.SET_PHASES_AS_BOOL.values():
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
        for training in values.ENCLOSING_TRAININGS.values():
            r["NoTraining"](r["NoTraining"](r["Recorder"]()))(ONE, training=training)
    return r["seen"]


@scenario("resolve/enclosing_call_with_training_parameter")
def resolve_enclosing_declared(fw: Framework) -> JSON:
    r = _recorders(fw)
    for training in values.ENCLOSING_TRAININGS.values():
        r["Outer"](r["Recorder"](), None)(ONE, training=training)
        r["Outer"](r["Recorder"](), False)(ONE, training=training)
    return r["seen"]


@scenario("resolve/explicit_none_to_call_without_training_stops_propagation")
def resolve_none_quirk(fw: Framework) -> JSON:
    r = _recorders(fw)
    r["Outer"](r["NoTraining"](r["Recorder"]()), None)(ONE, training=True)
    return r["seen"]


# -- error messages shared with tf_keras -------------------------------------------------------


register_rejections(
    "errors/dropout_rate", values.DROPOUT_LAYER_BAD_RATES, lambda fw, rate: fw.layers.Dropout(rate)
)
register_rejections(
    "errors/gaussian_noise_stddev",
    values.GAUSSIAN_NOISE_BAD_STDDEVS,
    lambda fw, stddev: fw.layers.GaussianNoise(stddev),
)
register_rejections(
    "errors/gaussian_dropout_rate",
    values.GAUSSIAN_DROPOUT_BAD_RATES,
    lambda fw, rate: fw.layers.GaussianDropout(rate),
)
register_rejections(
    "errors/batch_norm_axis_type",
    values.BATCH_NORM_BAD_AXES,
    lambda fw, axis: fw.layers.BatchNormalization(axis=axis),
)
register_rejections(
    "errors/batch_norm_axis_for_the_input",
    values.BATCH_NORM_AXES_OUT_OF_RANGE,
    lambda fw, axis: fw.layers.BatchNormalization(axis=axis)(
        np.ones(values.BATCH_NORM_INPUT_SHAPE, np.float32)
    ),
)


def _register_batch_norm_arguments() -> None:
    for label, (argument, row) in values.BATCH_NORM_BAD_ARGUMENTS.items():

        def build(fw: Framework, value: Any, argument: str = argument) -> Any:
            return fw.layers.BatchNormalization(**{argument: value})

        register_rejections("errors/batch_norm_argument", {label: row}, build)


_register_batch_norm_arguments()


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


@scenario("errors/set_weights_count")
def set_weights_count(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer.build((2, 3))
    return outcome(lambda: layer.set_weights([np.ones(3, np.float32)] * 3))


@scenario("errors/set_weights_before_build")
def set_weights_before_build(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    return outcome(lambda: layer.set_weights([np.ones(3, np.float32)] * 4))


@scenario("errors/set_weights_shape")
def set_weights_shape(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer.build((2, 3))
    return outcome(lambda: layer.set_weights([np.ones(2, np.float32)] * 4))


@scenario("errors/set_weights_lists_have_no_shape")
def set_weights_lists(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer.build((2, 3))
    result = outcome(lambda: layer.set_weights([[1.0, 1.0, 1.0]] * 4))
    return {"outcome": result, "weights": [w.tolist() for w in layer.get_weights()]}


# -- deliberate differences: each side pinned ------------------------------------------------


LAYER_ARGUMENTS: dict[str, tuple[float, ...]] = {
    "Dropout": (0.5,),
    "GaussianNoise": (0.5,),
    "GaussianDropout": (0.5,),
    "BatchNormalization": (),
}
"""The positional arguments each layer is built with in the scenarios below."""


def _register_layer_differences() -> None:
    for layer_name, arguments in LAYER_ARGUMENTS.items():
        for label, row in values.LAYER_INVALID_TRAININGS.items():

            @scenario(f"layer_invalid_training[{layer_name}-{label}]", DIFFERENCES)
            def invalid_training(
                fw: Framework,
                layer: str = layer_name,
                arguments: Any = arguments,
                value: Any = row.value,
            ) -> JSON:
                made = getattr(fw.layers, layer)(*arguments)
                return outcome(lambda: made(X, training=value))

        for label, (inputs, _) in values.NON_NUMERIC_INPUTS.items():

            @scenario(f"layer_non_numeric_input[{layer_name}-{label}]", DIFFERENCES)
            def non_numeric(
                fw: Framework,
                layer: str = layer_name,
                arguments: Any = arguments,
                inputs: Any = inputs,
            ) -> JSON:
                made = getattr(fw.layers, layer)(*arguments, name="layer")
                return outcome(lambda: made(inputs, training=True))


_register_layer_differences()


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


def _register_layer_dtypes() -> None:
    for layer_name, arguments in LAYER_ARGUMENTS.items():
        for label, (dtype, ours) in values.LAYER_INPUT_DTYPES.items():
            for training in (True, False):
                theirs = values.tf_keras_layer_output(layer_name, label, training)
                registry = SCENARIOS if theirs == ours else DIFFERENCES

                @scenario(f"layer_output_dtype[{layer_name}-{label}-training={training}]", registry)
                def output_dtype(
                    fw: Framework,
                    layer: str = layer_name,
                    arguments: Any = arguments,
                    dtype: Any = dtype,
                    training: bool = training,
                ) -> JSON:
                    made = getattr(fw.layers, layer)(*arguments)
                    inputs = np.ones((4, 2), dtype)
                    return outcome(lambda: str(fw.to_numpy(made(inputs, training=training)).dtype))


_register_layer_dtypes()


@scenario("noise_layer_elementwise_training", DIFFERENCES)
def diff_noise_layer_elementwise(fw: Framework) -> JSON:
    layer = fw.layers.GaussianNoise(1.0, seed=0)
    return outcome(lambda: layer(np.zeros((2, 3), np.float32), training=np.array([[1], [0]])))


@scenario("dropout_list_output_dtype", DIFFERENCES)
def diff_dropout_list_dtype(fw: Framework) -> JSON:
    return str(fw.to_numpy(fw.backend.dropout([[1.0, 2.0]], 0.5, seed=0)).dtype)


@scenario("batch_norm_input_of_another_size", DIFFERENCES)
def diff_batch_norm_input_size(fw: Framework) -> JSON:
    layer = fw.layers.BatchNormalization(name="bn")
    layer(np.ones((4, 2), np.float32), training=False)
    return outcome(lambda: layer(np.ones((4, 3), np.float32)))


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
