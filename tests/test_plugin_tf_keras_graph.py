"""tf_keras in graph mode (``tf.compat.v1.disable_eager_execution()``): isolated like eager mode.

Graph mode cannot be undone in a process, so each suite runs in a subprocess.
Models are run the graph-mode way, through the Keras session or ``K.function``.
"""

from __future__ import annotations

import pytest

from tests._frameworks import require_installed

HELPERS = """
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

import tf_keras
from tf_keras import backend as K
from tf_keras.api._v1.keras.backend import get_session  # tf.compat.v1.keras's, for tf_keras


def _model():
    return tf_keras.Sequential([tf_keras.layers.Dropout(0.5, input_shape=(200,))])


def dropped():
    '''How many of 200 units a new Dropout(0.5) model drops, run in the Keras session.'''
    model = _model()
    session = get_session()
    out = session.run(model.output, {model.input: np.ones((1, 200), "float32")})
    return int((out == 0).sum())


def dropped_by_function():
    '''The same, run through K.function.'''
    model = _model()
    out = K.function([model.input], [model.output])([np.ones((1, 200), "float32")])[0]
    return int((out == 0).sum())


def set_phase_by_hand(phase):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf_keras's deprecation UserWarning
        K.set_learning_phase(phase)
"""

LEAK = "pytest_learning_phase.LearningPhaseLeakWarning"


def _graph_suite(pytester: pytest.Pytester, **files: str) -> None:
    require_installed("tf_keras")
    pytester.makepyfile(graph_helpers=HELPERS)
    pytester.makeconftest("import graph_helpers  # graph mode from the start\n")
    pytester.makepyfile(**files)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--learning-phase-backend=tf_keras", *args
    )


def test_graph_mode_tests_do_not_leak_their_phase(pytester: pytest.Pytester) -> None:
    """A marked test, a test's own set_learning_phase and a clear_session stay in their test."""
    _graph_suite(
        pytester,
        test_graph="""
        import pytest
        from graph_helpers import K, dropped, dropped_by_function, set_phase_by_hand

        @pytest.mark.learning_phase(1)
        def test_marked_train(learning_phase):
            assert learning_phase == 1
            assert K.learning_phase() == 1
            assert dropped() > 0

        def test_unmarked_after_a_marked_test(learning_phase):
            assert learning_phase is None
            assert dropped() == 0
            assert dropped_by_function() == 0

        def test_sets_the_phase_itself():
            set_phase_by_hand(1)

        def test_unmarked_after_a_leak():
            assert not isinstance(K.learning_phase(), int)
            assert dropped() == 0
            assert dropped_by_function() == 0

        def test_clears_the_session():
            K.clear_session()

        def test_unmarked_after_clear_session():
            assert dropped() == 0

        @pytest.mark.learning_phase(0)
        def test_marked_test_fails():
            assert dropped() == 0
            assert False
        """,
    )
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=6, failed=1, errors=1)  # the leak: an error at teardown
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_sets_the_phase_itself*",
            "E   pytest_learning_phase.LearningPhaseLeakWarning: "
            "test_graph.py::test_sets_the_phase_itself changed the learning phase of backend "
            "tf_keras: it ran under phase unset and left phase 1 (train); restored phase unset",
            "*_ test_marked_test_fails _*",
            "ran under phase 0 (test) from @pytest.mark.learning_phase(0) on the test function "
            "(backend tf_keras)",
        ]
    )
    result.stdout.no_fnmatch_line("*set by its fixtures*")
    result.stdout.no_fnmatch_line("*Traceback*")
    assert "ERROR test_graph.py::test_sets_the_phase_itself" in result.stdout.str()


def test_graph_mode_placeholder_is_the_unset_phase(pytester: pytest.Pytester) -> None:
    """tf_keras's default placeholder (made at import here) is never saved as a phase."""
    _graph_suite(
        pytester,
        test_placeholder="""
        import pytest
        from graph_helpers import K, dropped

        def test_unset_with_the_placeholder(learning_phase):
            assert learning_phase is None
            assert dropped() == 0

        def test_clears_the_session():
            K.clear_session()

        def test_after_clear_session():
            assert dropped() == 0

        @pytest.mark.learning_phase(1)
        def test_marked():
            assert dropped() > 0

        def test_after_the_marked_test():
            assert dropped() == 0
        """,
    )
    pytester.makeconftest(
        "import graph_helpers\n\ngraph_helpers.K.learning_phase()  # the default placeholder\n"
    )
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=5)


SCOPED = """
import pytest
from graph_helpers import K, dropped, set_phase_by_hand

def test_first_unmarked():
    assert dropped() == 0

@pytest.fixture(scope="session")
def trained():
    set_phase_by_hand(1)
    yield "trained"

def test_requests_the_session_fixture(trained):
    assert K.learning_phase() == 1

def test_runs_in_the_session_baseline():
    assert K.learning_phase() == 1
    assert dropped() > 0

@pytest.mark.learning_phase(0)
def test_marked_test_phase():
    assert K.learning_phase() == 0
    assert dropped() == 0

def test_back_in_the_baseline():
    assert K.learning_phase() == 1
"""


def test_graph_mode_session_fixture_gives_a_baseline(pytester: pytest.Pytester) -> None:
    """A session fixture's set_learning_phase(1) is its scope's baseline, as in eager mode."""
    _graph_suite(pytester, test_scoped=SCOPED)
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=5)


OPTIONS = """
import pytest
from graph_helpers import K, dropped

def test_unmarked():
    assert K.learning_phase() == 1
    assert dropped() > 0

@pytest.mark.learning_phase(0)
def test_marked_test_phase():
    assert K.learning_phase() == 0

@pytest.mark.learning_phase(None)
def test_marked_unset():
    assert not isinstance(K.learning_phase(), int)
    assert dropped() == 0

def test_train_phase_fixture(train_phase):
    assert K.learning_phase() == 1
"""


@pytest.mark.parametrize("where", ["option", "ini"])
def test_graph_mode_markers_ini_and_option(pytester: pytest.Pytester, where: str) -> None:
    """``--learning-phase=1`` or the ini's ``learning_phase = 1``, overridden by markers."""
    _graph_suite(pytester, test_options=OPTIONS)
    if where == "ini":
        pytester.makeini("[pytest]\nlearning_phase = 1\n")
        result = _run(pytester)
    else:
        result = _run(pytester, "--learning-phase=1")
    result.assert_outcomes(passed=4)


def test_graph_mode_audit_rerun_does_not_leak(pytester: pytest.Pytester) -> None:
    """The audit's re-runs in each phase end in the state between tests."""
    _graph_suite(
        pytester,
        test_audit="""
        from graph_helpers import K, dropped

        def test_reads_the_phase():
            dropped()

        def test_next_is_unset():
            assert not isinstance(K.learning_phase(), int)
            assert dropped() == 0
        """,
    )
    result = _run(pytester, "--learning-phase-audit", "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*Traceback*")


TF_TESTCASE = """
import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from graph_helpers import K, dropped, dropped_by_function


@pytest.mark.learning_phase(1)
class TestMarked(tf.test.TestCase):
    # tf.test.TestCase.setUp resets TensorFlow's default graph, where the phase was.
    def test_phase(self):
        self.assertEqual(K.learning_phase(), 1)

    def test_dropout(self):
        self.assertGreater(dropped(), 0)
        self.assertGreater(dropped_by_function(), 0)


@pytest.mark.learning_phase(1)
class TestBuildsInSetUp(tf.test.TestCase):
    def setUp(self):
        super().setUp()  # a new default graph: the model below is built in phase 1 on it
        inp = tf_keras.Input((200,))
        self.phase_when_built = K.learning_phase()
        self.f = K.function([inp], [tf_keras.layers.Dropout(0.5)(inp)])

    def test_built_in_the_phase(self):
        self.assertEqual(self.phase_when_built, 1)
        self.assertTrue((self.f([np.ones((1, 200), "float32")])[0] == 0).any())


class TestUnmarkedAfterwards(tf.test.TestCase):
    def test_unset(self):
        self.assertNotIsInstance(K.learning_phase(), int)
        self.assertEqual(dropped(), 0)
"""

CLEAR_THEN_BUILD = """
import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from graph_helpers import K

pytestmark = pytest.mark.learning_phase(1)


def _build():
    inp = tf_keras.Input((200,))
    return K.learning_phase(), K.function([inp], [tf_keras.layers.Dropout(0.5)(inp)])


def _drops(function):
    return bool((function([np.ones((1, 200), "float32")])[0] == 0).any())


@pytest.fixture
def dropout_fn():
    K.clear_session()  # the usual "fresh graph" line, then the model
    return _build()


@pytest.fixture(scope="module")
def module_dropout_fn():
    K.clear_session()
    return _build()


def test_fixture_builds_in_the_tests_phase(dropout_fn):
    phase_when_built, function = dropout_fn
    assert phase_when_built == 1
    assert _drops(function)
    assert K.learning_phase() == 1


@pytest.mark.learning_phase(0)
def test_module_fixture_builds_in_its_scopes_phase(module_dropout_fn, dropout_fn):
    assert module_dropout_fn[0] == 1  # the module's marker, not this test's phase
    assert dropout_fn[0] == 0
    assert not _drops(dropout_fn[1])


def test_own_clear_is_the_tests_business():
    K.clear_session()
    phase_when_built, function = _build()
    assert not isinstance(phase_when_built, int)
    assert not _drops(function)


@pytest.fixture
def phase_of_a_new_graph():
    with tf.Graph().as_default():
        return K.learning_phase()


def test_a_graph_made_in_setup_has_the_phase_one_made_in_the_test_not(phase_of_a_new_graph):
    assert phase_of_a_new_graph == 1
    with tf.Graph().as_default():
        assert not isinstance(K.learning_phase(), int)
"""


BASELINE_THEN_CLEAR_THEN_BUILD = """
import numpy as np
import pytest
import tf_keras
from graph_helpers import K, set_phase_by_hand


@pytest.fixture(scope="session")
def trained():
    set_phase_by_hand(1)


@pytest.fixture
def dropout_fn():
    K.clear_session()
    inp = tf_keras.Input((200,))
    return K.function([inp], [tf_keras.layers.Dropout(0.5)(inp)])


def _drops(function):
    return bool((function([np.ones((1, 200), "float32")])[0] == 0).any())


def test_first_requester_of_the_baseline(trained, dropout_fn):
    assert K.learning_phase() == 1
    assert _drops(dropout_fn)


def test_after_it(trained, dropout_fn):
    assert K.learning_phase() == 1
    assert _drops(dropout_fn)
"""


def test_graph_mode_setups_that_clear_keep_the_phase(pytester: pytest.Pytester) -> None:
    """A setUp or fixture that makes a new default graph gives the test its phase, at once.

    ``tf.test.TestCase.setUp`` resets TensorFlow's default graph; a fixture calls
    ``clear_session()`` and then builds its model. Both get the phase asked for
    on the new graph; a clear in the test itself leaves it unset.
    """
    _graph_suite(pytester, test_tf_testcase=TF_TESTCASE, test_clear_then_build=CLEAR_THEN_BUILD)
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=8, skipped=3)  # tf.test.TestCase's own test_session


def test_graph_mode_a_baseline_set_up_by_the_test_reaches_its_fixtures_new_graph(
    pytester: pytest.Pytester,
) -> None:
    """A session fixture the test is the first to request: its later fixtures' graphs get it."""
    _graph_suite(pytester, test_baseline_then_build=BASELINE_THEN_CLEAR_THEN_BUILD)
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=2)


def test_graph_mode_tf_testcase_in_a_session_baseline(pytester: pytest.Pytester) -> None:
    """A session fixture's phase holds on the default graph each tf.test.TestCase makes."""
    _graph_suite(
        pytester,
        test_tc="""
        import tensorflow as tf
        from graph_helpers import K, dropped

        class TestPlain(tf.test.TestCase):
            def test_nothing_touched(self):
                self.assertEqual(1 + 1, 2)

            def test_reads(self):
                self.assertEqual(K.learning_phase(), 0)
                self.assertEqual(dropped(), 0)
        """,
    )
    pytester.makeconftest(
        """
        import pytest
        from graph_helpers import set_phase_by_hand

        @pytest.fixture(scope="session", autouse=True)
        def inference_by_default():
            set_phase_by_hand(0)
        """
    )
    result = _run(pytester, "-W", f"error::{LEAK}")
    result.assert_outcomes(passed=2, skipped=1)


def test_graph_mode_audit_runs_tf_testcase_in_each_phase(pytester: pytest.Pytester) -> None:
    """The audit's re-run in phase 1 of a tf.test.TestCase test runs in phase 1."""
    _graph_suite(
        pytester,
        test_audit_tc="""
        import tensorflow as tf
        from graph_helpers import dropped

        class TestAudit(tf.test.TestCase):
            def test_dropout_is_identity(self):
                self.assertEqual(dropped(), 0)
        """,
    )
    result = _run(pytester, "--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "*test_audit_tc.py::TestAudit::test_dropout_is_identity  test: passed   train: failed",
        ]
    )
    result.stdout.no_fnmatch_line("*none depends on the learning phase*")


def test_graph_mode_reports_say_what_unset_means_and_that_the_graph_keeps_the_mode(
    pytester: pytest.Pytester,
) -> None:
    """Not eager mode's words: unset is the placeholder, and the graph fixed the layer's mode."""
    _graph_suite(
        pytester,
        test_reports="""
        import numpy as np
        import pytest
        import tf_keras
        from graph_helpers import K

        def run_dropout():
            inputs = tf_keras.Input((200,))
            dropout = tf_keras.layers.Dropout(0.5)
            predict = K.function([inputs], [dropout(inputs)])
            return predict([np.ones((1, 200), "float32")])[0], dropout

        def test_unset():
            outputs, dropout = run_dropout()
            assert (outputs == 0).any()

        @pytest.mark.learning_phase(1)
        def test_marked():
            outputs, dropout = run_dropout()
            assert not (outputs == 0).any()
        """,
    )
    result = _run(pytester)
    result.assert_outcomes(failed=2)
    unset = (
        "graph mode: unset = learning_phase() is the keras_learning_phase placeholder, "
        "which reads 0 (test) unless fed"
    )
    fixed = (
        "  dropout* (Dropout): its mode was fixed when its graph was built (graph mode: "
        "the phase set then; unset, the keras_learning_phase placeholder)"
    )
    result.stdout.fnmatch_lines(
        [
            f"learning-phase: *, backend: tf_keras (--learning-phase-backend; {unset}), *",
            "*_ test_unset _*",
            f"ran under phase unset ({unset}) from default (backend tf_keras)",
            fixed,
            "*_ test_marked _*",
            "ran under phase 1 (train) from @pytest.mark.learning_phase(1) on the test function "
            "(backend tf_keras)",
            fixed,
        ]
    )
    result.stdout.no_fnmatch_line("*reads 0, and a layer called without training*")
    result.stdout.no_fnmatch_line("*resolved at each call*")
