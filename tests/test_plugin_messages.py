"""What a user reads in an 80-column terminal: bad requests' short summaries, the audit section."""

from __future__ import annotations

import pytest

BAD_REQUESTS = """
import pytest

@pytest.mark.learning_phase(2)
def test_y():
    pass

@pytest.mark.learning_phase()
def test_z():
    pass

@pytest.mark.parametrize("learning_phase", ["x"], indirect=True)
def test_p(learning_phase):
    pass

@pytest.mark.learning_phase(0)
def test_c(train_phase):
    pass
"""

SUMMARY_STARTS = {
    "test_bad.py::test_y": "learning_phase(2): got 2; expected 0, 1 or",
    "test_bad.py::test_z": "learning_phase(): needs at least one phase",
    "test_bad.py::test_p[x]": "learning_phase='x' (parameter): expected",
    "test_bad.py::test_c": "learning_phase disagrees: 0 (test) from",
}
"""How each bad request's short-summary line goes on after the node id: what, then the problem."""


def check_short_summary(result: pytest.RunResult) -> None:
    """Each bad request has one short-summary line: 80 columns, the node id once, the problem."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    summary = sorted(lines[start + 1 : start + 1 + len(SUMMARY_STARTS)])
    assert [line.split(" - ", 1)[0] for line in summary] == [
        f"ERROR {nodeid}" for nodeid in sorted(SUMMARY_STARTS)
    ]
    for line, (nodeid, text) in zip(summary, sorted(SUMMARY_STARTS.items()), strict=True):
        assert line.startswith(f"ERROR {nodeid} - {text}")
        assert len(line) <= 80
        assert line.count("test_bad.py") == 1


@pytest.fixture
def eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80-column terminal, not CI's (where pytest never cuts the short summary)."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


@pytest.mark.usefixtures("eighty_columns")
def test_a_bad_request_is_readable_in_the_short_summary_at_80_columns(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_bad=BAD_REQUESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=4)
    check_short_summary(result)
    # the error's own section keeps the whole message, with the node id
    result.stdout.fnmatch_lines(
        [
            "In test_bad.py::test_y: @pytest.mark.learning_phase(2) on the test function: got 2; "
            "expected 0, 1 or None (a value set_learning_phase accepts, or None for unset)"
        ]
    )


@pytest.mark.usefixtures("eighty_columns")
def test_a_bad_request_is_as_readable_from_an_xdist_worker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad=BAD_REQUESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(errors=4)
    check_short_summary(result)


def test_the_audit_section_follows_a_blank_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reads="""
        from pytest_learning_phase import backend as K

        def test_reads():
            assert K.learning_phase() == 0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--learning-phase-audit")
    lines = result.stdout.lines
    section = next(i for i, line in enumerate(lines) if "= learning phase audit =" in line)
    assert lines[section - 2 : section] == [
        "test_reads.py .                                                          [100%]",
        "",
    ]
