"""Markers, fixtures, isolation and the leak warning under pytest-xdist (``-n 2``)."""

from __future__ import annotations

import pytest

from tests._suite import Suite

XDIST_SUITE = """
import pytest
from lp_backend import K, phase

@pytest.mark.learning_phase(0, 1, None)
def test_marked(learning_phase):
    assert phase() == learning_phase

def test_fixture(train_phase):
    assert phase() == 1

@pytest.mark.parametrize("learning_phase", [0, 1], indirect=True)
def test_indirect(learning_phase):
    assert phase() == learning_phase

@pytest.mark.parametrize("i", range(6))
def test_unmarked(i):
    assert phase() is None

def test_leaks():
    K.deprecated_internal_set_learning_phase(1)
"""


def test_everything_works_with_two_workers(suite: Suite) -> None:
    suite.write(XDIST_SUITE)
    result = suite.run_subprocess(
        "-n", "2", "-W", "error::pytest_learning_phase.LearningPhaseLeakWarning"
    )
    result.assert_outcomes(passed=13, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_leaks changed the learning phase"
            "*left phase 1*"
        ]
    )


def test_bad_marker_is_reported_from_a_worker(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(7)
        def test_bad():
            pass

        def test_good():
            pass
        """
    )
    result = reference_suite.run_subprocess("-n", "2")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["In test_suite.py::test_bad: @pytest.mark.learning_phase(7)*"])


def test_failure_section_survives_the_trip_from_the_worker(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(1)
        def test_fails():
            assert False
        """
    )
    result = reference_suite.run_subprocess("-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["ran under phase 1 (train) from @pytest.mark.learning_phase(1) on the test function*"]
    )
