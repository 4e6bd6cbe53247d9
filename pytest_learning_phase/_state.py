"""The reference backend's state: a phase and flag per thread, session counters, reads.

The public :mod:`pytest_learning_phase.backend` (the tf_keras mirror) and the
reference adapter both work on this one copy: the backend through its API,
the adapter through :func:`snapshot`, :func:`restore` and :func:`unset`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Final

from pytest_learning_phase._phase import ABSENT

__all__ = [
    "EVERY_THREAD",
    "EVERY_THREAD_LOCK",
    "READS",
    "THREAD",
    "Snapshot",
    "next_seeded_draw",
    "next_uid",
    "reset_seeded_draws",
    "reset_uids",
    "restore",
    "restore_seeded_draws",
    "restore_uids",
    "seeded_draws",
    "snapshot",
    "uids",
    "unset",
]


class PhaseState:
    """One thread's state: its stored phase (or ``ABSENT``) and its ``is_set`` flag."""

    __slots__ = ("__weakref__", "is_set", "phase")

    def __init__(self) -> None:
        self.phase: object = ABSENT
        self.is_set = False


class _ThreadState(threading.local):
    """Gives each thread its own :class:`PhaseState`, registered for ``clear_session``."""

    def __init__(self) -> None:
        self.state = PhaseState()
        with EVERY_THREAD_LOCK:
            EVERY_THREAD.add(self.state)


class ReadCounter:
    """How many times code read the phase (for the audit); one plain int, cheap to bump."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


# Every thread's state (weakly: it goes with its thread), so that clear_session()
# can drop every thread's stored phase at once, as tf_keras does when it replaces
# _GRAPH_LEARNING_PHASES. Plain attributes, not a WeakKeyDictionary, keep the hot
# paths (learning_phase(), scope enter/exit) to a few attribute lookups.
EVERY_THREAD: Final[weakref.WeakSet[PhaseState]] = weakref.WeakSet()
EVERY_THREAD_LOCK: Final = threading.Lock()
THREAD: Final = _ThreadState()
READS: Final = ReadCounter()
"""Reads of the phase in any thread: ``learning_phase()``, ``global_learning_phase_is_set()``."""
_UID_COUNTERS: Final[dict[str, int]] = {}
_SEEDED_DRAWS: Final[dict[int, int]] = {}
"""How many masks each seed drew so far."""
_SEEDED_DRAWS_LOCK: Final = threading.Lock()

Snapshot = tuple[object, bool]
"""A thread's whole state: (stored phase or ``ABSENT``, ``is_set``)."""


def snapshot() -> Snapshot:
    """Return this thread's whole state."""
    state = THREAD.state
    return state.phase, state.is_set


def restore(saved: Snapshot) -> None:
    """Put this thread's state back exactly as :func:`snapshot` returned it."""
    state = THREAD.state
    state.phase, state.is_set = saved


def unset() -> None:
    """Make this thread's phase unset (absent, flag down), touching no other thread."""
    restore((ABSENT, False))


def next_uid(prefix: str) -> int:
    """Return the next number for a layer name with ``prefix`` (1, 2, ...)."""
    uid = _UID_COUNTERS.get(prefix, 0) + 1
    _UID_COUNTERS[prefix] = uid
    return uid


def reset_uids() -> None:
    """Forget every layer-name counter (``clear_session``)."""
    _UID_COUNTERS.clear()


def uids() -> dict[str, int]:
    """Return every layer-name counter (for the audit, to put them back)."""
    return dict(_UID_COUNTERS)


def restore_uids(saved: Mapping[str, int]) -> None:
    """Put every layer-name counter back where :func:`uids` found it."""
    _UID_COUNTERS.clear()
    _UID_COUNTERS.update(saved)


def next_seeded_draw(seed: int) -> int:
    """Return how many masks ``dropout(..., seed=seed)`` drew before this one (0, 1, ...).

    One sequence per seed for the whole process, as tf's eager op seed; the
    lock keeps it right across threads.
    """
    with _SEEDED_DRAWS_LOCK:
        drawn = _SEEDED_DRAWS.get(seed, 0)
        _SEEDED_DRAWS[seed] = drawn + 1
    return drawn


def reset_seeded_draws() -> None:
    """Restart every seed's sequence of dropout masks (``clear_session``)."""
    with _SEEDED_DRAWS_LOCK:
        _SEEDED_DRAWS.clear()


def seeded_draws() -> dict[int, int]:
    """Return how many masks each seed drew so far (for the audit, to put them back)."""
    with _SEEDED_DRAWS_LOCK:
        return dict(_SEEDED_DRAWS)


def restore_seeded_draws(saved: Mapping[int, int]) -> None:
    """Put every seed's sequence back where :func:`seeded_draws` found it."""
    with _SEEDED_DRAWS_LOCK:
        _SEEDED_DRAWS.clear()
        _SEEDED_DRAWS.update(saved)
