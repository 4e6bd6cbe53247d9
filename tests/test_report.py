"""The reports explain: what ran in which mode, and where that mode came from.

Real pytest sessions on each backend: the "learning phase" section of a
failure (a plain run describes what the failing code holds; a run under the
audit, what ran), and the audit's findings.
"""

from __future__ import annotations

import shlex

import pytest

from tests._suite import Suite
from tests.test_plugin_torch import run as run_torch

LAYERS = {
    "reference": "from pytest_learning_phase import layers",
    "tf_keras": "from tf_keras import layers",
}
UNSET_KERAS = (
    "ran under phase unset (unset = learning_phase() reads 0, and a layer called without "
    "training uses its default) from default (backend {backend})"
)
UNSET_TORCH = (
    "ran under phase unset (unset = PyTorch's default, train mode) from default (backend torch)"
)
PREDICT_WITHOUT_EVAL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.lin(x))

def predict(model, x):
    return model(x)  # forgot model.eval()

def test_predict_is_deterministic():
    torch.manual_seed(0)
    model = Net()
    x = torch.ones(8, 4)
    assert torch.equal(predict(model, x), predict(model, x))
"""


# -- The failure section of a plain run. -------------------------------------------


def test_failing_unset_reader_gets_the_section_with_the_layers_it_holds(suite: Suite) -> None:
    suite.write(
        f"""
        {LAYERS[suite.backend]}
        import numpy as np

        def test_dropout_is_the_identity():
            drop = layers.Dropout(0.5, seed=1)
            x = np.ones((4, 8), dtype="float32")
            assert np.array_equal(drop(x, training=True), x)
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            UNSET_KERAS.format(backend=suite.backend),
            "  dropout* (Dropout): its mode is resolved at each call",
        ]
    )


def test_failing_test_that_holds_and_touches_nothing_gets_no_section(
    reference_suite: Suite,
) -> None:
    reference_suite.write("def test_fails():\n    numbers = [1, 2]\n    assert numbers == []\n")
    result = reference_suite.run()
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*- learning phase -*")


def test_torch_predict_forgetting_eval_says_unset_is_train_mode_and_names_the_dropout(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(pytester, PREDICT_WITHOUT_EVAL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- learning phase -*", UNSET_TORCH, "  model.drop (Dropout) is in train mode", "*FAILED*"]
    )
    # Linear reads no mode: it is not listed.
    result.stdout.no_fnmatch_line("*model.lin*")


def test_torch_section_writes_phase_0_as_eval_and_shows_an_explicit_train(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import pytest
        from torch import nn

        @pytest.mark.learning_phase(0)
        def test_eval():
            net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.BatchNorm1d(2))
            net[2].train()
            assert not any(module.training for module in net.modules())
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            "ran under phase 0 (eval) from @pytest.mark.learning_phase(0) on the test function "
            "(backend torch)",
            "  net.1 (Dropout) is in eval mode",
            "  net.2 (BatchNorm1d) is in train mode",
        ]
    )


def test_torch_section_under_the_audit_says_where_each_mode_came_from(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        def test_fails_after_eval():
            model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.BatchNorm1d(2))
            model.eval()
            model[2].train()
            model(torch.ones(3, 2))
            assert False
        """,
        "--learning-phase-audit",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- learning phase -*",
            UNSET_TORCH,
            "  model.1 (Dropout) ran in eval mode: set by .eval()",
            "  model.2 (BatchNorm1d) ran in train mode: set by .train()",
            # Every module's mode was set before it ran: no read (the spec), no re-run.
            "1 test asked for no phase: 0 read it and ran again in phase 0 (eval) "
            "(unset is phase 1 (train): the normal run stands for it), 1 never read it",
        ]
    )


# -- The audit's findings. ----------------------------------------------------------

TORCH_FINDING = [
    "1 test depends on the learning phase:",
    "  test_suite.py::test_predict_is_deterministic  eval: passed   train: failed",
    "    its own run (phase unset): failed: assert False",
    "      model.drop (Dropout) ran in train mode: built while the phase was unset",
    "    run again in phase 0 (eval): passed",
    "      model.drop (Dropout) ran in eval mode: built while the phase was 0 (eval)",
    "      reproduce: pytest --learning-phase-backend=torch --learning-phase=0 "
    "test_suite.py::test_predict_is_deterministic",
    "hint: a test that checks one mode on purpose (train-mode behaviour, say) should say so: "
    "@pytest.mark.learning_phase(1) or (0); otherwise the code depends on the mode its modules "
    "start in: call .eval() (inference) or .train() (training) where the model is used",
    "*= 1 failed, 1 phase-dependent in *",
]


def reproduce_commands(result: pytest.RunResult) -> list[list[str]]:
    """Return each ``reproduce:`` command of the output, split as a shell would."""
    return [
        shlex.split(line.split("reproduce: ", 1)[1])
        for line in result.outlines
        if "reproduce: " in line
    ]


def run_as_given(pytester: pytest.Pytester, command: list[str]) -> pytest.RunResult:
    """Run a reproduce command as printed (``pytest ...``), in a fresh interpreter."""
    assert command[0] == "pytest"
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *command[1:])


def test_torch_finding_names_the_dropout_its_mode_per_run_and_reproduces_the_other_outcome(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(pytester, PREDICT_WITHOUT_EVAL, "--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(TORCH_FINDING)
    [command] = reproduce_commands(result)
    reproduced = run_as_given(pytester, command)
    reproduced.assert_outcomes(passed=1)  # the outcome the plain run did not show


KERAS_STYLE_SUITE = """
{layers}
import numpy as np

def test_dropout_keeps_everything():
    drop = layers.Dropout(0.5, seed=1)
    x = np.ones((4, 8), dtype="float32")
    assert np.array_equal(np.asarray(drop(x)), x)

def test_explicit_training_is_not_listed():
    drop = layers.Dropout(0.5, seed=1)
    inner = layers.Dropout(0.5, seed=1)
    x = np.ones((4, 8), dtype="float32")
    inner(x, training=False)
    assert np.array_equal(np.asarray(drop(x)), x)
"""


def test_keras_finding_names_the_layer_and_the_source_of_its_training(suite: Suite) -> None:
    suite.write(KERAS_STYLE_SUITE.format(layers=LAYERS[suite.backend]))
    result = suite.run("--learning-phase-audit")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    for test in ("test_dropout_keeps_everything", "test_explicit_training_is_not_listed"):
        result.stdout.fnmatch_lines(
            [
                f"  test_suite.py::{test}  *test: passed   train: failed",
                "    its own run (phase unset): passed",
                "      dropout* (Dropout) ran in test mode: the layer's default (training=None), "
                "so the layer reads learning_phase()",
                "    run again in phase 0 (test): passed",
                "      dropout* (Dropout) ran in test mode: the global phase",
                "    run again in phase 1 (train): failed: *assert False",
                "      dropout* (Dropout) ran in train mode: the global phase",
                f"      reproduce: pytest --learning-phase-backend={suite.backend} "
                f"--learning-phase=1 test_suite.py::{test}",
            ]
        )
    # The layer called with training=False ran in test mode in every run: not listed.
    result.stdout.no_fnmatch_line("*explicit argument*")
    result.stdout.fnmatch_lines(
        [
            "hint: a test that checks one phase on purpose should say so: "
            "@pytest.mark.learning_phase(0) or (1); otherwise the code depends on the phase it "
            "starts in: pass training= where it calls its layers, or fix the code that reads "
            "the phase",
            "*= 2 passed, 2 phase-dependent in *",
        ]
    )


def test_reproduce_command_run_as_given_reproduces_the_failure(reference_suite: Suite) -> None:
    reference_suite.write(KERAS_STYLE_SUITE.format(layers=LAYERS["reference"]))
    result = reference_suite.run("--learning-phase-audit", "-k", "keeps_everything")
    [command] = reproduce_commands(result)
    assert command[-2:] == ["--learning-phase=1", "test_suite.py::test_dropout_keeps_everything"]
    reproduced = run_as_given(reference_suite.pytester, command)
    reproduced.assert_outcomes(failed=1)
    reproduced.stdout.fnmatch_lines(
        [
            "ran under phase 1 (train) from --learning-phase=1 (backend reference)",
            "  dropout* (Dropout): its mode is resolved at each call",
        ]
    )


def test_findings_cross_xdist_with_their_runs(reference_suite: Suite) -> None:
    reference_suite.write(KERAS_STYLE_SUITE.format(layers=LAYERS["reference"]))
    result = reference_suite.run_subprocess(
        "-n", "2", "-p", "no:randomly", "--learning-phase-audit"
    )
    result.stdout.fnmatch_lines(
        [
            "    run again in phase 1 (train): failed: *assert False",
            "      dropout* (Dropout) ran in train mode: the global phase",
            "      reproduce: pytest --learning-phase-backend=reference --learning-phase=1 *",
            "*2 passed, 2 phase-dependent in *",
        ]
    )


def test_an_xdist_worker_sends_the_unset_reader_section_with_the_held_modules(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(test_suite=PREDICT_WITHOUT_EVAL)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--learning-phase-backend=torch", "-n", "2"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- learning phase -*", UNSET_TORCH, "  model.drop (Dropout) is in train mode"]
    )


FAILING_FIXTURES = """
import pytest
import torch
from torch import nn

@pytest.fixture
def broken_setup():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model(torch.ones(2, 4))
    raise RuntimeError("setup broke")

@pytest.fixture
def broken_teardown():
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    yield net
    raise RuntimeError("teardown broke")

def test_setup_fails(broken_setup):
    pass

def test_teardown_fails(broken_teardown):
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_setup_and_teardown_failures_describe_the_modules_they_hold(
    preloaded_torch: None, pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(test_suite=FAILING_FIXTURES)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--learning-phase-backend=torch", *workers
    )
    result.assert_outcomes(passed=1, errors=2)
    for when, test, held in [
        ("setup", "test_setup_fails", "model.1 (Dropout)"),
        ("teardown", "test_teardown_fails", "net.1 (BatchNorm1d)"),
    ]:
        result.stdout.fnmatch_lines(
            [
                f"*_ ERROR at {when} of {test} _*",
                "*- learning phase -*",
                UNSET_TORCH,
                f"  {held} is in train mode",
            ]
        )
