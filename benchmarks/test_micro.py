"""Micro-benchmarks (pytest-benchmark): rows (c), (e) and the torch part of (h).

``benchmarks/run.py`` runs them, each group of tests in a process of its own
(importing TensorFlow must not slow the reference backend down, and the torch
wrapper cannot be uninstalled once installed). Run them directly with::

    pytest benchmarks/test_micro.py -p no:randomly --benchmark-timer=time.process_time

The project's own ``pytest`` run does not collect this file (``testpaths``).
Frameworks are imported inside the tests, never at import time.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

BACKEND_OPERATIONS = ("learning_phase", "scope", "adapter_cycle")
LAYER_CASES = ("dropout_training", "batch_norm_training", "batch_norm_inference")
TORCH_MODELS = ("linear", "sequential_10")
SHARED_MODEL_BLOCKS = 500
"""Blocks of ``nn.Sequential(nn.Linear(4, 4), nn.ReLU())``: 1,501 modules in all."""


# -- (c) The reference backend against tf_keras's, phase unset. ----------------------


def backend_operations(backend_name: str) -> dict[str, Callable[[], object]]:
    """Return the timed operations of one backend, each a zero-argument callable."""
    module: Any
    adapter: Any
    if backend_name == "tf_keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

        module = importlib.import_module("tf_keras.src.backend")
        adapter = make_tf_keras_adapter()
    else:
        from pytest_learning_phase.adapters.reference import ReferenceAdapter

        module = importlib.import_module("pytest_learning_phase.backend")
        adapter = ReferenceAdapter()
    scope = module.deprecated_internal_learning_phase_scope

    def scope_enter_exit() -> None:
        with scope(1):
            pass

    def adapter_cycle() -> None:
        saved = adapter.save_state()
        adapter.set_phase(1)
        adapter.restore_state(saved)

    return {
        "learning_phase": module.learning_phase,
        "scope": scope_enter_exit,
        "adapter_cycle": adapter_cycle,
    }


@pytest.mark.parametrize("operation", BACKEND_OPERATIONS)
def test_reference_backend(benchmark: BenchmarkFixture, operation: str) -> None:
    benchmark(backend_operations("reference")[operation])


@pytest.mark.parametrize("operation", BACKEND_OPERATIONS)
def test_tf_keras_backend(benchmark: BenchmarkFixture, operation: str) -> None:
    benchmark(backend_operations("tf_keras")[operation])


# -- (e) The reference layers against a bare numpy floor, 1000 x 1000 float32. -------


def layer_calls(case: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """Return ``(layer call, numpy floor)`` of one case.

    A floor is the shortest numpy for the same result: a mask multiply for
    dropout; ``x * scale + shift`` from the batch or the moving statistics,
    without ``gamma`` and ``beta``, for batch normalisation.
    """
    import numpy as np

    from pytest_learning_phase import layers

    inputs = np.random.default_rng(0).standard_normal((1000, 1000)).astype(np.float32)
    if case == "dropout_training":
        dropout = layers.Dropout(0.5, seed=0)
        rng = np.random.default_rng(0)
        return (
            lambda: dropout(inputs, training=True),
            lambda: inputs * (rng.random(inputs.shape, dtype=np.float32) >= 0.5) * np.float32(2),
        )
    batch_norm = layers.BatchNormalization()
    batch_norm(inputs, training=False)  # build the weights outside the timing
    epsilon = np.float32(batch_norm.epsilon)

    def normalise(mean: Any, variance: Any) -> object:
        scale = 1.0 / np.sqrt(variance + epsilon)
        return inputs * scale + (-mean * scale)

    if case == "batch_norm_training":
        return (
            lambda: batch_norm(inputs, training=True),
            lambda: normalise(inputs.mean(axis=0), inputs.var(axis=0)),
        )
    moving_mean = np.zeros(1000, dtype=np.float32)
    moving_variance = np.ones(1000, dtype=np.float32)
    return (
        lambda: batch_norm(inputs, training=False),
        lambda: normalise(moving_mean, moving_variance),
    )


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer(benchmark: BenchmarkFixture, case: str) -> None:
    benchmark(layer_calls(case)[0])


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_floor(benchmark: BenchmarkFixture, case: str) -> None:
    benchmark(layer_calls(case)[1])


# -- (h) torch: module construction, and a shared model's flags. ---------------------


def torch_model_builder(model: str) -> Callable[[], object]:
    """Return a function that builds one ``linear`` or ``sequential_10`` model."""
    from torch import nn

    if model == "linear":
        return lambda: nn.Linear(64, 64)

    def sequential_10() -> object:
        return nn.Sequential(
            *[nn.ReLU() if index % 2 else nn.Linear(64, 64) for index in range(20)]
        )

    return sequential_10


@functools.cache
def torch_adapter() -> Any:
    """Build the torch adapter, which installs the ``nn.Module.__init__`` wrapper.

    Fails (never skips) when the torch backend is not there yet.
    """
    try:
        adapters = importlib.import_module("pytest_learning_phase.adapters.torch")
    except ImportError as error:
        message = f"cannot import the torch backend (issue 13): {error}"
        pytest.fail(message, pytrace=False)
    return adapters.make_torch_adapter()


@pytest.mark.parametrize("model", TORCH_MODELS)
def test_torch_construction_without_wrapper(benchmark: BenchmarkFixture, model: str) -> None:
    installed = torch_adapter.cache_info().currsize
    assert not installed, (
        "an earlier test installed the wrapper: run in file order (-p no:randomly)"
    )
    benchmark(torch_model_builder(model))


@pytest.mark.parametrize("phase", [None, 0], ids=["unset", "phase_0"])
@pytest.mark.parametrize("model", TORCH_MODELS)
def test_torch_construction_with_wrapper(
    benchmark: BenchmarkFixture, model: str, phase: int | None
) -> None:
    adapter = torch_adapter()
    build = torch_model_builder(model)
    saved = adapter.save_state()
    adapter.set_phase(phase)
    try:
        built: Any = build()
        assert built.training is (phase != 0), "the wrapper did not set the module's mode"
        benchmark(build)
    finally:
        adapter.restore_state(saved)


@pytest.fixture
def shared_model() -> Any:
    """Return a large model as a wider fixture would hold it, all in train mode."""
    from torch import nn

    blocks = [nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(SHARED_MODEL_BLOCKS)]
    return nn.Sequential(*blocks)


def test_torch_save_module_flags(benchmark: BenchmarkFixture, shared_model: Any) -> None:
    adapter = torch_adapter()
    benchmark(adapter.save_module_flags, shared_model)


@pytest.mark.parametrize("changed", [False, True], ids=["unchanged", "all_changed"])
def test_torch_restore_module_flags(
    benchmark: BenchmarkFixture, request: pytest.FixtureRequest, shared_model: Any, changed: bool
) -> None:
    adapter = torch_adapter()
    saved = adapter.save_module_flags(shared_model)

    def change_flags() -> tuple[tuple[object], dict[str, object]]:
        if changed:
            shared_model.eval()
        return (saved,), {}

    # pedantic (a setup before every round) takes a fixed number of rounds
    rounds = max(int(request.config.getoption("benchmark_min_rounds")), 50)
    restore = adapter.restore_module_flags
    benchmark.pedantic(restore, setup=change_flags, rounds=rounds)  # type: ignore[no-untyped-call]
    assert all(module.training for module in shared_model.modules()), "flags not restored"
