"""What the audit judges, and how: reads, wider fixtures, redundant runs, exits, subtests.

Each test runs real pytest sessions (pytester) with ``--learning-phase-audit``
and checks the section a user reads.
"""

from __future__ import annotations

import textwrap
from xml.etree import ElementTree

import pytest

from pytest_learning_phase._audit import UNSET_HINT
from tests._suite import Suite

# -- A test whose phase came from a wider fixture has a phase. -----------------------

BASELINE_CONFTEST = """
import pytest
from lp_backend import K

@pytest.fixture(scope="session", autouse=True)
def inference_everywhere():
    K.set_learning_phase(0)
    yield
"""


def test_a_test_whose_phase_came_from_a_wider_fixture_is_not_run_again(suite: Suite) -> None:
    suite.pytester.makeconftest(BASELINE_CONFTEST)
    suite.write(
        """
        from lp_backend import K

        def test_reads_the_phase_it_was_given():
            assert K.learning_phase() == 0

        def test_reads_too():
            K.learning_phase()
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 0 read it and ran again in phases 0 (test) and 1 (train), "
            "0 never read it, 2 had a phase from a wider fixture",
        ]
    )
    result.stdout.no_fnmatch_line("*depend*")


@pytest.mark.parametrize(
    ("order", "counts"),
    [
        ("first", "0 read it and ran again * 4 had a phase from a wider fixture"),
        ("last", "3 read it and ran again * 1 had a phase from a wider fixture"),
    ],
)
def test_a_wider_fixture_gives_its_phase_to_the_tests_after_the_first_that_requests_it(
    reference_suite: Suite, order: str, counts: str
) -> None:
    """The fixture is set up when first requested: the tests before it really ran unset."""
    requests = "def test_requests(inference):\n    K.learning_phase()\n"
    others = "".join(f"def test_{name}():\n    K.learning_phase()\n" for name in "bcd")
    reference_suite.write(
        """
import pytest
from lp_backend import K

@pytest.fixture(scope="module")
def inference():
    K.set_learning_phase(0)
    yield
"""
        + (requests + others if order == "first" else others + requests)
    )
    result = reference_suite.run("--learning-phase-audit", "-W", "ignore")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([f"4 tests asked for no phase: {counts}"])


# -- The normal run's outcome is the worst of all its reports. -----------------------


def test_a_fixture_that_errors_only_in_one_phase_is_reported(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.fixture
        def inference_only():
            assert not K.learning_phase(), "built for inference"

        def test_uses_it(inference_only):
            pass
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test depends on the learning phase:",
            "  test_suite.py::test_uses_it  test: passed   train: error",
        ]
    )


# -- A test whose unset run differs from both phases. --------------------------------


def test_a_test_that_passes_only_unset_is_reported_with_the_hint(suite: Suite) -> None:
    suite.write(
        """
        from lp_backend import K

        def test_expects_the_phase_unset():
            assert not K.global_learning_phase_is_set()
        """
    )
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test differs between the phase unset and both phases:",
            "  test_suite.py::test_expects_the_phase_unset  unset: passed   test: failed   "
            "train: failed",
            "hint: a test that needs the phase unset should say so with "
            "@pytest.mark.learning_phase(None); one that needs it set, with (0) or (1)",
        ]
    )


# -- Warnings of the re-runs. --------------------------------------------------------


def test_a_re_runs_warnings_are_not_shown_again(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import itertools
        import warnings
        from lp_backend import K

        RUNS = itertools.count()

        def test_warns():
            K.learning_phase()
            warnings.warn(f"run {next(RUNS)}", UserWarning)  # a new message each run
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=1, warnings=1)


def test_a_leak_turned_error_is_not_blamed_on_the_phase(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_reads_and_leaks():
            K.learning_phase()
            K.set_learning_phase(1)
        """
    )
    result = reference_suite.run(
        "--learning-phase-audit",
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
        "-W",
        "ignore::DeprecationWarning",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["none depends on the learning phase"])


# -- Exits, crashes, runs that never happen. -----------------------------------------


def test_a_re_run_that_calls_pytest_exit_does_not_end_the_session(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        import pytest
        from lp_backend import K

        def test_exits_in_training():
            if K.learning_phase():
                pytest.exit("no training here")

        def test_later():
            K.learning_phase()
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "could not audit 1 test that read the phase:",
            "  test_suite.py::test_exits_in_training  (its run in phase 1 (train) called "
            "pytest.exit(): no training here)",
        ]
    )
    result.stdout.no_fnmatch_line("*Interrupted*")


def test_a_crashed_worker_is_named_in_the_section(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import os
        from lp_backend import K

        def test_crashes_in_training():
            if K.learning_phase():
                os._exit(1)
        """
    )
    result = reference_suite.run_subprocess("--learning-phase-audit", "-n", "1")
    result.stdout.fnmatch_lines(
        [
            "*learning phase audit*",
            "could not audit 1 test that read the phase:",
            "  test_suite.py::test_crashes_in_training  (it crashed its worker when run again)",
        ]
    )


def test_a_re_run_that_crashes_its_worker_counts_nowhere(reference_suite: Suite) -> None:
    """Only the test's own run counts: a crash in its own run is a failure, as without the audit."""
    reference_suite.write(
        """
        import os
        from lp_backend import K

        def test_crashes_in_training():
            if K.learning_phase():
                os._exit(1)

        def test_crashes_in_its_own_run():
            K.learning_phase()
            os._exit(1)

        def test_plain():
            pass
        """
    )
    result = reference_suite.run_subprocess(
        "--learning-phase-audit", "-n", "2", "-rA", "--junitxml=junit.xml"
    )
    result.assert_outcomes(passed=2, failed=1)
    junit = ElementTree.parse(reference_suite.pytester.path / "junit.xml")
    testcases = sorted(case.get("name", "<no name>") for case in junit.iter("testcase"))
    assert testcases == ["test_crashes_in_its_own_run", "test_crashes_in_training", "test_plain"]
    result.stdout.fnmatch_lines(
        [
            "could not audit 2 tests that read the phase:",
            "  test_suite.py::test_crashes_in_its_own_run  (it crashed its worker)",
            "  test_suite.py::test_crashes_in_training     (it crashed its worker when run again)",
            "*short test summary info*",
            "PASSED test_suite.py::test_crashes_in_training",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED test_suite.py::test_crashes_in_its_own_run - *"])
    result.stdout.no_fnmatch_line("FAILED test_suite.py::test_crashes_in_training*")
    result.stdout.no_fnmatch_line("*crashed while running 'test_suite.py::test_crashes_in_train*")


def test_a_crash_in_a_rerunfailures_attempt_stays_a_failure_under_xdist(
    reference_suite: Suite,
) -> None:
    """The attempt that crashed is the test's own run, though an earlier attempt ended."""
    reference_suite.write(
        """
        import os
        from pathlib import Path
        from lp_backend import K

        def test_fails_then_crashes():
            K.learning_phase()
            if Path("attempted").exists():
                os._exit(1)
            Path("attempted").touch()
            assert False, "first attempt"
        """
    )
    plain = reference_suite.run_subprocess("-n", "1", "--reruns", "1")
    (reference_suite.pytester.path / "attempted").unlink()
    result = reference_suite.run_subprocess("--learning-phase-audit", "-n", "1", "--reruns", "1")
    assert result.parseoutcomes() == plain.parseoutcomes()
    assert result.parseoutcomes()["failed"] == 1
    result.stdout.fnmatch_lines(
        ["  test_suite.py::test_fails_then_crashes  (it crashed its worker)"]
    )


def test_a_crashed_worker_s_earlier_verdicts_are_kept(reference_suite: Suite) -> None:
    """Each verdict travels with the worker's next report, not only at the worker's end."""
    reference_suite.write(
        """
        import os
        from lp_backend import K

        def test_depends():
            assert K.learning_phase() == 0

        def test_same():
            K.learning_phase()

        def test_crashes_in_training():
            if K.learning_phase():
                os._exit(1)
        """,
        name="test_crashing",
    )
    reference_suite.write("def test_elsewhere():\n    pass\n", name="test_other")
    result = reference_suite.run_subprocess(
        "--learning-phase-audit", "-n", "2", "--dist", "loadfile", "--max-worker-restart", "0"
    )
    result.stdout.fnmatch_lines(
        [
            "*= learning phase audit =*",
            "4 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 "
            "(train), 1 never read it, 1 read it and could not run again",
            "1 test depends on the learning phase:",
            "  test_crashing.py::test_depends  test: passed   train: failed",
            "*",
            "could not audit 1 test that read the phase:",
            "  test_crashing.py::test_crashes_in_training  (it crashed its worker when run again)",
        ]
    )
    result.stdout.no_fnmatch_line("*not judged*")


def test_a_verdict_a_crash_kept_from_the_controller_is_named(reference_suite: Suite) -> None:
    """The worker dies in the next test's setup, before the report that would carry it."""
    reference_suite.write(
        """
        import os
        import pytest
        from lp_backend import K

        @pytest.fixture
        def crash():
            os._exit(1)

        def test_depends():
            assert K.learning_phase() == 0

        def test_crashes_in_its_setup(crash):
            pass
        """
    )
    result = reference_suite.run_subprocess(
        "--learning-phase-audit", "-n", "1", "--max-worker-restart", "0"
    )
    result.stdout.fnmatch_lines(
        [
            "*= learning phase audit =*",
            "not judged: test_suite.py::test_depends: worker gw0 went down (*) before it sent "
            "the verdict",
        ]
    )


EACH_WORKER_ITS_OWN = """
import os
import time
from pathlib import Path
from lp_backend import K

WORKER = os.environ["PYTEST_XDIST_WORKER"]
DONE = Path("gw0-done")

def test_a():
    if WORKER == "gw1":
        deadline = time.monotonic() + 60
        while not DONE.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        assert K.learning_phase() == 0

def test_b():
    if WORKER == "gw1":
        assert K.learning_phase() == 0

def test_z():
    if WORKER == "gw0":
        DONE.touch()
"""
"""``test_a`` depends on the phase on gw0 and reads nothing on gw1, whose verdict comes
later (gw0's came with ``test_z``'s setup report, before gw0 let gw1 go on); ``test_b``
the other way round."""


def test_of_two_workers_verdicts_on_one_test_the_one_that_says_more_wins(
    reference_suite: Suite,
) -> None:
    reference_suite.write(EACH_WORKER_ITS_OWN)
    result = reference_suite.run_subprocess(
        "--learning-phase-audit", "-n", "2", "--dist", "each", "-p", "no:randomly"
    )
    result.stdout.fnmatch_lines(
        [
            "2 tests depend on the learning phase:",
            "  test_suite.py::test_a  test: passed   train: failed",
            "*",
            "  test_suite.py::test_b  test: passed   train: failed",
        ]
    )


@pytest.mark.parametrize("option", ["--setup-only", "--setup-plan"])
def test_setup_only_and_plan_say_nothing_ran(reference_suite: Suite, option: str) -> None:
    reference_suite.write(
        """
        from lp_backend import K

        def test_reads():
            K.learning_phase()
        """
    )
    result = reference_suite.run("--learning-phase-audit", option)
    result.stdout.fnmatch_lines([f"{option}: no test ran, so none was audited"])
    result.stdout.no_fnmatch_line("*asked for no phase*")


STOPS_BEFORE_READING = {
    "skip": ("", 'pytest.skip("not here")'),
    "xfail": ("", 'pytest.xfail("not yet")'),
    "xfail-marker": ("@pytest.mark.xfail(strict=True)", "raise NotImplementedError"),
}


@pytest.mark.parametrize("how", list(STOPS_BEFORE_READING))
def test_a_marked_test_that_stops_before_reading_is_not_listed_as_no_effect(
    reference_suite: Suite, how: str
) -> None:
    extra_marker, stop = STOPS_BEFORE_READING[how]
    reference_suite.write(
        "import pytest\n"
        "from lp_backend import K\n\n"
        f"{extra_marker}\n"
        "@pytest.mark.learning_phase(1)\n"
        "def test_marked():\n"
        f"    {stop}\n"
        "    K.learning_phase()\n\n"
        "@pytest.mark.learning_phase(1)\n"
        "def test_marked_and_never_reads():\n"
        "    pass\n"
    )
    result = reference_suite.run("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "the marker had no effect: 1 test asks for a phase and never read it:",
            "  test_suite.py::test_marked_and_never_reads  (*)",
        ]
    )
    result.stdout.no_fnmatch_line("*test_marked  *")


# -- The torch backend: what a read is, and the redundant run. -----------------------


def run_torch(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=textwrap.dedent(source))
    return pytester.runpytest(
        "-W",
        "default",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--learning-phase-backend=torch",
        "--learning-phase-audit",
        *args,
    )


def torch_count_line(tests: str, read: int, never_read: int) -> str:
    """The audit's count line on torch, where the normal run stands for train mode."""
    return (
        f"{tests} asked for no phase: {read} read it and ran again in phase 0 (eval) "
        f"(unset is phase 1 (train): the normal run stands for it), {never_read} never read it"
    )


def test_torch_a_module_whose_mode_is_set_before_it_runs_is_not_a_read(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        def test_sets_the_mode_first():
            model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            model.eval()
            model(torch.ones(1, 2))

        def test_assigns_the_mode_first():
            model = nn.Dropout(0.5)
            model.training = False
            model(torch.ones(2))

        def test_only_builds():
            nn.Dropout(0.5)

        def test_runs_in_the_default_mode():
            nn.Dropout(0.5)(torch.ones(2))
        """,
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([torch_count_line("4 tests", 1, 3)])


def test_torch_a_wider_fixtures_modules_are_not_a_read_of_the_first_requester(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import pytest
        import torch
        from torch import nn

        @pytest.fixture(scope="module")
        def shared():
            model = nn.Dropout(0.5)
            model(torch.ones(2))  # a warm-up forward, in the fixture's own setup
            return model

        def test_first(shared):
            shared(torch.ones(2))

        def test_second(shared):
            shared(torch.ones(2))
        """,
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([torch_count_line("2 tests", 0, 2)])


def test_torch_runs_again_only_in_eval_mode(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    pytester.makeconftest(
        """
        RUNS = []

        def pytest_runtest_setup(item):
            with open("runs.log", "a", encoding="utf-8") as log:
                log.write(f"{item.name}\\n")
        """
    )
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        def test_runs_a_dropout():
            nn.Dropout(0.5)(torch.ones(2))
        """,
    )
    result.assert_outcomes(passed=1)
    runs = (pytester.path / "runs.log").read_text(encoding="utf-8").splitlines()
    assert runs == ["test_runs_a_dropout", "test_runs_a_dropout"]


def test_torch_a_test_with_side_effects_is_not_reported(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    """The normal run stands for train mode; a second run fails whatever its mode (a counter).

    One more run in train mode tells the phase from what the first run left behind, as the
    extra unset run does on the reference backend; a test that does depend is still found.
    """
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        CALLS = []

        def test_counts_its_calls():
            nn.Dropout(0.5)(torch.ones(3))
            CALLS.append(1)
            assert len(CALLS) == 1

        def test_depends_on_the_mode():
            x = torch.ones(64)
            assert torch.equal(nn.Dropout(0.5)(x), x)
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test depends on the learning phase:",
            "  test_suite.py::test_depends_on_the_mode  *eval: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*test_counts_its_calls  *")


def test_reference_has_no_unset_shortcut(reference_suite: Suite) -> None:
    """Unset reads 0 on the reference backend, but it is not phase 0: three runs."""
    reference_suite.pytester.makeconftest(
        """
        def pytest_runtest_setup(item):
            with open("runs.log", "a", encoding="utf-8") as log:
                log.write(f"{item.name}\\n")
        """
    )
    reference_suite.write(
        """
        from lp_backend import K

        def test_reads():
            K.learning_phase()
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ran again in phases 0 (test) and 1 (train)*"])
    runs = (reference_suite.pytester.path / "runs.log").read_text(encoding="utf-8").splitlines()
    assert len(runs) == 3


RUNS_LOG_CONFTEST = """
def pytest_runtest_setup(item):
    with open("runs.log", "a", encoding="utf-8") as log:
        log.write(f"{item.name}\\n")
"""


@pytest.mark.parametrize("phase", ["0", "1"])
def test_the_count_line_names_the_phase_run_again_under_a_default_phase(
    preloaded_torch: None, pytester: pytest.Pytester, phase: str
) -> None:
    """Under ``--learning-phase=P`` the normal run stands for P: one re-run, in the other."""
    pytester.makeconftest(RUNS_LOG_CONFTEST)
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        def test_runs_a_dropout():
            nn.Dropout(0.5)(torch.ones(2))
        """,
        f"--learning-phase={phase}",
    )
    result.assert_outcomes(passed=1)
    runs = (pytester.path / "runs.log").read_text(encoding="utf-8").splitlines()
    assert runs == ["test_runs_a_dropout", "test_runs_a_dropout"]
    given, other = ("0 (eval)", "1 (train)") if phase == "0" else ("1 (train)", "0 (eval)")
    result.stdout.fnmatch_lines(
        [
            f"1 test asked for no phase: 1 read it and ran again in phase {other} "
            f"(--learning-phase is {given}: the normal run stands for it), 0 never read it"
        ]
    )


@pytest.mark.parametrize("where", ["option", "ini"])
def test_the_reference_count_line_names_one_re_run_under_a_default_phase(
    reference_suite: Suite, where: str
) -> None:
    """The count line names where the default phase came from, as the header does."""
    reference_suite.pytester.makeconftest(RUNS_LOG_CONFTEST)
    options = ["--learning-phase=1"] if where == "option" else []
    if where == "ini":
        reference_suite.pytester.makeini("[pytest]\nlearning_phase = 1\n")
    source = "--learning-phase" if where == "option" else "ini learning_phase"
    reference_suite.write(
        """
        from lp_backend import K

        def test_reads():
            K.learning_phase()
        """
    )
    result = reference_suite.run("--learning-phase-audit", *options)
    runs = (reference_suite.pytester.path / "runs.log").read_text(encoding="utf-8").splitlines()
    assert runs == ["test_reads", "test_reads"]
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *default phase: 1 (train) (*learning?phase*1), audit: on",
            "1 test asked for no phase: 1 read it and ran again in phase 0 (test) "
            f"({source} is 1 (train): the normal run stands for it), 0 never read it",
        ]
    )


def test_a_re_run_interrupted_is_counted_as_could_not_run_again(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    """As with ``pytest.exit()``: the test read the phase and could not run again.

    In a subprocess: pytester's in-process run passes the interrupt on to this session.
    """
    pytester.makepyfile(
        test_suite="""
        import torch
        from torch import nn

        def test_interrupted_in_eval_mode():
            m = nn.Dropout(0.5)
            m(torch.ones(3))
            if not m.training:
                raise KeyboardInterrupt
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--learning-phase-backend=torch",
        "--learning-phase-audit",
    )
    result.stdout.fnmatch_lines(
        [
            torch_count_line("1 test", 0, 0) + ", 1 read it and could not run again",
            "could not audit 1 test that read the phase:",
            "  test_suite.py::test_interrupted_in_eval_mode  "
            "(interrupted while run again in phase 0 (eval))",
        ]
    )
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])


def test_a_module_built_again_and_again_is_one_line_with_its_count(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    """A model rebuilt in a loop fills neither the section nor the finding with copies."""
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        def test_rebuilds_its_model():
            for _ in range(6):
                m = nn.Dropout(0.9)
                x = torch.ones(100)
                assert torch.equal(m(x), x)
            nn.ReLU()(x)
        """,
    )
    result.stdout.fnmatch_lines(
        [
            "ran under phase unset (unset = PyTorch's default, train mode) from default*",
            "  m (Dropout) ran in train mode: built while the phase was unset",
            "*learning phase audit*",
            "    its own run (phase unset): failed: assert False",
            "      m (Dropout) ran in train mode: built while the phase was unset",
            "    run again in phase 0 (eval): passed",
            "      m (Dropout) ran in eval mode: built while the phase was 0 (eval) (6 alike)",
            "      reproduce: *",
        ]
    )
    assert result.stdout.str().count("m (Dropout) ran in") == 3


# -- tf-keras's own suites: the shapes of the tests the audit once missed. -----------


def test_tf_keras_a_test_case_whose_subtest_depends_on_a_dropout_default_is_reported(
    preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    """As tf-keras's ``test_dropout_with_saving``: a ``tf.test.TestCase`` with ``subTest``."""
    pytester.makepyfile(
        test_suite="""
        import numpy as np
        import tensorflow as tf
        import tf_keras as keras

        class DropoutTest(tf.test.TestCase):
            def test_dropout_with_saving(self):
                model = keras.Sequential([keras.layers.Dropout(0.5)])
                predict = model(np.ones((20, 10)))
                with self.subTest("again"):
                    self.assertAllClose(predict, model(np.ones((20, 10))))
        """
    )
    result = pytester.runpytest(
        "-W",
        "default",
        "-p",
        "no:cacheprovider",
        "--learning-phase-backend=tf_keras",
        "--learning-phase-audit",
    )
    result.stdout.fnmatch_lines(
        [
            "1 test depends on the learning phase:",
            "  test_suite.py::DropoutTest::test_dropout_with_saving  test: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*could not audit*")


def test_tf_keras_a_test_of_a_layers_training_default_differs_when_unset(
    preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    """As tf-keras's ``test_custom_layer_training_arg``: unset passes, both phases fail."""
    pytester.makepyfile(
        test_suite="""
        import numpy as np
        import tensorflow as tf
        import tf_keras as keras

        class Seen(keras.layers.Layer):
            def call(self, inputs, training=None):
                self.seen = training
                return inputs

        class LayerTest(tf.test.TestCase):
            def test_training_default(self):
                layer = Seen()
                layer(np.ones((2, 2)))
                self.assertIsNone(layer.seen)
        """
    )
    result = pytester.runpytest(
        "-W",
        "default",
        "-p",
        "no:cacheprovider",
        "--learning-phase-backend=tf_keras",
        "--learning-phase-audit",
    )
    result.stdout.fnmatch_lines(
        [
            "1 test differs between the phase unset and both phases:",
            "  test_suite.py::LayerTest::test_training_default  "
            "unset: passed   test: failed   train: failed",
            "*",
            f"hint: {UNSET_HINT}",
        ]
    )
