"""``--learning-phase-audit``: finds phase-sensitive tests, on both backends and under xdist."""

from __future__ import annotations

import pytest

from tests._suite import Suite

SENSITIVE_SUITE = """
import pytest
from lp_backend import K

def test_reads_the_phase():
    assert K.learning_phase() == 0

def test_indifferent():
    assert True

@pytest.mark.parametrize("threshold", [1, 2])
def test_parametrized(threshold):
    assert K.learning_phase() < threshold

@pytest.mark.learning_phase(1)
def test_marked_is_not_audited():
    assert K.learning_phase() == 1
"""


def test_audit_names_each_phase_sensitive_test_with_its_outcome_per_phase(suite: Suite) -> None:
    suite.write(SENSITIVE_SUITE)
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= learning phase audit =*",
            "2 tests of 4 depend on the learning phase:",
            "  test_suite.py::test_reads_the_phase  test: passed   train: failed",
            "  test_suite.py::test_parametrized[[]1[]]  test: passed   train: failed",
            "hint: a test meant for one phase should say so with @pytest.mark.learning_phase(0) "
            "or (1); otherwise fix the code that reads the phase",
        ]
    )
    result.stdout.no_fnmatch_line("*test_indifferent  *")
    result.stdout.no_fnmatch_line("*test_parametrized[[]2[]]  *")
    result.stdout.no_fnmatch_line("*test_marked_is_not_audited  *")


def test_audit_runs_unmarked_tests_once_per_phase_with_audit_ids(suite: Suite) -> None:
    suite.write(SENSITIVE_SUITE)
    result = suite.run("--learning-phase-audit", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_suite.py::test_reads_the_phase[[]audit-test[]]",
            "test_suite.py::test_reads_the_phase[[]audit-train[]]",
            "test_suite.py::test_indifferent[[]audit-test[]]",
            "test_suite.py::test_indifferent[[]audit-train[]]",
            "test_suite.py::test_parametrized[[]1-audit-test[]]",
            "test_suite.py::test_parametrized[[]1-audit-train[]]",
            "test_suite.py::test_parametrized[[]2-audit-test[]]",
            "test_suite.py::test_parametrized[[]2-audit-train[]]",
            "test_suite.py::test_marked_is_not_audited",
        ]
    )


def test_audit_passes_a_clean_suite_and_says_so(suite: Suite) -> None:
    suite.write(
        """
        from lp_backend import K

        def test_fine():
            assert K.learning_phase() in (0, 1)

        def test_also_fine(train_phase):
            assert K.learning_phase() == 1
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["1 test ran in phases 0 (test) and 1 (train); none depends on the phase"]
    )


def test_audit_counts_a_skip_in_one_phase_as_a_difference(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import pytest
        from lp_backend import K

        def test_skips_in_training():
            if K.learning_phase():
                pytest.skip("not in training")
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["  test_suite.py::test_skips_in_training  test: passed   train: skipped"]
    )


def test_audit_from_ini(reference_suite: Suite) -> None:
    reference_suite.pytester.makeini("[pytest]\nlearning_phase_audit = true\n")
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run()
    result.stdout.fnmatch_lines(["2 tests of 4 depend on the learning phase:"])


def test_without_the_option_nothing_changes(reference_suite: Suite) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run("-v")
    result.assert_outcomes(passed=5)
    result.stdout.no_fnmatch_line("*audit-t*")
    result.stdout.no_fnmatch_line("*learning phase audit*")
    plugins = reference_suite.pytester.runpytest("--trace-config").stdout.str()
    assert "learning_phase_audit" not in plugins


def test_audit_report_is_complete_under_xdist(reference_suite: Suite) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run_subprocess("--learning-phase-audit", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "2 tests of 4 depend on the learning phase:",
            "  test_suite.py::test_reads_the_phase  test: passed   train: failed",
            "  test_suite.py::test_parametrized[[]1[]]  test: passed   train: failed",
        ]
    )


def test_audit_with_exitfirst_lists_the_tests_it_could_not_finish(
    reference_suite: Suite,
) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run("--learning-phase-audit", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "1 test of 1 depends on the learning phase:",
            "  test_suite.py::test_reads_the_phase  test: passed   train: failed",
        ]
    )


def test_audit_with_maxfail_stops_but_still_reports(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_fails_in_test_phase():
            assert K.learning_phase() == 1

        def test_never_reached():
            pass
        """
    )
    result = reference_suite.run("--learning-phase-audit", "--maxfail=1")
    result.stdout.fnmatch_lines(
        [
            "0 tests ran in phases 0 (test) and 1 (train); none depends on the phase",
            "not run in both phases (the session stopped early): "
            "test_suite.py::test_fails_in_test_phase",
        ]
    )


def test_failure_report_says_which_phase_and_where_it_came_from(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(1)
        class TestInTraining:
            def test_wrong(self):
                assert K.learning_phase() == 0

        def test_default_phase():
            assert K.global_learning_phase_is_set()
        """
    )
    result = suite.run("--learning-phase=0")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 1 (train) from @pytest.mark.learning_phase(1) on class "
            f"TestInTraining (backend {suite.backend})",
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "source"),
    [
        (("--learning-phase=0",), "--learning-phase=0"),
        (("--learning-phase=1",), "--learning-phase=1"),
    ],
)
def test_failure_report_names_the_option_that_set_the_phase(
    reference_suite: Suite, arguments: tuple[str, ...], source: str
) -> None:
    reference_suite.write("def test_fails():\n    assert False\n")
    result = reference_suite.run(*arguments)
    result.stdout.fnmatch_lines([f"ran under phase * from {source} (backend reference)"])


def test_passing_tests_get_no_learning_phase_section(reference_suite: Suite) -> None:
    reference_suite.write("def test_passes():\n    pass\n")
    result = reference_suite.run("-rA")
    result.stdout.no_fnmatch_line("*- learning phase -*")


def test_collect_only_lists_audit_items_without_an_audit_section(reference_suite: Suite) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run("--learning-phase-audit", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*learning phase audit*")


def test_error_in_a_fixture_also_gets_the_learning_phase_section(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("boom")

        def test_uses_it(broken, train_phase):
            pass
        """
    )
    result = reference_suite.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 1 (train) from fixture train_phase (backend reference)",
        ]
    )
