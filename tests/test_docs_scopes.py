"""The scopes how-to's example runs as the page says, in any order."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = Path(__file__).resolve().parent.parent / "docs" / "snippets" / "scopes"


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_scopes_snippet_passes_in_any_order(pytester: pytest.Pytester, order: str) -> None:
    for path in SNIPPET.glob("*.py"):
        pytester.path.joinpath(path.name).write_text(path.read_text(encoding="utf-8"))
    if order == "reversed":
        pytester.makeconftest(
            SNIPPET.joinpath("conftest.py").read_text(encoding="utf-8")
            + "\n\ndef pytest_collection_modifyitems(items):\n    items.reverse()\n"
        )
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-W", "error::pytest_learning_phase.LearningPhaseLeakWarning"
    )
    result.assert_outcomes(passed=3)


RANKS = SNIPPET.parent / "scope_ranks"


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_the_class_and_module_example_passes_in_both_orders(
    pytester: pytest.Pytester, order: str
) -> None:
    for path in RANKS.glob("*.py"):
        pytester.path.joinpath(path.name).write_text(path.read_text(encoding="utf-8"))
    if order == "reversed":
        pytester.makeconftest("def pytest_collection_modifyitems(items):\n    items.reverse()\n")
    errors = ["-W", "error::pytest_learning_phase.LearningPhaseLeakWarning"]
    if hasattr(pytest, "PytestRemovedIn10Warning"):  # pytest 9: no deprecated fixture either
        errors += ["-W", "error::pytest.PytestRemovedIn10Warning"]
    result = pytester.runpytest("-p", "no:randomly", *errors, "-v")
    result.assert_outcomes(passed=3)
    first = "test_outside_the_class" if order == "reversed" else "test_starts_in_the_train_phase"
    result.stdout.fnmatch_lines([f"*{first} PASSED*"])
