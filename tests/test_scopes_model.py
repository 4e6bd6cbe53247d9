"""Generated suites against an executable model of the scope rules (issue 16's proof).

Each example is a whole pytest suite (fixtures of session, module and class
scope, autouse or requested, also through ``request.getfixturevalue`` and by
one another; phases or a held torch model's modes set in setup or teardown;
markers on functions, classes with inheritance, modules and ``pytest.param``),
run through pytester in source order and in pytest-randomly's orders. What
every fixture and test saw is compared with :mod:`tests._scopes_model`.

The budget is bounded (``MAX_EXAMPLES``; derandomized under CI, so CI runs the
same examples every time). ``PYTEST_LP_MODEL_EXAMPLES`` raises it for a search.
"""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests._frameworks import running_in_ci
from tests._scopes_model import (
    Suite,
    TestClass,
    TestFunction,
    TestModule,
    WiderFixture,
    mismatches,
)
from tests._scopes_render import read_events, render
from tests._scopes_strategies import suites

MAX_EXAMPLES = int(os.environ.get("PYTEST_LP_MODEL_EXAMPLES", "12"))
LEAK_WARNING = "pytest_learning_phase.LearningPhaseLeakWarning"

model_settings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=running_in_ci(),
    phases=[Phase.explicit, Phase.generate]
    if os.environ.get("PYTEST_LP_MODEL_NO_SHRINK")
    else tuple(Phase),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one pytester; each example in a fresh directory
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
orders = st.lists(st.integers(1, 10_000), min_size=1, max_size=2, unique=True)
"""pytest-randomly seeds: each suite also runs in source order."""

_examples = itertools.count()


def run_against_model(pytester: pytest.Pytester, suite: Suite, seeds: list[int]) -> list[str]:
    """Run ``suite`` in source order and under each seed; return a report of every disagreement."""
    directory = pytester.mkdir(f"example{next(_examples)}")
    reports = []
    for seed in [None, *seeds]:
        log = directory / f"events-{seed}.jsonl"
        files = render(suite, directory, log)
        order = (
            ["-p", "no:randomly"] if seed is None else ["-p", "randomly", f"--randomly-seed={seed}"]
        )
        arguments = [
            "-W",
            "default",
            "-W",
            f"always::{LEAK_WARNING}",
            "-p",
            "no:cacheprovider",
            f"--learning-phase-backend={suite.backend}",
            "--learning-phase=" + ("unset" if suite.default is None else str(suite.default)),
            *order,
        ]
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(directory)
            patch.setenv("PYTEST_ADDOPTS", "")
            result = pytester.runpytest(*arguments)
        problems = (
            [] if result.ret == 0 else [f"the run failed (exit {result.ret}):\n" + _tail(result)]
        )
        problems += mismatches(suite, read_events(log))
        if problems:
            reports.append(_report(files, arguments, problems))
            break
    return reports


def _tail(result: pytest.RunResult) -> str:
    """The run's errors and failures, without its header and warnings."""
    lines = result.outlines
    starts = [
        index
        for index, line in enumerate(lines)
        if line.startswith("=") and ("ERRORS" in line or "FAILURES" in line)
    ]
    return "\n".join(lines[starts[0] if starts else -25 :][:60])


def _report(files: dict[str, str], arguments: list[str], problems: list[str]) -> str:
    sources = "\n".join(
        f"---- {name}\n{source}" for name, source in files.items() if name != "scopes_recorder.py"
    )
    return (
        "the generated suite:\n"
        + sources
        + "\n---- run: pytest "
        + " ".join(arguments)
        + "\nwhat the rules allow and what was seen:\n  "
        + "\n  ".join(problems)
    )


CLASS_BASELINE_UNDER_A_LATER_MODULE_FIXTURE = Suite(
    "reference",
    modules=(
        TestModule(
            "test_m0",
            fixtures=(WiderFixture("m0_f0", "module", setup=0),),
            classes=(
                TestClass(
                    "Test0",
                    fixtures=(WiderFixture("c00_f0", "class", autouse=True, setup=1),),
                    tests=(
                        TestFunction("test_c00_0"),
                        TestFunction("test_c00_1", requests=("m0_f0",)),
                        TestFunction("test_c00_2"),
                    ),
                ),
            ),
        ),
    ),
)
"""Issue 16, case 1: a class fixture sets 1, a module fixture first requested later sets 0."""

MODULE_BASELINE_UNDER_A_LATER_SESSION_FIXTURE = Suite(
    "reference",
    session_fixtures=(WiderFixture("s_f0", "session", setup=1),),
    modules=(
        TestModule(
            "test_m0",
            fixtures=(WiderFixture("m0_f0", "module", autouse=True, setup=0),),
            tests=(
                TestFunction("test_m0_0"),
                TestFunction("test_m0_1", requests=("s_f0",)),
                TestFunction("test_m0_2"),
            ),
        ),
    ),
)
"""Issue 16, case 1: an old-style session fixture first requested in the middle of a module."""

NESTED_SESSION_FIXTURE = Suite(
    "reference",
    session_fixtures=(
        WiderFixture("s_f0", "session", setup=1),
        WiderFixture("s_f1", "session", dynamic="s_f0"),
    ),
    modules=(
        TestModule(
            "test_m0",
            tests=(
                TestFunction("test_m0_0", marker=0, requests=("s_f1",)),
                TestFunction("test_m0_1", requests=("s_f1",)),
            ),
        ),
    ),
)
"""Issue 16, case 2: ``evaluator`` calls ``getfixturevalue("trained")``; a marked test is first."""

SESSION_MODEL_IN_EVAL_FOR_ONE_MODULE = Suite(
    "torch",
    modules=(
        TestModule(
            "test_m0",
            fixtures=(
                WiderFixture("m0_f0", "module", autouse=True, setup="eval", requests=("model",)),
            ),
            tests=tuple(
                TestFunction(f"test_m0_{index}", requests=("model",)) for index in range(3)
            ),
        ),
        TestModule("test_m1", tests=(TestFunction("test_m1_0", requests=("model",)),)),
    ),
)
"""Issue 16, case 3: a module fixture puts the session's model in eval mode for its module."""

PACKAGE_BASELINE = Suite(
    "reference",
    session_fixtures=(WiderFixture("s_f0", "session", setup=0),),
    package_fixtures=(WiderFixture("p_f0", "package", autouse=True, setup=1),),
    modules=(
        TestModule(
            "test_m0",
            in_package=True,
            fixtures=(WiderFixture("m0_f0", "module", requests=("s_f0",)),),
            tests=(TestFunction("test_m0_0"), TestFunction("test_m0_1", requests=("m0_f0",))),
        ),
        TestModule("test_m1", tests=(TestFunction("test_m1_0", requests=("s_f0",)),)),
    ),
)
"""A package fixture's baseline holds in its package only, over a session fixture set up later."""


def _held_model_flipped_by_a_test(holder: str) -> Suite:
    return Suite(
        "torch",
        holder=holder,
        modules=(
            TestModule(
                "test_m0",
                tests=(
                    TestFunction("test_m0_0", requests=("model",), action="sub_eval"),
                    TestFunction("test_m0_1", requests=("model",)),
                ),
            ),
        ),
    )


NESTED_MODEL_IN_EVAL = Suite(
    "torch",
    session_fixtures=(WiderFixture("s_f0", "session", setup="eval", dynamic="model"),),
    modules=(
        TestModule(
            "test_m0",
            tests=tuple(
                TestFunction(f"test_m0_{index}", requests=("s_f0", "model")) for index in range(2)
            ),
        ),
    ),
)
"""Case 2 on torch: a session fixture gets the model by ``getfixturevalue`` and evaluates it."""

MODULE_FIXTURE_SET_UP_INSIDE_A_CLASS = Suite(
    "torch",
    modules=(
        TestModule(
            "test_m0",
            fixtures=(WiderFixture("m0_f0", "module", requests=("model",)),),
            classes=(
                TestClass(
                    "Test0",
                    fixtures=(
                        WiderFixture(
                            "c00_f0", "class", autouse=True, setup="eval", requests=("model",)
                        ),
                    ),
                    tests=(
                        TestFunction("test_c00_0", requests=("model",)),
                        TestFunction("test_c00_1", requests=("m0_f0",)),
                    ),
                ),
            ),
        ),
    ),
)
"""A module fixture first requested inside a class that evaluated the model: the module's modes."""

LAST_TEST_FLIPS_THE_MODEL = Suite(
    "torch",
    modules=(
        TestModule(
            "test_m0",
            tests=(
                TestFunction("test_m0_0", requests=("model",)),
                TestFunction("test_m0_1", requests=("model",), action="sub_eval"),
            ),
        ),
    ),
)
"""The session's last test changes a held model's mode: warned like any other test."""

HELD_MODELS_FLIPPED_BY_A_TEST = {
    holder: _held_model_flipped_by_a_test(holder) for holder in ("dataclass", "attribute", "deep")
}
"""Issue 16, case 4: a test flips a model the session fixture holds in a dataclass, an
attribute of a plain object, a list four deep (source order: the flipping test is not last)."""

EXPLICIT_EXAMPLES: dict[str, tuple[Suite, list[int]]] = {
    "case 1, class over a later module fixture": (
        CLASS_BASELINE_UNDER_A_LATER_MODULE_FIXTURE,
        [1, 2],
    ),
    "case 1, module over a later session fixture": (
        MODULE_BASELINE_UNDER_A_LATER_SESSION_FIXTURE,
        [1, 3],
    ),
    "case 2, nested session fixture": (NESTED_SESSION_FIXTURE, [5]),
    "a package baseline": (PACKAGE_BASELINE, [1, 2]),
    "case 3, session model in eval for one module": (SESSION_MODEL_IN_EVAL_FOR_ONE_MODULE, [1]),
    "case 2 on torch, nested session fixture": (NESTED_MODEL_IN_EVAL, [1]),
    "a module fixture set up inside a class": (MODULE_FIXTURE_SET_UP_INSIDE_A_CLASS, []),
    "the last test flips a held model": (LAST_TEST_FLIPS_THE_MODEL, []),
    **{
        f"case 4, model held in a {holder}": (suite, [])
        for holder, suite in HELD_MODELS_FLIPPED_BY_A_TEST.items()
    },
}
"""The examples every run tries first, by what they show."""


@model_settings
@example(suite=CLASS_BASELINE_UNDER_A_LATER_MODULE_FIXTURE, seeds=[1, 2])
@example(suite=MODULE_BASELINE_UNDER_A_LATER_SESSION_FIXTURE, seeds=[1, 3])
@example(suite=NESTED_SESSION_FIXTURE, seeds=[5])
@example(suite=PACKAGE_BASELINE, seeds=[1, 2])
@given(suite=suites("reference"), seeds=orders)
def test_generated_suites_on_the_reference_backend_see_what_the_rules_say(
    pytester: pytest.Pytester, suite: Suite, seeds: list[int]
) -> None:
    reports = run_against_model(pytester, suite, seeds)
    assert not reports, reports[0]


@model_settings
@example(suite=SESSION_MODEL_IN_EVAL_FOR_ONE_MODULE, seeds=[1])
@example(suite=NESTED_MODEL_IN_EVAL, seeds=[1])
@example(suite=MODULE_FIXTURE_SET_UP_INSIDE_A_CLASS, seeds=[])
@example(suite=LAST_TEST_FLIPS_THE_MODEL, seeds=[])
@example(suite=HELD_MODELS_FLIPPED_BY_A_TEST["dataclass"], seeds=[])
@example(suite=HELD_MODELS_FLIPPED_BY_A_TEST["attribute"], seeds=[])
@example(suite=HELD_MODELS_FLIPPED_BY_A_TEST["deep"], seeds=[])
@given(suite=suites("torch"), seeds=orders)
def test_generated_suites_on_the_torch_backend_see_what_the_rules_say(
    preloaded_torch: None, pytester: pytest.Pytester, suite: Suite, seeds: list[int]
) -> None:
    reports = run_against_model(pytester, suite, seeds)
    assert not reports, reports[0]
