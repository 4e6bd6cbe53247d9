"""Raw figures into Markdown: one table (or three) per row, and the page's results blocks.

docs/benchmarks.md is written by hand except for one block per row, between
``<!-- results X: ... -->`` and ``<!-- end results X -->``; :func:`replace_block`
rewrites it, so a run replaces the blocks of its own rows only. Verdicts use
medians: of the per-round comparisons for timed rows, of pytest-benchmark's
rounds for micro rows.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

Result = Any
"""A row's raw figures, as ``benchmarks/run.py`` measured them and stores them in JSON."""


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> str:
    """Return ``median (min-max)`` of ``values`` times ``scale``, rounded to ``digits``."""
    low, middle, high = (value * scale for value in (min(values), median(values), max(values)))
    return f"{middle:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def quartiles(stats: Mapping[str, float], scale: float, digits: int = 0) -> str:
    """Return ``median (q1-q3)`` of pytest-benchmark's stats times ``scale``."""
    low, middle, high = (stats[key] * scale for key in ("q1", "median", "q3"))
    return f"{middle:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


def met(value: float, limit: float) -> str:
    """Return ``yes`` when ``value`` is at most ``limit``, else ``**no**``."""
    return "yes" if value <= limit else "**no**"


def table(header: str, rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table whose columns ``header`` separates with ``|``.

    Columns empty in every row are left out.
    """
    names = header.split("|")
    kept = [i for i in range(len(names)) if i == 0 or any(str(row[i]) for row in rows)]
    lines = ["| " + " | ".join(names[i] for i in kept) + " |", "|---" * len(kept) + "|"]
    lines += ["| " + " | ".join(str(row[i]) for i in kept) + " |" for row in rows]
    return "\n".join(lines)


def replace_block(page: str, row: str, content: str) -> str:
    """Return ``page`` with the results block of ``row`` holding ``content``."""
    begin, end = rf"<!-- results {row}:[^\n]*-->\n", rf"<!-- end results {row} -->"
    pattern = re.compile(f"({begin}).*?({end})", re.DOTALL)
    if pattern.search(page) is None:
        raise ValueError(f"the page has no results block for row ({row})")
    return pattern.sub(lambda match: match[1] + content.strip() + "\n" + match[2], page)


# -- Generated suites: (a), (h) timed; (f), (i) counted; (g) the audit. ------------------

ROLES = ("baseline", "twin", "reference")
"""What a variant is compared with: plain tests, its own suite unplugged, the reference backend."""


def render_timed(result: Result) -> str:
    """Return the table of a timed row: CPU time per test and its comparisons, per round."""
    variants = {variant["key"]: variant for variant in result["variants"]}

    def per_test(variant: Result, key: str = "session_cpu") -> list[float]:
        return [run[key] / variant["items"] for run in variant["runs"]]

    def versus(variant: Result, role: str) -> list[float]:
        other = variants.get(variant[role] or "")
        pairs = zip(per_test(variant), per_test(other), strict=True) if other else []
        return [(one / base - 1.0) * 100.0 for one, base in pairs]

    rows = []
    for variant in variants.values():
        vs_plain, share, vs_reference = (versus(variant, role) for role in ROLES)
        cells = [variant["label"], f"{variant['items']:,}", spread(per_test(variant), 1e6)]
        cells += [spread(per_test(variant, "session"), 1e6)]
        cells += [spread(values) + " %" if values else "" for values in (vs_plain, share)]
        cells += [spread(vs_reference) + " %" if vs_reference else "", "", "", ""]
        if vs_plain:
            base = per_test(variants[variant["baseline"]])
            cells[7] = f"{(min(per_test(variant)) / min(base) - 1.0) * 100.0:.1f} %"
        else:
            cells[4] = "baseline"
        if vs_plain and variant["target"] is not None:
            cells[8:] = [f"≤ {variant['target']:g} %", met(median(vs_plain), variant["target"])]
        rows.append(cells)
    header = "variant|items|CPU µs per test|wall µs per test|vs plain, per round"
    header += "|plugin's own share, per round|vs reference backend, per round"
    return table(header + "|vs plain, fastest vs fastest|target (vs plain)|met", rows)


def render_counted(results: Result) -> str:
    """Return the table of a callgrind row: instructions per item and their comparisons."""
    variants = {variant["key"]: variant for variant in results}
    rows = []
    for variant in results:
        others = [variants.get(variant[role] or "") for role in ROLES]
        vs = [
            variant["per_item"] / other["per_item"] * 100 - 100 if other else None
            for other in others
        ]
        cells = [variant["label"], " → ".join(f"{items:,}" for items in variant["items"])]
        cells += [f"{variant['per_item']:,.0f}"] + ["" if v is None else f"{v:.1f} %" for v in vs]
        cells[3] = cells[3] or "baseline"
        targets, verdicts = [], []
        judged = (("vs plain", vs[0], "target"), ("own share", vs[1], "share_target"))
        for what, value, limit in judged:
            if value is not None and variant[limit] is not None:
                targets.append(f"≤ {variant[limit]:g} % {what}")
                verdicts.append(met(value, variant[limit]))
        rows.append([*cells, "; ".join(targets), "; ".join(verdicts)])
    header = "variant|items (small → large suite)|instructions per item|vs plain"
    return table(header + "|plugin's own share|vs reference backend|target|met", rows)


def render_audit(result: Result) -> str:
    """Return the table of row (g): the audited run against the normal one, per round."""
    normal, audited = ([run["session_cpu"] for run in v["runs"]] for v in result["variants"])
    ratios = [one / base for one, base in zip(audited, normal, strict=True)]
    labels = [variant["label"] for variant in result["variants"]]
    rows = [[labels[0], spread(normal, 1e3), "", "", "", ""], [labels[1], spread(audited, 1e3)]]
    rows[1] += [spread(ratios, digits=2) + "x", "≤ 1.2x", met(median(ratios), 1.2)]
    return table("run|session CPU ms|ratio, per round|target|met", rows)


def render_audit_counted(result: Result) -> str:
    """Return the table of row (k): the audited session's instructions against the normal one."""
    normal, audited = result["variants"]
    ratio = audited["instructions"] / normal["instructions"]
    rows = [
        [normal["label"], f"{normal['instructions']:,}", "", "", ""],
        [audited["label"], f"{audited['instructions']:,}", f"{ratio:.3f}x", "≤ 1.2x"],
    ]
    rows[1].append(met(ratio, 1.2))
    return table("run|instructions, whole session|ratio|target|met", rows)


# -- (b) start-up, (d) the example suite. --------------------------------------------------


def render_startup(result: Result) -> str:
    """Return the table of row (b); the verdict uses the per-round CPU-time difference."""
    off, on = result["runs"]["plugin disabled"], result["runs"]["plugin enabled"]
    added = {key: [(a - b) * 1e3 for a, b in zip(on[key], off[key], strict=True)] for key in off}
    heavy = ", ".join(result["heavy_modules"]) or "none"
    collect = "`pytest --co` on an empty directory, plugin"
    rows = [
        [f"{collect} disabled", spread(off["cpu"], 1e3), spread(off["wall"], 1e3), "", ""],
        [f"{collect} enabled", spread(on["cpu"], 1e3), spread(on["wall"], 1e3), "", ""],
        ["added by the plugin, per round", spread(added["cpu"]), spread(added["wall"]), "≤ 20 ms"],
        ["`import pytest_learning_phase.plugin` after `import pytest`", "", "", "", ""],
        ["heavy modules it imports (numpy, tensorflow, torch...)", heavy, "", "none"],
    ]
    rows[2].append(met(median(added["cpu"]), 20))
    rows[3][2] = f"{result['plugin_import_us'] / 1e3:.1f}"
    rows[4].append("yes" if heavy == "none" else "**no**")
    return table("measure|CPU ms|wall ms|target|met", rows)


def render_examples(result: Result) -> str:
    """Return the table of row (d)."""
    rows = []
    for name, runs in result.items():
        option = "" if name == "reference" else " `--learning-phase-backend=tf_keras`"
        wall, cpu = ([run[key] for run in runs] for key in ("wall", "cpu"))
        rows.append(
            [f"`pytest docs/examples`{option}", spread(wall, digits=2), spread(cpu, digits=2)]
        )
        rows[-1].append(f"`{runs[-1]['summary']}`")
    return table("command|process wall s|process CPU s|pytest's summary line", rows)


# -- pytest-benchmark: (c) backends, (e) layers, (h) torch. --------------------------------

OPERATIONS = {
    "learning_phase": "`learning_phase()`",
    "scope": "`deprecated_internal_learning_phase_scope(1)` enter + exit",
    "adapter_cycle": "adapter `save_state` + `set_phase(1)` + `restore_state`",
}
LAYERS = {
    "dropout_training": "Dropout(0.5), training=True",
    "batch_norm_training": "BatchNormalization, training=True",
    "batch_norm_inference": "BatchNormalization, training=False",
}
MODELS = {
    "linear": "`nn.Linear(64, 64)`",
    "sequential_10": "`nn.Sequential` of 10 (`nn.Linear(64, 64)`, `nn.ReLU()`)",
}


def render_backends(result: Result) -> str:
    """Return the table of row (c); the adapter cycle is shown for scale, without a target."""
    rows = []
    for operation, label in OPERATIONS.items():
        reference = result["reference"][f"test_reference_backend[{operation}]"]
        tf_keras = result["tf_keras"][f"test_tf_keras_backend[{operation}]"]
        ratio = tf_keras["median"] / reference["median"]
        rows.append([label, quartiles(reference, 1e9), quartiles(tf_keras, 1e9), f"{ratio:.1f}x"])
        rows[-1] += ["", ""] if operation == "adapter_cycle" else ["≥ 20x", met(20, ratio)]
    return table("operation (phase unset)|reference ns|tf_keras ns|speed-up|target|met", rows)


def render_layers(result: Result) -> str:
    """Return the table of row (e)."""
    rows = []
    for case, label in LAYERS.items():
        layer, floor = result[f"test_layer[{case}]"], result[f"test_layer_floor[{case}]"]
        ratio = layer["median"] / floor["median"]
        rows.append([label, quartiles(layer, 1e3, 2), quartiles(floor, 1e3, 2), f"{ratio:.2f}x"])
        rows[-1] += ["≤ 2x", met(ratio, 2)]
    header = "layer on 1M float32|layer CPU ms|numpy floor CPU ms|layer / floor|target|met"
    return table(header, rows)


def render_torch(result: Result) -> str:
    """Return the three tables of row (h): per-test overhead, construction, shared flags."""
    bare, wrapped = result["bare"], result["wrapped"]
    construction = []
    for model, label in MODELS.items():
        without = bare[f"test_torch_construction_without_wrapper[{model}]"]
        construction.append([label, quartiles(without, 1e6, 1)])
        for phase in ("unset", "phase_0"):
            stats = wrapped[f"test_torch_construction_with_wrapper[{model}-{phase}]"]
            ratio = stats["median"] / without["median"]
            construction[-1] += [quartiles(stats, 1e6, 1), f"{ratio:.2f}x"]
    save, flags = wrapped["test_torch_save_module_flags"], []
    for case in ("unchanged", "all_changed"):
        restore = wrapped[f"test_torch_restore_module_flags[{case}]"]
        total = (save["median"] + restore["median"]) * 1e3
        flags.append([case.replace("_", " "), quartiles(save, 1e3, 2), quartiles(restore, 1e3, 2)])
        flags[-1] += [f"{total:.2f}", "≤ 5 ms", met(total, 5)]
    construction_header = "model built|CPU µs, no wrapper|wrapper, phase unset|ratio"
    tables = [
        render_timed(result["overhead"]),
        table(construction_header + "|wrapper, phase 0|ratio", construction),
        table("flags the test changed|save ms|restore ms|save + restore ms|target|met", flags),
    ]
    return "\n\n".join(tables)
