"""What the audit counts as a read: names bound directly, copies of modules, explicit modes.

The audit runs a test again only if it read the phase; a read it misses turns
a phase-dependent test into "never read it" (a silently wrong verdict).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from pytest_learning_phase._provenance import Ran
from pytest_learning_phase._report import AuditRun
from tests._suite import Suite


def run_audited(
    pytester: pytest.Pytester, backend: str | None, source: str, *, subprocess: bool = False
) -> pytest.RunResult:
    """Run ``source`` as ``test_suite.py`` under the audit on ``backend`` (None: found by auto)."""
    pytester.makepyfile(test_suite=textwrap.dedent(source))
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    chosen = () if backend is None else (f"--learning-phase-backend={backend}",)
    return run("-W", "default", "-p", "no:cacheprovider", *chosen, "--learning-phase-audit")


# -- tf_keras: a reader bound by name before the audit started. -----------------------
# In a fresh process (in-process, an earlier session's wrappers are bound already), with
# the backend found by auto: the adapter, and its wrappers, come after the test modules.


def test_tf_keras_a_reader_imported_by_name_in_the_test_module_is_a_read(
    preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    result = run_audited(
        pytester,
        None,
        """
        from tf_keras.backend import learning_phase

        def test_inference_only():
            assert learning_phase() == 0
        """,
        subprocess=True,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again *, 0 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_inference_only  test: passed   train: failed",
        ]
    )


def test_tf_keras_a_reader_imported_by_name_in_a_helper_module_is_a_read(
    preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        helper="""
        from tf_keras.src.backend import global_learning_phase_is_set as phase_is_set

        def check_fresh():
            assert not phase_is_set()
        """
    )
    result = run_audited(
        pytester,
        None,
        """
        import tf_keras  # the backend auto finds
        from helper import check_fresh

        def test_fresh():
            check_fresh()
        """,
        subprocess=True,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 test asked for no phase: 1 read it and ran again *, 0 never read it",
            "1 test differs between the phase unset and both phases:",
            "  test_suite.py::test_fresh  unset: passed   test: failed   train: failed",
        ]
    )


# -- torch: copies of a module whose mode came from the phase; explicit assignments. ---

TORCH_COPIES = """
import copy
import io
import pickle

import torch
from torch import nn

x = torch.ones(2, 8)

def built():
    return nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))

def test_deepcopy():
    frozen = copy.deepcopy(built())
    assert torch.equal(frozen(x), frozen(x))

def test_pickle_round_trip():
    copied = pickle.loads(pickle.dumps(built()))
    assert torch.equal(copied(x), copied(x))

def test_torch_load_of_a_whole_module():
    buffer = io.BytesIO()
    torch.save(built(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.equal(loaded(x), loaded(x))

def test_compiled():
    compiled = torch.compile(built(), backend="eager")
    assert torch.equal(compiled(x), compiled(x))

def test_copy_of_an_explicit_mode():
    model = built().train()
    frozen = copy.deepcopy(model)
    frozen(x)
"""


def test_torch_a_copy_of_a_module_whose_mode_came_from_the_phase_reads_it(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = ignore:Using `torch.compile\n")
    # In a fresh process: torch.compile imports modules that cannot be imported twice.
    result = run_audited(pytester, "torch", TORCH_COPIES, subprocess=True)
    result.assert_outcomes(failed=4, passed=1)
    result.stdout.fnmatch_lines(
        [
            "5 tests asked for no phase: 4 read it and ran again in phase 0 (eval) *, "
            "1 never read it",
            "4 tests depend on the learning phase:",
            "  test_suite.py::test_compiled  *eval: passed   train: failed",
            "      compiled._orig_mod.1 (Dropout) ran in eval mode: "
            "built while the phase was 0 (eval)",
            "  test_suite.py::test_deepcopy  *eval: passed   train: failed",
            "      frozen.1 (Dropout) ran in eval mode: built while the phase was 0 (eval)",
            "  test_suite.py::test_pickle_round_trip  *eval: passed   train: failed",
            "      copied.1 (Dropout) ran in eval mode: built while the phase was 0 (eval)",
            "  test_suite.py::test_torch_load_of_a_whole_module  *eval: passed   train: failed",
            "      loaded.1 (Dropout) ran in eval mode: built while the phase was 0 (eval)",
        ]
    )
    result.stdout.no_fnmatch_line("*test_copy_of_an_explicit_mode  *")


def test_torch_a_module_pickled_under_the_audit_loads_without_the_plugins_key(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_save="""
        import pickle

        import pytest
        from torch import nn

        def test_save():
            with open("model.pickle", "wb") as file:
                pickle.dump(nn.Dropout(0.5), file)

        @pytest.fixture(scope="module")
        def loaded():  # set up while the audit does not track reads
            with open("model.pickle", "rb") as file:
                return pickle.load(file)

        def test_load(loaded):
            assert sorted(vars(loaded)) == sorted(vars(nn.Dropout(0.5)))
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--learning-phase-backend=torch", "--learning-phase-audit"
    )
    result.assert_outcomes(passed=2)


def test_torch_an_assignment_to_training_is_explicit_even_keeping_the_value(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_audited(
        pytester,
        "torch",
        """
        import torch
        from torch import nn

        x = torch.ones(2, 4)

        def test_assignment_that_keeps_the_value():
            always_train = nn.Dropout(0.5)
            always_train.training = True
            always_train(x)

        def test_report_names_the_source():
            torch.manual_seed(0)
            always_train = nn.Dropout(0.5)
            always_train.training = True
            assert (always_train(x) == 1).all()
        """,
    )
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "  always_train (Dropout) ran in train mode: set by an assignment to .training",
            "2 tests asked for no phase: 0 read it and ran again in phase 0 (eval) *, "
            "2 never read it",
        ]
    )


def test_torch_modules_say_eval_mode_beside_another_backend(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_audited(
        pytester,
        "reference,torch",
        """
        import torch
        from torch import nn
        import pytest_learning_phase.backend as K

        def test_mixed():
            m = nn.Dropout(0.5)
            m(torch.ones(2, 4))
            assert m.training and K.learning_phase() == 0
        """,
    )
    result.stdout.fnmatch_lines(
        [
            "  test_suite.py::test_mixed  unset: passed   test: failed   train: failed",
            "      m (Dropout) ran in train mode: built while the phase was unset",
            "    run again in phase 0 (test): failed: *",
            "      m (Dropout) ran in eval mode: built while the phase was 0 (eval)",
        ]
    )


def test_a_runs_entries_keep_their_backends_words_on_the_way_from_an_xdist_worker() -> None:
    entry = Ran("m", "Dropout", False, "built while the phase was 0 (eval)", 2, ("eval", "train"))
    run = AuditRun(0, False, "failed", "assert False", (entry, Ran("d", "Dropout", True, "")))
    assert AuditRun.from_serializable(json.loads(json.dumps(run.to_serializable()))) == run


# -- The counts: a stop in the extra run, unset, after both re-runs ran. ---------------

STOPPED_IN_THE_EXTRA_RUN = """
import pytest
from lp_backend import K

RUNS = {"exit": 0, "interrupt": 0}

def test_exit_in_the_extra_run():
    RUNS["exit"] += 1
    if RUNS["exit"] == 4:
        pytest.exit("exit in the 4th run")
    assert not K.global_learning_phase_is_set()

def test_interrupted_in_the_extra_run():
    RUNS["interrupt"] += 1
    if RUNS["interrupt"] == 4:
        raise KeyboardInterrupt
    assert not K.global_learning_phase_is_set()
"""


def test_a_stop_in_the_extra_unset_run_is_not_counted_as_could_not_run_again(
    reference_suite: Suite,
) -> None:
    reference_suite.write(STOPPED_IN_THE_EXTRA_RUN)
    # In a fresh process: an interrupt ends the session, and would end this one too.
    result = reference_suite.run_subprocess("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 0 read it and ran again in phases 0 (test) and 1 "
            "(train), 0 never read it, 2 read it and ran again but could not be judged",
            "could not audit 2 tests that read the phase:",
            "  test_suite.py::test_exit_in_the_extra_run  *(its extra run, unset, after both "
            "re-runs, called pytest.exit(): exit in the 4th run)",
            "  test_suite.py::test_interrupted_in_the_extra_run  *(interrupted while run again "
            "in phase unset)",
        ]
    )
    result.stdout.no_fnmatch_line("*could not run again*")


# -- --setup-show: the re-runs print nothing. -------------------------------------------


def test_setup_show_prints_only_the_first_runs_setup_and_teardown(
    reference_suite: Suite,
) -> None:
    reference_suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.fixture(scope="module")
        def shared():
            return 1

        @pytest.fixture
        def data():
            return [1, 2]

        def test_reads(shared, data):  # the last of its module: re-runs set "shared" up again
            K.learning_phase()
        """
    )
    result = reference_suite.run("--learning-phase-audit", "--setup-show")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 read it and ran again*"])
    shown = [
        line.split() for line in result.outlines if line.strip().startswith(("SETUP", "TEARDOWN"))
    ]
    assert shown == [
        ["SETUP", "M", "shared"],
        ["SETUP", "F", "data"],
        ["TEARDOWN", "F", "data"],
        ["TEARDOWN", "M", "shared"],
    ]


def test_torch_a_compiled_module_under_every_warning_an_error_passes_as_without_the_audit(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    # The recording's global hooks make torch warn when a compiled module runs; that warning
    # is the audit's doing, not the test's. (Tracing the audit's Module.__call__ wrapper makes
    # dynamo touch a non-leaf .grad; that one internal warning is left out here, and in the
    # audit's limits.)
    pytester.makeini(
        "[pytest]\nfilterwarnings =\n    error\n"
        "    ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning\n"
    )
    pytester.makepyfile(
        test_suite="""
        import torch
        from torch import nn

        def test_compiled_in_eval_mode():
            model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5)).eval()
            compiled = torch.compile(model, backend="eager")
            x = torch.ones(2, 8)
            assert torch.equal(compiled(x), compiled(x))
        """
    )
    for audit in ((), ("--learning-phase-audit",)):
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--learning-phase-backend=torch", *audit
        )
        result.assert_outcomes(passed=1)
