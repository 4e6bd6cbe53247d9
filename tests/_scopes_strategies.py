"""Hypothesis strategies for generated pytest suites (:class:`~tests._scopes_model.Suite`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hypothesis import strategies as st

from tests._scopes_model import (
    MODEL_ACTIONS,
    MODEL_FIXTURE,
    Action,
    FunctionFixture,
    Marker,
    Param,
    Phase,
    Suite,
    TestClass,
    TestFunction,
    TestModule,
    WiderFixture,
    WiderScope,
)

__all__ = ["Shapes", "suites"]

HOLDERS = ("value", "tuple", "dict", "dataclass", "namespace", "attribute", "deep")
"""How the torch suites' session fixture holds its model (issue 16's case 4: all but three)."""


@dataclass(frozen=True)
class Shapes:
    """Which shapes a strategy may generate (narrower strategies find one kind of bug)."""

    dynamic: bool = True
    inheritance: bool = True
    clears: bool = True
    function_fixture: bool = True
    params: bool = True
    markers: bool = True
    packages: bool = True
    holders: tuple[str, ...] = HOLDERS


markers: st.SearchStrategy[Marker] = st.sampled_from([None, None, None, 0, 1, "unset"])
scope_markers: st.SearchStrategy[Marker] = st.sampled_from([*[None] * 6, 0, 1, "unset"])
"""Class and module markers, rarer: a marker hides the baselines below it from every test."""
defaults: st.SearchStrategy[Phase] = st.sampled_from([None, None, 0, 1])


def _phase_actions(shapes: Shapes) -> st.SearchStrategy[Action]:
    choices: list[Action] = [None, None, 0, 1]
    if shapes.clears:
        choices.append("clear")
    return st.sampled_from(choices)


def _model_actions() -> st.SearchStrategy[Action]:
    return st.sampled_from([None, None, *MODEL_ACTIONS])


@st.composite
def _fixture(
    draw: st.DrawFn,
    name: str,
    scope: WiderScope,
    visible: list[str],
    backend: str,
    shapes: Shapes,
) -> WiderFixture:
    actions = _model_actions() if backend == "torch" else _phase_actions(shapes)
    setup, teardown = draw(actions), draw(actions)
    requests = draw(st.lists(st.sampled_from(visible), unique=True, max_size=2)) if visible else []
    dynamic = None
    not_requested = [name for name in visible if name not in requests]
    if shapes.dynamic and not_requested and draw(st.booleans()):
        dynamic = draw(st.sampled_from(not_requested))
    if backend == "torch" and (setup or teardown) and MODEL_FIXTURE not in (*requests, dynamic):
        requests.append(MODEL_FIXTURE)
    return WiderFixture(
        name,
        scope,
        autouse=draw(st.booleans()),
        setup=setup,
        teardown=teardown,
        requests=tuple(requests),
        dynamic=dynamic,
    )


@st.composite
def _fixtures(
    draw: st.DrawFn,
    prefix: str,
    scope: WiderScope,
    visible: list[str],
    backend: str,
    shapes: Shapes,
    most: int,
) -> tuple[WiderFixture, ...]:
    found: list[WiderFixture] = []
    for index in range(draw(st.integers(0, most))):
        seen = visible + [fixture.name for fixture in found]
        found.append(draw(_fixture(f"{prefix}_f{index}", scope, seen, backend, shapes)))
    return tuple(found)


@st.composite
def _test(
    draw: st.DrawFn,
    name: str,
    visible: list[str],
    backend: str,
    shapes: Shapes,
    model_autouse: bool,
) -> TestFunction:
    marker = draw(markers) if shapes.markers else None
    phase_fixture = None
    if marker is None and draw(st.integers(0, 5)) == 0:
        phase_fixture = draw(st.sampled_from(["train_phase", "test_phase"]))
    params: tuple[Param, ...] = ()
    if shapes.params and phase_fixture is None and draw(st.integers(0, 3)) == 0:
        params = (Param("p0", draw(markers)), Param("p1", draw(markers)))
    requests = draw(st.lists(st.sampled_from(visible), unique=True, max_size=3)) if visible else []
    if backend == "torch":
        holds_model = model_autouse or MODEL_FIXTURE in requests
        action = draw(_model_actions()) if holds_model else None
    else:
        action = draw(_phase_actions(shapes))
    return TestFunction(
        name,
        marker=marker,
        phase_fixture=phase_fixture,  # type: ignore[arg-type]
        params=params,
        requests=tuple(requests),
        action=action,
    )


def _requestable(fixtures: tuple[WiderFixture, ...]) -> list[str]:
    return [fixture.name for fixture in fixtures if not fixture.autouse]


@st.composite
def _module(
    draw: st.DrawFn,
    index: int,
    session_visible: list[str],
    session_requestable: list[str],
    backend: str,
    shapes: Shapes,
    model_autouse: bool,
) -> TestModule:
    prefix = f"m{index}"
    fixtures = draw(_fixtures(prefix, "module", session_visible, backend, shapes, 2))
    module_visible = session_visible + [fixture.name for fixture in fixtures]
    module_requestable = session_requestable + _requestable(fixtures)
    classes: list[TestClass] = []
    for class_index in range(draw(st.integers(0, 2))):
        class_prefix = f"c{index}{class_index}"
        class_fixtures = draw(_fixtures(class_prefix, "class", module_visible, backend, shapes, 2))
        base = None
        if shapes.inheritance and classes and draw(st.booleans()):
            base = draw(st.sampled_from([test_class.name for test_class in classes]))
        requestable = module_requestable + _requestable(class_fixtures)
        if base is not None:
            requestable += _requestable(
                next(test_class for test_class in classes if test_class.name == base).fixtures
            )
        tests = tuple(
            draw(_test(f"test_{class_prefix}_{test}", requestable, backend, shapes, model_autouse))
            for test in range(draw(st.integers(0 if base else 1, 3)))
        )
        classes.append(
            TestClass(
                f"Test{class_index}",
                # train_phase / test_phase beat a class or module marker (scopes.md)
                marker=draw(scope_markers) if shapes.markers else None,
                base=base,
                fixtures=class_fixtures,
                tests=tests,
            )
        )
    tests = tuple(
        draw(_test(f"test_{prefix}_{test}", module_requestable, backend, shapes, model_autouse))
        for test in range(draw(st.integers(0 if classes else 1, 3)))
    )
    return TestModule(
        f"test_{prefix}",
        marker=draw(scope_markers) if shapes.markers else None,
        fixtures=fixtures,
        classes=tuple(classes),
        tests=tests,
    )


@st.composite
def suites(draw: st.DrawFn, backend: str = "reference", shapes: Shapes = Shapes()) -> Suite:
    """A whole suite: session and package fixtures, maybe a function fixture, one to three modules.

    Each module is in the package ``pkg`` or beside it.
    """
    model_autouse = backend == "torch" and draw(st.booleans())
    base_visible = [MODEL_FIXTURE] if backend == "torch" else []
    session = draw(_fixtures("s", "session", base_visible, backend, shapes, 2))
    session_visible = base_visible + [fixture.name for fixture in session]
    session_requestable = (base_visible if not model_autouse else []) + _requestable(session)
    package: tuple[WiderFixture, ...] = ()
    if shapes.packages:
        package = draw(_fixtures("p", "package", session_visible, backend, shapes, 2))
    package_visible = session_visible + [fixture.name for fixture in package]
    package_requestable = session_requestable + _requestable(package)
    function_fixture = None
    if backend != "torch" and shapes.function_fixture and draw(st.integers(0, 3)) == 0:
        actions = _phase_actions(shapes)
        function_fixture = FunctionFixture(draw(actions), draw(actions))
    modules = []
    for index in range(draw(st.integers(1, 3))):
        in_package = shapes.packages and draw(st.booleans())
        visible = package_visible if in_package else session_visible
        requestable = package_requestable if in_package else session_requestable
        module = draw(_module(index, visible, requestable, backend, shapes, model_autouse))
        modules.append(dataclasses.replace(module, in_package=in_package))
    return Suite(
        backend,  # type: ignore[arg-type]
        default=draw(defaults),
        session_fixtures=session,
        package_fixtures=package,
        function_fixture=function_fixture,
        modules=tuple(modules),
        holder=draw(st.sampled_from(shapes.holders)) if backend == "torch" else "value",
        model_autouse=model_autouse,
    )
