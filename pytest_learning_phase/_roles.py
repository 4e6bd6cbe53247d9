"""This process's role under pytest-xdist: a worker, the controller, or neither."""

from __future__ import annotations

import pytest

__all__ = ["is_xdist_controller", "is_xdist_worker"]


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (it runs tests and sends their reports)."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process is xdist's controller (it runs no test; workers do)."""
    return config.pluginmanager.has_plugin("dsession")
