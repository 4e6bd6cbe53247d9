"""The plugin's command-line options and ini settings, validated, with where each came from."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Final

import pytest

from pytest_learning_phase._auto import AUTO
from pytest_learning_phase._markers import PhaseRequest
from pytest_learning_phase._phase import Phase, describe_phase

DEFAULT_BACKEND: Final = AUTO
_PHASE_CHOICES: Final[dict[str, Phase]] = {
    "0": 0,
    "test": 0,
    "eval": 0,
    "1": 1,
    "train": 1,
    "unset": None,
}
"""The values of ``--learning-phase`` and the ini ``learning_phase``: the marker's and the ids'."""
_ALLOWED_PHASES: Final = "expected 0 (or test, eval), 1 (or train) or unset"


_INI_PHASE_TYPE: Final[object] = int | str if pytest.version_tuple >= (9, 2) else None
"""A native TOML integer (``learning_phase = 1`` in ``[tool.pytest]``) is accepted from pytest
9.2, the first to type ini values as unions; older ones read it as a string."""


def _phase_option(text: str) -> str:
    """Argparse type of ``--learning-phase``: the error lists the allowed values."""
    if text not in _PHASE_CHOICES:
        raise argparse.ArgumentTypeError(f"{_ALLOWED_PHASES}, got {text!r}")
    return text


_PHASE_HELP: Final = (
    "phase for tests that ask for none: 0 (or test, eval), 1 (or train), or unset (the default)"
)
_BACKEND_HELP: Final = (
    "backends whose phase the plugin drives: auto (the default: reference, plus tf_keras and "
    "torch if the tests imported them by the end of collection), reference, tf_keras, torch, "
    "one a plugin adds, or several separated by commas"
)
_AUDIT_HELP: Final = (
    "run every test as usual, run the tests that read the phase again in each phase, and "
    "report those whose outcome depends on it"
)


def add_options(parser: pytest.Parser) -> None:
    """Register the command-line options and their ini twins."""
    group = parser.getgroup("learning_phase", "learning phase (pytest-learning-phase)")
    group.addoption(
        "--learning-phase",
        dest="learning_phase",
        type=_phase_option,
        default=None,
        metavar="{0,1,unset}",
        help=f"{_PHASE_HELP} (ini: learning_phase)",
    )
    group.addoption(
        "--learning-phase-backend",
        dest="learning_phase_backend",
        default=None,
        metavar="NAME[,NAME...]",
        help=f"{_BACKEND_HELP} (ini: learning_phase_backend)",
    )
    group.addoption(
        "--learning-phase-audit",
        dest="learning_phase_audit",
        action="store_true",
        default=None,
        help=f"{_AUDIT_HELP} (ini: learning_phase_audit)",
    )
    parser.addini(
        "learning_phase",
        f"{_PHASE_HELP} (option: --learning-phase)",
        _INI_PHASE_TYPE,  # type: ignore[arg-type]  # pytest < 9.2 types it narrower
        default="",
    )
    parser.addini("learning_phase_backend", f"{_BACKEND_HELP} (option: --learning-phase-backend)")
    parser.addini("learning_phase_audit", f"{_AUDIT_HELP} (option: --learning-phase-audit)", "bool")


@dataclass(frozen=True)
class Settings:
    """The session's resolved settings, each with where it came from."""

    default: PhaseRequest
    backend: str
    backend_source: str
    backend_setting: str
    """The setting that chose the backend, as an error message names it."""
    audit: bool
    backends: tuple[str, ...] = ()
    """The backends to drive: ``backend`` split at commas (``tf_keras,torch``); ``auto`` alone."""

    @property
    def auto(self) -> bool:
        """Whether the suite's imports choose the backends (``auto``)."""
        return self.backends == (AUTO,)

    def header_line(
        self, version: str, backends: tuple[str, ...], why: str, notes: tuple[str, ...] = ()
    ) -> str:
        """Return the report header line: version, backends and why, default phase, audit.

        ``why`` says why these backends (the setting; for ``auto``, what the
        tests imported); ``notes`` are what the backends add (torch: what
        unset means).
        """
        label = "backend" if len(backends) == 1 else "backends"
        reasons = "; ".join((why, *notes))
        return (
            f"learning-phase: {version}, {label}: {', '.join(backends)} ({reasons}), "
            f"default phase: {describe_phase(self.default.phase)} ({self.default.source}), "
            f"audit: {'on' if self.audit else 'off'}"
        )


def _ini_location(config: pytest.Config) -> str:
    return config.inipath.name if config.inipath is not None else "the ini file"


def _default_phase(config: pytest.Config) -> PhaseRequest:
    option: str | None = config.getoption("learning_phase")
    if option is not None:
        return PhaseRequest(_PHASE_CHOICES[option], f"--learning-phase={option}")
    ini = str(config.getini("learning_phase")).strip()
    if not ini:
        return PhaseRequest(None, "default")
    if ini not in _PHASE_CHOICES:
        raise pytest.UsageError(
            f"ini option learning_phase = {ini!r} (in {_ini_location(config)}): {_ALLOWED_PHASES}"
        )
    return PhaseRequest(_PHASE_CHOICES[ini], f"ini learning_phase = {ini}")


def _backend_name(config: pytest.Config) -> tuple[str, str, str]:
    """Return the backend's name, where it came from (header) and the setting (errors)."""
    option: str | None = config.getoption("learning_phase_backend")
    if option is not None:
        return option, "--learning-phase-backend", f"--learning-phase-backend={option}"
    ini = str(config.getini("learning_phase_backend")).strip()
    if ini:
        setting = f"ini option learning_phase_backend = {ini!r} (in {_ini_location(config)})"
        return ini, "ini learning_phase_backend", setting
    return DEFAULT_BACKEND, "default", f"the default backend {DEFAULT_BACKEND}"


def _audit(config: pytest.Config) -> bool:
    option: bool | None = config.getoption("learning_phase_audit")
    if option is not None:
        return option
    try:
        return bool(config.getini("learning_phase_audit"))
    except (pytest.UsageError, ValueError) as error:  # "invalid truth value 'maybe'" (9, 8.4)
        raise pytest.UsageError(
            f"ini option learning_phase_audit (in {_ini_location(config)}): {error}; "
            "expected true or false"
        ) from None


def read_settings(config: pytest.Config) -> Settings:
    """Resolve the settings: command line over ini over default; bad values are usage errors."""
    backend, backend_source, backend_setting = _backend_name(config)
    return Settings(
        _default_phase(config),
        backend,
        backend_source,
        backend_setting,
        _audit(config),
        _split_backends(backend, backend_setting),
    )


def _split_backends(backend: str, setting: str) -> tuple[str, ...]:
    """Return the backend names in ``tf_keras,torch``; each once, none empty."""
    names = tuple(name.strip() for name in backend.split(","))
    if not all(names):
        raise pytest.UsageError(
            f"{setting}: an empty backend name; expected names separated by commas, "
            "e.g. tf_keras,torch"
        )
    if AUTO in names and len(names) > 1:
        raise pytest.UsageError(
            f"{setting}: {AUTO} stands alone; name the backends instead, e.g. reference,torch"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise pytest.UsageError(f"{setting}: backend {repeated[0]!r} is named twice; name it once")
    return names
