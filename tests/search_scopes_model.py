"""How many generated suites the model test needs to find each of issue 16's cases 1-3.

Not part of the suite (the file name does not match ``test_*.py``); run it by name:

    pytest tests/search_scopes_model.py -p no:randomly -s

Each case has a narrowed strategy (shapes that cannot show the other known
bugs) and a symptom; for each hypothesis seed the search counts the examples
generated until one run shows the symptom, and prints the counts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from tests._scopes_model import Suite
from tests._scopes_strategies import Shapes, suites
from tests.test_scopes_model import EXPLICIT_EXAMPLES, orders, run_against_model

SEEDS = range(int(os.environ.get("PYTEST_LP_SEARCH_SEEDS", "5")))
LIMIT = int(os.environ.get("PYTEST_LP_SEARCH_LIMIT", "300"))
search_settings = settings(
    max_examples=LIMIT,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
"""Generation only (a search counts examples; it does not shrink them)."""

BASELINES_ONLY = Shapes(
    packages=False,
    dynamic=False,
    inheritance=False,
    clears=False,
    function_fixture=False,
    params=False,
    markers=False,
)
"""Case 1: wider fixtures that set the phase, no marker, no clear, no getfixturevalue."""
NESTED = Shapes(
    inheritance=False, clears=False, function_fixture=False, params=False, packages=False
)
"""Case 2: as case 1, with markers and ``request.getfixturevalue`` between wider fixtures."""
TORCH = Shapes(inheritance=False, params=False, holders=("value",), packages=False)
"""Case 3: the torch suites, the model held as the fixture's value (case 4 is the others)."""


class Found(Exception):
    """The symptom showed up."""


CASES: dict[str, tuple[str, Shapes, Callable[[str], bool]]] = {
    "case 1 (closest scope wins)": (
        "reference",
        BASELINES_ONLY,
        lambda report: "not the one set up last) phase" in report,
    ),
    "case 2 (nested wider fixture)": (
        "reference",
        NESTED,
        lambda report: "which set it up, phase" in report,
    ),
    "case 3 (torch: wider fixture's model change)": (
        "torch",
        TORCH,
        lambda report: (
            "expected 'none', saw 'warned'" in report
            or re.search(r"^  test \S+ model flags", report, re.MULTILINE) is not None
        ),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_examples_to_find(preloaded_torch: None, pytester: pytest.Pytester, case: str) -> None:
    backend, shapes, symptom = CASES[case]
    counts: list[int | None] = []
    for hypothesis_seed in SEEDS:
        generated = 0
        found_at: int | None = None

        @seed(hypothesis_seed)
        @search_settings
        @given(suite=suites(backend, shapes), seeds=orders)
        def search(suite: Suite, seeds: list[int]) -> None:
            nonlocal generated, found_at
            generated += 1
            reports = run_against_model(pytester, suite, seeds)
            if reports and symptom(reports[0]):
                found_at = found_at or generated
                raise Found(reports[0])

        try:
            search()
        except Found as found:
            counts.append(found_at)
            if hypothesis_seed == SEEDS[0]:
                print(f"\n{case}: first example found with seed 0:\n{found}")
        else:
            counts.append(None)
    print(f"\n{case}: examples until found, per seed {list(SEEDS)}: {counts}")


SURVEY_SHAPES = Shapes(dynamic=os.environ.get("PYTEST_LP_SEARCH_DYNAMIC", "1") == "1")
"""The survey's shapes; ``PYTEST_LP_SEARCH_DYNAMIC=0`` leaves out ``request.getfixturevalue``."""


def _kind(problem: str) -> str:
    """A mismatch without its names and values: what kind of observation disagreed."""
    first = problem.splitlines()[0]
    first = re.sub(r"test_\w+\.py(::\w+)*(\[\w+\])?", "<node>", first)
    first = re.sub(r"\b[smc]\d*_f\d\b|\bmodel\b(?= \()", "<fixture>", first)
    return re.sub(r"expected .*", "expected ...", first)


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_survey(preloaded_torch: None, pytester: pytest.Pytester, backend: str) -> None:
    """Run many generated suites; print each kind of mismatch once, with its smallest suite."""
    kinds: dict[str, tuple[int, str]] = {}
    generated = 0

    @seed(int(os.environ.get("PYTEST_LP_SEARCH_SEED", "0")))
    @search_settings
    @given(suite=suites(backend, SURVEY_SHAPES), seeds=orders)
    def survey(suite: Suite, seeds: list[int]) -> None:
        nonlocal generated
        generated += 1
        for report in run_against_model(pytester, suite, seeds):
            problems = report.split("what the rules allow and what was seen:\n")[1]
            for problem in problems.split("\n  "):
                kind = _kind(problem.strip())
                if kind not in kinds or len(report) < len(kinds[kind][1]):
                    kinds[kind] = (kinds.get(kind, (0, ""))[0] + 1, report)
                else:
                    kinds[kind] = (kinds[kind][0] + 1, kinds[kind][1])

    survey()
    print(f"\n{backend}: {generated} suites, {len(kinds)} kinds of mismatch")
    for kind, (count, report) in sorted(kinds.items()):
        print(f"\n##### {count}x {kind}\n{report}")


@pytest.mark.parametrize("name", EXPLICIT_EXAMPLES)
def test_explicit_example(preloaded_torch: None, pytester: pytest.Pytester, name: str) -> None:
    """One explicit example alone (for mutation checks: which of them catch a mutation)."""
    suite, seeds = EXPLICIT_EXAMPLES[name]
    reports = run_against_model(pytester, suite, seeds)
    assert not reports, reports[0]
