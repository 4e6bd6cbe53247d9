"""Measure what pytest-learning-phase costs; write the results blocks of docs/benchmarks.md.

Usage, from the repository root: ``python benchmarks/run.py [--quick] [--rows abc]``.
docs/benchmarks.md says how each row is measured. Every run also writes its raw
figures to ``benchmarks/results/<timestamp>.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from _report import (
    Result,
    render_audit,
    render_audit_counted,
    render_backends,
    render_counted,
    render_examples,
    render_layers,
    render_startup,
    render_timed,
    render_torch,
    replace_block,
)
from _suites import (
    BARE,
    OPTIONS,
    PLUGIN,
    PYTEST,
    WORK_SOURCE,
    BenchmarkError,
    Suite,
    Variant,
    count_instructions,
    count_sessions,
    describe,
    failure,
    progress,
    run_child,
    time_rounds,
)

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = (
    *("pytest", "pytest-learning-phase", "pytest-benchmark", "numpy"),
    *("tensorflow", "tensorflow-cpu", "tf-keras", "torch"),
)
HEAVY_MODULES = {"tensorflow", "tf_keras", "keras", "numpy", "torch"}


@dataclass(frozen=True)
class Settings:
    """How big a run is."""

    quick: bool
    rounds: int  # of each timed row
    tests: int  # test functions per generated suite of rows (a) and (h)
    audit_tests: int  # of row (g)
    callgrind_sizes: tuple[int, int]  # test functions of the small and large suites


def require(module: str, why: str) -> None:
    """Fail the row, saying ``why``, unless ``module`` can be imported."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise BenchmarkError(f"cannot import {module}: {why}")


def require_torch_backend() -> None:
    """Fail the row unless torch and the plugin's torch backend are there."""
    require("torch", 'install torch (pip install -e ".[torch]")')
    require("pytest_learning_phase.adapters.torch", "the torch backend is not written yet")
    with tempfile.TemporaryDirectory() as empty:  # is the backend offered to pytest?
        command = [*PYTEST, "--co", *OPTIONS["torch"]]
        completed, _, _ = run_child(command, Path(empty), BARE)
        if completed.returncode != 5:  # 5: no tests collected, and no usage error
            raise failure("pytest --learning-phase-backend=torch", completed)


def require_valgrind() -> None:
    """Fail the row unless valgrind is installed."""
    if shutil.which("valgrind") is None:
        raise BenchmarkError("valgrind is not installed (apt-get install valgrind)")


# -- (a), (f), (g), (h), (i): generated suites. -------------------------------------


def overhead_variants(functions: int, quick: bool = False) -> list[Variant]:
    """Return the variants of rows (a) and (f); ``quick``: the first and the decorated ones."""
    plain, decorated = Suite("plain", functions), Suite("decorator", functions)
    if quick:
        return [
            Variant(plain, "off"),
            Variant(plain),
            Variant(decorated),
            Variant(decorated, "off"),
        ]
    return [
        Variant(plain, "off"),
        Variant(plain),
        Variant(Suite("pytestmark", functions)),
        Variant(Suite("pytestmark", functions), "off"),
        Variant(decorated),
        Variant(decorated, "off"),
        Variant(Suite("plain", 2 * functions), "off"),
        Variant(Suite("both_phases", functions)),
        Variant(Suite("parametrize", functions), "off"),
    ]


def torch_variants(functions: int, with_reference: bool = True) -> list[Variant]:
    """Return the variants of rows (h) and (i): suites whose conftest imports torch."""
    plain, marked = Suite("plain", functions, torch=True), Suite("decorator_0", functions, True)
    runs = ("off", "reference", "torch") if with_reference else ("off", "torch")
    return [Variant(suite, run) for suite in (plain, marked) for run in runs]


def calibrate_work(seconds: float) -> int:
    """Return how many iterations of ``WORK_SOURCE``'s loop take ``seconds`` of CPU here."""
    probe, namespace = 100_000, dict[str, Any]()
    exec(WORK_SOURCE.format(iterations=probe), namespace)
    timings = []
    for _ in range(7):
        start = time.process_time()
        namespace["work"]()
        timings.append(time.process_time() - start)
    return max(1, round(probe * seconds / min(timings)))


def measure_overhead(settings: Settings) -> Result:
    """Row (a): the per-test overhead of the plugin on generated suites."""
    return time_rounds("a", overhead_variants(settings.tests), settings.rounds)


def measure_audit(settings: Settings) -> Result:
    """Row (g): the same suite with and without ``--learning-phase-audit``."""
    suite = Suite("audit", settings.audit_tests, work_iterations=calibrate_work(0.3e-3))
    return time_rounds("g", [Variant(suite), Variant(suite, "audit")], settings.rounds)


AUDIT_WORK_ITERATIONS = 10_000
"""Row (k)'s work per test: a fixed loop, so that its counts repeat on any machine."""


def measure_audit_instructions(settings: Settings) -> Result:
    """Row (k): row (g)'s suite, whole sessions counted by callgrind, audit against normal."""
    require_valgrind()
    suite = Suite("audit", settings.audit_tests, work_iterations=AUDIT_WORK_ITERATIONS)
    variants = [Variant(suite), Variant(suite, "audit")]
    counts = count_sessions("k", variants)
    described = [describe(variant, variants) for variant in variants]
    return {
        "work_iterations": AUDIT_WORK_ITERATIONS,
        "variants": [{**v, "instructions": c} for v, c in zip(described, counts, strict=True)],
    }


def measure_instructions(
    row: str, variants: Callable[[int], list[Variant]], settings: Settings
) -> Result:
    """Rows (f) and (i): instructions per item, from two suite sizes."""
    require_valgrind()
    small, large = settings.callgrind_sizes
    return count_instructions(row, variants(small), variants(large))


def measure_overhead_instructions(settings: Settings) -> Result:
    """Row (f): instructions per item of the variants of row (a) (four with ``--quick``)."""
    return measure_instructions("f", lambda n: overhead_variants(n, settings.quick), settings)


def measure_torch_instructions(settings: Settings) -> Result:
    """Row (i): instructions per item with the torch backend."""
    require_torch_backend()
    return measure_instructions("i", lambda n: torch_variants(n, with_reference=False), settings)


# -- (b) Start-up. -------------------------------------------------------------------


def measure_startup(settings: Settings) -> Result:
    """Row (b): ``pytest --co`` on an empty directory with and without the plugin; imports."""
    options = {"plugin disabled": (), "plugin enabled": PLUGIN}
    runs: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in options}
    with tempfile.TemporaryDirectory(prefix="learning-phase-startup-") as temporary:
        (Path(temporary) / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        for round_number in range(max(settings.rounds * 6, 10)):
            for name, extra in list(options.items())[:: -1 if round_number % 2 else 1]:
                completed, wall, cpu = run_child([*PYTEST, "--co", *extra], Path(temporary), BARE)
                if completed.returncode != 5:  # 5: no tests collected
                    raise failure(f"pytest --co, {name}", completed)
                runs[name]["wall"].append(wall)
                runs[name]["cpu"].append(cpu)
    code = "import pytest; import pytest_learning_phase.plugin"
    command = [sys.executable, "-X", "importtime", "-c", code]
    imported = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    found = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", imported, re.MULTILINE)
    heavy = sorted({name for _, name in found if name.partition(".")[0] in HEAVY_MODULES})
    plugin_us = {name: int(us) for us, name in found}["pytest_learning_phase.plugin"]
    return {"runs": runs, "heavy_modules": heavy, "plugin_import_us": plugin_us}


# -- (c), (e), (h): pytest-benchmark, benchmarks/test_micro.py. ------------------------


def run_micro(tests: Sequence[str], settings: Settings) -> dict[str, dict[str, float]]:
    """Run tests of test_micro.py in one pytest process; return their stats by test name."""
    with tempfile.TemporaryDirectory() as temporary:
        output = Path(temporary) / "benchmark.json"
        selection = [f"benchmarks/test_micro.py::{test}" for test in tests]
        timing = ["--benchmark-timer=time.process_time", "--benchmark-min-time=0.0005"]
        timing += [
            f"--benchmark-max-time={0.2 if settings.quick else 2}",
            f"--benchmark-json={output}",
            f"--benchmark-storage={temporary}",  # else an empty .benchmarks/ in the repository
        ]
        # With the plugin disabled, the repository's ini option learning_phase_backend is
        # unknown: not an error here (no --strict-config from addopts, no config warning).
        unknown_ini = ["-o", "addopts=", "-W", "ignore::pytest.PytestConfigWarning"]
        command = [*PYTEST, "-p", "no:learning_phase", "-p", "no:randomly", *unknown_ini]
        command += [*selection, *timing]
        progress(f"pytest-benchmark: {' '.join(tests)}")
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        completed, _, _ = run_child(command, REPOSITORY, environment)
        if completed.returncode != 0:
            raise failure(f"pytest {' '.join(selection)}", completed)
        report = json.loads(output.read_text(encoding="utf-8"))
    return {benchmark["name"]: benchmark["stats"] for benchmark in report["benchmarks"]}


def measure_backends(settings: Settings) -> Result:
    """Row (c): each backend's operations, one process per backend."""
    require("tf_keras", 'row (c) compares with tf_keras (pip install -e ".[tf]")')
    return {
        name: run_micro([f"test_{name}_backend"], settings) for name in ("reference", "tf_keras")
    }


def measure_layers(settings: Settings) -> Result:
    """Row (e): the reference layers and their numpy floors, in one process."""
    return run_micro(["test_layer", "test_layer_floor"], settings)


def measure_torch(settings: Settings) -> Result:
    """Row (h): the torch backend's per-test overhead, module construction, shared flags."""
    require_torch_backend()
    flags = ["test_torch_save_module_flags", "test_torch_restore_module_flags"]
    return {
        "overhead": time_rounds("h", torch_variants(settings.tests), settings.rounds),
        "bare": run_micro(["test_torch_construction_without_wrapper"], settings),
        "wrapped": run_micro(["test_torch_construction_with_wrapper", *flags], settings),
    }


# -- (d) The example suite. -----------------------------------------------------------


def measure_examples(settings: Settings) -> Result:
    """Row (d): whole-process times of the example suite on each backend, as a user runs it."""
    require("tf_keras", 'row (d) runs the examples on tf_keras (pip install -e ".[tf]")')
    options = {"reference": [], "tf_keras": ["--learning-phase-backend=tf_keras"]}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in options}
    for round_number in range(max(settings.rounds - 2, 1)):
        for name, extra in options.items():
            progress(f"(d) round {round_number + 1}: {name}")
            completed, wall, cpu = run_child([*PYTEST, *extra], REPOSITORY / "docs" / "examples")
            if completed.returncode != 0:
                raise failure(f"pytest docs/examples {' '.join(extra)}", completed)
            summary = completed.stdout.strip().splitlines()[-1]
            runs[name].append({"wall": wall, "cpu": cpu, "summary": summary})
    return runs


# -- The rows, the run, the page. -------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of the page: how to measure it, and how to show what was measured."""

    title: str
    measure: Callable[[Settings], Result]
    render: Callable[[Result], str]


ROWS = {
    "a": Row("per-test overhead", measure_overhead, render_timed),
    "b": Row("start-up", measure_startup, render_startup),
    "c": Row("reference backend against tf_keras", measure_backends, render_backends),
    "d": Row("example suite", measure_examples, render_examples),
    "e": Row("layers against numpy", measure_layers, render_layers),
    "f": Row("instructions per item", measure_overhead_instructions, render_counted),
    "g": Row("the audit", measure_audit, render_audit),
    "h": Row("the torch backend", measure_torch, render_torch),
    "i": Row("instructions per item, torch backend", measure_torch_instructions, render_counted),
    "k": Row("the audit, instructions", measure_audit_instructions, render_audit_counted),
}
QUICK_ROWS = "abcdefgh"  # (i), (k) only when asked: the slowest callgrind rows


def provenance(command: str, quick: bool) -> str:
    """Return the line that says which run a results block came from."""
    installed = []
    for package in PACKAGES:
        try:
            installed.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"
    installed.insert(0, f"Python {platform.python_version()}")
    describe = ["git", "describe", "--always", "--dirty=+uncommitted changes"]
    commit = subprocess.run(describe, cwd=REPOSITORY, capture_output=True, text=True).stdout
    line = f"*`{command}`, {date}, commit {commit.strip() or 'unknown'}; {machine}; "
    line += f"{', '.join(installed)}.*"
    smoke = "**Smoke run (`--quick`): small suites, few rounds; not the project's figures.** "
    return smoke + line if quick else line


def parse_arguments(argv: Sequence[str] | None) -> tuple[str, Path, Settings]:
    """Return the rows asked for, the page to write, and the settings."""
    rows_help = "rows:\n" + "\n".join(f"  ({key}) {row.title}" for key, row in ROWS.items())
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=rows_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small suites, few rounds"
    )
    parser.add_argument(
        "--rows", help=f"rows to run (default {''.join(ROWS)}; with --quick {QUICK_ROWS})"
    )
    parser.add_argument("--rounds", type=int, help="rounds of each timed row (default 5, quick 2)")
    parser.add_argument(
        "--tests", type=int, help="tests per suite in (a), (h) (default 10000, quick 1000)"
    )
    parser.add_argument(
        "--page",
        type=Path,
        default=REPOSITORY / "docs" / "benchmarks.md",
        help="the page to write (%(default)s)",
    )
    arguments = parser.parse_args(argv)
    quick = arguments.quick
    rows = arguments.rows or (QUICK_ROWS if quick else "".join(ROWS))
    if unknown := "".join(sorted(set(rows) - set(ROWS))):
        parser.error(f"unknown rows {unknown}: expected letters of {''.join(ROWS)}")
    settings = Settings(
        quick=quick,
        rounds=arguments.rounds or (2 if quick else 5),
        tests=arguments.tests or (1000 if quick else 10_000),
        audit_tests=1000 if quick else 2000,
        callgrind_sizes=(50, 150) if quick else (300, 900),
    )
    return rows, arguments.page, settings


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the rows asked for; write their blocks and the raw JSON; 1 if a row failed."""
    rows, page, settings = parse_arguments(argv)
    command = " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    for letter in rows:  # a page without the row's block fails now, not after the run
        replace_block(page.read_text(encoding="utf-8"), letter, "")
    results: dict[str, Result] = {}
    failures: dict[str, str] = {}
    for letter in rows:
        progress(f"({letter}) {ROWS[letter].title}")
        try:
            results[letter] = ROWS[letter].measure(settings)
        except BenchmarkError as error:
            failures[letter] = str(error)
            progress(f"({letter}) FAILED: {error}")
    raw = REPOSITORY / "benchmarks" / "results" / time.strftime("%Y%m%d-%H%M%S.json", time.gmtime())
    raw.parent.mkdir(exist_ok=True)
    raw.write_text(json.dumps({"command": command, "rows": results}, indent=1), encoding="utf-8")
    text, line = page.read_text(encoding="utf-8"), provenance(command, settings.quick)
    for letter, result in results.items():
        text = replace_block(text, letter, line + "\n\n" + ROWS[letter].render(result))
    page.write_text(text, encoding="utf-8")
    progress(f"wrote rows {''.join(results) or 'none'} to {page}; raw figures in {raw}")
    for letter, message in failures.items():
        progress(f"row ({letter}) FAILED: {message}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
