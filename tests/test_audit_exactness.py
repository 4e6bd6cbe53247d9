"""The audit leaves the framework and the random streams as a run without it would.

Every run of an audited test starts from the random state the first run
started from, the tests after it draw what they would without the audit, and
nothing the audit did (setting a phase, restoring it) shows in a later test.
"""

from __future__ import annotations

import pytest

from tests._frameworks import require_installed
from tests._suite import Suite

DRAW_LOGGER = """
def log(name, value):
    with open(f"{name}.log", "a", encoding="utf-8") as log_file:
        log_file.write(f"{value}\\n")
"""


def logged(suite: Suite, name: str) -> list[str]:
    """Return the values the suite logged under ``name``, one per run that logged."""
    path = suite.pytester.path / f"{name}.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def plain_and_audited(suite: Suite, *args: str, subprocess: bool = False) -> None:
    """Run the suite without the audit, then with it (the logs keep both runs' values)."""
    run = suite.run_subprocess if subprocess else suite.run
    plain = run(*args)
    plain.assert_outcomes(passed=2)
    audited = run("--learning-phase-audit", *args)
    audited.assert_outcomes(passed=2)
    audited.stdout.fnmatch_lines(["none depends on the learning phase"])


def test_numpy_first_used_inside_the_test_gives_every_run_the_same_draws(
    reference_suite: Suite,
) -> None:
    # numpy 2 imports numpy.random on first use: here, inside the audited test.
    reference_suite.pytester.makepyfile(draws=DRAW_LOGGER)
    reference_suite.write(
        """
        import numpy as np
        from draws import log
        from lp_backend import K

        def test_reads_then_draws():
            K.learning_phase()
            log("audited", np.random.rand())
        """
    )
    result = reference_suite.run_subprocess("--learning-phase-audit")
    result.assert_outcomes(passed=1)
    first, phase_0, phase_1 = logged(reference_suite, "audited")
    assert phase_0 == first
    assert phase_1 == first


def test_reference_seeded_dropout_streams_start_each_run_where_the_first_did(
    reference_suite: Suite,
) -> None:
    reference_suite.pytester.makepyfile(draws=DRAW_LOGGER)
    reference_suite.write(
        """
        import numpy as np
        from draws import log
        from lp_backend import K

        K.clear_session()  # each session's streams start afresh (two sessions, one process)

        def mask():
            return "".join("1" if value else "0" for value in K.dropout(np.ones(32), 0.5, seed=42))

        def test_reads_then_draws_a_seeded_mask():
            K.learning_phase()
            log("audited", mask())

        def test_after_draws_a_seeded_mask():
            log("after", mask())
        """
    )
    plain_and_audited(reference_suite)
    plain_audited, audited_0, audited_1, audited_2 = logged(reference_suite, "audited")
    assert audited_0 == audited_1 == audited_2 == plain_audited
    plain_after, audited_after = logged(reference_suite, "after")
    assert audited_after == plain_after
    assert plain_after != plain_audited  # the stream went on: the check can fail


TF_OP_SEED_SUITE = """
import tensorflow as tf
from draws import log
from lp_backend import K

def test_reads_then_draws_from_an_op_seed():
    K.learning_phase()
    log("audited", float(tf.random.uniform((), seed=5)))

def test_after_draws_from_another_op_seed():
    log("after", float(tf.random.uniform((), seed=6)))
"""


@pytest.mark.parametrize("global_seed", [None, 0], ids=["no-global-seed", "global-seed"])
def test_tensorflow_op_seed_streams_start_each_run_alike(
    reference_suite: Suite, global_seed: int | None
) -> None:
    """The three runs draw alike; other op seeds' streams are untouched by the re-runs.

    An op seed's own stream cannot be put back (docs/howto/audit.md): it restarts.
    """
    require_installed("tensorflow")
    seeding = "" if global_seed is None else f"tf.random.set_seed({global_seed})\n"
    reference_suite.pytester.makeconftest(f"import tensorflow as tf\n{seeding}")
    reference_suite.pytester.makepyfile(draws=DRAW_LOGGER)
    reference_suite.write(TF_OP_SEED_SUITE)
    plain_and_audited(reference_suite, subprocess=True)
    plain_audited, audited_0, audited_1, audited_2 = logged(reference_suite, "audited")
    assert audited_0 == audited_1 == audited_2 == plain_audited
    plain_after, audited_after = logged(reference_suite, "after")
    assert audited_after == plain_after


def test_tf_keras_learning_phase_placeholder_is_not_made_twice(suite: Suite) -> None:
    """Setting a phase and restoring it keeps the Keras graph's one placeholder.

    As tf-keras's own ``backend_test.py`` checks: ``keras_learning_phase:0``,
    not ``keras_learning_phase_1:0`` after a test that ran in a set phase.
    """
    if suite.backend != "tf_keras":
        pytest.skip("the placeholder is tf_keras's")
    suite.write(
        """
        import pytest
        from lp_backend import K

        def test_makes_the_placeholder():
            K.clear_session()
            assert K.symbolic_learning_phase().name == "keras_learning_phase:0"

        def test_reads_the_phase():
            K.learning_phase()

        @pytest.mark.learning_phase(1)
        def test_marked():
            pass

        def test_finds_the_same_placeholder():
            assert K.symbolic_learning_phase().name == "keras_learning_phase:0"
        """
    )
    suite.run().assert_outcomes(passed=4)
    suite.run("--learning-phase-audit").assert_outcomes(passed=4)
