"""``--learning-phase-audit``: run the tests that read the phase again, in phases 0 and 1.

Registered only when the audit is on, so it costs nothing otherwise. Every test
runs as it would without the audit, and that run's outcome counts as usual. A
test that asks for no phase and *read* the phase in that run (the adapter
counts reads: :class:`~pytest_learning_phase.adapters.ReadTracking`) then runs
its whole protocol again, inside its own ``pytest_runtest_protocol``, in each
phase the normal run does not already stand for (an adapter may say which
phase its unset state is: :class:`~pytest_learning_phase.adapters.UnsetEquivalent`):
fresh function-scoped fixtures, the random state the first run started from,
reports (subtests' included) tagged and never logged. The test depends on the
phase when its outcomes in phases 0 and 1 differ, or unset_differs on the phase being
unset when its normal, unset run differs from both (checked once more unset).

Under pytest-xdist each worker audits its own tests; a verdict travels to the
controller with the next report the worker sends (its last ones in
``workeroutput``), so a worker that crashes has sent those it made before. The
controller prints the one report.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn, Protocol, cast

import pytest
from _pytest import junitxml
from _pytest.runner import runtestprotocol

from pytest_learning_phase._markers import PhaseRequest, PhaseRequestError, Resolution
from pytest_learning_phase._phase import Phase, short_repr
from pytest_learning_phase._provenance import DEFAULT_LABELS, Ran, Recording
from pytest_learning_phase._random_state import RandomState, held_generators, module_generators
from pytest_learning_phase._report import (
    AuditRun,
    describe,
    finding_lines,
    first_error_line,
    phase_labels,
)
from pytest_learning_phase._roles import is_xdist_worker
from pytest_learning_phase.adapters import (
    LearningPhaseAdapter,
    ProvenanceRecording,
    ReadTracking,
    UnsetEquivalent,
)

__all__ = ["AUDIT_PHASES", "USER_PROPERTY", "AuditedSession", "LearningPhaseAudit", "Verdict"]

AUDIT_PHASES: Final[tuple[Phase, Phase]] = (0, 1)
USER_PROPERTY: Final = "learning_phase_audit"
"""The ``user_properties`` entry, ``(USER_PROPERTY, phase)``, of every report of a re-run."""
WORKEROUTPUT_KEY: Final = "learning_phase_audit"
"""Where an xdist worker's verdicts travel: an attribute of its reports, and ``workeroutput``."""
BACKENDS_KEY: Final = "learning_phase_audit_backends"
"""Where the backends a worker's verdicts name travel (with its first report)."""
RE_RUN_CRASH: Final = "learning_phase_audit_crash"
"""The attribute that marks xdist's report of a re-run that crashed its worker (not counted)."""
DEFAULT_HINT: Final = (
    "a test that checks one phase on purpose should say so: @pytest.mark.learning_phase(0) "
    "or (1); otherwise the code depends on the phase it starts in: pass training= where "
    "it calls its layers, or fix the code that reads the phase"
)
"""The hint under the phase-dependent tests, for an adapter without ``audit_hint``."""
UNSET_HINT: Final = (
    "a test that needs the phase unset should say so with @pytest.mark.learning_phase(None); "
    "one that needs it set, with (0) or (1)"
)
"""The hint under the tests whose unset run differs from both phases."""

STATS_KEY: Final = "phase-dependent"
"""The key under which the phase-dependent tests are counted in pytest's last line."""

# What the audit found about one test.
DEPENDS: Final = "depends"
"""Asked for no phase, read it, and its outcome differs between phases 0 and 1."""
UNSET_DIFFERS: Final = "unset differs"
"""Asked for no phase, read it, and its normal, unset run differs from both phases' runs."""
SAME: Final = "same"
"""Asked for no phase, read it, and had one outcome in both phases."""
NEVER_READ: Final = "never read"
"""Asked for no phase and never read it: not run again."""
FROM_BASELINE: Final = "from baseline"
"""Asked for no phase and ran in the phase a wider fixture set (the detail says which)."""
NOT_AUDITED: Final = "not audited"
"""Asked for no phase and read it, but cannot be run again (the detail says why)."""
NO_EFFECT: Final = "no effect"
"""Asked for a phase (the detail says where) and never read it."""
_PRECEDENCE: Final = {
    DEPENDS: 6,
    UNSET_DIFFERS: 5,
    NOT_AUDITED: 4,
    SAME: 3,
    FROM_BASELINE: 2,
    NO_EFFECT: 1,
    NEVER_READ: 0,
}
"""Which verdict wins when two workers audit one test (``--dist each``)."""

_OUTCOME_RANK: Final = {
    "passed": 0,
    "skipped": 1,
    "xfailed": 1,
    "xpassed": 2,
    "failed": 3,
    "error": 4,
}
_NOT_CALLED: Final = frozenset({"skipped", "xfailed"})
"""The outcomes of a test that stopped before its body read anything (no "no effect")."""


class _AuditSettings(Protocol):
    @property
    def default(self) -> PhaseRequest:
        """The request of a test that asks for no phase (compared by identity)."""
        ...


class _AuditedIsolation(Protocol):
    from_baseline: bool
    """Whether the current test asked for nothing and runs in a wider fixture's baseline."""
    request: PhaseRequest


class AuditedSession(Protocol):
    """What the audit needs of the plugin's per-session object."""

    recordings: dict[str, Recording] | None
    """While set, the recordings of the run in progress (its failure section shows them)."""

    @property
    def adapters(self) -> Sequence[LearningPhaseAdapter]:
        """The adapters of the session's backends (usually one)."""
        ...

    @property
    def isolations(self) -> Sequence[_AuditedIsolation]:
        """Each backend's isolation: what the current test ran under."""
        ...

    @property
    def settings(self) -> _AuditSettings:
        """The session's settings."""
        ...

    def resolution(self, item: pytest.Item) -> Resolution:
        """Return what ``item`` asks for (``settings.default`` when nothing)."""
        ...

    def run_again_in(self, item: pytest.Item, request: PhaseRequest | None) -> None:
        """Set ``item``'s next run up in ``request`` (no leak warning); None: its own again."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the audit found about one test: a kind, and its outcomes or why."""

    nodeid: str
    kind: str
    detail: str = ""
    """Where its phase came from (``NO_EFFECT``, ``FROM_BASELINE``), or why it was not run
    again (``NOT_AUDITED``)."""
    outcomes: tuple[str, ...] = ()
    """Its outcome in each of :data:`AUDIT_PHASES`: a re-run's, or the test's own run's where
    it stands for that phase (torch: unset is train mode)."""
    runs: tuple[AuditRun, ...] = ()
    """Its runs, the test's own first, with what each recorded (``DEPENDS``, ``UNSET_DIFFERS``)."""
    read: tuple[str, ...] = ()
    """The backends whose phase it read (``DEPENDS``, ``UNSET_DIFFERS``, ``SAME``): their
    words, hint and unset phase are the ones its runs and report use."""

    def to_serializable(self) -> list[object]:
        """Return it as plain lists and strings, for xdist's ``workeroutput``."""
        runs = [run.to_serializable() for run in self.runs]
        return [self.nodeid, self.kind, self.detail, list(self.outcomes), runs, list(self.read)]

    @classmethod
    def from_serializable(cls, data: Sequence[Any]) -> Verdict:
        """Return the verdict :meth:`to_serializable` wrote."""
        nodeid, kind, detail, outcomes, runs, read = data
        return cls(
            str(nodeid),
            str(kind),
            str(detail),
            tuple(str(each) for each in outcomes),
            tuple(AuditRun.from_serializable(run) for run in runs),
            tuple(str(name) for name in read),
        )


@dataclass(frozen=True, slots=True)
class _Backend:
    """What the audit uses of one backend: its words for the phases, hint and unset phase."""

    labels: tuple[str, str]
    hint: str
    unset_phase: Phase

    def to_serializable(self) -> list[object]:
        """Return it as plain lists and strings, for xdist's ``workeroutput``."""
        return [list(self.labels), self.hint, self.unset_phase]

    @classmethod
    def from_serializable(cls, data: Sequence[Any]) -> _Backend:
        """Return the backend :meth:`to_serializable` wrote."""
        labels, hint, unset_phase = data
        return cls((str(labels[0]), str(labels[1])), str(hint), unset_phase)

    @classmethod
    def of(cls, adapter: LearningPhaseAdapter) -> _Backend:
        """Return what the audit uses of ``adapter``."""
        hint = getattr(adapter, "audit_hint", None) or DEFAULT_HINT
        return cls(phase_labels(adapter), hint, _unset_equivalent([adapter]))


def _report_outcome(report: pytest.TestReport) -> str | None:
    """Return what one report of a run stands for, as pytest's summary names it.

    None for a report that is not one (pytest-rerunfailures' ``rerun``).
    """
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome if report.outcome in _OUTCOME_RANK else None
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return "passed" if report.outcome == "passed" else None


class _RunWatch:
    """The reports of one run as they come (subtests' included): outcome, whether called."""

    __slots__ = ("call_outcome", "called", "nodeid", "outcome", "reports")

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.outcome = "passed"
        self.called = False
        self.call_outcome: str | None = None
        self.reports: list[pytest.TestReport] = []

    def add(self, report: pytest.TestReport) -> None:
        """Take one more report of the run (setup, call, teardown, or a subtest's)."""
        if str(report.outcome) == "rerun":  # pytest-rerunfailures: another attempt follows
            self.__init__(self.nodeid)  # type: ignore[misc]
            return
        outcome = _report_outcome(report)
        if outcome is None:
            return
        self.reports.append(report)
        if report.when == "call":
            self.called = True
            if self.call_outcome is None:
                self.call_outcome = outcome
        if _OUTCOME_RANK[outcome] > _OUTCOME_RANK[self.outcome]:
            self.outcome = outcome

    def run(
        self, phase: Phase, *, own: bool = False, ran: tuple[Ran, ...] | None = None
    ) -> AuditRun:
        """Return the run's record."""
        return AuditRun(phase, own, self.outcome, first_error_line(self.reports), ran)


def run_outcome(reports: Sequence[pytest.TestReport]) -> str:
    """Return a run's outcome: the worst of its setup, call and teardown reports."""
    watch = _RunWatch("")
    for report in reports:
        watch.add(report)
    return watch.outcome


def _adapter_usage_error(adapter: LearningPhaseAdapter, what: str, error: Exception) -> NoReturn:
    raise pytest.UsageError(
        f"learning phase backend {adapter.name}: {what} raised "
        f"{type(error).__name__}: {short_repr(str(error), 200)}"
    ) from error


def _checked(
    adapter: LearningPhaseAdapter, what: str, make_counter: Callable[[], object]
) -> Callable[[], int]:
    """Call an adapter's counter factory; return its counter, whose failures name the backend.

    A factory that raises or returns no function, or a counter that raises
    later, is a usage error naming the backend, not an internal error.
    """
    try:
        counter = make_counter()
    except Exception as error:
        _adapter_usage_error(adapter, f"{what}()", error)
    if not callable(counter):
        raise pytest.UsageError(
            f"learning phase backend {adapter.name}: {what}() returned "
            f"{short_repr(counter, 60)}; expected a function returning a count"
        )
    count = cast("Callable[[], int]", counter)

    def checked_count() -> int:
        try:
            return count()
        except Exception as error:
            _adapter_usage_error(adapter, f"the counter from {what}()", error)

    return checked_count


def _checked_tracker(
    adapter: LearningPhaseAdapter, track: Callable[[bool], object]
) -> Callable[[bool], object]:
    """Wrap an adapter's ``track_reads``: its failure is a usage error naming the backend."""

    def checked_track(on: bool) -> object:
        try:
            return track(on)
        except Exception as error:
            _adapter_usage_error(adapter, f"track_reads({on})", error)

    return checked_track


def _read_counts(adapters: Sequence[LearningPhaseAdapter]) -> Callable[[], tuple[int, ...]]:
    """Start counting reads on every backend; return a function giving each one's count.

    Called only when every backend can count (``ReadTracking``).
    """
    counters = [
        _checked(adapter, "phase_read_counter", adapter.phase_read_counter)
        for adapter in adapters
        if isinstance(adapter, ReadTracking)
    ]
    if len(counters) == 1:
        counter = counters[0]
        return lambda: (counter(),)
    return lambda: tuple(counter() for counter in counters)


def _total_uses(adapters: Sequence[LearningPhaseAdapter]) -> Callable[[], int]:
    """Return a function giving every backend's count of uses of the phase (reads included).

    An adapter's optional ``phase_use_counter()`` also counts what makes a
    phase a test asked for matter without a read (torch: building a module).
    """
    counters: list[Callable[[], int]] = [
        _checked(
            adapter,
            "phase_use_counter",
            getattr(adapter, "phase_use_counter", adapter.phase_read_counter),
        )
        for adapter in adapters
        if isinstance(adapter, ReadTracking)
    ]
    return lambda: sum(counter() for counter in counters)


def _unset_equivalent(adapters: Sequence[LearningPhaseAdapter]) -> Phase:
    """Return the phase every backend's unset state is the same as, or None."""
    declared = {
        adapter.unset_phase if isinstance(adapter, UnsetEquivalent) else None
        for adapter in adapters
    }
    phase = declared.pop() if len(declared) == 1 else None
    return phase if phase in AUDIT_PHASES else None


def _baseline_source(session: AuditedSession) -> str | None:
    """Return where the current test's phase came from if a wider fixture set it, else None.

    A test that asks for nothing follows its scope's baseline: the phase a wider
    fixture set while it was set up. Such a test has a phase.
    """
    for isolation in session.isolations:
        if isolation.from_baseline:
            return isolation.request.source
    return None


class _QuietHooks:
    """The hooks of a re-run: as the test's own, but its reports go to the audit, not the log.

    Subtests (``unittest``'s ``subTest``, pytest's ``subtests``) log their
    reports themselves, through the item's hook proxy; a re-run gets this one.
    """

    def __init__(self, hooks: Any, watch: _RunWatch) -> None:
        self._hooks = hooks
        self._watch = watch

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Give the report to the audit."""
        self._watch.add(report)

    def pytest_exception_interact(self, **kwargs: object) -> None:
        """No debugger, no "learning phase" section for a re-run's failure."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hooks, name)


@contextmanager
def _quiet_hooks(item: pytest.Item, watch: _RunWatch) -> Iterator[None]:
    """Give ``item`` hooks that keep its reports out of the log, for one re-run."""
    session = item.session
    real_proxy = session.gethookproxy

    def quiet_proxy(path: Any) -> Any:
        return _QuietHooks(real_proxy(path), watch)

    session.gethookproxy = quiet_proxy  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del session.gethookproxy


@contextmanager
def _setup_show_off(config: pytest.Config) -> Iterator[None]:
    """Keep ``--setup-show`` from printing a re-run's SETUP and TEARDOWN lines."""
    shown = config.option.setupshow
    config.option.setupshow = False
    try:
        yield
    finally:
        config.option.setupshow = shown


@contextmanager
def _subtest_failures_kept(item: pytest.Item) -> Iterator[None]:
    """Leave pytest's count of ``item``'s failed subtests as it was before a re-run.

    pytest 9's ``subtests`` plugin counts them per test in ``config.stash`` and
    turns a passed test with failed subtests into a failure when it reports it.
    """
    try:
        from _pytest.subtests import failed_subtests_key
    except ImportError:  # pytest < 9: no such count
        yield
        return
    counts: Any = item.config.stash.get(failed_subtests_key, None)
    key = getattr(item, "id", item.nodeid)  # pytest 9.1+ keys it by the node's id
    before = counts.get(key) if counts is not None else None
    try:
        yield
    finally:
        if counts is not None:
            if before is None:
                counts.pop(key, None)
            else:
                counts[key] = before


class _StoppedRun(Exception):
    """A re-run called ``pytest.exit()``: the test cannot be judged (``why``).

    ``outcomes``: both re-runs' outcomes when the run stopped was the extra one, unset.
    """

    def __init__(self, why: str, outcomes: tuple[str, ...] = ()) -> None:
        super().__init__(why)
        self.why = why
        self.outcomes = outcomes


def _tear_down_after_a_stop(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tear down what a re-run stopped by ``pytest.exit()`` or an interrupt left set up."""
    with suppress(Exception, pytest.exit.Exception, KeyboardInterrupt):  # judged already
        item.ihook.pytest_runtest_teardown(item=item, nextitem=nextitem)


class LearningPhaseAudit:
    """The audit plugin: watch each test's run, run the readers again, report, exit code."""

    def __init__(self, session: AuditedSession) -> None:
        """Start the audit: the adapter starts counting reads now, if it can."""
        self.session = session
        self.blind = [a.name for a in session.adapters if not isinstance(a, ReadTracking)]
        """The backends that cannot tell whether a test read the phase."""
        self.names = tuple(adapter.name for adapter in session.adapters)
        self.read_count = _read_counts(session.adapters) if not self.blind else None
        """Each backend's count of reads, in ``names``' order: a test read those that moved."""
        self.use_count = _total_uses(session.adapters) if not self.blind else None
        """Reads, and other uses of a phase a test asked for (torch: building a module)."""
        self.trackers: list[Callable[[bool], object]] = [
            _checked_tracker(adapter, track)
            for adapter in session.adapters
            if callable(track := getattr(adapter, "track_reads", None))
        ]
        """Adapters that track reads only while a test runs (not in wider fixtures)."""
        self.backends = {adapter.name: _Backend.of(adapter) for adapter in session.adapters}
        """Each backend's words, hint and unset phase (xdist workers' added on the controller)."""
        self.recorders = [a for a in session.adapters if isinstance(a, ProvenanceRecording)]
        """The backends that can say what ran in which mode (each run is recorded)."""
        setting = str(getattr(session.settings, "backend_setting", ""))
        self.options = (setting,) if setting.startswith("--learning-phase-backend=") else ()
        """The options of the reproduce command besides the phase (a backend chosen on the
        command line)."""
        self.verdicts: dict[str, Verdict] = {}
        self.normal_run: _RunWatch | None = None
        self.wider_fixture_reads: tuple[int, ...] = ()
        self.no_runs = ""
        """Set when the session runs no test (``--setup-only``, ``--setup-plan``)."""
        self.unsent: list[Verdict] | None = None
        """(xdist worker) The verdicts made since the worker's last report; None elsewhere."""
        self.backends_sent = False
        self.unacknowledged: dict[object, str] = {}
        """(xdist controller) Each worker's last finished test whose verdict has not come yet."""
        self.crashed: list[tuple[object, str]] = []
        """(xdist controller) Each worker that went down without its final verdicts, and why."""
        self.finished: dict[object, str] = {}
        """(xdist controller) Each worker's last test whose own run ended (its teardown came;
        ``""`` while an attempt of pytest-rerunfailures that another will follow ends)."""
        self.rerun_crashes: list[pytest.TestReport] = []
        """(xdist controller) The report of each re-run that crashed its worker."""
        self.held: dict[object, list[object]] = {}
        """The generator objects each wider fixture set up now holds (by its ``FixtureDef``)."""
        self.start: RandomState | None = None
        """The random state the normal run in progress started from (a test asking for none)."""

    def _track(self, *, on: bool) -> None:
        for tracker in self.trackers:
            tracker(on)

    def pytest_configure(self, config: pytest.Config) -> None:
        """Note the options under which no test runs at all, and whether this is a worker."""
        if is_xdist_worker(config):
            self.unsent = []
        if config.option.setupplan:
            self.no_runs = "--setup-plan"
        elif config.option.setuponly:
            self.no_runs = "--setup-only"

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        """Keep a wider fixture's reads out of the test that happened to set it up first.

        Note the generator objects its value holds: the runs of a test start
        from their state as the fixture left it.
        """
        if fixturedef.scope == "function":
            return (yield)
        if self.normal_run is None:
            return self._hold(fixturedef, (yield))
        read_count = self.read_count
        before = read_count() if read_count is not None else ()
        self._track(on=False)
        try:
            value = yield
        finally:
            self._track(on=True)
            if read_count is not None:
                moved = map(int.__sub__, read_count(), before)
                self.wider_fixture_reads = tuple(map(int.__add__, self.wider_fixture_reads, moved))
        return self._hold(fixturedef, value)

    def _hold(self, fixturedef: pytest.FixtureDef[object], value: object) -> object:
        """Note the generator objects a wider fixture's ``value`` holds; return ``value``."""
        generators = held_generators(value)
        if generators:
            self.held[fixturedef] = generators
            if self.start is not None:
                self.start.hold(generators)
        return value

    def pytest_fixture_post_finalizer(self, fixturedef: pytest.FixtureDef[object]) -> None:
        """Forget the generator objects of a wider fixture torn down."""
        self.held.pop(fixturedef, None)

    def _held_now(self, item: pytest.Item) -> list[object]:
        """Return the generators the wider fixtures set up now hold, and ``item``'s module's."""
        held = [generator for generators in self.held.values() for generator in generators]
        if isinstance(item, pytest.Function):
            held.extend(module_generators(item.module))
        return held

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        """Let the test run as usual; then run it again in each phase if it read the phase.

        Whoever runs the first run (pytest, or pytest-rerunfailures with its
        attempts) logs its reports. Inside the test's own protocol, so the
        re-runs happen on the xdist worker that has the test.
        """
        session = self.session
        resolution = session.resolution(item)
        if self.no_runs or isinstance(resolution, PhaseRequestError):
            return (yield)  # nothing runs, or its setup fails with the message
        asked = resolution is not session.settings.default
        self.start = start = None if asked else RandomState(self._held_now(item))
        read_count, use_count = self.read_count, self.use_count
        reads_before = read_count() if read_count is not None else ()
        uses_before = use_count() if use_count is not None else 0
        self.wider_fixture_reads = tuple(0 for _ in reads_before)
        self.normal_run = run = _RunWatch(item.nodeid)
        recordings = None if asked else self._start_recording()
        self._track(on=True)
        try:
            result = yield
        finally:
            self._track(on=False)
            self.normal_run = self.start = None
            own_ran = self._stop_recording(recordings)
        read = self._read_backends(reads_before)
        if asked:
            used = use_count() != uses_before if use_count is not None else True
            if run.called and run.call_outcome not in _NOT_CALLED and not used:
                self._record(Verdict(item.nodeid, NO_EFFECT, resolution.source))
            return result
        baseline = _baseline_source(session)
        if baseline is not None:
            self._record(Verdict(item.nodeid, FROM_BASELINE, baseline))
        elif not read:
            self._record(Verdict(item.nodeid, NEVER_READ))
        elif not isinstance(item, pytest.Function):
            why = f"a {type(item).__name__} cannot be run again; only test functions can"
            self._record(Verdict(item.nodeid, NOT_AUDITED, why))
        else:
            assert start is not None
            own = run.run(resolution.phase, own=True, ran=own_ran)
            self._record(self._judge(item, nextitem, start, own, read))
        return result

    def _read_backends(self, before: tuple[int, ...]) -> tuple[str, ...]:
        """Return the backends the test read since ``before`` (wider fixtures' reads aside).

        Every backend when one of them cannot tell.
        """
        read_count = self.read_count
        if read_count is None:
            return self.names
        moved = zip(self.names, read_count(), before, self.wider_fixture_reads, strict=True)
        return tuple(name for name, now, then, wider in moved if now - then - wider)

    def _unset_phase(self, read: Sequence[str]) -> Phase:
        """Return the phase the unset state of every backend in ``read`` is, if they agree."""
        declared = {self.backends[name].unset_phase for name in read}
        return declared.pop() if len(declared) == 1 else None

    def _labels(self, read: Sequence[str]) -> tuple[str, str]:
        """Return how the backends in ``read`` write phases 0 and 1, when they agree."""
        labels = {self.backends[name].labels for name in read if name in self.backends}
        return labels.pop() if len(labels) == 1 else DEFAULT_LABELS

    def _judge(
        self,
        item: pytest.Function,
        nextitem: pytest.Item | None,
        start: RandomState,
        own: AuditRun,
        read: tuple[str, ...],
    ) -> Verdict:
        """Run the test again where its own run does not already stand; return the verdict.

        Its own run stands for its phase, or for the phase the unset state of
        every backend it ``read`` is (torch: train mode). Afterwards the random
        state is the one the first run left.
        """
        nodeid = item.nodeid
        stands_for = own.phase if own.phase is not None else self._unset_phase(read)
        labels = self._labels(read)
        runs = [own]
        after_first_run = start.now()
        try:
            for phase in AUDIT_PHASES:
                if phase != stands_for:
                    runs.append(self._run_in_phase(item, nextitem, phase, start, labels))
            by_phase = {run.phase: run.outcome for run in runs[1:]}
            if stands_for is not None:
                by_phase[stands_for] = own.outcome
            outcomes = (by_phase[0], by_phase[1])
            if outcomes[0] != outcomes[1] and stands_for is not None:
                # Its own run stood for a phase and differs from the re-run: the phase, or
                # what the first run left behind? One more run in that phase tells.
                again = self._run_in_phase(item, nextitem, stands_for, start, labels, outcomes)
                if again.outcome != own.outcome:  # it did not repeat: compare the re-runs
                    by_phase[stands_for] = again.outcome
                    outcomes = (by_phase[0], by_phase[1])
                    runs.append(again)
            if outcomes[0] != outcomes[1]:
                return Verdict(nodeid, DEPENDS, outcomes=outcomes, runs=tuple(runs), read=read)
            if stands_for is None and outcomes[0] != own.outcome:
                # Unset differs from both phases: the phase, or what the first run
                # left behind (a counter, a file)? One more run, unset, tells.
                again = self._run_in_phase(item, nextitem, None, start, labels, outcomes)
                if again.outcome == own.outcome:
                    runs_ = tuple(runs)
                    return Verdict(nodeid, UNSET_DIFFERS, outcomes=outcomes, runs=runs_, read=read)
            return Verdict(nodeid, SAME, outcomes=outcomes, read=read)
        except _StoppedRun as stopped:
            return Verdict(nodeid, NOT_AUDITED, stopped.why, outcomes=stopped.outcomes)
        finally:
            after_first_run.restore()

    def _start_recording(self) -> dict[str, Recording] | None:
        """Start recording what runs, on every backend that can; None if none can."""
        if not self.recorders:
            return None
        recordings = {adapter.name: adapter.record_provenance() for adapter in self.recorders}
        self.session.recordings = recordings
        return recordings

    def _stop_recording(self, recordings: dict[str, Recording] | None) -> tuple[Ran, ...] | None:
        """Stop the recordings; return what ran on every backend, in order."""
        if recordings is None:
            return None
        self.session.recordings = None
        return tuple(entry for recording in recordings.values() for entry in recording.stop())

    def _run_in_phase(
        self,
        item: pytest.Function,
        nextitem: pytest.Item | None,
        phase: Phase,
        start: RandomState,
        labels: tuple[str, str],
        judged: tuple[str, ...] = (),
    ) -> AuditRun:
        """Run the test's whole protocol once in ``phase``: fresh fixtures, no logging.

        ``judged``: for the extra run, unset, both re-runs' outcomes (a stop keeps them).

        Each run ends as the first did, tearing down what ``nextitem`` does not
        need: a wider fixture stays up for the next run, unless the test is the
        last of its scope (then each run sets it up again). Its reports carry
        ``(USER_PROPERTY, phase)`` in ``user_properties`` and go to the audit
        only (subtests' too). Its warnings are caught here, under the filters in
        effect, so that they are not recorded a second time.

        :raises _StoppedRun: if the run called ``pytest.exit()`` (after its
            teardown; the session goes on).
        """
        start.restore()
        if item.__dict__.get("_instance") is not None:  # a fresh instance of its class
            del item.__dict__["_instance"]
            item._obj = None
        user_properties = list(item.user_properties)
        item.user_properties.append((USER_PROPERTY, phase))
        # pytest-rerunfailures holds back the wider fixtures' teardown after a failure
        # it may run again; a re-run of the audit is not one of its attempts.
        attempts = item.__dict__.get("execution_count")
        if attempts is not None:
            item.__dict__["execution_count"] = 1 << 62
        watch = _RunWatch(item.nodeid)
        where = f"run again in phase {describe(phase, labels)}"
        self.session.run_again_in(item, PhaseRequest(phase, f"--learning-phase-audit, {where}"))
        recordings = self._start_recording()
        stopped: BaseException | None = None
        self._track(on=True)
        try:
            with (
                warnings.catch_warnings(record=True),
                _quiet_hooks(item, watch),
                _setup_show_off(item.config),
                _subtest_failures_kept(item),
            ):
                try:
                    for report in runtestprotocol(item, log=False, nextitem=nextitem):
                        watch.add(report)
                except (pytest.exit.Exception, KeyboardInterrupt) as exception:
                    stopped = exception
                    _tear_down_after_a_stop(item, nextitem)
        finally:
            self._track(on=False)
            self.session.run_again_in(item, None)
            ran = self._stop_recording(recordings)
            item.user_properties[:] = user_properties
            if attempts is not None:
                item.__dict__["execution_count"] = attempts
        if isinstance(stopped, KeyboardInterrupt):
            self._record(Verdict(item.nodeid, NOT_AUDITED, f"interrupted while {where}", judged))
            raise stopped
        if stopped is not None:
            where = f"its run in phase {describe(phase, labels)}"
            if judged:
                where = "its extra run, unset, after both re-runs,"
            raise _StoppedRun(f"{where} called pytest.exit(): {stopped}", judged)
        return watch.run(phase, ran=ran)

    @pytest.hookimpl(tryfirst=True)  # an xdist worker: before xdist serializes the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Watch the normal run's reports; carry verdicts from an xdist worker to the controller.

        The normal run's reports give its outcome (subtests' included) and its
        first error. A worker's report carries the verdicts made since its
        last one, so that a worker that crashes has sent all but the last.
        """
        run = self.normal_run
        if run is not None and report.nodeid == run.nodeid:
            run.add(report)
        if self.unsent is not None:
            setattr(report, WORKEROUTPUT_KEY, [v.to_serializable() for v in self.unsent])
            self.unsent.clear()
            if not self.backends_sent:
                setattr(report, BACKENDS_KEY, self._serializable_backends())
                self.backends_sent = True
            return
        worker = getattr(report, "node", None)
        verdicts = getattr(report, WORKEROUTPUT_KEY, None)
        if worker is None or verdicts is None:
            return
        self._take(getattr(report, BACKENDS_KEY, None), verdicts)
        self.unacknowledged.pop(worker, None)
        if str(report.outcome) == "rerun":  # pytest-rerunfailures: another attempt follows
            self.finished[worker] = ""
        if report.when == "teardown":
            self.unacknowledged[worker] = report.nodeid
            if self.finished.get(worker) != "":
                self.finished[worker] = report.nodeid
            else:
                del self.finished[worker]

    def _serializable_backends(self) -> dict[str, object]:
        return {name: backend.to_serializable() for name, backend in self.backends.items()}

    def _take(self, backends: dict[str, Any] | None, verdicts: Sequence[Any]) -> None:
        """(xdist controller) Take what a worker sent: its backends, its verdicts."""
        for name, data in (backends or {}).items():
            self.backends.setdefault(name, _Backend.from_serializable(data))
        for data in verdicts:
            self._record(Verdict.from_serializable(data))

    def _record(self, verdict: Verdict) -> None:
        """Keep ``verdict``; of two for one test, the one that says more (``--dist each``)."""
        previous = self.verdicts.get(verdict.nodeid)
        if previous is None or _PRECEDENCE[verdict.kind] > _PRECEDENCE[previous.kind]:
            self.verdicts[verdict.nodeid] = verdict
        if self.unsent is not None:
            self.unsent.append(verdict)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """(xdist controller) Take a finished worker's last verdicts; note one that crashed."""
        output = getattr(node, "workeroutput", None) or {}
        verdicts = output.get(WORKEROUTPUT_KEY)
        self._take(output.get(BACKENDS_KEY), verdicts or ())
        if verdicts is None:
            self.crashed.append((node, str(error or "no verdicts sent")))
        else:
            self.unacknowledged.pop(node, None)

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_handlecrashitem(
        self, crashitem: str, report: pytest.TestReport, sched: object
    ) -> bool | None:
        """(xdist controller) A test crashed its worker: it cannot be judged.

        When its own run had ended (its teardown's report came), a re-run
        crashed the worker: xdist's failure report is turned into one that
        counts nowhere, and no other plugin runs the test again.
        """
        if self.finished.get(getattr(report, "node", None)) != crashitem:
            self._record(Verdict(crashitem, NOT_AUDITED, "it crashed its worker"))
            return None
        self._record(Verdict(crashitem, NOT_AUDITED, "it crashed its worker when run again"))
        report.outcome = "passed"
        report.longrepr = None
        setattr(report, RE_RUN_CRASH, True)
        self.rerun_crashes.append(report)
        return True

    @pytest.hookimpl(specname="pytest_sessionfinish", tryfirst=True)
    def pytest_sessionfinish_junitxml(self, session: pytest.Session) -> None:
        """(xdist controller) Take out the ``<testcase>`` that each re-run's crash opened.

        xdist logs the crash's report, which counts nowhere; ``--junitxml``
        still opens a test case for it, with no name, after the test's own.
        """
        xml = session.config.stash.get(junitxml.xml_key, None)
        if xml is None:
            return
        for report in self.rerun_crashes:
            reporter = xml.node_reporter(report)  # the one the crash's report opened
            for key in [key for key, value in xml.node_reporters.items() if value is reporter]:
                del xml.node_reporters[key]
            xml.node_reporters_ordered.remove(reporter)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """Keep the report of a re-run that crashed its worker out of the log and counts."""
        return ("", "", "") if getattr(report, RE_RUN_CRASH, False) else None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Ship the verdicts (xdist worker), or fail the run if a test depends on the phase."""
        if self.unsent is not None:  # the verdicts made after the worker's last report
            workeroutput: dict[str, object] = session.config.workeroutput  # type: ignore[attr-defined]
            workeroutput[WORKEROUTPUT_KEY] = [v.to_serializable() for v in self.unsent]
            workeroutput[BACKENDS_KEY] = self._serializable_backends()
            return
        found = self._of_kind(DEPENDS) or self._of_kind(UNSET_DIFFERS)
        if found and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _of_kind(self, kind: str) -> list[Verdict]:
        return sorted(
            (verdict for verdict in self.verdicts.values() if verdict.kind == kind),
            key=lambda verdict: verdict.nodeid,
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the "learning phase audit" section."""
        config = terminalreporter.config
        if config.option.collectonly or self.unsent is not None:
            return
        writer = terminalreporter
        writer.write_sep("=", "learning phase audit", bold=True)  # after a blank line
        if self.no_runs:
            writer.line(f"{self.no_runs}: no test ran, so none was audited")
            return
        depends, unset_differs = self._of_kind(DEPENDS), self._of_kind(UNSET_DIFFERS)
        same, never_read = self._of_kind(SAME), self._of_kind(NEVER_READ)
        not_audited, no_effect = self._of_kind(NOT_AUDITED), self._of_kind(NO_EFFECT)
        from_baseline = self._of_kind(FROM_BASELINE)
        audited = len(depends) + len(unset_differs) + len(same)
        asked_none = audited + len(never_read) + len(not_audited) + len(from_baseline)
        writer.line(
            f"{_tests(asked_none)} asked for no phase: {audited} read it and "
            f"{self._ran_again([*depends, *unset_differs, *same])}, {len(never_read)} never read it"
            + (f", {len(from_baseline)} had a phase from a wider fixture" if from_baseline else "")
            + self._not_audited_counts(not_audited)
        )
        if self.read_count is None:
            writer.line(
                f"(backend {', '.join(self.blind)} cannot tell whether a test read the "
                "phase: every test that asks for none ran again)"
            )
        if depends:
            verb = "depends" if len(depends) == 1 else "depend"
            writer.line(
                f"{_tests(len(depends))} {verb} on the learning phase:", red=True, bold=True
            )
            self._list_findings(writer, depends, AUDIT_PHASES)
            hints = (self.backends[name].hint for v in depends for name in self._read(v))
            writer.line(f"hint: {'; '.join(dict.fromkeys(hints))}")
        if unset_differs:
            verb = "differs" if len(unset_differs) == 1 else "differ"
            writer.line(
                f"{_tests(len(unset_differs))} {verb} between the phase unset and both phases:",
                red=True,
                bold=True,
            )
            self._list_findings(writer, unset_differs, (None, *AUDIT_PHASES))
            writer.line(f"hint: {UNSET_HINT}")
        if depends or unset_differs:
            # pytest's last line counts them: "4 passed, 1 phase-dependent" (exit status 1).
            found = [*depends, *unset_differs]
            writer.stats.setdefault(STATS_KEY, []).extend(_Counted(v.nodeid) for v in found)
            if hasattr(writer, "_main_color"):
                writer._main_color = None  # recomputed with the new count
        elif audited:
            writer.line("none depends on the learning phase", green=True)
        if no_effect:
            count = len(no_effect)
            writer.line(
                f"the marker had no effect: {_tests(count)} "
                f"{'asks' if count == 1 else 'ask'} for a phase and never read it:",
                yellow=True,
            )
            self._list(writer, no_effect)
        if not_audited:
            count = len(not_audited)
            writer.line(
                f"could not audit {_tests(count)} that read the phase:",
                yellow=True,
            )
            self._list(writer, not_audited)
        for lost in self._lost_to_crashes():
            writer.line(f"not judged: {lost}", yellow=True)

    @staticmethod
    def _not_audited_counts(not_audited: Sequence[Verdict]) -> str:
        """Count the tests that could not run again, and those stopped after both re-runs."""
        judged = sum(1 for verdict in not_audited if verdict.outcomes)
        unjudged = len(not_audited) - judged
        return (f", {unjudged} read it and could not run again" if unjudged else "") + (
            f", {judged} read it and ran again but could not be judged" if judged else ""
        )

    def _lost_to_crashes(self) -> Iterator[str]:
        """Say which verdict each crashed worker made and never sent (at most its last)."""
        for node, error in self.crashed:
            nodeid = self.unacknowledged.get(node)
            if nodeid is not None and nodeid not in self.verdicts:
                name = getattr(getattr(node, "gateway", None), "id", "a worker")
                yield f"{nodeid}: worker {name} went down ({error}) before it sent the verdict"

    def _read(self, verdict: Verdict) -> tuple[str, ...]:
        """Return the backends ``verdict``'s test read, or those :meth:`_summary_backends` names.

        Only the ones this process knows (an xdist worker's are sent with its verdicts).
        """
        read = verdict.read or self._summary_backends([])
        return tuple(name for name in read if name in self.backends)

    def _summary_backends(self, audited: Sequence[Verdict]) -> tuple[str, ...]:
        """Return the backends the audited tests read; with none, the frameworks driven, if any.

        Under ``auto`` a torch suite reads torch only: it is written in torch's words.
        """
        read = tuple(dict.fromkeys(name for v in audited for name in v.read))
        if read:
            return read
        frameworks = tuple(name for name in self.backends if name != "reference")
        return frameworks or tuple(self.backends)

    def _ran_again(self, audited: Sequence[Verdict]) -> str:
        """Say in which phases the readers ran again (per the backends each read).

        Their normal run stands for the phase ``--learning-phase`` or the ini
        gives (named as the header names it), or for the phase the unset state
        of the backends each read is.
        """
        default = self.session.settings.default
        if default.phase is not None:
            backends = self._summary_backends(audited)
            given = f"{default.source.partition('=')[0].strip()} is"
            return f"ran again {self._phases_again(default.phase, backends, given)}"
        groups: dict[Phase, list[Verdict]] = {}
        for verdict in audited:
            groups.setdefault(self._unset_phase(self._read(verdict)), []).append(verdict)
        if len(groups) <= 1:
            backends = self._summary_backends(audited)
            unset_phase = next(iter(groups), self._unset_phase(backends))
            return f"ran again {self._phases_again(unset_phase, backends)}"
        parts = [
            f"{len(verdicts)} {self._phases_again(unset_phase, self._summary_backends(verdicts))}"
            for unset_phase, verdicts in sorted(groups.items(), key=lambda group: str(group[0]))
        ]
        return f"ran again as the backends each read need: {', '.join(parts)}"

    def _phases_again(
        self, stands_for: Phase, backends: Sequence[str], why: str = "unset is phase"
    ) -> str:
        """Say in which phases tests reading ``backends`` ran again: ``in phase 0 (eval) (...)``."""
        labels = self._labels(backends)
        if stands_for is None:
            return f"in phases {describe(0, labels)} and {describe(1, labels)}"
        other: Phase = 0 if stands_for == 1 else 1
        return (
            f"in phase {describe(other, labels)} ({why} "
            f"{describe(stands_for, labels)}: the normal run stands for it)"
        )

    def _list_findings(
        self, writer: pytest.TerminalReporter, verdicts: Sequence[Verdict], phases: Sequence[Phase]
    ) -> None:
        """List each test with its outcome per phase (``unset``: its own run), and its runs."""
        width = max(len(verdict.nodeid) for verdict in verdicts)
        for verdict in verdicts:
            labels = self._labels(self._read(verdict))
            by_phase: dict[Phase, str] = dict(zip(AUDIT_PHASES, verdict.outcomes, strict=True))
            own = next((run for run in verdict.runs if run.own), None)
            if own is not None and own.phase is None:
                by_phase[None] = own.outcome
            outcomes = "  ".join(
                f"{'unset' if phase is None else labels[phase]}: {by_phase[phase]:<7}"
                for phase in phases
            )
            writer.line(f"  {verdict.nodeid:<{width}}  {outcomes.rstrip()}")
            lines = finding_lines(
                verdict.nodeid,
                verdict.runs,
                labels,
                self.options,
                _rootdir_prefix(writer.config),
            )
            for line in lines:
                writer.line(line)

    @staticmethod
    def _list(writer: pytest.TerminalReporter, verdicts: Sequence[Verdict]) -> None:
        width = max(len(verdict.nodeid) for verdict in verdicts)
        for verdict in verdicts:
            writer.line(f"  {verdict.nodeid:<{width}}  ({verdict.detail})")


def _rootdir_prefix(config: pytest.Config) -> str:
    """Return the rootdir relative to where pytest was run (``docs/examples/``), or ``""``."""
    relative = os.path.relpath(config.rootpath, config.invocation_params.dir)
    return "" if relative == os.curdir else f"{Path(relative).as_posix()}/"


class _Counted:
    """A phase-dependent test in pytest's ``stats`` (plugins read each entry's ``__dict__``)."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def _tests(count: int) -> str:
    return f"{count} test{'' if count == 1 else 's'}"
