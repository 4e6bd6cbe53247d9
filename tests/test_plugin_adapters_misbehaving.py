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


COUNTER = "    def phase_read_counter(self):\n        return lambda: 0\n"
MISBEHAVIOURS = {
    "hook-returns-a-list": (
        ("    return {'toy': lambda: ADAPTER}", "    return [ADAPTER]"),
        "*pytest_learning_phase_backends of *conftest.py returned [[]<*; expected a dict*",
    ),
    "hook-key-not-a-str": (
        ("    return {'toy': lambda: ADAPTER}", "    return {5: lambda: ADAPTER}"),
        "*pytest_learning_phase_backends of *conftest.py offers a backend named 5; "
        "backend names are str",
    ),
    "name-not-a-str": (
        ("    name = 'toy'\n", "    name = 5\n"),
        "*backend 'toy' (from *conftest.py): its name is 5; expected a str",
    ),
    "audit_hint-not-a-str": (
        ("    phase = None\n", "    phase = None\n    audit_hint = 42\n"),
        "*backend 'toy' (from *): audit_hint is 42; expected a str or None",
    ),
    "unset_phase-not-a-phase": (
        ("    phase = None\n", "    phase = None\n    unset_phase = 'train'\n"),
        "*backend 'toy' (from *): unset_phase is 'train'; expected 0, 1 or None",
    ),
    "phase_use_counter-not-a-method": (
        ("    phase = None\n", "    phase = None\n    phase_use_counter = 7\n" + COUNTER),
        "*backend 'toy' (from *): phase_use_counter is 7; expected a method",
    ),
    "phase_read_counter-raises": (
        (
            "    phase = None\n",
            "    phase = None\n    def phase_read_counter(self):\n"
            "        raise RuntimeError('boom')\n",
        ),
        "ERROR: learning phase backend toy: phase_read_counter() raised RuntimeError: 'boom'",
    ),
    "phase_read_counter-returns-no-function": (
        (
            "    phase = None\n",
            "    phase = None\n    def phase_read_counter(self):\n        return 5\n",
        ),
        "ERROR: learning phase backend toy: phase_read_counter() returned 5; expected a function*",
    ),
    "its-counter-raises": (
        (
            "    phase = None\n",
            "    phase = None\n    def phase_read_counter(self):\n"
            "        def count():\n            raise RuntimeError('count boom')\n"
            "        return count\n",
        ),
        "ERROR: learning phase backend toy: the counter from phase_read_counter() raised "
        "RuntimeError: 'count boom'",
    ),
    "track_reads-raises": (
        (
            "    phase = None\n",
            "    phase = None\n" + COUNTER + "    def track_reads(self, on):\n"
            "        raise RuntimeError('track boom')\n",
        ),
        "ERROR: learning phase backend toy: track_reads(True) raised RuntimeError: 'track boom'",
    ),
}
"""Each: (text of the memory adapter's conftest replaced, the one-line usage error)."""


@pytest.mark.parametrize("misbehaviour", sorted(MISBEHAVIOURS))
def test_an_adapter_with_bad_optional_parts_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, misbehaviour: str
) -> None:
    (old, new), message = MISBEHAVIOURS[misbehaviour]
    conftest = memory_adapter_conftest("toy")
    assert old in conftest
    pytester.makeconftest(conftest.replace(old, new))
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(
        "-p", "no:randomly", "--learning-phase-backend=toy", "--learning-phase-audit"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    for output in (result.stdout, result.stderr):
        output.no_fnmatch_line("*INTERNALERROR*")
        output.no_fnmatch_line("*Traceback*")


def test_an_adapter_whose_restore_fails_at_session_end_is_one_error_line_naming_it(
    pytester: pytest.Pytester,
) -> None:
    conftest = memory_adapter_conftest("toy").replace(
        "    def restore_state(self, state):\n        self.phase = state\n",
        "    def restore_state(self, state):\n"
        "        if getattr(self, 'broken', False):\n"
        "            raise RuntimeError('restore boom')\n"
        "        self.phase = state\n",
    )
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        "import pytest\n\n@pytest.fixture(scope='session', autouse=True)\n"
        "def breaks_it_last():\n    yield\n    import conftest\n"
        "    conftest.ADAPTER.broken = True\n\ndef test_nothing():\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:randomly", "--learning-phase-backend=toy")
    result.stdout.fnmatch_lines(
        [
            "ERROR learning phase backend toy: restoring the state from before the session "
            "raised RuntimeError: 'restore boom'"
        ]
    )
    for output in (result.stdout, result.stderr):
        output.no_fnmatch_line("*INTERNALERROR*")
        output.no_fnmatch_line("*Traceback*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
