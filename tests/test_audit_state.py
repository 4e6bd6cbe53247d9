"""What the audit puts back after the re-runs: held generators, layer-name counters.

Each test runs a real pytest session without the audit and one with it, each
test of the inner suite logging what it drew (or named), and compares the logs:
every run of an audited test gets what its first run got, and the test after it
what it gets without the audit.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from tests._frameworks import require_installed
from tests._suite import Suite, preload_tf_keras

LOG = """
def log(value):
    with open("draws.log", "a", encoding="utf-8") as out:
        out.write(f"{value!r}\\n")
"""


@dataclass(frozen=True)
class Held:
    """A generator the suite holds (``gen`` fixture, ``draw(gen)``), of one family."""

    framework: str
    preamble: str
    draw_first: bool = False
    """Whether an earlier test draws first (the fixture is set up before the audited test)."""


HELD = {
    "numpy Generator in a module fixture, set up by the audited test": Held(
        "numpy",
        """
        import numpy
        import pytest

        @pytest.fixture(scope="module")
        def gen():
            return {"streams": [numpy.random.default_rng(0)]}

        def draw(gen):
            return float(gen["streams"][0].random())
        """,
    ),
    "numpy RandomState, a global of the test's module": Held(
        "numpy",
        """
        import numpy
        import pytest

        GEN = numpy.random.RandomState(1)

        @pytest.fixture
        def gen():
            return GEN

        def draw(gen):
            return float(gen.rand())
        """,
        draw_first=True,
    ),
    "numpy bit generator in a session fixture's object": Held(
        "numpy",
        """
        import types
        import numpy
        import pytest

        @pytest.fixture(scope="session")
        def gen():
            return types.SimpleNamespace(bits=numpy.random.PCG64(2))

        def draw(gen):
            return float(numpy.random.Generator(gen.bits).random())
        """,
        draw_first=True,
    ),
    "random.Random in a module fixture's list": Held(
        "numpy",
        """
        import random
        import pytest

        @pytest.fixture(scope="module")
        def gen():
            return [random.Random(3)]

        def draw(gen):
            return gen[0].random()
        """,
        draw_first=True,
    ),
    "torch.Generator, a global of the test's module": Held(
        "torch",
        """
        import pytest
        import torch

        GEN = torch.Generator().manual_seed(7)

        @pytest.fixture
        def gen():
            return GEN

        def draw(gen):
            return torch.rand(1, generator=gen).item()
        """,
    ),
    "tf.random.Generator in a module fixture": Held(
        "tensorflow",
        """
        import pytest
        import tensorflow as tf

        @pytest.fixture(scope="module")
        def gen():
            return tf.random.Generator.from_seed(3)

        def draw(gen):
            return float(gen.uniform(()))
        """,
        draw_first=True,
    ),
}


@pytest.fixture
def preloaded(held: Held) -> Held:
    """Import the generator's framework before pytester snapshots ``sys.modules`` (once)."""
    require_installed(held.framework)
    if held.framework == "tensorflow":
        preload_tf_keras()
    elif held.framework == "torch":
        import torch  # noqa: F401
    return held


@pytest.mark.parametrize("held", HELD.values(), ids=HELD.keys())
def test_a_held_generator_starts_each_run_where_the_first_did_and_is_left_as_it_left_it(
    preloaded: Held, pytester: pytest.Pytester
) -> None:
    held = preloaded
    pytester.makepyfile(lp_backend="from pytest_learning_phase import backend as K\n")
    pytester.syspathinsert()
    suite = Suite(pytester, "reference")
    first = "def test_draws_first(gen):\n    log(draw(gen))\n" if held.draw_first else ""
    suite.write(
        textwrap.dedent(held.preamble)
        + LOG
        + f"""
from lp_backend import K

{first}
def test_reads_the_phase_and_draws(gen):
    log(draw(gen))
    if K.learning_phase():  # as dropout does: the runs leave the stream in other states
        draw(gen)

def test_draws_next(gen):
    log(draw(gen))
"""
    )
    tests = 2 + held.draw_first
    suite.run().assert_outcomes(passed=tests)
    result = suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=tests)
    result.stdout.fnmatch_lines(["*: 1 read it and ran again in phases 0 (test) and 1 (train)*"])
    draws = (pytester.path / "draws.log").read_text().splitlines()
    plain, audited = draws[:tests], draws[tests:]
    *before, audited_draw, after = plain
    assert len(set(plain)) == len(plain)  # the draws differ: the stream moves
    assert audited == [*before, audited_draw, audited_draw, audited_draw, after]


def test_the_next_test_gets_the_automatic_layer_names_it_gets_without_the_audit(
    suite: Suite,
) -> None:
    layers = {
        "reference": "from pytest_learning_phase import layers",
        "tf_keras": "from tf_keras import layers",
    }[suite.backend]
    suite.write(
        f"{LOG}\n{layers}\n"
        """
import numpy
from lp_backend import K

def test_names_a_layer_before():
    K.clear_session()  # each session starts from the same counters
    log(layers.GaussianNoise(0.1).name)

def test_reads_the_phase_and_names_layers():
    dropout = layers.Dropout(0.5)
    dropout(numpy.ones((1, 4), "float32"))
    log((dropout.name, layers.GaussianNoise(0.1).name))
    if K.learning_phase():  # the runs leave the counters in other states
        layers.Dropout(0.5)

def test_names_the_next_layers():
    log((layers.Dropout(0.5).name, layers.GaussianNoise(0.1).name))
"""
    )
    suite.run().assert_outcomes(passed=3)
    result = suite.run("--learning-phase-audit")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*: 1 read it and ran again in phases 0 (test) and 1 (train)*"])
    logged = (suite.pytester.path / "draws.log").read_text().splitlines()
    (before, named, after), audited = logged[:3], logged[3:]
    assert named != after
    assert audited == [before, named, named, named, after]
