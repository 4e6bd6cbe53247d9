"""A pytest plugin for the benchmarks: time the session from start to finish, in-process.

Loaded with ``-p timer_plugin`` (``benchmarks/`` on ``PYTHONPATH``). It writes
``{"session": s, "session_cpu": s, "items": n, "calls": n}`` to the file named
by ``BENCHMARK_TIMER_OUTPUT``, timed from ``pytest_sessionstart`` to
``pytest_sessionfinish``: interpreter start-up and plugin imports are out,
collection and every test's protocol are in. ``calls`` is how often the
generated suite's ``bench_work.work()`` ran (row g), when the suite has one.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

_start: dict[str, float] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the clocks before any other plugin's session start."""
    _start["wall"] = time.perf_counter()
    _start["cpu"] = time.process_time()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the clocks and write the timings where the harness asked."""
    wall = time.perf_counter() - _start["wall"]
    cpu = time.process_time() - _start["cpu"]
    work = sys.modules.get("bench_work")
    timings = {
        "session": wall,
        "session_cpu": cpu,
        "items": len(session.items),
        "calls": getattr(work, "calls", None),
    }
    with open(os.environ["BENCHMARK_TIMER_OUTPUT"], "w", encoding="utf-8") as file:
        json.dump(timings, file)
