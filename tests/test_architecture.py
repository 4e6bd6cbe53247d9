"""The package's layers (docs/architecture.md): no module imports from a layer above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_learning_phase"

LAYERS: dict[str, int] = {
    "_version": 0,
    "_phase": 0,
    "_roles": 0,
    "_state": 1,
    "_call_context": 1,
    "_provenance": 1,
    "backend": 2,
    "layers": 2,
    "adapters": 3,
    "adapters._current": 3,
    "adapters.reference": 3,
    "adapters.tf_keras": 3,
    "adapters.torch": 3,
    "adapters._held": 3,
    "adapters._keras_recording": 3,
    "adapters._torch_recording": 3,
    "_snapshots": 4,
    "_compare": 4,
    "_helper_calls": 4,
    "_watched_state": 4,
    "assertions": 4,
    "hookspecs": 5,
    "_auto": 5,
    "adapters._registry": 5,
    "_leaks": 5,
    "_markers": 6,
    "_options": 6,
    "_isolation": 6,
    "_audit": 6,
    "_random_state": 6,
    "_report": 6,
    "plugin": 7,
}
"""The layer of each module, as docs/architecture.md draws it."""

SAME_LAYER_IMPORTS = {
    ("layers", "backend"),
    ("adapters._current", "adapters"),
    ("adapters._current", "adapters.reference"),
    ("adapters.reference", "adapters"),
    ("adapters.tf_keras", "adapters"),
    ("adapters.torch", "adapters"),
    ("adapters.torch", "adapters._held"),
    ("adapters", "adapters.reference"),
    ("adapters", "adapters.tf_keras"),
    ("adapters", "adapters.torch"),
    ("adapters.reference", "adapters._keras_recording"),
    ("adapters.tf_keras", "adapters._keras_recording"),
    ("adapters.torch", "adapters._torch_recording"),
    ("adapters._registry", "hookspecs"),
    ("_helper_calls", "_compare"),
    ("_helper_calls", "_snapshots"),
    ("_watched_state", "_compare"),
    ("_watched_state", "_helper_calls"),
    ("_watched_state", "_snapshots"),
    ("assertions", "_compare"),
    ("assertions", "_helper_calls"),
    ("assertions", "_snapshots"),
    ("assertions", "_watched_state"),
    ("_options", "_markers"),
    ("_audit", "_markers"),
    ("_audit", "_isolation"),
    ("_audit", "_random_state"),
    ("_isolation", "_markers"),
    ("_report", "_isolation"),
    ("_audit", "_report"),
}
"""Imports within one layer that the page allows (the factories import their adapter)."""


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = [part for part in relative.parts if part != "__init__"]
    return ".".join(parts)


def _imports_of(path: Path) -> set[str]:
    """Every module of the package that ``path`` imports, at any depth of the code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == "pytest_learning_phase":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("pytest_learning_phase."):
                found.add(node.module.removeprefix("pytest_learning_phase."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_learning_phase."):
                    found.add(alias.name.removeprefix("pytest_learning_phase."))
    return found


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if _module_name(path)}


def test_every_module_has_a_layer() -> None:
    assert sorted(set(MODULES) - set(LAYERS)) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_from_lower_layers(module: str) -> None:
    upward = sorted(
        imported
        for imported in _imports_of(MODULES[module])
        if LAYERS[imported] > LAYERS[module]
        or (LAYERS[imported] == LAYERS[module] and (module, imported) not in SAME_LAYER_IMPORTS)
    )
    assert upward == []


def test_the_vocabulary_imports_nothing_of_the_package() -> None:
    assert _imports_of(MODULES["_phase"]) == set()
