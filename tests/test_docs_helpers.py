"""The helpers' reference page (docs/reference/helpers.md): its examples run and show what it says.

As in ``test_docs.py``: each test copies a snippet directory into a pytester
directory, runs pytest on it in a subprocess, as a user would, and checks the
report lines the page quotes. Every error message a user can get from the
helpers is quoted on the page, and checked here against a real run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests._failures import error_lines_by_test
from tests._frameworks import TORCH_INSTALL_HINT, require_installed

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = DOCS / "reference" / "helpers.md"
HELPERS = DOCS / "snippets" / "helpers"
HYPOTHESIS = DOCS / "snippets" / "hypothesis"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")

TOLERANCE = "(rtol=1e-07, atol=0)"
ERRORS: dict[str, list[str]] = {
    "test_passing_the_layers_output_instead_of_the_layer": [
        "E       TypeError: assert_phase_invariant: fn=array([[1., 1., 1.], [1., 1., 1.]]): "
        "expected a callable or a torch.nn.Module, e.g. assert_phase_invariant(model, x)",
    ],
    "test_a_tolerance_read_from_a_config_file": [
        "E       TypeError: assert_phase_invariant: rtol='1e-5': expected a real number >= 0",
    ],
    "test_a_negative_tolerance": [
        "E       ValueError: assert_phase_invariant: atol=-1e-06: expected a real number >= 0",
    ],
    "test_equal_nan_given_as_a_word": [
        "E       TypeError: assert_phase_invariant: equal_nan='yes': expected True or False",
    ],
    "test_phases_given_as_one_number": [
        "E       ValueError: run_in_phases: phases=1: expected a tuple of phases, "
        "e.g. phases=(0, 1)",
    ],
    "test_a_phase_that_does_not_exist": [
        "E       ValueError: run_in_phases: phases=(0, 2): 2 is not a phase; expected 0, 1 or "
        "None (a value set_learning_phase accepts, or None for unset)",
    ],
    "test_a_phase_given_twice": [
        "E       ValueError: run_in_phases: phases=(1, True): True repeats the phase 1 (train); "
        "give each phase once",
    ],
    "test_no_phase_at_all": [
        "E       ValueError: run_in_phases: phases=(): expected at least one phase (0, 1 or None)",
    ],
    "test_one_phase_is_nothing_to_compare": [
        "E       ValueError: assert_phase_invariant: phases=(1,): expected at least 2 phases to "
        "compare (0, 1 or None)",
    ],
    "test_an_error_raised_in_training_only": [
        "E           ValueError: batch statistics need at least 2 samples",
        "E           run_in_phases: normalise raised this in phase 1 (train) on the reference "
        "backend, after returning in phase 0 (test)",
    ],
    "test_an_error_raised_in_the_second_call_only": [
        "E       StopIteration",
        "E       assert_deterministic_in_inference: next raised this in the second call in "
        "phase 0 (test) on the reference backend, after returning in the first",
    ],
}
"""The ``E`` lines of each test of ``test_helpers_errors.py``, as the page quotes them."""

DIFFERENCES: dict[str, list[str]] = {
    "test_structure_differs": [
        "E       AssertionError: assert_phase_invariant: summary_structure gave different "
        "results in phase 0 (test) and phase 1 (train) on the reference backend",
        "E         at result['weights']: shape (3, 2) (test) vs (2, 3) (train)",
        "E         at result['history']: length 1 (test) vs 2 (train)",
        "E         at result['config']: keys ['seed'] (test) vs ['rate'] (train)",
        "E         at result['state']: NoneType (test) vs tuple (train)",
        "E         at result['ids']: dtype <U1 (test) vs float64 (train)",
        "E         ... and 1 more difference",
    ],
    "test_values_differ": [
        "E       AssertionError: assert_phase_invariant: summary_values gave different results "
        "in phase 0 (test) and phase 1 (train) on the reference backend",
        "E         at result['output']: max abs difference 0.5 at index (0, 0): 1.0 (test) vs "
        f"0.5 (train); 4 of 4 elements differ {TOLERANCE}",
        "E         at result['scale']: 0.0999755859375 (test, float16) vs 0.1 (train, float64), "
        f"abs difference 2.44141e-05 {TOLERANCE}",
        "E         at result['labels']: 1 of 2 elements differ, first at index (1,): "
        "'cow' (test) vs 'dog' (train)",
        "E         at result['mode']: 'test' (test) vs 'train' (train)",
    ],
    "test_dropout_called_with_training_false_ignores_the_phase": [
        "E       AssertionError: assert_phase_dependent: <Dropout name='dropout'> gave the same "
        f"result in phase 0 (test) and phase 1 (train) on the reference backend {TOLERANCE}",
    ],
    "test_the_normaliser_is_deterministic_in_inference": [
        "E       AssertionError: assert_deterministic_in_inference: LeakyNormaliser() gave "
        "different results in two calls in phase 0 (test) on the reference backend",
        "E         at result: max abs difference 1.5 at index (0, 0): 2.0 (first call) vs "
        f"0.5 (second call); 2 of 2 elements differ {TOLERANCE}",
    ],
}
"""The ``E`` lines of each test of ``test_helpers_differences.py``, as the page quotes them."""

HEALTH_CHECK_TEST = """
from hypothesis import given, strategies as st


@given(st.integers())
def test_with_the_fixture(FIXTURE, n):
    pass
"""

EXAMPLES_SHARE_THE_PHASE_TEST = """
import pytest
from hypothesis import given, settings, strategies as st

from pytest_learning_phase import backend as K

seen = []


@pytest.mark.learning_phase(1)
@settings(max_examples=3, database=None)
@given(st.integers())
def test_examples(n):
    seen.append(int(K.learning_phase()))
    K.set_learning_phase(0)


def test_after_the_examples():
    assert seen == [1, 0, 0]
    assert not K.global_learning_phase_is_set()
"""


def passed(item: str) -> str:
    """Return the fnmatch pattern of ``item``'s PASSED line in a ``-v`` run (ids escaped)."""
    return item.replace("[", "[[]") + " PASSED*"


def run_snippet(pytester: pytest.Pytester, source: Path, *args: str) -> pytest.RunResult:
    """Copy the snippet directory ``source`` into pytester's directory; run pytest on it."""
    shutil.copytree(source, pytester.path, dirs_exist_ok=True, ignore=IGNORED)
    return pytester.runpytest_subprocess("-p", "no:randomly", *args)


def page_lines() -> list[str]:
    return PAGE.read_text(encoding="utf-8").splitlines()


# -- Snippets of docs/snippets/helpers ----------------------------------------------


def test_errors_snippet_gives_each_documented_message(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, HELPERS, "test_helpers_errors.py")

    result.assert_outcomes(failed=len(ERRORS))
    assert error_lines_by_test(result) == ERRORS


def test_differences_snippet_gives_each_documented_message(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, HELPERS, "test_helpers_differences.py")

    result.assert_outcomes(failed=len(DIFFERENCES))
    assert error_lines_by_test(result) == DIFFERENCES


@pytest.mark.parametrize(
    "line",
    [line for lines in (*ERRORS.values(), *DIFFERENCES.values()) for line in lines],
)
def test_page_quotes_the_message_verbatim(line: str) -> None:
    assert line in page_lines()


def test_snapshots_snippet_passes(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, HELPERS, "test_helpers_snapshots.py")

    result.assert_outcomes(passed=2)


def test_torch_snippet_passes(pytester: pytest.Pytester) -> None:
    require_installed("torch", TORCH_INSTALL_HINT)  # the snippet imports it in a subprocess

    result = run_snippet(pytester, HELPERS, "-v", "test_helpers_torch.py")

    result.assert_outcomes(passed=3)


# -- Hypothesis (docs/snippets/hypothesis) -----------------------------------------


def test_hypothesis_snippet_passes_with_the_marker_and_with_the_fixture(
    pytester: pytest.Pytester,
) -> None:
    result = run_snippet(pytester, HYPOTHESIS, "-v")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            passed("test_hypothesis.py::test_dropout_keeps_every_value_in_inference"),
            passed("test_hypothesis.py::test_dropout_keeps_the_shape_in_both_phases[test]"),
            passed("test_hypothesis.py::test_dropout_keeps_the_shape_in_both_phases[train]"),
        ],
        consecutive=False,
    )


@pytest.mark.parametrize("fixture", ["learning_phase", "train_phase", "test_phase"])
def test_hypothesis_fails_its_health_check_for_a_phase_fixture_without_the_suppression(
    pytester: pytest.Pytester, fixture: str
) -> None:
    pytester.makepyfile(test_health=HEALTH_CHECK_TEST.replace("FIXTURE", fixture))

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   hypothesis.errors.FailedHealthCheck: 'test_health.py::test_with_the_fixture' "
            f"uses a function-scoped fixture '{fixture}'."
        ]
    )


def test_hypothesis_examples_share_the_phase_the_plugin_set_for_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_examples=EXAMPLES_SHARE_THE_PHASE_TEST)

    result = pytester.runpytest_subprocess("-p", "no:randomly", "-W", "ignore")

    result.assert_outcomes(passed=2)
