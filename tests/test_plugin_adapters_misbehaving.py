"""Adapters that misbehave after start-up: an error of the test, naming the backend.

Issue 16, case 7: never an INTERNALERROR, never a raw traceback out of the plugin.
"""

from __future__ import annotations

import textwrap

import pytest

from tests._suite import memory_adapter_conftest

BREAKAGES = {
    "get_phase-answers-a-string": (
        "def get_phase(self):\n"
        "        if self.broken:\n"
        "            self.broken = False\n"
        "            return '1'\n"
        "        return self.phase",
        "get_phase() returned '1'; expected 0, 1 or None",
    ),
    "get_phase-answers-an-array": (
        "def get_phase(self):\n"
        "        if self.broken:\n"
        "            self.broken = False\n"
        "            import numpy\n"
        "            return numpy.array([1, 1])\n"
        "        return self.phase",
        "get_phase() returned array([1, 1]); expected 0, 1 or None",
    ),
    "get_phase-raises": (
        "def get_phase(self):\n"
        "        if self.broken:\n"
        "            self.broken = False\n"
        "            raise RuntimeError('no phase')\n"
        "        return self.phase",
        "restoring the state between tests raised RuntimeError: 'no phase'",
    ),
    "restore_state-raises": (
        "def restore_state(self, state):\n"
        "        if self.broken:\n"
        "            self.broken = False\n"
        "            raise RuntimeError('lost the state')\n"
        "        self.phase = state",
        "restoring the state between tests raised RuntimeError: 'lost the state'",
    ),
}
"""Each breaks once, at the end of the test that set ``broken``."""


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_an_adapter_that_breaks_during_a_test_is_an_error_of_that_test(
    pytester: pytest.Pytester, breakage: str
) -> None:
    method, message = BREAKAGES[breakage]
    conftest = (
        memory_adapter_conftest("toy")
        + "\n\nclass Broken(Adapter):\n    broken = False\n\n"
        + f"    {method}\n\n\nADAPTER = Broken()\n"
    )
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        textwrap.dedent(
            """
            import conftest

            def test_before():
                pass

            def test_breaks_it():
                conftest.ADAPTER.broken = True

            def test_after():
                assert not conftest.ADAPTER.broken
            """
        )
    )
    result = pytester.runpytest("-p", "no:randomly", "--learning-phase-backend=toy")
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.fnmatch_lines(
        [
            "*In test_*.py::test_breaks_it: learning phase backend toy: "
            f"*{message.replace('[', '[[]')}*"
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 3
    assert outcomes["errors"] == 1


def test_an_adapter_whose_save_state_breaks_at_a_wider_fixture_fails_that_fixture(
    pytester: pytest.Pytester,
) -> None:
    conftest = memory_adapter_conftest("toy").replace(
        "    def save_state(self):\n        return self.phase\n",
        "    def save_state(self):\n"
        "        if getattr(self, 'broken', False):\n"
        "            raise RuntimeError('cannot save')\n"
        "        return self.phase\n",
    )
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        """
        import pytest
        import conftest

        @pytest.fixture(scope="module")
        def model():
            return "model"

        def test_breaks_it():
            conftest.ADAPTER.broken = True

        def test_needs_the_fixture(model):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--learning-phase-backend=toy")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*In test_*.py::test_needs_the_fixture: learning phase backend toy: setting the "
            "fixture's scope state raised RuntimeError: 'cannot save'"
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_an_adapter_whose_header_note_is_not_text_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        memory_adapter_conftest("toy").replace(
            "    phase = None\n", "    phase = None\n    header_note = 3\n"
        )
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--learning-phase-backend=toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: learning phase backend 'toy': header_note is int 3; expected a string"]
    )
