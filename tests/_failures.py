"""Read a pytest report the way a user does: the ``E`` lines of each failure, by test name."""

from __future__ import annotations

import re

import pytest

FAILURE_HEADER = re.compile(r"^_{3,} (test_\S+) _{3,}$")


def error_lines_by_test(result: pytest.RunResult) -> dict[str, list[str]]:
    """Return the ``E`` lines of each failure in the report, by test name (with its id)."""
    blocks: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in result.stdout.lines:
        header = FAILURE_HEADER.match(line)
        if header is not None:
            lines = blocks.setdefault(header.group(1), [])
        elif line.startswith("E "):
            lines.append(line)
        elif "short test summary info" in line:
            break
    return blocks
