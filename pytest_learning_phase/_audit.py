"""``--learning-phase-audit``: run the tests that read the phase again, in phases 0 and 1.

Registered only when the audit is on, so it costs nothing otherwise. Every test
runs as it would without the audit, and that run's outcome counts as usual. A
test that asks for no phase and *read* the phase in that run (the adapter
counts reads: :class:`~pytest_learning_phase.adapters.ReadTracking`) then runs
its whole protocol again, inside its own ``pytest_runtest_protocol``, once in
phase 0 and once in phase 1: fresh function-scoped fixtures, the random state
the first run started from, reports tagged and never logged (they change no
count). The test depends on the phase when those two outcomes differ.

Under pytest-xdist each worker audits its own tests and ships its verdicts to
the controller in ``workeroutput``, which prints the one report.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import pytest
from _pytest.runner import runtestprotocol

from pytest_learning_phase._markers import PhaseRequest, PhaseRequestError, Resolution
from pytest_learning_phase._phase import Phase
from pytest_learning_phase._provenance import DEFAULT_LABELS, Ran, Recording
from pytest_learning_phase._random_state import RandomState
from pytest_learning_phase._report import (
    AuditRun,
    describe,
    finding_lines,
    first_error_line,
    phase_labels,
)
from pytest_learning_phase.adapters import (
    LearningPhaseAdapter,
    ProvenanceRecording,
    ReadTracking,
)

__all__ = ["AUDIT_PHASES", "USER_PROPERTY", "AuditedSession", "LearningPhaseAudit"]

AUDIT_PHASES: Final[tuple[Phase, Phase]] = (0, 1)
USER_PROPERTY: Final = "learning_phase_audit"
"""The ``user_properties`` entry, ``(USER_PROPERTY, phase)``, of every report of a re-run."""
WORKEROUTPUT_KEY: Final = "learning_phase_audit"
DEFAULT_HINT: Final = (
    "a test that checks one phase on purpose should say so: @pytest.mark.learning_phase(0) "
    "or (1); otherwise the code depends on the phase it starts in: pass training= where "
    "it calls its layers, or fix the code that reads the phase"
)
"""The hint under the phase-dependent tests, for an adapter without ``audit_hint``."""

STATS_KEY: Final = "phase-dependent"
"""The key under which the phase-dependent tests are counted in pytest's last line."""

# What the audit found about one test.
DEPENDS: Final = "depends"
"""Asked for no phase, read it, and its outcome differs between phases 0 and 1."""
SAME: Final = "same"
"""Asked for no phase, read it, and had one outcome in both phases."""
NEVER_READ: Final = "never read"
"""Asked for no phase and never read it: not run again."""
NOT_AUDITED: Final = "not audited"
"""Asked for no phase and read it, but cannot be run again (the detail says why)."""
NO_EFFECT: Final = "no effect"
"""Asked for a phase (the detail says where) and never read it."""
_PRECEDENCE: Final = {DEPENDS: 4, NOT_AUDITED: 3, SAME: 2, NO_EFFECT: 1, NEVER_READ: 0}
"""Which verdict wins when two workers audit one test (``--dist each``)."""

_OUTCOME_RANK: Final = {
    "passed": 0,
    "skipped": 1,
    "xfailed": 1,
    "xpassed": 2,
    "failed": 3,
    "error": 4,
}


class _AuditSettings(Protocol):
    @property
    def default(self) -> PhaseRequest:
        """The request of a test that asks for no phase (compared by identity)."""
        ...


class AuditedSession(Protocol):
    """What the audit needs of the plugin's per-session object."""

    audit_run: PhaseRequest | None
    """While set, the plugin sets up the running test in this phase, and warns of no leak."""
    recordings: dict[str, Recording] | None
    """While set, the recordings of the run in progress (its failure section shows them)."""

    @property
    def adapters(self) -> Sequence[LearningPhaseAdapter]:
        """The adapters of the session's backends (usually one)."""
        ...

    @property
    def settings(self) -> _AuditSettings:
        """The session's settings."""
        ...

    def resolution(self, item: pytest.Item) -> Resolution:
        """Return what ``item`` asks for (``settings.default`` when nothing)."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the audit found about one test: a kind, and its outcomes or why."""

    nodeid: str
    kind: str
    detail: str = ""
    """Where its request came from (``NO_EFFECT``), or why it was not run again."""
    outcomes: tuple[str, ...] = ()
    """Its outcome in each of :data:`AUDIT_PHASES` (``SAME``, ``DEPENDS``)."""
    runs: tuple[AuditRun, ...] = ()
    """Its runs, the test's own first, with what each recorded (``DEPENDS`` only)."""

    def to_serializable(self) -> list[object]:
        """Return it as plain lists and strings, for xdist's ``workeroutput``."""
        runs = [run.to_serializable() for run in self.runs]
        return [self.nodeid, self.kind, self.detail, list(self.outcomes), runs]

    @classmethod
    def from_serializable(cls, data: Sequence[Any]) -> Verdict:
        """Return the verdict :meth:`to_serializable` wrote."""
        nodeid, kind, detail, outcomes, runs = data
        return cls(
            str(nodeid),
            str(kind),
            str(detail),
            tuple(str(each) for each in outcomes),
            tuple(AuditRun.from_serializable(run) for run in runs),
        )


def _report_outcome(report: pytest.TestReport) -> str:
    """Return what one report of a run stands for, as pytest's summary names it."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return "passed"


def run_outcome(reports: Sequence[pytest.TestReport]) -> str:
    """Return a run's outcome: the worst of its setup, call and teardown reports."""
    outcome = "passed"
    for report in reports:
        this = _report_outcome(report)
        if _OUTCOME_RANK[this] > _OUTCOME_RANK[outcome]:
            outcome = this
    return outcome


class _NormalRun:
    """What the audit notes during a test's first run: its reports, function called, subtests."""

    __slots__ = ("called", "nodeid", "reports", "subtests")

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.called = False
        self.subtests = False
        self.reports: list[pytest.TestReport] = []


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


class LearningPhaseAudit:
    """The audit plugin: watch each test's run, run the readers again, report, exit code."""

    def __init__(self, session: AuditedSession) -> None:
        """Start the audit: the adapter starts counting reads now, if it can."""
        self.session = session
        self.blind = [a.name for a in session.adapters if not isinstance(a, ReadTracking)]
        """The backends that cannot tell whether a test read the phase."""
        self.read_count = _total_reads(session.adapters) if not self.blind else None
        hints = [
            getattr(adapter, "audit_hint", None) or DEFAULT_HINT for adapter in session.adapters
        ]
        self.hint = "; ".join(dict.fromkeys(hints))
        self.recorders = [a for a in session.adapters if isinstance(a, ProvenanceRecording)]
        """The backends that can say what ran in which mode (each run is recorded)."""
        labels = {phase_labels(adapter) for adapter in session.adapters}
        self.labels = labels.pop() if len(labels) == 1 else DEFAULT_LABELS
        """How phases 0 and 1 are written: the backend's words, when the backends agree."""
        setting = str(getattr(session.settings, "backend_setting", ""))
        self.options = (setting,) if setting.startswith("--learning-phase-backend=") else ()
        """The options of the reproduce command besides the phase (a backend chosen on the
        command line)."""
        self.verdicts: dict[str, Verdict] = {}
        self.normal_run: _NormalRun | None = None
        self.subtest_report = _subtest_report_type()

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
        if isinstance(resolution, PhaseRequestError):
            return (yield)  # its setup fails with the message; nothing to audit
        asked = resolution is not session.settings.default
        start = None if asked else RandomState()
        read_count = self.read_count
        reads_before = read_count() if read_count is not None else 0
        self.normal_run = run = _NormalRun(item.nodeid)
        recordings = None if asked else self._start_recording()
        try:
            result = yield
        finally:
            self.normal_run = None
            own_ran = self._stop_recording(recordings)
        read = read_count is None or read_count() != reads_before
        if asked:
            if run.called and not read:
                self._record(Verdict(item.nodeid, NO_EFFECT, resolution.source))
        elif not read:
            self._record(Verdict(item.nodeid, NEVER_READ))
        elif not isinstance(item, pytest.Function):
            why = f"a {type(item).__name__} cannot be run again; only test functions can"
            self._record(Verdict(item.nodeid, NOT_AUDITED, why))
        elif run.subtests:
            why = "it reports subtests, whose reports cannot be kept out of the counts"
            self._record(Verdict(item.nodeid, NOT_AUDITED, why))
        else:
            assert start is not None
            reruns = self._run_again(item, nextitem, start)
            outcomes = tuple(rerun.outcome for rerun in reruns)
            if len(set(outcomes)) > 1:
                own = AuditRun(
                    resolution.phase,
                    True,
                    run_outcome(run.reports),
                    first_error_line(run.reports),
                    own_ran,
                )
                verdict = Verdict(item.nodeid, DEPENDS, outcomes=outcomes, runs=(own, *reruns))
            else:
                verdict = Verdict(item.nodeid, SAME, outcomes=outcomes)
            self._record(verdict)
        return result

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

    def _run_again(
        self, item: pytest.Function, nextitem: pytest.Item | None, start: RandomState
    ) -> tuple[AuditRun, ...]:
        """Run the test's protocol once per phase, unlogged; return each run.

        Each run ends as the first did, tearing down what ``nextitem`` does not
        need: a wider fixture stays up for the next run, unless the test is the
        last of its scope (then each run sets it up again). Afterwards the
        random state is the one the first run left.
        """
        after_first_run = RandomState()
        try:
            return tuple(self._run_in_phase(item, nextitem, phase, start) for phase in AUDIT_PHASES)
        finally:
            after_first_run.restore()

    def _run_in_phase(
        self, item: pytest.Function, nextitem: pytest.Item | None, phase: Phase, start: RandomState
    ) -> AuditRun:
        """Run the test's whole protocol once in ``phase``: fresh fixtures, no logging.

        Its reports carry ``(USER_PROPERTY, phase)`` in ``user_properties``. Its
        warnings are caught here, under the filters in effect, so that they are
        not recorded a second time.
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
            item.__dict__["execution_count"] = sys.maxsize
        session = self.session
        session.audit_run = PhaseRequest(
            phase, f"--learning-phase-audit, run again in phase {describe(phase, self.labels)}"
        )
        recordings = self._start_recording()
        try:
            with warnings.catch_warnings(record=True):
                reports = runtestprotocol(item, log=False, nextitem=nextitem)
        finally:
            session.audit_run = None
            ran = self._stop_recording(recordings)
            item.user_properties[:] = user_properties
            if attempts is not None:
                item.__dict__["execution_count"] = attempts
        return AuditRun(phase, False, run_outcome(reports), first_error_line(reports), ran)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note whether the first run called the test function, and whether it had subtests."""
        run = self.normal_run
        if run is None or report.nodeid != run.nodeid:
            return
        if str(report.outcome) == "rerun":  # pytest-rerunfailures: the attempts start again
            run.reports.clear()
        elif self.subtest_report is None or not isinstance(report, self.subtest_report):
            run.reports.append(report)
        if report.when != "call":
            return
        run.called = True
        if self.subtest_report is not None and isinstance(report, self.subtest_report):
            run.subtests = True

    def _record(self, verdict: Verdict) -> None:
        """Keep ``verdict``; of two for one test, the one that says more."""
        previous = self.verdicts.get(verdict.nodeid)
        if previous is None or _PRECEDENCE[verdict.kind] > _PRECEDENCE[previous.kind]:
            self.verdicts[verdict.nodeid] = verdict

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """(xdist controller) Take the verdicts of a worker that finished."""
        output = getattr(node, "workeroutput", None) or {}
        for data in output.get(WORKEROUTPUT_KEY, ()):
            self._record(Verdict.from_serializable(data))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Ship the verdicts (xdist worker), or fail the run if a test depends on the phase."""
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKEROUTPUT_KEY] = [
                verdict.to_serializable() for verdict in self.verdicts.values()
            ]
            return
        if self._of_kind(DEPENDS) and session.exitstatus == pytest.ExitCode.OK:
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
        depends, same = self._of_kind(DEPENDS), self._of_kind(SAME)
        never_read, not_audited = self._of_kind(NEVER_READ), self._of_kind(NOT_AUDITED)
        no_effect = self._of_kind(NO_EFFECT)
        writer.write_sep("=", "learning phase audit", bold=True)  # after a blank line
        asked_none = len(depends) + len(same) + len(never_read) + len(not_audited)
        audited = len(depends) + len(same)
        not_run_again = (
            f", {len(not_audited)} read it and could not run again" if not_audited else ""
        )
        writer.line(
            f"{_tests(asked_none)} asked for no phase: {audited} read it and ran again in "
            f"phases {describe(0, self.labels)} and {describe(1, self.labels)}, "
            f"{len(never_read)} never read it"
            f"{not_run_again}"
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
            width = max(len(verdict.nodeid) for verdict in depends)
            for verdict in depends:
                outcomes = "  ".join(
                    f"{self.labels[phase or 0]}: {outcome:<7}"
                    for phase, outcome in zip(AUDIT_PHASES, verdict.outcomes, strict=True)
                )
                writer.line(f"  {verdict.nodeid:<{width}}  {outcomes.rstrip()}")
                for line in finding_lines(verdict.nodeid, verdict.runs, self.labels, self.options):
                    writer.line(line)
            writer.line(f"hint: {self.hint}")
            # pytest's last line counts them: "4 passed, 1 phase-dependent" (exit status 1).
            writer.stats.setdefault(STATS_KEY, []).extend(_Counted(v.nodeid) for v in depends)
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

    @staticmethod
    def _list(writer: pytest.TerminalReporter, verdicts: Sequence[Verdict]) -> None:
        width = max(len(verdict.nodeid) for verdict in verdicts)
        for verdict in verdicts:
            writer.line(f"  {verdict.nodeid:<{width}}  ({verdict.detail})")


class _Counted:
    """A phase-dependent test in pytest's ``stats`` (plugins read each entry's ``__dict__``)."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def _tests(count: int) -> str:
    return f"{count} test{'' if count == 1 else 's'}"
