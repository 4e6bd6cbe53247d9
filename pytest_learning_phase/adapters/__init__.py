"""Backend adapters: how the plugin saves, sets, reads and restores a backend's phase.

The plugin core talks to adapters only. An adapter for another framework is
any object with a ``name`` and the four methods of :class:`LearningPhaseAdapter`;
offer it through the ``pytest_learning_phase_backends`` hook. Optional
abilities are declared here too, and checked where the plugin reads them:
what the audit needs (:class:`ReadTracking`, :class:`UnsetEquivalent`,
:class:`AuditHint`), a header note (:class:`HeaderNote`), objects that keep a
mode of their own (:class:`HeldModules`), a phase that follows a clear at once
(:class:`ClearFollowing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from pytest_learning_phase._phase import Phase, short_repr
from pytest_learning_phase._provenance import Ran, Recording

__all__ = [
    "AdapterError",
    "AuditHint",
    "ClearFollowing",
    "HeaderNote",
    "HeldModules",
    "HeldStructure",
    "LearningPhaseAdapter",
    "ModeCalls",
    "Phase",
    "ProvenanceRecording",
    "ReadTracking",
    "UnsetEquivalent",
    "builtin_backends",
    "optional_text",
]


@runtime_checkable
class LearningPhaseAdapter(Protocol):
    """What the plugin needs from a backend, for the current thread."""

    @property
    def name(self) -> str:
        """The backend's name, as given to ``--learning-phase-backend``."""
        ...

    def save_state(self) -> object:
        """Return an opaque snapshot of the backend's whole learning-phase state."""
        ...

    def restore_state(self, state: object) -> None:
        """Put back exactly the state ``save_state`` returned, "unset" included."""
        ...

    def set_phase(self, phase: Phase) -> None:
        """Set ``0`` or ``1``, or make the phase unset (``None``), with no deprecation warning."""
        ...

    def get_phase(self) -> Phase:
        """Return the phase in effect: ``0``, ``1``, or ``None`` when unset."""
        ...


@runtime_checkable
class ReadTracking(Protocol):
    """Optional: an adapter that can tell whether code read the phase (for the audit).

    An adapter without this method cannot tell, and the audit then counts
    every test as one that read the phase.
    """

    def phase_read_counter(self) -> Callable[[], int]:
        """Start counting reads of the phase; return a function giving the count so far.

        Called once, when the audit starts, so an adapter may install whatever
        observes the reads then (and only then). The count only has to grow
        when the phase is read: the audit compares it before and after a test.

        An adapter may also have ``track_reads(on: bool)``: the audit turns
        tracking on while a test runs and off around wider fixtures' setup and
        between tests, for an adapter whose reads depend on where an object was
        made (torch: a module built by a wider fixture is not the test's).
        """
        ...


@runtime_checkable
class UnsetEquivalent(Protocol):
    """Optional: an adapter whose unset state is exactly one of the phases (for the audit).

    torch's is 1: with the phase unset, modules start in train mode, as in
    phase 1. The audit then lets a test's normal, unset run stand for that
    phase and runs it again only in the other. Declare it only when it is
    exactly true: the reference and tf_keras backends do not (``learning_phase()``
    reads 0 when unset, but ``global_learning_phase_is_set()`` tells them apart).
    """

    @property
    def unset_phase(self) -> Phase:
        """The phase (0 or 1) that the unset state is the same as."""
        ...


@runtime_checkable
class HeldModules(Protocol):
    """Optional: a backend whose objects keep a mode of their own (torch modules' ``training``).

    The flags of the objects that wider fixtures hold are part of the scope
    baselines: saved once when such a fixture's setup ends, put back after
    each test.
    """

    def save_module_flags(self, value: object) -> object | None:
        """Return an opaque snapshot of the flags of every object ``value`` holds; None if none."""
        ...

    def module_flags(self, saved: object) -> Sequence[object]:
        """Return the current flags of the objects in ``saved``, one per object, in its order."""
        ...

    def restore_module_flags(
        self, saved: object, flags: Sequence[object] | None = None
    ) -> Sequence[str]:
        """Put back the saved flags (or ``flags``); return the names of the objects that changed."""
        ...


@runtime_checkable
class ModeCalls(Protocol):
    """Optional, with :class:`HeldModules`: which held objects had their mode *set*.

    torch: ``.train()``/``.eval()`` reached them, even to the mode they had.

    A wider fixture that sets the mode of a model another fixture holds answers
    for that model's modes at its scope, as it left them; one that only
    requests the model does not. Without this, only changed flags count.
    """

    def watch_mode_calls(self) -> Callable[[object], bool]:
        """Start noting mode calls; the result's first call stops them.

        The result says, for a snapshot of :meth:`HeldModules.save_module_flags`,
        whether any of its objects had its mode set (``None``: just stop).
        """
        ...


@runtime_checkable
class ClearFollowing(Protocol):
    """Optional: a backend that gives what it makes after a clear the asked-for phase at once.

    tf_keras in graph mode keeps the phase per graph and bakes it into a model
    when the model is built: a fixture that calls ``clear_session()`` and then
    builds its model must find the test's phase on the new graph at once, not
    when its setup ends. The plugin turns following on while a test that asks
    for a phase is set up (and while a wider fixture is set up, with its
    scope's phase), and off before the test function is called.
    """

    def follow_clears(self, phase: Phase) -> None:
        """Give ``phase`` (0 or 1) to each graph (or state) the backend makes unset; None stops."""
        ...


@runtime_checkable
class HeldStructure(Protocol):
    """Optional, with :class:`HeldModules`: which held objects had their parts changed.

    torch: a submodule added, removed or replaced in a held model. The
    structure is not put back; a test that changed it is warned.
    """

    def structure_changes(self, saved: object) -> Sequence[str]:
        """Name the objects added, removed or replaced in ``saved`` since it was last asked.

        Named as :meth:`HeldModules.restore_module_flags` names them, with what
        happened (``1 replaced``); empty when nothing changed (the common case:
        keep it cheap, it runs after each test).
        """
        ...


@runtime_checkable
class HeaderNote(Protocol):
    """Optional: one short note for the header line (torch: what unset means)."""

    header_note: str


@runtime_checkable
class AuditHint(Protocol):
    """Optional: what the audit's section suggests for a phase-dependent test on this backend."""

    audit_hint: str


class AdapterError(TypeError):
    """An adapter's optional attribute is not what its protocol declares; names the backend."""


def optional_text(adapter: LearningPhaseAdapter, attribute: str) -> str | None:
    """Return the adapter's optional text ``attribute`` (``header_note``, ``audit_hint``), or None.

    :raises AdapterError: if the adapter has it and it is not a string.
    """
    text = getattr(adapter, attribute, None)
    if text is None or isinstance(text, str):
        return text
    raise AdapterError(
        f"learning phase backend {getattr(adapter, 'name', adapter)!r}: {attribute} is "
        f"{type(text).__name__} {short_repr(text)}; expected a string"
    )


@runtime_checkable
class ProvenanceRecording(Protocol):
    """Optional: an adapter that can say which layers or modules ran, in which mode and why.

    The reports use it (see the reports reference): :meth:`record_provenance`
    for every run of a test under the audit, :meth:`held_provenance` for a
    failure of a plain run. An adapter may also declare ``phase_labels``, how
    its users write phases 0 and 1 (default ``("test", "train")``).
    """

    def record_provenance(self) -> Recording:
        """Start recording the phase-dependent calls, in every thread, until ``stop()``."""
        ...

    def held_provenance(self, values: Sequence[tuple[str, object]]) -> list[Ran]:
        """Return the phase-dependent objects among ``values`` (a name, an object), with modes."""
        ...


def builtin_backends() -> dict[str, Callable[[], LearningPhaseAdapter]]:
    """Return the built-in backends by name; building one imports its framework."""
    return {
        "reference": _make_reference_adapter,
        "tf_keras": _make_tf_keras_adapter,
        "torch": _make_torch_adapter,
    }


def _make_reference_adapter() -> LearningPhaseAdapter:
    from pytest_learning_phase.adapters.reference import ReferenceAdapter

    return ReferenceAdapter()


def _make_tf_keras_adapter() -> LearningPhaseAdapter:
    from pytest_learning_phase.adapters.tf_keras import make_tf_keras_adapter

    return make_tf_keras_adapter()


def _make_torch_adapter() -> LearningPhaseAdapter:
    from pytest_learning_phase.adapters.torch import make_torch_adapter

    return make_torch_adapter()
