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

Under pytest-xdist each worker audits its own tests and ships its verdicts to
the controller in ``workeroutput``, which prints the one report.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from typing import Any, Final, Protocol

import pytest
from _pytest.runner import runtestprotocol

from pytest_learning_phase._markers import PhaseRequest, PhaseRequestError, Resolution
from pytest_learning_phase._phase import PHASE_IDS, Phase, describe_phase
from pytest_learning_phase._random_state import RandomState
from pytest_learning_phase.adapters import LearningPhaseAdapter, ReadTracking, UnsetEquivalent

__all__ = [
    "AUDIT_PHASES",
    "USER_PROPERTY",
    "AuditedSession",
    "LearningPhaseAudit",
    "RunRecord",
    "Verdict",
    "run_outcome",
]

AUDIT_PHASES: Final[tuple[Phase, Phase]] = (0, 1)
USER_PROPERTY: Final = "learning_phase_audit"
"""The ``user_properties`` entry, ``(USER_PROPERTY, phase)``, of every report of a re-run."""
WORKEROUTPUT_KEY: Final = "learning_phase_audit"
DEFAULT_HINT: Final = (
    "a test meant for one phase should say so with @pytest.mark.learning_phase(0) or (1); "
    "otherwise fix the code that reads the phase"
)
"""The hint under the phase-dependent tests, for an adapter without ``audit_hint``."""
UNSET_HINT: Final = (
    "a test that needs the phase unset should say so with @pytest.mark.learning_phase(None); "
    "one that needs it set, with (0) or (1)"
)
"""The hint under the tests whose unset run differs from both phases."""

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
    inherits: bool
    request: PhaseRequest
    default: PhaseRequest


class AuditedSession(Protocol):
    """What the audit needs of the plugin's per-session object."""

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
class RunRecord:
    """One run of an audited test: the phase it ran in, its outcome, its first error line."""

    phase: Phase
    outcome: str
    error: str = ""
    """The first line of the first failing report's error ("" when none failed)."""
    normal: bool = False
    """Whether it is the normal run, the one that counts."""
    stands_for: Phase = None
    """The phase a normal run also stands for: its own, or the one its unset state is."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the audit found about one test: a kind, its runs, or why it was not run again.

    A plain record: :meth:`to_serializable` gives dicts of plain values (for
    xdist's ``workeroutput``), and :meth:`from_serializable` ignores keys it does
    not know, so that the record can grow fields.
    """

    nodeid: str
    kind: str
    detail: str = ""
    """Where its phase came from (``NO_EFFECT``, ``FROM_BASELINE``), or why it was not run again."""
    runs: tuple[RunRecord, ...] = ()
    """Its runs: the normal one, then the re-runs (``SAME``, ``DEPENDS``, ...)."""

    def outcome_in(self, phase: Phase) -> str | None:
        """Return its outcome in ``phase`` (a re-run's, or the normal run's), None if not run."""
        found = [run for run in self.runs if run.phase == phase and not run.normal]
        found = found or [run for run in self.runs if run.normal and run.stands_for == phase]
        return found[-1].outcome if found else None

    @property
    def outcomes(self) -> tuple[str | None, ...]:
        """Its outcome in each of :data:`AUDIT_PHASES`."""
        return tuple(self.outcome_in(phase) for phase in AUDIT_PHASES)

    def to_serializable(self) -> dict[str, object]:
        """Return it as dicts, lists and strings, for xdist's ``workeroutput``."""
        return {
            "nodeid": self.nodeid,
            "kind": self.kind,
            "detail": self.detail,
            "runs": [
                {each.name: getattr(run, each.name) for each in fields(RunRecord)}
                for run in self.runs
            ],
        }

    @classmethod
    def from_serializable(cls, data: dict[str, Any]) -> Verdict:
        """Return the verdict :meth:`to_serializable` wrote."""
        known = {each.name for each in fields(RunRecord)}
        runs = tuple(
            RunRecord(**{key: value for key, value in run.items() if key in known})
            for run in data.get("runs", ())
        )
        return cls(str(data["nodeid"]), str(data["kind"]), str(data.get("detail", "")), runs)


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


def _first_error_line(report: pytest.TestReport) -> str:
    """Return the first line of a failing report's error (its exception's last line)."""
    text = report.longreprtext.strip() if report.longrepr is not None else ""
    lines = [line for line in text.splitlines() if line.startswith("E ")]
    if lines:
        return lines[0][1:].strip()
    return text.splitlines()[-1].strip() if text else report.outcome


@dataclass
class _RunWatch:
    """The reports of one run as they come: its outcome, first error, whether it was called."""

    nodeid: str
    outcome: str = "passed"
    error: str = ""
    called: bool = False
    call_outcome: str | None = None
    subtests: int = 0

    def add(self, report: pytest.TestReport) -> None:
        """Take one more report of the run (setup, call, teardown, or a subtest's)."""
        if str(report.outcome) == "rerun":  # pytest-rerunfailures: another attempt follows
            self.outcome, self.error, self.called, self.call_outcome = "passed", "", False, None
            return
        outcome = _report_outcome(report)
        if outcome is None:
            return
        if report.when == "call":
            self.called = True
            if self.call_outcome is None:
                self.call_outcome = outcome
        if _OUTCOME_RANK[outcome] > _OUTCOME_RANK[self.outcome]:
            self.outcome = outcome
        if report.failed and not self.error:
            self.error = _first_error_line(report)

    def record(self, phase: Phase, *, normal: bool = False, stands_for: Phase = None) -> RunRecord:
        return RunRecord(phase, self.outcome, self.error, normal, stands_for)


def run_outcome(reports: Sequence[pytest.TestReport]) -> str:
    """Return a run's outcome: the worst of its setup, call and teardown reports."""
    watch = _RunWatch("")
    for report in reports:
        watch.add(report)
    return watch.outcome


def _subtest_report_type() -> type | None:
    """Return pytest's ``SubtestReport`` (pytest 9), or None."""
    try:
        from _pytest.subtests import SubtestReport
    except ImportError:  # pragma: no cover - pytest 8
        return None
    return SubtestReport


def _total_reads(adapters: Sequence[LearningPhaseAdapter]) -> Callable[[], int]:
    """Start counting reads on every backend; return a function giving the total.

    Called only when every backend can count (``ReadTracking``).
    """
    counters = [
        adapter.phase_read_counter() for adapter in adapters if isinstance(adapter, ReadTracking)
    ]
    if len(counters) == 1:
        return counters[0]
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
        from_baseline = getattr(isolation, "from_baseline", None)
        if from_baseline is None:  # before PhaseIsolation says it itself
            from_baseline = isolation.inherits and isolation.request is not isolation.default
        if from_baseline:
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


class _StoppedRun(Exception):
    """A re-run called ``pytest.exit()``: the test cannot be judged (``why``)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


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
        self.read_count = _total_reads(session.adapters) if not self.blind else None
        self.trackers: list[Callable[[bool], object]] = [
            tracker
            for tracker in (getattr(adapter, "track_reads", None) for adapter in session.adapters)
            if callable(tracker)
        ]
        """Adapters that track reads only while a test runs (not in wider fixtures)."""
        self._track(on=False)
        self.unset_phase = _unset_equivalent(session.adapters)
        hints = [
            getattr(adapter, "audit_hint", None) or DEFAULT_HINT for adapter in session.adapters
        ]
        self.hint = "; ".join(dict.fromkeys(hints))
        self.verdicts: dict[str, Verdict] = {}
        self.lost: list[str] = []
        """What could not be judged and why: crashed workers, interrupted sessions."""
        self.normal_run: _RunWatch | None = None
        self.wider_fixture_reads = 0
        self.no_runs = ""
        """Set when the session runs no test (``--setup-only``, ``--setup-plan``)."""

    def _track(self, *, on: bool) -> None:
        for tracker in self.trackers:
            tracker(on)

    def pytest_configure(self, config: pytest.Config) -> None:
        """Note the options under which no test runs at all."""
        if config.option.setupplan:
            self.no_runs = "--setup-plan"
        elif config.option.setuponly:
            self.no_runs = "--setup-only"

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        """Keep a wider fixture's reads out of the test that happened to set it up first."""
        if fixturedef.scope == "function" or self.normal_run is None:
            return (yield)
        read_count = self.read_count
        before = read_count() if read_count is not None else 0
        self._track(on=False)
        try:
            return (yield)
        finally:
            self._track(on=True)
            if read_count is not None:
                self.wider_fixture_reads += read_count() - before

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
        start = None if asked else RandomState()
        read_count = self.read_count
        reads_before = read_count() if read_count is not None else 0
        self.wider_fixture_reads = 0
        self.normal_run = run = _RunWatch(item.nodeid)
        self._track(on=True)
        try:
            result = yield
        finally:
            self._track(on=False)
            self.normal_run = None
        reads = read_count() - reads_before - self.wider_fixture_reads if read_count else 1
        if asked:
            if run.called and run.call_outcome not in _NOT_CALLED and not reads:
                self._record(Verdict(item.nodeid, NO_EFFECT, resolution.source))
            return result
        baseline = _baseline_source(session)
        if baseline is not None:
            self._record(Verdict(item.nodeid, FROM_BASELINE, baseline))
        elif not reads:
            self._record(Verdict(item.nodeid, NEVER_READ))
        elif not isinstance(item, pytest.Function):
            why = f"a {type(item).__name__} cannot be run again; only test functions can"
            self._record(Verdict(item.nodeid, NOT_AUDITED, why))
        else:
            assert start is not None
            phase = resolution.phase
            stands_for = phase if phase is not None else self.unset_phase
            normal = run.record(phase, normal=True, stands_for=stands_for)
            self._record(self._judge(item, nextitem, start, normal))
        return result

    def _judge(
        self,
        item: pytest.Function,
        nextitem: pytest.Item | None,
        start: RandomState,
        normal: RunRecord,
    ) -> Verdict:
        """Run the test again where the normal run does not already stand; return the verdict."""
        nodeid = item.nodeid
        stands_for = normal.stands_for
        runs = [normal]
        after_first_run = RandomState()
        try:
            for phase in AUDIT_PHASES:
                if phase != stands_for:
                    runs.append(self._run_in_phase(item, nextitem, phase, start))
            by_phase = {run.phase: run.outcome for run in runs[1:]}
            if stands_for is not None:
                by_phase[stands_for] = normal.outcome
            test, train = by_phase[0], by_phase[1]
            if test != train:
                return Verdict(nodeid, DEPENDS, runs=tuple(runs))
            if normal.phase is None and stands_for is None and test != normal.outcome:
                # Unset differs from both phases: the phase, or what the first run
                # left behind (a counter, a file)? One more run, unset, tells.
                again = self._run_in_phase(item, nextitem, None, start)
                if again.outcome == normal.outcome:
                    return Verdict(nodeid, UNSET_DIFFERS, runs=(*runs, again))
            return Verdict(nodeid, SAME, runs=tuple(runs))
        except _StoppedRun as stopped:
            return Verdict(nodeid, NOT_AUDITED, stopped.why, runs=tuple(runs))
        finally:
            after_first_run.restore()

    def _run_in_phase(
        self, item: pytest.Function, nextitem: pytest.Item | None, phase: Phase, start: RandomState
    ) -> RunRecord:
        """Run the test's whole protocol once in ``phase``: fresh fixtures, no logging.

        Its reports carry ``(USER_PROPERTY, phase)`` in ``user_properties`` and
        go to the audit only (subtests' too). Its warnings are caught here,
        under the filters in effect, so that they are not recorded a second time.

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
        source = f"--learning-phase-audit, run again in phase {describe_phase(phase)}"
        self.session.run_again_in(item, PhaseRequest(phase, source))
        stopped: BaseException | None = None
        self._track(on=True)
        try:
            with warnings.catch_warnings(record=True), _quiet_hooks(item, watch):
                try:
                    for report in runtestprotocol(item, log=False, nextitem=nextitem):
                        watch.add(report)
                except (pytest.exit.Exception, KeyboardInterrupt) as exception:
                    stopped = exception
                    _tear_down_after_a_stop(item, nextitem)
        finally:
            self._track(on=False)
            self.session.run_again_in(item, None)
            item.user_properties[:] = user_properties
            if attempts is not None:
                item.__dict__["execution_count"] = attempts
        if isinstance(stopped, KeyboardInterrupt):
            where = f"its run in phase {describe_phase(phase)}"
            self.lost.append(f"{item.nodeid}: interrupted in {where}")
            raise stopped
        if stopped is not None:
            raise _StoppedRun(
                f"its run in phase {describe_phase(phase)} called pytest.exit(): {stopped}"
            )
        return watch.record(phase)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Watch the normal run's reports: its outcome (subtests' included), its first error."""
        run = self.normal_run
        if run is not None and report.nodeid == run.nodeid:
            run.add(report)

    def _record(self, verdict: Verdict) -> None:
        """Keep ``verdict``; of two for one test, the one that says more."""
        previous = self.verdicts.get(verdict.nodeid)
        if previous is None or _PRECEDENCE[verdict.kind] > _PRECEDENCE[previous.kind]:
            self.verdicts[verdict.nodeid] = verdict

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """(xdist controller) Take the verdicts of a worker that finished; say if it crashed."""
        output = getattr(node, "workeroutput", None) or {}
        verdicts = output.get(WORKEROUTPUT_KEY)
        for data in verdicts or ():
            self._record(Verdict.from_serializable(data))
        if verdicts is None:
            worker = getattr(node, "gateway", None)
            name = getattr(worker, "id", "a worker")
            self.lost.append(
                f"worker {name} went down ({error or 'no verdicts sent'}): the verdicts of "
                "the tests it ran are lost"
            )

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: object, sched: object) -> None:
        """(xdist controller) A test crashed its worker: it cannot be judged."""
        self._record(Verdict(crashitem, NOT_AUDITED, "it crashed its worker"))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Ship the verdicts (xdist worker), or fail the run if a test depends on the phase."""
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKEROUTPUT_KEY] = [
                verdict.to_serializable() for verdict in self.verdicts.values()
            ]
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
        if config.option.collectonly or hasattr(config, "workerinput"):
            return
        writer = terminalreporter
        writer.section("learning phase audit", sep="=", bold=True)
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
            f"{self._ran_again()}, {len(never_read)} never read it"
            + (f", {len(from_baseline)} had a phase from a wider fixture" if from_baseline else "")
            + (f", {len(not_audited)} read it and could not run again" if not_audited else "")
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
            self._list_outcomes(writer, depends, AUDIT_PHASES)
            writer.line(f"hint: {self.hint}")
        if unset_differs:
            verb = "differs" if len(unset_differs) == 1 else "differ"
            writer.line(
                f"{_tests(len(unset_differs))} {verb} between the phase unset and both phases:",
                red=True,
                bold=True,
            )
            self._list_outcomes(writer, unset_differs, (None, *AUDIT_PHASES))
            writer.line(f"hint: {UNSET_HINT}")
        if audited and not depends and not unset_differs:
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
        for lost in self.lost:
            writer.line(f"not judged: {lost}", yellow=True)

    def _ran_again(self) -> str:
        """Say in which phases the readers ran again."""
        if self.unset_phase is None:
            return f"ran again in phases {describe_phase(0)} and {describe_phase(1)}"
        other: Phase = 0 if self.unset_phase == 1 else 1
        return (
            f"ran again in phase {describe_phase(other)} (unset is phase "
            f"{describe_phase(self.unset_phase)}: the normal run stands for it)"
        )

    @staticmethod
    def _list_outcomes(
        writer: pytest.TerminalReporter, verdicts: Sequence[Verdict], phases: Sequence[Phase]
    ) -> None:
        width = max(len(verdict.nodeid) for verdict in verdicts)
        for verdict in verdicts:
            outcomes = "  ".join(
                f"{PHASE_IDS[phase]}: {verdict.outcome_in(phase) or '-':<7}" for phase in phases
            )
            writer.line(f"  {verdict.nodeid:<{width}}  {outcomes.rstrip()}")

    @staticmethod
    def _list(writer: pytest.TerminalReporter, verdicts: Sequence[Verdict]) -> None:
        width = max(len(verdict.nodeid) for verdict in verdicts)
        for verdict in verdicts:
            writer.line(f"  {verdict.nodeid:<{width}}  ({verdict.detail})")


def _tests(count: int) -> str:
    return f"{count} test{'' if count == 1 else 's'}"
