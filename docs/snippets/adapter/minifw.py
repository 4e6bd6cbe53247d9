"""A stand-in for another framework: one global training flag, unset until set."""

from __future__ import annotations

import numpy as np

_training: bool | None = None


def get_training_flag() -> bool | None:
    """Return the flag: True, False, or None when nobody has set it."""
    return _training


def set_training_flag(flag: bool | None) -> None:
    """Set the flag (None: back to unset)."""
    global _training
    _training = flag


def dropout(inputs: np.ndarray, rate: float) -> np.ndarray:
    """Drop units with probability ``rate`` while training; identity otherwise."""
    if not _training:
        return inputs
    keep = np.random.default_rng().random(inputs.shape) >= rate
    return np.where(keep, inputs / (1.0 - rate), 0.0)
