"""``auto``, the default backend: the frameworks a suite imports are driven, with no setting.

Each run is a fresh interpreter (``runpytest_subprocess``): what ``auto`` sees
is ``sys.modules``, and this process has imported every framework already.
"""

from __future__ import annotations

import re

import pytest

from pytest_learning_phase import _auto
from pytest_learning_phase.adapters.torch import TorchAdapter
from tests._frameworks import TF_INSTALL_HINT, TORCH_INSTALL_HINT, require_installed

TIMEOUT = 180
"""Seconds a subprocess session may take: TensorFlow alone takes several to import."""

TORCH_SUITE = """
import pytest
import torch

@pytest.mark.learning_phase(0)
def test_marked_eval():
    assert not torch.nn.Dropout().training

@pytest.mark.learning_phase(1)
def test_marked_train():
    assert torch.nn.Dropout().training

def test_helpers_drive_torch():
    from pytest_learning_phase import run_in_phases

    assert run_in_phases(lambda: torch.nn.Dropout().training) == {0: False, 1: True}
"""

TORCH_LEAK = """
import pytest
import torch

@pytest.fixture(scope="module")
def model():
    return torch.nn.Sequential(torch.nn.Dropout())

def test_leaks(model):
    model.eval()

def test_after(model):
    assert model.training
"""

TF_KERAS_SUITE = """
import warnings

import pytest
from tf_keras.src import backend as K

@pytest.mark.learning_phase(1)
def test_marked_train():
    assert K.learning_phase() == 1

@pytest.mark.learning_phase(0)
def test_marked_test():
    assert K.learning_phase() == 0

def test_leaks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)

def test_after_the_leak():
    assert not K.global_learning_phase_is_set()
"""

NEITHER_SUITE = """
import sys

import pytest
from pytest_learning_phase import backend as K

@pytest.mark.learning_phase(1)
def test_marked():
    assert K.learning_phase() == 1

def test_no_framework_was_imported():
    assert [name for name in ("tensorflow", "tf_keras", "torch") if name in sys.modules] == []
"""

MODULES_AT_THE_END = """
import sys

def pytest_unconfigure(config):
    imported = [name for name in ("tensorflow", "tf_keras", "torch") if name in sys.modules]
    with open("imported.txt", "w", encoding="utf-8") as out:
        out.write(",".join(imported))
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest on the files written so far, in a fresh interpreter, as a user would."""
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "default", *args, timeout=TIMEOUT
    )


@pytest.fixture
def torch_installed() -> None:
    require_installed("torch", TORCH_INSTALL_HINT)


@pytest.fixture
def tf_keras_installed() -> None:
    require_installed("tf_keras", TF_INSTALL_HINT)


@pytest.mark.usefixtures("torch_installed")
def test_a_torch_suite_with_no_setting_has_its_markers_applied(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=TORCH_SUITE, test_leak=TORCH_LEAK)
    result = run(pytester)
    result.assert_outcomes(passed=5, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backends: reference, torch (imported by the tests; "
            "unset = PyTorch's default, train mode), default phase: unset (default), audit: off",
            "*LearningPhaseLeakWarning: test_leak.py::test_leaks changed the train/eval mode of "
            "modules held by fixture model*",
        ]
    )


@pytest.mark.usefixtures("tf_keras_installed")
def test_a_tf_keras_suite_with_no_setting_has_its_markers_applied(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_suite=TF_KERAS_SUITE)
    result = run(pytester)
    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backends: reference, tf_keras (imported by the tests), *",
            "*LearningPhaseLeakWarning: test_suite.py::test_leaks changed the learning phase of "
            "backend tf_keras: it ran under phase unset and left phase 1 (train)*",
        ]
    )


def test_a_suite_importing_no_framework_drives_the_reference_backend_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(MODULES_AT_THE_END)
    pytester.makepyfile(test_suite=NEITHER_SUITE)
    result = run(pytester)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (no tf_keras or torch imported by the tests), "
            "default phase: unset (default), audit: off"
        ]
    )
    assert (pytester.path / "imported.txt").read_text(encoding="utf-8") == ""


@pytest.mark.usefixtures("torch_installed")
def test_a_framework_imported_while_the_tests_run_gets_one_warning_at_the_end(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_late="""
        import pytest

        @pytest.mark.learning_phase(0)
        def test_imports_torch():
            import torch

        @pytest.mark.learning_phase(0)
        def test_uses_torch():
            import torch

            assert torch.nn.Dropout().training  # not driven: PyTorch's default
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (no tf_keras or torch imported by the tests), *",
            "*LearningPhaseBackendWarning: torch was first imported while the tests ran, after the "
            "learning phase backends were chosen (auto: reference), so its phase was not set, "
            "isolated or checked for leaks; import it in a conftest.py or at the top of a test "
            "module, or set learning_phase_backend = reference,torch "
            "(or --learning-phase-backend=reference,torch)",
        ]
    )
    assert result.stdout.str().count("LearningPhaseBackendWarning") == 1
    # no ini file: the location names the setting, in angle brackets, not a file path
    result.stdout.fnmatch_lines(
        ["  <learning_phase_backend = auto>:1: LearningPhaseBackendWarning: torch was first *"]
    )


def test_the_late_import_warning_of_two_frameworks_speaks_of_them() -> None:
    message = _auto.late_import_warning(("tf_keras", "torch"), ("reference",))
    assert message == (
        "tf_keras and torch were first imported while the tests ran, after the learning phase "
        "backends were chosen (auto: reference), so their phases were not set, isolated or "
        "checked for leaks; import them in a conftest.py or at the top of a test module, or set "
        "learning_phase_backend = reference,tf_keras,torch "
        "(or --learning-phase-backend=reference,tf_keras,torch)"
    )


@pytest.mark.usefixtures("torch_installed")
def test_xdist_workers_that_chose_differently_are_each_named_in_the_end_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import os

        if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
            import torch
        """
    )
    pytester.makepyfile(
        test_x="import pytest\n\n@pytest.mark.parametrize('i', range(4))\n"
        "def test_x(i):\n    pass\n"
    )
    result = run(pytester, "-n", "2")
    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: the xdist workers drove different backends: gw0: reference; "
            "gw1: reference, torch"
        ]
    )
    result.stdout.no_fnmatch_line("learning-phase: the xdist workers drove reference, torch*")


@pytest.mark.usefixtures("torch_installed")
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_the_late_import_warning_as_an_error_fails_the_session_in_one_line(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_late="def test_imports_torch():\n    import torch\n")
    result = run(
        pytester, "-W", "error::pytest_learning_phase.LearningPhaseBackendWarning", *workers
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["ERROR LearningPhaseBackendWarning: torch was first imported while the tests ran, *"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str()


LATE_IN_A_SESSION_FIXTURE = """
import pytest

@pytest.fixture(scope="session", autouse=True)
def late():
    import torch
"""


@pytest.mark.usefixtures("torch_installed")
def test_the_late_import_warning_under_an_ini_error_filter_ends_in_one_line_and_the_summary(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(LATE_IN_A_SESSION_FIXTURE)
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "ERROR LearningPhaseBackendWarning: torch was first imported while the tests ran, *",
            "*= 1 passed in *",
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.usefixtures("torch_installed")
def test_the_backend_warning_class_works_in_an_ini_filter(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LATE_IN_A_SESSION_FIXTURE)
    pytester.makeini(
        "[pytest]\nfilterwarnings =\n"
        "    ignore::pytest_learning_phase.LearningPhaseBackendWarning\n"
    )
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=TIMEOUT)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, warnings=0)


@pytest.mark.usefixtures("torch_installed")
def test_a_framework_a_conftest_imports_is_driven(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import torch")
    pytester.makepyfile(
        test_suite="""
        import pytest

        @pytest.mark.learning_phase(0)
        def test_marked_eval():
            import torch

            assert not torch.nn.Dropout().training
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["learning-phase: *, backends: reference, torch (imported *"])


@pytest.mark.usefixtures("torch_installed")
@pytest.mark.parametrize("where", ["option", "ini"])
def test_an_explicit_backend_wins_over_the_imports(pytester: pytest.Pytester, where: str) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest
        import torch

        @pytest.mark.learning_phase(0)
        def test_torch_is_not_driven():
            assert torch.nn.Dropout().training
        """
    )
    args = ["--learning-phase-backend=reference"] if where == "option" else []
    if where == "ini":
        pytester.makeini("[pytest]\nlearning_phase_backend = reference\n")
    result = run(pytester, *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["learning-phase: *, backend: reference (*learning?phase?backend)*"]
    )
    result.stdout.no_fnmatch_line("*LearningPhaseBackendWarning*")


BASELINES_CONFTEST = """
import warnings

import pytest
{graph}from tf_keras.src import backend as K


@pytest.fixture(scope="session", autouse=True)
def inference_by_default():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(0)
"""

BASELINES_SUITE = """
import warnings

import pytest
from tf_keras.src import backend as K


def test_session_baseline(learning_phase):
    assert (K.learning_phase(), learning_phase) == (0, 0)


@pytest.mark.learning_phase(1)
def test_marked_in_the_baseline(learning_phase):
    assert (K.learning_phase(), learning_phase) == (1, 1)


class TestClassBaseline:
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def train_for_class(cls):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            K.set_learning_phase(1)

    def test_class_baseline(self, learning_phase):
        assert (K.learning_phase(), learning_phase) == (1, 1)
"""


@pytest.mark.usefixtures("tf_keras_installed")
@pytest.mark.parametrize(
    ("setting", "graph"),
    [("auto", False), ("auto", True), ("tf_keras", False), ("reference,tf_keras", False)],
    ids=["auto", "auto-graph", "tf_keras", "reference-first"],
)
def test_the_learning_phase_fixture_gives_the_baseline_a_tf_keras_fixture_set(
    pytester: pytest.Pytester, setting: str, graph: bool
) -> None:
    disable = "import tensorflow as tf\ntf.compat.v1.disable_eager_execution()\n"
    pytester.makeconftest(BASELINES_CONFTEST.format(graph=disable if graph else ""))
    pytester.makepyfile(test_suite=BASELINES_SUITE)
    result = run(pytester, f"--learning-phase-backend={setting}")
    result.assert_outcomes(passed=3)


BUILT_WHILE_COLLECTING = """
import pytest
import torch

MODEL = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Dropout())


@pytest.mark.parametrize("dropout", [torch.nn.Dropout(0.1)])
def test_a_parametrize_argument_starts_in_the_default_phase(dropout):
    assert not dropout.training


def test_a_module_level_model_starts_in_the_default_phase():
    assert [module.training for module in MODEL.modules()] == [False, False, False]
"""


@pytest.mark.usefixtures("torch_installed")
@pytest.mark.parametrize(
    "args",
    [(), ("-n", "2"), ("--learning-phase-backend=torch",)],
    ids=["auto", "auto under xdist", "named"],
)
def test_modules_a_test_module_builds_at_import_start_in_the_default_phase(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    """The test module itself is the first to import torch: no conftest, no plugin does."""
    pytester.makepyfile(test_built=BUILT_WHILE_COLLECTING)
    result = run(pytester, "--learning-phase=0", *args)
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*LearningPhaseBackendWarning*")


STAND_INS = {
    "None": ('sys.modules["torch"] = None', "torch", "None, not a module"),
    "MagicMock": (
        'from unittest import mock\nsys.modules["torch"] = mock.MagicMock()',
        "torch",
        "a MagicMock, not a module",
    ),
    "empty module": (
        'import types\nsys.modules["tf_keras"] = types.ModuleType("tf_keras")',
        "tf_keras",
        "a module without tf_keras.src.backend.learning_phase",
    ),
}
"""What a conftest puts in ``sys.modules`` to hide or fake a framework, and what the header says."""


@pytest.mark.parametrize("stand_in", list(STAND_INS))
def test_a_stand_in_in_sys_modules_is_not_driven_and_the_header_says_why(
    pytester: pytest.Pytester, stand_in: str
) -> None:
    code, name, why = STAND_INS[stand_in]
    pytester.makeconftest(f"import sys\n{code}\n")
    pytester.makepyfile(
        test_suite="""
        import pytest

        @pytest.mark.learning_phase(1)
        def test_marked():
            pass

        def test_unmarked():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (no tf_keras or torch imported by the tests; "
            f"{name} not driven: sys.modules[[]'{name}'[]] is {why}), default phase: *"
        ]
    )
    result.stdout.no_fnmatch_line("*LearningPhaseBackendWarning*")


@pytest.mark.usefixtures("torch_installed")
def test_auto_named_explicitly_is_auto(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=TORCH_SUITE)
    result = run(pytester, "--learning-phase-backend=auto")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backends: reference, torch (imported by the tests; "
            "--learning-phase-backend = auto; unset = *"
        ]
    )


def test_auto_with_other_names_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--learning-phase-backend=auto,torch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=auto,torch: auto stands alone; name the backends "
            "instead, e.g. reference,torch"
        ]
    )


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Each test's outcome, from ``-rA``'s short summary."""
    found = re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", result.stdout.str(), re.MULTILINE)
    return {nodeid: outcome for outcome, nodeid in found}


@pytest.mark.usefixtures("torch_installed")
def test_xdist_workers_choose_what_one_process_chooses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=TORCH_SUITE, test_leak=TORCH_LEAK)
    pytester.makepyfile(
        test_late="""
        def test_imports_tf_keras_late():
            import sys, types  # a stand-in with what auto checks: cheaper than TensorFlow
            backend = types.SimpleNamespace(learning_phase=lambda: 0)
            sys.modules.setdefault("tf_keras.src.backend", backend)
            sys.modules.setdefault("tf_keras", types.ModuleType("tf_keras"))
        """
    )
    alone = run(pytester, "-rA")
    # loadfile: a module fixture's held model stays on one worker, as in one process
    spread = run(pytester, "-rA", "-n", "2", "--dist", "loadfile")
    assert _outcomes(spread) == _outcomes(alone)
    assert len(_outcomes(alone)) == 6
    spread.assert_outcomes(passed=6, warnings=2)
    spread.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: auto (each xdist worker chooses when its collection "
            "ends), default phase: unset (default), audit: off",
        ]
    )
    spread.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_leak.py::test_leaks changed the train/eval mode*",
            "*LearningPhaseBackendWarning: tf_keras was first imported while the tests ran, after "
            "the learning phase backends were chosen (auto: reference, torch)*",
        ]
    )
    spread.stdout.fnmatch_lines(
        ["learning-phase: the xdist workers drove reference, torch (imported by the tests)"]
    )
    assert spread.stdout.str().count("LearningPhaseBackendWarning") == 1


TORCH_AUDITED = """
import torch

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(x)

def ran(name):
    with open(f"{name}.runs", "a", encoding="utf-8") as log:
        log.write("run\\n")

def test_predict():
    ran("predict")
    m = Model()
    assert torch.equal(m(torch.ones(100)), torch.ones(100))
"""

BOTH_AUDITED = """
from pytest_learning_phase import backend as K

def test_reads_both():
    ran("both")
    K.learning_phase()
    Model()(torch.ones(3))

def test_reads_torch_only():
    ran("torch_only")
    Model()(torch.ones(3))
"""


def _audit_section(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "learning phase audit" in line)
    end = next(i for i, line in enumerate(lines) if "short test summary" in line)
    return lines[start:end]


@pytest.mark.usefixtures("torch_installed")
def test_a_torch_suite_under_auto_is_audited_as_under_the_torch_backend(
    pytester: pytest.Pytester,
) -> None:
    # auto also drives the reference backend, which a torch suite never reads: the
    # audit speaks torch (eval/train, its hint), and unset stands for train mode.
    pytester.makepyfile(test_suite=TORCH_AUDITED)
    result = run(pytester, "--learning-phase-audit")
    result.assert_outcomes(failed=1)
    # unset, eval, and train once more: the eval run's outcome differed from the first run's
    assert (pytester.path / "predict.runs").read_text().count("run") == 3
    section = _audit_section(result)
    assert section[1:5] == [
        "1 test asked for no phase: 1 read it and ran again in phase 0 (eval) (unset is "
        "phase 1 (train): the normal run stands for it), 0 never read it",
        "1 test depends on the learning phase:",
        "  test_suite.py::test_predict  eval: passed   train: failed",
        "    its own run (phase unset): failed: assert False",
    ]
    hints = [line for line in section if line.startswith("hint: ")]
    assert hints == [f"hint: {TorchAdapter.audit_hint}"]
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase unset (unset = PyTorch's default, train mode) from default "
            "(backend torch)",
            "  m.drop (Dropout) ran in train mode: built while the phase was unset",
        ]
    )
    (pytester.path / "predict.runs").unlink()
    explicit = run(pytester, "--learning-phase-audit", "--learning-phase-backend=torch")
    assert (pytester.path / "predict.runs").read_text().count("run") == 3
    option = "--learning-phase-backend=torch "
    assert [line.replace(option, "") for line in _audit_section(explicit)] == section


@pytest.mark.usefixtures("torch_installed")
def test_a_test_reading_reference_and_torch_under_auto_runs_again_in_both_phases(
    pytester: pytest.Pytester,
) -> None:
    # Reference's unset is no phase: a test that read it too gets both re-runs,
    # while a torch-only test beside it gets one (test_predict, whose eval run's outcome
    # differs from its first run's, one more in train mode).
    pytester.makepyfile(test_suite=TORCH_AUDITED + BOTH_AUDITED)
    result = run(pytester, "--learning-phase-audit")
    result.assert_outcomes(failed=1, passed=2)
    assert (pytester.path / "both.runs").read_text().count("run") == 3
    assert (pytester.path / "torch_only.runs").read_text().count("run") == 2
    assert (pytester.path / "predict.runs").read_text().count("run") == 3
    assert _audit_section(result)[1] == (
        "3 tests asked for no phase: 3 read it and ran again as the backends each read need: "
        "2 in phase 0 (eval) (unset is phase 1 (train): the normal run stands for it), "
        "1 in phases 0 (test) and 1 (train), 0 never read it"
    )
