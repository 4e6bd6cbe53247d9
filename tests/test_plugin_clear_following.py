"""The ``ClearFollowing`` protocol: when the plugin asks an adapter to follow clears.

On while a test that runs in a phase is set up (with its phase), while a wider
fixture is set up (with its scope's phase, then the test's again); off before
the test function is called, after a setup that failed, and at the end of a
session interrupted in a setup. tf_keras's own use (graph mode) is tested in
``test_plugin_tf_keras_graph.py``.
"""

from __future__ import annotations

import pytest

from tests._suite import memory_adapter_conftest

CONFTEST = (
    memory_adapter_conftest("mem")
    + """
import pytest


def follow_clears(self, phase):
    self.following = phase
    with open("follow.log", "a", encoding="utf-8") as log:
        log.write(f"{phase!r}\\n")


Adapter.following = None
Adapter.follow_clears = follow_clears


@pytest.fixture
def seen_in_setup():
    return ADAPTER.following
"""
)

SUITE = """
import pytest
from conftest import ADAPTER


@pytest.mark.learning_phase(1)
def test_marked(seen_in_setup):
    assert seen_in_setup == 1
    assert ADAPTER.following is None  # the test's own clear is its business


def test_unmarked(seen_in_setup):
    assert seen_in_setup is None


@pytest.mark.learning_phase(1)
class TestClass:
    @pytest.fixture(scope="class")
    @classmethod
    def class_seen(cls):
        return ADAPTER.following

    @pytest.mark.learning_phase(0)
    def test_wider_fixture_follows_its_scope(self, class_seen, seen_in_setup):
        assert class_seen == 1  # the class's marker
        assert seen_in_setup == 0  # the test's own again after it


@pytest.fixture
def broken():
    raise RuntimeError("setup fails")


@pytest.mark.learning_phase(1)
def test_setup_fails(broken):
    pass


def test_after_a_failed_setup(seen_in_setup):
    assert seen_in_setup is None


@pytest.fixture
def interrupts():
    pytest.exit("stop here")


@pytest.mark.learning_phase(0)
def test_interrupted(interrupts):
    pass
"""


def test_the_plugin_turns_following_on_in_setups_and_off_before_the_call(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_follow=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--learning-phase-backend=mem")
    result.assert_outcomes(passed=4, errors=1, warnings=0)
    result.stdout.fnmatch_lines(["*!! _pytest.outcomes.Exit: stop here !!*"])
    calls = (pytester.path / "follow.log").read_text(encoding="utf-8").split()
    assert calls == [
        "1", "None",  # test_marked: its setup, then off for the call
        "0", "1", "0", "None",  # TestClass: the class fixture in its class's phase in between
        "1", "None",  # test_setup_fails: off after the failed setup
        "0", "None",  # test_interrupted: off at the end of the interrupted session
    ]  # fmt: skip
