"""The documentation's examples run, and show what the pages say they show.

Every example in ``docs/`` is a file under ``docs/examples/`` (the example
suite) or ``docs/snippets/``. Each test copies one of them into a pytester
directory, runs pytest on it in a subprocess, as a user would, and checks the
report lines the pages quote.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

import pytest_learning_phase
from tests._frameworks import TF_INSTALL_HINT, running_in_ci

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = DOCS / "examples"
SNIPPETS = DOCS / "snippets"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
TF_TIMEOUT = 600.0

EXAMPLE_ITEMS = [
    "test_batchnorm.py::test_batchnorm_normalises_with_batch_statistics_only_in_training[test]",
    "test_batchnorm.py::test_batchnorm_normalises_with_batch_statistics_only_in_training[train]",
    "test_batchnorm.py::test_batchnorm_updates_its_moving_mean_only_in_training[test]",
    "test_batchnorm.py::test_batchnorm_updates_its_moving_mean_only_in_training[train]",
    "test_custom_layer.py::test_flip_augment_flips_only_in_training[test]",
    "test_custom_layer.py::test_flip_augment_flips_only_in_training[train]",
    "test_custom_layer.py::test_flip_augment_passes_through_when_the_phase_is_unset",
    "test_custom_layer.py::test_training_argument_wins_over_the_phase",
    "test_dropout.py::test_dropout_drops_units_only_in_training[test]",
    "test_dropout.py::test_dropout_drops_units_only_in_training[train]",
    "test_fixtures.py::test_dropout_drops_when_the_test_asks_for_train_phase",
    "test_fixtures.py::test_dropout_keeps_everything_when_the_test_asks_for_test_phase",
    "test_fixtures.py::test_gaussian_noise_is_added_only_in_training[test]",
    "test_fixtures.py::test_gaussian_noise_is_added_only_in_training[train]",
    "test_fixtures.py::test_inference_uses_the_mean_learned_in_training",
    "test_leak.py::test_leaks_the_training_phase",
    "test_leak.py::test_the_next_test_runs_with_the_phase_unset_again",
    "test_phase_sensitive.py::test_predictions_are_deterministic",
]
LEAK_WARNING = (
    "*test_leak.py:*: LearningPhaseLeakWarning: test_leak.py::test_leaks_the_training_phase "
    "changed the learning phase of backend *: it ran under phase unset and left phase 1 (train); "
    "restored phase unset"
)
AUDIT_SECTION = [
    "*= learning phase audit =*",
    "2 tests asked for no phase: 2 read it and ran again in phases 0 (test) and 1 (train),"
    " 0 never read it",
    "1 test depends on the learning phase:",
    "  test_phase_sensitive.py::test_predictions_are_deterministic  test: passed   train: failed",
    "    its own run (phase unset): passed",
    "      dropout* (Dropout) ran in test mode: the layer's default (training=None), so the layer"
    " reads learning_phase()",
    "    run again in phase 0 (test): passed",
    "      dropout* (Dropout) ran in test mode: the global phase",
    "    run again in phase 1 (train): failed: AssertionError: Arrays are not equal",
    "      dropout* (Dropout) ran in train mode: the global phase",
    "      reproduce: pytest --learning-phase-backend=* --learning-phase=1"
    " test_phase_sensitive.py::test_predictions_are_deterministic",
    "hint: a test that checks one phase on purpose should say so: @pytest.mark.learning_phase(0)"
    " or (1); otherwise the code depends on the phase it starts in: pass training= where it calls"
    " its layers, or fix the code that reads the phase",
    "the marker had no effect: 1 test asks for a phase and never read it:",
    "  test_custom_layer.py::test_training_argument_wins_over_the_phase"
    "  (@pytest.mark.learning_phase(1) on the test function)",
]
BACKENDS = ["reference", "tf_keras"]


def passed(item: str) -> str:
    """Return the fnmatch pattern of ``item``'s PASSED line in a ``-v`` run (ids escaped)."""
    return item.replace("[", "[[]") + " PASSED*"


def copy_into(pytester: pytest.Pytester, source: Path) -> None:
    """Copy the files of ``source`` into the pytester directory (its rootdir)."""
    shutil.copytree(source, pytester.path, dirs_exist_ok=True, ignore=IGNORED)


def skip_unless_installed(module: str, hint: str) -> None:
    """Skip the test when ``module`` is missing (fail it under CI), without importing it.

    The example runs import the framework in their own subprocess; importing
    TensorFlow here too would only cost time (and pytester forgets it after each
    test, and TensorFlow cannot be imported twice in one process).
    """
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed: {hint}"
        if running_in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)


def run_examples(pytester: pytest.Pytester, backend: str, *args: str) -> pytest.RunResult:
    """Run the example suite on ``backend``, as ``pytest docs/examples`` would."""
    if backend == "tf_keras":
        skip_unless_installed("tf_keras", TF_INSTALL_HINT)
    copy_into(pytester, EXAMPLES)
    return pytester.runpytest_subprocess(
        f"--learning-phase-backend={backend}", *args, timeout=TF_TIMEOUT
    )


# -- The example suite (docs/examples, docs/examples.md) ---------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_example_suite_passes_with_one_leak_warning(
    pytester: pytest.Pytester, backend: str
) -> None:
    result = run_examples(pytester, backend, "-v")

    result.assert_outcomes(passed=len(EXAMPLE_ITEMS), warnings=1)
    result.stdout.fnmatch_lines([passed(item) for item in EXAMPLE_ITEMS])
    result.stdout.fnmatch_lines([LEAK_WARNING])


def test_example_suite_header_names_the_backend_and_default_phase(
    pytester: pytest.Pytester,
) -> None:
    copy_into(pytester, EXAMPLES)

    result = pytester.runpytest_subprocess()

    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (no tf_keras or torch imported by the tests), "
            "default phase: unset (default), audit: off"
        ]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_audit_finds_the_phase_sensitive_example(pytester: pytest.Pytester, backend: str) -> None:
    result = run_examples(pytester, backend, "--learning-phase-audit")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=len(EXAMPLE_ITEMS), warnings=1)
    result.stdout.fnmatch_lines(AUDIT_SECTION, consecutive=True)
    result.stdout.no_fnmatch_line("*= FAILURES =*")


def test_example_suite_passes_under_xdist(pytester: pytest.Pytester) -> None:
    result = run_examples(pytester, "reference", "-n", "2")

    result.assert_outcomes(passed=len(EXAMPLE_ITEMS), warnings=1)
    result.stdout.fnmatch_lines([LEAK_WARNING])


def test_audit_under_xdist_reports_once(pytester: pytest.Pytester) -> None:
    result = run_examples(pytester, "reference", "-n", "2", "--learning-phase-audit")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(AUDIT_SECTION)
    assert result.stdout.str().count("= learning phase audit =") == 1


def test_leak_warning_as_error_fails_the_leaking_example_only(pytester: pytest.Pytester) -> None:
    result = run_examples(
        pytester, "reference", "-W", "error::pytest_learning_phase.LearningPhaseLeakWarning"
    )

    result.assert_outcomes(passed=len(EXAMPLE_ITEMS), errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_leaks_the_training_phase _*",
            "E   pytest_learning_phase.LearningPhaseLeakWarning: test_leak.py::"
            "test_leaks_the_training_phase changed the learning phase of backend reference: "
            "it ran under phase unset and left phase 1 (train); restored phase unset",
        ]
    )


# -- Snippets shown in the pages ----------------------------------------------------


def run_snippet(pytester: pytest.Pytester, name: str, *args: str) -> pytest.RunResult:
    """Run pytest on the snippet directory ``docs/snippets/<name>``."""
    copy_into(pytester, SNIPPETS / name)
    return pytester.runpytest_subprocess(*args)


def test_quickstart_runs_as_the_page_shows(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "quickstart", "-v")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (no tf_keras or torch imported by the tests), "
            "default phase: unset (default), audit: off",
            passed("test_first.py::test_dropout_drops_in_training"),
            passed("test_first.py::test_dropout_keeps_the_mean[test]"),
            passed("test_first.py::test_dropout_keeps_the_mean[train]"),
        ]
    )


def test_migration_before_passes_with_two_deprecation_warnings(
    pytester: pytest.Pytester,
) -> None:
    result = run_snippet(pytester, "migrate/before")

    result.assert_outcomes(passed=2, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*LearningPhaseDeprecationWarning: `tf.keras.backend.set_learning_phase` is "
            "deprecated and will be removed after 2020-10-11.*"
        ]
    )


def test_migration_after_passes_without_warnings(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "migrate/after")

    result.assert_outcomes(passed=2, warnings=0)


def test_marker_forms_snippet_passes_with_its_ids(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "markers", "-v")

    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(
        [
            passed("test_marker_forms.py::test_one_item_per_phase[test]"),
            passed("test_marker_forms.py::test_one_item_per_phase[train]"),
            passed("test_marker_forms.py::test_one_item_per_phase[unset]"),
            passed("test_marker_forms.py::test_param_marker_is_the_closest[8]"),
            passed("test_marker_forms.py::test_param_marker_is_the_closest[16]"),
        ]
    )


def test_wrong_phase_snippet_fails_with_the_learning_phase_section(
    pytester: pytest.Pytester,
) -> None:
    result = run_snippet(pytester, "reports")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TestTrainingStep.test_dropout_keeps_every_value*",
            "E       assert [[][[]0.0, 4.0, 0.0, 8.0[]][]] == [[][[]1.0, 2.0, 3.0, 4.0[]][]]",
            "*- learning phase -*",
            "ran under phase 1 (train) from @pytest.mark.learning_phase(1) on class "
            "TestTrainingStep (backend reference)",
        ]
    )


def test_bad_marker_snippet_is_one_error_with_the_documented_message(
    pytester: pytest.Pytester,
) -> None:
    result = run_snippet(pytester, "errors")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_y*",
            "In test_bad_marker.py::test_y: @pytest.mark.learning_phase(2) on the test "
            "function: got 2; expected 0, 1 or None (a value set_learning_phase accepts, "
            "or None for unset)",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_bad_marker_short_summary_at_80_columns_is_the_documented_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for ci in ("CI", "BUILD_NUMBER"):  # pytest cuts the line only outside CI
        monkeypatch.delenv(ci, raising=False)
    page = (DOCS / "reference" / "marker.md").read_text(encoding="utf-8")
    documented = re.findall(r"^ERROR test_bad_marker\.py::test_y - .*$", page, re.MULTILINE)
    result = run_snippet(pytester, "errors", "-ra")
    assert documented == [
        line for line in result.stdout.lines if line.startswith("ERROR test_bad_marker.py")
    ]


def test_the_reports_page_shows_the_real_header_line_of_the_quickstart(
    pytester: pytest.Pytester,
) -> None:
    page = (DOCS / "reference" / "reports.md").read_text(encoding="utf-8")
    documented = re.findall(r"^learning-phase: .*$", page, re.MULTILINE)[0]
    result = run_snippet(pytester, "quickstart", "test_first.py")
    assert documented.replace("0.1.0", pytest_learning_phase.__version__) in result.stdout.lines


def test_ini_snippet_sets_the_default_phase(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "config")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: reference (ini learning_phase_backend), "
            "default phase: 0 (test) (ini learning_phase = 0), audit: off"
        ]
    )


def test_command_line_phase_overrides_the_ini_snippet(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "config", "--learning-phase=1")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*default phase: 1 (train) (--learning-phase=1), audit: off"])


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        pytest.param(
            ["--learning-phase=2"],
            "",
            "pytest: error: argument --learning-phase: expected 0 (or test, eval), 1 (or train) "
            "or unset, got '2'",
            id="option",
        ),
        pytest.param(
            [],
            "learning_phase = training",
            "ERROR: ini option learning_phase = 'training' (in pytest.ini): "
            "expected 0 (or test, eval), 1 (or train) or unset",
            id="ini",
        ),
        pytest.param(
            ["--learning-phase-backend=nope"],
            "",
            "ERROR: --learning-phase-backend=nope: unknown learning phase backend 'nope'; "
            "expected one of: reference, tf_keras, torch",
            id="backend",
        ),
    ],
)
def test_bad_setting_is_the_usage_error_the_options_page_shows(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makefile(".ini", pytest=f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_nothing(): pass")

    result = pytester.runpytest_subprocess(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_adapter_snippet_drives_its_framework(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "adapter", "-v", "--learning-phase-backend=minifw")

    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "learning-phase: *, backend: minifw (--learning-phase-backend), "
            "default phase: unset (default), audit: off",
            passed("test_minifw.py::test_dropout_follows_the_phase[test]"),
            passed("test_minifw.py::test_dropout_follows_the_phase[train]"),
            passed("test_minifw.py::test_a_leak_is_reported"),
            "*LearningPhaseLeakWarning: test_minifw.py::test_a_leak_is_reported changed the "
            "learning phase of backend minifw: it ran under phase unset and left phase 1 (train); "
            "restored phase unset",
        ]
    )


def test_adapter_snippet_offers_its_backend_by_name(pytester: pytest.Pytester) -> None:
    result = run_snippet(pytester, "adapter", "--learning-phase-backend=nosuch")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown learning phase backend 'nosuch'; expected one of: *"])
    assert "minifw" in result.stderr.str()


def test_helpers_snippet_passes(pytester: pytest.Pytester) -> None:
    copy_into(pytester, SNIPPETS / "helpers")

    result = pytester.runpytest_subprocess("test_helpers.py")

    result.assert_outcomes(passed=4)


def test_helper_failure_snippet_shows_the_documented_message(pytester: pytest.Pytester) -> None:
    copy_into(pytester, SNIPPETS / "helpers")

    result = pytester.runpytest_subprocess("test_helpers_failure.py")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: assert_phase_invariant: <GaussianNoise "
            "name='gaussian_noise'> gave different results in phase 0 (test) and "
            "phase 1 (train) on the reference backend",
            "E         at result: max abs difference 0.0640423 at index (0, 2): 0.0 (test) "
            "vs 0.06404226504432821 (train); 6 of 6 elements differ (rtol=1e-07, atol=0)",
        ]
    )


# -- The pages themselves ----------------------------------------------------------

LITERALINCLUDE = re.compile(r"^```\{literalinclude\}\s+(\S+)", re.MULTILINE)


def example_files() -> list[Path]:
    """Return every file of the example suite and the snippets."""
    return sorted(
        path
        for root in (EXAMPLES, SNIPPETS)
        for path in root.rglob("*")
        if path.is_file()
        and not any(part in {"__pycache__", ".pytest_cache"} for part in path.parts)
    )


def included_files() -> set[Path]:
    """Return every file a page includes with ``literalinclude``."""
    included: set[Path] = set()
    for page in DOCS.rglob("*.md"):
        if "_build" in page.parts or EXAMPLES in page.parents or SNIPPETS in page.parents:
            continue
        for target in LITERALINCLUDE.findall(page.read_text(encoding="utf-8")):
            included.add((page.parent / target).resolve())
    return included


@pytest.mark.parametrize("path", example_files(), ids=lambda path: str(path.relative_to(DOCS)))
def test_every_example_file_is_shown_in_a_page(path: Path) -> None:
    assert path in included_files()
