"""Fixtures wider than one test: their scope's phase, the baselines they set, their teardown."""

from __future__ import annotations

import pytest

from tests._suite import Suite


def test_a_session_fixture_that_sets_the_phase_makes_it_the_baseline_for_every_test(
    suite: Suite,
) -> None:
    suite.record_between_tests()
    suite.pytester.makeconftest(
        suite.pytester.path.joinpath("conftest.py").read_text(encoding="utf-8")
        + """
import warnings
import pytest
from lp_backend import K

@pytest.fixture(scope="session", autouse=True)
def train_everything():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)
"""
    )
    suite.write(
        """
        import pytest
        from lp_backend import phase

        def test_first():
            assert phase() == 1

        def test_second():
            assert phase() == 1

        @pytest.mark.learning_phase(0)
        def test_marked_wins():
            assert phase() == 0

        def test_after_the_marked_one():
            assert phase() == 1
        """
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=4)
    between = suite.between_tests()
    assert between == {
        "test_first": 1,
        "test_second": 1,
        "test_marked_wins": 1,
        "test_after_the_marked_one": None,  # the session fixture was torn down
    }


MODULE_FIXTURE = """
import pytest
from lp_backend import phase

built_in = []

@pytest.fixture(scope="module")
def model():
    built_in.append(phase())
    yield
    built_in.append(phase())
"""


@pytest.mark.parametrize("first_marker", [0, 1])
def test_a_module_fixture_is_built_in_its_scope_phase_whoever_requests_it_first(
    suite: Suite, first_marker: int
) -> None:
    second_marker = 1 - first_marker
    suite.write(
        MODULE_FIXTURE
        + f"""
@pytest.mark.learning_phase({first_marker})
def test_first(model):
    assert phase() == {first_marker}

@pytest.mark.learning_phase({second_marker})
def test_second(model):
    assert phase() == {second_marker}

def test_built_unset():
    assert built_in == [None]
"""
    )
    suite.run().assert_outcomes(passed=3)


def test_a_module_fixture_follows_the_module_marker(suite: Suite) -> None:
    suite.write(
        MODULE_FIXTURE.replace(
            "import pytest\n", "import pytest\npytestmark = [pytest.mark.learning_phase(0)]\n"
        )
        + """
@pytest.mark.learning_phase(1)
def test_train(model):
    assert phase() == 1

def test_built_in_the_module_phase():
    assert built_in == [0]
"""
    )
    suite.run().assert_outcomes(passed=2)


def test_a_class_fixture_follows_the_class_marker(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        built_in = []

        @pytest.mark.learning_phase(1)
        class TestTrained:
            @pytest.fixture(scope="class")
            def model(self):
                built_in.append(phase())

            @pytest.mark.learning_phase(0)
            def test_in_inference(self, model):
                assert phase() == 0

        def test_built_in_the_class_phase():
            assert built_in == [1]
        """
    )
    suite.run().assert_outcomes(passed=2)


def test_a_module_fixture_teardown_that_clears_the_session_is_not_blamed_on_a_test(
    suite: Suite,
) -> None:
    suite.record_between_tests()
    suite.write(
        """
        import pytest
        from lp_backend import K, phase

        @pytest.fixture(scope="module")
        def keras_session():
            yield
            K.clear_session()

        @pytest.mark.learning_phase(1)
        def test_first(keras_session):
            assert phase() == 1

        @pytest.mark.learning_phase(1)
        def test_last(keras_session):
            assert phase() == 1
        """
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=2)
    assert suite.between_tests() == {"test_first": None, "test_last": None}


def test_a_module_fixture_that_sets_the_phase_is_the_baseline_of_its_module_only(
    suite: Suite,
) -> None:
    suite.record_between_tests()
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K, phase

        @pytest.fixture(scope="module", autouse=True)
        def inference_module():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(0)
            yield
            assert phase() == 0  # torn down in the phase it set

        def test_in_the_module():
            assert phase() == 0
        """,
        name="test_a",
    )
    suite.write(
        """
        from lp_backend import phase

        def test_in_another_module():
            assert phase() is None
        """,
        name="test_b",
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=2)
    assert suite.between_tests() == {"test_in_the_module": None, "test_in_another_module": None}


def test_a_wider_fixture_that_fails_to_set_up_leaves_no_baseline(suite: Suite) -> None:
    suite.record_between_tests()
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K, phase

        @pytest.fixture(scope="module")
        def broken():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(1)
            raise RuntimeError("no model")

        def test_needs_it(broken):
            pass

        def test_after():
            assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=1, errors=1)
    assert suite.between_tests() == {"test_needs_it": None, "test_after": None}


def test_the_default_phase_applies_to_a_session_fixture(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        built_in = []

        @pytest.fixture(scope="session")
        def model():
            built_in.append(phase())

        @pytest.mark.learning_phase(0)
        def test_first(model):
            assert built_in == [1]
        """
    )
    suite.run("--learning-phase=1").assert_outcomes(passed=1)


def test_failure_section_gives_the_phase_the_test_was_called_in_and_what_it_asked(
    suite: Suite,
) -> None:
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K

        @pytest.fixture
        def training():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with K.learning_phase_scope(1):
                    yield

        @pytest.mark.learning_phase(0)
        def test_fails(training):
            assert False
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 1 (train), set by its fixtures; it asked for phase 0 (test) from "
            f"@pytest.mark.learning_phase(0) on the test function (backend {suite.backend})",
        ]
    )


def test_failure_of_a_test_that_never_touched_the_phase_has_no_section(suite: Suite) -> None:
    suite.write(
        """
        def test_fails():
            assert False
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*learning phase*")


TRAINED_MODULE = """
import warnings
import pytest
from lp_backend import K

@pytest.fixture(scope="module", autouse=True)
def trained():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)
"""
"""A module whose autouse module fixture sets phase 1: the baseline of its tests."""


def test_failure_section_names_the_wider_fixture_whose_phase_the_test_ran_in(
    suite: Suite,
) -> None:
    suite.write(TRAINED_MODULE + "\ndef test_fails():\n    assert False\n")
    result = suite.run()
    result.stdout.fnmatch_lines(
        [f"ran under phase 1 (train) from module fixture trained (backend {suite.backend})"]
    )


def test_the_learning_phase_fixture_gives_the_baseline_a_wider_fixture_set(
    suite: Suite,
) -> None:
    suite.write(
        TRAINED_MODULE + "\ndef test_value(learning_phase):\n    assert learning_phase == 1\n"
    )
    suite.run().assert_outcomes(passed=1)


# -- The closest scope's baseline wins, whatever order fixtures were set up in. ------------

CLASS_AND_MODULE_FIXTURES = """
import warnings
import pytest
from lp_backend import K, phase

def set_phase(value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(value)

@pytest.fixture(scope="module")
def inference_module():
    set_phase(0)

class TestTrained:
    @pytest.fixture(scope="class", autouse=True)
    def trained_class(self):
        set_phase(1)

    def test_first(self{first_arguments}):
        assert phase() == 1

    def test_second(self{second_arguments}):
        assert phase() == 1

def test_after_the_class(inference_module):
    assert phase() == 0
"""


@pytest.mark.parametrize("requested_by", ["first", "second"])
def test_a_class_baseline_wins_over_a_module_baseline_set_up_after_it(
    suite: Suite, requested_by: str
) -> None:
    suite.record_between_tests()
    suite.write(
        CLASS_AND_MODULE_FIXTURES.format(
            first_arguments=", inference_module" if requested_by == "first" else "",
            second_arguments=", inference_module" if requested_by == "second" else "",
        )
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=3)
    assert suite.between_tests() == {
        "test_first": 1,
        "test_second": 0,  # the class is torn down: the module's baseline
        "test_after_the_class": None,
    }


def test_a_session_baseline_set_up_mid_module_does_not_replace_the_module_baseline(
    suite: Suite,
) -> None:
    suite.record_between_tests()
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K, phase

        def set_phase(value):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(value)

        @pytest.fixture(scope="session")
        def trained_model():
            set_phase(1)  # the old style: a trained model for the whole session

        @pytest.fixture(scope="module", autouse=True)
        def inference_module():
            set_phase(0)

        def test_before():
            assert phase() == 0

        def test_requests_the_session_fixture(trained_model):
            assert phase() == 0

        def test_after():
            assert phase() == 0
        """,
        name="test_a",
    )
    suite.write(
        """
        from lp_backend import phase

        def test_in_the_next_module():
            assert phase() == 1
        """,
        name="test_b",
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=4)
    assert suite.between_tests() == {
        "test_before": 0,
        "test_requests_the_session_fixture": 0,
        "test_after": 1,  # the module's fixture is torn down: the session's baseline
        "test_in_the_next_module": None,
    }


@pytest.mark.parametrize("first_marked", [True, False], ids=["marked-first", "unmarked-first"])
def test_a_wider_fixture_set_up_inside_another_leaves_its_baseline_to_the_outer_one(
    suite: Suite, first_marked: bool
) -> None:
    marker = "@pytest.mark.learning_phase(0)\n" if first_marked else ""
    suite.write(
        f"""
import warnings
import pytest
from lp_backend import K, phase

seen = []

@pytest.fixture(scope="session")
def trained():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)

@pytest.fixture(scope="session")
def evaluator(request):
    request.getfixturevalue("trained")
    seen.append((phase(), K.global_learning_phase_is_set()))

{marker}def test_first(evaluator):
    pass

def test_evaluator_saw_the_inner_baseline():
    assert seen == [(1, True)]
"""
    )
    suite.run().assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("inner_scope", "outer_scope", "in_class"),
    [("session", "session", False), ("module", "class", True)],
)
def test_the_first_test_to_request_a_fixture_that_pulls_in_a_baseline_runs_in_it(
    suite: Suite, inner_scope: str, outer_scope: str, in_class: bool
) -> None:
    # The inner fixture's phase is its scope's baseline as soon as its setup
    # ends, also when request.getfixturevalue pulled it in inside another wider
    # fixture's setup: the test that triggered both runs in it, as do later ones.
    holder, indent, arg = ("class TestA:\n", "    ", "self, ") if in_class else ("", "", "")
    suite.write(
        f"""
import warnings
import pytest
from lp_backend import K, phase

@pytest.fixture(scope="{inner_scope}")
def trained():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)

@pytest.fixture(scope="{outer_scope}")
def evaluator(request):
    request.getfixturevalue("trained")
    return phase()

{holder}{indent}def test_first({arg}evaluator):
{indent}    assert (evaluator, phase()) == (1, 1)

{indent}def test_second({arg}evaluator):
{indent}    assert (evaluator, phase()) == (1, 1)
"""
    )
    suite.run().assert_outcomes(passed=2)


# -- A fixture that only clears the phase asks for nothing. --------------------------------

CLEARING_FUNCTION_FIXTURE = """
import pytest
from lp_backend import K, phase

@pytest.fixture(autouse=True)
def fresh_session():
    K.clear_session()  # the usual Keras conftest
    yield
"""


def test_a_function_fixture_that_clears_the_session_does_not_cancel_a_marker(
    suite: Suite,
) -> None:
    suite.write(
        CLEARING_FUNCTION_FIXTURE
        + """
@pytest.mark.learning_phase(1)
def test_marked():
    assert phase() == 1

def test_unmarked():
    assert phase() is None
"""
    )
    suite.run().assert_outcomes(passed=2)


@pytest.mark.parametrize("scope", ["module", "session"])
@pytest.mark.parametrize("where", ["option", "ini"])
def test_a_wider_fixture_that_clears_the_session_keeps_the_default_phase(
    suite: Suite, scope: str, where: str
) -> None:
    suite.write(
        f"""
import pytest
from lp_backend import K, phase

@pytest.fixture(scope="{scope}", autouse=True)
def fresh_session():
    K.clear_session()

def test_unmarked():
    assert phase() == 1

def test_fails():
    assert False
"""
    )
    if where == "ini":
        suite.pytester.makeini("[pytest]\nlearning_phase = 1\n")
        result = suite.run()
    else:
        result = suite.run("--learning-phase=1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*- learning phase -*", "ran under phase 1 (train) from *"])


# -- Teardown paths. -----------------------------------------------------------------------


def test_the_section_of_a_teardown_error_gives_the_phase_when_the_teardown_failed(
    suite: Suite,
) -> None:
    suite.write(
        """
        import pytest

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown")

        @pytest.mark.learning_phase(1)
        def test_marked(broken_teardown):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 1 (train) from @pytest.mark.learning_phase(1) on the test function "
            f"(backend {suite.backend})",
        ]
    )
    result.stdout.no_fnmatch_line("*when it failed*")


@pytest.mark.parametrize("then", ["raise RuntimeError('teardown')", "pytest.skip('teardown')"])
def test_a_teardown_that_leaks_and_then_raises_or_skips_gets_the_leak_warning(
    suite: Suite, then: str
) -> None:
    suite.record_between_tests()
    suite.write(
        f"""
import warnings
import pytest
from lp_backend import K

@pytest.fixture
def leaky_teardown():
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)
    {then}

def test_leaks(leaky_teardown):
    pass
"""
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_leaks changed the learning phase "
            f"of backend {suite.backend}: it ran under phase unset and left phase 1 (train); "
            "restored phase unset"
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) == 1  # a skip does not hide the leak made an error
    assert "skipped" not in outcomes
    assert suite.between_tests() == {"test_leaks": None}


def test_a_wider_fixture_that_fails_to_set_up_gives_the_test_its_phase_back(
    suite: Suite,
) -> None:
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K

        @pytest.fixture(scope="module")
        def broken():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(0)
            raise RuntimeError("no model")

        @pytest.mark.learning_phase(1)
        def test_needs_it(broken):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 1 (train) from @pytest.mark.learning_phase(1) on the test function "
            f"(backend {suite.backend})",
        ]
    )
    result.stdout.no_fnmatch_line("*when it failed*")


def test_wider_fixtures_are_torn_down_in_their_own_scope_phase(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        torn_down_in = []

        @pytest.fixture(scope="module")
        def model():
            yield
            torn_down_in.append(phase())

        @pytest.mark.learning_phase(1)
        def test_last(model):
            pass
        """,
        name="test_a",
    )
    suite.write(
        """
        from test_a import torn_down_in

        def test_torn_down_unset():
            assert torn_down_in == [None]
        """,
        name="test_b",
    )
    suite.run("test_a.py", "test_b.py").assert_outcomes(passed=2)
