"""Time one backend's learning-phase calls in this process; print JSON (ns per call).

Usage: ``python benchmarks/micro_backend.py {reference,tf_keras} [--repeat N]``.
Run by ``benchmarks/run.py``, one process per backend, so that importing
TensorFlow cannot slow the reference backend down. Every operation is timed
with the phase unset, as a test finds it by default.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import timeit
from collections.abc import Callable
from typing import Any


def _operations(backend_name: str) -> dict[str, Callable[[], object]]:
    """Return the timed operations of ``backend_name``, each a zero-argument callable."""
    module: Any
    if backend_name == "tf_keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from tf_keras.src import backend as tf_keras_backend

        from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

        module = tf_keras_backend
        adapter: Any = make_tf_keras_adapter()
    else:
        from pytest_learning_phase import backend as reference_backend
        from pytest_learning_phase.adapters.reference import ReferenceAdapter

        module = reference_backend
        adapter = ReferenceAdapter()
    learning_phase = module.learning_phase
    scope = module.deprecated_internal_learning_phase_scope

    def scope_enter_exit() -> None:
        with scope(1):
            pass

    def adapter_cycle() -> None:
        saved = adapter.save_state()
        adapter.set_phase(1)
        adapter.restore_state(saved)

    return {
        "learning_phase()": learning_phase,
        "deprecated_internal_learning_phase_scope(1) enter+exit": scope_enter_exit,
        "adapter save_state + set_phase(1) + restore_state": adapter_cycle,
    }


def measure(backend_name: str, repeat: int) -> dict[str, list[float]]:
    """Return, per operation, ``repeat`` CPU timings in ns per call (interleaved)."""
    operations = _operations(backend_name)
    numbers = {
        name: timeit.Timer(call, timer=time.process_time).autorange()[0]
        for name, call in operations.items()
    }
    timings: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(repeat):
        for name, call in operations.items():
            seconds = timeit.Timer(call, timer=time.process_time).timeit(number=numbers[name])
            timings[name].append(seconds / numbers[name] * 1e9)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("backend", choices=["reference", "tf_keras"])
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.backend, arguments.repeat)))


if __name__ == "__main__":
    main()
