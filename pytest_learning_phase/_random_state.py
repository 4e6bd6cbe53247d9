"""The random state the audit saves, to start each re-run where the first run started.

One saver per generator family, as pytest-randomly keeps one reseeder per
library: each returns what puts its family back as it is now, or None when
the family is not in use (nothing is imported here that the suite did not
import, except numpy's own lazily imported ``numpy.random`` once numpy is).

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
from collections.abc import Callable
from functools import partial
from typing import Any, Final

__all__ = ["SAVERS", "RandomState"]

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


class RandomState:
    """Every generator family's state, saved to start a re-run where the first run did."""

    __slots__ = ("_restorers",)

    def __init__(self) -> None:
        """Save the state of every generator family in use now."""
        self._restorers = tuple(restorer for save in SAVERS if (restorer := save()) is not None)

    def restore(self) -> None:
        """Put every saved generator family back in the state it was saved in."""
        for restore in self._restorers:
            restore()
