"""The fixtures ``learning_phase``, ``train_phase``, ``test_phase`` and source conflicts."""

from __future__ import annotations

import pytest

from tests._suite import Suite


def test_learning_phase_fixture_is_none_for_an_unmarked_test(suite: Suite) -> None:
    suite.write(
        """
        from lp_backend import phase

        def test_unmarked(learning_phase):
            assert learning_phase is None and phase() is None
        """
    )
    suite.run().assert_outcomes(passed=1)


@pytest.mark.parametrize(("marker_argument", "expected"), [("True", 1), ("0.0", 0), ("None", None)])
def test_learning_phase_fixture_gives_the_normalised_phase(
    suite: Suite, marker_argument: str, expected: int | None
) -> None:
    suite.write(
        f"""
        import pytest

        @pytest.mark.learning_phase({marker_argument})
        def test_marked(learning_phase):
            assert learning_phase == {expected!r} and type(learning_phase) is type({expected!r})
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_indirect_parametrization_sets_the_phase_per_item(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.parametrize("learning_phase", [0, 1, None], indirect=True)
        def test_each(learning_phase):
            assert phase() == learning_phase
        """
    )
    suite.run().assert_outcomes(passed=3)


@pytest.mark.parametrize(("fixture", "expected"), [("train_phase", 1), ("test_phase", 0)])
def test_phase_fixture_sets_the_phase_and_gives_it(
    suite: Suite, fixture: str, expected: int
) -> None:
    suite.write(
        f"""
        from lp_backend import phase

        def test_requests({fixture}):
            assert {fixture} == {expected} and phase() == {expected}
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_phase_fixture_requested_through_another_fixture_sets_the_phase(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def model_in_training(train_phase):
            return phase()

        def test_uses_model(model_in_training):
            assert model_in_training == 1 and phase() == 1
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_agreeing_marker_and_fixture_are_fine(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(1)
        def test_agree(train_phase):
            assert phase() == 1
        """
    )
    suite.run().assert_outcomes(passed=1)


CONFLICTS = [
    (
        """
        import pytest

        @pytest.mark.learning_phase(0)
        def test_conflict(train_phase):
            pass
        """,
        "In test_suite.py::test_conflict: @pytest.mark.learning_phase(0) on the test function "
        "asks for phase 0 (test) but fixture train_phase asks for 1 (train); keep one of them",
    ),
    (
        """
        def test_conflict(train_phase, test_phase):
            pass
        """,
        "In test_suite.py::test_conflict: fixture train_phase asks for phase 1 (train) but "
        "fixture test_phase asks for 0 (test); keep one of them",
    ),
    (
        """
        import pytest

        @pytest.mark.learning_phase(1)
        @pytest.mark.parametrize("learning_phase", [0], indirect=True)
        def test_conflict(learning_phase):
            pass
        """,
        "In test_suite.py::test_conflict[[]0[]]: @pytest.mark.learning_phase(1) on the test "
        "function asks for phase 1 (train) but parameter learning_phase=0 asks for 0 (test); "
        "keep one of them",
    ),
    (
        """
        import pytest

        @pytest.mark.parametrize("learning_phase", [None], indirect=True)
        def test_conflict(learning_phase, test_phase):
            pass
        """,
        "In test_suite.py::test_conflict[[]None[]]: parameter learning_phase=None asks for phase "
        "unset but fixture test_phase asks for 0 (test); keep one of them",
    ),
]


@pytest.mark.parametrize(("source", "message"), CONFLICTS)
def test_two_disagreeing_sources_are_an_error_naming_test_and_both(
    suite: Suite, source: str, message: str
) -> None:
    suite.write(source)
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_multi_value_marker_and_fixture_disagree_only_on_some_items(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(0, 1)
        def test_each(train_phase):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_each[[]test[]]: @pytest.mark.learning_phase(0, 1) on the test "
            "function, item [[]test[]] asks for phase 0 (test) but fixture train_phase asks for 1 "
            "(train); keep one of them"
        ]
    )


def test_bad_indirect_parameter_is_an_error_naming_it(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.parametrize("learning_phase", [2], indirect=True)
        def test_bad(learning_phase):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_bad[[]2[]]: parameter learning_phase=2: expected 0, 1 or None "
            "(a value set_learning_phase accepts, or None for unset)"
        ]
    )


def test_phase_fixture_requested_dynamically_is_an_error_not_a_wrong_phase(suite: Suite) -> None:
    suite.write(
        """
        def test_late(request):
            request.getfixturevalue("train_phase")
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_late: fixture train_phase was requested with "
            "request.getfixturevalue(), after the phase (unset) was set; request it as an "
            "argument, or use @pytest.mark.learning_phase(1)"
        ]
    )


def test_fixtures_listing_describes_the_three_fixtures(suite: Suite) -> None:
    result = suite.run("--fixtures")
    result.stdout.fnmatch_lines_random(
        [
            "learning_phase -- *",
            "*Give the learning phase this test runs under: 0 (test), 1 (train) or None (unset).",
            "train_phase -- *",
            "*Run this test with the learning phase set to 1 (train); the value is 1.",
            "test_phase -- *",
            "*Run this test with the learning phase set to 0 (test); the value is 0.",
        ]
    )


@pytest.mark.parametrize("name", ["learning_phase", "train_phase", "test_phase"])
def test_a_users_own_fixture_of_that_name_overrides_and_asks_for_no_phase(
    suite: Suite, name: str
) -> None:
    suite.write(
        f"""
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def {name}():
            return "mine"

        def test_uses_mine({name}):
            assert {name} == "mine"
            assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_a_users_own_learning_phase_fixture_parametrized_indirectly_sets_no_phase(
    suite: Suite,
) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def learning_phase(request):
            return request.param

        @pytest.mark.parametrize("learning_phase", ["warm-up"], indirect=True)
        def test_uses_mine(learning_phase):
            assert learning_phase == "warm-up"
            assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=1)
