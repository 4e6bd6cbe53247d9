"""The helpers' reference page (docs/reference/helpers.md): its examples run and show what it says.

As in ``test_docs.py``: each test copies a snippet directory into a pytester
directory, runs pytest on it in a subprocess, as a user would, and checks the
report lines the page quotes. Every error message a user can get from the
helpers is quoted on the page, and checked here against a real run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from tests._failures import error_lines_by_test
from tests._frameworks import TF_INSTALL_HINT, TORCH_INSTALL_HINT, require_installed

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = DOCS / "reference" / "helpers.md"
HELPERS = DOCS / "snippets" / "helpers"
HYPOTHESIS = DOCS / "snippets" / "hypothesis"
INFERENCE = DOCS / "snippets" / "inference"
HOWTO = DOCS / "howto" / "inference-state.md"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")

TOLERANCE = "(rtol=1e-07, atol=0)"
ERRORS: dict[str, list[str]] = {
    "test_passing_the_layers_output_instead_of_the_layer": [
        "E       TypeError: assert_phase_invariant: fn=array([[1., 1., 1.], [1., 1., 1.]]): "
        "expected a callable or a torch.nn.Module, e.g. assert_phase_invariant(model, x)",
    ],
    "test_a_tolerance_read_from_a_config_file": [
        "E       TypeError: assert_phase_invariant: rtol='1e-5': "
        "expected a finite real number >= 0",
    ],
    "test_a_negative_tolerance": [
        "E       ValueError: assert_phase_invariant: atol=-1e-06: "
        "expected a finite real number >= 0",
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

HELPER = "assert_no_state_update_in_inference"
REFERENCE_MEAN = (
    "max abs difference 0.065 at index (2,): 0.0 (before) vs 0.065 (after); 3 of 3 elements differ"
)
REFERENCE_VARIANCE = (
    "max abs difference 0.1025 at index (0,): 1.0 (before) vs 1.1025 (after); "
    "3 of 3 elements differ"
)

VALUES: dict[str, list[str]] = {
    "test_a_batch_of_sequences_compares_row_by_row": [
        "E       AssertionError: assert_phase_invariant: batch_of_sequences gave different "
        "results in phase 0 (test) and phase 1 (train) on the reference backend",
        "E         at result[1]: max abs difference 5 at index (1,): 5.0 (test) vs 10.0 (train); "
        f"2 of 2 elements differ {TOLERANCE}",
    ],
    "test_a_generator_has_no_value_to_compare": [
        "E       TypeError: assert_phase_invariant: scores returned a generator at result in "
        "phase 0 (test) on the reference backend, which cannot be compared by value; return a "
        "list (list(...)) or a tuple instead",
    ],
    "test_an_object_whose_equality_raises": [
        "E       TypeError: assert_phase_invariant: predict returned results at "
        "result['prediction'] in phase 0 (test) and phase 1 (train) on the reference backend "
        "that cannot be compared by value: == raised ValueError: the truth value of a "
        "Prediction is ambiguous; return numbers, arrays, tensors, or dicts, lists and tuples "
        "of them instead",
    ],
}
"""The ``E`` lines of each failure of ``test_helpers_values.py``, as the page quotes them."""

TF_VALUES: dict[str, list[str]] = {
    "test_ragged_rows_that_differ": [
        "E       AssertionError: assert_phase_invariant: tokens gave different results in "
        "phase 0 (test) and phase 1 (train) on the tf_keras backend",
        "E         at result[1]: shape (2,) (test) vs (3,) (train)",
    ],
    "test_sparse_values_that_differ": [
        "E       AssertionError: assert_phase_invariant: features gave different results in "
        "phase 0 (test) and phase 1 (train) on the tf_keras backend",
        "E         at result.values: max abs difference 2 at index (1,): 2.0 (test) vs 4.0 "
        f"(train); 1 of 2 elements differ {TOLERANCE}",
    ],
}
"""The ``E`` lines of each failure of ``test_helpers_tf_values.py``."""

TORCH_VALUES: dict[str, list[str]] = {
    "test_a_tensor_on_the_meta_device": [
        "E       TypeError: run_in_phases: test_a_tensor_on_the_meta_device.<locals>.<lambda> "
        "returned a torch tensor on the meta device (it has no values) at result['weight'] in "
        "phase 0 (test) on the torch backend, which cannot be compared by value; return a "
        "tensor with values (on the CPU or a GPU) instead",
    ],
    "test_a_model_on_the_meta_device": [
        f"E       ValueError: {HELPER}: fn=BatchNorm1d(3, eps=1e-05, momentum=0.1, "
        "affine=True, bias=True, track_running_stats=True) holds a torch tensor on the meta "
        "device (it has no values) at running_mean before the call: nothing to compare; give "
        "it values first (model.to_empty(device=...))",
    ],
}
"""The ``E`` lines of each failure of ``test_helpers_torch_values.py``."""

STATE: dict[str, list[str]] = {
    "test_a_training_true_buried_in_a_layer": [
        f"E       AssertionError: {HELPER}: <Encoder name='encoder'> updated non-trainable "
        "state in phase 0 (test) on the reference backend",
        f"E         at encoder_norm/moving_mean: {REFERENCE_MEAN}",
        f"E         at encoder_norm/moving_variance: {REFERENCE_VARIANCE}",
    ],
    "test_a_layer_called_with_the_phase_set_to_1": [
        f"E       AssertionError: {HELPER}: test_a_layer_called_with_the_phase_set_to_1."
        "<locals>.predict updated non-trainable state in phase 0 (test) on the reference backend",
        f"E         at [1].head_norm/moving_mean: {REFERENCE_MEAN}",
        f"E         at [1].head_norm/moving_variance: {REFERENCE_VARIANCE}",
    ],
    "test_a_layer_with_no_state": [
        f"E       ValueError: {HELPER}: fn=<Dropout name='dropout'> has no non-trainable "
        "state (no non-trainable weights): nothing to watch; watch the layer or "
        "model whose statistics inference must not update",
    ],
    "test_a_layer_not_built_yet": [
        f"E       ValueError: {HELPER}: fn=<BatchNormalization name='fresh'> is not built "
        "yet, so it has no weights to watch: build it first (or call it once)",
    ],
    "test_a_function_and_no_state_argument": [
        f"E       TypeError: {HELPER}: fn=tanh is not a layer or module, so state= must say "
        "what to watch: the layer, model or torch module, or a list of them",
    ],
    "test_state_that_is_not_a_layer": [
        f"E       TypeError: {HELPER}: state=array([[ 0.,  1.,  2.], [ 3.,  4.,  5.], "
        "[ 6.,  7.,  8.],...: expected a layer, a model, a torch.nn.Module or a list of them",
    ],
}
"""The ``E`` lines of each failure of ``test_helpers_state.py``, as the page quotes them."""

INFERENCE_TORCH: dict[str, list[str]] = {
    "test_a_model_that_trains_itself_in_forward": [
        f"E       AssertionError: {HELPER}: SelfTraining(...) updated non-trainable state in "
        "phase 0 (test) on the torch backend",
        "E         at features.0.running_mean: max abs difference 0.65 at index (2,): 0.0 "
        "(before) vs 0.65000004 (after); 3 of 3 elements differ",
        "E         at features.0.running_var: max abs difference 1.4 at index (0,): 1.0 "
        "(before) vs 2.4 (after); 3 of 3 elements differ",
        "E         at features.0.num_batches_tracked: 0 (before) vs 1 (after), abs difference 1",
    ],
}
"""The ``E`` lines of the failure of ``docs/snippets/inference/test_inference_torch.py``."""

INFERENCE_KERAS: dict[str, list[str]] = {
    "test_a_block_with_training_true_hard_coded": [
        f"E       AssertionError: {HELPER}: <Sequential name='buggy'> updated non-trainable "
        "state in phase 0 (test) on the tf_keras backend",
        "E         at residual/norm/moving_mean:0: max abs difference 0.06435 at index (2,): "
        "0.065 (before) vs 0.12935 (after); 3 of 3 elements differ",
        "E         at residual/norm/moving_variance:0: max abs difference 0.101475 at index "
        "(0,): 1.1025 (before) vs 1.203975 (after); 3 of 3 elements differ",
    ],
}
"""The ``E`` lines of the failure of ``docs/snippets/inference/test_inference_keras.py``."""

REFERENCE_PAGE_MESSAGES = [
    *ERRORS.values(),
    *DIFFERENCES.values(),
    *VALUES.values(),
    *TF_VALUES.values(),
    *TORCH_VALUES.values(),
    *STATE.values(),
]
HOWTO_MESSAGES = [*INFERENCE_TORCH.values(), *INFERENCE_KERAS.values()]

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


class SnippetRun(NamedTuple):
    """A snippet run as a user runs it, and what its report must say."""

    directory: Path
    file: str
    framework: str | None
    """The framework it imports, which ``auto`` drives (None: the reference backend)."""
    passed: int
    failures: dict[str, list[str]]


INSTALL_HINTS = {"tf_keras": TF_INSTALL_HINT, "torch": TORCH_INSTALL_HINT}
SNIPPET_RUNS = [
    SnippetRun(HELPERS, "test_helpers_values.py", None, 1, VALUES),
    SnippetRun(HELPERS, "test_helpers_tf_values.py", "tf_keras", 1, TF_VALUES),
    SnippetRun(HELPERS, "test_helpers_torch_values.py", "torch", 0, TORCH_VALUES),
    SnippetRun(HELPERS, "test_helpers_state.py", None, 1, STATE),
    SnippetRun(INFERENCE, "test_inference_torch.py", "torch", 2, INFERENCE_TORCH),
    SnippetRun(INFERENCE, "test_inference_keras.py", "tf_keras", 2, INFERENCE_KERAS),
]


@pytest.mark.parametrize("run", SNIPPET_RUNS, ids=[run.file for run in SNIPPET_RUNS])
def test_snippet_gives_each_documented_message(pytester: pytest.Pytester, run: SnippetRun) -> None:
    if run.framework is not None:  # the snippet imports it in a subprocess; auto drives it
        require_installed(run.framework, INSTALL_HINTS[run.framework])

    result = run_snippet(pytester, run.directory, run.file)

    result.assert_outcomes(passed=run.passed, failed=len(run.failures))
    assert error_lines_by_test(result) == run.failures


@pytest.mark.parametrize("line", [line for lines in REFERENCE_PAGE_MESSAGES for line in lines])
def test_page_quotes_the_message_verbatim(line: str) -> None:
    assert line in page_lines()


# -- The how-to page on inference and state (docs/howto/inference-state.md) ----------


@pytest.mark.parametrize("line", [line for lines in HOWTO_MESSAGES for line in lines])
def test_howto_page_quotes_the_message_verbatim(line: str) -> None:
    assert line in HOWTO.read_text(encoding="utf-8").splitlines()


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
