"""What installing the package gives a user: entry point, typing, a light import path."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import pytest_learning_phase

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(statement: str) -> set[str]:
    """Run ``statement`` with ``-X importtime`` in a fresh interpreter; return what it imported."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        match.group(1).strip()
        for match in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", completed.stderr, re.MULTILINE)
    }


def test_plugin_import_pulls_in_neither_tensorflow_nor_numpy() -> None:
    modules = _imported_modules("import pytest_learning_phase.plugin")
    assert "pytest_learning_phase.plugin" in modules
    heavy = {name for name in modules if name.split(".")[0] in {"tensorflow", "tf_keras", "numpy"}}
    assert heavy == set()


def test_backend_import_needs_neither_pytest_nor_numpy() -> None:
    modules = _imported_modules("from pytest_learning_phase import backend")
    heavy = {name for name in modules if name.split(".")[0] in {"pytest", "_pytest", "numpy"}}
    assert heavy == set()


def test_assertions_import_needs_neither_pytest_nor_a_framework() -> None:
    modules = _imported_modules("import pytest_learning_phase.assertions")
    assert "pytest_learning_phase.assertions" in modules
    heavy = {
        name
        for name in modules
        if name.split(".")[0] in {"pytest", "_pytest", "numpy", "tensorflow", "tf_keras", "torch"}
    }
    assert heavy == set()


def test_plugin_is_registered_under_the_name_learning_phase() -> None:
    entry_points = metadata.entry_points(group="pytest11")
    ours = [entry for entry in entry_points if entry.value == "pytest_learning_phase.plugin"]
    assert [entry.name for entry in ours] == ["learning_phase"]


def test_package_ships_py_typed() -> None:
    assert (Path(pytest_learning_phase.__file__).parent / "py.typed").is_file()


def test_public_api_is_exactly_what_the_interface_names() -> None:
    assert sorted(pytest_learning_phase.__all__) == [
        "LearningPhaseBackendWarning",
        "LearningPhaseLeakWarning",
        "__version__",
        "assert_deterministic_in_inference",
        "assert_no_state_update_in_inference",
        "assert_phase_dependent",
        "assert_phase_invariant",
        "run_in_phases",
    ]
    for name in pytest_learning_phase.__all__:
        assert getattr(pytest_learning_phase, name) is not None


def test_leak_warning_is_a_pytest_warning() -> None:
    assert issubclass(pytest_learning_phase.LearningPhaseLeakWarning, pytest.PytestWarning)


def test_backend_warning_is_a_pytest_warning() -> None:
    assert issubclass(pytest_learning_phase.LearningPhaseBackendWarning, pytest.PytestWarning)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        pytest_learning_phase.nope  # noqa: B018


def test_readme_example_runs_and_passes(pytester: pytest.Pytester) -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert example is not None
    pytester.makepyfile(test_readme=example.group(1))
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_dropout[[]test[]] PASSED*", "*test_dropout[[]train[]] PASSED*"]
    )


CPU_TORCH = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
"""The line that installs the CPU build of torch (``pyproject.toml`` pins the same version)."""


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md", "docs/howto/torch.md"])
def test_the_install_docs_give_the_cpu_build_of_torch_for_the_pinned_version(page: str) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'torch = ["torch==2.13.0"]' in pyproject  # move CPU_TORCH with the pin
    assert CPU_TORCH in (ROOT / page).read_text(encoding="utf-8")


def test_the_quickstart_says_what_the_tf_extra_brings() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^tf = \[(.*)\]$", pyproject, re.MULTILINE)
    assert extra is not None
    assert extra.group(1) == '"tf-keras==2.21.*"'  # tf-keras requires tensorflow, not -cpu
    install = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8").split("## ", 2)[1]
    assert "`tf-keras` and the one TensorFlow it requires (`tensorflow`)" in install
    assert "tensorflow-cpu" not in install
