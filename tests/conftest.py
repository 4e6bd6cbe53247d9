"""Fixtures that run real pytest sessions with the plugin, on each backend.

The plugin's behavioural tests take the ``suite`` fixture: it writes test
files into a ``pytester`` directory and runs pytest on the reference backend
and again on tf_keras, from the same test code. The files import ``K`` from a
generated module ``lp_backend`` that is the backend under test.

Most runs are in-process (``runpytest``): the learning phase is the only state
the inner session changes, and the plugin itself puts it back when the inner
session ends (tested in ``test_plugin_isolation.py``), while the outer
session's plugin would flag any leak as an error. TensorFlow cannot be
imported twice in one process, which in-process runs also respect (see
``_preload_tf_keras``). Runs that need a fresh interpreter (xdist, start-up,
``-p no:learning_phase``, a missing framework) use ``run_subprocess``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy  # noqa: F401  # before pytester snapshots sys.modules: numpy loads once per process
import pytest

from tests._frameworks import require_tf_keras

BACKEND_MODULES = {
    "reference": "from pytest_learning_phase import backend as K\n",
    "tf_keras": "from tf_keras.src import backend as K\n",
}
PHASE_HELPER = """

def phase():
    \"\"\"The phase in effect: 0 or 1 when set, None when unset.\"\"\"
    return int(K.learning_phase()) if K.global_learning_phase_is_set() else None
"""


def _preload_tf_keras() -> None:
    """Import TensorFlow before pytester snapshots ``sys.modules``.

    pytester drops every module an inline run imported; TensorFlow cannot be
    imported twice in one process, so everything the inner runs touch is
    imported here, in the outer test, first.
    """
    require_tf_keras()
    import tf_keras.layers
    import tf_keras.src.backend  # noqa: F401

    import pytest_learning_phase.adapters.tf_keras  # noqa: F401


@dataclass
class Suite:
    """A pytest session under test: write files, run them, on one backend."""

    pytester: pytest.Pytester
    backend: str

    def write(self, source: str, name: str = "test_suite") -> None:
        """Write a test module (dedented) next to ``lp_backend``."""
        self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest in-process on the suite's backend.

        ``-W default`` first: the inner session must not inherit this suite's
        ``filterwarnings = error``, as a user's fresh process would not.
        """
        return self.pytester.runpytest(
            "-W",
            "default",
            "-p",
            "no:cacheprovider",
            f"--learning-phase-backend={self.backend}",
            *args,
        )

    def run_subprocess(self, *args: str) -> pytest.RunResult:
        """Run pytest in a fresh interpreter (for xdist, start-up and process-wide state)."""
        return self.pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--learning-phase-backend={self.backend}", *args
        )


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Give a pytester whose inner sessions run without pytest-randomly, unless a test enables it.

    The inner suites are written in order; a test about pytest-randomly passes
    ``-p randomly`` itself after removing this.
    """
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester


@pytest.fixture(params=["reference", "tf_keras"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each backend the plugin drives; tf_keras skips locally (fails in CI) when missing."""
    name: str = request.param
    if name == "tf_keras":
        _preload_tf_keras()
    return name


@pytest.fixture
def suite(backend_name: str, pytester: pytest.Pytester) -> Suite:
    """A pytester session on each backend, with ``from lp_backend import K`` available.

    ``backend_name`` comes first so TensorFlow is imported before pytester
    snapshots ``sys.modules``.
    """
    pytester.makepyfile(lp_backend=BACKEND_MODULES[backend_name] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, backend_name)


@pytest.fixture
def reference_suite(pytester: pytest.Pytester) -> Suite:
    """A pytester session on the reference backend only (options, audit, xdist plumbing)."""
    pytester.makepyfile(lp_backend=BACKEND_MODULES["reference"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "reference")
