"""The adapter for the real ``tf_keras`` backend (Keras 2 on TensorFlow).

Importing this module is cheap: TensorFlow is imported only by
:func:`make_tf_keras_adapter`, the factory the plugin calls when
``--learning-phase-backend=tf_keras`` is chosen.

tf_keras keeps the learning phase of a thread in three places, all driven here
through ``tf_keras.src.backend``'s internals (the same ones its own
``deprecated_internal_*`` functions use, so nothing warns):

* the thread's eager entry ``_GRAPH_LEARNING_PHASES[_DUMMY_EAGER_GRAPH.key]``
  (absent, or the value stored), which ``learning_phase()`` returns in eager code;
* the thread's flag ``_DUMMY_EAGER_GRAPH.learning_phase_is_set``, which
  ``global_learning_phase_is_set()`` returns and ``Layer.__call__`` consults;
* the entry of the thread's Keras graph (``get_graph()``), which
  ``learning_phase()`` returns while that graph is the default one: an explicit
  0 or 1, else a lazily created ``keras_learning_phase`` placeholder.

``clear_session()`` *rebinds* the module global ``_GRAPH_LEARNING_PHASES`` to a
new plain ``dict`` (and replaces the Keras graph), so it is always read through
the module attribute, never kept.

Under ``tf.compat.v1.disable_eager_execution()`` (graph mode) tf_keras keeps
the phase in a fourth place instead: the entry of TensorFlow's default graph
(``get_graph()`` is that graph), which ``set_learning_phase`` sets and
``learning_phase()`` reads. The adapter saves and restores it too, as one of
three distinct states: no entry, an explicit phase (0 or 1), or tf_keras's
default ``keras_learning_phase`` placeholder, which is the unset phase and is
never saved or restored as an explicit one. Whether the process is in graph
mode is read once per save, restore and read (one attribute compared).

In graph mode the phase is baked into what is built on a graph, so while the
plugin follows clears (:meth:`TfKerasAdapter.follow_clears`: a test that asks
for a phase is being set up) each graph tf_keras gives its default placeholder
(the new default graph after ``clear_session()`` or
``tf.compat.v1.reset_default_graph()``, a ``tf.Graph()`` built in) gets the
phase asked for instead, at once: ``_default_learning_phase``, which tf_keras
looks up in its module at each call, answers it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

import pytest

from pytest_learning_phase._phase import ABSENT, Phase
from pytest_learning_phase._provenance import Ran, Recording

__all__ = ["NOT_INSTALLED_MESSAGE", "TfKerasAdapter", "TfKerasState", "make_tf_keras_adapter"]

NOT_INSTALLED_MESSAGE: Final = (
    "the tf_keras backend needs tf-keras, which is not installed: "
    'pip install "pytest-learning-phase[tf]"'
)
"""The usage error of :func:`make_tf_keras_adapter` when tf-keras cannot be imported."""


@dataclass(frozen=True)
class TfKerasState:
    """One thread's whole learning-phase state in tf_keras, as saved by the adapter.

    ``graph_phase`` is the phase set explicitly on the thread's Keras graph, or
    ``ABSENT`` when that graph has none or only its default placeholder.
    ``default_graph_entry`` is, in graph mode, the entry of TensorFlow's default
    graph: ``ABSENT`` (no entry; also every state saved in eager mode, where
    that entry is not read), an explicit phase, or a :class:`DefaultPlaceholder`.
    """

    eager_phase: object
    is_set: bool
    graph_phase: object
    default_graph_entry: object = ABSENT


@dataclass(frozen=True)
class DefaultPlaceholder:
    """tf_keras's default ``keras_learning_phase`` placeholder on a graph: the unset phase.

    Kept as the ``weakref`` tf_keras stores, so that it is put back as it was,
    and only onto the graph it belongs to.
    """

    ref: weakref.ref[Any]


PHASE_READERS: Final = ("learning_phase", "global_learning_phase_is_set", "symbolic_learning_phase")
"""The functions of ``tf_keras.src.backend`` through which tf_keras code reads the phase.

``Layer.__call__`` consults ``global_learning_phase_is_set()`` and then
``learning_phase()`` when ``training`` is not given; ``in_train_phase``,
``Dropout``, ``BatchNormalization`` and the v1 training loops call
``learning_phase()`` or ``symbolic_learning_phase()``. All of them look the
function up on the module at each call.
"""


class _ReadCount:
    """How many times the counting wrappers were called, in any thread."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_READS: Final = _ReadCount()
"""One count per process: the wrappers are installed once, whatever the sessions."""


def _counting(reader: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``reader`` wrapped to add one to the read count per call."""
    reads = _READS

    @functools.wraps(reader)
    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.count += 1
        return reader(*args, **kwargs)

    counted.__learning_phase_counted__ = True  # type: ignore[attr-defined]
    return counted


def _install_read_counting(backend: ModuleType) -> None:
    """Replace each phase reader, wherever a loaded module holds it, by a counting wrapper.

    The wrappers are made once per process (the audit's later sessions reuse
    them). ``tf_keras.backend`` (and the API modules behind
    ``tf.keras.backend``) bind ``learning_phase`` at import, and so do a test
    module or helper that did ``from tf_keras.backend import learning_phase``
    before the audit started: every loaded module whose global holds an
    original reader gets the wrapper instead (each call of this function
    looks again, so a module imported since is covered too). Read through
    ``__dict__``: the lazy API modules import on ``getattr``.
    """
    swaps: dict[int, tuple[object, Callable[..., Any]]] = {}
    for name in PHASE_READERS:
        current = vars(backend).get(name)
        if current is None:
            continue
        original = getattr(current, "__wrapped__", current)
        if getattr(current, "__learning_phase_counted__", False):
            counted = current
        else:
            counted = _counting(original)
            backend.__dict__[name] = counted
        swaps[id(original)] = (original, counted)
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            swap = swaps.get(id(value))
            if swap is not None and swap[0] is value:
                with contextlib.suppress(Exception):  # a module that refuses: not counted
                    setattr(module, key, swap[1])


class _Following:
    """The phase a graph tf_keras makes unset gets instead, while the plugin follows clears."""

    __slots__ = ("phase",)

    def __init__(self) -> None:
        self.phase: Phase = None


_FOLLOWING: Final = _Following()
"""One per process, like the read count: the wrapper is installed once, whatever the sessions."""


def _install_following(backend: ModuleType) -> None:
    """Make ``backend._default_learning_phase`` answer the followed phase while there is one.

    tf_keras calls it (looked up in its module) where it gives a graph its
    default ``keras_learning_phase`` placeholder: in ``clear_session()`` and
    on a graph's first read of the phase. Installed once per process.
    """
    current = vars(backend).get("_default_learning_phase")
    if current is None or getattr(current, "__learning_phase_following__", False):
        return
    following = _FOLLOWING

    @functools.wraps(current)
    def default_learning_phase() -> Any:
        phase = following.phase
        return current() if phase is None else phase

    default_learning_phase.__learning_phase_following__ = True  # type: ignore[attr-defined]
    backend._default_learning_phase = default_learning_phase  # type: ignore[attr-defined]


class TfKerasAdapter:
    """Save, set, read and restore the learning phase of ``tf_keras.src.backend``."""

    name: Final = "tf_keras"

    def __init__(self, backend: ModuleType) -> None:
        """Drive ``backend``, the module ``tf_keras.src.backend``."""
        self._backend: Any = backend
        from tensorflow.python.eager import context

        self._eager_context: Any = context
        """TensorFlow's eager context module: whether eager execution was disabled."""
        self._eager_mode: object = context.EAGER_MODE
        from tensorflow.python.framework import ops

        self._default_graph: Callable[[], Any] = ops.get_default_graph
        """TensorFlow's default graph, where tf_keras keeps the phase in graph mode."""
        self._placeholder: weakref.ref[Any] | None = None
        """The Keras graph's default placeholder entry, while a set phase replaces it."""

    def save_state(self) -> TfKerasState:
        """Return this thread's eager entry, ``is_set`` flag and explicit Keras-graph phase.

        In graph mode, also the default graph's entry (:class:`TfKerasState`).
        """
        backend = self._backend
        phases = backend._GRAPH_LEARNING_PHASES
        eager = backend._DUMMY_EAGER_GRAPH
        if self._eager_context.default_execution_mode == self._eager_mode:
            return TfKerasState(
                eager_phase=phases.get(eager.key, ABSENT),
                is_set=eager.learning_phase_is_set,
                graph_phase=self._explicit_graph_phase(phases),
            )
        entry = phases.get(self._default_graph(), ABSENT)
        return TfKerasState(
            eager_phase=phases.get(eager.key, ABSENT),
            is_set=eager.learning_phase_is_set,
            graph_phase=self._explicit_graph_phase(phases),
            default_graph_entry=(
                DefaultPlaceholder(entry) if isinstance(entry, weakref.ref) else entry
            ),
        )

    def restore_state(self, state: object) -> None:
        """Put back a :class:`TfKerasState`, also after the code in between cleared the session.

        The graph part goes onto the thread's *current* Keras graph (in graph
        mode, also onto TensorFlow's current default graph): after
        ``clear_session()`` that is a new graph, whose default placeholder is
        left alone when the saved state had no explicit graph phase.
        """
        if not isinstance(state, TfKerasState):
            raise TypeError(f"expected a state saved by TfKerasAdapter, got {state!r}")
        backend = self._backend
        phases = backend._GRAPH_LEARNING_PHASES
        eager = backend._DUMMY_EAGER_GRAPH
        eager.learning_phase_is_set = state.is_set
        if state.eager_phase is ABSENT:
            phases.pop(eager.key, None)
        else:
            phases[eager.key] = state.eager_phase
        if state.graph_phase is ABSENT:
            graph = getattr(backend._GRAPH, "graph", None)
            if graph is not None and self._explicit_graph_phase(phases) is not ABSENT:
                del phases[graph]
                self._put_placeholder_back(phases, graph)
        else:
            graph = backend.get_graph()
            self._keep_placeholder(phases.get(graph))
            phases[graph] = state.graph_phase
        if self._eager_context.default_execution_mode != self._eager_mode:
            self._restore_default_graph(phases, state.default_graph_entry)

    def _restore_default_graph(self, phases: Any, saved: object) -> None:
        """Put back the default graph's entry: an explicit phase, or the unset phase.

        The unset phase (no entry, or a default placeholder) only removes an
        explicit phase: the graph gets back the placeholder it had before that
        phase was set (the saved one, else the one kept by :meth:`set_phase`),
        if it is still that graph's, and a placeholder made in between stays,
        since the models built since use it.
        """
        graph = self._default_graph()
        current = phases.get(graph, ABSENT)
        if saved is not ABSENT and not isinstance(saved, DefaultPlaceholder):
            self._keep_placeholder(current)
            phases[graph] = saved
            return
        if isinstance(current, weakref.ref):
            return
        if current is not ABSENT:
            del phases[graph]
        if isinstance(saved, DefaultPlaceholder) and self._placeholder_of(saved.ref, graph):
            phases[graph] = saved.ref
        else:
            self._put_placeholder_back(phases, graph)

    def set_phase(self, phase: Phase) -> None:
        """Set 0 or 1 with ``deprecated_internal_set_learning_phase`` (no warning), or unset.

        Unset (``None``) is the state of a fresh thread: no eager entry, flag
        down, no explicit phase on the Keras graph. It is made without
        ``clear_session()``, which would also reset layer-name counters, the
        Keras graph and every other thread's phase.
        """
        if phase is None:
            self.restore_state(_UNSET)
        else:
            backend = self._backend
            if self._eager_context.default_execution_mode == self._eager_mode:
                graph = getattr(backend._GRAPH, "graph", None)
            else:
                graph = self._default_graph()
            if graph is not None:
                self._keep_placeholder(backend._GRAPH_LEARNING_PHASES.get(graph))
            backend.deprecated_internal_set_learning_phase(phase)

    def get_phase(self) -> Phase:
        """Return ``None`` when nothing is stored and the flag is down, else 0 or 1.

        With the flag up and nothing stored (another thread cleared the
        session) tf_keras's ``learning_phase()`` returns 0, and so does this.
        In graph mode, the default graph's explicit phase, else ``None`` (its
        default placeholder is the unset phase).
        """
        backend = self._backend
        if self._eager_context.default_execution_mode != self._eager_mode:
            entry = backend._GRAPH_LEARNING_PHASES.get(self._default_graph(), ABSENT)
            if entry is ABSENT or isinstance(entry, weakref.ref):
                return None
            return 1 if entry == 1 else 0
        eager = backend._DUMMY_EAGER_GRAPH
        stored_phase = backend._GRAPH_LEARNING_PHASES.get(eager.key, ABSENT)
        if stored_phase is ABSENT:
            return 0 if eager.learning_phase_is_set else None
        return 1 if stored_phase == 1 else 0

    def follow_clears(self, phase: Phase) -> None:
        """In graph mode, give ``phase`` to each graph tf_keras makes unset from now on; None stops.

        The new default graph after ``clear_session()`` or
        ``tf.compat.v1.reset_default_graph()`` gets ``phase`` as an explicit
        phase, as ``set_learning_phase`` would give it, when tf_keras first
        gives that graph a phase. In eager mode nothing changes: layers read
        the phase at each call, and the plugin sets it again after the fixture.
        """
        if phase is not None and self._eager_context.default_execution_mode == self._eager_mode:
            return
        if phase is not None:
            _install_following(self._backend)
        _FOLLOWING.phase = phase

    def phase_read_counter(self) -> Callable[[], int]:
        """Count the calls of tf_keras's phase readers from now on (for the audit).

        Wraps the functions of :data:`PHASE_READERS` where tf_keras keeps them,
        once per process (the audit's later sessions reuse the wrappers); the
        adapter itself never calls them, so its own saves and restores are not
        counted. A module that bound a reader by name (``from tf_keras.backend
        import learning_phase``) gets the wrapper too, see
        :func:`_install_read_counting`.
        """
        _install_read_counting(self._backend)
        reads = _READS
        return lambda: reads.count

    def _keep_placeholder(self, graph_entry: object) -> None:
        """Keep the Keras graph's default placeholder entry that a set phase is replacing.

        tf_keras names the placeholder ``keras_learning_phase`` once per graph; a
        second one would be ``keras_learning_phase_1``. Putting the first back
        when the phase is unset again leaves the graph as a run without the
        plugin would.
        """
        if isinstance(graph_entry, weakref.ref):
            self._placeholder = graph_entry

    def _put_placeholder_back(self, phases: Any, graph: object) -> None:
        """Give ``graph`` back its default placeholder, if the one kept is still its own."""
        placeholder = self._placeholder
        if placeholder is not None and self._placeholder_of(placeholder, graph):
            phases[graph] = placeholder

    @staticmethod
    def _placeholder_of(placeholder: weakref.ref[Any], graph: object) -> bool:
        """Return whether the ``placeholder`` is still alive and ``graph``'s."""
        tensor = placeholder()
        return tensor is not None and getattr(tensor, "graph", None) is graph

    def record_provenance(self) -> Recording:
        """Record each layer call's resolved ``training`` and its source (``_keras_recording``)."""
        from pytest_learning_phase.adapters._keras_recording import record_tf_keras_layers

        return record_tf_keras_layers(self._backend)

    @property
    def header_note(self) -> str | None:
        """In graph mode, what unset means there (header line, failure section); else None."""
        if self._eager_context.default_execution_mode == self._eager_mode:
            return None
        return _GRAPH_UNSET_NOTE

    def held_provenance(self, values: Sequence[tuple[str, object]]) -> list[Ran]:
        """Return the tf_keras layers taking ``training`` among ``values``.

        Their mode is resolved at each call in eager mode; in graph mode it was
        fixed when the graph was built (:data:`_GRAPH_BUILT_MODE`).
        """
        from tf_keras.src.engine import base_layer

        from pytest_learning_phase.adapters._keras_recording import held_layers

        layer_class = base_layer.Layer
        graph_mode = self._eager_context.default_execution_mode != self._eager_mode
        held = held_layers(
            values,
            lambda value: isinstance(value, layer_class) and bool(value._expects_training_arg),
            _GRAPH_BUILT_MODE if graph_mode else "",
        )
        return held + _traced_functions(values)

    def _explicit_graph_phase(self, phases: Any) -> object:
        """Return the phase set on this thread's Keras graph, ``ABSENT`` if none or default.

        Does not create the Keras graph. tf_keras keeps its default placeholder
        as a ``weakref``; an explicit phase is a plain value.
        """
        graph = getattr(self._backend._GRAPH, "graph", None)
        if graph is None:
            return ABSENT
        graph_phase = phases.get(graph, ABSENT)
        if isinstance(graph_phase, weakref.ref):
            return ABSENT
        return graph_phase


_GRAPH_UNSET_NOTE: Final = (
    "graph mode: unset = learning_phase() is the keras_learning_phase placeholder, "
    "which reads 0 (test) unless fed"
)
"""What unset means in graph mode: tf_keras's default placeholder, ``False`` unless fed."""

_GRAPH_BUILT_MODE: Final = (
    "its mode was fixed when its graph was built (graph mode: the phase set then; "
    "unset, the keras_learning_phase placeholder)"
)
"""A held layer's line in a failure's section in graph mode: the graph keeps the mode."""

_UNSET: Final = TfKerasState(ABSENT, is_set=False, graph_phase=ABSENT)
"""The state of a fresh thread: what ``set_phase(None)`` restores."""


TRACE_KEEPS_PHASE: Final = (
    "traced before; each trace keeps the phase it was traced in, whatever the phase now"
)


def _traced_functions(values: Sequence[tuple[str, object]]) -> list[Ran]:
    """Return the ``tf.function`` objects among ``values`` that hold a trace already."""
    found: list[Ran] = []
    seen: set[int] = set()
    for name, value in values:
        kind = type(value)
        if id(value) in seen or kind.__name__ != "Function":
            continue
        if not kind.__module__.startswith("tensorflow.python.eager.polymorphic_function"):
            continue
        seen.add(id(value))
        try:
            traced = int(value.experimental_get_tracing_count())  # type: ignore[attr-defined]
        except Exception:  # a function that cannot say: not listed
            continue
        if traced:
            found.append(Ran(name, "tf.function", None, TRACE_KEEPS_PHASE))
    return found


def make_tf_keras_adapter() -> TfKerasAdapter:
    """Import tf_keras and return its adapter: the ``tf_keras`` backend's factory.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` first unless already set.

    :raises pytest.UsageError: if tf-keras (or TensorFlow) is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from tf_keras.src import backend
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing not in {"tf_keras", "tensorflow"}:
            raise
        raise pytest.UsageError(NOT_INSTALLED_MESSAGE) from error
    return TfKerasAdapter(backend)
