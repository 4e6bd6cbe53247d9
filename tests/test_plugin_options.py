"""Options, ini settings, their precedence, the header line and the backends hook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_learning_phase import __version__
from pytest_learning_phase.adapters._current import current_adapter, set_current_adapter
from pytest_learning_phase.adapters.reference import ReferenceAdapter
from tests._suite import Suite, memory_adapter_conftest

CHECK_DEFAULT = """
from lp_backend import phase

def test_default(request):
    assert phase() == request.config.getoption("expected_phase")
"""

EXPECTING_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--expected", dest="expected_phase", default="unset")

def pytest_configure(config):
    expected = config.getoption("expected_phase")
    config.option.expected_phase = None if expected == "unset" else int(expected)
"""


@pytest.fixture
def default_suite(reference_suite: Suite) -> Suite:
    """A suite whose one unmarked test checks the phase against ``--expected``."""
    reference_suite.pytester.makeconftest(EXPECTING_CONFTEST)
    reference_suite.write(CHECK_DEFAULT)
    return reference_suite


PHASE_NAMES = {"0": "0", "1": "1", "unset": "unset", "test": "0", "eval": "0", "train": "1"}
"""Each value of ``--learning-phase`` and the ini, and the phase it means."""


@pytest.mark.parametrize(("value", "phase"), PHASE_NAMES.items())
def test_command_line_sets_the_default_phase(default_suite: Suite, value: str, phase: str) -> None:
    result = default_suite.run(f"--learning-phase={value}", f"--expected={phase}")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("value", "phase"), PHASE_NAMES.items())
def test_ini_sets_the_default_phase(default_suite: Suite, value: str, phase: str) -> None:
    default_suite.pytester.makeini(f"[pytest]\nlearning_phase = {value}\n")
    default_suite.run(f"--expected={phase}").assert_outcomes(passed=1)


def test_a_named_phase_is_named_as_given_in_the_header(default_suite: Suite) -> None:
    result = default_suite.run("--learning-phase=train", "--expected=1")
    result.stdout.fnmatch_lines(
        ["learning-phase: *, default phase: 1 (train) (--learning-phase=train), *"]
    )


def test_command_line_beats_ini(default_suite: Suite) -> None:
    default_suite.pytester.makeini("[pytest]\nlearning_phase = 0\n")
    default_suite.run("--learning-phase=1", "--expected=1").assert_outcomes(passed=1)


def test_what_a_test_asks_for_beats_the_command_line(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.learning_phase(0)
        def test_marker():
            assert phase() == 0

        def test_fixture(test_phase):
            assert phase() == 0

        @pytest.mark.parametrize("learning_phase", [None], indirect=True)
        def test_parameter(learning_phase):
            assert phase() is None
        """
    )
    suite.run("--learning-phase=1").assert_outcomes(passed=3)


@pytest.mark.parametrize("value", ["2", "Train", "training", "None", ""])
def test_bad_command_line_phase_is_a_usage_error_listing_allowed_values(
    reference_suite: Suite, value: str
) -> None:
    result = reference_suite.run(f"--learning-phase={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*argument --learning-phase: expected 0 (or test, eval), 1 (or train) or unset, "
            f"got {value!r}"
        ]
    )


def test_bad_ini_phase_is_a_usage_error_naming_file_value_and_allowed(
    reference_suite: Suite,
) -> None:
    reference_suite.pytester.makeini("[pytest]\nlearning_phase = training\n")
    result = reference_suite.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini option learning_phase = 'training' (in tox.ini): "
            "expected 0 (or test, eval), 1 (or train) or unset"
        ]
    )


def test_unknown_backend_is_a_usage_error_listing_every_offered_name(
    reference_suite: Suite,
) -> None:
    result = reference_suite.pytester.runpytest("--learning-phase-backend=mxnet")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=mxnet: unknown learning phase backend 'mxnet'; "
            "expected one of: reference, tf_keras, torch"
        ]
    )


def test_unknown_backend_from_ini_names_the_ini_setting(reference_suite: Suite) -> None:
    reference_suite.pytester.makeini("[pytest]\nlearning_phase_backend = jax\n")
    result = reference_suite.pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini option learning_phase_backend = 'jax' (in tox.ini): "
            "unknown learning phase backend 'jax'; *"
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "ini", "line"),
    [
        (
            (),
            "",
            "backend: reference (no tf_keras or torch imported by the tests), "
            "default phase: unset (default), audit: off",
        ),
        (
            ("--learning-phase=1",),
            "",
            "backend: reference (no tf_keras or torch imported by the tests), "
            "default phase: 1 (train) (--learning-phase=1), audit: off",
        ),
        (
            (),
            "learning_phase = 0\nlearning_phase_backend = reference\n",
            "backend: reference (ini learning_phase_backend), "
            "default phase: 0 (test) (ini learning_phase = 0), audit: off",
        ),
    ],
)
def test_header_line_names_version_backend_default_phase_and_their_sources(
    pytester: pytest.Pytester, arguments: tuple[str, ...], ini: str, line: str
) -> None:
    if ini:
        pytester.makeini(f"[pytest]\n{ini}")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*arguments)
    result.stdout.fnmatch_lines([f"learning-phase: {__version__}, {line}"])


def test_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_learning_phase import backend as K

        def test_leaks_freely():
            K.deprecated_internal_set_learning_phase(1)

        def test_sees_the_leak():
            assert K.learning_phase() == 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:learning_phase", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("learning-phase:*")
    assert "learning_phase" not in result.stdout.str()


def test_custom_backend_from_conftest_is_driven_by_the_marker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        class ToyAdapter:
            name = "toy"
            phase = None

            def save_state(self):
                return self.phase

            def restore_state(self, state):
                type(self).phase = state

            def set_phase(self, phase):
                type(self).phase = phase

            def get_phase(self):
                return self.phase

        def pytest_learning_phase_backends(config):
            return {"toy": ToyAdapter}
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from conftest import ToyAdapter

        @pytest.mark.learning_phase(0, 1)
        def test_marked(learning_phase):
            assert ToyAdapter.phase == learning_phase

        def test_unmarked():
            assert ToyAdapter.phase is None
            ToyAdapter.phase = 1
        """
    )
    result = pytester.runpytest("-W", "default", "--learning-phase-backend=toy", "-v")
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: toy (--learning-phase-backend), *",
            "*LearningPhaseLeakWarning: test_custom_backend_from_conftest_is_driven_by_the_marker"
            ".py::test_unmarked changed the learning phase of backend toy: it ran under * "
            "and left phase 1 (train)*",
        ]
    )


def test_unknown_backend_lists_the_names_a_conftest_adds(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_learning_phase_backends(config):
            return {"toy": object, "jax": object}
        """
    )
    result = pytester.runpytest("--learning-phase-backend=mxnet")
    result.stderr.fnmatch_lines(["*expected one of: jax, reference, tf_keras, torch, toy"])


def test_factory_returning_a_non_adapter_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_learning_phase_backends(config):
            return {"toy": lambda: 42}
        """
    )
    result = pytester.runpytest("--learning-phase-backend=toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=toy: the factory of learning phase backend 'toy' "
            "(from */conftest.py) returned 42, which lacks the LearningPhaseAdapter methods "
            "(name, save_state, restore_state, set_phase, get_phase)"
        ]
    )


def test_two_plugins_offering_one_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_learning_phase_backends(config):
            return {"reference": lambda: None}
        """
    )
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        [
            "ERROR: learning phase backend 'reference' is offered by two plugins, "
            "learning_phase and */conftest.py; rename one of them"
        ]
    )


def test_choosing_tf_keras_without_it_installed_says_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import sys

        sys.modules["tf_keras"] = None  # as if tf-keras were not installed
        """
    )
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--learning-phase-backend=tf_keras")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=tf_keras: the tf_keras backend needs tf-keras, "
            "which is not installed: "
            'pip install "pytest-learning-phase[tf]"'
        ]
    )


def test_a_backend_of_the_ini_that_is_not_installed_names_the_ini_option(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest('import sys\nsys.modules["torch"] = None  # as if not installed\n')
    pytester.makeini("[pytest]\nlearning_phase_backend = reference,torch\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini option learning_phase_backend = 'reference,torch' (in tox.ini): "
            "the torch backend needs torch, which is not installed: "
            'pip install "pytest-learning-phase[torch]"'
        ]
    )


def test_bad_ini_audit_flag_is_a_usage_error_naming_the_setting(reference_suite: Suite) -> None:
    reference_suite.pytester.makeini("[pytest]\nlearning_phase_audit = maybe\n")
    result = reference_suite.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini option learning_phase_audit (in tox.ini): invalid truth value 'maybe'; "
            "expected true or false"
        ]
    )


def test_a_factory_that_raises_import_error_is_a_usage_error_naming_the_backend(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        def make():
            import framework_that_is_not_installed

        def pytest_learning_phase_backends(config):
            return {"toy": make}
        """
    )
    result = pytester.runpytest("--learning-phase-backend=toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=toy: the factory of learning phase backend 'toy' "
            "(from */conftest.py) raised ModuleNotFoundError: No module named "
            "'framework_that_is_not_installed'"
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


BROKEN_ADAPTER = """
class Broken:
    name = "toy"

    def save_state(self):
        {save}

    def restore_state(self, state):
        pass

    def set_phase(self, phase):
        pass

    def get_phase(self):
        {get}

def pytest_learning_phase_backends(config):
    return {{"toy": Broken}}
"""


@pytest.mark.parametrize(
    ("save", "get", "message"),
    [
        (
            "raise RuntimeError('no state')",
            "return None",
            "failed: RuntimeError: no state",
        ),
        (
            "return None",
            "return 2",
            "get_phase() returned 2; expected 0, 1 or None (phase 0 (test), 1 (train) or unset)",
        ),
    ],
)
def test_a_broken_adapter_is_a_usage_error_naming_the_backend(
    pytester: pytest.Pytester, save: str, get: str, message: str
) -> None:
    pytester.makeconftest(BROKEN_ADAPTER.format(save=save, get=get))
    result = pytester.runpytest("--learning-phase-backend=toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --learning-phase-backend=toy: learning phase backend 'toy' "
            f"(from */conftest.py)*{message}"
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_a_native_toml_integer_sets_the_default_phase(pytester: pytest.Pytester) -> None:
    if pytest.version_tuple < (9, 2):
        pytest.skip("native TOML ini values with union types need pytest 9.2")
    pytester.makepyprojecttoml(
        """
        [tool.pytest]
        learning_phase = 1
        """
    )
    pytester.makepyfile(
        """
        from pytest_learning_phase import backend as K

        def test_default():
            assert K.learning_phase() == 1
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*default phase: 1 (train) (ini learning_phase = 1)*"])


def test_header_says_when_the_audit_is_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--learning-phase-audit")
    result.stdout.fnmatch_lines(["learning-phase: *, audit: on"])


def test_an_adapter_that_answers_a_bad_phase_during_a_test_fails_that_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(memory_adapter_conftest("toy"))
    pytester.makepyfile(
        """
        import conftest

        def test_breaks_it():
            conftest.ADAPTER.phase = 2
        """
    )
    result = pytester.runpytest("--learning-phase-backend=toy")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*In test_an_adapter_that_answers_a_bad_phase_during_a_test_fails_that_test.py::"
            "test_breaks_it: learning phase backend toy: get_phase() returned 2; "
            "expected 0, 1 or None"
        ]
    )
    result.stdout.no_fnmatch_line("*KeyError*")


HELP_NAMES = (
    "--learning-phase",
    "--learning-phase-backend",
    "--learning-phase-audit",
    "learning_phase",
    "learning_phase_backend",
    "learning_phase_audit",
)
OPTIONS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "options.md"


def _help_entries(text: str) -> dict[str, str]:
    """Each option's and ini setting's description in ``pytest --help`` text, wrapping undone."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = re.match(
            r"^  (--learning-phase[\w-]*|learning_phase\w*)\b(?:=\S*| (?!\()\S*)?(.*)$", line
        )
        if head is not None and head.group(1) in HELP_NAMES:
            current = entries.setdefault(head.group(1), [])
            rest = re.sub(r"^\(.*\):$", "", head.group(2).strip())  # an ini type: (bool):
            if rest:
                current.append(rest)
        elif current is not None and line.startswith("                        "):
            current.append(line.strip())
        else:
            current = None
    return {name: " ".join(words) for name, words in entries.items()}


def test_help_describes_each_option_as_the_options_page_does(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = _help_entries(pytester.runpytest("--help").stdout.str())
    page = OPTIONS_PAGE.read_text(encoding="utf-8")
    block = page.split("## What `pytest --help` says", 1)[1].split("```text\n", 1)[1]
    documented = _help_entries(block.split("```", 1)[0])
    assert sorted(shown) == sorted(HELP_NAMES)
    assert all(shown.values())
    assert shown == documented


@pytest.mark.parametrize(
    ("arguments", "inner"), [((), "reference"), (("--learning-phase-backend=toy",), "toy")]
)
def test_an_in_process_session_hands_the_helpers_back_to_the_previous_adapter(
    pytester: pytest.Pytester, arguments: tuple[str, ...], inner: str
) -> None:
    pytester.makeconftest(memory_adapter_conftest("toy"))
    pytester.makepyfile(
        f"""
        from pytest_learning_phase.adapters._current import current_adapter

        def test_the_helpers_drive_this_sessions_backend():
            assert current_adapter().name == {inner!r}
        """
    )
    outer = ReferenceAdapter()
    previous = set_current_adapter(outer)
    try:
        pytester.runpytest(*arguments).assert_outcomes(passed=1)
        assert current_adapter() is outer
    finally:
        set_current_adapter(previous)
