"""Save, set and restore the backend's phase around each test and each wider fixture.

The state between tests is the *baseline* of the current scope: the state at
the start of the session, or the phase a fixture wider than one test set while
it was set up (the classic ``set_learning_phase(1)`` in a session fixture),
until that fixture is torn down. The baselines form a stack, one entry per
such fixture; wider fixtures are set up and torn down in the phase of their
own scope, never in the phase of the test that happens to request them, and
what their teardown does is never blamed on a test.

A test that changed the phase and left it other than the state between tests
gets a :class:`LearningPhaseLeakWarning`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pytest

from pytest_learning_phase._markers import PhaseRequest, scope_request
from pytest_learning_phase._phase import PHASE_IDS, Phase, describe_phase
from pytest_learning_phase.adapters import LearningPhaseAdapter

__all__ = ["LearningPhaseLeakWarning", "PhaseIsolation", "warn_at_test"]

ROOT_NAME: Final = "<root>"
"""How an adapter names the module a fixture holds itself (not a submodule)."""
_MAX_NAMES_SHOWN: Final = 5
NO_LEAKS: Final[Sequence[str]] = ()

SCOPE_RANKS: Final = {"session": 0, "package": 1, "module": 2, "class": 3}
"""How wide each fixture scope is: a fixture sees the baselines of its rank and below."""


class LearningPhaseLeakWarning(pytest.PytestWarning):
    """A test changed the learning phase and left it other than the state between tests.

    Raised at the end of the test's teardown, after the phase was restored, so
    ``-W error::pytest_learning_phase.LearningPhaseLeakWarning`` makes it a
    teardown error of that one test.
    """

    __module__ = "pytest_learning_phase"


@dataclass(frozen=True, slots=True)
class Baseline:
    """The state a wider fixture left when it was set up: its scope's state between tests."""

    rank: int
    state: object
    phase: Phase
    source: str
    """Where it came from, for reports: ``module fixture trained_model``."""


class PhaseIsolation:
    """Apply one adapter's phases around tests and wider fixtures; put the state back after.

    One test runs at a time in a pytest process, so the current test's
    bookkeeping is kept here rather than in ``item.stash``.
    """

    def __init__(self, adapter: LearningPhaseAdapter, default: PhaseRequest) -> None:
        self.adapter = adapter
        self.default = default
        self.baselines: list[Baseline] = []
        self.session_state: object = None
        self.session_phase: Phase = None
        self.current_item: pytest.Item | None = None
        """The test whose reports are being made: from its setup to the next test's."""
        self.request: PhaseRequest = default
        """What the current test runs under: its own request, or its scope's baseline."""
        self.inherits = True
        """Whether the current test asked for nothing (so it follows its scope's baseline)."""
        self.phase_at_call: Phase = None
        self.restored = True
        self.held: list[tuple[str, object]] = []
        """(fixture name, saved flags) of the modules that live wider fixtures hold."""

    # -- The session. ----------------------------------------------------------------

    def start_session(self) -> None:
        """Remember the state before any test: the bottom of the baselines."""
        self.session_state = self.adapter.save_state()
        self.session_phase = self.adapter.get_phase()

    def end_session(self) -> None:
        """Put back the state from before the session, even after an interrupted test."""
        self.adapter.restore_state(self.session_state)

    # -- One test. -------------------------------------------------------------------

    def begin(self, item: pytest.Item, request: PhaseRequest, inherits: bool) -> None:
        """Set the test's phase for its setup, call and teardown."""
        self.current_item = item
        self.inherits = inherits
        self.restored = False
        if inherits and self.baselines:
            self._follow(self.baselines[-1])
        else:
            self.request = request
            self.adapter.set_phase(request.phase)
        self.phase_at_call = self.request.phase

    def called(self) -> None:
        """Note the phase in effect when the test function is called (after its fixtures)."""
        self.phase_at_call = self.adapter.get_phase()

    def end(self, item: pytest.Item) -> Sequence[str]:
        """Restore the state between tests (phase, held modules); return what leaked.

        Restores everything first and returns the leak messages, so that a
        warning turned into an error cannot leave anything unrestored.
        """
        if self.restored or item is not self.current_item:
            return NO_LEAKS
        self.restored = True
        found = self.adapter.get_phase()
        if self.baselines:
            self.adapter.restore_state(self.baselines[-1].state)
            restored = self.baselines[-1].phase
        else:
            self.adapter.restore_state(self.session_state)
            restored = self.session_phase
        held_leaks = self._restore_held(item) if self.held else NO_LEAKS
        if found != self.request.phase and found != restored:
            leak = _leak_message(item, self.adapter.name, found, self.request.phase, restored)
            return [leak, *held_leaks]
        return held_leaks

    def _restore_held(self, item: pytest.Item) -> Sequence[str]:
        """Put back the flags of the modules wider fixtures hold; say which had changed."""
        restore_module_flags = self.adapter.restore_module_flags  # type: ignore[attr-defined]
        changed: dict[str, list[str]] = {}
        for fixture, saved in self.held:
            names = restore_module_flags(saved)
            if names:
                changed.setdefault(fixture, []).extend(_held_name(fixture, n) for n in names)
        if not changed:
            return NO_LEAKS
        modules = [name for names in changed.values() for name in names]
        shown = ", ".join(modules[:_MAX_NAMES_SHOWN])
        if len(modules) > _MAX_NAMES_SHOWN:
            shown += f" and {len(modules) - _MAX_NAMES_SHOWN} more"
        return [
            f"{item.nodeid} changed the train/eval mode of modules held by fixture "
            f"{', '.join(changed)} (wider than the test; backend {self.adapter.name}): "
            f"{shown}; restored"
        ]

    def _follow(self, baseline: Baseline) -> None:
        """Make the current test run in ``baseline``, its scope's state."""
        self.adapter.restore_state(baseline.state)
        self.request = PhaseRequest(baseline.phase, baseline.source)

    # -- Fixtures wider than a test. -------------------------------------------------

    def before_wider_fixture(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> WiderFixture:
        """Put the wider fixture's scope state for its setup; remember the test's.

        The fixture's teardown is bracketed by two finalizers around its own:
        one registered here, before the setup (so it runs after the teardown),
        and one in :meth:`after_wider_fixture` (so it runs before).
        """
        fixture = WiderFixture(self, fixturedef, request.node)
        fixture.state_at_setup = self.adapter.save_state()
        fixture.scope_phase = self._enter_scope(fixture.node, fixture.rank)
        fixturedef.addfinalizer(fixture.after_teardown)
        return fixture

    def after_wider_fixture(self, fixture: WiderFixture, value: object, failed: bool) -> None:
        """Keep the phase the fixture set (its scope's baseline) and its modules' flags."""
        if failed:
            self.adapter.restore_state(fixture.state_at_setup)
            return
        fixturedef = fixture.fixturedef
        found = self.adapter.get_phase()
        if found != fixture.scope_phase:
            source = f"{fixturedef.scope} fixture {fixturedef.argname}"
            fixture.baseline = Baseline(fixture.rank, self.adapter.save_state(), found, source)
            self.baselines.append(fixture.baseline)
        save_module_flags = getattr(self.adapter, "save_module_flags", None)
        if save_module_flags is not None:
            saved = save_module_flags(value)
            if saved is not None:
                fixture.held = (fixturedef.argname, saved)
                self.held.append(fixture.held)
        fixturedef.addfinalizer(fixture.before_teardown)
        if fixture.baseline is not None and self.inherits and not self.restored:
            self._follow(fixture.baseline)
        else:
            self.adapter.restore_state(fixture.state_at_setup)

    def _enter_scope(self, node: pytest.Item | pytest.Collector, rank: int) -> Phase:
        """Put the state of a scope (marker, else baseline, else default); return its phase."""
        marked = scope_request(node)
        baseline = next((entry for entry in reversed(self.baselines) if entry.rank <= rank), None)
        if baseline is not None:
            self.adapter.restore_state(baseline.state)
        else:
            self.adapter.restore_state(self.session_state)
        if marked is not None:
            self.adapter.set_phase(marked.phase)
            return marked.phase
        if baseline is not None:
            return baseline.phase
        self.adapter.set_phase(self.default.phase)
        return self.default.phase


class WiderFixture:
    """One wider fixture's bookkeeping, and the two finalizers that bracket its teardown."""

    __slots__ = (
        "baseline",
        "fixturedef",
        "held",
        "isolation",
        "node",
        "rank",
        "scope_phase",
        "state_at_setup",
        "state_at_teardown",
    )

    def __init__(
        self,
        isolation: PhaseIsolation,
        fixturedef: pytest.FixtureDef[object],
        node: pytest.Item | pytest.Collector,
    ) -> None:
        self.isolation = isolation
        self.fixturedef = fixturedef
        self.node = node
        self.rank = SCOPE_RANKS.get(fixturedef.scope, 0)
        self.scope_phase: Phase = None
        self.state_at_setup: object = None
        self.state_at_teardown: object = None
        self.baseline: Baseline | None = None
        self.held: tuple[str, object] | None = None

    def before_teardown(self) -> None:
        """Save the test's state; put the fixture's scope state for its teardown."""
        isolation = self.isolation
        self.state_at_teardown = isolation.adapter.save_state()
        if self.baseline is not None:
            isolation.adapter.restore_state(self.baseline.state)
        else:
            isolation._enter_scope(self.node, self.rank)

    def after_teardown(self) -> None:
        """Drop the fixture's baseline and held modules; give the test back its state."""
        isolation = self.isolation
        if self.baseline is not None and self.baseline in isolation.baselines:
            isolation.baselines.remove(self.baseline)
        if self.held is not None and self.held in isolation.held:
            isolation.held.remove(self.held)
        if self.state_at_teardown is not None:
            isolation.adapter.restore_state(self.state_at_teardown)


def _held_name(fixture: str, module: str) -> str:
    """Name a held module from its fixture: ``shared``, ``shared.1``, ``shared[0].encoder``."""
    if module == ROOT_NAME:
        return fixture
    return f"{fixture}{'' if module.startswith('[') else '.'}{module}"


def warn_at_test(item: pytest.Item, message: str) -> None:
    """Warn at the test's own file and line, taken together from one place."""
    __tracebackhide__ = True
    filename, lineno = _test_location(item)
    warnings.warn_explicit(
        LearningPhaseLeakWarning(message),
        LearningPhaseLeakWarning,
        filename=filename,
        lineno=lineno,
    )


def _test_location(item: pytest.Item) -> tuple[str, int]:
    """Return the test's own file and a line in it, both from one place.

    A test generated by a decorator elsewhere (tf-keras's ``test_combinations``)
    has its code in the decorator's module: then the line of its ``def`` in the
    test's file, else of its class, else 1.
    """
    path, lineno, _ = item.reportinfo()
    if lineno is not None and str(path) == str(item.path):
        return str(item.path), lineno + 1
    name = getattr(item, "originalname", item.name)
    try:
        source = item.path.read_text(encoding="utf-8")
    except OSError:
        source = ""
    found = re.search(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b", source, re.MULTILINE)
    if found is not None:
        return str(item.path), source.count("\n", 0, found.start()) + 1
    parent = item.parent
    if isinstance(parent, pytest.Class):
        path, lineno, _ = parent.reportinfo()
        if lineno is not None and str(path) == str(item.path):
            return str(item.path), lineno + 1
    return str(item.path), 1


def _leak_message(
    item: pytest.Item, backend: str, found: Phase, asked: Phase, restored: Phase
) -> str:
    """Say what the test left; a backend answering a non-phase fails the test instead."""
    if found not in PHASE_IDS:
        pytest.fail(
            f"In {item.nodeid}: learning phase backend {backend}: get_phase() returned "
            f"{found!r}; expected 0, 1 or None",
            pytrace=False,
        )
    return (
        f"{item.nodeid} changed the learning phase of backend {backend}: it ran under "
        f"phase {describe_phase(asked)} and left phase {describe_phase(found)}; "
        f"restored phase {describe_phase(restored)}"
    )
