"""Isolation: the phase is set from setup to teardown and restored whatever the outcome."""

from __future__ import annotations

import pytest

from tests.conftest import Suite

# Each entry: a test that sets phase 1 (by marker, then also by hand) and ends with
# the given outcome; the suite's last test checks that the state came back.
OUTCOMES = {
    "pass": ("", "pass", "passed"),
    "fail": ("", "assert False", "failed"),
    "skip": ("", "pytest.skip('no')", "skipped"),
    "xfail": ("@pytest.mark.xfail(strict=True)", "assert False", "xfailed"),
    "xpass": ("@pytest.mark.xfail(strict=False)", "pass", "xpassed"),
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_state_is_restored_after_each_call_outcome(suite: Suite, outcome: str) -> None:
    decorator, body, expected = OUTCOMES[outcome]
    suite.write(
        f"""
        import pytest
        from lp_backend import phase

        {decorator}
        @pytest.mark.learning_phase(1)
        def test_first():
            assert phase() == 1
            {body}

        def test_second_sees_a_fresh_state():
            assert phase() is None
        """
    )
    result = suite.run("-p", "no:randomly")
    counts = {"passed": 1}
    counts[expected] = counts.get(expected, 0) + 1
    result.assert_outcomes(**counts)


@pytest.mark.parametrize("when", ["setup", "teardown"])
def test_state_is_restored_after_an_error_in_a_fixture(suite: Suite, when: str) -> None:
    setup_raise, teardown_raise = (
        ("raise RuntimeError('boom')", "")
        if when == "setup"
        else (
            "",
            "raise RuntimeError('boom')",
        )
    )
    suite.write(
        f"""
        import pytest
        from lp_backend import phase

        @pytest.fixture
        def broken():
            {setup_raise}
            yield
            {teardown_raise}

        @pytest.mark.learning_phase(1)
        def test_first(broken):
            pass

        def test_second_sees_a_fresh_state():
            assert phase() is None
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=2 if when == "teardown" else 1, errors=1)


def test_skip_marker_and_skipif_leave_the_state_untouched(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        @pytest.mark.skip(reason="no")
        @pytest.mark.learning_phase(1)
        def test_skipped():
            pass

        @pytest.mark.skipif(True, reason="no")
        @pytest.mark.learning_phase(0)
        def test_skipped_if():
            pass

        def test_after():
            assert phase() is None
        """
    )
    suite.run().assert_outcomes(passed=1, skipped=2)


def test_function_fixtures_see_the_phase_in_setup_and_teardown(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import phase

        seen = []

        @pytest.fixture
        def recorder():
            seen.append(("setup", phase()))
            yield
            seen.append(("teardown", phase()))

        @pytest.mark.learning_phase(0, 1)
        def test_phases(recorder):
            pass

        def test_recorded():
            assert seen == [("setup", 0), ("teardown", 0), ("setup", 1), ("teardown", 1)]
        """
    )
    suite.run().assert_outcomes(passed=3)


def test_the_plugin_itself_never_emits_the_deprecation_warning(suite: Suite) -> None:
    suite.write(
        """
        import pytest

        @pytest.mark.learning_phase(0, 1, None)
        def test_each():
            pass

        def test_with_fixture(train_phase):
            pass
        """
    )
    result = suite.run("-W", "error::DeprecationWarning", "-W", "error::UserWarning")
    result.assert_outcomes(passed=4)


def test_a_test_calling_the_deprecated_api_still_sees_the_warning(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(1)
        def test_calls_it():
            with pytest.warns(UserWarning, match="set_learning_phase` is deprecated"):
                K.set_learning_phase(1)
        """
    )
    suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning").assert_outcomes(
        passed=1
    )


def test_deprecated_call_catches_the_reference_backend_warning(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(0)
        def test_calls_it():
            with pytest.deprecated_call():
                K.set_learning_phase(0)
        """
    )
    reference_suite.run().assert_outcomes(passed=1)


LEAKS = {
    "set by hand": (
        "",
        "K.set_learning_phase(1)",
        "left the learning phase at 1 (train) (the plugin had set unset); restored unset",
    ),
    "cleared": (
        "@pytest.mark.learning_phase(1)",
        "K.clear_session()",
        "left the learning phase at unset (the plugin had set 1 (train)); restored unset",
    ),
    "flipped": (
        "@pytest.mark.learning_phase(0)",
        "K.set_learning_phase(1)",
        "left the learning phase at 1 (train) (the plugin had set 0 (test)); restored unset",
    ),
}


@pytest.mark.parametrize("leak", LEAKS)
def test_a_leaking_test_gets_a_warning_naming_it_what_it_left_and_what_was_restored(
    suite: Suite, leak: str
) -> None:
    decorator, statement, message = LEAKS[leak]
    suite.write(
        f"""
        import warnings
        import pytest
        from lp_backend import K, phase

        {decorator}
        def test_leaks():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                {statement}

        def test_after():
            assert phase() is None
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "test_suite.py::test_leaks",
            f"*test_suite.py:*: LearningPhaseLeakWarning: test_suite.py::test_leaks {message}",
        ]
    )


def test_leak_warning_as_error_fails_only_the_leaking_test_in_teardown(suite: Suite) -> None:
    suite.write(
        """
        import warnings
        from lp_backend import K, phase

        def test_leaks():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(0)

        def test_after():
            assert phase() is None
        """
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks*",
            "E   *LearningPhaseLeakWarning: test_suite.py::test_leaks left the learning phase at "
            "0 (test) (the plugin had set unset); restored unset",
        ]
    )


def test_filterwarnings_mark_silences_a_known_leak(suite: Suite) -> None:
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K

        @pytest.mark.filterwarnings("ignore::pytest_learning_phase.LearningPhaseLeakWarning")
        def test_known_leak():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(1)
        """
    )
    result = suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning")
    result.assert_outcomes(passed=1)


def test_a_test_that_restores_what_it_changed_gets_no_warning(suite: Suite) -> None:
    suite.write(
        """
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(0)
        def test_tidy():
            with pytest.warns(UserWarning):
                with K.learning_phase_scope(1):
                    assert K.learning_phase() == 1
        """
    )
    suite.run("-W", "error::pytest_learning_phase.LearningPhaseLeakWarning").assert_outcomes(
        passed=1
    )


def test_session_end_restores_the_state_even_when_a_test_exits_the_session(
    suite: Suite,
) -> None:
    suite.write(
        """
        import warnings
        import pytest
        from lp_backend import K

        @pytest.mark.learning_phase(1)
        def test_exits():
            pytest.exit("stop here")
        """
    )
    before = _outer_state(suite.backend)
    suite.run()
    assert _outer_state(suite.backend) == before


def _outer_state(backend: str) -> tuple[object, bool]:
    """The learning phase of this (outer) process on ``backend``."""
    if backend == "tf_keras":
        from tf_keras.src import backend as K
    else:
        from pytest_learning_phase import backend as K  # type: ignore[no-redef]
    return K.learning_phase(), K.global_learning_phase_is_set()


def test_our_own_suite_runs_with_the_plugin_isolating_it() -> None:
    from pytest_learning_phase import backend as K

    assert not K.global_learning_phase_is_set()


EVERY_OUTCOME = """
import warnings
import pytest
from lp_backend import K

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

@pytest.mark.learning_phase(1)
def test_passes():
    pass

@pytest.mark.learning_phase(1)
def test_fails():
    assert False

@pytest.mark.learning_phase(1)
def test_setup_error(broken_setup):
    pass

@pytest.mark.learning_phase(1)
def test_teardown_error(broken_teardown):
    pass

@pytest.mark.learning_phase(0)
def test_teardown_error_after_a_leak(broken_teardown):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(1)

@pytest.mark.learning_phase(1)
def test_skips():
    pytest.skip("no")

@pytest.mark.xfail(strict=True)
@pytest.mark.learning_phase(1)
def test_xfails():
    assert False

@pytest.mark.xfail(strict=False)
@pytest.mark.learning_phase(1)
def test_xpasses():
    pass

@pytest.mark.learning_phase(2)
def test_bad_marker():
    pass

def test_leaks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K.set_learning_phase(0)
"""

BETWEEN_TESTS_CONFTEST = """
from lp_backend import phase

def pytest_runtest_logfinish(nodeid):
    print(f"\\nafter {nodeid.split('::')[-1]}: {phase()}")
"""


def test_state_is_restored_after_each_test_whatever_the_outcome(suite: Suite) -> None:
    suite.pytester.makeconftest(BETWEEN_TESTS_CONFTEST)
    suite.write(EVERY_OUTCOME)
    result = suite.run("-s", "-p", "no:randomly")
    result.assert_outcomes(
        passed=4, failed=1, errors=4, skipped=1, xfailed=1, xpassed=1, warnings=1
    )
    after = [line for line in result.stdout.lines if line.startswith("after ")]
    assert after == [
        f"after {name}: None"
        for name in (
            "test_passes",
            "test_fails",
            "test_setup_error",
            "test_teardown_error",
            "test_teardown_error_after_a_leak",
            "test_skips",
            "test_xfails",
            "test_xpasses",
            "test_bad_marker",
            "test_leaks",
        )
    ]
