"""The examples in the package's docstrings (shown in the reference pages) run and pass.

pytest's own ``--doctest-modules`` collects them over the whole package, in a
fresh interpreter, as a user's run would. A docstring without examples gives no
item, so the test names the docstrings that must have them: one that loses its
examples, or stops being collected, fails here instead of passing with nothing run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pytest_learning_phase

PACKAGE = Path(pytest_learning_phase.__file__).resolve().parent
DOCSTRINGS_WITH_EXAMPLES = [
    "pytest_learning_phase.assertions.assert_deterministic_in_inference",
    "pytest_learning_phase.assertions.assert_no_state_update_in_inference",
    "pytest_learning_phase.assertions.assert_phase_dependent",
    "pytest_learning_phase.assertions.assert_phase_invariant",
    "pytest_learning_phase.assertions.run_in_phases",
]


def test_doctest_modules_runs_the_examples_of_each_helper_and_they_pass(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_subprocess(
        "--doctest-modules", "-v", "-p", "no:cacheprovider", str(PACKAGE)
    )

    result.assert_outcomes(passed=len(DOCSTRINGS_WITH_EXAMPLES))
    passed = re.findall(r"^\S*\.py::(\S+) PASSED", result.stdout.str(), re.MULTILINE)
    assert sorted(passed) == DOCSTRINGS_WITH_EXAMPLES
