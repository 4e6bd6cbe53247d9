"""The PyTorch how-to's examples run as the page says (docs/snippets/torch)."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = Path(__file__).resolve().parent.parent / "docs" / "snippets" / "torch"


@pytest.fixture
def torch_snippet(preloaded_torch: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory holding the page's example files."""
    for path in SNIPPET.glob("*.py"):
        pytester.path.joinpath(path.name).write_text(path.read_text(encoding="utf-8"))
    return pytester


def test_torch_examples_run_as_the_page_says(torch_snippet: pytest.Pytester) -> None:
    result = torch_snippet.runpytest_subprocess("--learning-phase-backend=torch", "-v")
    # test_predict.py shows a bug: it fails under PyTorch's default (train) mode.
    result.assert_outcomes(passed=9, failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: torch (--learning-phase-backend; "
            "unset = PyTorch's default, train mode), *",
            "*FAILED test_predict.py::test_predictions_are_deterministic*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_shared_model.py::"
            "test_puts_the_dropout_in_eval_mode_and_forgets_it changed the train/eval mode of "
            "modules held by fixture shared_model (wider than the test; backend torch): "
            "shared_model.1; restored",
        ]
    )


def test_the_audit_finds_both_bug_patterns_of_the_page(torch_snippet: pytest.Pytester) -> None:
    result = torch_snippet.runpytest_subprocess(
        "--learning-phase-backend=torch", "--learning-phase-audit"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    page = (SNIPPET.parent.parent / "howto" / "torch.md").read_text(encoding="utf-8")
    start = page.index("```text\n=====") + len("```text\n")
    section = page[start : page.index("```", start)]
    result.stdout.fnmatch_lines([line.replace("[", "[[]") for line in section.strip().splitlines()])


def test_a_module_fixture_putting_the_session_model_in_eval_is_its_baseline(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    for path in (SNIPPET.parent / "torch_scopes").glob("*.py"):
        pytester.path.joinpath(path.name).write_text(path.read_text(encoding="utf-8"))
    result = pytester.runpytest(
        "--learning-phase-backend=torch",
        "-p",
        "no:randomly",
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
    )
    result.assert_outcomes(passed=3)
