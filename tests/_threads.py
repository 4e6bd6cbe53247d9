"""Run a function in a new thread, for tests of per-thread learning-phase state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a new thread and return its result (or raise its exception)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = function()
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
