"""Run every scenario of ``tests/_tf_oracle.py`` on tf_keras and print the results as JSON.

Usage (from the repository root): ``python tests/differential/run_tf_keras.py``.
The test module runs it once per session, in a subprocess, so that TensorFlow
is imported once and never in the pytest process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import _tf_oracle


def main() -> None:
    """Print ``{"scenarios": {...}, "differences": {...}}`` for tf_keras on stdout."""
    results = _tf_oracle.run_all(_tf_oracle.tf_keras_framework())
    sys.stdout.write("\n" + json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
