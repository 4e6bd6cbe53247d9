"""Backend selection: which plugin offers which backend, and building the chosen adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import pytest

from pytest_learning_phase._phase import describe_phase, short_repr
from pytest_learning_phase.adapters import LearningPhaseAdapter
from pytest_learning_phase.hookspecs import AdapterFactory

__all__ = ["build_adapter", "offered_backends"]


def _plugin_name(config: pytest.Config, plugin: object) -> str:
    return config.pluginmanager.get_name(plugin) or repr(plugin)


def offered_backends(config: pytest.Config) -> dict[str, tuple[AdapterFactory, str]]:
    """Merge what every plugin offers through ``pytest_learning_phase_backends``.

    Returns each backend's factory and the name of the plugin that offered it.
    Two plugins offering one name is a usage error naming both.
    """
    offered: dict[str, tuple[AdapterFactory, str]] = {}
    hook = config.hook.pytest_learning_phase_backends
    for implementation in hook.get_hookimpls():  # in registration order: built-ins first
        answer = cast("Mapping[str, AdapterFactory] | None", implementation.function(config=config))
        plugin = _plugin_name(config, implementation.plugin)
        if answer is not None and not isinstance(answer, Mapping):
            raise pytest.UsageError(
                f"pytest_learning_phase_backends of {plugin} returned "
                f"{short_repr(answer, 60)}; expected a dict of backend name -> adapter factory"
            )
        for name, factory in (answer or {}).items():
            if not isinstance(name, str):
                raise pytest.UsageError(
                    f"pytest_learning_phase_backends of {plugin} offers a backend named "
                    f"{short_repr(name, 60)}; backend names are str"
                )
            if name in offered and offered[name][0] is not factory:
                raise pytest.UsageError(
                    f"learning phase backend {name!r} is offered by two plugins, "
                    f"{offered[name][1]} and {plugin}; rename one of them"
                )
            offered[name] = (factory, plugin)
    return offered


def build_adapter(config: pytest.Config, backend: str, where: str) -> LearningPhaseAdapter:
    """Build and check the adapter of ``backend``, chosen by the setting ``where``.

    Every way a third-party adapter can fail at this point (unknown name, a
    factory that raises, a missing method, ``save_state`` or ``get_phase``
    failing or answering something that is not a phase) is a usage error that
    names the backend, never an internal error.
    """
    offered = offered_backends(config)
    if backend not in offered:
        names = ", ".join(sorted(offered))
        raise pytest.UsageError(
            f"{where}: unknown learning phase backend {backend!r}; expected one of: {names}"
        )
    factory, plugin = offered[backend]
    try:
        adapter = factory()
    except pytest.UsageError as error:  # not installed: name the setting that chose it
        raise pytest.UsageError(f"{where}: {error}") from error
    except Exception as error:
        raise pytest.UsageError(
            f"{where}: the factory of learning phase backend {backend!r} (from {plugin}) "
            f"raised {type(error).__name__}: {error}"
        ) from error
    if not isinstance(adapter, LearningPhaseAdapter):
        raise pytest.UsageError(
            f"{where}: the factory of learning phase backend {backend!r} (from {plugin}) "
            f"returned {adapter!r}, which lacks the LearningPhaseAdapter methods "
            "(name, save_state, restore_state, set_phase, get_phase)"
        )
    _check_adapter(adapter, f"{where}: learning phase backend {backend!r} (from {plugin})")
    return adapter


_OPTIONAL_CALLABLES = ("phase_read_counter", "phase_use_counter", "track_reads")
"""Optional adapter methods: when an adapter has one, it must be callable."""


def _check_optional_attributes(adapter: LearningPhaseAdapter, who: str) -> None:
    """Check the adapter's name and the optional attributes it declares, once, at start-up."""
    name = getattr(adapter, "name", None)
    if not isinstance(name, str) or not name:
        raise pytest.UsageError(f"{who}: its name is {short_repr(name, 60)}; expected a str")
    for attribute in _OPTIONAL_CALLABLES:
        value = getattr(adapter, attribute, None)
        if value is not None and not callable(value):
            raise pytest.UsageError(
                f"{who}: {attribute} is {short_repr(value, 60)}; expected a method"
            )
    hint = getattr(adapter, "audit_hint", None)
    if hint is not None and not isinstance(hint, str):
        raise pytest.UsageError(
            f"{who}: audit_hint is {short_repr(hint, 60)}; expected a str or None"
        )
    if hasattr(adapter, "unset_phase"):
        unset = adapter.unset_phase
        if unset is not None and (type(unset) is not int or unset not in (0, 1)):
            raise pytest.UsageError(
                f"{who}: unset_phase is {short_repr(unset, 60)}; expected 0, 1 or None"
            )


def _check_adapter(adapter: LearningPhaseAdapter, who: str) -> None:
    """Call ``save_state`` and ``get_phase`` once, so a broken adapter fails at start-up."""
    _check_optional_attributes(adapter, who)
    try:
        state = adapter.save_state()
        phase = adapter.get_phase()
        adapter.restore_state(state)
    except Exception as error:
        raise pytest.UsageError(f"{who} failed: {type(error).__name__}: {error}") from error
    if not _is_phase(phase):
        raise pytest.UsageError(
            f"{who}: get_phase() returned {phase!r}; expected 0, 1 or None "
            f"(phase {describe_phase(0)}, {describe_phase(1)} or {describe_phase(None)})"
        )


def _is_phase(value: object) -> bool:
    try:
        return value is None or value in (0, 1)
    except Exception:  # an array's ambiguous truth value, a broken __eq__
        return False
