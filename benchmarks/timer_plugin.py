"""A pytest plugin for the benchmarks: time the session from start to finish, in-process.

Loaded with ``-p timer_plugin`` (``benchmarks/`` on ``PYTHONPATH``). It writes
``{"session": s, "session_cpu": s, "collection": s, "items": n}`` to the file
named by ``BENCHMARK_TIMER_OUTPUT``: from ``pytest_sessionstart`` to
``pytest_sessionfinish``, so interpreter start-up and plugin imports are out,
and collection plus every test's protocol are in. ``session_cpu`` is the
process's CPU time over the same span, which other load on the machine
disturbs far less than wall time.
"""

from __future__ import annotations

import json
import os
import time

import pytest

_times: dict[str, float] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the clock before any other plugin's session start."""
    _times["start"] = time.perf_counter()
    _times["start_cpu"] = time.process_time()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Note when collection (and the plugins' collection hooks) ended."""
    _times["collected"] = time.perf_counter()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the clock and write the timings where the harness asked."""
    end = time.perf_counter()
    end_cpu = time.process_time()
    output = os.environ["BENCHMARK_TIMER_OUTPUT"]
    timings = {
        "session": end - _times["start"],
        "session_cpu": end_cpu - _times["start_cpu"],
        "collection": _times.get("collected", end) - _times["start"],
        "items": len(session.items),
    }
    with open(output, "w", encoding="utf-8") as file:
        json.dump(timings, file)
