"""The pytest plugin ``learning_phase``: hooks and fixtures only, in the order pytest calls them.

What each test asks for is resolved once at collection (``_markers``); the
run-time hooks, on a per-session object registered in ``pytest_configure``,
set it before setup and restore the whole state after teardown
(``_isolation``). Disable with ``-p no:learning_phase``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final

import pytest

from pytest_learning_phase import _auto, _markers, _options
from pytest_learning_phase._isolation import (
    PhaseIsolation,
    adapter_error,
    keep_phase_through_setup,
)
from pytest_learning_phase._leaks import warn_at_test
from pytest_learning_phase._markers import PhaseRequest, PhaseRequestError, Resolution
from pytest_learning_phase._phase import PHASE_IDS, Phase, describe_phase
from pytest_learning_phase._provenance import Recording
from pytest_learning_phase._report import last_call_traceback, phase_labels, phase_section
from pytest_learning_phase._roles import is_xdist_controller, is_xdist_worker
from pytest_learning_phase._version import __version__
from pytest_learning_phase.adapters import AdapterError, LearningPhaseAdapter, optional_text
from pytest_learning_phase.adapters._current import set_collection_chooser, set_current_adapter
from pytest_learning_phase.adapters._registry import build_adapter
from pytest_learning_phase.hookspecs import AdapterFactory

_RESOLUTION_KEY: Final = pytest.StashKey[Resolution]()
_OWN_RESOLUTION_KEY: Final = pytest.StashKey[Resolution]()
"""The item's own request, kept while the audit runs it again in another."""
_FUNCTION: Final = pytest.Function
"""A plain test function's item; another kind may be a ``unittest`` test (its setUp runs late)."""


class _PhaseSession:
    """One session's settings and adapter, and the hooks that run for every test.

    A plugin object of its own (not module functions reading ``config.stash``),
    so the per-test path is a few attribute lookups, and each in-process pytest
    session (pytester) has its own.
    """

    def __init__(
        self,
        config: pytest.Config,
        settings: _options.Settings,
        backends: Mapping[str, LearningPhaseAdapter],
    ) -> None:
        self.config = config
        self.settings = settings
        self.names: tuple[str, ...] = ()
        self.adapters: tuple[LearningPhaseAdapter, ...] = ()
        self.isolations: tuple[PhaseIsolation, ...] = ()
        self.started = False
        self.collected = False
        """Whether collection ended here, so ``auto`` chose (never on xdist's controller)."""
        self._drive(backends)
        self.previous_adapter = set_current_adapter(self.adapter)
        self.collecting_adapters: dict[str, LearningPhaseAdapter] = {}
        """``auto``: adapters the helpers drove while collecting, driven from its end."""
        chooser = self._adapter_while_collecting if settings.auto else None
        self.previous_chooser = set_collection_chooser(chooser)
        self.markers_after_setup = 0
        """How many markers the current test had when its setup ended."""
        self.recordings: dict[str, Recording] | None = None
        """Set by the audit while a run of a test is recorded: the recording of each backend."""
        self.fixture_failure: tuple[pytest.Item, str, TracebackType | None] | None = None
        """The test, ``setup`` or ``teardown``, and traceback of a setup or teardown that
        just raised, until its report is serialized (by an xdist worker) or interacted with."""
        self.workers_chose: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        """On xdist's controller, under ``auto``: each worker's backends and late imports."""
        self.backend_error = ""
        """A backend warning that a warning filter turned into an error (it fails the run)."""
        self.stop_watching: Callable[[], None] = _nothing
        """Under ``auto``, while collecting: stops watching for a framework's first import."""
        self.skipped: dict[str, str] = {}
        """Under ``auto``: the frameworks in ``sys.modules`` not driven (stand-ins), and why."""

    def _drive(self, backends: Mapping[str, LearningPhaseAdapter]) -> None:
        """Add backends to drive: at ``pytest_configure``, and for ``auto`` when collection ends."""
        isolations = tuple(
            PhaseIsolation(adapter, self.settings.default) for adapter in backends.values()
        )
        if self.started:
            for isolation in isolations:
                isolation.start_session()
        self.names += tuple(backends)
        self.adapters += tuple(backends.values())
        self.isolations += isolations
        helper = 1 if self.settings.auto and len(self.adapters) > 1 else 0
        self.adapter = self.adapters[helper]
        """The backend the harness helpers drive: the first named, or auto's first framework."""
        self.helper_isolation = self.isolations[helper]
        self.isolation = self.isolations[0]
        self.only_isolation = self.isolation if len(self.isolations) == 1 else None
        """The isolation of the one backend, when there is one: the per-test fast path."""

    def running_phase(self) -> Phase:
        """Return the phase the current test runs under, for the ``learning_phase`` fixture.

        Its own request (the same on every backend), else the wider fixture's
        baseline it follows: the helpers' backend's first, then any other's
        (under ``auto`` the reference backend follows none of a framework's).
        """
        for isolation in (self.helper_isolation, *self.isolations):
            if isolation.from_baseline:
                return isolation.request.phase
        return self.isolation.request.phase

    def _adapter_while_collecting(self) -> LearningPhaseAdapter | None:
        """``auto``, until collection ends: the first framework imported so far, for the helpers.

        None (the session's own choice) once collection ended, or when a
        framework is driven already (imported before the session started).
        """
        if self.collected or len(self.adapters) > 1:
            return None
        for name in _auto.imported_frameworks():
            if name not in self.collecting_adapters:
                setting = self.settings.backend_setting
                self.collecting_adapters[name] = build_adapter(self.config, name, setting)
            return self.collecting_adapters[name]
        return None

    def header_line(self) -> str:
        """Return the header line: version, backends and why, default phase, audit."""
        settings = self.settings
        try:
            found = [optional_text(adapter, "header_note") for adapter in self.adapters]
        except AdapterError as error:
            raise pytest.UsageError(str(error)) from None
        notes = tuple(note for note in found if note is not None)
        why = settings.backend_source
        if settings.auto:
            why = _auto.auto_reason(self.names[1:], self.skipped)
            if settings.backend_source != "default":
                why += f"; {settings.backend_source} = {_auto.AUTO}"
        return settings.header_line(__version__, self.names, why, notes)

    def resolution(self, item: pytest.Item) -> Resolution:
        """Return the item's resolved request, resolving it now if collection did not."""
        resolution = item.stash.get(_RESOLUTION_KEY, None)
        if resolution is None:
            resolution = item.stash[_RESOLUTION_KEY] = _markers.resolve(item, self.settings.default)
        return resolution

    def run_again_in(self, item: pytest.Item, request: PhaseRequest | None) -> None:
        """Set ``item``'s next run up in ``request`` (the audit); None gives it its own back.

        The request is carried on the item, where its setup reads it; a run in
        it warns of no leak.
        """
        if request is not None:
            item.stash.setdefault(_OWN_RESOLUTION_KEY, self.resolution(item))
            item.stash[_RESOLUTION_KEY] = request
        elif _OWN_RESOLUTION_KEY in item.stash:
            item.stash[_RESOLUTION_KEY] = item.stash[_OWN_RESOLUTION_KEY]
            del item.stash[_OWN_RESOLUTION_KEY]

    def pytest_sessionstart(self) -> None:
        """Remember the state before any test; collect in the session's default phase.

        Under ``auto``, a framework first imported while collecting is driven
        from its import on (:meth:`_imported_while_collecting`).
        """
        self.started = True
        for isolation in self.isolations:
            isolation.start_session()
            isolation.start_collection()
        if self.settings.auto and not is_xdist_controller(self.config):
            self.stop_watching = _auto.watch_imports(self._imported_while_collecting)

    def _imported_while_collecting(self, name: str) -> None:
        """``auto``: drive a framework a test module just imported, in the default phase.

        So the modules that test module builds at import start in it. A
        framework whose adapter cannot be built now is left to the end of
        collection, which reports it.
        """
        if self.collected or name in self.names or name not in _auto.imported_frameworks():
            return
        try:
            adapter = self.collecting_adapters.get(name) or build_adapter(
                self.config, name, self.settings.backend_setting
            )
        except pytest.UsageError:
            return
        self._drive({name: adapter})
        self.isolations[-1].start_collection()
        set_current_adapter(self.adapter)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self) -> None:
        """End collection's default phase; ``auto``: drive the frameworks imported by now.

        Collection ran in the session's default phase (torch: modules built at
        import start in it); the state from before the session comes back.
        Under ``auto``, then, the frameworks the suite imported by now are
        driven and the audit starts. Runs once, before the terminal prints the header line
        (:func:`pytest_report_collectionfinish`); never on xdist's controller,
        which collects nothing.
        """
        self.stop_watching()
        for isolation in self.isolations:
            isolation.end_collection()
        if not self.settings.auto or self.collected:
            return
        self.collected = True
        setting = self.settings.backend_setting
        late = [name for name in _auto.imported_frameworks() if name not in self.names]
        early = self.collecting_adapters  # the helpers drove them while collecting
        built = _build_found(
            self.config, [n for n in late if n not in early], setting, self.skipped
        )
        if late:
            self._drive({name: early.get(name) or built[name] for name in late})
            set_current_adapter(self.adapter)
        if self.settings.audit:
            _register_audit(self.config, self)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Resolve each test's phase once, after deselection, and keep it on the item."""
        default = self.settings.default
        for item in items:
            item.stash[_RESOLUTION_KEY] = _markers.resolve(item, default)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        """Set the test's phase before any of its fixtures; note the phase they leave.

        The phase in effect when setup ends is the one the test function is
        called in (the failure section reports it).
        """
        markers_before = self.markers_after_setup = len(item.own_markers)
        resolution = item.stash.get(_RESOLUTION_KEY, None)
        if resolution is None:
            resolution = self.resolution(item)
        if isinstance(resolution, PhaseRequestError):
            for isolation in self.isolations:
                isolation.begin(item, self.settings.default, inherits=True)
            pytest.fail(resolution.message, pytrace=False)
        inherits = resolution is self.settings.default
        only = self.only_isolation
        if only is not None:  # one backend: the common case, without a loop
            only.begin(item, resolution, inherits)
            if only.failure is not None:
                _fail_for_the_backend(only)
        else:
            for isolation in self.isolations:
                isolation.begin(item, resolution, inherits)
            _fail_for_a_backend(self.isolations)
        try:  # no jump on the way through: the per-test path stays as it was
            yield
            self.markers_after_setup = len(item.own_markers)
            if self.markers_after_setup != markers_before:
                _reject_markers_added_at_run_time(item, markers_before, "while the test was set up")
            if only is not None:
                only.called()
                if only.failure is not None:
                    _fail_for_the_backend(only)
            else:
                for isolation in self.isolations:
                    isolation.called()
                _fail_for_a_backend(self.isolations)
            if type(item) is not _FUNCTION:  # a unittest setUp runs in the call
                keep_phase_through_setup(item, self.isolations)
        except BaseException as error:
            self._note_failure(item, "setup", error)
            raise

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        """After all teardown, restore the state between tests; warn if the test leaked.

        A wrapper, so the state is restored whatever the teardown raised (also
        ``pytest.skip()`` in a fixture's teardown, or an error under ``xfail``).
        The leak warning comes last: under ``-W error`` it is a teardown error of
        this test.
        """
        __tracebackhide__ = True
        try:
            yield
        except BaseException as error:
            # A skip is no failure: under -W error the leak is the teardown's error.
            self._end(item, teardown_failed=not isinstance(error, pytest.skip.Exception))
            self._note_failure(item, "teardown", error)
            raise
        self._end(item, teardown_failed=False)
        if len(item.own_markers) != self.markers_after_setup:
            _reject_markers_added_at_run_time(item, self.markers_after_setup, "in the test body")

    def _note_failure(self, item: pytest.Item, when: str, error: BaseException) -> None:
        """Keep the traceback of a failing setup or teardown for its serialized report."""
        if not isinstance(error, pytest.skip.Exception):
            self.fixture_failure = (item, when, error.__traceback__)

    def _end(self, item: pytest.Item, *, teardown_failed: bool) -> None:
        """Restore every backend's state between tests; then warn about what leaked."""
        __tracebackhide__ = True
        only = self.only_isolation
        if only is not None:
            leaks = only.end(item)
            if only.failure is not None:
                _fail_for_the_backend(only)
        else:
            leaks = [leak for isolation in self.isolations for leak in isolation.end(item)]
            _fail_for_a_backend(self.isolations)
        if leaks and _OWN_RESOLUTION_KEY not in item.stash:  # not in an audit's re-run
            for leak in leaks:
                warn_at_test(item, leak, teardown_failed=teardown_failed)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        """Set up a fixture wider than a test in the phase of its own scope.

        Function-scoped fixtures pass straight through.
        """
        if fixturedef.scope == "function":
            value = yield
            only = self.only_isolation
            if only is not None:
                if only.request.phase is not None:  # a fixture that cleared the phase
                    only.fixture_cleared()
            else:
                for isolation in self.isolations:
                    isolation.fixture_cleared()
            return value
        fixtures = []
        for isolation in self.isolations:
            try:
                fixtures.append(isolation.before_wider_fixture(fixturedef, request))
            except Exception as error:
                _fail_for_a_wider_fixture(isolation, "setting the fixture's scope state", error)
        markers = [(node, len(node.own_markers)) for node in request.node.listchain()]
        try:
            value = yield
            for node, count in markers:
                if len(node.own_markers) != count:
                    _reject_markers_added_by_a_wider_fixture(fixturedef, node, count)
        except BaseException:
            for isolation, fixture in zip(self.isolations, fixtures, strict=True):
                try:
                    isolation.after_wider_fixture(fixture, None, failed=True)
                except Exception:  # the fixture's own error is the one to report
                    continue
            raise
        for isolation, fixture in zip(self.isolations, fixtures, strict=True):
            try:
                isolation.after_wider_fixture(fixture, value, failed=False)
            except Exception as error:
                _fail_for_a_wider_fixture(isolation, "saving the fixture's baseline", error)
        return value

    def pytest_exception_interact(
        self,
        node: pytest.Item | pytest.Collector,
        call: pytest.CallInfo[object],
        report: pytest.CollectReport | pytest.TestReport,
    ) -> None:
        """Add the "learning phase" section to a failing test's report.

        pytest calls this only for failures and errors (never for a passing
        test), after the report was logged.
        """
        self.fixture_failure = None
        if not isinstance(node, pytest.Item) or not isinstance(report, pytest.TestReport):
            return
        if report.when == "setup":
            _shorten_request_error(node, getattr(report.longrepr, "reprcrash", None))
        excinfo = call.excinfo
        traceback = excinfo.tb if excinfo is not None else None
        section = phase_section(node, self.isolations, self.recordings, traceback)
        if section is not None:
            report.sections.append(section)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(
        self, report: pytest.CollectReport | pytest.TestReport
    ) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
        """Put the "learning phase" section into a failure's serialized report.

        An xdist worker serializes each report as it is logged, before
        :meth:`pytest_exception_interact` runs; pytest calls this hook only
        when something serializes reports (xdist, report logs).
        """
        data = yield
        item = self.isolation.current_item
        if (
            data is not None
            and report.failed
            and isinstance(report, pytest.TestReport)
            and item is not None
            and item.nodeid == report.nodeid
        ):
            traceback = (
                last_call_traceback(item)
                if report.when == "call"
                else self._fixture_traceback(item, report.when)
            )
            section = phase_section(item, self.isolations, self.recordings, traceback)
            if section is not None:
                data["sections"] = [*data.get("sections", []), list(section)]
            longrepr = data.get("longrepr")
            if report.when == "setup" and isinstance(longrepr, dict):
                for _, reprcrash, _ in longrepr.get("chain") or ():  # what xdist rebuilds from
                    _shorten_request_error(item, reprcrash)
        return data

    def _fixture_traceback(self, item: pytest.Item, when: str) -> TracebackType | None:
        """Return (once) the traceback of ``item``'s failing ``when`` (setup or teardown)."""
        failure, self.fixture_failure = self.fixture_failure, None
        if failure is None or failure[0] is not item or failure[1] != when:
            return None
        return failure[2]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Put back the state from before the session, even if a test was interrupted.

        Under ``auto``, warn of a supported framework first imported while the
        tests ran (an xdist worker tells the controller, which warns once).
        """
        try:
            self._finish_session()
        except _auto.LearningPhaseBackendWarning as error:  # -W error::...: fail the session
            self.backend_error = f"LearningPhaseBackendWarning: {error}"
        if self.backend_error and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _finish_session(self) -> None:
        for isolation in self.isolations:
            try:
                isolation.end_session()
            except Exception as error:  # one line naming the backend, not a traceback
                self.backend_error = adapter_error(
                    isolation.adapter, "restoring the state from before the session", error, None
                )
        if not self.settings.auto:
            return
        if self.collected:
            late = tuple(name for name in _auto.imported_frameworks() if name not in self.names)
            if is_xdist_worker(self.config):
                self.config.workeroutput[_WORKER_OUTPUT_KEY] = (self.names, late)  # type: ignore[attr-defined]
            elif late:
                self._warn(_auto.late_import_warning(late, self.names))
        elif self.workers_chose:
            self._warn_of_workers()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """On xdist's controller: note the backends a worker's ``auto`` chose."""
        chose = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT_KEY)
        if self.settings.auto and chose is not None:
            names, late = chose
            self.workers_chose[str(node.gateway.id)] = (tuple(names), tuple(late))

    def _warn_of_workers(self) -> None:
        """On xdist's controller: warn once of late imports, and of workers that disagree."""
        choices = {names for names, _ in self.workers_chose.values()}
        if len(choices) > 1:
            each = "; ".join(
                f"{worker}: {', '.join(names)}"
                for worker, (names, _) in sorted(self.workers_chose.items())
            )
            self._warn(
                f"the xdist workers chose different learning phase backends (auto): {each}; "
                "set learning_phase_backend to the ones to drive"
            )
        names = max(choices, key=len)
        late = tuple(
            dict.fromkeys(name for _, late in self.workers_chose.values() for name in late)
        )
        if late:
            self._warn(_auto.late_import_warning(late, names))

    def _warn(self, message: str) -> None:
        """Warn at the end of the session, at the ini file that would drive the framework.

        Without an ini file the location is ``<learning_phase_backend = auto>``:
        in angle brackets, as Python writes a source that is no file.
        """
        where = str(self.config.inipath) if self.config.inipath else _NO_INI_LOCATION
        warnings.warn_explicit(message, _auto.LearningPhaseBackendWarning, where, 1)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """On xdist's controller, under ``auto``: the backends the workers chose (one line).

        And a :class:`~pytest_learning_phase.LearningPhaseBackendWarning` that
        a warning filter made an error, which failed the session.
        """
        if self.backend_error:
            terminalreporter.write_line(f"ERROR {self.backend_error}", red=True)
        if self.settings.auto and self.workers_chose and not self.collected:
            chose = sorted(self.workers_chose.items())
            if len({names for _, (names, _) in chose}) > 1:  # the warning says what to set
                each = "; ".join(f"{worker}: {', '.join(names)}" for worker, (names, _) in chose)
                terminalreporter.write_line(
                    f"learning-phase: the xdist workers drove different backends: {each}"
                )
                return
            names = chose[0][1][0]
            why = _auto.auto_reason(names[1:])
            terminalreporter.write_line(
                f"learning-phase: the xdist workers drove {', '.join(names)} ({why})"
            )

    def pytest_unconfigure(self) -> None:
        """Hand the harness helpers back to the adapter they had before this session."""
        self.stop_watching()
        set_current_adapter(self.previous_adapter)
        set_collection_chooser(self.previous_chooser)


_NO_INI_LOCATION: Final = f"<learning_phase_backend = {_auto.AUTO}>"
"""Where a backend warning points without an ini file: the setting, not a file."""


def _nothing() -> None:
    """Stop watching imports when nothing watches."""


_SOURCE_AND_PROBLEM: Final = re.compile(
    r"(?:@pytest\.mark\.(?P<mark>learning_phase\(.*?\)) on (?P<place>the test function|"
    r"class \S+|module \S+)|parameter (?P<parameter>learning_phase=.*?)): (?P<problem>.*)",
    re.DOTALL,
)
_DISAGREEING: Final = re.compile(
    r"(?P<first>.+?) asks for phase (?P<phase>.+?) but (?P<other>.+?) asks for (?P<other_phase>.+?)"
    r"; keep one of them",
    re.DOTALL,
)


def _shorten_request_error(item: pytest.Item, reprcrash: object) -> None:
    """Give a bad request's error a short-summary line: the marker or parameter, then the problem.

    pytest's short summary already names the test and cuts the line at the
    terminal's width: ``ERROR t.py::test_y - learning_phase(2): got 2; expected 0, 1 or...``
    rather than ``... - Failed: In t.py::test_y: @py...``. The error's own
    section keeps the whole message. Only for failures (no per-test cost).
    """
    resolution = item.stash.get(_RESOLUTION_KEY, None)
    if not isinstance(resolution, PhaseRequestError) or reprcrash is None:
        return
    body = resolution.message.removeprefix(f"In {item.nodeid}: ")
    summary = body
    if (found := _SOURCE_AND_PROBLEM.fullmatch(body)) and found["mark"]:
        summary = f"{found['mark']}: {found['problem']} (on {found['place']})"
    elif found:
        summary = f"{found['parameter']} (parameter): {found['problem']}"
    elif found := _DISAGREEING.fullmatch(body):
        summary = (
            f"learning_phase disagrees: {found['phase']} from {found['first']}, "
            f"{found['other_phase']} from {found['other']}; keep one of them"
        )
    if isinstance(reprcrash, dict):  # serialized, on an xdist worker
        reprcrash["message"] = summary
    elif hasattr(reprcrash, "message"):
        reprcrash.message = summary


def _fail_for_a_wider_fixture(isolation: PhaseIsolation, action: str, error: Exception) -> None:
    """Fail a wider fixture's setup: its backend's adapter raised around it."""
    pytest.fail(
        adapter_error(isolation.adapter, action, error, isolation.current_item), pytrace=False
    )


def _fail_for_a_backend(isolations: Sequence[PhaseIsolation]) -> None:
    """Fail the current test if one of its backends misbehaved while it ran (the first one)."""
    for isolation in isolations:
        if isolation.failure is not None:
            _fail_for_the_backend(isolation)


def _fail_for_the_backend(isolation: PhaseIsolation) -> None:
    """Fail the current test: its backend answered something other than a phase while it ran."""
    message = isolation.failure or ""
    isolation.failure = None
    pytest.fail(message, pytrace=False)


def _reject_markers_added_at_run_time(item: pytest.Item, markers_before: int, when: str) -> None:
    """Fail a test whose fixtures or body added a ``learning_phase`` marker: too late to apply."""
    for mark in item.own_markers[markers_before:]:
        if mark.name == _markers.MARKER_NAME:
            pytest.fail(
                f"In {item.nodeid}: {_markers.marker_text(mark)} was added {when} "
                "(request.applymarker or item.add_marker), after its phase was set; "
                "put the marker on the test, its class or module, or in pytest.param",
                pytrace=False,
            )


def _reject_markers_added_by_a_wider_fixture(
    fixturedef: pytest.FixtureDef[object], node: pytest.Item | pytest.Collector, count: int
) -> None:
    """Fail a wider fixture that added a ``learning_phase`` marker: its tests' phases are resolved.

    The marker is taken off again (no test runs under a marker it does not
    follow), and the failure is the fixture's cached result, so every test of
    its scope that uses the fixture gets the error, not only the first.
    """
    added = [mark for mark in node.own_markers[count:] if mark.name == _markers.MARKER_NAME]
    if not added:
        return
    node.own_markers[count:] = [mark for mark in node.own_markers[count:] if mark not in added]
    try:
        pytest.fail(
            f"In {fixturedef.scope} fixture {fixturedef.argname}: "
            f"{_markers.marker_text(added[0])} was added to {_markers.place(node)} while the "
            "fixture was set up (request.applymarker or request.node.add_marker), after the "
            "phases of its tests were resolved; put the marker in the source (on the test, "
            "its class or module), or set the phase in the fixture itself",
            pytrace=False,
        )
    except pytest.fail.Exception as error:
        if fixturedef.cached_result is not None:
            key = fixturedef.cached_result[1]
            fixturedef.cached_result = (None, key, (error, error.__traceback__))
        raise


_SESSION_KEY: Final = pytest.StashKey[_PhaseSession]()
_WORKER_OUTPUT_KEY: Final = "learning_phase_auto"
"""An xdist worker's ``workeroutput`` entry: the backends its ``auto`` chose, and late imports."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_learning_phase_backends`` hook."""
    from pytest_learning_phase import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--learning-phase``, ``--learning-phase-backend``, ``--learning-phase-audit``."""
    _options.add_options(parser)


def pytest_learning_phase_backends(config: pytest.Config) -> Mapping[str, AdapterFactory]:
    """Offer the built-in backends; ``tf_keras`` imports TensorFlow only when chosen."""
    from pytest_learning_phase.adapters import builtin_backends

    return builtin_backends()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, resolve the settings, build the adapters, register the session.

    Under ``auto``: the reference backend and the frameworks imported so far
    (by plugins and the first conftests); the rest when collection ends.
    """
    config.addinivalue_line("markers", _markers.MARKER_DOC)
    settings = _options.read_settings(config)
    setting = settings.backend_setting
    skipped: dict[str, str] = {}
    if settings.auto:
        backends = {"reference": build_adapter(config, "reference", setting)}
        backends.update(_build_found(config, _auto.imported_frameworks(), setting, skipped))
    else:
        backends = {name: build_adapter(config, name, setting) for name in settings.backends}
    for adapter in backends.values():
        phase_labels(adapter)  # a bad declaration is a usage error now, not in a report
    session = _PhaseSession(config, settings, backends)
    session.skipped = skipped
    config.stash[_SESSION_KEY] = session
    config.pluginmanager.register(session, "learning_phase_session")
    if settings.audit and not settings.auto:
        _register_audit(config, session)


def _build_found(
    config: pytest.Config, names: Sequence[str], setting: str, skipped: dict[str, str]
) -> dict[str, LearningPhaseAdapter]:
    """``auto``: build the adapters of the frameworks found in ``sys.modules``.

    ``names`` holds the real packages only: a stand-in in ``sys.modules``
    (None, a mock, an empty module) is not driven but goes into ``skipped``
    with the reason, for the header line; never a usage error for a setting
    the user did not give.
    """
    skipped.update(_auto.stand_ins())
    return {name: build_adapter(config, name, setting) for name in names}


def _register_audit(config: pytest.Config, session: _PhaseSession) -> None:
    """Start the audit on the session's backends (all of them: ``auto`` has chosen)."""
    from pytest_learning_phase._audit import LearningPhaseAudit

    config.pluginmanager.register(LearningPhaseAudit(session), "learning_phase_audit")


def pytest_sessionstart(session: pytest.Session) -> None:
    """On xdist's controller under ``auto`` with the audit: start it (nothing is collected here)."""
    phase_session = session.config.stash[_SESSION_KEY]
    if (
        phase_session.settings.audit
        and phase_session.settings.auto
        and is_xdist_controller(session.config)
    ):
        _register_audit(session.config, phase_session)


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    """One line: version, backends and why, default phase, each with its source.

    Under ``auto`` the line waits for the end of collection
    (:func:`pytest_report_collectionfinish`); xdist's controller, which
    collects nothing, says so, and names the workers' choice at the end.
    """
    session = config.stash[_SESSION_KEY]
    if not session.settings.auto:
        return session.header_line()
    if is_xdist_controller(config):
        return session.settings.header_line(
            __version__, (_auto.AUTO,), "each xdist worker chooses when its collection ends"
        )
    return []


def pytest_report_collectionfinish(config: pytest.Config) -> str | list[str]:
    """Under ``auto``: the header line, now that collection has chosen the backends."""
    session = config.stash[_SESSION_KEY]
    if not session.settings.auto or config.get_verbosity() < 0:
        return []
    if getattr(config.option, "no_header", False):
        return []
    return session.header_line()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize a test whose closest marker gives several phases: ids test/train/unset."""
    found = _markers.closest_marker_and_node(metafunc.definition)
    if found is None:
        return
    phases = _markers.parametrizing_phases(found[0])
    if phases is None:
        return  # one phase, or a bad marker: resolve() reports it on the item
    metafunc.fixturenames.append(_markers.MARKER_ARGUMENT)
    metafunc.parametrize(
        _markers.MARKER_ARGUMENT,
        phases,
        ids=[PHASE_IDS[phase] for phase in phases],
        scope="function",
    )


def _resolved_phase(request: pytest.FixtureRequest) -> Phase:
    """Return the phase the test runs under: its request, its scope's baseline, an audit run's."""
    session = request.config.stash[_SESSION_KEY]
    resolution = session.resolution(request.node)
    if isinstance(resolution, PhaseRequestError):  # pragma: no cover - setup failed first
        pytest.fail(resolution.message, pytrace=False)
    if session.isolation.current_item is request.node:
        return session.running_phase()
    return resolution.phase


def _phase_fixture_value(request: pytest.FixtureRequest, phase: Phase) -> Phase:
    """Return ``phase``, or fail if the fixture was requested too late to set it."""
    resolved = _resolved_phase(request)
    if resolved != phase:
        pytest.fail(
            f"In {request.node.nodeid}: fixture {request.fixturename} was requested with "
            f"request.getfixturevalue(), after the phase ({describe_phase(resolved)}) was set; "
            f"request it as an argument, or use @pytest.mark.learning_phase({phase})",
            pytrace=False,
        )
    return phase


@pytest.fixture
def learning_phase(request: pytest.FixtureRequest) -> Phase:
    """Give the learning phase this test runs under: 0 (test), 1 (train) or None (unset).

    Parametrize it to set the phase per item:
    ``@pytest.mark.parametrize("learning_phase", [0, 1], indirect=True)``.
    """
    return _resolved_phase(request)


@pytest.fixture
def train_phase(request: pytest.FixtureRequest) -> Phase:
    """Run this test with the learning phase set to 1 (train); the value is 1."""
    return _phase_fixture_value(request, 1)


@pytest.fixture
def test_phase(request: pytest.FixtureRequest) -> Phase:
    """Run this test with the learning phase set to 0 (test); the value is 0."""
    return _phase_fixture_value(request, 0)
