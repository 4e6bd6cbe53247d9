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
