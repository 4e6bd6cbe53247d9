"""The pytest sessions under test: write a suite, run it on one backend, read what it did.

The suites import ``K`` from a generated module ``lp_backend`` that is the
backend under test, and ``phase()``: 0 or 1 when set, None when unset.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

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


def preload_tf_keras() -> None:
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

    def record_between_tests(self) -> None:
        """Add a conftest that records the phase after each test, once all its teardown ran."""
        self.pytester.makeconftest(BETWEEN_TESTS_CONFTEST)

    def between_tests(self) -> dict[str, object]:
        """Return the phase recorded after each test (by name) by :meth:`record_between_tests`."""
        log = self.pytester.path / "between.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return {
            name: ast.literal_eval(value) for name, value in (line.split(" ", 1) for line in lines)
        }

    def run_subprocess(self, *args: str) -> pytest.RunResult:
        """Run pytest in a fresh interpreter (for xdist, start-up and process-wide state)."""
        return self.pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--learning-phase-backend={self.backend}", *args
        )


BETWEEN_TESTS_CONFTEST = """
from lp_backend import phase

def pytest_runtest_logfinish(nodeid):
    with open("between.log", "a", encoding="utf-8") as log:
        log.write(f"{nodeid.split('::')[-1]} {phase()!r}\\n")
"""
"""Records the state *between* tests: after each test's whole protocol, teardown included."""


def memory_adapter_conftest(name: str, *, audit_hint: str | None = None) -> str:
    """Return a conftest offering backend ``name``: an adapter that keeps its phase in memory.

    The adapter is ``conftest.ADAPTER``; a test can set ``ADAPTER.phase`` itself.
    It cannot tell whether the phase was read (no ``phase_read_counter``).
    """
    hint = "" if audit_hint is None else f"\n    audit_hint = {audit_hint!r}"
    return f"""
class Adapter:
    name = {name!r}{hint}
    phase = None

    def save_state(self):
        return self.phase

    def restore_state(self, state):
        self.phase = state

    def set_phase(self, phase):
        self.phase = phase

    def get_phase(self):
        return self.phase

ADAPTER = Adapter()

def pytest_learning_phase_backends(config):
    return {{{name!r}: lambda: ADAPTER}}
"""
