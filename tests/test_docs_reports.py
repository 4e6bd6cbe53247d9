"""The report pages show real output: each ``console`` command runs, its ``text`` block verbatim.

Every ``$ pytest docs/...`` command of ``reference/reports.md``,
``howto/audit.md`` and ``howto/tf-keras.md`` that a ``text`` block follows is
run as a user would run it from the repository root (the directory it names
is copied to the same path under a pytester directory), and the block's lines
must appear, consecutively and exactly, in its output. Only a session's
duration (``in 2.52s``) may differ.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests._frameworks import TF_INSTALL_HINT
from tests.test_docs import DOCS, IGNORED, TF_TIMEOUT, skip_unless_installed

PAGES = ("reference/reports.md", "howto/audit.md", "howto/tf-keras.md")
EXAMPLE = re.compile(r"```console\n\$ (pytest docs/[^\n]*)\n```\n\n```text\n(.*?)```", re.DOTALL)
LAST_LINE = re.compile(r"^=+ (.*) in [0-9.]+s =+$")


def examples() -> list[tuple[str, str, list[str]]]:
    """Return (page, command, the lines of its text block) for each run shown in the pages."""
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        found += [(page, command, block.splitlines()) for command, block in EXAMPLE.findall(text)]
    return found


def pattern(line: str) -> str:
    """Return the fnmatch pattern matching ``line`` exactly (a last line: any duration)."""
    last = LAST_LINE.match(line)
    escaped = re.sub(r"([*?[])", r"[\1]", last.group(1) if last else line)
    return f"=* {escaped} in *s =*" if last else escaped


EXAMPLES = examples()


def test_the_pages_show_runs_on_each_backend() -> None:
    commands = " ".join(command for _, command, _ in EXAMPLES)
    directories = ("reference", "tf_keras", "torch", "tf_function")
    for directory in (*(f"explain/{name}" for name in directories), "examples"):
        assert directory in commands


@pytest.mark.parametrize(
    ("page", "command", "lines"), EXAMPLES, ids=[f"{p}: {c}" for p, c, _ in EXAMPLES]
)
def test_each_run_shown_gives_the_output_shown(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    page: str,
    command: str,
    lines: list[str],
) -> None:
    words = shlex.split(command)[1:]
    directory = Path(words[0])
    if "tf_keras" in command:
        skip_unless_installed("tf_keras", TF_INSTALL_HINT)
    if "torch" in command:
        skip_unless_installed("torch", "pip install torch")
    shutil.copytree(
        DOCS.parent / directory, pytester.path / directory, dirs_exist_ok=True, ignore=IGNORED
    )
    # The pages show what a user sees at a terminal; under CI (CI or BUILD_NUMBER set)
    # pytest writes each short-summary line whole instead of cutting it to the width.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    result = pytester.runpytest_subprocess(*words, timeout=TF_TIMEOUT)
    result.stdout.fnmatch_lines([pattern(line) for line in lines], consecutive=True)


def test_the_limits_the_audit_points_to_are_a_section_of_the_reports_page() -> None:
    """An audit entry says ``(see the limits of the reports)``: the reports page has them."""
    from pytest_learning_phase import _report

    source = Path(_report.__file__).read_text(encoding="utf-8")
    assert "(see the limits of the reports)" in source
    page = (DOCS / "reference" / "reports.md").read_text(encoding="utf-8")
    section = page.split("\n## Limits of the reports\n", 1)[1].split("\n## ", 1)[0]
    assert "(see the limits of the reports)" in section
    assert "### Graph mode (tf_keras)" in section
