"""The phase is per thread; ``clear_session()`` drops every thread's stored phase."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from pytest_learning_phase import _state
from pytest_learning_phase import backend as K
from pytest_learning_phase._phase import ABSENT
from tests._threads import run_in_thread

pytestmark = pytest.mark.usefixtures("restored_backend_state")


def read_state() -> tuple[object, bool]:
    return K.learning_phase(), K.global_learning_phase_is_set()


def test_a_new_thread_starts_absent_and_unset() -> None:
    K.deprecated_internal_set_learning_phase(1)
    assert run_in_thread(_state.snapshot) == (ABSENT, False)


def test_a_phase_set_in_another_thread_is_not_seen_here() -> None:
    _state.unset()

    def set_train() -> tuple[object, bool]:
        K.deprecated_internal_set_learning_phase(1)
        return read_state()

    assert (run_in_thread(set_train), read_state()) == ((1, True), (0, False))


def test_a_phase_set_here_is_not_seen_by_another_thread() -> None:
    K.deprecated_internal_set_learning_phase(1)
    assert run_in_thread(read_state) == (0, False)


def test_a_scope_in_another_thread_does_not_touch_this_thread() -> None:
    K.deprecated_internal_set_learning_phase(0)

    def scope_train() -> tuple[object, bool]:
        with K.deprecated_internal_learning_phase_scope(1):
            return read_state()

    assert (run_in_thread(scope_train), _state.snapshot()) == ((1, True), (0, True))


class ThreadThatSetsTrain(threading.Thread):
    """A thread that sets the phase to 1, waits to be released, then reports its state."""

    def __init__(self) -> None:
        super().__init__()
        self.has_set = threading.Event()
        self.release = threading.Event()
        self.state_after_release: tuple[object, bool] | None = None

    def run(self) -> None:
        K.deprecated_internal_set_learning_phase(1)
        self.has_set.set()
        self.release.wait(timeout=10)
        self.state_after_release = read_state()

    def state_after(self, action: Callable[[], None]) -> tuple[object, bool] | None:
        self.start()
        self.has_set.wait(timeout=10)
        try:
            action()
        finally:
            self.release.set()
            self.join()
        return self.state_after_release


def test_clear_session_drops_another_threads_phase_but_keeps_its_flag() -> None:
    assert ThreadThatSetsTrain().state_after(K.clear_session) == (0, True)


def test_clear_session_unsets_the_calling_threads_flag() -> None:
    K.deprecated_internal_set_learning_phase(1)
    ThreadThatSetsTrain().state_after(K.clear_session)
    assert _state.snapshot() == (ABSENT, False)


def test_without_clear_session_another_threads_phase_survives() -> None:
    assert ThreadThatSetsTrain().state_after(lambda: None) == (1, True)


def test_clear_session_in_another_thread_drops_this_threads_phase() -> None:
    K.deprecated_internal_set_learning_phase(1)
    run_in_thread(K.clear_session)
    assert _state.snapshot() == (ABSENT, True)
