"""The torch backend through real pytest sessions: the phase is the mode new modules start in."""

from __future__ import annotations

import textwrap

import pytest


@pytest.fixture
def torch_pytester(preloaded_torch: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose runs drive the torch backend."""
    return pytester


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=textwrap.dedent(source))
    return pytester.runpytest(
        "-W", "default", "-p", "no:cacheprovider", "--learning-phase-backend=torch", *args
    )


SESSION_MODEL = """
import pytest
from torch import nn

@pytest.fixture(scope="session")
def sm():
    return nn.Sequential(nn.Linear(2, 2), nn.Dropout())
"""


def run_leaks_as_errors(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the written suite on torch with leak warnings turned into errors."""
    return pytester.runpytest(
        "--learning-phase-backend=torch",
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
        *args,
    )


def test_new_modules_start_in_the_marked_mode_with_every_submodule(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        def build():
            return nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))

        @pytest.mark.learning_phase(0, 1, None)
        def test_modes(learning_phase):
            flags = {module.training for module in build().modules()}
            assert flags == {learning_phase != 0}
        """,
        "-v",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*test_modes[[]test[]] PASSED*", "*test_modes[[]train[]] PASSED*", "*[[]unset[]] PASSED*"]
    )


def test_explicit_train_eval_and_assignments_win_over_the_phase(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        class AlwaysEval(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = nn.Dropout()
                self.eval()

        class FlagAssigned(nn.Module):
            def __init__(self):
                super().__init__()
                self.training = False

        @pytest.mark.learning_phase(1)
        def test_own_init_wins():
            assert not AlwaysEval().training
            assert not AlwaysEval().inner.training
            assert not FlagAssigned().training

        @pytest.mark.learning_phase(0)
        def test_calls_after_building_win():
            model = nn.Dropout()
            assert not model.training
            assert model.train().training
        """,
    )
    result.assert_outcomes(passed=2)


def test_function_fixtures_build_in_the_test_phase_wider_ones_in_their_scope(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        @pytest.fixture
        def fresh():
            return nn.Dropout()

        @pytest.fixture(scope="module")
        def shared():
            return nn.Dropout()

        built_at_import = nn.Dropout()

        @pytest.mark.parametrize("model", [nn.Dropout()])
        @pytest.mark.learning_phase(0)
        def test_in_inference(fresh, shared, model):
            assert not fresh.training
            assert shared.training  # module scope, no marker: PyTorch's default
            assert model.training  # built at collection
            assert built_at_import.training
        """,
    )
    result.assert_outcomes(passed=1)


def test_a_shared_model_flipped_by_one_test_is_restored_with_a_warning_naming_it(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        @pytest.fixture(scope="module")
        def models():
            encoder = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
            return {"encoder": encoder, "head": nn.Linear(2, 1)}

        def test_flips(models):
            models["encoder"][1].eval()

        def test_next(models):
            assert models["encoder"][1].training
        """,
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_flips changed the train/eval mode of "
            "modules held by fixture models (wider than the test; backend torch): "
            "models[[]'encoder'].1; restored"
        ]
    )


def test_leak_warning_as_error_fails_the_test_that_flipped_the_shared_model(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        @pytest.fixture(scope="session")
        def shared():
            return nn.Sequential(nn.Linear(2, 2), nn.Dropout())

        def test_flips(shared):
            shared.eval()

        def test_next(shared):
            assert all(module.training for module in shared.modules())
        """,
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_flips*", "*: shared, shared.0, *"])


def test_two_backends_at_once_set_both_and_warn_per_backend(
    preloaded_torch: None, preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_suite=textwrap.dedent(
            """
            import warnings
            import pytest
            from torch import nn
            from tf_keras.src import backend as K

            @pytest.mark.learning_phase(0)
            def test_both():
                assert K.learning_phase() == 0
                assert not nn.Dropout().training

            def test_leaks_keras():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    K.set_learning_phase(1)
            """
        )
    )
    result = pytester.runpytest(
        "-W", "default", "-p", "no:randomly", "--learning-phase-backend=tf_keras,torch"
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backends: tf_keras, torch (--learning-phase-backend; "
            "unset = PyTorch's default, train mode), *",
            "*LearningPhaseLeakWarning: test_suite.py::test_leaks_keras changed the learning "
            "phase of backend tf_keras: *",
        ]
    )


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        ("reference,,torch", "an empty backend name; expected names separated by commas"),
        ("torch,torch", "backend 'torch' is named twice; name it once"),
    ],
)
def test_a_bad_list_of_backends_is_a_usage_error(
    pytester: pytest.Pytester, backends: str, message: str
) -> None:
    result = pytester.runpytest(f"--learning-phase-backend={backends}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --learning-phase-backend={backends}: {message}*"])


def test_choosing_torch_without_it_installed_says_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import sys

        sys.modules["torch"] = None  # as if torch were not installed
        """
    )
    result = pytester.runpytest_subprocess("--learning-phase-backend=torch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=torch: the torch backend needs torch, "
            "which is not installed: "
            'pip install "pytest-learning-phase[torch]"'
        ]
    )


def test_the_audit_finds_a_training_step_that_relies_on_the_default_mode(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import torch
        from torch import nn

        def train_step(model, inputs):
            # the bug: no model.train(); works only because new modules start in train mode
            model(inputs)

        def test_a_training_step_updates_the_statistics():
            model = nn.BatchNorm1d(4)
            train_step(model, torch.randn(8, 4) + 3)
            assert model.running_mean.abs().sum() > 0

        def test_builds_nothing():
            assert torch.ones(2).sum() == 2
        """,
        "--learning-phase-audit",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "2 tests asked for no phase: 1 read it and ran again in phase 0 (eval) "
            "(unset is phase 1 (train): the normal run stands for it), 1 never read it",
            "1 test depends on the learning phase:",
            "  test_suite.py::test_a_training_step_updates_the_statistics  eval: failed   "
            "train: passed",
            "hint: a test that checks one mode on purpose (train-mode behaviour, say) should say "
            "so: @pytest.mark.learning_phase(1) or (0); otherwise the code depends on the mode "
            "its modules start in: call .eval() (inference) or .train() (training) where the "
            "model is used",
        ]
    )


def test_the_audit_of_two_backends_counts_the_reads_of_both(
    preloaded_torch: None, preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_suite=textwrap.dedent(
            """
            import torch
            from torch import nn
            from tf_keras.src import backend as K

            def test_reads_keras():
                assert K.learning_phase() == 0

            def test_runs_a_module():
                module = nn.Dropout()
                module(torch.ones(2))
                assert module.training
            """
        )
    )
    result = pytester.runpytest(
        "-p", "no:randomly", "--learning-phase-backend=tf_keras,torch", "--learning-phase-audit"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            # Each test runs again as the backend it read needs: torch's unset is train mode.
            "2 tests asked for no phase: 2 read it and ran again as the backends each read "
            "need: 1 in phase 0 (eval) (unset is phase 1 (train): the normal run stands for "
            "it), 1 in phases 0 (test) and 1 (train), 0 never read it",
            "2 tests depend on the learning phase:",
            "  test_suite.py::test_reads_keras    test: passed   train: failed",
        ]
    )


def test_a_leak_made_an_error_on_one_backend_still_restores_the_other(
    preloaded_torch: None, preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_suite=textwrap.dedent(
            """
            import warnings
            import pytest
            from torch import nn
            from tf_keras.src import backend as K

            @pytest.fixture(scope="module")
            def shared():
                return nn.Sequential(nn.Linear(2, 2), nn.Dropout())

            def test_leaks_both(shared):
                shared.eval()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    K.set_learning_phase(1)

            def test_next(shared):
                assert all(module.training for module in shared.modules())
                assert not K.global_learning_phase_is_set()
            """
        )
    )
    result = pytester.runpytest(
        "-p",
        "no:randomly",
        "--learning-phase-backend=tf_keras,torch",
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
    )
    result.assert_outcomes(passed=2, errors=1)


# -- Held models are part of the scope baselines. ------------------------------------------


def test_a_module_fixture_putting_a_session_model_in_eval_is_that_module_baseline(
    torch_pytester: pytest.Pytester,
) -> None:
    torch_pytester.makeconftest(
        """
        import pytest
        from torch import nn

        @pytest.fixture(scope="session")
        def model():
            return nn.Sequential(nn.Linear(2, 2), nn.Dropout())
        """
    )
    torch_pytester.makepyfile(
        test_a="""
        import pytest

        @pytest.fixture(scope="module", autouse=True)
        def inference(model):
            model.eval()
            yield
            model.train()

        def test_first(model):
            assert not model.training
            assert not model[1].training

        def test_second(model):
            assert not model[1].training
        """,
        test_b="""
        def test_in_another_module(model):
            assert model[1].training
        """,
    )
    result = torch_pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--learning-phase-backend=torch",
        "-W",
        "error::pytest_learning_phase.LearningPhaseLeakWarning",
    )
    result.assert_outcomes(passed=3)


HELD_SHAPES = {
    "dataclass": (
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Bundle:\n"
        "    model: object\n"
        "    tokenizer: object\n"
        "def make(model):\n"
        "    return Bundle(model, tokenizer=str.split)\n"
        "def get(value):\n"
        "    return value.model\n",
        "held.model",
    ),
    "namespace": (
        "import types\n"
        "def make(model):\n"
        "    return types.SimpleNamespace(model=model)\n"
        "def get(value):\n"
        "    return value.model\n",
        "held.model",
    ),
    "skorch-like": (
        "class NeuralNet:\n"
        "    def __init__(self, module):\n"
        "        self.module = type(module)\n"
        "        self.module_ = module\n"
        "def make(model):\n"
        "    return NeuralNet(model)\n"
        "def get(value):\n"
        "    return value.module_\n",
        "held.module_",
    ),
    "deque": (
        "import collections\n"
        "def make(model):\n"
        "    return {'queue': collections.deque([None, model])}\n"
        "def get(value):\n"
        "    return value['queue'][1]\n",
        "held['queue'][1]",
    ),
    "set": (
        "def make(model):\n"
        "    return [{model}]\n"
        "def get(value):\n"
        "    return next(iter(value[0]))\n",
        "held[0]{0}",
    ),
    "set, the fixture's value": (
        "def make(model):\n    return {model}\ndef get(value):\n    return next(iter(value))\n",
        "held{0}",
    ),
    "frozenset": (
        "def make(model):\n"
        "    return (frozenset([model]),)\n"
        "def get(value):\n"
        "    return next(iter(value[0]))\n",
        "held[0]{0}",
    ),
    "four-deep": (
        "def make(model):\n"
        "    return [[[{'model': model}]]]\n"
        "def get(value):\n"
        "    return value[0][0][0]['model']\n",
        "held[0][0][0]['model']",
    ),
}


@pytest.mark.parametrize("shape", sorted(HELD_SHAPES))
def test_a_model_held_anywhere_by_a_wider_fixture_is_restored_with_a_warning(
    torch_pytester: pytest.Pytester, shape: str
) -> None:
    helpers, name = HELD_SHAPES[shape]
    result = run(
        torch_pytester,
        helpers
        + """
import pytest
from torch import nn

@pytest.fixture(scope="module")
def held():
    return make(nn.Dropout())

def test_flips(held):
    get(held).eval()

def test_next(held):
    assert get(held).training
""",
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_flips changed the train/eval mode of "
            "modules held by fixture held (wider than the test; backend torch): "
            f"{name.replace('[', '[[]')}; restored"
        ]
    )


def test_a_model_a_unittest_set_up_class_holds_is_restored_with_a_warning(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import unittest
        from torch import nn

        class TestModel(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                cls.model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())

            def test_a_flips(self):
                self.model.eval()

            def test_b_next(self):
                self.assertTrue(self.model[1].training)
        """,
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::TestModel::test_a_flips changed the "
            "train/eval mode of modules held by fixture TestModel (wider than the test; "
            "backend torch): TestModel.model, TestModel.model.0, TestModel.model.1; restored"
        ]
    )


CLASS_SETUPS = {
    "xunit setup_class": """
        @classmethod
        def setup_class(cls):
            cls.model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    """,
    "autouse classmethod fixture": """
        @pytest.fixture(scope="class", autouse=True)
        @classmethod
        def build(cls):
            cls.model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    """,
    "classmethod fixture inside another class fixture": """
        @pytest.fixture(scope="class")
        @classmethod
        def build(cls):
            cls.model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())

        @pytest.fixture(scope="class", autouse=True)
        @classmethod
        def outer(cls, build):
            cls.other = 1
    """,
    "module-level class fixture through request.cls": """
        @pytest.fixture(scope="class", autouse=True)
        def build(request):
            request.cls.model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    """,
}
"""How a pytest test class's class-scoped setup stores a model on the class (a source of
the class's body, or of the module when its fixture is a function)."""


@pytest.mark.parametrize("setup", sorted(CLASS_SETUPS))
def test_a_model_a_pytest_class_setup_stores_on_the_class_is_restored_with_a_warning(
    torch_pytester: pytest.Pytester, setup: str
) -> None:
    code = textwrap.dedent(CLASS_SETUPS[setup])
    module_code, body = (code, "") if "def build(request)" in code else ("", code)
    result = run(
        torch_pytester,
        f"""
        import pytest
        from torch import nn
{textwrap.indent(module_code, "        ")}
        class TestModel:
{textwrap.indent(body, "            ")}
            def test_a_flips(self):
                self.model.eval()

            def test_b_next(self):
                assert all(module.training for module in self.model.modules())
        """,
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::TestModel::test_a_flips changed the "
            "train/eval mode of modules held by fixture TestModel (wider than the test; "
            "backend torch): TestModel.model, TestModel.model.0, TestModel.model.1; restored"
        ]
    )


def test_a_test_that_changes_a_held_models_structure_is_told_it_is_not_restored(
    torch_pytester: pytest.Pytester,
) -> None:
    torch_pytester.makeconftest(SESSION_MODEL)
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        def test_1_appends_and_evals(sm):
            sm.append(nn.ReLU())
            sm.eval()

        def test_2_flags_back_but_not_the_structure(sm):
            assert [m.training for m in sm.modules()] == [True, True, True, False]
            del sm[2]

        @pytest.mark.learning_phase(0)
        def test_3_replaces(sm):
            sm[1] = nn.Dropout()

        def test_4_keeps_the_eval_dropout_put_in(sm):
            assert not sm[1].training

        @pytest.fixture(scope="module")
        def head(sm):
            sm.append(nn.Softmax(dim=1))
            yield
            del sm[2]

        def test_5_a_fixture_changing_it_is_no_tests_doing(head, sm):
            assert len(sm) == 3
            sm[0] = nn.Linear(2, 2)  # found before head's teardown
        """,
    )
    result.assert_outcomes(passed=5, warnings=4)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_1_appends_and_evals changed the "
            "structure of modules held by fixture sm (wider than the test; backend torch): "
            "sm.2 added; not restored (a module put in stays, in the mode it has); restored "
            "the train/eval mode of the modules held before: sm, sm.0, sm.1",
            "*LearningPhaseLeakWarning: test_suite.py::test_2_flags_back_but_not_the_structure "
            "changed the structure of modules held by fixture sm (*): sm.2 removed; not restored*",
            "*LearningPhaseLeakWarning: test_suite.py::test_3_replaces changed the structure of "
            "modules held by fixture sm (*): sm.1 replaced; not restored (*)",
            "*LearningPhaseLeakWarning: test_suite.py::test_5_a_fixture_changing_it_is_no_tests_"
            "doing changed the structure of modules held by fixture sm (*): sm.0 replaced; not "
            "restored (*)",
        ]
    )


def test_a_module_held_twice_by_one_fixture_is_named_once(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        @pytest.fixture(scope="module")
        def pair():
            model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
            return (model, model[1], model)

        def test_flips(pair):
            pair[1].eval()

        def test_next(pair):
            assert pair[1].training
        """,
    )
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*backend torch): pair[[]0].1; restored"])


def test_a_test_that_changes_a_baseline_model_before_its_fixture_is_torn_down_is_warned(
    torch_pytester: pytest.Pytester,
) -> None:
    result = run(
        torch_pytester,
        """
        import pytest
        from torch import nn

        @pytest.fixture(scope="session")
        def model():
            return nn.Sequential(nn.Linear(2, 2), nn.Dropout())

        @pytest.fixture(scope="module", autouse=True)
        def inference(model):
            model.eval()
            yield
            model.train()

        def test_last_of_the_module(model):
            model[1].train()  # then the module fixture is torn down
        """,
    )
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseLeakWarning: test_suite.py::test_last_of_the_module changed the "
            "train/eval mode of modules held by fixture model (wider than the test; backend "
            "torch): model.1; restored"
        ]
    )


@pytest.mark.parametrize(("option", "training"), [("0", False), ("1", True), ("unset", True)])
def test_modules_built_at_collection_start_in_the_session_default_phase(
    torch_pytester: pytest.Pytester, option: str, training: bool
) -> None:
    result = run(
        torch_pytester,
        f"""
        import pytest
        from torch import nn

        built_at_import = nn.Dropout()

        @pytest.mark.parametrize("model", [nn.Dropout()])
        @pytest.mark.learning_phase(1)
        def test_collection_modules(model):
            assert built_at_import.training is {training}
            assert model.training is {training}
            assert nn.Dropout().training  # built in the test: its marker
        """,
        f"--learning-phase={option}",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("randomly_seed", ["no", "1"])
def test_a_class_fixture_mode_wins_over_a_module_fixture_first_requested_in_the_class(
    torch_pytester: pytest.Pytester, randomly_seed: str
) -> None:
    # The class fixture's train() changes nothing when it runs, yet it answers for
    # the model it requests: the class baseline is closer than the module fixture's
    # eval(), whichever is set up first (here: the module fixture, inside the class).
    torch_pytester.makeconftest(SESSION_MODEL)
    torch_pytester.makepyfile(
        """
import pytest

@pytest.fixture(scope="module")
def m_eval(sm):
    sm.eval()

class TestC:
    @pytest.fixture(scope="class", autouse=True)
    def c_train_dropout(self, sm):
        sm[1].train()

    def test_1(self, sm):
        assert sm[1].training

    def test_2(self, sm, m_eval):
        assert sm[1].training

    def test_3(self, sm, m_eval):
        assert sm[1].training

def test_out(sm, m_eval):
    assert not sm[1].training and not sm[0].training
"""
    )
    order = ["-p", "no:randomly"] if randomly_seed == "no" else ["-p", "randomly"]
    if randomly_seed != "no":
        order.append(f"--randomly-seed={randomly_seed}")
    result = run_leaks_as_errors(torch_pytester, *order)
    result.assert_outcomes(passed=4)


def test_a_model_a_session_fixture_gets_by_getfixturevalue_keeps_the_mode_it_set(
    torch_pytester: pytest.Pytester,
) -> None:
    # The model is held only once the outer fixture's setup has begun: its eval()
    # is still the session's baseline, not a leak of the first test.
    torch_pytester.makeconftest(
        SESSION_MODEL
        + """
@pytest.fixture(scope="session")
def evaluated(request):
    request.getfixturevalue("sm").eval()
"""
    )
    torch_pytester.makepyfile(
        """
def test_1(evaluated, sm):
    assert not sm.training and not sm[1].training

def test_2(evaluated, sm):
    assert not sm.training and not sm[1].training
"""
    )
    result = run_leaks_as_errors(torch_pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_a_module_fixture_set_up_inside_an_evaluating_class_sees_the_module_modes(
    torch_pytester: pytest.Pytester,
) -> None:
    torch_pytester.makeconftest(SESSION_MODEL)
    torch_pytester.makepyfile(
        """
import pytest

@pytest.fixture(scope="module")
def m_seen(sm):
    seen = sm[1].training
    yield seen
    assert sm[1].training, "module teardown in the class's modes"

class TestC:
    @pytest.fixture(scope="class", autouse=True)
    def c_eval(self, sm):
        sm.eval()

    def test_1(self, sm, request):
        assert request.getfixturevalue("m_seen"), "module fixture set up in the class's modes"
        assert not sm[1].training

def test_out(sm, m_seen):
    assert sm[1].training
"""
    )
    result = run_leaks_as_errors(torch_pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_a_module_fixture_that_only_requests_a_model_follows_a_later_session_eval(
    torch_pytester: pytest.Pytester,
) -> None:
    # m_uses sets no mode: the module's tests follow the session's baseline, which a session
    # fixture set up later (by the module's second test) changes with eval().
    torch_pytester.makeconftest(
        SESSION_MODEL
        + """
@pytest.fixture(scope="session")
def s_eval(sm):
    sm[1].eval()
"""
    )
    torch_pytester.makepyfile(
        """
import pytest

@pytest.fixture(scope="module")
def m_uses(sm):
    return sm

def test_1(m_uses, train_phase):
    assert m_uses[1].training

def test_2(s_eval, sm):
    assert not sm[1].training

def test_3(m_uses):
    assert not m_uses[1].training, "the session's eval() is the baseline"
"""
    )
    result = run_leaks_as_errors(torch_pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=3)
