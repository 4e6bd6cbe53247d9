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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import _frameworks, _tf_oracle
from tests import _phase_values as values
from tests._phase_values import Rejected

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


pytestmark = pytest.mark.usefixtures("restored_backend_state")


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


@dataclass(frozen=True)
class Kind:
    """Pin only the kind of an outcome: the exception's type name, or ``"returns"``."""

    name: str


def assert_pinned(result: Any, expected: Any) -> None:
    """Assert that ``result`` is ``expected`` (for a :class:`Kind`, of that kind)."""
    if isinstance(expected, Kind):
        assert isinstance(result, dict), result
        assert result.get("raises", "returns" if "returns" in result else result) == expected.name
    else:
        assert result == expected


def _rejected(row: Rejected) -> tuple[Kind, Any]:
    """tf_keras's side of a table row, and the reference's ``ValueError`` with its message."""
    assert row.tf_keras is not None
    return Kind(row.tf_keras), {"raises": "ValueError", "message": row.message}


def _elementwise(training: Any) -> tuple[Kind, Any]:
    chosen = np.where(training, 1.0, 0.0)
    return Kind("ValueError"), {
        "returns": {"type": "ndarray", "dtype": str(chosen.dtype), "value": chosen.tolist()}
    }


def _scope_reuse(label: str) -> tuple[Any, Any]:
    name = _tf_oracle.SCOPE_FACTORIES[label]
    return (
        {
            "entered_twice": "'_GeneratorContextManager' object has no attribute 'args'",
            "exited_without_enter": "generator didn't stop",
            "warnings_at_exit_without_enter": 1 if label == "public" else 0,
        },
        {
            "entered_twice": f"This {name}(1) was already entered; a scope can be entered "
            f"only once: call {name}(1) again for a new one.",
            "exited_without_enter": f"This {name}(1) was exited without being entered.",
            "warnings_at_exit_without_enter": 0,
        },
    )


def _dtype_outcome(result: str) -> Any:
    """A layer's output dtype as the scenario encodes it, or the kind of error."""
    if result[0].isupper():
        return Kind(result)
    return {"returns": {"type": "str", "repr": repr(result)}}


# name: (what tf_keras does, what the reference does instead)
DELIBERATE_DIFFERENCES: dict[str, tuple[Any, Any]] = {
    **{name: _rejected(row) for name, row in _tf_oracle.REJECTIONS.items()},
    **{
        f"in_train_phase_elementwise[{label}]": _elementwise(training)
        for label, training in values.ELEMENTWISE_TRAININGS.items()
    },
    **{
        f"layer_invalid_training[{layer}-{label}]": (
            Kind(values.TF_KERAS_LAYER_INVALID_TRAINING[layer][label]),
            {"raises": "ValueError", "message": row.message},
        )
        for layer in _tf_oracle.LAYER_ARGUMENTS
        for label, row in values.LAYER_INVALID_TRAININGS.items()
    },
    **{
        f"layer_non_numeric_input[{layer}-{label}]": (
            Kind(values.TF_KERAS_NON_NUMERIC_INPUTS[layer][label]),
            {
                "raises": "ValueError",
                "message": f"Layer 'layer' ({layer}) expects numeric inputs; "
                f"received an array of dtype {dtype}.",
            },
        )
        for layer in _tf_oracle.LAYER_ARGUMENTS
        for label, (_, dtype) in values.NON_NUMERIC_INPUTS.items()
    },
    **{
        f"scope_reuse_messages[{label}]": _scope_reuse(label)
        for label in _tf_oracle.SCOPE_FACTORIES
    },
    "warning_location": (
        [
            {"category": "UserWarning", "file": "backend.py"},
            {"category": "UserWarning", "file": "contextlib.py"},
        ],
        [{"category": "LearningPhaseDeprecationWarning", "file": "_tf_oracle.py"}] * 2,
    ),
    **{
        f"layer_output_dtype[{layer}-{label}-training={training}]": (
            _dtype_outcome(values.tf_keras_layer_output(layer, label, training)),
            _dtype_outcome(ours),
        )
        for layer in _tf_oracle.LAYER_ARGUMENTS
        for label, (_, ours) in values.LAYER_INPUT_DTYPES.items()
        for training in (True, False)
        if values.tf_keras_layer_output(layer, label, training) != ours
    },
    "noise_layer_elementwise_training": (Kind("ValueError"), Kind("returns")),
    "dropout_list_output_dtype": ("float32", "float64"),
    "batch_norm_input_of_another_size": (
        Kind("ValueError"),
        {
            "raises": "ValueError",
            "message": "Input of layer 'bn' has shape (4, 3), incompatible with the shape it "
            "was built for, (4, 2) (axis (1,) must match).",
        },
    ),
}


def test_every_difference_scenario_is_pinned() -> None:
    assert sorted(DELIBERATE_DIFFERENCES) == sorted(_tf_oracle.DIFFERENCES)


@pytest.mark.parametrize("name", list(DELIBERATE_DIFFERENCES))
def test_tf_keras_still_behaves_as_pinned(name: str, tf_keras_results: dict[str, Any]) -> None:
    assert_pinned(tf_keras_results["differences"][name], DELIBERATE_DIFFERENCES[name][0])


@pytest.mark.parametrize("name", list(DELIBERATE_DIFFERENCES))
def test_reference_differs_deliberately(name: str) -> None:
    assert_pinned(run_reference(_tf_oracle.DIFFERENCES, name), DELIBERATE_DIFFERENCES[name][1])


def test_the_scenarios_cover_the_spec_table() -> None:
    """Guard against the table rows silently disappearing from the scenario list."""
    rows = [name for name in _tf_oracle.SCENARIOS if name.startswith("layers/identity_or_not[")]
    assert len(rows) == len(values.PHASE_SETUPS) * len(values.LAYER_TRAININGS) == 42
