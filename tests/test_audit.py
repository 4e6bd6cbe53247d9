"""``--learning-phase-audit``: every test runs as usual, the readers run again in phases 0 and 1.

Each test pins one promise of the audit (``docs/howto/audit.md``), most of them
a way the first audit lied: lost failures, random numbers or side effects taken
for the phase, other plugins' items, unittest suites passed over in silence.
"""

from __future__ import annotations

import pytest

from tests._frameworks import require_installed
from tests._suite import Suite, memory_adapter_conftest

HINT = (
    "hint: a test that checks one phase on purpose should say so: @pytest.mark.learning_phase(0) "
    "or (1); otherwise the code depends on the phase it starts in: pass training= where it calls "
    "its layers, or fix the code that reads the phase"
)

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
def test_marked_is_not_run_again():
    assert K.learning_phase() == 1
"""
SENSITIVE_SECTION = [
    "*= learning phase audit =*",
    "4 tests asked for no phase: 3 read it and ran again in phases 0 (test) and 1 (train), "
    "1 never read it",
    "2 tests depend on the learning phase:",
    "  test_suite.py::test_parametrized[[]1[]]  test: passed   train: failed",
    "  test_suite.py::test_reads_the_phase  test: passed   train: failed",
    HINT,
]

RUN_LOG_CONFTEST = """
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        phase = dict(report.user_properties).get("learning_phase_audit", "first")
        with open("runs.log", "a", encoding="utf-8") as log:
            log.write(f"{item.name} {phase} {report.outcome}\\n")
    return report
"""
"""Writes a line per run of each test function: its name, ``first`` or the phase, its outcome."""


def runs_of(suite: Suite) -> list[str]:
    """Return the lines :data:`RUN_LOG_CONFTEST` wrote, in order."""
    return (suite.pytester.path / "runs.log").read_text(encoding="utf-8").splitlines()


# -- Every test runs as usual; the readers run again. -----------------------------


def test_a_failure_of_the_first_run_counts_and_makes_the_run_fail(suite: Suite) -> None:
    suite.write(
        """
        from lp_backend import K

        def test_needs_a_set_phase():
            assert K.global_learning_phase_is_set()
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    # Its unset run differs from both phases' runs: listed as such (the spec).
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "1 test differs between the phase unset and both phases:",
            "  test_suite.py::test_needs_a_set_phase  unset: failed   test: passed   train: passed",
        ]
    )


def test_audit_names_each_phase_dependent_test_with_its_outcome_per_phase(suite: Suite) -> None:
    suite.write(SENSITIVE_SUITE)
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(SENSITIVE_SECTION)
    result.stdout.no_fnmatch_line("*test_indifferent  *")
    result.stdout.no_fnmatch_line("*test_parametrized[[]2[]]  *")
    result.stdout.no_fnmatch_line("*test_marked_is_not_run_again  *")


def test_audit_collects_the_same_items_as_a_plain_run(reference_suite: Suite) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    plain = reference_suite.run("--collect-only", "-q")
    audited = reference_suite.run("--learning-phase-audit", "--collect-only", "-q")
    assert audited.ret == pytest.ExitCode.OK
    assert [line for line in audited.outlines if "::" in line] == [
        line for line in plain.outlines if "::" in line
    ]
    audited.stdout.no_fnmatch_line("*learning phase audit*")


def test_audit_runs_again_only_the_tests_that_read_the_phase(suite: Suite) -> None:
    suite.pytester.makeconftest(RUN_LOG_CONFTEST)
    suite.write(
        """
        from lp_backend import K

        def test_reads():
            K.learning_phase()

        def test_never_reads():
            pass
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    assert runs_of(suite) == [
        "test_reads first passed",
        "test_reads 0 passed",
        "test_reads 1 passed",
        "test_never_reads first passed",
    ]
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "1 never read it",
        ]
    )


def test_layers_that_resolve_training_none_read_the_phase(suite: Suite) -> None:
    layers = "tf_keras.layers" if suite.backend == "tf_keras" else "pytest_learning_phase.layers"
    suite.write(
        f"""
        import numpy as np
        from {layers} import Dropout

        INPUTS = np.ones((4, 64), dtype="float32")

        def test_dropout_told_nothing_reads_the_phase():
            np.testing.assert_array_equal(np.asarray(Dropout(0.5)(INPUTS)), INPUTS)

        def test_dropout_told_training_reads_nothing():
            np.testing.assert_array_equal(np.asarray(Dropout(0.5)(INPUTS, training=False)), INPUTS)
        """
    )
    result = suite.run("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "1 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_dropout_told_nothing_reads_the_phase  "
            "test: passed   train: failed",
        ]
    )


@pytest.mark.parametrize("backend_name", ["tf_keras"], indirect=True)
def test_tf_keras_public_backend_reads_are_counted(suite: Suite) -> None:
    suite.write(
        """
        from tf_keras import backend

        def test_reads_through_the_public_module():
            assert backend.learning_phase() == 0
        """
    )
    result = suite.run("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_reads_through_the_public_module  test: passed   train: failed",
        ]
    )


def test_each_run_gets_fresh_function_fixtures_and_a_fresh_instance(suite: Suite) -> None:
    suite.pytester.makeconftest(RUN_LOG_CONFTEST)
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.fixture
        def fresh_list():
            return []

        def test_function_fixture(fresh_list):
            fresh_list.append(K.learning_phase())
            assert len(fresh_list) == 1

        class TestInstance:
            def test_attribute(self):
                K.learning_phase()
                assert not hasattr(self, "ran")
                self.ran = True
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    assert runs_of(suite) == [
        *("test_function_fixture first passed", "test_function_fixture 0 passed"),
        "test_function_fixture 1 passed",
        *("test_attribute first passed", "test_attribute 0 passed", "test_attribute 1 passed"),
    ]


def test_re_runs_are_tagged_and_never_logged(reference_suite: Suite) -> None:
    reference_suite.pytester.makeconftest(
        """
        import pytest

        TAG = "learning_phase_audit"

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            with open("made.log", "a", encoding="utf-8") as log:
                log.write(f"{report.when} {dict(report.user_properties).get(TAG)}\\n")
            return report

        def pytest_runtest_logreport(report):
            with open("logged.log", "a", encoding="utf-8") as log:
                log.write(f"{report.when} {dict(report.user_properties).get(TAG)}\\n")
        """
    )
    reference_suite.write(
        """
        from lp_backend import K

        def test_reads():
            K.learning_phase()
        """
    )
    reference_suite.run("--learning-phase-audit")
    made = (reference_suite.pytester.path / "made.log").read_text(encoding="utf-8")
    logged = (reference_suite.pytester.path / "logged.log").read_text(encoding="utf-8")
    assert made.splitlines() == [
        *("setup None", "call None", "teardown None"),
        *("setup 0", "call 0", "teardown 0"),
        *("setup 1", "call 1", "teardown 1"),
    ]
    assert logged.splitlines() == ["setup None", "call None", "teardown None"]


# -- What else could change an outcome between the runs. --------------------------

RANDOM_CONFTEST = """
import random
import numpy

# Seed 10: the first draw is at least 0.5, the second below, the third above
# again (for random and for numpy), so that runs that continue the stream
# instead of starting where the first run did disagree.
random.seed(10)
numpy.random.seed(10)
"""
RANDOM_SUITE = """
import random
import numpy
import pytest
from lp_backend import K

def test_draws_with_random():
    K.learning_phase()
    if random.random() < 0.5:
        pytest.skip("heads")

def test_draws_with_numpy():
    K.learning_phase()
    if numpy.random.rand() < 0.5:
        pytest.skip("heads")
"""
NOTHING_DEPENDS = [
    "2 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 (train), "
    "0 never read it",
    "none depends on the learning phase",
]


def test_a_test_that_only_draws_random_numbers_is_not_reported(suite: Suite) -> None:
    suite.pytester.makeconftest(RANDOM_CONFTEST)
    suite.write(RANDOM_SUITE)
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(NOTHING_DEPENDS)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_pytest_randomly_gives_the_same_verdicts_whatever_the_seed(
    reference_suite: Suite, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS")
    reference_suite.write(
        RANDOM_SUITE
        + """
def test_reads_the_phase():
    assert K.learning_phase() == 0
"""
    )
    result = reference_suite.run(
        "-p", "randomly", f"--randomly-seed={seed}", "--learning-phase-audit"
    )
    result.stdout.fnmatch_lines(
        [
            f"Using --randomly-seed={seed}",
            "3 tests asked for no phase: 3 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_reads_the_phase  test: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*test_draws_with_*  test:*")


def test_torch_and_tensorflow_generators_start_each_run_where_the_first_did(
    reference_suite: Suite,
) -> None:
    require_installed("torch")
    require_installed("tensorflow")
    reference_suite.pytester.makeconftest(
        """
        import tensorflow as tf
        import torch

        # Each seed's first three draws alternate around 0.5.
        torch.manual_seed(0)
        tf.random.set_seed(0)
        tf.random.set_global_generator(tf.random.Generator.from_seed(3))
        """
    )
    reference_suite.write(
        """
        import pytest
        import tensorflow as tf
        import torch
        from lp_backend import K

        def test_draws_with_torch():
            K.learning_phase()
            if torch.rand(()) < 0.5:
                pytest.skip("heads")

        def test_draws_with_tensorflow_op_seeds():
            K.learning_phase()
            if tf.random.uniform(()) < 0.5:
                pytest.skip("heads")

        def test_draws_with_the_tensorflow_generator():
            K.learning_phase()
            if tf.random.get_global_generator().uniform(()) < 0.5:
                pytest.skip("heads")
        """
    )
    result = reference_suite.run_subprocess("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "3 tests asked for no phase: 3 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "none depends on the learning phase",
        ]
    )


def test_later_tests_draw_what_they_would_without_the_audit(reference_suite: Suite) -> None:
    reference_suite.pytester.makeconftest(RANDOM_CONFTEST)
    reference_suite.write(
        """
        import random
        from lp_backend import K

        def test_draws_in_training_only():
            if K.learning_phase():  # as dropout does
                random.random()

        def test_records_its_draw():
            with open("draws.log", "a", encoding="utf-8") as log:
                log.write(f"{random.random()}\\n")
        """
    )
    reference_suite.run()
    reference_suite.run("--learning-phase-audit")
    plain, audited = (reference_suite.pytester.path / "draws.log").read_text().splitlines()
    assert audited == plain


def test_a_test_with_side_effects_is_not_reported(suite: Suite) -> None:
    suite.write(
        """
        from lp_backend import K

        CALLS = []

        def test_counts_its_calls():
            CALLS.append(K.learning_phase())
            assert len(CALLS) == 1
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["none depends on the learning phase"])


# -- The report. ------------------------------------------------------------------


def test_tests_asking_for_a_phase_they_never_read_are_listed(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(1)
        def test_marked_and_reads():
            assert K.learning_phase() == 1

        @pytest.mark.learning_phase(1)
        def test_marked_and_never_reads():
            pass

        def test_asks_by_fixture(test_phase):
            pass

        @pytest.mark.learning_phase(0)
        @pytest.mark.skip(reason="never runs, so it cannot read")
        def test_skipped():
            pass
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "0 tests asked for no phase: 0 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "the marker had no effect: 2 tests ask for a phase and never read it:",
            "  test_suite.py::test_asks_by_fixture         (fixture test_phase)",
            "  test_suite.py::test_marked_and_never_reads  "
            "(@pytest.mark.learning_phase(1) on the test function)",
        ]
    )
    result.stdout.no_fnmatch_line("*test_marked_and_reads  *")
    result.stdout.no_fnmatch_line("*test_skipped  *")


def test_a_doctest_that_reads_the_phase_is_named_as_not_audited(reference_suite: Suite) -> None:
    reference_suite.write(
        '''
        from lp_backend import K

        def phase_now():
            """The phase now.

            >>> phase_now()
            0
            """
            return K.learning_phase()
        '''
    )
    result = reference_suite.run("--learning-phase-audit", "--doctest-modules")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 0 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it, 1 read it and could not run again",
            "could not audit 1 test that read the phase:",
            "  test_suite.py::test_suite.phase_now  "
            "(a DoctestItem cannot be run again; only test functions can)",
        ]
    )


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="the subtests fixture is pytest 9's")
def test_a_test_with_subtests_is_audited_and_its_re_runs_subtests_stay_out(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_with_subtests(subtests):
            with subtests.test("reads"):
                assert K.learning_phase() == 0
        """
    )
    result = reference_suite.run("--learning-phase-audit", "-rA")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)  # the normal run's subtest only: no re-run's counted
    result.stdout.fnmatch_lines(
        [
            "1 test depends on the learning phase:",
            "  test_suite.py::test_with_subtests  test: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*SUBFAIL*")


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="the subtests fixture is pytest 9's")
def test_a_re_runs_failed_subtests_do_not_fail_the_test_in_the_summary(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_with_subtests(subtests):
            for i in range(2):
                with subtests.test(i=i):
                    assert K.learning_phase() == 0
        """
    )
    result = reference_suite.run("--learning-phase-audit", "-rA")
    result.stdout.fnmatch_lines(["PASSED test_suite.py::test_with_subtests"])
    result.stdout.no_fnmatch_line("*failed subtest*")
    result.stdout.no_fnmatch_line("FAILED*")


@pytest.mark.parametrize("outcome", ["passes", "fails"])
def test_a_unittest_subtest_is_audited_and_its_re_runs_subtests_stay_out(
    reference_suite: Suite, outcome: str
) -> None:
    expected = "0" if outcome == "passes" else "1"
    reference_suite.write(
        f"""
        import unittest
        from lp_backend import K

        class TestSubtests(unittest.TestCase):
            def test_with_subtests(self):
                for rate in (0.1, 0.2):
                    with self.subTest(rate=rate):
                        self.assertEqual(K.learning_phase(), {expected})
        """
    )
    result = reference_suite.run("--learning-phase-audit", "-rA")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "1 test depends on the learning phase:",
            "  test_suite.py::TestSubtests::test_with_subtests  test: "
            + ("passed   train: failed" if outcome == "passes" else "failed   train: passed"),
        ]
    )
    # Only the normal run's subtest reports are counted and shown. pytest 9 reports each
    # failing subTest as SUBFAIL; pytest 8 has no subtest reports (a subTest failure is
    # the test's own), so there is nothing of the re-runs' to keep out.
    if pytest.version_tuple >= (9,):
        assert result.stdout.str().count("SUBFAIL") == (0 if outcome == "passes" else 2)


def test_the_hint_is_the_adapters_and_every_test_reads_when_it_cannot_tell(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        memory_adapter_conftest(
            "blind", audit_hint="call .eval() or .train() where the model is used"
        )
    )
    pytester.makepyfile(
        test_blind="""
        from conftest import ADAPTER

        def test_depends():
            assert ADAPTER.phase != 1

        def test_indifferent():
            pass
        """
    )
    result = pytester.runpytest("--learning-phase-backend=blind", "--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "(backend blind cannot tell whether a test read the phase: every test that asks for "
            "none ran again)",
            "1 test depends on the learning phase:",
            "  test_blind.py::test_depends  test: passed   train: failed",
            "hint: call .eval() or .train() where the model is used",
        ]
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
    result.stdout.fnmatch_lines(SENSITIVE_SECTION)


def test_without_the_option_nothing_changes(reference_suite: Suite) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run("-v")
    result.assert_outcomes(passed=5)
    result.stdout.no_fnmatch_line("*learning phase audit*")
    plugins = reference_suite.pytester.runpytest("--trace-config").stdout.str()
    assert "learning_phase_audit" not in plugins


# -- With unittest, selection and other plugins. ---------------------------------


def test_a_unittest_test_case_is_audited(suite: Suite) -> None:
    suite.write(
        """
        import unittest
        from lp_backend import K

        class TestModel(unittest.TestCase):
            def setUp(self):
                self.phase_at_set_up = K.learning_phase()

            def test_predicts_in_inference(self):
                self.assertEqual(self.phase_at_set_up, 0)

            def test_never_reads(self):
                self.assertTrue(True)
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::TestModel::test_predicts_in_inference  test: passed   train: failed",
        ]
    )


@pytest.mark.parametrize(
    "selection",
    [
        ("-k", "not train"),
        ("--deselect", "test_suite.py::test_parametrized[1]"),
    ],
    ids=["k", "deselect"],
)
def test_deselected_tests_are_neither_run_nor_reported(
    reference_suite: Suite, selection: tuple[str, str]
) -> None:
    reference_suite.write(
        SENSITIVE_SUITE
        + """
def test_train_step():
    assert K.learning_phase() == 0
"""
    )
    result = reference_suite.run("--learning-phase-audit", *selection)
    result.stdout.fnmatch_lines(
        [
            "*= learning phase audit =*",
            "*tests asked for no phase: *",
            "*depend* on the learning phase:",
        ]
    )
    result.stdout.fnmatch_lines(
        ["  test_suite.py::test_reads_the_phase  *test: passed   train: failed"]
    )
    result.stdout.no_fnmatch_line("*stopped early*")
    if selection[0] == "-k":
        result.stdout.no_fnmatch_line("*test_train_step  *")
    else:
        result.stdout.no_fnmatch_line("*test_parametrized[[]1[]]  *")


def test_last_failed_runs_and_audits_only_the_last_failures(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_depends_on_the_phase():
            assert K.learning_phase() == 0

        def test_fails():
            assert K.learning_phase() == 2
        """
    )
    pytester = reference_suite.pytester
    pytester.runpytest("-W", "default", "--learning-phase-audit")
    result = pytester.runpytest("-W", "default", "--lf", "--learning-phase-audit")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "none depends on the learning phase",
        ]
    )
    result.stdout.no_fnmatch_line("*stopped early*")


def test_exitfirst_stops_the_session_and_the_stopping_test_is_audited(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_fails_unless_set():
            assert K.global_learning_phase_is_set()

        def test_never_reached():
            assert K.learning_phase() == 0
        """
    )
    result = reference_suite.run("--learning-phase-audit", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "  test_suite.py::test_fails_unless_set  unset: failed   test: passed   train: passed",
        ]
    )
    result.stdout.no_fnmatch_line("*stopped early*")
    result.stdout.no_fnmatch_line("*test_never_reached  *")


def test_parameter_ids_that_look_like_the_old_audit_ids_are_plain_ids(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(1)
        @pytest.mark.parametrize("mode", ["x"], ids=["audit-train"])
        def test_marked(mode):
            assert K.learning_phase() == 1

        @pytest.mark.parametrize("mode", ["x"], ids=["audit-test"])
        def test_unmarked(mode):
            assert K.learning_phase() == 0
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_unmarked[[]audit-test[]]  test: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*not run in both phases*")
    result.stdout.no_fnmatch_line("*test_marked*  test:*")


def test_a_later_trylast_generate_tests_hook_parametrizes_as_usual(reference_suite: Suite) -> None:
    reference_suite.pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_generate_tests(metafunc):
            if "variant" in metafunc.fixturenames:
                metafunc.parametrize("variant", [1, 2])
        """
    )
    reference_suite.write(
        """
        from lp_backend import K

        def test_variant(variant):
            assert K.learning_phase() == 0
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
            "2 tests depend on the learning phase:",
            "  test_suite.py::test_variant[[]1[]]  test: passed   train: failed",
            "  test_suite.py::test_variant[[]2[]]  test: passed   train: failed",
        ]
    )


def test_a_conftest_that_parametrizes_learning_phase_gets_one_item_per_phase(
    reference_suite: Suite,
) -> None:
    reference_suite.pytester.makeconftest(
        """
        def pytest_generate_tests(metafunc):
            if "learning_phase" in metafunc.fixturenames:
                metafunc.parametrize("learning_phase", [0, 1], indirect=True)
        """
    )
    reference_suite.write(
        """
        from lp_backend import K

        def test_follows_the_phase(learning_phase):
            assert K.learning_phase() == learning_phase
        """
    )
    result = reference_suite.run("--learning-phase-audit", "-v")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "test_suite.py::test_follows_the_phase[[]0[]] PASSED*",
            "test_suite.py::test_follows_the_phase[[]1[]] PASSED*",
            "0 tests asked for no phase: 0 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it",
        ]
    )
    result.stdout.no_fnmatch_line("*had no effect*")


RERUN_SUITE = """
import pytest
from lp_backend import K

ATTEMPTS = []

@pytest.fixture(scope="module")
def module_resource():
    with open("resource.log", "a", encoding="utf-8") as log:
        log.write("set up\\n")
    yield
    with open("resource.log", "a", encoding="utf-8") as log:
        log.write("torn down\\n")

def test_flaky(module_resource):
    ATTEMPTS.append(K.learning_phase())
    assert len(ATTEMPTS) > 1

def test_other(module_resource):
    pass

def test_depends_on_the_phase(module_resource):
    assert K.learning_phase() == 0
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one-process", "xdist"])
def test_rerunfailures_reruns_and_the_audit_reports(
    reference_suite: Suite, workers: tuple[str, ...]
) -> None:
    reference_suite.write(RERUN_SUITE)
    result = reference_suite.run_subprocess("--learning-phase-audit", "--reruns", "1", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 3
    assert outcomes["rerun"] == 1
    assert "failed" not in outcomes
    result.stdout.fnmatch_lines(
        ["  test_suite.py::test_depends_on_the_phase  test: passed   train: failed"]
    )
    resource = (reference_suite.pytester.path / "resource.log").read_text().splitlines()
    assert resource.count("set up") == resource.count("torn down")
    assert resource[-1] == "torn down"


@pytest.mark.parametrize("mode", ["load", "loadscope", "loadfile", "worksteal", "each"])
def test_audit_report_is_complete_and_printed_once_under_xdist(
    reference_suite: Suite, mode: str
) -> None:
    reference_suite.write(SENSITIVE_SUITE)
    result = reference_suite.run_subprocess("--learning-phase-audit", "-n", "2", "--dist", mode)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(SENSITIVE_SECTION)
    assert result.stdout.str().count("= learning phase audit =") == 1


# -- The failure section (the plugin's, with or without the audit). --------------


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
