"""Work out, once per test at collection, which phase it asks for and where that came from.

The result is a small frozen :class:`PhaseRequest` (or a :class:`PhaseRequestError`
with the one-line message the user will read), kept in ``item.stash``; the
run-time hooks only apply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pytest
from _pytest.nodes import Node

from pytest_learning_phase._phase import (
    ALLOWED_VALUES,
    PHASE_IDS,
    InvalidPhaseError,
    Phase,
    describe_phase,
    is_phase,
    normalize_phase,
    normalize_phases,
    short_repr,
)

MARKER_NAME: Final = "learning_phase"
PHASE_FIXTURE: Final = "learning_phase"
TRAIN_FIXTURE: Final = "train_phase"
TEST_FIXTURE: Final = "test_phase"
# The hidden argument by which a multi-value marker parametrizes a test.
MARKER_ARGUMENT: Final = "_learning_phase_from_marker"

_MAX_VALUES_SHOWN: Final = 4
_MAX_VALUE_REPR: Final = 40
PLUGIN_MODULE: Final = "pytest_learning_phase.plugin"
"""The module that defines the phase fixtures; a user's fixture of the same name overrides."""

MARKER_DOC: Final = (
    "learning_phase(phase, ...): run the test with the Keras learning phase set: "
    "learning_phase(1) train, learning_phase(0) test, learning_phase(None) unset "
    "(fresh state, as after clear_session()). Several values parametrize the test, "
    "one item per value, ids test/train/unset: learning_phase(0, 1). The closest "
    "marker (function, class, module, pytest.param) wins."
)


@dataclass(frozen=True, slots=True)
class PhaseRequest:
    """The phase one test runs under, and where that came from (for reports)."""

    phase: Phase
    source: str


@dataclass(frozen=True, slots=True)
class PhaseRequestError:
    """What was wrong with a test's request, as the one line the user reads."""

    message: str


Resolution = PhaseRequest | PhaseRequestError


def marker_text(mark: pytest.Mark) -> str:
    """Render a marker as the user wrote it: ``@pytest.mark.learning_phase(0, phase=1)``.

    A long marker is cut: at most a few values, each repr at most a few dozen
    characters, and the count of the values left out.
    """
    arguments = [short_repr(value, _MAX_VALUE_REPR) for value in mark.args[:_MAX_VALUES_SHOWN]]
    if len(mark.args) > _MAX_VALUES_SHOWN:
        arguments.append(f"... {len(mark.args) - _MAX_VALUES_SHOWN} more")
    arguments += [
        f"{key}={short_repr(value, _MAX_VALUE_REPR)}" for key, value in mark.kwargs.items()
    ]
    return f"@pytest.mark.{mark.name}({', '.join(arguments)})"


def _check_marker_form(mark: pytest.Mark) -> str | None:
    """Return what is wrong with the marker's form (not its values), or None."""
    if mark.kwargs:
        return (
            f"takes no keyword arguments (got {', '.join(mark.kwargs)}); "
            "pass phases positionally: @pytest.mark.learning_phase(1) or (0, 1)"
        )
    if not mark.args:
        return (
            "needs at least one phase: @pytest.mark.learning_phase(1), (0), (None) "
            "or several to parametrize, (0, 1)"
        )
    return None


def parametrizing_phases(mark: pytest.Mark) -> tuple[Phase, ...] | None:
    """Return the phases a well-formed multi-value marker parametrizes over, else None."""
    if len(mark.args) < 2 or _check_marker_form(mark) is not None:
        return None
    try:
        return normalize_phases(mark.args)
    except ValueError:
        return None


def place(node: Node) -> str:
    """Name the node a marker sits on: ``class TestX``, ``module test_x.py``, ``the session``."""
    if isinstance(node, pytest.Module):
        return f"module {node.name}"
    if isinstance(node, pytest.Class):
        return f"class {node.name}"
    if isinstance(node, pytest.Item):
        return "the test function"
    if isinstance(node, pytest.Session):
        return "the session"
    return f"{type(node).__name__.lower()} {node.name}"  # package, directory


def closest_marker_and_node(node: Node) -> tuple[pytest.Mark, Node] | None:
    """Return the closest ``learning_phase`` marker of ``node`` and the node it sits on.

    What ``node.iter_markers_with_node()`` would yield first, in a plain loop:
    this runs for every test at collection.
    """
    current: Node | None = node
    while current is not None:
        for mark in current.own_markers:
            if mark.name == MARKER_NAME:
                if isinstance(current, pytest.Class):
                    return own_marks(current)[0], current
                return mark, current
        current = current.parent
    return None


def own_marks(node: Node) -> list[pytest.Mark]:
    """Return the ``learning_phase`` markers of one place: a node's own, closest first.

    A class's node also carries its base classes' markers (pytest merges them
    along the MRO, bases first); the closest class in the MRO that has one
    wins, and only its markers are that place's.
    """
    marks = [mark for mark in node.own_markers if mark.name == MARKER_NAME]
    if len(marks) > 1 and isinstance(node, pytest.Class):
        for klass in getattr(node.obj, "__mro__", ()):
            stored = klass.__dict__.get("pytestmark", [])
            declared = stored if isinstance(stored, list) else [stored]
            closest: list[pytest.Mark] = [
                mark
                for mark in (getattr(each, "mark", each) for each in declared)
                if isinstance(mark, pytest.Mark) and mark.name == MARKER_NAME
            ]
            if closest:
                return closest
    return marks


def scope_request(node: Node) -> PhaseRequest | None:
    """Return the one phase the closest marker at ``node`` or above asks for, if it does.

    What a fixture of that node's scope is set up in; a marker with several
    phases (or a bad one, reported on the tests) gives none.
    """
    found = closest_marker_and_node(node)
    if found is None:
        return None
    mark, where = found
    if len(mark.args) != 1 or _check_marker_form(mark) is not None:
        return None
    try:
        phase = normalize_phase(mark.args[0])
    except InvalidPhaseError:
        return None
    return PhaseRequest(phase, f"{marker_text(mark)} on {place(where)}")


def _closest_marker(item: pytest.Item) -> tuple[pytest.Mark, str, Node | None] | None:
    """Return the closest marker, where it sits and its node (None: a ``pytest.param`` mark).

    A ``pytest.param`` mark is closest.
    """
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for mark in reversed(callspec.marks):
            if mark.name == MARKER_NAME:
                return mark, "pytest.param", None
    found = closest_marker_and_node(item)
    return None if found is None else (found[0], place(found[1]), found[1])


def _marker_source(
    item: pytest.Item, mark: pytest.Mark, where: str, node: Node | None
) -> Resolution:
    """Return the phase the closest marker asks for, or what is wrong with it (or its place).

    Every ``learning_phase`` marker of that place (``node``'s own, or the
    ``pytest.param``'s when None) is checked, and they must agree; they are
    compared by the phases they give, never with ``==`` on the values the user
    wrote (arrays, objects whose ``==`` raises).
    """
    args = mark.args
    if len(args) == 1 and not mark.kwargs and is_phase(phase := args[0]):  # the common case
        text = f"@pytest.mark.{MARKER_NAME}({phase!r}) on {where}"
        phases: tuple[Phase, ...] = (phase,)
    else:
        text = f"{marker_text(mark)} on {where}"
        checked = _checked_phases(item, mark, where)
        if isinstance(checked, PhaseRequestError):
            return checked
        phases = checked
    for other in _marks_at(item, node):
        if other is mark or other.name != MARKER_NAME:
            continue
        other_phases = _checked_phases(item, other, where)
        if isinstance(other_phases, PhaseRequestError):
            return other_phases
        if other_phases != phases:
            return PhaseRequestError(
                f"In {item.nodeid}: two learning_phase markers on {where} disagree: "
                f"{marker_text(mark)} and {marker_text(other)}; keep one of them"
            )
    if len(phases) == 1:
        return PhaseRequest(phases[0], text)
    parametrized = _parametrized_by_marker(item, text)
    if parametrized is not None:
        return parametrized
    return PhaseRequestError(
        f"In {item.nodeid}: {text}: several phases parametrize a test function, but this "
        "test cannot be parametrized (a unittest.TestCase method, or a pytest.param mark); "
        "give one phase"
    )


def _checked_phases(
    item: pytest.Item, mark: pytest.Mark, where: str
) -> tuple[Phase, ...] | PhaseRequestError:
    """Return the phases one marker gives, or the error its form or values make."""
    problem = _check_marker_form(mark)
    if problem is not None:
        return PhaseRequestError(f"In {item.nodeid}: {marker_text(mark)} on {where}: {problem}")
    try:
        return normalize_phases(mark.args)
    except InvalidPhaseError as error:
        text = f"{marker_text(mark)} on {where}"
        return PhaseRequestError(
            f"In {item.nodeid}: {text}: got {short_repr(error.args[0], _MAX_VALUE_REPR)}; "
            f"{ALLOWED_VALUES}"
        )
    except ValueError as error:
        return PhaseRequestError(
            f"In {item.nodeid}: {marker_text(mark)} on {where}: {error}; give each phase once"
        )


def _marks_at(item: pytest.Item, node: Node | None) -> list[pytest.Mark]:
    """Return every marker of one place: the ``pytest.param``'s (``node`` None), or a node's own.

    Any marker, not only ``learning_phase`` ones, except on a class (:func:`own_marks`).
    """
    if node is None:
        return item.callspec.marks  # type: ignore[attr-defined,no-any-return]
    if isinstance(node, pytest.Class):
        return own_marks(node)
    return node.own_markers


def is_plugin_fixture(item: pytest.Item, name: str) -> bool:
    """Return whether ``item`` uses the plugin's fixture ``name`` (not a user's override)."""
    if name not in getattr(item, "fixturenames", ()):
        return False
    fixture_info = getattr(item, "_fixtureinfo", None)
    definitions = None if fixture_info is None else fixture_info.name2fixturedefs.get(name)
    for definition in reversed(definitions or ()):
        module = getattr(definition.func, "__module__", None) or ""
        if not module.startswith("_pytest."):  # skip pytest's stand-in for a direct parameter
            return module == PLUGIN_MODULE
    # Only pytest's stand-in: a direct parameter (no indirect=True) hides the fixture
    # it stands for; the fixture the name would otherwise give decides.
    manager = getattr(getattr(item, "session", None), "_fixturemanager", None)
    visible = None if manager is None else manager.getfixturedefs(name, item)
    if visible:
        return (getattr(visible[-1].func, "__module__", None) or "") == PLUGIN_MODULE
    return False


def _parametrized_by_marker(item: pytest.Item, text: str) -> PhaseRequest | None:
    """Return the phase a multi-value marker gave this item at collection, if it did."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or MARKER_ARGUMENT not in callspec.params:
        return None
    phase: Phase = callspec.params[MARKER_ARGUMENT]
    return PhaseRequest(phase, f"{text}, item [{PHASE_IDS[phase]}]")


def _requested_sources(item: pytest.Item) -> list[PhaseRequest] | PhaseRequestError:
    """Collect every phase the test asks for: marker, parameter, fixtures.

    A class's or module's one-phase marker yields to the test function's own
    sources (a parameter, ``train_phase``, ``test_phase``): they are closer.
    A marker that parametrized the item (its id names the phase) never yields.
    """
    sources: list[PhaseRequest] = []
    scope_marker: PhaseRequest | None = None
    """A class's or module's one-phase marker: kept only if the function asks for nothing."""
    closest = _closest_marker(item)
    if closest is not None:
        resolution = _marker_source(item, *closest)
        if isinstance(resolution, PhaseRequestError):
            return resolution
        node = closest[2]
        if node is not None and node is not item and len(closest[0].args) == 1:
            scope_marker = resolution
        else:
            sources.append(resolution)
        if closest[1] == "pytest.param":
            # A several-value marker on the function, class or module may also have
            # parametrized this item: the first marker that is not the param's.
            for node, farther in item.iter_markers_with_node(MARKER_NAME):
                if farther is not closest[0]:
                    text = f"{marker_text(farther)} on {place(node)}"
                    parametrized = _parametrized_by_marker(item, text)
                    if parametrized is not None:
                        sources.append(parametrized)
                    break
    callspec = getattr(item, "callspec", None)
    if (
        callspec is not None
        and PHASE_FIXTURE in callspec.params
        and is_plugin_fixture(item, PHASE_FIXTURE)
    ):
        value = callspec.params[PHASE_FIXTURE]
        text = f"parameter {PHASE_FIXTURE}={short_repr(value, _MAX_VALUE_REPR)}"
        try:
            sources.append(PhaseRequest(normalize_phase(value), text))
        except InvalidPhaseError:
            return PhaseRequestError(f"In {item.nodeid}: {text}: {ALLOWED_VALUES}")
    fixture_names = getattr(item, "fixturenames", ())
    if TRAIN_FIXTURE in fixture_names and is_plugin_fixture(item, TRAIN_FIXTURE):
        sources.append(PhaseRequest(1, f"fixture {TRAIN_FIXTURE}"))
    if TEST_FIXTURE in fixture_names and is_plugin_fixture(item, TEST_FIXTURE):
        sources.append(PhaseRequest(0, f"fixture {TEST_FIXTURE}"))
    if scope_marker is not None and not sources:
        sources.append(scope_marker)
    return sources


def resolve(item: pytest.Item, default: PhaseRequest) -> Resolution:
    """Return the phase ``item`` runs under, or the error its request makes.

    Several sources must agree; a test that asks for nothing runs under the
    session's ``default`` (the very object, so callers can tell it by identity).
    """
    sources = _requested_sources(item)
    if isinstance(sources, PhaseRequestError):
        return sources
    if sources:
        first = sources[0]
        for other in sources[1:]:
            if other.phase != first.phase:
                return PhaseRequestError(
                    f"In {item.nodeid}: {first.source} asks for phase "
                    f"{describe_phase(first.phase)} but {other.source} asks for "
                    f"{describe_phase(other.phase)}; keep one of them"
                )
        return first
    return default
