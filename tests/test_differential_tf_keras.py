"""Differential tests: the reference backend and layers against the real tf_keras 2.21.

Every scenario of ``tests/_tf_oracle.py`` runs on both; each is its own test
id. tf_keras runs once, in one subprocess (``tests/differential/run_tf_keras.py``,
about 10 s, TensorFlow never enters the pytest process). The deliberate
differences are pinned on both sides, so that a change in either shows up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_learning_phase import _state
from tests import _frameworks, _tf_oracle

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "differential" / "run_tf_keras.py"


@pytest.fixture(scope="module")
def tf_keras_results() -> dict[str, Any]:
    """All scenarios' results on tf_keras, from one subprocess.

    Missing tf_keras: skipped locally with the install hint, failed under
    ``CI=true`` (the semantics of ``tests._frameworks.require_tf_keras()``,
    without importing TensorFlow here).
    """
    if not _frameworks.tf_keras_is_installed():
        message = f"tf_keras is not installed: {_frameworks.TF_INSTALL_HINT}"
        if _frameworks.running_in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    completed = subprocess.run(
        [sys.executable, str(RUNNER)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{RUNNER.name} exited with {completed.returncode}:\n{completed.stderr[-3000:]}",
            pytrace=False,
        )
    results: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


@pytest.fixture(autouse=True)
def _restore_backend_state() -> Iterator[None]:
    snapshot = _state.snapshot()
    yield
    _state.restore(snapshot)


def run_reference(registry: dict[str, Any], name: str) -> Any:
    """Run one scenario on the reference backend, JSON round-tripped like tf_keras's."""
    result = _tf_oracle.run(_tf_oracle.reference_framework(), registry, name)
    return json.loads(json.dumps(result))


def assert_agree(ours: Any, theirs: Any, path: str = "result") -> None:
    """Assert equality, except ``{"allclose": ...}`` leaves: float32 tolerance."""
    if isinstance(theirs, dict) and set(theirs) == {"allclose"}:
        assert isinstance(ours, dict), f"{path}: ours is {ours!r}"
        np.testing.assert_allclose(
            np.asarray(ours["allclose"]),
            np.asarray(theirs["allclose"]),
            rtol=1e-5,
            atol=1e-5,
            err_msg=path,
        )
    elif isinstance(theirs, dict) and isinstance(ours, dict) and set(ours) == set(theirs):
        for key in theirs:
            assert_agree(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, list) and isinstance(ours, list) and len(ours) == len(theirs):
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            assert_agree(mine, other, f"{path}[{index}]")
    else:
        assert ours == theirs, f"{path}: reference {ours!r} != tf_keras {theirs!r}"


@pytest.mark.parametrize("name", list(_tf_oracle.SCENARIOS))
def test_reference_agrees_with_tf_keras(name: str, tf_keras_results: dict[str, Any]) -> None:
    assert_agree(run_reference(_tf_oracle.SCENARIOS, name), tf_keras_results["scenarios"][name])


INVALID_TRAINING = (
    "Invalid `training` value: {}. Expected None, 0, 1, True, False "
    "(or a number or numpy scalar equal to 0 or 1), or a numpy array of 0/1 values."
)

# name: (what tf_keras does, what the reference does instead)
DELIBERATE_DIFFERENCES: dict[str, tuple[Any, Any]] = {
    "in_train_phase_invalid_training[2]": (
        {"raises": "AttributeError", "message": "'int' object has no attribute 'dtype'"},
        {"raises": "ValueError", "message": INVALID_TRAINING.format("2")},
    ),
    "in_train_phase_invalid_training[array-[0.5]]": (
        {"raises": "AttributeError", "message": "'tuple' object has no attribute 'rank'"},
        {"raises": "ValueError", "message": INVALID_TRAINING.format("array([0.5])")},
    ),
    "in_train_phase_multi_element_array": (
        {
            "raises": "ValueError",
            "message": "The truth value of an array with more than one element is ambiguous. "
            "Use a.any() or a.all()",
        },
        {"returns": {"type": "ndarray", "dtype": "float64", "value": [1.0, 4.0]}},
    ),
    "warning_location": (
        [
            {"category": "UserWarning", "file": "backend.py"},
            {"category": "UserWarning", "file": "contextlib.py"},
        ],
        [{"category": "LearningPhaseDeprecationWarning", "file": "_tf_oracle.py"}] * 2,
    ),
    "dropout_layer_invalid_training[2]": ("TypeError", "ValueError"),
    "batch_norm_float64_output_dtype": ("float32", "float64"),
    "gaussian_noise_negative_stddev": ("returns", "ValueError"),
    "gaussian_dropout_rate_1.5": ("returns", "ValueError"),
    "batch_norm_non_int_axis": ("TypeError", "ValueError"),
    "dropout_layer_non_numeric_rate": ("returns", "ValueError"),
}


def test_every_difference_scenario_is_pinned() -> None:
    assert sorted(DELIBERATE_DIFFERENCES) == sorted(_tf_oracle.DIFFERENCES)


@pytest.mark.parametrize("name", list(DELIBERATE_DIFFERENCES))
def test_tf_keras_still_behaves_as_pinned(name: str, tf_keras_results: dict[str, Any]) -> None:
    assert tf_keras_results["differences"][name] == DELIBERATE_DIFFERENCES[name][0]


@pytest.mark.parametrize("name", list(DELIBERATE_DIFFERENCES))
def test_reference_differs_deliberately(name: str) -> None:
    assert run_reference(_tf_oracle.DIFFERENCES, name) == DELIBERATE_DIFFERENCES[name][1]


def test_the_scenarios_cover_the_spec_table() -> None:
    """Guard against the table rows silently disappearing from the scenario list."""
    rows = [name for name in _tf_oracle.SCENARIOS if name.startswith("layers/identity_or_not[")]
    assert len(rows) == len(_tf_oracle.PHASES) * len(_tf_oracle.TRAININGS) == 35
