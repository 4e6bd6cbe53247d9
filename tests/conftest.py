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

from collections.abc import Iterator

import numpy  # noqa: F401  # before pytester snapshots sys.modules: numpy loads once per process
import pytest

from pytest_learning_phase import _auto, _state
from tests._frameworks import require_torch
from tests._suite import BACKEND_MODULES, PHASE_HELPER, Suite, preload_tf_keras


@pytest.fixture
def restored_backend_state() -> Iterator[None]:
    """Leave this thread's reference phase as the test found it, whatever the test did.

    The plugin restores it too, but reports a test that leaves it changed: the
    backend's own unit tests change it on purpose.
    """
    saved = _state.snapshot()
    yield
    _state.restore(saved)


@pytest.fixture
def unset(restored_backend_state: None) -> None:
    """Start the test with the reference phase unset (absent, flag down)."""
    _state.unset()


@pytest.fixture
def preloaded_torch() -> None:
    """Import torch before pytester snapshots ``sys.modules``: it loads once per process.

    Request it before ``pytester``. Fails under CI (skips locally) without torch.
    """
    require_torch()
    import torch.nn  # noqa: F401

    import pytest_learning_phase.adapters.torch  # noqa: F401


@pytest.fixture
def preloaded_tf_keras() -> None:
    """Import TensorFlow before pytester snapshots ``sys.modules`` (request it first)."""
    preload_tf_keras()


@pytest.fixture
def pytester(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.Pytester]:
    """Give a pytester whose inner sessions run without pytest-randomly, unless a test enables it.

    The inner suites are written in order; a test about pytest-randomly passes
    ``-p randomly`` itself after removing this. The reference layers' name
    counters start from nothing, as in a user's fresh process (the first
    ``Dropout`` is ``dropout``, whatever this process built before), and are
    put back afterwards.
    """
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    _hide_preloaded_frameworks(monkeypatch)
    layer_names = _state.uids()
    _state.reset_uids()
    yield pytester
    _state.restore_uids(layer_names)


def _hide_preloaded_frameworks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``auto`` in in-process sessions blind to the frameworks this process imported.

    This suite imports tf_keras and torch (test modules, preloads) before
    pytester runs an inner session in the same process; a user's fresh
    process would not have them. The inner ``auto`` then sees only what it
    imports itself, and what ``auto`` makes of a real suite's imports is
    tested in subprocesses (``tests/test_plugin_auto.py``).
    """
    preloaded = set(_auto.imported_frameworks())
    imported = _auto.imported_frameworks
    monkeypatch.setattr(
        _auto,
        "imported_frameworks",
        lambda: tuple(name for name in imported() if name not in preloaded),
    )


@pytest.fixture(params=["reference", "tf_keras"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each backend the plugin drives; tf_keras skips locally (fails in CI) when missing."""
    name: str = request.param
    if name == "tf_keras":
        preload_tf_keras()
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
