"""What ran in which mode during one run of a test: the provenance of its phase-dependent calls.

An adapter that can say which layers or modules ran, in which mode and why
(:class:`~pytest_learning_phase.adapters.ProvenanceRecording`) records them
into a :class:`Provenance` only while the plugin arms it: every run of a test
under the audit. A plain run records nothing (its failure section describes
the modules the failing code holds instead), so a passing test pays nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "DEFAULT_LABELS",
    "MAX_SHOWN",
    "Provenance",
    "Ran",
    "Recording",
    "mode_label",
    "shown_and_rest",
]

DEFAULT_LABELS: Final = ("test", "train")
"""How phases 0 and 1 are written when the adapter declares no ``phase_labels``."""

MAX_SHOWN: Final = 4
"""How many layers or modules a report lists before it counts the rest."""


@dataclass(frozen=True, slots=True)
class Ran:
    """One layer or module that ran in one mode, for one reason, ``calls`` times in a run."""

    name: str
    """Its name: a Keras layer's ``name``, a torch module's path in its model (``model.drop``)."""
    kind: str
    """Its class name: ``Dropout``."""
    training: bool | None
    """The mode it ran in: ``True`` train, ``False`` test (eval); ``None``: not a plain value."""
    source: str
    """Where the mode came from: ``built while the phase was unset``, ``the global phase``, ..."""
    calls: int = 1
    labels: tuple[str, str] | None = None
    """How its backend writes modes 0 and 1 (torch: eval, train); None: the report's."""

    @property
    def who(self) -> str:
        """``model.drop (Dropout)``."""
        return f"{self.name} ({self.kind})"


class Recording(Protocol):
    """A recording in progress (an adapter's ``record_provenance()``)."""

    def ran(self) -> list[Ran]:
        """Return what ran so far (a failure's section is made before the run ends)."""
        ...

    def stop(self) -> list[Ran]:
        """Stop recording, put back what it wrapped, and return what ran."""
        ...


def mode_label(training: bool | None, labels: tuple[str, str] = DEFAULT_LABELS) -> str:
    """Return ``train mode``, ``eval mode``, ...; ``a symbolic mode`` for a tensor."""
    if training is None:
        return "a symbolic mode (a tensor, decided when the graph runs)"
    return f"{labels[1] if training else labels[0]} mode"


class Provenance:
    """Collect what ran during one run: each (who, mode, source) once, with a count.

    ``add`` may be called from any thread; the order of first calls is kept.
    Two layers that share a name are told apart by their path: the names of
    the layers whose calls enclosed their first call (``parent``), joined by
    ``/`` as Keras names weights, as far out as it takes to tell them apart
    (``inner/drop`` and ``outer/drop``).
    """

    __slots__ = ("_counts", "_lock", "parents")

    def __init__(self) -> None:
        self._counts: dict[tuple[Hashable, str, str, bool | None, str], int] = {}
        self.parents: dict[Hashable, tuple[Hashable, str]] = {}
        """The layer whose call enclosed each layer's first call, and its name: a recorder
        sets it on a layer's first call (``parents.setdefault(key, (parent, name))``)."""
        self._lock = threading.Lock()

    def add(self, key: Hashable, name: str, kind: str, training: bool | None, source: str) -> None:
        """Note one call of the layer or module ``key`` (its identity), named ``name``."""
        entry = (key, name, kind, training, source)
        with self._lock:
            self._counts[entry] = self._counts.get(entry, 0) + 1

    def ran(self) -> list[Ran]:
        """Return what ran, in the order of first calls (shared names made paths)."""
        with self._lock:
            items = list(self._counts.items())
            parents = dict(self.parents)
        keys_of: dict[str, dict[Hashable, None]] = {}
        for (key, name, *_), _ in items:
            keys_of.setdefault(name, {})[key] = None
        names: dict[Hashable, str] = {}
        for name, keys in keys_of.items():
            if len(keys) > 1:
                names.update(_paths(list(keys), name, parents))
        return [
            Ran(names.get(key, name), kind, mode, source, calls, DEFAULT_LABELS)
            for (key, name, kind, mode, source), calls in items
        ]


def _paths(
    keys: list[Hashable], name: str, parents: dict[Hashable, tuple[Hashable, str]]
) -> dict[Hashable, str]:
    """Name each of ``keys`` (all named ``name``) by the shortest end of its path.

    The shortest end that tells them apart (``inner/drop``, ``outer/drop``);
    their whole paths when none does.
    """
    paths = {key: _path(key, name, parents) for key in keys}
    longest = max(len(path) for path in paths.values())
    for length in range(2, longest + 1):
        ends = {key: "/".join(path[-length:]) for key, path in paths.items()}
        if len(set(ends.values())) == len(ends):
            return ends
    return {key: "/".join(path) for key, path in paths.items()}


def _path(key: Hashable, name: str, parents: dict[Hashable, tuple[Hashable, str]]) -> list[str]:
    """Return the names of the calls that enclosed ``key``'s first call, outermost first."""
    path = [name]
    seen = {key}
    while key in parents:
        key, parent_name = parents[key]
        if key in seen:  # a layer that (indirectly) calls itself
            break
        seen.add(key)
        path.append(parent_name)
    return path[::-1]


def shown_and_rest(entries: Iterable[str], limit: int = MAX_SHOWN) -> tuple[list[str], int]:
    """Return the first ``limit`` entries and how many more there were."""
    listed = list(entries)
    return listed[:limit], max(0, len(listed) - limit)
