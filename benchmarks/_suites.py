"""Generated test suites, run side by side: timed in-process, or counted by callgrind.

The machinery of rows (a), (f), (g), (h) and (i). A :class:`Variant` runs one
generated :class:`Suite` with the plugin disabled, or enabled with a backend or
the audit; :func:`describe` says what each variant is compared with.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
PLUGIN = ("-p", "learning_phase")  # with autoload off, the only way the plugin is loaded
OPTIONS = {
    "off": (),
    "reference": PLUGIN,
    "torch": (*PLUGIN, "--learning-phase-backend=torch"),
    "audit": (*PLUGIN, "--learning-phase-audit"),
}
"""The pytest options of each way of running a suite; ``off``: plugin disabled."""
RUNS = {
    "off": "plugin disabled",
    "reference": "plugin enabled",
    "torch": "torch backend",
    "audit": "plugin enabled, `--learning-phase-audit`",
}
BARE = {
    **os.environ,
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCHMARKS), os.environ.get("PYTHONPATH")])),
}
"""pytest alone, or pytest plus this plugin: no other installed plugin."""
TESTS_PER_MODULE = 100
STYLES = {  # style: (what the page calls it, the decorator of each test)
    "plain": ("plain tests", ""),
    "pytestmark": ("every test `learning_phase(1)` via module `pytestmark`", ""),
    "decorator": ("every test `learning_phase(1)` via decorator", "learning_phase(1)"),
    "decorator_0": ("every test `learning_phase(0)` via decorator", "learning_phase(0)"),
    "both_phases": ("`learning_phase(0, 1)` on every test", "learning_phase(0, 1)"),
    "parametrize": ("`parametrize('value', [0, 1])` on every test", 'parametrize("value", [0, 1])'),
    "audit": ("tests doing CPU work, 1 in 10 reading the phase", ""),
}
TWIN_STYLE = {"both_phases": "parametrize"}
"""The suite a marked one is compared with when the plugin is disabled: the same, or this."""
WORK_SOURCE = '''\
"""CPU work for the generated tests, and a count of the calls (read by timer_plugin)."""

ITERATIONS = {iterations}
calls = 0


def work() -> None:
    global calls
    calls += 1
    total = 0
    for number in range(ITERATIONS):
        total += number
'''


TORCH_CONFTEST = """\
import gc

import torch  # noqa: F401

# Full collections would walk torch's objects at moments that differ between
# variants; the same for all of them on average, that cost is noise here.
gc.freeze()
"""


class BenchmarkError(RuntimeError):
    """A row cannot be measured: a feature or a tool is missing, or a run failed."""


def progress(message: str) -> None:
    """Print a progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Suite:
    """``functions`` generated test functions in one style (a key of ``STYLES``).

    ``torch``: a ``conftest.py`` imports torch, as a torch user's suite does.
    ``work_iterations``: the ``audit`` style's CPU work per test.
    """

    style: str
    functions: int
    torch: bool = False
    work_iterations: int = 0

    @property
    def items(self) -> int:
        """Return how many items pytest collects from it."""
        return self.functions * (2 if self.style in {"both_phases", "parametrize"} else 1)

    @property
    def readers(self) -> int:
        """Return how many of its tests read the learning phase (one in ten, audit style)."""
        return (self.functions + 9) // 10 if self.style == "audit" else 0

    def write(self, directory: Path) -> None:
        """Write the suite's modules, a ``pytest.ini`` and its helpers to ``directory``."""
        directory.mkdir(parents=True)
        # Declared, so that runs with the plugin disabled pay no unknown-marker warning.
        ini = "[pytest]\nmarkers =\n    learning_phase: the learning phase\n"
        (directory / "pytest.ini").write_text(ini, encoding="utf-8")
        if self.torch:
            (directory / "conftest.py").write_text(TORCH_CONFTEST, encoding="utf-8")
        header = "import pytest\n"
        if self.style == "pytestmark":
            header += "\npytestmark = pytest.mark.learning_phase(1)\n"
        if self.style == "audit":
            work = WORK_SOURCE.format(iterations=self.work_iterations)
            (directory / "bench_work.py").write_text(work, encoding="utf-8")
            header += (
                "from bench_work import work\nfrom pytest_learning_phase import backend as K\n"
            )
        for first in range(0, self.functions, TESTS_PER_MODULE):
            indices = range(first, min(first + TESTS_PER_MODULE, self.functions))
            module = directory / f"test_module_{first // TESTS_PER_MODULE:03d}.py"
            module.write_text(header + "".join(map(self._test, indices)), encoding="utf-8")

    def _test(self, index: int) -> str:
        marker = STYLES[self.style][1]
        decorator = f"@pytest.mark.{marker}\n" if marker else ""
        argument = "value" if self.style == "parametrize" else ""
        body = "    pass\n"
        if self.style == "audit":
            body = "    work()\n" + ("    K.learning_phase()\n" if index % 10 == 0 else "")
        return f"\n\n{decorator}def test_{index}({argument}):\n{body}"


@dataclass(frozen=True)
class Variant:
    """One suite run one way: ``run`` is a key of ``OPTIONS``."""

    suite: Suite
    run: str = "reference"

    @property
    def key(self) -> str:
        """Return a name unique among a row's variants."""
        return f"{self.suite.style}-{self.suite.items}-{self.run}"

    @property
    def label(self) -> str:
        """Return what the page calls this variant."""
        run = RUNS[self.run]
        if self.suite.torch and self.run == "reference":
            run = "reference backend"
        return f"{STYLES[self.suite.style][0]}, {run}"

    @property
    def expected_calls(self) -> int | None:
        """Return how often an audit suite's work must run: once, readers thrice when audited."""
        if self.suite.style != "audit":
            return None
        return self.suite.items + (2 * self.suite.readers if self.run == "audit" else 0)


def describe(variant: Variant, variants: Sequence[Variant]) -> dict[str, Any]:
    """Return ``variant`` with the keys of what it is compared with, and its targets.

    ``baseline``: plain tests of the same item count, plugin disabled ("vs
    plain"); for an audited run, the same suite without the audit. ``twin``:
    the same suite (``TWIN_STYLE``) with the plugin disabled, whose difference
    is the plugin's own share. ``reference``: the same suite on the reference
    backend, for the torch backend.
    """
    suite, keys = variant.suite, {other.key for other in variants}

    def key(style: str, run: str, functions: int = suite.functions) -> str | None:
        found = Variant(Suite(style, functions, suite.torch, suite.work_iterations), run).key
        return found if found in keys and found != variant.key else None

    plugin, marked = variant.run != "off", suite.style not in {"plain", "audit"}
    audited = variant.run == "audit"
    return {
        "key": variant.key,
        "label": variant.label,
        "items": suite.items,
        "baseline": key(suite.style, "reference") if audited else key("plain", "off", suite.items),
        "twin": key(TWIN_STYLE.get(suite.style, suite.style), "off") if plugin and marked else None,
        "reference": key(suite.style, "reference") if variant.run == "torch" else None,
        "target": 3.0 if plugin and suite.style == "plain" else None,
        "share_target": 3.0 if plugin and marked else None,
    }


def run_child(
    command: Sequence[str], cwd: Path, environment: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``command``; return it, its wall seconds and its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return completed, wall, cpu


def failure(what: str, completed: subprocess.CompletedProcess[str]) -> BenchmarkError:
    """Return the error for a child run that failed, with the end of its output."""
    output = (completed.stdout + completed.stderr).strip().splitlines()
    ours = [line for line in output if not line.startswith("==")]  # not valgrind's
    tail = "\n".join("    " + line for line in ours[-15:])
    return BenchmarkError(f"{what} exited {completed.returncode}:\n{tail}")


def run_timed(variant: Variant, directory: Path) -> dict[str, float]:
    """Run pytest on a suite once; return the session's wall and CPU seconds, in-process."""
    with tempfile.TemporaryDirectory() as temporary:
        output = Path(temporary) / "timings.json"
        environment = {**BARE, "BENCHMARK_TIMER_OUTPUT": str(output)}
        command = [*PYTEST, "-p", "timer_plugin", *OPTIONS[variant.run]]
        completed, _, _ = run_child(command, directory, environment)
        if completed.returncode != 0:
            raise failure(f"{variant.label}: `pytest {' '.join(command[4:])}`", completed)
        timings: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    audited = variant.run == "audit"
    if timings["items"] != variant.suite.items:
        why = ": the audit adds items instead of re-running tests (issue 11)" if audited else ""
        items = f"{timings['items']} items, expected {variant.suite.items}"
        raise BenchmarkError(f"{variant.label}: {items}{why}")
    expected = variant.expected_calls
    if expected is not None and timings["calls"] != expected:
        raise BenchmarkError(
            f"{variant.label}: the tests ran {timings['calls']} times, expected {expected} "
            f"(every test once, and the {variant.suite.readers} that read the phase once more "
            "per phase when audited): the audit does not re-run exactly the readers (issue 11)"
        )
    return {"session": timings["session"], "session_cpu": timings["session_cpu"]}


def time_rounds(row: str, variants: Sequence[Variant], rounds: int) -> dict[str, Any]:
    """Run every variant once per round, in an order rotated each round; return them described."""
    runs: dict[str, list[dict[str, float]]] = {variant.key: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="learning-phase-bench-") as temporary:
        directories: dict[Suite, Path] = {}
        for variant in variants:
            if variant.suite not in directories:
                directories[variant.suite] = Path(temporary) / str(len(directories))
                variant.suite.write(directories[variant.suite])
        for round_number in range(rounds):
            shift = round_number % len(variants)
            for variant in [*variants[shift:], *variants[:shift]]:
                progress(f"({row}) round {round_number + 1}/{rounds}: {variant.label}")
                runs[variant.key].append(run_timed(variant, directories[variant.suite]))
    return {"variants": [{**describe(v, variants), "runs": runs[v.key]} for v in variants]}


def callgrind_instructions(variant: Variant, directory: Path) -> int:
    """Run pytest on a suite under callgrind; return the instructions the process executed."""
    callgrind = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
    command = [*callgrind, *PYTEST, *OPTIONS[variant.run]]
    environment = {**BARE, "PYTHONHASHSEED": "0"}
    completed, _, _ = run_child(command, directory, environment)
    found = re.search(r"Collected : (\d+)", completed.stderr)
    if completed.returncode != 0 or found is None:
        raise failure(f"{variant.label}, under callgrind", completed)
    return int(found.group(1))


def count_sessions(row: str, variants: Sequence[Variant]) -> list[int]:
    """Return the instructions of one whole session of each variant, runs in parallel.

    The counts do not depend on the machine's load.
    """
    with tempfile.TemporaryDirectory(prefix="learning-phase-callgrind-") as temporary:
        directories = [Path(temporary) / str(index) for index in range(len(variants))]
        for variant, directory in zip(variants, directories, strict=True):
            variant.suite.write(directory)
        progress(f"({row}) callgrind: {len(variants)} runs, {os.cpu_count()} at a time")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(callgrind_instructions, variants, directories))


def count_instructions(
    row: str, small: Sequence[Variant], large: Sequence[Variant]
) -> list[dict[str, Any]]:
    """Return instructions per item of each variant, from a small and a large suite.

    The difference between the two cancels start-up and every fixed cost.
    """
    counts = count_sessions(row, [*small, *large])
    results = []
    lows, highs = counts[: len(small)], counts[len(small) :]
    for few, many, low, high in zip(small, large, lows, highs, strict=True):
        per_item = (high - low) / (many.suite.items - few.suite.items)
        described = describe(few, small)
        items = [few.suite.items, many.suite.items]
        results.append(
            {**described, "items": items, "instructions": [low, high], "per_item": per_item}
        )
    return results
