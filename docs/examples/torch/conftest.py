"""The PyTorch examples: collected only when the plugin drives the ``torch`` backend.

``pytest docs/examples/torch --learning-phase-backend=torch`` runs them; the
rest of the example suite (``pytest docs/examples``) runs on the reference or
tf_keras backend and leaves this folder out, so it needs no torch.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _backends(config: pytest.Config) -> list[str]:
    """Return the backend names the run drives (``--learning-phase-backend`` or the ini)."""
    chosen = config.getoption("learning_phase_backend") or config.getini("learning_phase_backend")
    return [name.strip() for name in str(chosen or "").split(",")]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave this folder's test files out unless the ``torch`` backend is chosen."""
    if collection_path.name.startswith("test_") and "torch" not in _backends(config):
        return True
    return None
