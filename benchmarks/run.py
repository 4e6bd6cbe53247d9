"""Measure what pytest-learning-phase costs; write docs/benchmarks.md and raw JSON.

Usage (from the repository root)::

    python benchmarks/run.py            # full run, writes docs/benchmarks.md
    python benchmarks/run.py --quick    # smoke run, writes benchmarks/results/benchmarks-quick.md

Rows: (a) per-test overhead on generated suites, (b) start-up and imports,
(c) the reference backend against tf_keras's, (d) the example suite on each
backend, (e) the reference layers against a bare numpy floor, (f) instructions
per item under callgrind (deterministic). Every variant of a
row is run once per round, in one interleaved loop, so drift hits them alike;
the page reports the median and the min-max over the rounds. Raw timings go to
``benchmarks/results/<timestamp>.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
BENCHMARKS = REPOSITORY / "benchmarks"
RESULTS = BENCHMARKS / "results"
EXAMPLES = REPOSITORY / "docs" / "examples"
PYTHON = sys.executable
TESTS_PER_MODULE = 100
PYTEST = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
PLUGIN_ON = ["-p", "learning_phase"]
"""With autoload off (``BARE_PYTEST``), the only way the plugin is loaded."""
BARE_PYTEST = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""Rows (a) and (b) run pytest alone, or pytest plus this plugin: no other installed plugin."""

Timings = list[float]


# -- Statistics and formatting. ----------------------------------------------------


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> str:
    """Return ``median (min-max)`` of ``values`` times ``scale``, rounded to ``digits``."""
    return (
        f"{median(values) * scale:.{digits}f} "
        f"({min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f})"
    )


def met(value: float, target: float) -> str:
    """Return ``yes`` when ``value`` is at most ``target``, else ``**no**``."""
    return "yes" if value <= target else "**no**"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def progress(message: str) -> None:
    """Print a progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


def run_child(
    command: Sequence[str], cwd: Path | str, environment: dict[str, str] | None = None
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


# -- (a) Per-test overhead on generated suites. ------------------------------------


@dataclass(frozen=True)
class Suite:
    """A generated suite: ``functions`` test functions written in one ``style``."""

    style: str
    functions: int

    @property
    def items(self) -> int:
        """Return how many items pytest collects from it."""
        return self.functions * (2 if self.style in {"both_phases", "parametrize"} else 1)

    def write(self, directory: Path) -> None:
        """Write the suite's modules (100 tests each) and an empty pytest.ini to ``directory``."""
        directory.mkdir(parents=True)
        # The marker is declared, so that a run with the plugin disabled does not
        # pay for an unknown-marker warning per test.
        (directory / "pytest.ini").write_text(
            "[pytest]\nmarkers =\n    learning_phase: the learning phase\n", encoding="utf-8"
        )
        decorator = {
            "decorator": "@pytest.mark.learning_phase(1)\n",
            "both_phases": "@pytest.mark.learning_phase(0, 1)\n",
            "parametrize": '@pytest.mark.parametrize("value", [0, 1])\n',
        }.get(self.style, "")
        argument = "value" if self.style == "parametrize" else ""
        header = "import pytest\n"
        if self.style == "pytestmark":
            header += "\npytestmark = pytest.mark.learning_phase(1)\n"
        for module in range(self.functions // TESTS_PER_MODULE):
            tests = "".join(
                f"\n\n{decorator}def test_{index}({argument}):\n    pass\n"
                for index in range(TESTS_PER_MODULE)
            )
            (directory / f"test_module_{module:03d}.py").write_text(
                header + tests, encoding="utf-8"
            )


@dataclass(frozen=True)
class Variant:
    """One measured run of a suite, with the plugin on or off, and its baseline."""

    name: str
    suite: Suite
    plugin: bool
    baseline: str | None
    target_percent: float | None


def overhead_variants(functions: int) -> list[Variant]:
    """Return the variants of row (a) for suites of ``functions`` tests."""
    plain = Suite("plain", functions)
    doubled = f"plain {2 * functions:,} tests, plugin disabled"
    return [
        Variant(f"plain {functions:,} tests, plugin disabled", plain, False, None, None),
        Variant("plugin enabled, no markers", plain, True, "disabled", 3.0),
        Variant(
            "every test `learning_phase(1)` via module `pytestmark`",
            Suite("pytestmark", functions),
            True,
            "disabled",
            5.0,
        ),
        Variant(
            "every test `learning_phase(1)` via module `pytestmark`, plugin disabled "
            "(pytest's own cost)",
            Suite("pytestmark", functions),
            False,
            "disabled",
            None,
        ),
        Variant(
            "every test `learning_phase(1)` via decorator",
            Suite("decorator", functions),
            True,
            "disabled",
            5.0,
        ),
        Variant(
            "every test `learning_phase(1)` via decorator, plugin disabled (pytest's own cost)",
            Suite("decorator", functions),
            False,
            "disabled",
            None,
        ),
        Variant(doubled, Suite("plain", 2 * functions), False, None, None),
        Variant(
            f"`learning_phase(0, 1)` on {functions:,} tests ({2 * functions:,} items)",
            Suite("both_phases", functions),
            True,
            "doubled",
            5.0,
        ),
        Variant(
            f"`parametrize('value', [0, 1])` on {functions:,} tests, plugin disabled",
            Suite("parametrize", functions),
            False,
            "doubled",
            None,
        ),
    ]


def run_timed_pytest(suite_directory: Path, plugin: bool, items: int) -> dict[str, float]:
    """Run pytest on a suite; return its in-process session times and its process times."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as output:
        output_path = output.name
    environment = dict(BARE_PYTEST)
    environment["BENCHMARK_TIMER_OUTPUT"] = output_path
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(BENCHMARKS), *filter(None, [environment.get("PYTHONPATH")])]
    )
    command = [*PYTEST, "-p", "timer_plugin", *(PLUGIN_ON if plugin else [])]
    completed, wall, cpu = run_child(command, suite_directory, environment)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {suite_directory}:\n{completed.stdout}")
    timings: dict[str, float] = json.loads(Path(output_path).read_text(encoding="utf-8"))
    os.unlink(output_path)
    if timings["items"] != items:
        raise RuntimeError(f"expected {items} items in {suite_directory}, got {timings['items']}")
    return {**timings, "wall": wall, "process_cpu": cpu}


def measure_overhead(functions: int, rounds: int) -> dict[str, Any]:
    """Row (a): run every variant once per round, interleaved; return raw timings."""
    variants = overhead_variants(functions)
    raw: dict[str, list[dict[str, float]]] = {variant.name: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="learning-phase-bench-") as temporary:
        directories: dict[Suite, Path] = {}
        for variant in variants:
            if variant.suite not in directories:
                directory = Path(temporary) / f"{variant.suite.style}-{variant.suite.functions}"
                variant.suite.write(directory)
                directories[variant.suite] = directory
        for round_number in range(rounds):
            # Rotate the order each round, so no variant always runs first.
            shift = round_number % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                progress(f"(a) round {round_number + 1}/{rounds}: {variant.name}")
                raw[variant.name].append(
                    run_timed_pytest(
                        directories[variant.suite], variant.plugin, variant.suite.items
                    )
                )
    return {
        "functions": functions,
        "variants": [
            {
                "name": variant.name,
                "style": variant.suite.style,
                "items": variant.suite.items,
                "plugin": variant.plugin,
                "baseline": variant.baseline,
                "target_percent": variant.target_percent,
                "runs": raw[variant.name],
            }
            for variant in variants
        ],
    }


def comparisons(
    variants: Sequence[dict[str, Any]], items: Callable[[dict[str, Any]], int]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return what rows (a) and (f) compare each variant with.

    The baselines by name (``disabled``: the plain suite; ``doubled``: the plain
    suite with as many items as a two-phase one), and, by style, each marked
    suite run with the plugin disabled.
    """
    plain_disabled = [v for v in variants if v["style"] == "plain" and not v["plugin"]]
    baselines = {
        "disabled": min(plain_disabled, key=items),
        "doubled": max(plain_disabled, key=items),
    }
    same_suite_disabled = {
        v["style"]: v
        for v in variants
        if not v["plugin"] and v["style"] in {"pytestmark", "decorator"}
    }
    return baselines, same_suite_disabled


def overhead_percents(test: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Return the overhead of each round's ``test`` over the same round's ``baseline``, in %."""
    return [(one / base - 1.0) * 100.0 for one, base in zip(test, baseline, strict=True)]


def report_overhead(results: dict[str, Any]) -> str:
    """Return the Markdown of row (a); the verdict uses the per-round CPU-time overhead."""
    variants = results["variants"]

    def per_test(variant: dict[str, Any], key: str) -> list[float]:
        return [run[key] / variant["items"] for run in variant["runs"]]

    baselines, same_suite_disabled = comparisons(variants, lambda variant: variant["items"])
    rows = []
    for variant in variants:
        cpu = per_test(variant, "session_cpu")
        baseline = baselines.get(variant["baseline"] or "")
        plugin_share = ""
        twin = same_suite_disabled.get(variant["style"])
        if variant["plugin"] and twin is not None:
            plugin_share = spread(overhead_percents(cpu, per_test(twin, "session_cpu"))) + " %"
        if baseline is None:
            per_round, fastest, target, verdict = "baseline", "", "", ""
        else:
            base_cpu = per_test(baseline, "session_cpu")
            percents = overhead_percents(cpu, base_cpu)
            per_round = spread(percents) + " %"
            fastest = f"{(min(cpu) / min(base_cpu) - 1.0) * 100.0:.1f} %"
            limit = variant["target_percent"]
            target = "" if limit is None else f"≤ {limit} %"
            verdict = "" if limit is None else met(median(percents), limit)
        rows.append(
            [
                variant["name"],
                f"{variant['items']:,}",
                spread(cpu, scale=1e6),
                spread(per_test(variant, "session"), scale=1e6),
                per_round,
                fastest,
                plugin_share,
                target,
                verdict,
            ]
        )
    header = [
        "variant",
        "items",
        "CPU µs per test",
        "wall µs per test",
        "CPU overhead, per round",
        "CPU overhead, fastest vs fastest",
        "plugin's own share: vs the same suite, plugin disabled, per round",
        "target (vs plain)",
        "met",
    ]
    return table(header, rows)


# -- (b) Start-up and imports. ----------------------------------------------------


def measure_startup(rounds: int) -> dict[str, Any]:
    """Row (b): ``pytest --co`` on an empty directory with and without the plugin."""
    variants: dict[str, list[str]] = {"plugin disabled": [], "plugin enabled": PLUGIN_ON}
    raw: dict[str, dict[str, Timings]] = {name: {"wall": [], "cpu": []} for name in variants}
    with tempfile.TemporaryDirectory(prefix="learning-phase-startup-") as temporary:
        (Path(temporary) / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        for round_number in range(rounds):
            order = list(variants.items())
            if round_number % 2:
                order.reverse()
            for name, options in order:
                command = [*PYTEST, "--co", *options]
                completed, wall, cpu = run_child(command, temporary, BARE_PYTEST)
                if completed.returncode != 5:  # 5: no tests collected
                    raise RuntimeError(f"{' '.join(command)}: exit {completed.returncode}")
                raw[name]["wall"].append(wall)
                raw[name]["cpu"].append(cpu)
    return {"runs": raw, "imports": measure_plugin_imports()}


HEAVY_MODULES = ("tensorflow", "tf_keras", "keras", "numpy")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def measure_plugin_imports() -> dict[str, Any]:
    """Import the plugin under ``-X importtime`` (pytest already imported); list heavy modules."""
    completed = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import pytest; import pytest_learning_phase.plugin"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules: list[tuple[str, int]] = []
    for line in completed.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            modules.append((match.group(4), int(match.group(2))))
    plugin_cumulative = dict(modules).get("pytest_learning_phase.plugin")
    heavy = sorted({name for name, _ in modules if name.partition(".")[0] in HEAVY_MODULES})
    return {"heavy_modules": heavy, "plugin_cumulative_us": plugin_cumulative}


def report_startup(results: dict[str, Any]) -> str:
    """Return the Markdown of row (b); the verdict uses the per-round CPU-time difference."""
    disabled = results["runs"]["plugin disabled"]
    enabled = results["runs"]["plugin enabled"]
    rows: list[list[object]] = []
    for name, runs in (("disabled", disabled), ("enabled", enabled)):
        rows.append(
            [
                f"`pytest --co` on an empty directory, plugin {name}",
                spread(runs["cpu"], 1e3),
                spread(runs["wall"], 1e3),
                "",
                "",
            ]
        )
    added_cpu = [(on - off) * 1e3 for on, off in zip(enabled["cpu"], disabled["cpu"], strict=True)]
    added_wall = [
        (on - off) * 1e3 for on, off in zip(enabled["wall"], disabled["wall"], strict=True)
    ]
    rows.append(
        [
            "added by the plugin, per round",
            spread(added_cpu),
            spread(added_wall),
            "≤ 20 ms",
            met(median(added_cpu), 20.0),
        ]
    )
    rows.append(
        [
            "added by the plugin, fastest with - fastest without",
            f"{(min(enabled['cpu']) - min(disabled['cpu'])) * 1e3:.1f}",
            f"{(min(enabled['wall']) - min(disabled['wall'])) * 1e3:.1f}",
            "≤ 20 ms",
            "",
        ]
    )
    imports = results["imports"]
    heavy = ", ".join(imports["heavy_modules"]) or "none"
    rows.append(
        [
            "`import pytest_learning_phase.plugin` after `import pytest` (`-X importtime`)",
            "",
            f"{(imports['plugin_cumulative_us'] or 0) / 1e3:.1f}",
            "",
            "",
        ]
    )
    rows.append(
        [
            "tensorflow / tf_keras / keras / numpy modules imported by the plugin",
            heavy,
            heavy,
            "none",
            "yes" if not imports["heavy_modules"] else "**no**",
        ]
    )
    return table(["measure", "CPU ms", "wall ms", "target", "met"], rows)


# -- (c) The reference backend against tf_keras's. -------------------------------


def measure_backends(repeat: int, with_tf_keras: bool) -> dict[str, Any]:
    """Row (c): ns per call of each backend's functions, one process per backend."""
    results: dict[str, Any] = {}
    for backend_name in ["reference", "tf_keras"] if with_tf_keras else ["reference"]:
        progress(f"(c) {backend_name}")
        completed = subprocess.run(
            [PYTHON, str(BENCHMARKS / "micro_backend.py"), backend_name, "--repeat", str(repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[backend_name] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


def report_backends(results: dict[str, Any]) -> str:
    """Return the Markdown of row (c); the adapter cycle is shown for scale, without a target."""
    rows = []
    for operation, reference_ns in results["reference"].items():
        target = "" if operation.startswith("adapter") else "≥ 20x"
        tf_keras_ns = results.get("tf_keras", {}).get(operation)
        if tf_keras_ns is None:
            rows.append([operation, spread(reference_ns, digits=0), "not measured", "", target, ""])
            continue
        ratio = median(tf_keras_ns) / median(reference_ns)
        rows.append(
            [
                operation,
                spread(reference_ns, digits=0),
                spread(tf_keras_ns, digits=0),
                f"{ratio:.1f}x",
                target,
                met(20.0, ratio) if target else "",
            ]
        )
    header = ["operation (phase unset)", "reference ns", "tf_keras ns", "speed-up", "target", "met"]
    return table(header, rows)


# -- (d) The example suite on each backend. ---------------------------------------


def example_tests() -> list[Path]:
    """Return the example suite's test modules (none when it is not written yet)."""
    return sorted(EXAMPLES.glob("test_*.py")) if EXAMPLES.is_dir() else []


def measure_examples(rounds: int, with_tf_keras: bool) -> dict[str, Any]:
    """Row (d): whole-process wall time of the example suite on each backend."""
    variants = {"reference": [], "tf_keras": ["--learning-phase-backend=tf_keras"]}
    if not with_tf_keras:
        del variants["tf_keras"]
    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for round_number in range(rounds):
        for name, options in variants.items():
            progress(f"(d) round {round_number + 1}/{rounds}: {name}")
            completed, wall, cpu = run_child([*PYTEST, *options], EXAMPLES)
            lines = completed.stdout.strip().splitlines()
            raw[name].append(
                {
                    "wall": wall,
                    "cpu": cpu,
                    "exit": completed.returncode,
                    "summary": lines[-1] if lines else "",
                }
            )
    return raw


def report_examples(results: dict[str, Any]) -> str:
    """Return the Markdown of row (d)."""
    rows = []
    for name, runs in results.items():
        last = runs[-1]
        rows.append(
            [
                "`pytest docs/examples`"
                + ("" if name == "reference" else " `--learning-phase-backend=tf_keras`"),
                spread([run["wall"] for run in runs], digits=2),
                spread([run["cpu"] for run in runs], digits=2),
                last["exit"],
                f"`{last['summary']}`",
            ]
        )
    header = ["command", "process wall s", "process CPU s", "exit", "pytest's summary line"]
    return table(header, rows)


# -- (e) The reference layers against a bare numpy floor. ------------------------


def layer_cases() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """Return ``{case: (layer call, numpy floor)}`` on 1M float32 values (1000 x 1000)."""
    import numpy as np

    from pytest_learning_phase import layers

    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((1000, 1000)).astype(np.float32)
    dropout = layers.Dropout(0.5, seed=0)
    batch_norm = layers.BatchNormalization()
    batch_norm(inputs, training=False)  # build the weights outside the timing
    epsilon = np.float32(batch_norm.epsilon)
    moving_mean = np.zeros(1000, dtype=np.float32)
    moving_variance = np.ones(1000, dtype=np.float32)
    floor_rng = np.random.default_rng(0)

    def dropout_floor() -> object:
        keep = floor_rng.random(inputs.shape, dtype=np.float32) >= 0.5
        return inputs * keep * np.float32(2.0)

    def normalise(mean: Any, variance: Any) -> object:
        scale = 1.0 / np.sqrt(variance + epsilon)
        return inputs * scale + (-mean * scale)

    def batch_norm_training_floor() -> object:
        return normalise(inputs.mean(axis=0), inputs.var(axis=0))

    def batch_norm_inference_floor() -> object:
        return normalise(moving_mean, moving_variance)

    return {
        "Dropout(0.5), training=True": (
            lambda: dropout(inputs, training=True),
            dropout_floor,
        ),
        "BatchNormalization, training=True": (
            lambda: batch_norm(inputs, training=True),
            batch_norm_training_floor,
        ),
        "BatchNormalization, training=False": (
            lambda: batch_norm(inputs, training=False),
            batch_norm_inference_floor,
        ),
    }


def measure_layers(rounds: int) -> dict[str, Any]:
    """Row (e): ms per call of each layer and its floor, interleaved over rounds."""
    cases = layer_cases()
    raw: dict[str, dict[str, Timings]] = {case: {"layer": [], "floor": []} for case in cases}
    calls_per_measure = 3
    for _ in range(rounds):
        for case, (layer_call, floor_call) in cases.items():
            for kind, call in (("layer", layer_call), ("floor", floor_call)):
                start = time.process_time()
                for _ in range(calls_per_measure):
                    call()
                raw[case][kind].append((time.process_time() - start) / calls_per_measure)
    return raw


def report_layers(results: dict[str, Any]) -> str:
    """Return the Markdown of row (e)."""
    rows = []
    for case, timings in results.items():
        ratios = [
            layer / floor for layer, floor in zip(timings["layer"], timings["floor"], strict=True)
        ]
        rows.append(
            [
                case,
                spread(timings["layer"], 1e3, 2),
                spread(timings["floor"], 1e3, 2),
                spread(ratios, digits=2) + "x",
                "≤ 2x",
                met(median(ratios), 2.0),
            ]
        )
    header = [
        "layer on 1M float32",
        "layer CPU ms",
        "numpy floor CPU ms",
        "layer / floor",
        "target",
        "met",
    ]
    return table(header, rows)


# -- The page. --------------------------------------------------------------------


# -- (f) Instructions per item, counted by callgrind. --------------------------------


def callgrind_instructions(directory: Path, plugin: bool) -> int:
    """Run pytest on a suite under callgrind; return the instructions the process executed."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *(PLUGIN_ON if plugin else []),
    ]
    environment = {**BARE_PYTEST, "PYTHONHASHSEED": "0"}
    completed = subprocess.run(
        command, cwd=directory, env=environment, capture_output=True, text=True, check=False
    )
    found = re.search(r"Collected : (\d+)", completed.stderr)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed in {directory}: {completed.stderr[-2000:]}")
    return int(found.group(1))


def measure_instructions(small: int, large: int) -> dict[str, Any]:
    """Row (f): instructions per item of each row-(a) variant, from two suite sizes.

    The difference between a suite of ``large`` and one of ``small`` functions
    cancels start-up and every fixed cost; callgrind's counts do not depend on
    the machine's load.
    """
    variants = []
    with tempfile.TemporaryDirectory() as temporary:
        for index, (few, many) in enumerate(
            zip(overhead_variants(small), overhead_variants(large), strict=True)
        ):
            progress(f"(f) callgrind: {few.name}")
            counts = []
            for size, variant in (("small", few), ("large", many)):
                directory = Path(temporary) / f"{index}-{size}"
                variant.suite.write(directory)
                counts.append(callgrind_instructions(directory, variant.plugin))
            variants.append(
                {
                    "name": few.name,
                    "style": few.suite.style,
                    "plugin": few.plugin,
                    "baseline": few.baseline,
                    "target_percent": few.target_percent,
                    "items": [few.suite.items, many.suite.items],
                    "instructions": counts,
                    "per_item": (counts[1] - counts[0]) / (many.suite.items - few.suite.items),
                }
            )
    return {"small": small, "large": large, "variants": variants}


def report_instructions(results: dict[str, Any]) -> str:
    """Return the Markdown of row (f)."""
    variants = results["variants"]
    baselines, same_suite_disabled = comparisons(variants, lambda variant: variant["items"][0])
    rows = []
    for variant in variants:
        baseline = baselines.get(variant["baseline"] or "")
        overhead = target = verdict = share = ""
        if baseline is None:
            overhead = "baseline"
        else:
            percent = (variant["per_item"] / baseline["per_item"] - 1.0) * 100.0
            overhead = f"{percent:.1f} %"
            limit = variant["target_percent"]
            if limit is not None:
                target, verdict = f"≤ {limit} %", met(percent, limit)
        twin = same_suite_disabled.get(variant["style"])
        if variant["plugin"] and twin is not None:
            share = f"{(variant['per_item'] / twin['per_item'] - 1.0) * 100.0:.1f} %"
        rows.append(
            [
                variant["name"],
                " → ".join(f"{items:,}" for items in variant["items"]),
                f"{variant['per_item']:,.0f}",
                overhead,
                share,
                target,
                verdict,
            ]
        )
    header = [
        "variant",
        "items (small → large suite)",
        "instructions per item",
        "overhead",
        "plugin's own share: vs the same suite, plugin disabled",
        "target (vs plain)",
        "met",
    ]
    return table(header, rows)


def versions() -> dict[str, str]:
    """Return the versions of what was measured (without importing TensorFlow)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ["pytest", "pytest-learning-phase", "numpy", "tensorflow-cpu", "tf-keras"]:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


METHOD = """\
How each row is measured:

* **CPU time first.** This machine is shared, and wall time swings with other
  processes' load; CPU time (user + system) of the measured process swings much
  less, though not nothing (caches and cores are shared too): read the ranges.
  Every row gives CPU time, and wall time beside it; verdicts use CPU time.
* **Rounds, interleaved.** Each round runs every variant of a row once, in an
  order rotated from round to round, so that drift hits all variants alike.
  Cells are *median (min-max)* over the rounds. An overhead is computed per
  round against that round's baseline, then summarised; "fastest vs fastest"
  compares the least disturbed runs.
* **(a) Per-test overhead.** Suites of trivial tests (`def test_n(): pass`, 100
  per module) are generated in a temporary directory and run with
  `python -m pytest -q -p no:cacheprovider` under
  `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`, with the plugin loaded (`-p learning_phase`)
  or not: the baseline is pytest alone, not pytest plus whatever else is
  installed (here hypothesis's plugin alone adds about 0.5 s of start-up). Time
  per test is taken *inside the pytest process* by a small plugin
  (`benchmarks/timer_plugin.py`), from `pytest_sessionstart` to
  `pytest_sessionfinish`, divided by the number of items: collection and every
  test's protocol are in, interpreter start-up and plugin imports are out (row
  b measures those). Subtracting a separately measured start-up from the
  process time would add the noise of two measurements. The suites'
  `pytest.ini` declares the `learning_phase` marker, so the marked suites also
  run with the plugin disabled: those rows are what pytest itself pays for a
  marker on every test. The verdict compares with plain tests, as the target
  asks; the column "plugin's own share" compares each marked suite with the
  same suite, plugin disabled, which is what the plugin adds to a marked test.
  The `learning_phase(0, 1)` suite is compared with
  plain tests of the same item count, plugin disabled, as the target asks; the
  marker parametrizes through pytest's own machinery, so that figure includes
  what parametrization itself costs: pytest's `parametrize` on the same shape,
  plugin disabled, is the row below it.
* **(b) Start-up.** `python -m pytest --co -q -p no:cacheprovider` on an empty
  directory (exit 5, no tests), whole process, autoload off as in (a), with and
  without `-p learning_phase`. Imports:
  `python -X importtime -c "import pytest; import pytest_learning_phase.plugin"`,
  listing any tensorflow, tf_keras, keras or numpy module imported.
* **(c) Backends.** `timeit` with a CPU-time timer, in one process per backend
  (`benchmarks/micro_backend.py`), phase unset; calls per measurement chosen by
  `timeit`'s `autorange` (≥ 0.2 s).
* **(d) Example suite.** `python -m pytest -q -p no:cacheprovider` in
  `docs/examples` with the installed plugins autoloaded, as a user runs it;
  whole process, TensorFlow's import included for tf_keras.
* **(f) Instructions per item.** The suites of row (a) again, each at two sizes
  (300 and 900 test functions), run once under `valgrind --tool=callgrind` with
  `PYTHONHASHSEED=0`; instructions per item are the difference between the two
  runs divided by the difference in items, so start-up and fixed costs cancel.
  Instruction counts do not depend on the machine's load (the same count twice,
  here), which the timings of row (a) on this shared 2-core machine do; they do
  not see cache misses, so they complement the timings rather than replace them.
* **(e) Layers.** In one process: each layer call and its numpy floor, 3 calls
  per measurement, CPU time, on a 1000 x 1000 float32 array. Floors, the
  shortest numpy for the same result: dropout is
  `x * (rng.random(x.shape, dtype=np.float32) >= 0.5) * 2`; batch normalisation
  is `x * scale + shift` with `scale = 1 / sqrt(var + eps)`,
  `shift = -mean * scale`, from the batch statistics (training) or the moving
  ones (inference), without `gamma` and `beta`.
"""


def write_page(path: Path, results: dict[str, Any], command: str) -> None:
    """Write the Markdown results page."""
    sections = [
        # Orphan until the docs' toctree lists this page; harmless once it does.
        "---",
        "orphan: true",
        "---",
        "",
        "# Benchmarks",
        "",
        "What pytest-learning-phase costs, measured by `benchmarks/run.py`. Reproduce with:",
        "",
        "```console",
        "$ python benchmarks/run.py           # full run (this page)",
        "$ python benchmarks/run.py --quick   # smoke run, about a minute",
        "```",
        "",
        f"This page: `{command}`, {results['date']}, {results['machine']}; "
        + ", ".join(f"{name} {version}" for name, version in results["versions"].items())
        + ".",
        "",
        METHOD,
    ]
    titled = [
        ("overhead", "(a) Per-test overhead", report_overhead),
        ("startup", "(b) Start-up", report_startup),
        ("backends", "(c) Reference backend against tf_keras", report_backends),
        ("examples", "(d) Example suite", report_examples),
        ("layers", "(e) Reference layers against a numpy floor", report_layers),
        ("instructions", "(f) Instructions per item (callgrind)", report_instructions),
    ]
    for key, title, render in titled:
        sections += [f"## {title}", ""]
        entry = results["rows"].get(key)
        if isinstance(entry, str):
            sections += [entry, ""]
        elif entry is not None:
            sections += [render(entry), ""]
        else:
            sections += ["Not measured in this run (see `--rows`).", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small suites, few rounds")
    parser.add_argument("--rounds", type=int, help="rounds per row (default 5, quick 2)")
    parser.add_argument("--tests", type=int, help="tests per suite in (a) (default 10000)")
    parser.add_argument(
        "--rows", default="abcdef", help="which rows to run, e.g. 'ab' (default all)"
    )
    parser.add_argument("--no-tf-keras", action="store_true", help="skip tf_keras measurements")
    parser.add_argument("--output", type=Path, help="the Markdown page to write")
    arguments = parser.parse_args(argv)
    rounds = arguments.rounds or (2 if arguments.quick else 5)
    tests = arguments.tests or (1000 if arguments.quick else 10_000)
    if tests % TESTS_PER_MODULE:
        parser.error(f"--tests must be a multiple of {TESTS_PER_MODULE}")
    output = arguments.output or (
        RESULTS / "benchmarks-quick.md" if arguments.quick else REPOSITORY / "docs/benchmarks.md"
    )
    import importlib.util

    with_tf_keras = not arguments.no_tf_keras and importlib.util.find_spec("tf_keras") is not None
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "versions": versions(),
        "rounds": rounds,
        "rows": {},
    }
    rows = results["rows"]
    if "a" in arguments.rows:
        rows["overhead"] = measure_overhead(tests, rounds)
    if "b" in arguments.rows:
        progress("(b) start-up")
        rows["startup"] = measure_startup(max(rounds * 6, 10))
    if "c" in arguments.rows:
        rows["backends"] = measure_backends(max(rounds, 5), with_tf_keras)
    if "d" in arguments.rows:
        rows["examples"] = (
            measure_examples(max(rounds - 2, 1), with_tf_keras)
            if example_tests()
            else "Skipped: `docs/examples/` has no test modules yet."
        )
    if "e" in arguments.rows:
        progress("(e) layers")
        try:
            rows["layers"] = measure_layers(max(rounds * 3, 5))
        except ImportError as error:
            rows["layers"] = (
                f"Skipped: `pytest_learning_phase.layers` cannot be imported ({error})."
            )
    if "f" in arguments.rows:
        import shutil

        rows["instructions"] = (
            measure_instructions(*((100, 300) if arguments.quick else (300, 900)))
            if shutil.which("valgrind")
            else "Skipped: valgrind is not installed (`apt-get install valgrind`)."
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw_path = RESULTS / time.strftime("%Y%m%d-%H%M%S.json", time.gmtime())
    raw_path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    given = sys.argv[1:] if argv is None else list(argv)
    write_page(output, results, " ".join(["python benchmarks/run.py", *given]))
    progress(f"wrote {output} and {raw_path}")


if __name__ == "__main__":
    main()
