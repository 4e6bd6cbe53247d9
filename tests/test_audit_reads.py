"""What the audit counts as a read: names bound directly, copies of modules, explicit modes.

The audit runs a test again only if it read the phase; a read it misses turns
a phase-dependent test into "never read it" (a silently wrong verdict).
"""

from __future__ import annotations

import textwrap

import pytest


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
