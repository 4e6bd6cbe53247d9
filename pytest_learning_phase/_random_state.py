"""The random state the audit saves, to start each re-run where the first run started.

One saver per generator family, as pytest-randomly keeps one reseeder per
library: each returns what puts its family back as it is now, or None when
the family is not in use (nothing is imported here that the suite did not
import, except numpy's own lazily imported ``numpy.random`` once numpy is).
The generator objects the suite holds (a wider fixture's value, a global of
the test's module) are saved too, one saver per family (:data:`HELD_SAVERS`),
and so are the backends' layer-name counters (:data:`NAME_SAVERS`), so that a
later test's automatic layer names are the ones it gets without the audit.

TensorFlow's op-seed streams (``tf.random.uniform(..., seed=5)``, a seeded
``Dropout`` in eager code) live in the kernels TensorFlow caches per op: no
call reads, copies or puts back a kernel's position, and the only call on the
cache clears it whole (``TFE_ContextClearCaches``, which ``tf.random.set_seed``
makes too). Those streams are restarted instead: before each re-run and after
the last one, as ``tf.random.set_seed`` restarts them.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable, Iterable
from functools import partial
from types import ModuleType
from typing import Any, Final

from pytest_learning_phase.adapters._held import find_held

__all__ = ["HELD_SAVERS", "NAME_SAVERS", "SAVERS", "RandomState", "held_generators"]

Restorer = Callable[[], object]
"""Puts one generator family back in the state it had when its saver ran."""


def save_python_random() -> Restorer:
    """Save Python's ``random`` module."""
    return partial(random.setstate, random.getstate())


def save_numpy_global_generator() -> Restorer | None:
    """Save numpy's global generator, also before the suite first used ``numpy.random``.

    numpy 2 imports ``numpy.random`` on first use (``np.random.rand()`` inside a
    test); it is imported here then, so that the generator every run draws from
    is the same one, in the same state.
    """
    numpy: Any = sys.modules.get("numpy")
    if numpy is None:
        return None
    numpy_random: Any = numpy.__dict__.get("random") or importlib.import_module("numpy.random")
    return partial(numpy_random.set_state, numpy_random.get_state())


def save_reference_seeded_streams() -> Restorer | None:
    """Save the reference backend's seeded dropout streams (``K.dropout(x, 0.5, seed=42)``)."""
    state: Any = sys.modules.get("pytest_learning_phase._state")
    if state is None:
        return None
    return partial(state.restore_seeded_draws, state.seeded_draws())


def save_torch_generators() -> Restorer | None:
    """Save torch's default CPU generator, and CUDA's when initialized."""
    torch: Any = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "random"):
        return None
    restorers: list[Restorer] = [partial(torch.random.set_rng_state, torch.random.get_rng_state())]
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_initialized():
        restorers.append(partial(cuda.set_rng_state_all, cuda.get_rng_state_all()))
    return partial(_run_all, restorers)


def save_tensorflow_global_generator() -> Restorer | None:
    """Save TensorFlow's global ``tf.random.Generator``, once created (private attributes)."""
    generators = sys.modules.get("tensorflow.python.ops.stateful_random_ops")
    generator: Any = getattr(generators, "global_generator", None)
    if generator is None:
        return None
    return partial(generator.state.assign, generator.state.numpy())


def save_tensorflow_op_seeds() -> Restorer:
    """Save the op seeds ``tf.random.set_seed`` makes; restart the op-seed streams.

    The op seeds come from the context's ``random.Random``; the streams each
    op seed draws from cannot be put back (see the module's docstring) and are
    restarted by clearing the eager kernel cache. TensorFlow makes its eager
    context on first use: one made after the save is put back as new.
    """
    context: Any = getattr(sys.modules.get(_CONTEXT_MODULE), "_context", None)
    seeded = context is not None and "_rng" in vars(context)  # made by set_seed
    seed = getattr(context, "_seed", None)
    op_seeds: Any = getattr(context, "_rng", None) if seeded else None
    state = None if op_seeds is None else op_seeds.getstate()

    def restore_op_seeds() -> None:
        current: Any = getattr(sys.modules.get(_CONTEXT_MODULE), "_context", None)
        if current is None:
            return
        current._seed = seed if current is context else None
        if op_seeds is not None and current is context:
            current._rng = op_seeds
            op_seeds.setstate(state)
        else:
            vars(current).pop("_rng", None)
        current.clear_kernel_cache()

    return restore_op_seeds


_CONTEXT_MODULE: Final = "tensorflow.python.eager.context"


def save_tf_keras_seed_generator() -> Restorer | None:
    """Save tf_keras's seed generator (``tf_keras.utils.set_random_seed``), once created."""
    keras_backend = sys.modules.get("tf_keras.src.backend")
    holder: Any = getattr(keras_backend, "_SEED_GENERATOR", None)
    keras_seeds: Any = getattr(holder, "generator", None)
    if keras_seeds is None:
        return None
    restore_state = partial(keras_seeds.setstate, keras_seeds.getstate())
    return partial(_run_all, [restore_state, partial(setattr, holder, "generator", keras_seeds)])


def _run_all(restorers: list[Restorer]) -> None:
    for restore in restorers:
        restore()


SAVERS: Final[tuple[Callable[[], Restorer | None], ...]] = (
    save_python_random,
    save_numpy_global_generator,
    save_reference_seeded_streams,
    save_torch_generators,
    save_tensorflow_global_generator,
    save_tensorflow_op_seeds,
    save_tf_keras_seed_generator,
)
"""Every generator family the audit puts back, in the order they are restored."""


def save_reference_name_counters() -> Restorer | None:
    """Save the reference backend's layer-name counters (``dropout_1``, ``dense_2``)."""
    state: Any = sys.modules.get("pytest_learning_phase._state")
    if state is None:
        return None
    return partial(state.restore_uids, state.uids())


def save_tf_keras_name_counters() -> Restorer | None:
    """Save tf_keras's layer-name counters (per graph) and observed names (private attributes)."""
    keras_backend: Any = sys.modules.get("tf_keras.src.backend")
    per_graph: Any = getattr(keras_backend, "PER_GRAPH_OBJECT_NAME_UIDS", None)
    observed: Any = getattr(keras_backend, "OBSERVED_NAMES", None)
    if per_graph is None or observed is None:
        return None
    saved = {graph: dict(counters) for graph, counters in per_graph.items()}
    saved_observed = set(observed)

    def restore_name_counters() -> None:
        for graph in [graph for graph in list(per_graph) if graph not in saved]:
            del per_graph[graph]
        for graph, counters in saved.items():
            if graph in per_graph:
                per_graph[graph].clear()
                per_graph[graph].update(counters)
        observed.clear()
        observed.update(saved_observed)

    return restore_name_counters


NAME_SAVERS: Final[tuple[Callable[[], Restorer | None], ...]] = (
    save_reference_name_counters,
    save_tf_keras_name_counters,
)
"""Every backend's layer-name counters the audit puts back (torch names no layer)."""


_ALL_SAVERS: Final = (*SAVERS, *NAME_SAVERS)


def _numpy_generator_types() -> tuple[type, ...]:
    numpy: Any = sys.modules.get("numpy")
    numpy_random: Any = numpy and numpy.__dict__.get("random")
    if numpy_random is None:
        return ()
    return (numpy_random.Generator, numpy_random.RandomState, numpy_random.BitGenerator)


def save_held_numpy(generator: object) -> Restorer | None:
    """Save a numpy ``Generator``, ``RandomState`` or bit generator."""
    types = _numpy_generator_types()
    if not types or not isinstance(generator, types):
        return None
    held: Any = generator
    random_state: Any = types[1]
    bit_generator: Any = types[2]
    if isinstance(held, random_state):
        return partial(held.set_state, held.get_state())
    bits = held if isinstance(held, bit_generator) else held.bit_generator
    return partial(setattr, bits, "state", bits.state)


def _torch_generator_types() -> tuple[type, ...]:
    torch: Any = sys.modules.get("torch")
    generator = getattr(torch, "Generator", None)
    return (generator,) if isinstance(generator, type) else ()


def save_held_torch(generator: object) -> Restorer | None:
    """Save a ``torch.Generator``."""
    types = _torch_generator_types()
    if not types or not isinstance(generator, types):
        return None
    held: Any = generator
    return partial(held.set_state, held.get_state())


def _tensorflow_generator_types() -> tuple[type, ...]:
    generators = sys.modules.get("tensorflow.python.ops.stateful_random_ops")
    generator = getattr(generators, "Generator", None)
    return (generator,) if isinstance(generator, type) else ()


def save_held_tensorflow(generator: object) -> Restorer | None:
    """Save a ``tf.random.Generator``."""
    types = _tensorflow_generator_types()
    if not types or not isinstance(generator, types):
        return None
    held: Any = generator
    return partial(held.state.assign, held.state.numpy())


def save_held_python_random(generator: object) -> Restorer | None:
    """Save a ``random.Random`` (not a ``SystemRandom``: it has no state)."""
    if not isinstance(generator, random.Random) or isinstance(generator, random.SystemRandom):
        return None
    return partial(generator.setstate, generator.getstate())


HELD_SAVERS: Final[tuple[Callable[[object], Restorer | None], ...]] = (
    save_held_numpy,
    save_held_torch,
    save_held_tensorflow,
    save_held_python_random,
)
"""One saver per family of generator objects: a restorer, or None for another object."""


def _held_types() -> tuple[type, ...]:
    """Return the generator classes of the families imported now."""
    return (
        *_numpy_generator_types(),
        *_torch_generator_types(),
        *_tensorflow_generator_types(),
        random.Random,
    )


def held_generators(value: object) -> list[object]:
    """Return the generator objects ``value`` holds, at any depth (``find_held``'s walk)."""
    return [found for _, found in find_held(value, _held_types())]


_SEEN_KINDS: set[type] = set()
"""Every type of a module global seen so far, generator class or not."""
_GENERATOR_KINDS: set[type] = set()
"""Those that are generator classes: a class is one from the moment it exists."""


def module_generators(module: ModuleType | None) -> list[object]:
    """Return the generator objects among ``module``'s globals (not looked into)."""
    if module is None:
        return []
    values = vars(module).values()
    # Most modules hold no generator: tell that from their globals' few distinct types.
    kinds = set(map(type, values))
    if not kinds <= _SEEN_KINDS:
        types = _held_types()
        _GENERATOR_KINDS.update(kind for kind in kinds if issubclass(kind, types))
        _SEEN_KINDS.update(kinds)
    if kinds.isdisjoint(_GENERATOR_KINDS):
        return []
    return [value for value in list(values) if type(value) in _GENERATOR_KINDS]


def _save_held(generator: object) -> Restorer | None:
    for save in HELD_SAVERS:
        restorer = save(generator)
        if restorer is not None:
            return restorer
    return None


class RandomState:
    """The random state and name counters, saved to start a re-run where the first run did."""

    __slots__ = ("_restorers", "held")

    def __init__(self, held: Iterable[object] = ()) -> None:
        """Save the state of every generator family in use now, and of the ``held`` generators."""
        self._restorers = [restorer for save in _ALL_SAVERS if (restorer := save()) is not None]
        self.held: list[object] = []
        """The generator objects whose state is saved too."""
        self.hold(held)

    def hold(self, generators: Iterable[object]) -> None:
        """Save the state of ``generators`` as they are now, those not saved already."""
        for generator in generators:
            if any(generator is held for held in self.held):
                continue
            restorer = _save_held(generator)
            if restorer is not None:
                self.held.append(generator)
                self._restorers.append(restorer)

    def now(self) -> RandomState:
        """Return the state now of every family and of the same held generators."""
        return RandomState(self.held)

    def restore(self) -> None:
        """Put every saved generator family back in the state it was saved in."""
        for restore in self._restorers:
            restore()
