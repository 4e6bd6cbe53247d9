"""Contract tests of the learning-phase adapters, run on the reference and the tf_keras backend.

Each test reads the backend's raw per-thread state (stored phase, ``is_set``
flag and, for tf_keras, the phase set on its Keras graph) directly, so the
adapter is checked against the backend itself, and the ``backend`` fixture
fails a test that leaves that state changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_learning_phase import _state
from pytest_learning_phase import backend as reference_backend
from pytest_learning_phase._phase import ABSENT
from pytest_learning_phase.adapters import LearningPhaseAdapter
from pytest_learning_phase.adapters.reference import ReferenceAdapter
from pytest_learning_phase.adapters.tf_keras import NOT_INSTALLED_MESSAGE
from tests._frameworks import require_tf_keras
from tests._threads import run_in_thread

MISSING = "<missing>"
"""What the raw state shows for an entry that is not there."""

RawState = tuple[object, ...]


def _typed(value: object) -> object:
    """Return ``value`` with its type, so that ``True`` and ``1`` are told apart."""
    return value if value is MISSING else (type(value), value)


@dataclass(frozen=True)
class Backend:
    """One backend under test: its adapter, its modules and raw access to its state."""

    name: str
    adapter: LearningPhaseAdapter
    internal: Any
    """The module with the internal names (``deprecated_internal_*``, scopes, ...)."""
    public: Any
    """The module users import (``learning_phase``)."""
    raw_state: Callable[[], RawState]
    put_raw_state: Callable[[RawState], None]
    fresh_state: RawState
    next_uid: Callable[[str], int]

    def typed_state(self) -> tuple[object, ...]:
        """Return the raw state with the type of every stored value."""
        return tuple(_typed(part) for part in self.raw_state())


def _reference_backend() -> Backend:
    module = reference_backend

    def raw_state() -> RawState:
        stored_phase, is_set = _state.snapshot()
        return (MISSING if stored_phase is ABSENT else stored_phase, is_set)

    def put_raw_state(state: RawState) -> None:
        stored_phase, is_set = state
        assert isinstance(is_set, bool)
        _state.restore((ABSENT if stored_phase is MISSING else stored_phase, is_set))

    return Backend(
        name="reference",
        adapter=ReferenceAdapter(),
        internal=module,
        public=module,
        raw_state=raw_state,
        put_raw_state=put_raw_state,
        fresh_state=(MISSING, False),
        next_uid=_state.next_uid,
    )


def _tf_keras_backend() -> Backend:
    tf_keras = require_tf_keras()
    from tf_keras.src import backend as module

    from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

    def graph_phase() -> object:
        graph = getattr(module._GRAPH, "graph", None)
        entry = MISSING if graph is None else module._GRAPH_LEARNING_PHASES.get(graph, MISSING)
        # The default entry is a weakref to the keras_learning_phase placeholder.
        return MISSING if isinstance(entry, weakref.ref) else entry

    def raw_state() -> RawState:
        eager = module._DUMMY_EAGER_GRAPH
        eager_phase = module._GRAPH_LEARNING_PHASES.get(eager.key, MISSING)
        return (eager_phase, eager.learning_phase_is_set, graph_phase())

    def put_raw_state(state: RawState) -> None:
        eager_phase, is_set, explicit_graph_phase = state
        phases = module._GRAPH_LEARNING_PHASES
        eager = module._DUMMY_EAGER_GRAPH
        eager.learning_phase_is_set = is_set
        if eager_phase is MISSING:
            phases.pop(eager.key, None)
        else:
            phases[eager.key] = eager_phase
        if explicit_graph_phase is not MISSING:
            phases[module.get_graph()] = explicit_graph_phase
        elif graph_phase() is not MISSING:
            del phases[module._GRAPH.graph]

    return Backend(
        name="tf_keras",
        adapter=make_tf_keras_adapter(),
        internal=module,
        public=tf_keras.backend,
        raw_state=raw_state,
        put_raw_state=put_raw_state,
        fresh_state=(MISSING, False, MISSING),
        next_uid=module.get_uid,
    )


@pytest.fixture(params=["reference", "tf_keras"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend in turn; the test fails if it leaves the backend's state changed."""
    under_test = _reference_backend() if request.param == "reference" else _tf_keras_backend()
    state_before = under_test.raw_state()
    yield under_test
    state_after = under_test.raw_state()
    under_test.put_raw_state(state_before)
    assert state_after == state_before, "the test left the learning-phase state changed"


# -- Starting states: how a test may find the backend. -------------------------


def _start_unset(backend: Backend, stack: contextlib.ExitStack) -> None:
    backend.put_raw_state(backend.fresh_state)


def _start_set_0(backend: Backend, stack: contextlib.ExitStack) -> None:
    _start_unset(backend, stack)
    backend.internal.deprecated_internal_set_learning_phase(0)


def _start_set_1(backend: Backend, stack: contextlib.ExitStack) -> None:
    _start_unset(backend, stack)
    backend.internal.deprecated_internal_set_learning_phase(1)


def _start_stored_flag_down(backend: Backend, stack: contextlib.ExitStack) -> None:
    """Inside ``eager_learning_phase_scope(1)`` entered from unset: 1 stored, flag down."""
    _start_unset(backend, stack)
    stack.enter_context(backend.internal.eager_learning_phase_scope(1))


def _start_flag_up_nothing_stored(backend: Backend, stack: contextlib.ExitStack) -> None:
    """Set 1 here, then ``clear_session()`` in another thread: flag up, nothing stored."""
    _start_set_1(backend, stack)
    run_in_thread(backend.internal.clear_session)


STARTING_STATES = {
    "unset": (_start_unset, None),
    "set-0": (_start_set_0, 0),
    "set-1": (_start_set_1, 1),
    "stored-flag-down": (_start_stored_flag_down, 1),
    "flag-up-nothing-stored": (_start_flag_up_nothing_stored, 0),
}
"""Name: (how to get there, what ``get_phase()`` reads there)."""


@pytest.fixture(params=list(STARTING_STATES))
def starting_state(backend: Backend, request: pytest.FixtureRequest) -> Iterator[str]:
    """Put the backend in each starting state in turn, yield its name, then put back its state."""
    enter_state, _ = STARTING_STATES[request.param]
    state_before = backend.raw_state()
    with contextlib.ExitStack() as stack:
        enter_state(backend, stack)
        yield request.param
    backend.put_raw_state(state_before)


# -- What the code under test may do between save and restore. -----------------


def _call_set_learning_phase(value: int) -> Callable[[Backend], None]:
    def call(backend: Backend) -> None:
        with pytest.warns(UserWarning, match="set_learning_phase` is deprecated"):
            backend.internal.set_learning_phase(value)

    return call


def _scope_around_set(backend: Backend) -> None:
    with backend.internal.deprecated_internal_learning_phase_scope(1):
        backend.internal.deprecated_internal_set_learning_phase(0)


def _scopes_exited_out_of_order(backend: Backend) -> None:
    outer = backend.internal.deprecated_internal_learning_phase_scope(1)
    inner = backend.internal.deprecated_internal_learning_phase_scope(0)
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)


def _clear_session_inside_scope(backend: Backend) -> None:
    with backend.internal.deprecated_internal_learning_phase_scope(1):
        backend.internal.clear_session()


def _eager_scope(backend: Backend) -> None:
    with backend.internal.eager_learning_phase_scope(0):
        pass


CODE_UNDER_TEST: dict[str, Callable[[Backend], None]] = {
    "clear_session": lambda backend: backend.internal.clear_session(),
    "set_learning_phase(0)": _call_set_learning_phase(0),
    "set_learning_phase(1)": _call_set_learning_phase(1),
    "scope(1)-around-set(0)": _scope_around_set,
    "scopes-exited-out-of-order": _scopes_exited_out_of_order,
    "clear_session-inside-scope(1)": _clear_session_inside_scope,
    "eager_scope(0)": _eager_scope,
}


# -- The contract. -------------------------------------------------------------


def test_adapter_satisfies_the_protocol(backend: Backend) -> None:
    assert isinstance(backend.adapter, LearningPhaseAdapter)


def test_adapter_name_is_the_backend_name(backend: Backend) -> None:
    assert backend.adapter.name == backend.name


def test_get_phase_reads_the_starting_state(backend: Backend, starting_state: str) -> None:
    _, expected_phase = STARTING_STATES[starting_state]

    assert backend.adapter.get_phase() == expected_phase


@pytest.mark.parametrize("phase", [0, 1, None])
def test_restore_state_undoes_set_phase(
    backend: Backend, starting_state: str, phase: int | None
) -> None:
    state_before = backend.typed_state()
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(phase)  # type: ignore[arg-type]

    backend.adapter.restore_state(saved)

    assert backend.typed_state() == state_before


@pytest.mark.parametrize("code_under_test", list(CODE_UNDER_TEST))
def test_restore_state_undoes_what_the_code_under_test_did(
    backend: Backend, starting_state: str, code_under_test: str
) -> None:
    state_before = backend.typed_state()
    saved = backend.adapter.save_state()
    CODE_UNDER_TEST[code_under_test](backend)

    backend.adapter.restore_state(saved)

    assert backend.typed_state() == state_before


@pytest.mark.parametrize("phase", [0, 1, None])
def test_get_phase_returns_what_set_phase_set(
    backend: Backend, starting_state: str, phase: int | None
) -> None:
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(phase)  # type: ignore[arg-type]
    try:
        assert backend.adapter.get_phase() == phase
    finally:
        backend.adapter.restore_state(saved)


@pytest.mark.parametrize(
    ("phase", "learning_phase", "is_set"),
    [(None, 0, False), (0, 0, True), (1, 1, True)],
)
def test_backend_reads_what_set_phase_set(
    backend: Backend, starting_state: str, phase: int | None, learning_phase: int, is_set: bool
) -> None:
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(phase)  # type: ignore[arg-type]
    try:
        read = (backend.public.learning_phase(), backend.internal.global_learning_phase_is_set())
    finally:
        backend.adapter.restore_state(saved)

    assert read == (learning_phase, is_set)


def test_set_phase_none_leaves_the_fresh_state(backend: Backend, starting_state: str) -> None:
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(None)
    try:
        state = backend.raw_state()
    finally:
        backend.adapter.restore_state(saved)

    assert state == backend.fresh_state


def test_set_phase_none_keeps_layer_name_counters(backend: Backend) -> None:
    prefix = "pytest_learning_phase_test_uid"
    saved = backend.adapter.save_state()
    uid_before = backend.next_uid(prefix)
    backend.adapter.set_phase(None)
    try:
        uid_after = backend.next_uid(prefix)
    finally:
        backend.adapter.restore_state(saved)

    assert uid_after == uid_before + 1


def test_set_phase_none_leaves_other_threads_phase(backend: Backend) -> None:
    other_thread_has_set = threading.Event()
    this_thread_has_unset = threading.Event()
    other_thread_read: list[object] = []

    def other_thread() -> None:
        backend.internal.deprecated_internal_set_learning_phase(1)
        other_thread_has_set.set()
        this_thread_has_unset.wait(timeout=30)
        other_thread_read.append(backend.public.learning_phase())

    thread = threading.Thread(target=other_thread)
    thread.start()
    other_thread_has_set.wait(timeout=30)
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(None)
    backend.adapter.restore_state(saved)
    this_thread_has_unset.set()
    thread.join()

    assert other_thread_read == [1]


@pytest.mark.parametrize("phase", [0, 1, None])
def test_set_phase_emits_no_warning(
    backend: Backend, starting_state: str, phase: int | None
) -> None:
    saved = backend.adapter.save_state()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend.adapter.set_phase(phase)  # type: ignore[arg-type]
    backend.adapter.restore_state(saved)

    assert [str(warning.message) for warning in caught] == []


def test_adapter_in_another_thread_leaves_this_thread_alone(
    backend: Backend, starting_state: str
) -> None:
    state_before = backend.typed_state()

    def use_adapter() -> None:
        adapter = backend.adapter
        saved = adapter.save_state()
        adapter.set_phase(1)
        adapter.set_phase(0)
        adapter.restore_state(saved)
        adapter.set_phase(None)

    run_in_thread(use_adapter)

    assert backend.typed_state() == state_before


@pytest.mark.parametrize("phase", [0, 1])
def test_new_thread_starts_unset_whatever_this_thread_set(backend: Backend, phase: int) -> None:
    saved = backend.adapter.save_state()
    backend.adapter.set_phase(phase)  # type: ignore[arg-type]
    try:
        phase_in_new_thread = run_in_thread(backend.adapter.get_phase)
    finally:
        backend.adapter.restore_state(saved)

    assert phase_in_new_thread is None


# -- tf_keras only: its Keras graph, its states, its factory. ------------------


@pytest.fixture
def tf_keras_backend() -> Iterator[Backend]:
    """Yield the tf_keras backend alone; the test fails if it leaves its state changed."""
    under_test = _tf_keras_backend()
    state_before = under_test.raw_state()
    yield under_test
    state_after = under_test.raw_state()
    under_test.put_raw_state(state_before)
    assert state_after == state_before, "the test left the learning-phase state changed"


def _keras_graph_learning_phase(backend: Backend) -> object:
    """Return what ``learning_phase()`` reads while the Keras graph is the default graph."""
    with backend.internal.get_graph().as_default():
        return backend.public.learning_phase()


@pytest.mark.parametrize("phase", [0, 1])
def test_tf_keras_set_phase_sets_the_keras_graph_phase(
    tf_keras_backend: Backend, phase: int
) -> None:
    saved = tf_keras_backend.adapter.save_state()
    tf_keras_backend.adapter.set_phase(phase)  # type: ignore[arg-type]
    try:
        graph_phase = _keras_graph_learning_phase(tf_keras_backend)
    finally:
        tf_keras_backend.adapter.restore_state(saved)

    assert graph_phase == phase


def test_tf_keras_set_phase_none_gives_the_keras_graph_its_placeholder(
    tf_keras_backend: Backend,
) -> None:
    saved = tf_keras_backend.adapter.save_state()
    tf_keras_backend.adapter.set_phase(1)
    tf_keras_backend.adapter.set_phase(None)
    try:
        graph_phase = _keras_graph_learning_phase(tf_keras_backend)
    finally:
        tf_keras_backend.adapter.restore_state(saved)

    # A new placeholder when the graph already had one: keras_learning_phase_1, ...
    assert re.fullmatch(r"keras_learning_phase(_\d+)?:0", graph_phase.name)  # type: ignore[attr-defined]


def test_tf_keras_restore_state_rejects_a_state_it_did_not_save(
    tf_keras_backend: Backend,
) -> None:
    with pytest.raises(TypeError, match=r"^expected a state saved by TfKerasAdapter, got \(0, "):
        tf_keras_backend.adapter.restore_state((0, True))


def test_tf_keras_factory_builds_the_tf_keras_adapter() -> None:
    require_tf_keras()
    from pytest_learning_phase.adapters.tf_keras import TfKerasAdapter, make_tf_keras_adapter

    assert isinstance(make_tf_keras_adapter(), TfKerasAdapter)


def _run_python(code: str, environment: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter; return its stdout (stderr too if it fails)."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


FACTORY_WITHOUT_TF_KERAS = """
import os, sys
sys.modules["tf_keras"] = None  # as if tf-keras were not installed
import pytest
from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter
try:
    make_tf_keras_adapter()
except pytest.UsageError as error:
    print(f"UsageError: {error}")
print(f"TF_CPP_MIN_LOG_LEVEL={os.environ.get('TF_CPP_MIN_LOG_LEVEL')}")
"""


def _environment_without_log_level() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def test_factory_without_tf_keras_raises_usage_error_saying_what_to_install() -> None:
    output = _run_python(FACTORY_WITHOUT_TF_KERAS)

    assert output.splitlines()[0] == f"UsageError: {NOT_INSTALLED_MESSAGE}"
    assert NOT_INSTALLED_MESSAGE == (
        "the tf_keras backend needs tf-keras, which is not installed: "
        'pip install "pytest-learning-phase[tf]"'
    )


FACTORY_WITH_BROKEN_TF_KERAS = """
import sys
sys.path.insert(0, sys.argv[1])  # a tf_keras whose backend imports a missing module
from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter
try:
    make_tf_keras_adapter()
except Exception as error:
    print(f"{type(error).__name__}: {error}")
"""


def test_factory_lets_a_broken_tf_keras_raise_its_own_import_error(tmp_path: Path) -> None:
    backend_module = tmp_path / "tf_keras" / "src" / "backend.py"
    backend_module.parent.mkdir(parents=True)
    (tmp_path / "tf_keras" / "__init__.py").write_text("")
    (backend_module.parent / "__init__.py").write_text("")
    backend_module.write_text("import a_module_tf_keras_needs\n")

    completed = subprocess.run(
        [sys.executable, "-c", FACTORY_WITH_BROKEN_TF_KERAS, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert completed.stdout == ("ModuleNotFoundError: No module named 'a_module_tf_keras_needs'\n")


@pytest.mark.parametrize(("already_set", "expected"), [(None, "2"), ("0", "0")])
def test_factory_sets_tf_cpp_min_log_level_unless_already_set(
    already_set: str | None, expected: str
) -> None:
    environment = _environment_without_log_level()
    if already_set is not None:
        environment["TF_CPP_MIN_LOG_LEVEL"] = already_set

    output = _run_python(FACTORY_WITHOUT_TF_KERAS, environment)

    assert output.splitlines()[1] == f"TF_CPP_MIN_LOG_LEVEL={expected}"


def test_importing_the_adapter_module_imports_no_framework() -> None:
    code = (
        "import sys, pytest_learning_phase.adapters.tf_keras\n"
        "print(sorted({name.partition('.')[0] for name in sys.modules}"
        " & {'tensorflow', 'tf_keras', 'keras', 'numpy'}))"
    )

    assert _run_python(code).strip() == "[]"
