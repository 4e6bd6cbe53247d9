"""Save, set and restore the backend's phase around each test and each wider fixture.

pytest's scopes as a model. Each open scope (session, package, module,
class) has a *baseline*: its enclosing scope's baseline, replaced by what its
own wider fixtures left when their setup ended (a phase they set, the modes
they gave the models wider fixtures hold). Each such fixture adds one entry,
removed when that fixture is torn down; the entries are folded in scope rank
order (widest first, then in setup order), so the closest scope wins whatever
order the fixtures were set up in. A test that asks for nothing starts from,
and is restored to, that fold: the state between tests.

Wider fixtures are set up and torn down in the phase of their own scope
(markers at their scope and above, else the fold of the entries of their rank
and wider), never in the phase of the test that happens to request them; what
they do is never blamed on a test. A fixture that only clears the phase
(``clear_session()``) makes no baseline: the phase asked for is set again,
also when a ``unittest.TestCase``'s ``setUp`` (which runs inside pytest's call)
cleared it; a backend that can (:class:`ClearFollowing`: tf_keras in graph
mode) gives what it makes after the clear that phase at once.
"""

from __future__ import annotations

import unittest
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Final

import pytest

from pytest_learning_phase._leaks import (
    LearningPhaseLeakWarning,
    held_leak_message,
    phase_leak_message,
    warn_at_test,
)
from pytest_learning_phase._markers import PhaseRequest, scope_request
from pytest_learning_phase._phase import Phase, is_phase, short_repr
from pytest_learning_phase.adapters import (
    ClearFollowing,
    HeldModules,
    HeldStructure,
    LearningPhaseAdapter,
    ModeCalls,
)

__all__ = [
    "LearningPhaseLeakWarning",
    "PhaseIsolation",
    "adapter_error",
    "keep_phase_through_setup",
    "warn_at_test",
]

NO_LEAKS: Final[Sequence[str]] = ()

SCOPE_RANKS: Final = {"session": 0, "package": 1, "module": 2, "class": 3}
"""How wide each fixture scope is: a fixture sees the baseline entries of its rank and wider."""
_EVERY_RANK: Final = 4

_NOT_SAVED: Final = object()
"""A wider fixture's ``state_at_teardown`` before its teardown began (torch's unset is None)."""

_UNITTEST_SETUP_CLASS: Final = "_unittest_setUpClass_fixture_"
"""The prefix of the class fixture by which pytest runs a ``unittest`` class's ``setUpClass``."""


@dataclass(eq=False, slots=True)
class Held:
    """The models one wider fixture holds: saved once, when its setup ended."""

    holder: str
    """How the warning names the holder: the fixture, or a ``unittest`` class."""
    saved: object
    flags: Sequence[object]
    """The flags as the fixture left them: the widest baseline of these models."""


@dataclass(eq=False, slots=True)
class Entry:
    """What one wider fixture's setup left: its part of its scope's baseline."""

    rank: int
    order: int
    state: object = None
    phase: Phase = None
    source: str | None = None
    """Where the phase came from (``module fixture trained``); None if it set no phase."""
    flag_changes: dict[Held, dict[int, object]] = field(default_factory=dict)
    """For each held model it changed the mode of: position -> flag it left."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """A fold of entries: the state a scope's tests start from and are restored to."""

    state: object
    phase: Phase
    source: str | None
    """The entry that gave the phase; None when no wider fixture set one."""
    held: tuple[tuple[Held, Sequence[object]], ...]
    """Each held model's flags in this baseline."""


class PhaseIsolation:
    """Apply one adapter's phases around tests and wider fixtures; put the state back after.

    One test runs at a time in a pytest process, so the current test's
    bookkeeping is kept here rather than in ``item.stash``.
    """

    def __init__(self, adapter: LearningPhaseAdapter, default: PhaseRequest) -> None:
        self.adapter = adapter
        self.default = default
        self.held_modules = adapter if isinstance(adapter, HeldModules) else None
        self.mode_calls = adapter if self.held_modules and isinstance(adapter, ModeCalls) else None
        """The adapter, if it also tells which held models a fixture set the mode of."""
        self.clear_following = adapter if isinstance(adapter, ClearFollowing) else None
        """The adapter, if a phase can follow a clear at once (tf_keras in graph mode)."""
        self.following: Phase = None
        """The phase the adapter gives what it makes after a clear, while a setup runs."""
        self.held_structure = (
            adapter if self.held_modules and isinstance(adapter, HeldStructure) else None
        )
        """The adapter, if it also tells which held models had their parts changed."""
        self.entries: list[Entry] = []
        """The live baseline entries, in fold order: by scope rank, then setup order."""
        self.held: list[Held] = []
        self._between: Baseline | None = None
        """The fold of every entry (the state between tests), until an entry changes."""
        self._order = 0
        self.setting_up: list[WiderFixture] = []
        """The wider fixtures whose setup is running, outermost first."""
        self.session_state: object = None
        self.session_phase: Phase = None
        self.current_item: pytest.Item | None = None
        """The test whose reports are being made: from its setup to the next test's."""
        self.request: PhaseRequest = default
        """What the current test runs under: its own request, or its scope's baseline."""
        self.inherits = True
        """Whether the current test asked for nothing (so it follows its scope's baseline)."""
        self.from_baseline = False
        """Whether the current test asked for nothing and runs in a wider fixture's baseline."""
        self.phase_at_call: Phase = None
        self.phase_at_end: Phase = None
        """The phase found when the test's teardown ended, before the restore."""
        self.restored = True
        self.failure: str | None = None
        """Set when the backend answered something other than a phase: the test's error."""
        self.held_changed: dict[str, list[str]] = {}
        """Held models the current test changed, found before a wider fixture's teardown."""
        self.structure_changed: dict[str, list[str]] = {}
        """Held models whose structure the current test changed, found as ``held_changed``."""

    # -- The session. ----------------------------------------------------------------

    def start_session(self) -> None:
        """Remember the state before any test: the bottom of the baselines."""
        self.session_state = self.adapter.save_state()
        self.session_phase = self.adapter.get_phase()

    def start_collection(self) -> None:
        """Set the session's default phase for collection (torch: modules built at import)."""
        if self.default.phase is not None:
            self.adapter.set_phase(self.default.phase)

    def end_collection(self) -> None:
        """Put back the state from before the session once collection ends."""
        if self.default.phase is not None:
            self.adapter.restore_state(self.session_state)

    def end_session(self) -> None:
        """Put back the state from before the session, even after an interrupted test."""
        if self.following is not None:  # interrupted in a setup
            self.follow_clears(None)
        self.adapter.restore_state(self.session_state)

    # -- One test. -------------------------------------------------------------------

    def begin(self, item: pytest.Item, request: PhaseRequest, inherits: bool) -> None:
        """Set the test's phase for its setup, call and teardown."""
        self.current_item = item
        self.inherits = inherits
        self.restored = False
        if self.held_changed:
            self.held_changed = {}
        if self.structure_changed:
            self.structure_changed = {}
        try:
            if inherits and self.entries:
                self._follow(self.between())
            else:
                self.request = request
                self.from_baseline = False
                self.adapter.set_phase(request.phase)
        except Exception as error:
            self.adapter_failed("set the phase", error)
        self.phase_at_call = self.request.phase
        if self.clear_following is not None and self.request.phase is not None:
            self.follow_clears(self.request.phase)  # its setup: a clear gets it back at once

    def follow_clears(self, phase: Phase) -> None:
        """Have the adapter give ``phase`` to what it makes after a clear (None: stop)."""
        if self.clear_following is not None and phase != self.following:
            try:
                self.clear_following.follow_clears(phase)
            except Exception as error:
                self.adapter_failed("follow_clears()", error)
            self.following = phase

    def called(self) -> None:
        """Note the phase in effect when the test function is called (after its fixtures)."""
        if self.following is not None:  # a clear in the test itself is its own business
            self.follow_clears(None)
        try:
            found = self.adapter.get_phase()
        except Exception as error:
            self.adapter_failed("get_phase()", error)
            return
        self.phase_at_call = found if is_phase(found) else self._bad_phase(found)

    def phase_now(self) -> Phase:
        """Return the phase in effect, for reports; after the restore, the one the test left.

        Never raises: a backend that fails or answers a non-phase here gives
        the phase the test was called in (its error is the test's already).
        """
        if self.restored:
            return self.phase_at_end
        try:
            found = self.adapter.get_phase()
        except Exception:
            return self.phase_at_call
        return found if is_phase(found) else self.phase_at_call

    def adapter_failed(self, action: str, error: Exception) -> None:
        """Note that the adapter raised while it served the current test: the test's error."""
        self.failure = adapter_error(self.adapter, action, error, self.current_item)

    def _bad_phase(self, found: object) -> Phase:
        """Note that the backend answered ``found``, not a phase; stand for it with the request."""
        item = self.current_item
        where = "" if item is None else f"In {item.nodeid}: "
        self.failure = (
            f"{where}learning phase backend {self.adapter.name}: get_phase() returned "
            f"{short_repr(found, 60)}; expected 0, 1 or None"
        )
        return self.request.phase

    def fixture_cleared(self) -> None:
        """Set the test's phase again after a function fixture cleared it (``clear_session()``)."""
        if (
            not self.restored
            and self.request.phase is not None
            and self.adapter.get_phase() is None
        ):
            if self.from_baseline:
                self.adapter.restore_state(self.between().state)
            else:
                self.adapter.set_phase(self.request.phase)

    def end(self, item: pytest.Item) -> Sequence[str]:
        """Restore the state between tests (phase, held modules); return what leaked.

        Restores everything first and returns the leak messages, so that a
        warning turned into an error cannot leave anything unrestored.
        """
        if self.restored or item is not self.current_item:
            return NO_LEAKS
        self.restored = True
        if self.following is not None:  # its setup failed before the call
            self.follow_clears(None)
        try:
            found = self.adapter.get_phase()
            if not is_phase(found):
                found = self._bad_phase(found)
            self.phase_at_end = found
            if self.entries or self.held or self.held_changed or self.structure_changed:
                between = self.between()
                self.adapter.restore_state(between.state)
                restored = between.phase
                held_leaks = (
                    self._restore_held(item, between)
                    if between.held or self.held_changed or self.structure_changed
                    else NO_LEAKS
                )
            else:
                self.adapter.restore_state(self.session_state)
                restored = self.session_phase
                held_leaks = NO_LEAKS
        except Exception as error:
            self.adapter_failed("restoring the state between tests", error)
            return NO_LEAKS
        if found != self.request.phase and found != restored:
            leak = phase_leak_message(item, self.adapter.name, found, self.request.phase, restored)
            return [leak, *held_leaks]
        return held_leaks

    def _restore_held(self, item: pytest.Item, baseline: Baseline) -> Sequence[str]:
        """Put back the flags of the models wider fixtures hold; say which had changed.

        Their structure is not put back: a test that changed it is told so.
        """
        changed = self.held_changed
        self.held_changed = {}
        self._put_held(baseline, changed)
        restructured = self.structure_changed
        if self.held_structure is not None:
            self.structure_changed = {}
            self._note_structure(restructured)
        if not changed and not restructured:
            return NO_LEAKS
        return [held_leak_message(item, self.adapter.name, changed, restructured)]

    def _note_structure(self, changed: dict[str, list[str]] | None) -> None:
        """Note the held models whose structure changed since last looked at (into ``changed``)."""
        if self.held_structure is None:
            return
        structure_changes = self.held_structure.structure_changes
        for held in self.held:
            changes = structure_changes(held.saved)
            if changes and changed is not None:
                changed.setdefault(held.holder, []).extend(changes)

    def _put_held(self, baseline: Baseline, changed: dict[str, list[str]] | None) -> None:
        """Give the held models their flags in ``baseline``; note those that changed."""
        assert self.held_modules is not None
        restore = self.held_modules.restore_module_flags
        for held, flags in baseline.held:
            names = restore(held.saved, flags)
            if names and changed is not None:
                changed.setdefault(held.holder, []).extend(names)

    def _follow(self, baseline: Baseline) -> None:
        """Make the current test (which asked for nothing) run in ``baseline``."""
        if baseline.source is None:
            self.request = self.default
            self.from_baseline = False
            self.adapter.set_phase(self.default.phase)
        else:
            self.request = PhaseRequest(baseline.phase, baseline.source)
            self.from_baseline = True
            self.adapter.restore_state(baseline.state)

    # -- The baselines. --------------------------------------------------------------

    def between(self) -> Baseline:
        """Return the state between tests: the fold of every live entry (cached)."""
        between = self._between
        if between is None:
            between = self._between = self._fold(_EVERY_RANK)
        return between

    def _fold(self, rank: int) -> Baseline:
        """Fold the entries of ``rank`` and wider onto the session's state, widest first."""
        state, phase, source = self.session_state, self.session_phase, None
        changes: dict[Held, dict[int, object]] = {}
        for entry in self.entries:
            if entry.rank > rank:
                break
            if entry.source is not None:
                state, phase, source = entry.state, entry.phase, entry.source
            for held, entry_changes in entry.flag_changes.items():
                changes.setdefault(held, {}).update(entry_changes)
        held_flags: list[tuple[Held, Sequence[object]]] = []
        for held in self.held:
            changed = changes.get(held)
            if changed:
                flags = list(held.flags)
                for position, flag in changed.items():
                    flags[position] = flag
                held_flags.append((held, flags))
            else:
                held_flags.append((held, held.flags))
        return Baseline(state, phase, source, tuple(held_flags))

    def _add(self, entry: Entry) -> None:
        """Put a new entry in fold order: after every entry of its rank or wider."""
        position = len(self.entries)
        while position and self.entries[position - 1].rank > entry.rank:
            position -= 1
        self.entries.insert(position, entry)
        self._between = None

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
        found = self.adapter.get_phase()
        fixture.phase_at_setup = found if is_phase(found) else self._bad_phase(found)
        if self.held_modules is not None and self.held:
            module_flags = self.held_modules.module_flags
            fixture.flags_at_setup = [(held, module_flags(held.saved)) for held in self.held]
        if self.held_modules is not None and isinstance(request.node, pytest.Class):
            _watch_class(fixture, fixturedef, request.node)
        fixture.scope_phase = self._enter_scope(fixture.node, fixture.rank)
        if self.clear_following is not None:  # a clear in its setup: its scope's phase again
            fixture.followed = self.following
            self.follow_clears(fixture.scope_phase)
        if fixture.flags_at_setup:  # set up in its scope's modes, not a narrower scope's
            self._put_held(self._fold(fixture.rank), None)
            assert self.held_modules is not None
            module_flags = self.held_modules.module_flags
            fixture.flags_at_setup = [(held, module_flags(held.saved)) for held in self.held]
        fixturedef.addfinalizer(fixture.after_teardown)
        if self.mode_calls is not None:
            fixture.set_mode_of = self.mode_calls.watch_mode_calls()
        self.setting_up.append(fixture)
        return fixture

    def after_wider_fixture(self, fixture: WiderFixture, value: object, failed: bool) -> None:
        """Keep what the fixture left as its scope's baseline; give back the state around it."""
        if fixture in self.setting_up:
            self.setting_up.remove(fixture)
        if self.clear_following is not None:
            self.follow_clears(fixture.followed)
        if fixture.set_mode_of is not None:
            fixture.set_mode_of(None)  # stop watching
        if failed:
            self.adapter.restore_state(fixture.state_at_setup)
            return
        fixturedef = fixture.fixturedef
        self._order += 1
        entry = Entry(fixture.rank, self._order)
        found = self.adapter.get_phase()
        if not is_phase(found):
            found = self._bad_phase(found)
        if found != fixture.scope_phase and found is not None:
            entry.state = self.adapter.save_state()
            entry.phase = found
            entry.source = f"{fixturedef.scope} fixture {fixturedef.argname}"
        if self.held_modules is not None:
            self._note_flag_changes(fixture, entry)
            self._hold(fixture, value)
        if entry.source is not None or entry.flag_changes:
            fixture.entry = entry
            self._add(entry)
            fixture.grew = True
        if fixture.grew:
            for outer in self.setting_up:  # their scopes' baselines grew inside their setup
                outer.grew = True
        fixturedef.addfinalizer(fixture.before_teardown)
        if self.held_structure is not None and self.held:
            self._note_structure(None)  # what its setup changed is no test's doing
        self._after_setup(fixture)
        if self.held and not self.setting_up and not self.restored:
            self._put_held(self.between(), None)  # the test runs in the (new) baseline's modes

    def _note_flag_changes(self, fixture: WiderFixture, entry: Entry) -> None:
        """Record the modes the fixture's setup gave the models other fixtures hold."""
        assert self.held_modules is not None
        module_flags = self.held_modules.module_flags
        set_mode_of = fixture.set_mode_of
        at_setup = dict(fixture.flags_at_setup)
        for held in self.held:  # also models held by fixtures set up inside this one
            before = at_setup.get(held, held.flags)
            after = module_flags(held.saved)
            # A fixture that set a model's mode answers for its modes: all of them, as
            # it left them (a train() that changed nothing included); one that only
            # requests the model, for nothing it did not change.
            everything = set_mode_of is not None and set_mode_of(held.saved)
            changed = {
                position: flag
                for position, (flag, old) in enumerate(zip(after, before, strict=True))
                if everything or flag is not old
            }
            if changed:
                entry.flag_changes[held] = changed

    def _hold(self, fixture: WiderFixture, value: object) -> None:
        """Walk the fixture's value once, and what it stored on its class; keep their models.

        A class fixture (``setup_class``, ``setUpClass``, a ``@classmethod``
        fixture) keeps its models on the class: the attributes its setup added
        or replaced there are held under the class's name (``TestModel.model``).
        """
        assert self.held_modules is not None
        owner = fixture.owner_class
        if owner is not None:
            before = fixture.class_before
            added = {
                name: attribute
                for name, attribute in vars(owner).items()
                if before.get(name, _NOT_SAVED) is not attribute
            }
            if added:
                self._hold_one(fixture, owner.__qualname__, SimpleNamespace(**added))
        self._hold_one(fixture, fixture.fixturedef.argname, value)

    def _hold_one(self, fixture: WiderFixture, holder: str, value: object) -> None:
        """Keep the models ``value`` holds, named after ``holder``, until the fixture's teardown."""
        assert self.held_modules is not None
        saved = self.held_modules.save_module_flags(value)
        if saved is None:
            return
        held = Held(holder, saved, list(self.held_modules.module_flags(saved)))
        fixture.held += (held,)
        self.held.append(held)
        self._between = None

    def _after_setup(self, fixture: WiderFixture) -> None:
        """Give back the state around the fixture, with its new baseline where it applies.

        Inside another wider fixture's setup that had not set a phase of its
        own, the outer one goes on in its scope's (new) baseline; inside a test
        that asked for nothing and had not set one, the test follows the new
        baseline; otherwise the state from before the fixture comes back.
        """
        if self.setting_up:
            outer = self.setting_up[-1]
            if fixture.grew and fixture.phase_at_setup == outer.scope_phase:
                outer.scope_phase = self._enter_scope(outer.node, outer.rank)
                return
        elif (
            fixture.grew
            and self.inherits
            and not self.restored
            and fixture.phase_at_setup == self.request.phase
        ):
            self._follow(self.between())
            self.follow_clears(self.request.phase)  # the rest of its setup: the new baseline's
            return
        self.adapter.restore_state(fixture.state_at_setup)

    def _enter_scope(self, node: pytest.Item | pytest.Collector, rank: int) -> Phase:
        """Put the state of a scope (marker, else baseline, else default); return its phase."""
        marked = scope_request(node)
        baseline = self._fold(rank)
        self.adapter.restore_state(baseline.state)
        if marked is not None:
            self.adapter.set_phase(marked.phase)
            return marked.phase
        if baseline.source is not None:
            return baseline.phase
        self.adapter.set_phase(self.default.phase)
        return self.default.phase

    def _drop(self, fixture: WiderFixture) -> None:
        """Forget the fixture's entry and held models: it is torn down."""
        if fixture.entry is not None and fixture.entry in self.entries:
            self.entries.remove(fixture.entry)
        for held in fixture.held:
            if held in self.held:
                self.held.remove(held)
                for entry in self.entries:
                    entry.flag_changes.pop(held, None)
        self._between = None


def keep_phase_through_setup(item: pytest.Item, isolations: Sequence[PhaseIsolation]) -> None:
    """Set the asked-for phase again when a ``unittest.TestCase``'s ``setUp`` returns.

    unittest runs ``setUp`` (and ``asyncSetUp``) inside pytest's call, not as a
    fixture: one that only clears the phase (``clear_session()``;
    ``tf.test.TestCase`` resets TensorFlow's default graph) is treated as a
    fixture that only clears, and a clear in the test method stays the test's
    business. Only for unittest items of a test that runs in a phase.
    """
    asking = [isolation for isolation in isolations if isolation.request.phase is not None]
    instance = getattr(item, "instance", None) if asking else None
    call_setup = getattr(instance, "_callSetUp", None)  # unittest's call of setUp, asyncSetUp
    if not isinstance(instance, unittest.TestCase) or call_setup is None:
        return

    def set_up_in_the_phase() -> None:
        for isolation in asking:
            isolation.follow_clears(isolation.request.phase)
        try:
            call_setup()
        finally:
            vars(instance).pop("_callSetUp", None)  # no cycle keeping the instance's models
            for isolation in asking:
                try:
                    isolation.fixture_cleared()
                except Exception as error:  # the test's error, named, not a traceback
                    isolation.adapter_failed("set the phase", error)
                isolation.called()

    instance._callSetUp = set_up_in_the_phase  # type: ignore[attr-defined]


def _watch_class(
    fixture: WiderFixture, fixturedef: pytest.FixtureDef[object], node: pytest.Class
) -> None:
    """Note the class a class fixture may store models on, and its attributes before the setup."""
    owner = getattr(node, "obj", None)
    if not isinstance(owner, type):
        return
    fixture.owner_class = owner
    if not fixturedef.argname.startswith(_UNITTEST_SETUP_CLASS):  # setUpClass: all are its
        fixture.class_before = dict(vars(owner))


def adapter_error(
    adapter: LearningPhaseAdapter, action: str, error: Exception, item: pytest.Item | None
) -> str:
    """Say, in one line, that a backend's adapter raised while it served ``item``."""
    where = "" if item is None else f"In {item.nodeid}: "
    if isinstance(error, pytest.UsageError):
        return f"{where}{error}"
    return (
        f"{where}learning phase backend {adapter.name}: {action} raised "
        f"{type(error).__name__}: {short_repr(str(error), 200)}"
    )


class WiderFixture:
    """One wider fixture's bookkeeping, and the two finalizers that bracket its teardown."""

    __slots__ = (
        "class_before",
        "entry",
        "fixturedef",
        "flags_at_setup",
        "followed",
        "grew",
        "held",
        "isolation",
        "node",
        "owner_class",
        "phase_at_setup",
        "rank",
        "scope_phase",
        "set_mode_of",
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
        self.phase_at_setup: Phase = None
        self.state_at_setup: object = None
        self.state_at_teardown: object = _NOT_SAVED
        self.flags_at_setup: list[tuple[Held, Sequence[object]]] = []
        self.entry: Entry | None = None
        self.grew = False
        """Whether a baseline entry was made by its setup or a fixture requested inside it."""
        self.held: tuple[Held, ...] = ()
        self.followed: Phase = None
        """The phase followed after a clear when its setup began (the test's, or an outer one's)."""
        self.owner_class: type | None = None
        """A class fixture's class, whose new attributes it holds (with a held-modules backend)."""
        self.class_before: dict[str, object] = {}
        """The class's attributes before the setup (none for ``setUpClass``: all are its)."""
        self.set_mode_of: Callable[[object], bool] | None = None
        """While its setup runs: the adapter's watch of the modes it sets (:class:`ModeCalls`)."""

    def before_teardown(self) -> None:
        """Save the test's state; put the fixture's scope state for its teardown."""
        isolation = self.isolation
        adapter = isolation.adapter
        self.state_at_teardown = adapter.save_state()
        if isolation.held_modules is not None and isolation.held:
            # What the current test changed is its leak, found now; the teardown
            # then starts from its scope's baseline, and its own doing is not blamed.
            test_changes = None if isolation.restored else isolation.held_changed
            isolation._put_held(isolation.between(), test_changes)
            isolation._note_structure(None if isolation.restored else isolation.structure_changed)
            isolation._put_held(isolation._fold(self.rank), None)
        if self.entry is not None and self.entry.source is not None:
            adapter.restore_state(self.entry.state)
        else:
            isolation._enter_scope(self.node, self.rank)

    def after_teardown(self) -> None:
        """Drop the fixture's baseline and held models; give the test back its state."""
        isolation = self.isolation
        isolation._drop(self)
        if self.state_at_teardown is not _NOT_SAVED:
            isolation.adapter.restore_state(self.state_at_teardown)
            if isolation.held_modules is not None and isolation.held:
                isolation._put_held(isolation.between(), None)
                isolation._note_structure(None)  # what the teardown changed is no test's doing
