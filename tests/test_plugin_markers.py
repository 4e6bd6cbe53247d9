"""The ``learning_phase`` marker: every form of the interface's table, on both backends."""

from __future__ import annotations

import pytest

from tests._suite import Suite


@pytest.mark.parametrize(
    ("marker_argument", "expected_phase"),
    [("1", 1), ("0", 0), ("None", None), ("True", 1), ("False", 0), ("1.0", 1)],
)
def test_single_value_marker_sets_the_phase_for_the_test(
    suite: Suite, marker_argument: str, expected_phase: int | None
) -> None:
    suite.write(
        f"""
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase({marker_argument})
        def test_marked():
            assert phase() == {expected_phase!r}
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_plugin_stores_the_int_phase_not_the_marker_object(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(True)
        def test_marked():
            assert K.learning_phase() == 1 and type(K.learning_phase()) is int
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_unset_marker_gives_a_fresh_state_even_under_a_set_default(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(None)
        def test_unset():
            assert K.learning_phase() == 0
            assert not K.global_learning_phase_is_set()
        """
    )
    suite.run("--learning-phase=1").assert_outcomes(passed=1)


def test_several_values_parametrize_with_readable_ids(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0, 1, None)
        def test_each(learning_phase):
            assert phase() == learning_phase
        """
    )
    result = suite.run("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*::test_each[[]test[]] PASSED*",
            "*::test_each[[]train[]] PASSED*",
            "*::test_each[[]unset[]] PASSED*",
        ]
    )


def test_multi_value_marker_combines_with_parametrize(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0, 1)
        @pytest.mark.parametrize("rate", [0.1, 0.5])
        def test_rates(rate, learning_phase):
            assert phase() == learning_phase
        """
    )
    result = suite.run("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*test_rates[[]test-0.1[]]",
            "*test_rates[[]test-0.5[]]",
            "*test_rates[[]train-0.1[]]",
            "*test_rates[[]train-0.5[]]",
        ]
    )
    suite.run().assert_outcomes(passed=4)


def test_class_marker_applies_to_its_methods_and_the_closest_wins(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(1)
        class TestInTraining:
            def test_inherits(self):
                assert phase() == 1

            @pytest.mark.learning_phase(0)
            def test_own_marker_wins(self):
                assert phase() == 0
        """
    )
    suite.run().assert_outcomes(passed=2)


def test_module_pytestmark_applies_and_class_marker_is_closer(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        pytestmark = pytest.mark.learning_phase(0)

        def test_module_level():
            assert phase() == 0

        @pytest.mark.learning_phase(None)
        class TestUnset:
            def test_class_level(self):
                assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=2)


def test_module_marker_with_several_values_parametrizes_every_test(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        pytestmark = pytest.mark.learning_phase(0, 1)

        def test_one(learning_phase):
            assert phase() == learning_phase

        def test_two(learning_phase):
            assert phase() == learning_phase
        """
    )
    suite.run().assert_outcomes(passed=4)


def test_pytest_param_marks_set_the_phase_of_one_case(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.parametrize(
            "expected",
            [
                pytest.param(1, marks=pytest.mark.learning_phase(1)),
                pytest.param(0, marks=pytest.mark.learning_phase(0)),
                pytest.param(None),
            ],
        )
        def test_case(expected):
            assert phase() == expected
        """
    )
    suite.run().assert_outcomes(passed=3)


def test_pytest_param_mark_is_closer_than_the_function_marker(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0)
        @pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.learning_phase(1))])
        def test_case(x):
            assert phase() == 1
        """
    )
    suite.run().assert_outcomes(passed=1)


def test_marker_works_on_unittest_classes_and_methods(suite: Suite) -> None:
    suite.write(
        """
        import unittest
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(1)
        class TestCaseInTraining(unittest.TestCase):
            def setUp(self):
                self.phase_in_setup = phase()

            def test_class_marker(self):
                self.assertEqual(self.phase_in_setup, 1)
                self.assertEqual(phase(), 1)

            @pytest.mark.learning_phase(0)
            def test_method_marker(self):
                self.assertEqual(phase(), 0)

        class TestCasePlain(unittest.TestCase):
            def test_unmarked(self):
                self.assertIsNone(phase())
        """
    )
    suite.run().assert_outcomes(passed=3)


def test_several_values_on_a_unittest_method_are_an_error_naming_the_test(suite: Suite) -> None:
    suite.write(
        """
        import unittest
        import pytest

        class TestCase(unittest.TestCase):
            @pytest.mark.learning_phase(0, 1)
            def test_method(self):
                pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::TestCase::test_method: @pytest.mark.learning_phase(0, 1) on the "
            "test function: several phases parametrize a test function, but this test cannot be "
            "parametrized (a unittest.TestCase method, or a pytest.param mark); give one phase"
        ]
    )


BAD_VALUES = [
    ("2", "2"),
    ("-1", "-1"),
    ("0.5", "0.5"),
    ("float('nan')", "nan"),
    ("'1'", "'1'"),
    ("'train'", "'train'"),
    ("[1]", "[1]"),
    ("(1,)", "(1,)"),
    ("{1: 1}", "{1: 1}"),
]


@pytest.mark.parametrize(("source_value", "shown_value"), BAD_VALUES)
def test_bad_marker_value_is_an_error_of_that_test_naming_value_and_allowed_values(
    suite: Suite, source_value: str, shown_value: str
) -> None:
    suite.write(
        f"""
        import pytest

        @pytest.mark.learning_phase({source_value})
        def test_bad():
            pass

        def test_other():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"In test_suite.py::test_bad: @pytest.mark.learning_phase({shown_value}) on the test "
            f"function: got {shown_value}; expected 0, 1 or None (a value set_learning_phase "
            "accepts, or None for unset)"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*_markers.py*")


def test_bad_value_among_several_is_reported_without_parametrizing(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(0, 2)
        def test_bad():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_bad: @pytest.mark.learning_phase(0, 2) on the test function: "
            "got 2; expected 0, 1 or None*"
        ]
    )


def test_marker_without_argument_is_an_error_showing_the_allowed_forms(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase
        def test_bare():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_bare: @pytest.mark.learning_phase() on the test function: "
            "needs at least one phase: @pytest.mark.learning_phase(1), (0), (None) or several "
            "to parametrize, (0, 1)"
        ]
    )


def test_keyword_argument_is_an_error_naming_it(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(phase=1)
        def test_keyword():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::test_keyword: @pytest.mark.learning_phase(phase=1) on the test "
            "function: takes no keyword arguments (got phase); pass phases positionally: "
            "@pytest.mark.learning_phase(1) or (0, 1)"
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "repeated"),
    [
        ("0, 0", "0 repeats the phase 0 (test)"),
        ("1, True", "True repeats the phase 1 (train)"),
        ("None, None", "None repeats the phase unset"),
    ],
)
def test_repeated_value_is_an_error_naming_it(suite: Suite, arguments: str, repeated: str) -> None:
    suite.write(
        f"""
        import pytest

        @pytest.mark.learning_phase({arguments})
        def test_repeated():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"In test_suite.py::test_repeated: @pytest.mark.learning_phase({arguments}) on the "
            f"test function: {repeated}; give each phase once"
        ]
    )


def test_bad_class_marker_names_the_class(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(3)
        class TestBad:
            def test_method(self):
                pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "In test_suite.py::TestBad::test_method: @pytest.mark.learning_phase(3) on class "
            "TestBad: got 3;*"
        ]
    )


def test_marker_is_accepted_under_strict_markers(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(1)
        def test_marked():
            pass
        """
    )
    suite.run("--strict-markers").assert_outcomes(passed=1)


def test_markers_listing_documents_the_forms(suite: Suite) -> None:
    result = suite.run("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.learning_phase(phase, ...): run the test with the Keras learning phase "
            "set: learning_phase(1) train, learning_phase(0) test, learning_phase(None) unset*"
        ]
    )


PARAM_UNDER_SEVERAL_VALUES = {
    "function marker": (
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0, 1)
        @pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.learning_phase(1))])
        def test_case(x):
            assert phase() == 1
        """,
        "test_case",
        "the test function",
    ),
    "class marker": (
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0, 1)
        class TestCase:
            @pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.learning_phase(1))])
            def test_case(self, x):
                assert phase() == 1
        """,
        "TestCase::test_case",
        "class TestCase",
    ),
    "module marker": (
        """
        import pytest
        from lp_backend import phase

        pytestmark = pytest.mark.learning_phase(0, 1)

        @pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.learning_phase(1))])
        def test_case(x):
            assert phase() == 1
        """,
        "test_case",
        "module test_suite.py",
    ),
}


@pytest.mark.parametrize("where", PARAM_UNDER_SEVERAL_VALUES)
def test_pytest_param_mark_disagreeing_with_a_parametrizing_marker_is_an_error(
    suite: Suite, where: str
) -> None:
    """The error names where the several-value marker sits, as the others do."""
    source, node_id, place = PARAM_UNDER_SEVERAL_VALUES[where]
    suite.write(source)
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"In test_suite.py::{node_id}[[]test-1[]]: @pytest.mark.learning_phase(1) on "
            "pytest.param asks for phase 1 (train) but @pytest.mark.learning_phase(0, 1) "
            f"on {place}, item [[]test[]] asks for 0 (test); keep one of them"
        ]
    )


def test_two_disagreeing_markers_on_one_function_are_an_error(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(0)
        @pytest.mark.learning_phase(1)
        def test_twice():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*In test_suite.py::test_twice: two learning_phase markers on the test function "
            "disagree: @pytest.mark.learning_phase(*) and @pytest.mark.learning_phase(*); "
            "keep one of them"
        ]
    )


def test_two_disagreeing_markers_in_one_pytest_param_are_an_error(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.parametrize(
            "x",
            [pytest.param(1, marks=[pytest.mark.learning_phase(0), pytest.mark.learning_phase(1)])],
        )
        def test_case(x):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*two learning_phase markers on pytest.param disagree*"])


def test_a_marker_applied_at_run_time_is_an_error_not_ignored(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.fixture
        def late(request):
            request.applymarker(pytest.mark.learning_phase(1))

        def test_late(late):
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*In test_suite.py::test_late: @pytest.mark.learning_phase(1) was added while the "
            "test was set up (request.applymarker or item.add_marker), after its phase was set; "
            "put the marker on the test, its class or module, or in pytest.param"
        ]
    )


def test_a_marker_with_a_thousand_values_is_cut_in_its_error(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(*range(1000))
        def test_many():
            pass
        """
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*In test_suite.py::test_many: @pytest.mark.learning_phase(0, 1, 2, 3, ... 996 more) "
            "on the test function: got 2; *"
        ]
    )
    assert "999" not in result.stdout.str()


# -- Markers as users write them (issue 16, case 5). ---------------------------------------


def test_a_subclass_marker_overrides_its_base_class_marker(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(1)
        class TestBase:
            def test_phase(self):
                assert phase() == self.expected

            expected = 1

        @pytest.mark.learning_phase(0)
        class TestInference(TestBase):
            expected = 0

        class TestInherits(TestBase):
            expected = 1
        """
    )
    suite.run().assert_outcomes(passed=3)


def test_a_marker_applied_in_the_test_body_is_an_error_not_ignored(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        def test_late(request):
            request.applymarker(pytest.mark.learning_phase(1))

        def test_late_on_the_node(request):
            request.node.add_marker(pytest.mark.learning_phase(0))
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*In test_suite.py::test_late: @pytest.mark.learning_phase(1) was added in the test "
            "body (request.applymarker or item.add_marker), after its phase was set; put the "
            "marker on the test, its class or module, or in pytest.param",
            "*In test_suite.py::test_late_on_the_node: @pytest.mark.learning_phase(0) was added "
            "in the test body*",
        ]
    )


def test_a_marker_a_wider_fixture_adds_is_an_error_for_each_test_that_uses_it(
    suite: Suite,
) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        class TestAddedByAClassFixture:
            @pytest.fixture(scope="class", autouse=True)
            @classmethod
            def adds(cls, request):
                request.node.add_marker(pytest.mark.learning_phase(1))

            def test_1(self):
                pass

            def test_2(self):
                pass

        @pytest.fixture(scope="module")
        def module_adds(request):
            request.applymarker(pytest.mark.learning_phase(0))

        def test_3(module_adds):
            pass

        def test_4(request):
            assert request.node.get_closest_marker("learning_phase") is None
            assert phase() is None

        @pytest.fixture(scope="module")
        def adds_another_marker(request):
            request.applymarker(pytest.mark.slow)

        def test_5(adds_another_marker):
            assert phase() is None
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=2, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*In class fixture adds: @pytest.mark.learning_phase(1) was added to class "
            "TestAddedByAClassFixture while the fixture was set up (request.applymarker or "
            "request.node.add_marker), after the phases of its tests were resolved; put the "
            "marker in the source (on the test, its class or module), or set the phase in the "
            "fixture itself",
            "*In class fixture adds: @pytest.mark.learning_phase(1) was added to class *",
            "*In module fixture module_adds: @pytest.mark.learning_phase(0) was added to module "
            "test_suite.py while the fixture was set up*",
        ]
    )


def test_parametrizing_learning_phase_without_indirect_sets_the_phase(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.parametrize("learning_phase", [0, 1, None])
        def test_both(learning_phase):
            assert phase() == learning_phase
        """
    )
    suite.run().assert_outcomes(passed=3)


def test_a_user_fixture_named_learning_phase_parametrized_directly_is_no_request(
    suite: Suite,
) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def learning_phase():
            return "mine"

        @pytest.mark.parametrize("learning_phase", [0, 1])
        def test_own(learning_phase):
            assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=2)


@pytest.mark.parametrize(
    "value",
    ["numpy.array([1, 1])", "Unrepresentable()"],
    ids=["array", "repr-raises"],
)
def test_two_identical_odd_marker_values_are_an_error_not_an_internal_error(
    suite: Suite, value: str
) -> None:
    suite.write(
        f"""
import numpy
import pytest

class Unrepresentable:
    def __repr__(self):
        raise RuntimeError("no repr")

    def __eq__(self, other):
        raise RuntimeError("no ==")

    __hash__ = object.__hash__

@pytest.mark.learning_phase({value})
@pytest.mark.learning_phase({value})
def test_odd():
    pass
"""
    )
    result = suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*In test_suite.py::test_odd: @pytest.mark.learning_phase(*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("indirect", [False, True], ids=["direct", "indirect"])
def test_a_phase_parameter_whose_repr_raises_is_an_error_of_the_test(
    suite: Suite, indirect: bool
) -> None:
    suite.write(
        f"""
import pytest

class Unrepresentable:
    def __repr__(self):
        raise RuntimeError("no repr")

@pytest.mark.parametrize("learning_phase", [Unrepresentable()], indirect={indirect})
def test_odd(learning_phase):
    pass

def test_fine():
    pass
"""
    )
    result = suite.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*In test_suite.py::test_odd*: parameter learning_phase=<Unrepresentable object whose*"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
