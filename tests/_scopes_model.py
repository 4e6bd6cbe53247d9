"""An executable model of the scope rules, and the suite descriptions it judges.

The rules are those of ``interface.md`` ("Scopes: fixtures wider than one
test", the marker, the fixtures, the torch backend) and ``docs/howto/scopes.md``,
written down from the text, not from the plugin's code. A :class:`Suite`
describes a generated pytest suite; :func:`mismatches` replays the events a run
of it recorded (in the order pytest chose) and returns every observation the
rules do not allow. Where the text leaves a choice open, the model accepts each
reading (see :func:`_between_candidates` and :meth:`_Replay.teardown`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "MODEL_ACTIONS",
    "MODEL_FIXTURE",
    "PACKAGE",
    "PHASE_ACTIONS",
    "Action",
    "Event",
    "FunctionFixture",
    "Marker",
    "Param",
    "Phase",
    "Suite",
    "TestClass",
    "TestFunction",
    "TestModule",
    "WiderFixture",
    "WiderScope",
    "mismatches",
]

Phase: TypeAlias = Literal[0, 1] | None
Marker: TypeAlias = Literal[0, 1, "unset"] | None
"""A ``learning_phase`` marker's value: ``"unset"`` is ``learning_phase(None)``; None: none."""
Action: TypeAlias = Literal[0, 1, "clear", "eval", "train", "sub_eval"] | None
"""What code does to the state: set the phase, clear it, or change the held model's modes."""
Flags: TypeAlias = tuple[bool, bool, bool]
"""The held model's ``training`` flags: the model, its ``[0]`` (Linear), its ``[1]`` (Dropout)."""
Event: TypeAlias = dict[str, object]

PHASE_ACTIONS: tuple[Action, ...] = (0, 1, "clear")
MODEL_ACTIONS: tuple[Action, ...] = ("eval", "train", "sub_eval")
WiderScope: TypeAlias = Literal["session", "package", "module", "class"]
PACKAGE = "pkg"
"""The package of the suites' packaged modules (its conftest holds the package fixtures)."""
MODEL_FIXTURE = "model"
"""The torch suites' session fixture that holds the shared model."""


@dataclass(frozen=True)
class WiderFixture:
    """A fixture of session, package, module or class scope.

    Its body records the state when it starts, calls ``getfixturevalue(dynamic)``
    (and records again), does ``setup``, yields, records, and does ``teardown``.
    """

    name: str
    scope: WiderScope
    autouse: bool = False
    setup: Action = None
    teardown: Action = None
    requests: tuple[str, ...] = ()
    dynamic: str | None = None


@dataclass(frozen=True)
class FunctionFixture:
    """An autouse function-scoped fixture in the conftest (the usual Keras conftest)."""

    setup: Action = None
    teardown: Action = None


@dataclass(frozen=True)
class Param:
    """One ``pytest.param`` of a test parametrized over ``case``."""

    id: str
    marker: Marker = None


@dataclass(frozen=True)
class TestFunction:
    """A test: its phase request, its fixtures, and what its body does after recording."""

    name: str
    marker: Marker = None
    phase_fixture: Literal["train_phase", "test_phase"] | None = None
    params: tuple[Param, ...] = ()
    requests: tuple[str, ...] = ()
    action: Action = None

    __test__ = False


@dataclass(frozen=True)
class TestClass:
    """A test class, perhaps a subclass of an earlier class of its module."""

    name: str
    marker: Marker = None
    base: str | None = None
    fixtures: tuple[WiderFixture, ...] = ()
    tests: tuple[TestFunction, ...] = ()

    __test__ = False


@dataclass(frozen=True)
class TestModule:
    """A test module: its ``pytestmark``, module fixtures, classes and tests."""

    name: str
    marker: Marker = None
    fixtures: tuple[WiderFixture, ...] = ()
    classes: tuple[TestClass, ...] = ()
    tests: tuple[TestFunction, ...] = ()
    in_package: bool = False

    __test__ = False

    @property
    def path(self) -> str:
        """The module's path from the root: in the package ``pkg`` or beside it."""
        return f"{PACKAGE}/{self.name}.py" if self.in_package else f"{self.name}.py"


@dataclass(frozen=True)
class Suite:
    """A generated suite: the conftest's session and function fixtures, and the modules.

    ``backend`` ``"torch"`` adds the session fixture ``model`` that holds one
    ``nn.Sequential(Linear, Dropout)`` the way ``holder`` says.
    """

    backend: Literal["reference", "torch"]
    default: Phase = None
    session_fixtures: tuple[WiderFixture, ...] = ()
    package_fixtures: tuple[WiderFixture, ...] = ()
    function_fixture: FunctionFixture | None = None
    modules: tuple[TestModule, ...] = ()
    holder: str = "value"
    model_autouse: bool = False

    def wider_fixtures(self) -> Iterator[WiderFixture]:
        """Every wider fixture of the suite (the torch model included)."""
        if self.backend == "torch":
            yield WiderFixture(MODEL_FIXTURE, "session", autouse=self.model_autouse)
        yield from self.session_fixtures
        yield from self.package_fixtures
        for module in self.modules:
            yield from module.fixtures
            for test_class in module.classes:
                yield from test_class.fixtures

    def items(self) -> dict[str, tuple[TestModule, TestClass | None, TestFunction, Param | None]]:
        """Every test item by node id, inherited class members included."""
        found: dict[str, tuple[TestModule, TestClass | None, TestFunction, Param | None]] = {}
        for module in self.modules:
            prefix = module.path
            for test in module.tests:
                for node_id, param in _item_ids(f"{prefix}::{test.name}", test):
                    found[node_id] = (module, None, test, param)
            for test_class in module.classes:
                for test in _class_tests(module, test_class):
                    for node_id, param in _item_ids(
                        f"{prefix}::{test_class.name}::{test.name}", test
                    ):
                        found[node_id] = (module, test_class, test, param)
        return found


def _item_ids(base: str, test: TestFunction) -> Iterator[tuple[str, Param | None]]:
    if not test.params:
        yield base, None
    for param in test.params:
        yield f"{base}[{param.id}]", param


def _class_tests(module: TestModule, test_class: TestClass) -> list[TestFunction]:
    tests = list(test_class.tests)
    if test_class.base is not None:
        tests = _class_tests(module, _class_named(module, test_class.base)) + tests
    return tests


def _class_named(module: TestModule, name: str) -> TestClass:
    return next(test_class for test_class in module.classes if test_class.name == name)


def _marker_phase(marker: Marker) -> Phase:
    return None if marker == "unset" or marker is None else marker


def _apply_model_action(action: Action, flags: Flags) -> Flags:
    if action == "eval":
        return (False, False, False)
    if action == "train":
        return (True, True, True)
    if action == "sub_eval":
        return (flags[0], flags[1], False)
    return flags


Reading: TypeAlias = Literal["every setter", "changes only"]
READINGS: tuple[Reading, ...] = ("every setter", "changes only")


@dataclass(frozen=True)
class _Baseline:
    """A baseline a wider fixture made: the phase it set, and whether its scope had it already."""

    fixture: str
    phase: Phase
    unchanged: bool


@dataclass
class _ItemState:
    """What the model knows about the test running now."""

    node_id: str
    scope_node: str
    phase: Phase = None
    phase_on_entry: Phase = None
    phase_known: bool = False
    phase_touched: bool = False
    between_before: set[Phase] = field(default_factory=set)
    flags: Flags | None = None
    flags_on_entry: Flags | None = None
    flags_touched: bool = False
    flags_before: set[Flags] = field(default_factory=set)


class _Replay:
    """The model's state machine, driven by the events of one run in their order."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.fixtures = {fixture.name: fixture for fixture in suite.wider_fixtures()}
        self.items = suite.items()
        self.modules = {module.path: module for module in suite.modules}
        self.phase_baselines: dict[str, list[_Baseline]] = defaultdict(list)
        self.flag_baselines: dict[str, list[tuple[str, Flags]]] = defaultdict(list)
        self.item: _ItemState | None = None
        self.leaks: dict[str, int] = defaultdict(int)
        self.ready_order: dict[str, int] = {}
        self.setup_started: dict[str, int] = {}
        self.leak_verdicts: dict[str, tuple[bool, bool]] = {}
        self.problems: list[str] = []

    # -- the rules -------------------------------------------------------------

    def chain(self, node: str) -> list[str]:
        """The scope nodes from ``node`` (a class, module, package or the session "") outwards."""
        parts = node.split("::") if node else []
        found = ["::".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
        if parts and PACKAGE in parts[0].split("/")[:-1]:
            found.append(PACKAGE)
        elif node == PACKAGE:
            found = [PACKAGE]
        return [*found, ""]

    def scope_marker(self, node: str) -> Marker:
        """The closest class or module marker at ``node`` and above (None: no marker)."""
        parts = node.split("::") if node and node != PACKAGE else []
        if len(parts) == 2:
            module = self.modules[parts[0]]
            marker = self.class_marker(module, parts[1])
            if marker is not None:
                return marker
        if parts:
            return self.modules[parts[0]].marker
        return None

    def class_marker(self, module: TestModule, name: str) -> Marker:
        """A class's own marker, else the closest base class's (the MRO)."""
        test_class = _class_named(module, name)
        if test_class.marker is not None or test_class.base is None:
            return test_class.marker
        return self.class_marker(module, test_class.base)

    def baseline(self, node: str, reading: Reading = "every setter") -> Phase:
        """The closest open baseline along ``node``'s scopes, else ``--learning-phase``."""
        for scope in self.chain(node):
            entries = self.open_baselines(scope, reading)
            if entries:
                return entries[-1].phase
        return self.suite.default

    def open_baselines(self, scope: str, reading: Reading) -> list[_Baseline]:
        """The baselines open at ``scope``, under one reading of "what its fixtures leave".

        A fixture that sets the phase its scope already had leaves it as it
        found it: the text does not say whether that is a baseline.
        """
        entries = self.phase_baselines[scope]
        if reading == "changes only":
            return [entry for entry in entries if not entry.unchanged]
        return entries

    def scope_phase(self, node: str, reading: Reading = "every setter") -> Phase:
        """The phase of a scope: its markers and those above it, else its baseline."""
        marker = self.scope_marker(node)
        return _marker_phase(marker) if marker is not None else self.baseline(node, reading)

    def scope_phases(self, node: str) -> set[Phase]:
        """The phase of a scope under each reading."""
        return {self.scope_phase(node, reading) for reading in READINGS}

    def flag_baseline(self, node: str) -> Flags | None:
        """The held model's flags as the closest scope's fixtures left them (None: no model)."""
        for scope in self.chain(node):
            if self.flag_baselines[scope]:
                return self.flag_baselines[scope][-1][1]
        return None

    def test_phases(self, node_id: str) -> set[Phase]:
        """The phase a test asks for, under each reading."""
        return {self.test_phase(node_id, reading) for reading in READINGS}

    def test_phase(self, node_id: str, reading: Reading = "every setter") -> Phase:
        """The phase a test asks for, by the precedence list."""
        _, _, test, param = self.items[node_id]
        if param is not None and param.marker is not None:
            return _marker_phase(param.marker)
        if test.marker is not None:
            return _marker_phase(test.marker)
        if test.phase_fixture is not None:
            return 1 if test.phase_fixture == "train_phase" else 0
        return self.scope_phase(self.scope_node_of(node_id), reading)

    def scope_node_of(self, node_id: str) -> str:
        return "::".join(node_id.split("::")[:-1])

    def between_candidates(self, node: str) -> set[Phase]:
        """The state between tests: the closest open baseline.

        With no fixture baseline open, the text allows ``--learning-phase`` (the
        baseline's definition in scopes.md) or the unset state the session began in.
        """
        found = set()
        for reading in READINGS:
            found.add(self.baseline(node, reading))
            if not any(self.open_baselines(scope, reading) for scope in self.chain(node)):
                found.add(None)
        return found

    # -- what was seen ---------------------------------------------------------

    def view(self, phase: Phase) -> object:
        """What the recording code reads for ``phase`` (torch: a new module's mode)."""
        if self.suite.backend == "torch":
            return 0 if phase == 0 else 1
        return phase

    def check(self, label: str, seen: object, allowed: Iterable[object]) -> None:
        allowed = list(allowed)
        if seen not in allowed:
            expected = allowed[0] if len(allowed) == 1 else f"one of {allowed}"
            self.problems.append(f"{label}: expected {expected!r}, saw {seen!r}")

    def check_phase(self, label: str, event: Event, allowed: Iterable[Phase]) -> None:
        self.check(f"{label} phase", event["phase"], {self.view(phase) for phase in allowed})

    def check_flags(self, label: str, event: Event, node: str) -> None:
        expected = self.flag_baseline(node)
        if expected is not None and "flags" in event:
            self.check(f"{label} model flags", tuple(event["flags"]), [expected])  # type: ignore[arg-type]

    # -- events ----------------------------------------------------------------

    def run(self, events: list[Event]) -> list[str]:
        for event in events:
            getattr(self, str(event["event"]))(event)
        self.judge_leaks()
        return self.problems

    def start(self, event: Event) -> None:
        node_id = str(event["name"])
        self.item = _ItemState(node_id, self.scope_node_of(node_id))

    def setup(self, event: Event) -> None:
        fixture, node = self.fixtures[str(event["name"])], str(event["node"])
        self.setup_started[fixture.name] = len(self.ready_order)
        label = f"setup of {fixture.scope} fixture {fixture.name} (for {node or 'the session'})"
        self.check_phase(label, event, self.scope_phases(node))
        self.check_flags(label, event, node)

    def after(self, event: Event) -> None:
        fixture, node = self.fixtures[str(event["name"])], str(event["node"])
        started_inside = self.ready_order.get(str(fixture.dynamic), -1) >= self.setup_started.get(
            fixture.name, 0
        )
        label = (
            f"{fixture.name} (for {node or 'the session'}) after "
            f"request.getfixturevalue({fixture.dynamic!r})"
            + (", which set it up," if started_inside else "")
        )
        self.check_phase(label, event, self.scope_phases(node))
        self.check_flags(label, event, node)

    def ready(self, event: Event) -> None:
        """A wider fixture's setup ended: what it set is its scope's baseline."""
        fixture, node = self.fixtures[str(event["name"])], str(event["node"])
        self.ready_order[fixture.name] = len(self.ready_order)
        if fixture.name == MODEL_FIXTURE:
            built_in_train = self.view(self.scope_phase(node)) == 1
            self.flag_baselines[node].append(
                (fixture.name, (built_in_train, built_in_train, built_in_train))
            )
        elif fixture.setup == 0 or fixture.setup == 1:
            unchanged = fixture.setup in self.scope_phases(node)
            self.phase_baselines[node].append(_Baseline(fixture.name, fixture.setup, unchanged))
        elif fixture.setup in MODEL_ACTIONS:
            flags = self.flag_baseline(node)
            assert flags is not None, f"{fixture.name} acts on the model before it exists"
            self.flag_baselines[node].append(
                (fixture.name, _apply_model_action(fixture.setup, flags))
            )

    def teardown(self, event: Event) -> None:
        fixture, node = self.fixtures[str(event["name"])], str(event["node"])
        label = f"teardown of {fixture.scope} fixture {fixture.name} (for {node or 'the session'})"
        allowed = self.scope_phases(node)
        if (fixture.setup == 0 or fixture.setup == 1) and self.scope_marker(node) is not None:
            # "torn down in the phase of its own scope ... (the phase it set, if it
            # set one)": with a marker at its scope, either reading.
            allowed.add(fixture.setup)
        self.check_phase(label, event, allowed)
        self.check_flags(label, event, node)
        phases, flags = self.phase_baselines[node], self.flag_baselines[node]
        phases[:] = [entry for entry in phases if entry.fixture != fixture.name]
        flags[:] = [entry for entry in flags if entry[0] != fixture.name]

    def fsetup(self, event: Event) -> None:
        item = self.current(event)
        self.start_phase(item, event, f"setup of the function fixture of {item.node_id}")
        action = self.suite.function_fixture.setup if self.suite.function_fixture else None
        if action == 0 or action == 1:  # a clear is undone when the setup ends
            self.act(item, action)

    def call(self, event: Event) -> None:
        item = self.current(event)
        label = f"test {item.node_id}{self.closest_note(item)}"
        if item.phase_known:
            self.check_phase(label, event, [item.phase])
        else:
            self.start_phase(item, event, label)
        item.between_before = self.between_candidates(item.scope_node)
        item.flags = item.flags_on_entry = self.flag_baseline(item.scope_node)
        item.flags_before = set() if item.flags is None else {item.flags}
        self.check_flags(f"test {item.node_id}", event, item.scope_node)
        self.act(item, self.items[item.node_id][2].action)

    def start_phase(self, item: _ItemState, event: Event, label: str) -> None:
        """Check the phase a test starts in; follow what was seen where the text allows several."""
        allowed = self.test_phases(item.node_id)
        self.check_phase(label, event, allowed)
        seen = [phase for phase in allowed if self.view(phase) == event["phase"]]
        item.phase = item.phase_on_entry = seen[0] if seen else self.test_phase(item.node_id)
        item.phase_known = True

    def closest_note(self, item: _ItemState) -> str:
        """Say when the closest scope's baseline is not the one set up last (issue 16, case 1)."""
        scopes = [scope for scope in self.chain(item.scope_node) if self.phase_baselines[scope]]
        if not scopes or self.test_phase(item.node_id) != self.baseline(item.scope_node):
            return ""
        latest = max(
            (self.ready_order[entry.fixture], entry.phase)
            for scope in scopes
            for entry in self.phase_baselines[scope]
        )[1]
        if latest == self.baseline(item.scope_node):
            return ""
        return " (in its closest scope's baseline, not the one set up last)"

    def fteardown(self, event: Event) -> None:
        item = self.current(event)
        self.check_phase(f"teardown of the function fixture of {item.node_id}", event, [item.phase])
        self.act(
            item, self.suite.function_fixture.teardown if self.suite.function_fixture else None
        )

    def act(self, item: _ItemState, action: Action) -> None:
        """The test (or its function fixture) changes the state it runs in."""
        if action == 0 or action == 1 or action == "clear":
            phase: Phase = None if action == "clear" else action
            item.phase_touched |= phase != item.phase
            item.phase = phase
        elif action in MODEL_ACTIONS and item.flags is not None:
            flags = _apply_model_action(action, item.flags)
            item.flags_touched |= flags != item.flags
            item.flags = flags

    def leak(self, event: Event) -> None:
        """Count a leak warning: pytest reports them after the whole protocol (after ``finish``)."""
        self.leaks[str(event["name"])] += 1

    def finish(self, event: Event) -> None:
        item = self.current(event)
        node = item.scope_node
        after = self.between_candidates(node)
        self.check_phase(f"between tests, after {item.node_id},", event, after)
        self.check_flags(f"between tests, after {item.node_id},", event, node)
        must, may = _leak_verdict(
            item.phase_on_entry, item.phase_touched, item.phase, item.between_before | after
        )
        flags_after = self.flag_baseline(node)
        flag_candidates = item.flags_before | (set() if flags_after is None else {flags_after})
        must_flags, may_flags = _leak_verdict(
            item.flags_on_entry, item.flags_touched, item.flags, flag_candidates
        )
        self.leak_verdicts[item.node_id] = (must or must_flags, may or may_flags)
        self.item = None

    def judge_leaks(self) -> None:
        """Compare the leak warnings pytest recorded with the verdict for each test."""
        for node_id, (must, may) in self.leak_verdicts.items():
            seen = "warned" if self.leaks[node_id] else "none"
            if must or not may:
                self.check(f"leak warnings for {node_id}", seen, ["warned" if must else "none"])
        for node_id in set(self.leaks) - set(self.leak_verdicts):
            self.problems.append(f"a leak warning for {node_id!r}, which is no test that ran")

    def current(self, event: Event) -> _ItemState:
        assert self.item is not None, f"event outside a test: {event}"
        return self.item


def _leak_verdict(
    on_entry: object, touched: bool, final: object, restored: Set[object]
) -> tuple[bool, bool]:
    """Return (must warn, may warn) for a test that found ``on_entry`` and left ``final``.

    It "changed the phase" when it left it other than it found it; one that
    changed it and changed it back may be warned or not. ``restored``: the
    states between tests the text allows.
    """
    if not touched or restored == {final}:
        return False, False
    if final != on_entry and final not in restored:
        return True, True
    return False, True


def mismatches(suite: Suite, events: list[Event]) -> list[str]:
    """Return each observation of one run that the rules do not allow (empty: all agree)."""
    return _Replay(suite).run(events)
