"""``--learning-phase-audit``: run tests that ask for no phase in both, report who cares.

Registered only when the audit is on, so it costs nothing otherwise. Each such
test function is parametrized over phases 0 and 1 (ids ``audit-test`` and
``audit-train``, always the last part of the id); the outcomes are gathered
from the reports, so the audit is complete under pytest-xdist too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pytest

from pytest_learning_phase import _markers
from pytest_learning_phase._phase import PHASE_IDS, Phase

AUDIT_PHASES: Final[tuple[Phase, ...]] = (0, 1)
_AUDIT_IDS: Final = {f"audit-{PHASE_IDS[phase]}": phase for phase in AUDIT_PHASES}
_OUTCOME_RANK: Final = {
    "passed": 0,
    "skipped": 1,
    "xfailed": 1,
    "xpassed": 2,
    "failed": 3,
    "error": 4,
}


def split_audit_id(nodeid: str) -> tuple[str, Phase] | None:
    """Return (the test's id without the audit part, phase) for an audited item's id."""
    if not nodeid.endswith("]"):
        return None
    for audit_id, phase in _AUDIT_IDS.items():
        if nodeid.endswith(f"[{audit_id}]"):
            return nodeid[: -len(audit_id) - 2], phase
        if nodeid.endswith(f"-{audit_id}]"):
            return nodeid[: -len(audit_id) - 2] + "]", phase
    return None


def _outcome(report: pytest.TestReport) -> str | None:
    """Return the outcome this report stands for, as pytest's summary names it."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped and report.when == "setup":
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return None


def _asks_for_a_phase(definition: pytest.Item, fixture_names: Sequence[str]) -> bool:
    """Return whether a test function asks for a phase (for the audit, at collection)."""
    if _markers.closest_marker_and_node(definition) is not None:
        return True
    if _markers.TRAIN_FIXTURE in fixture_names or _markers.TEST_FIXTURE in fixture_names:
        return True
    for mark in definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if _markers.PHASE_FIXTURE in names:
            return True
    return False


class LearningPhaseAudit:
    """The audit plugin: parametrize, gather outcomes per phase, report, set the exit code."""

    def __init__(self) -> None:
        self.outcomes: dict[str, dict[Phase, str]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run each test function that asks for no phase once in phase 0 and once in 1."""
        if _asks_for_a_phase(metafunc.definition, metafunc.fixturenames):
            return
        metafunc.fixturenames.append(_markers.AUDIT_ARGUMENT)
        metafunc.parametrize(
            _markers.AUDIT_ARGUMENT, AUDIT_PHASES, ids=list(_AUDIT_IDS), scope="function"
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each audited test's worst outcome per phase."""
        audited = split_audit_id(report.nodeid)
        outcome = _outcome(report)
        if audited is None or outcome is None:
            return
        test_id, phase = audited
        per_phase = self.outcomes.setdefault(test_id, {})
        previous = per_phase.get(phase)
        if previous is None or _OUTCOME_RANK[outcome] > _OUTCOME_RANK[previous]:
            per_phase[phase] = outcome

    def phase_sensitive(self) -> dict[str, dict[Phase, str]]:
        """Return the tests whose outcome differs between the phases they ran in."""
        return {
            test_id: per_phase
            for test_id, per_phase in self.outcomes.items()
            if len(per_phase) == len(AUDIT_PHASES) and len(set(per_phase.values())) > 1
        }

    def incomplete(self) -> list[str]:
        """Return the audited tests that did not run in every phase (``-x``, ``--maxfail``)."""
        return [
            test_id
            for test_id, per_phase in self.outcomes.items()
            if len(per_phase) < len(AUDIT_PHASES)
        ]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Make the run fail when the audit found phase-sensitive tests."""
        if self.phase_sensitive() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the audit section: each phase-sensitive test and its outcome per phase."""
        if terminalreporter.config.option.collectonly:
            return
        writer = terminalreporter
        sensitive = self.phase_sensitive()
        incomplete = self.incomplete()
        writer.section("learning phase audit", sep="=", bold=True)
        audited = len(self.outcomes) - len(incomplete)
        if not sensitive:
            writer.line(
                f"{audited} test{'s' if audited != 1 else ''} ran in phases 0 (test) and "
                "1 (train); none depends on the phase",
                green=True,
            )
        else:
            count = len(sensitive)
            writer.line(
                f"{count} test{'s' if count != 1 else ''} of {audited} depend"
                f"{'s' if count == 1 else ''} on the learning phase:",
                red=True,
                bold=True,
            )
            width = max(len(test_id) for test_id in sensitive)
            for test_id, per_phase in sensitive.items():
                outcomes = "  ".join(
                    f"{PHASE_IDS[phase]}: {per_phase[phase]:<7}" for phase in AUDIT_PHASES
                )
                writer.line(f"  {test_id:<{width}}  {outcomes.rstrip()}")
            writer.line(
                "hint: a test meant for one phase should say so with "
                "@pytest.mark.learning_phase(0) or (1); otherwise fix the code that reads the phase"
            )
        if incomplete:
            writer.line(
                f"not run in both phases (the session stopped early): {', '.join(incomplete)}",
                yellow=True,
            )
