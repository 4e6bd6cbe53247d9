"""Tell which tests changed outcome between two pytest runs, from their JUnit XML files.

Row (j) of ``docs/benchmarks.md`` runs a real suite at ``--learning-phase=0``
and at ``--learning-phase=1`` (each with ``--junitxml``) and compares the tests
whose outcome differs with what ``--learning-phase-audit`` reports::

    python benchmarks/outcomes.py phase0.xml phase1.xml

prints one line per test that differs (``<outcome a>  <outcome b>  <test>``),
then how many tests each file has, and exits 0. A test's outcome is the worst
of its entries (a teardown error after a pass is an error): ``error``,
``failed``, ``xfailed``, ``skipped``, ``passed`` (an xpassed test reads as
passed: pytest's JUnit XML does not tell them apart).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

__all__ = ["differences", "outcomes"]

_WORST_FIRST = ("error", "failed", "xfailed", "skipped", "passed")


def _entry_outcome(case: ET.Element) -> str:
    """Return the outcome of one ``<testcase>`` element."""
    for child in case:
        if child.tag in ("error", "failure"):
            return "error" if child.tag == "error" else "failed"
        if child.tag == "skipped":
            return "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def outcomes(path: str) -> dict[str, str]:
    """Map each test in the JUnit XML file ``path`` (``classname::name``) to its worst outcome."""
    found: dict[str, str] = {}
    for case in ET.parse(path).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome = _entry_outcome(case)
        earlier = found.get(test, "passed")
        found[test] = min(outcome, earlier, key=_WORST_FIRST.index)
    return found


def differences(first: dict[str, str], second: dict[str, str]) -> list[tuple[str, str, str]]:
    """List the tests whose outcome differs, as ``(outcome in first, outcome in second, test)``."""
    tests = sorted(first.keys() | second.keys())
    pairs = [(first.get(test, "absent"), second.get(test, "absent"), test) for test in tests]
    return [pair for pair in pairs if pair[0] != pair[1]]


def main(argv: list[str]) -> int:
    """Print the tests whose outcome differs between the two files named in ``argv``."""
    if len(argv) != 2:
        print("usage: python benchmarks/outcomes.py A.xml B.xml", file=sys.stderr)
        return 2
    first, second = outcomes(argv[0]), outcomes(argv[1])
    for a, b, test in differences(first, second):
        print(f"{a:8} {b:8} {test}")
    print(f"{len(first)} tests in {argv[0]}, {len(second)} in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
