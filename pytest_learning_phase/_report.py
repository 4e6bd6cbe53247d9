"""What the plugin writes into pytest's report: the failure section, and the audit's findings.

The "learning phase" section of a failing test says, per backend, under which
phase its function was called and why, and what ran in which mode: the layers
and modules the run recorded (under the audit, every run is recorded), or, in
a plain run (nothing recorded, so a passing test pays nothing), the
phase-dependent objects the failing code holds (the locals of the traceback's
frames), with their mode where the object keeps one (a torch module).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import pytest

from pytest_learning_phase._isolation import PhaseIsolation
from pytest_learning_phase._phase import Phase
from pytest_learning_phase._provenance import (
    DEFAULT_LABELS,
    MAX_SHOWN,
    Ran,
    Recording,
    mode_label,
)
from pytest_learning_phase.adapters import LearningPhaseAdapter, ProvenanceRecording

__all__ = [
    "SECTION_TITLE",
    "AuditRun",
    "describe",
    "finding_lines",
    "first_error_line",
    "held_values",
    "last_call_traceback",
    "phase_labels",
    "phase_section",
    "ran_lines",
    "reproduce_command",
]

SECTION_TITLE: Final = "learning phase"
_SKIPPED_CODE: Final = ("_pytest.", "pluggy.", "pytest_learning_phase.", "unittest.")
_MAX_VALUES: Final = 500


def phase_labels(adapter: LearningPhaseAdapter) -> tuple[str, str]:
    """Return how ``adapter``'s users write phases 0 and 1 (its optional ``phase_labels``).

    :raises pytest.UsageError: if the adapter declares them as anything but two strings.
    """
    labels = getattr(adapter, "phase_labels", None)
    if labels is None:
        return DEFAULT_LABELS
    if (
        not isinstance(labels, tuple)
        or len(labels) != 2
        or not all(isinstance(label, str) and label for label in labels)
    ):
        raise pytest.UsageError(
            f"learning phase backend {adapter.name}: phase_labels is {labels!r}; expected "
            "a tuple of two non-empty strings, the names of phases 0 and 1"
        )
    return labels[0], labels[1]


def describe(phase: Phase, labels: tuple[str, str] = DEFAULT_LABELS) -> str:
    """Return ``0 (eval)``, ``1 (train)`` or ``unset``, in the backend's words."""
    return "unset" if phase is None else f"{phase} ({labels[phase]})"


def _unset_meaning(adapter: LearningPhaseAdapter) -> str:
    note = getattr(adapter, "header_note", None)
    if isinstance(note, str) and note:
        return note
    return "unset = learning_phase() reads 0, and a layer called without training uses its default"


def phase_line(item: pytest.Item, isolation: PhaseIsolation, read: bool) -> str | None:
    """Say under which phase ``item`` was called on one backend, and why.

    None if it ran unset by default and neither touched the phase nor (``read``)
    read it.
    """
    if item is not isolation.current_item:
        return None
    adapter = isolation.adapter
    labels = phase_labels(adapter)
    asked = isolation.request
    ran = isolation.phase_at_call
    now = isolation.phase_now()
    untouched = isolation.inherits and asked.phase is None and ran is None and now is None
    if untouched and not read:
        return None
    backend = f"(backend {adapter.name})"
    phase = describe(ran, labels)
    if ran is None:
        phase += f" ({_unset_meaning(adapter)})"
    if ran == asked.phase:
        text = f"ran under phase {phase} from {asked.source} {backend}"
    else:
        text = (
            f"ran under phase {phase}, set by its fixtures; it asked for "
            f"phase {describe(asked.phase, labels)} from {asked.source} {backend}"
        )
    if now != ran:
        text += f"; the phase was {describe(now, labels)} when it failed"
    return text


def ran_lines(ran: Sequence[Ran], labels: tuple[str, str], recorded: bool) -> list[str]:
    """Return the indented lines saying what ran (recorded) or is held, in which mode.

    At most :data:`MAX_SHOWN` lines, then one that counts the rest.
    """
    lines: list[str] = []
    for entry in ran:
        if recorded:
            calls = f" ({entry.calls} calls)" if entry.calls > 1 else ""
            lines.append(
                f"  {entry.who} ran in {mode_label(entry.training, entry.labels or labels)}"
                f"{calls}: {entry.source}"
            )
        elif entry.training is None:
            lines.append(f"  {entry.who}: {entry.source or 'its mode is resolved at each call'}")
        else:
            lines.append(f"  {entry.who} is in {mode_label(entry.training, labels)}")
    return _merged(lines, "  ")


def _merged(lines: Sequence[str], indent: str) -> list[str]:
    """Say identical lines once, with their count (a model built in a loop), in order.

    At most :data:`MAX_SHOWN` lines, then one that counts the rest.
    """
    counts = dict.fromkeys(lines, 0)
    for line in lines:
        counts[line] += 1
    shown = [f"{line} ({count} alike)" if count > 1 else line for line, count in counts.items()]
    rest = sum(list(counts.values())[MAX_SHOWN:])
    return shown[:MAX_SHOWN] + ([f"{indent}and {rest} more"] if rest else [])


def held_values(traceback: TracebackType | None) -> list[tuple[str, object]]:
    """Return (name, value) of what the failing frames use, outside pytest and the plugin.

    Each frame's locals, then the globals its code names (a model built at
    import, a module-level ``tf.function``).
    """
    values: list[tuple[str, object]] = []
    while traceback is not None and len(values) < _MAX_VALUES:
        frame = traceback.tb_frame
        module_globals = frame.f_globals
        if not str(module_globals.get("__name__", "")).startswith(_SKIPPED_CODE):
            values.extend(
                (name if name.isidentifier() else type(value).__name__.lower(), value)
                for name, value in frame.f_locals.items()  # not pytest's ``@py_assert1``
            )
            values.extend(
                (name, module_globals[name])
                for name in frame.f_code.co_names
                if name in module_globals
            )
        traceback = traceback.tb_next
    return values[:_MAX_VALUES]


def last_call_traceback(item: pytest.Item) -> TracebackType | None:
    """Return the traceback of ``item``'s failing call, which pytest keeps in ``sys``.

    For a report serialized before :func:`phase_section` could see the exception
    (an xdist worker's); None unless one of its frames runs the test function.
    """
    traceback = getattr(sys, "last_traceback", None)
    code = getattr(getattr(item, "obj", None), "__code__", None)
    frame = traceback
    while frame is not None and code is not None:
        if frame.tb_frame.f_code is code:
            return traceback
        frame = frame.tb_next
    return None


def _held(adapter: LearningPhaseAdapter, values: list[tuple[str, object]]) -> list[Ran]:
    if not values or not isinstance(adapter, ProvenanceRecording):
        return []
    try:
        return adapter.held_provenance(values)
    except Exception:  # a report never fails because of what it describes
        return []


def phase_section(
    item: pytest.Item,
    isolations: Iterable[PhaseIsolation],
    recordings: Mapping[str, Recording] | None,
    traceback: TracebackType | None,
) -> tuple[str, str] | None:
    """Return the "learning phase" section of a failure; None if no backend has anything to say.

    ``recordings`` are this run's recordings by backend (under the audit);
    without one, the objects the failing frames hold (``traceback``) are described.
    """
    lines: list[str] = []
    values: list[tuple[str, object]] | None = None
    for isolation in isolations:
        adapter = isolation.adapter
        recording = recordings.get(adapter.name) if recordings else None
        if recording is not None:
            ran, recorded = recording.ran(), True
        else:
            if values is None:
                values = held_values(traceback)
            ran, recorded = _held(adapter, values), False
        line = phase_line(item, isolation, read=bool(ran))
        if line is None:
            continue
        lines.append(line)
        lines.extend(ran_lines(ran, phase_labels(adapter), recorded))
    return (SECTION_TITLE, "\n".join(lines)) if lines else None


# -- The audit's findings. -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRun:
    """One run of an audited test: its phase, outcome, first error line, and what ran."""

    phase: Phase
    own: bool
    """The test's own run (counted as usual), not a re-run of the audit."""
    outcome: str
    error: str = ""
    """The first line of the first failing report's error; empty when none failed."""
    ran: tuple[Ran, ...] | None = None
    """What the run recorded; None when no backend could record."""

    def to_serializable(self) -> list[Any]:
        """Return it as plain lists and strings, for xdist's ``workeroutput``."""
        ran = None
        if self.ran is not None:
            ran = [[e.name, e.kind, e.training, e.source, e.calls, e.labels] for e in self.ran]
        return [self.phase, self.own, self.outcome, self.error, ran]

    @classmethod
    def from_serializable(cls, data: Sequence[Any]) -> AuditRun:
        """Return the run :meth:`to_serializable` wrote."""
        phase, own, outcome, error, ran = data
        entries = None if ran is None else tuple(map(_ran_from_serializable, ran))
        return cls(phase, bool(own), str(outcome), str(error), entries)


def _ran_from_serializable(data: Sequence[Any]) -> Ran:
    """Return the entry ``AuditRun.to_serializable`` wrote (its labels came as a list)."""
    name, kind, training, source, calls, labels = data
    return Ran(
        name, kind, training, source, calls, None if labels is None else (labels[0], labels[1])
    )


def first_error_line(reports: Iterable[pytest.TestReport]) -> str:
    """Return the first line of the first failing report's error (pytest's crash message)."""
    for report in reports:
        if not report.failed:
            continue
        crash = getattr(report.longrepr, "reprcrash", None)
        message = str(getattr(crash, "message", "") or report.longreprtext or "")
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].endswith(":"):  # "AssertionError:", then the message
            return f"{lines[0]} {lines[1]}"
        return lines[0] if lines else ""
    return ""


def reproduce_command(nodeid: str, phase: Phase, options: Sequence[str] = ()) -> str:
    """Return the command that runs ``nodeid`` alone in ``phase``: ``pytest --learning-phase=1``."""
    value = "unset" if phase is None else str(phase)
    words = ["pytest", *options, f"--learning-phase={value}", nodeid]
    return " ".join(shlex.quote(word) for word in words)


def _keys(ran: Sequence[Ran]) -> list[tuple[tuple[str, int], Ran]]:
    """Key each entry by its class and rank among the distinct names of that class in the run.

    Names are not stable between runs (a Keras layer built again is ``dropout_1``),
    the order in which the code calls its layers is.
    """
    names: dict[str, dict[str, int]] = {}
    keyed = []
    for entry in ran:
        ranks = names.setdefault(entry.kind, {})
        rank = ranks.setdefault(entry.name, len(ranks))
        keyed.append(((entry.kind, rank), entry))
    return keyed


def _differing(runs: Sequence[AuditRun]) -> set[tuple[str, int]]:
    """Return the keys of the layers or modules whose modes differ between the recorded runs."""
    recorded = [_keys(run.ran) for run in runs if run.ran is not None]
    modes: dict[tuple[str, int], list[frozenset[bool | None]]] = {}
    for index, keyed in enumerate(recorded):
        for key, entry in keyed:
            per_run = modes.setdefault(key, [frozenset()] * len(recorded))
            per_run[index] = per_run[index] | {entry.training}
    return {key for key, per_run in modes.items() if len(set(per_run)) > 1}


def finding_lines(
    nodeid: str,
    runs: Sequence[AuditRun],
    labels: tuple[str, str],
    options: Sequence[str] = (),
    rootdir_prefix: str = "",
) -> list[str]:
    """Return the lines under a test whose outcome depends on the phase.

    Per run: its outcome and first error line, the layers or modules that ran
    in another mode than in some other run (at most a few, the rest counted),
    and, for a re-run whose outcome differs from the test's own run, the
    command that reproduces it (its path from where pytest was run:
    ``rootdir_prefix``, the rootdir relative to there).
    """
    own = next((run for run in runs if run.own), None)
    differing = _differing(runs)
    lines: list[str] = []
    for run in runs:
        phase = describe(run.phase, labels)
        where = f"its own run (phase {phase})" if run.own else f"run again in phase {phase}"
        error = f": {run.error}" if run.error else ""
        lines.append(f"    {where}: {run.outcome}{error}")
        if run.ran is not None:
            shown = [entry for key, entry in _keys(run.ran) if key in differing]
            lines += _merged(
                [
                    f"      {entry.who} ran in {mode_label(entry.training, entry.labels or labels)}"
                    f": {entry.source}"
                    for entry in shown
                ],
                "      ",
            )
        if not run.own and (own is None or run.outcome != own.outcome):
            command = reproduce_command(rootdir_prefix + nodeid, run.phase, options)
            lines.append(f"      reproduce: {command}")
    if not differing and any(run.ran is not None for run in runs):
        lines.append(
            "    no layer or module that was recorded ran in another mode between the runs "
            "(see the limits of the reports)"
        )
    return lines
