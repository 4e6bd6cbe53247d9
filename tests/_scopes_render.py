"""Write a :class:`~tests._scopes_model.Suite` as real files: conftest, modules, a recorder.

Every fixture and test of the generated suite appends what it saw (the phase,
and the held model's flags once there is one) to a JSON-lines log, with the
node it ran for; the conftest adds when each test starts and finishes and
every ``LearningPhaseLeakWarning`` pytest recorded, by test.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests._scopes_model import (
    MODEL_FIXTURE,
    PACKAGE,
    Action,
    Event,
    Marker,
    Suite,
    TestClass,
    TestFunction,
    TestModule,
    WiderFixture,
)

__all__ = ["read_events", "render"]

RECORDER = '''
"""What the generated suite saw, appended to {log!r}."""
import json
import warnings

{backend}

HELD = []


def record(event, name, node):
    entry = {{"event": event, "name": name, "node": node, "phase": phase()}}
    if HELD:
        entry["flags"] = [HELD[0].training, HELD[0][0].training, HELD[0][1].training]
    with open({log!r}, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\\n")


def act(action):
    if action == "clear":
        K.clear_session()
    elif action in (0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            K.set_learning_phase(action)
    elif action == "eval":
        HELD[0].eval()
    elif action == "train":
        HELD[0].train()
    elif action == "sub_eval":
        HELD[0][1].eval()
'''

REFERENCE_BACKEND = """
from pytest_learning_phase import backend as K


def phase():
    return int(K.learning_phase()) if K.global_learning_phase_is_set() else None
"""

TORCH_BACKEND = '''
import dataclasses
import types

from torch import nn


def phase():
    """The phase as torch reads it: the mode a module built now starts in."""
    return 1 if nn.Linear(1, 1).training else 0


@dataclasses.dataclass
class Bundle:
    model: object
    tokenizer: str = "tokenizer"


class Holder:
    def __init__(self, model):
        self.model = model


HOLDERS = {
    "value": lambda model: model,
    "tuple": lambda model: (model, "tokenizer"),
    "dict": lambda model: {"model": model, "size": 2},
    "dataclass": Bundle,
    "namespace": lambda model: types.SimpleNamespace(model=model),
    "attribute": Holder,
    "deep": lambda model: [[[[model]]]],
}


def build(holder):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    HELD.append(model)
    return HOLDERS[holder](model)
'''

CONFTEST_HOOKS = """
import pytest
from scopes_recorder import HELD, act, build, record


def pytest_runtest_logstart(nodeid, location):
    record("start", nodeid, nodeid)


def pytest_runtest_logfinish(nodeid, location):
    record("finish", nodeid, nodeid)


def pytest_warning_recorded(warning_message, when, nodeid, location):
    if warning_message.category.__name__ == "LearningPhaseLeakWarning":
        record("leak", nodeid, nodeid)
"""


PACKAGE_CONFTEST = """
import pytest
from scopes_recorder import act, record
"""


def render(suite: Suite, directory: Path, log: Path) -> dict[str, str]:
    """Write ``suite`` into ``directory``; return its files' sources by name (for messages)."""
    backend = TORCH_BACKEND if suite.backend == "torch" else REFERENCE_BACKEND
    recorder = RECORDER.format(log=str(log), backend=backend)
    if suite.backend != "torch":
        recorder += "\n\ndef build(holder):\n    raise AssertionError('no model here')\n"
    files = {"scopes_recorder.py": recorder, "conftest.py": _conftest(suite)}
    if any(module.in_package for module in suite.modules):
        files[f"{PACKAGE}/__init__.py"] = ""
        files[f"{PACKAGE}/conftest.py"] = "\n".join(
            [
                PACKAGE_CONFTEST,
                *(_fixture(fixture, indent="") for fixture in suite.package_fixtures),
            ]
        )
    for module in suite.modules:
        files[module.path] = _module(module)
    for name, source in files.items():
        path = directory / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return files


def read_events(log: Path) -> list[Event]:
    """The events a run recorded, in order (none if it recorded nothing)."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _conftest(suite: Suite) -> str:
    parts = [CONFTEST_HOOKS]
    if suite.backend == "torch":
        parts.append(
            f"""
@pytest.fixture(scope="session"{", autouse=True" if suite.model_autouse else ""})
def {MODEL_FIXTURE}(request):
    record("setup", "{MODEL_FIXTURE}", request.node.nodeid)
    held = build({suite.holder!r})
    record("ready", "{MODEL_FIXTURE}", request.node.nodeid)
    yield held
    record("teardown", "{MODEL_FIXTURE}", request.node.nodeid)
"""
        )
    parts.extend(_fixture(fixture, indent="") for fixture in suite.session_fixtures)
    if suite.function_fixture is not None:
        parts.append(
            f"""
@pytest.fixture(autouse=True)
def each_test(request):
    record("fsetup", request.node.nodeid, request.node.nodeid)
    act({suite.function_fixture.setup!r})
    yield
    record("fteardown", request.node.nodeid, request.node.nodeid)
    act({suite.function_fixture.teardown!r})
"""
        )
    return "\n".join(parts)


def _marker(marker: Marker) -> str:
    return f"pytest.mark.learning_phase({None if marker == 'unset' else marker!r})"


def _fixture(fixture: WiderFixture, indent: str) -> str:
    arguments = (["cls"] if indent else []) + ["request", *fixture.requests]
    options = f'scope="{fixture.scope}"' + (", autouse=True" if fixture.autouse else "")
    lines = [
        f"@pytest.fixture({options})",
        *(["@classmethod"] if indent else []),
        f"def {fixture.name}({', '.join(arguments)}):",
        f'    record("setup", "{fixture.name}", request.node.nodeid)',
    ]
    if fixture.dynamic is not None:
        lines += [
            f'    request.getfixturevalue("{fixture.dynamic}")',
            f'    record("after", "{fixture.name}", request.node.nodeid)',
        ]
    lines += [
        *_act(fixture.setup),
        f'    record("ready", "{fixture.name}", request.node.nodeid)',
        "    yield",
        f'    record("teardown", "{fixture.name}", request.node.nodeid)',
        *_act(fixture.teardown),
    ]
    return "\n" + "\n".join(indent + line for line in lines) + "\n"


def _act(action: Action) -> list[str]:
    return [] if action is None else [f"    act({action!r})"]


def _test(test: TestFunction, indent: str) -> str:
    lines = []
    if test.marker is not None:
        lines.append(f"@{_marker(test.marker)}")
    arguments = (["self"] if indent else []) + ["request"]
    if test.params:
        params = ", ".join(
            f"pytest.param({index}, id={param.id!r}"
            + (f", marks={_marker(param.marker)}" if param.marker is not None else "")
            + ")"
            for index, param in enumerate(test.params)
        )
        lines.append(f'@pytest.mark.parametrize("case", [{params}])')
        arguments.append("case")
    if test.phase_fixture is not None:
        arguments.append(test.phase_fixture)
    arguments += test.requests
    lines += [
        f"def {test.name}({', '.join(arguments)}):",
        '    record("call", request.node.nodeid, request.node.nodeid)',
        *_act(test.action),
    ]
    return "\n" + "\n".join(indent + line for line in lines) + "\n"


def _class(test_class: TestClass) -> str:
    lines = []
    if test_class.marker is not None:
        lines.append(f"@{_marker(test_class.marker)}")
    base = f"({test_class.base})" if test_class.base else ""
    lines.append(f"class {test_class.name}{base}:")
    body = [_fixture(fixture, "    ") for fixture in test_class.fixtures]
    body += [_test(test, "    ") for test in test_class.tests]
    if not body:
        body = ["    pass\n"]
    return "\n" + "\n".join(lines) + "\n" + "".join(body)


def _module(module: TestModule) -> str:
    parts = ["import pytest", "from scopes_recorder import act, record\n"]
    if module.marker is not None:
        parts.append(f"pytestmark = [{_marker(module.marker)}]\n")
    parts.extend(_fixture(fixture, "") for fixture in module.fixtures)
    parts.extend(_test(test, "") for test in module.tests)
    parts.extend(_class(test_class) for test_class in module.classes)
    return "\n".join(parts)
