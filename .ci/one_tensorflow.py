"""Check that exactly one installed distribution provides the ``tensorflow`` package.

The ``tf`` extra is tf-keras alone, which requires the ``tensorflow``
distribution; an extra that also asked for ``tensorflow-cpu`` (or a user who
adds it) installs two builds into one ``tensorflow/`` directory, where the
larger one wins. Run by ``.ci/run`` in CI's fresh venv, which installs
``.[test,tf,torch,docs]``; exits 1, naming them, if there are two or none.
"""

from __future__ import annotations

import sys
from importlib import metadata


def tensorflow_distributions() -> list[str]:
    """Return ``name version`` of each installed distribution with files in ``tensorflow/``."""
    found = []
    for distribution in metadata.distributions():
        files = distribution.files or ()
        if any(file.parts[:1] == ("tensorflow",) for file in files):
            found.append(f"{distribution.metadata['Name']} {distribution.version}")
    return sorted(set(found))


def main() -> int:
    """Print what provides ``tensorflow``; fail unless it is exactly one distribution."""
    found = tensorflow_distributions()
    if len(found) == 1:
        print(f"one TensorFlow distribution: {found[0]}")
        return 0
    print(
        f"expected exactly one distribution providing the tensorflow package, found "
        f"{len(found)}: {', '.join(found) or 'none'}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
