"""A ``unittest.TestCase``'s ``setUp`` that clears the phase is a fixture that only clears.

unittest runs ``setUp`` inside pytest's call, not as a fixture: the phase the
test asked for (marker, ``--learning-phase``, a wider fixture's baseline) is
set again when ``setUp`` returns, before the test method. A clear in the test
method stays the test's own business. Graph mode (``tf.test.TestCase``) is in
``test_plugin_tf_keras_graph.py``.
"""

from __future__ import annotations

import pytest

from tests._suite import Suite

LEAK = "pytest_learning_phase.LearningPhaseLeakWarning"

SETUP_CLEARS = """
import unittest

import pytest
from lp_backend import K, phase


class ClearsInSetUp(unittest.TestCase):
    def setUp(self):
        K.clear_session()  # the usual "fresh session" line


@pytest.mark.learning_phase(1)
class TestMarkedClass(ClearsInSetUp):
    def test_marked(self):
        assert phase() == 1

    @pytest.mark.learning_phase(0)
    def test_method_marker(self):
        assert phase() == 0

    def test_own_clear_is_its_business(self):
        K.clear_session()
        assert phase() is None


class TestUnmarked(ClearsInSetUp):
    def test_default(self):
        assert phase() == 1  # --learning-phase=1


class TestSetsInSetUp(unittest.TestCase):
    @pytest.mark.learning_phase(None)
    def test_unset_asked(self):
        assert phase() is None
"""


def test_a_setup_that_clears_keeps_markers_and_the_option(suite: Suite) -> None:
    suite.write(SETUP_CLEARS)
    result = suite.run("--learning-phase=1", "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=5)


def test_a_setup_that_clears_keeps_a_session_baseline(suite: Suite) -> None:
    """With a session fixture's phase, a setUp that clears is no leak of the test."""
    suite.pytester.makeconftest(
        """
        import warnings

        import pytest
        from lp_backend import K

        @pytest.fixture(scope="session", autouse=True)
        def inference_by_default():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                K.set_learning_phase(0)
        """
    )
    suite.write(
        """
        import unittest
        from lp_backend import K, phase

        class TestClears(unittest.TestCase):
            def setUp(self):
                K.clear_session()

            def test_first(self):
                assert phase() == 0

            def test_second(self):
                assert phase() == 0
        """
    )
    result = suite.run("-W", f"error::{LEAK}")
    result.assert_outcomes(passed=2)


def test_a_setup_that_sets_a_phase_is_obeyed_and_reported(suite: Suite) -> None:
    """A setUp that sets a phase is no clear: the test runs in it; the section says so."""
    suite.write(
        """
        import unittest
        import warnings

        import pytest
        from lp_backend import K, phase

        @pytest.mark.learning_phase(1)
        class TestSets(unittest.TestCase):
            def setUp(self):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    K.set_learning_phase(0)

            def test_fails(self):
                assert phase() == 1
        """
    )
    result = suite.run()
    result.assert_outcomes(failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "ran under phase 0 (test), set by its fixtures; it asked for phase 1 (train) from "
            "@pytest.mark.learning_phase(1) on class TestSets (backend *)"
        ]
    )


def test_an_async_setup_that_clears_keeps_the_marker(suite: Suite) -> None:
    """``IsolatedAsyncioTestCase``'s ``asyncSetUp`` runs where ``setUp`` does: the same rule."""
    suite.write(
        """
        import unittest

        import pytest
        from lp_backend import K, phase

        @pytest.mark.learning_phase(1)
        class TestAsync(unittest.IsolatedAsyncioTestCase):
            async def asyncSetUp(self):
                K.clear_session()
                self.cleared = True

            async def test_marked(self):
                assert self.cleared
                assert phase() == 1
        """
    )
    result = suite.run("-W", f"error::{LEAK}")
    result.assert_outcomes(passed=1)


def test_a_setup_that_clears_keeps_the_phase_of_every_backend(
    preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    """Two backends driven: each gets the asked-for phase back after a setUp that clears both."""
    pytester.makepyfile(
        test_both="""
        import unittest

        import pytest
        from tf_keras.src import backend as tf_keras_backend
        from pytest_learning_phase import backend as reference_backend

        @pytest.mark.learning_phase(1)
        class TestBoth(unittest.TestCase):
            def setUp(self):
                reference_backend.clear_session()
                tf_keras_backend.clear_session()

            def test_marked(self):
                assert reference_backend.learning_phase() == 1
                assert tf_keras_backend.learning_phase() == 1
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--learning-phase-backend=reference,tf_keras",
        "-W",
        f"error::{LEAK}",
    )
    result.assert_outcomes(passed=1)


def test_the_test_case_is_freed_after_its_test(reference_suite: Suite) -> None:
    """The setUp wrapper leaves no reference cycle: a TestCase's models go with it, gc or not."""
    reference_suite.write(
        """
        import gc
        import unittest
        import weakref

        import pytest

        REFS = []

        @pytest.mark.learning_phase(1)
        class TestHolds(unittest.TestCase):
            def setUp(self):
                REFS.append(weakref.ref(self))

            def test_a(self):
                gc.disable()

        def test_freed():
            try:
                assert REFS[0]() is None
            finally:
                gc.enable()
        """
    )
    result = reference_suite.run()
    result.assert_outcomes(passed=2)
