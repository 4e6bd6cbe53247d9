"""The pytest plugin ``learning_phase``: hooks and fixtures only, in the order pytest calls them.

What each test asks for is resolved once at collection (``_markers``); the
run-time hooks, on a per-session object registered in ``pytest_configure``,
set it before setup and restore the whole state after teardown
(``_isolation``). Disable with ``-p no:learning_phase``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any, Final

import pytest

from pytest_learning_phase import _markers, _options
from pytest_learning_phase._isolation import PhaseIsolation, warn_at_test
from pytest_learning_phase._markers import PhaseRequest, PhaseRequestError, Resolution
from pytest_learning_phase._phase import PHASE_IDS, Phase, describe_phase
from pytest_learning_phase._provenance import Recording
from pytest_learning_phase._report import phase_labels, phase_section
from pytest_learning_phase._version import __version__
from pytest_learning_phase.adapters import LearningPhaseAdapter
from pytest_learning_phase.adapters._current import set_current_adapter
from pytest_learning_phase.adapters._registry import build_adapter
from pytest_learning_phase.hookspecs import AdapterFactory

_RESOLUTION_KEY: Final = pytest.StashKey[Resolution]()
_OWN_RESOLUTION_KEY: Final = pytest.StashKey[Resolution]()
"""The item's own request, kept while the audit runs it again in another."""


class _PhaseSession:
    """One session's settings and adapter, and the hooks that run for every test.

    A plugin object of its own (not module functions reading ``config.stash``),
    so the per-test path is a few attribute lookups, and each in-process pytest
    session (pytester) has its own.
    """

    def __init__(
        self, settings: _options.Settings, adapters: Sequence[LearningPhaseAdapter]
    ) -> None:
        self.settings = settings
        self.adapters = tuple(adapters)
        self.isolations = tuple(PhaseIsolation(adapter, settings.default) for adapter in adapters)
        self.adapter = adapters[0]
        """The first backend: the one the harness helpers drive."""
        self.isolation = self.isolations[0]
        self.only_isolation = self.isolation if len(self.isolations) == 1 else None
        """The isolation of the one backend, when there is one: the per-test fast path."""
        self.previous_adapter = set_current_adapter(self.adapter)
        self.recordings: dict[str, Recording] | None = None
        """Set by the audit while a run of a test is recorded: the recording of each backend."""

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
        """Remember the state before any test, to put it back when the session ends."""
        for isolation in self.isolations:
            isolation.start_session()

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
        resolution = item.stash.get(_RESOLUTION_KEY, None)
        if resolution is None:
            resolution = self.resolution(item)
        if isinstance(resolution, PhaseRequestError):
            for isolation in self.isolations:
                isolation.begin(item, self.settings.default, inherits=True)
            pytest.fail(resolution.message, pytrace=False)
        inherits = resolution is self.settings.default
        only = self.only_isolation
        if only is not None:  # one backend: the common case, without loops
            only.begin(item, resolution, inherits)
            markers_before = len(item.own_markers)
            yield
            if len(item.own_markers) != markers_before:
                _reject_markers_added_at_run_time(item, markers_before)
            only.called()
            return
        for isolation in self.isolations:
            isolation.begin(item, resolution, inherits)
        markers_before = len(item.own_markers)
        yield
        if len(item.own_markers) != markers_before:
            _reject_markers_added_at_run_time(item, markers_before)
        for isolation in self.isolations:
            isolation.called()

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
        finally:
            only = self.only_isolation
            if only is not None:
                leaks = only.end(item)
            else:
                leaks = [leak for isolation in self.isolations for leak in isolation.end(item)]
        if leaks and _OWN_RESOLUTION_KEY not in item.stash:  # not in an audit's re-run
            for leak in leaks:
                warn_at_test(item, leak)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        """Set up a fixture wider than a test in the phase of its own scope.

        Function-scoped fixtures pass straight through.
        """
        if fixturedef.scope == "function":
            return (yield)
        fixtures = [
            isolation.before_wider_fixture(fixturedef, request) for isolation in self.isolations
        ]
        try:
            value = yield
        except BaseException:
            for isolation, fixture in zip(self.isolations, fixtures, strict=True):
                isolation.after_wider_fixture(fixture, None, failed=True)
            raise
        for isolation, fixture in zip(self.isolations, fixtures, strict=True):
            isolation.after_wider_fixture(fixture, value, failed=False)
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
        if not isinstance(node, pytest.Item) or not isinstance(report, pytest.TestReport):
            return
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
            section = phase_section(item, self.isolations, self.recordings, None)
            if section is not None:
                data["sections"] = [*data.get("sections", []), list(section)]
        return data

    def pytest_sessionfinish(self) -> None:
        """Put back the state from before the session, even if a test was interrupted."""
        for isolation in self.isolations:
            isolation.end_session()

    def pytest_unconfigure(self) -> None:
        """Hand the harness helpers back to the adapter they had before this session."""
        set_current_adapter(self.previous_adapter)


def _reject_markers_added_at_run_time(item: pytest.Item, markers_before: int) -> None:
    """Fail a test whose fixtures added a ``learning_phase`` marker: too late to apply."""
    for mark in item.own_markers[markers_before:]:
        if mark.name == _markers.MARKER_NAME:
            pytest.fail(
                f"In {item.nodeid}: {_markers.marker_text(mark)} was added while the test was "
                "set up (request.applymarker or item.add_marker), after its phase was set; "
                "put the marker on the test, its class or module, or in pytest.param",
                pytrace=False,
            )


_SESSION_KEY: Final = pytest.StashKey[_PhaseSession]()


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
    """Register the marker, resolve the settings, build the adapter, register the session."""
    config.addinivalue_line("markers", _markers.MARKER_DOC)
    settings = _options.read_settings(config)
    adapters = [
        build_adapter(config, backend, settings.backend_setting) for backend in settings.backends
    ]
    for adapter in adapters:
        phase_labels(adapter)  # a bad declaration is a usage error now, not in a report
    session = _PhaseSession(settings, adapters)
    config.stash[_SESSION_KEY] = session
    config.pluginmanager.register(session, "learning_phase_session")
    if settings.audit:
        from pytest_learning_phase._audit import LearningPhaseAudit

        config.pluginmanager.register(LearningPhaseAudit(session), "learning_phase_audit")


def pytest_report_header(config: pytest.Config) -> str:
    """One line: the plugin's version, the backend and the default phase, with their sources."""
    session = config.stash[_SESSION_KEY]
    notes = tuple(
        note
        for note in (getattr(adapter, "header_note", None) for adapter in session.adapters)
        if isinstance(note, str)
    )
    return session.settings.header_line(__version__, notes)


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
        return session.isolation.request.phase
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
