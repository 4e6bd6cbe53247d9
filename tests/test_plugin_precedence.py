"""Precedence: a test function's own fixture or parameter beats its class's and module's marker.

docs/howto/scopes.md: ``pytest.param`` marker > function marker, fixture or
parameter > class marker > module marker. Two sources at the function's own
level that disagree stay an error naming the test and both.
"""

from __future__ import annotations

from tests._suite import Suite


def test_phase_fixtures_beat_the_module_marker(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        pytestmark = pytest.mark.learning_phase(0)

        def test_train(train_phase):
            assert phase() == 1

        def test_agrees(test_phase):
            assert phase() == 0

        def test_module_marker():
            assert phase() == 0

        class TestInAClass:
            def test_train(self, train_phase):
                assert phase() == 1
        """
    )
    suite.run().assert_outcomes(passed=4)


def test_phase_fixtures_beat_the_class_marker(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def trained(train_phase):
            return "trained"

        @pytest.mark.learning_phase(None)
        class TestUnset:
            def test_train(self, train_phase):
                assert phase() == 1

            def test_through_a_fixture(self, trained):
                assert phase() == 1

            def test_class_marker(self):
                assert phase() is None

        @pytest.mark.learning_phase(1)
        class TestTrain:
            def test_test(self, test_phase):
                assert phase() == 0
        """
    )
    suite.run().assert_outcomes(passed=4)


def test_learning_phase_parameter_beats_class_and_module_markers(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        pytestmark = pytest.mark.learning_phase(0)

        @pytest.mark.parametrize("learning_phase", [1, None])
        def test_direct(learning_phase):
            assert phase() == learning_phase

        @pytest.mark.learning_phase(0)
        class TestMarked:
            @pytest.mark.parametrize("learning_phase", [1, None], indirect=True)
            def test_indirect(self, learning_phase):
                assert phase() == learning_phase

            @pytest.mark.parametrize("learning_phase", [1])
            def test_direct(self, learning_phase):
                assert phase() == 1
        """
    )
    suite.run().assert_outcomes(passed=5)


def test_function_level_sources_that_disagree_stay_an_error(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        pytestmark = pytest.mark.learning_phase(1)

        @pytest.mark.learning_phase(0)
        def test_marker_and_fixture(train_phase):
            pass

        @pytest.mark.learning_phase(1)
        @pytest.mark.parametrize("learning_phase", [0])
        def test_marker_and_parameter(learning_phase):
            pass

        def test_both_fixtures(train_phase, test_phase):
            pass

        @pytest.mark.learning_phase(0)
        class TestMarked:
            @pytest.mark.parametrize("learning_phase", [0], indirect=True)
            def test_parameter_and_fixture(self, learning_phase, train_phase):
                pass
        """
    )
    result = suite.run("-p", "no:randomly")
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_marker_and_fixture: @pytest.mark.learning_phase(0) on the "
            "test function asks for phase 0 (test) but fixture train_phase asks for 1 (train); "
            "keep one of them",
            "In test_suite.py::test_marker_and_parameter[[]0[]]: @pytest.mark.learning_phase(1) "
            "on the test function asks for phase 1 (train) but parameter learning_phase=0 asks "
            "for 0 (test); keep one of them",
            "In test_suite.py::test_both_fixtures: fixture train_phase asks for phase 1 (train) "
            "but fixture test_phase asks for 0 (test); keep one of them",
            "In test_suite.py::TestMarked::test_parameter_and_fixture[[]0[]]: parameter "
            "learning_phase=0 asks for phase 0 (test) but fixture train_phase asks for 1 "
            "(train); keep one of them",
        ]
    )


def test_a_marker_that_parametrized_the_item_must_agree_with_the_fixture(suite: Suite) -> None:
    """Its item's id names the phase: ``[test]`` never runs in training."""
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0, 1)
        class TestBoth:
            def test_train(self, train_phase):
                assert phase() == 1
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::TestBoth::test_train[[]test[]]: @pytest.mark.learning_phase(0, 1) "
            "on class TestBoth, item [[]test[]] asks for phase 0 (test) but fixture train_phase "
            "asks for 1 (train); keep one of them",
        ]
    )


def test_a_pytest_param_marker_beats_the_function_marker_and_must_agree_with_fixtures(
    suite: Suite,
) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(1)
        @pytest.mark.parametrize("x", [pytest.param(0, marks=pytest.mark.learning_phase(0))])
        def test_param_marker(x):
            assert phase() == 0

        @pytest.mark.parametrize("x", [pytest.param(0, marks=pytest.mark.learning_phase(0))])
        def test_param_marker_and_fixture(x, train_phase):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_param_marker_and_fixture[[]0[]]: "
            "@pytest.mark.learning_phase(0) on pytest.param asks for phase 0 (test) but fixture "
            "train_phase asks for 1 (train); keep one of them",
        ]
    )
