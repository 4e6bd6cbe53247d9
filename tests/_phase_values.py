"""The test values shared by the unit tests and the differential tests against tf_keras.

Every value a unit test of the reference backend or layers pins comes from
here, and ``tests/_tf_oracle.py`` runs the same value on the real tf_keras 2.21
(``tests/test_differential_tf_keras.py``): so what the unit tests pin is also
what tf_keras does, or a deliberate difference that is pinned on both sides.

Tables map a label (the test id, also the scenario's name) to a value. A
:class:`Rejected` row is a value the reference refuses, with the exact message
the unit tests pin and, when tf_keras does something else with it, what
(``docs/semantics.md`` lists those differences and why).

Importing this module imports numpy, never TensorFlow (the subprocess that runs
tf_keras imports it too).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import numpy as np


class Mode(enum.IntEnum):
    """A user's own phase enum: its members equal to 0 and 1 are phases, 2 is not."""

    TEST = 0
    TRAIN = 1
    OTHER = 2


@dataclass(frozen=True)
class Rejected:
    """A value the reference refuses, its exact message, and what tf_keras does instead.

    ``tf_keras`` is ``None`` when tf_keras raises the same exception with the
    same message (checked by a differential scenario); otherwise it is the
    deliberate difference, pinned by the differential tests: the name of the
    exception tf_keras raises (its message differs), or ``"returns"`` when
    tf_keras accepts the value.
    """

    value: Any
    message: str
    tf_keras: str | None = None


def same_as_tf_keras(table: dict[str, Rejected]) -> dict[str, Rejected]:
    """Return the rows of ``table`` on which tf_keras raises the same error."""
    return {label: row for label, row in table.items() if row.tf_keras is None}


def different_from_tf_keras(table: dict[str, Rejected]) -> dict[str, Rejected]:
    """Return the rows of ``table`` that are deliberate differences from tf_keras."""
    return {label: row for label, row in table.items() if row.tf_keras is not None}


# -- phases: what set_learning_phase and the scopes accept ----------------------------------

ACCEPTED_PHASES: Final[dict[str, Any]] = {
    "int-0": 0,
    "int-1": 1,
    "True": True,
    "False": False,
    "float-0.0": 0.0,
    "float-1.0": 1.0,
    "float-minus-0.0": -0.0,
    "np.int64-1": np.int64(1),
    "np.int32-0": np.int32(0),
    "np.uint8-1": np.uint8(1),
    "np.bool-True": np.bool_(True),
    "np.bool-False": np.bool_(False),
    "np.float32-1.0": np.float32(1.0),
    "np.float64-0.0": np.float64(0.0),
    "Fraction-1": Fraction(1),
    "Fraction-0": Fraction(0),
    "Decimal-1": Decimal(1),
    "Decimal-0.0": Decimal("0.0"),
    "IntEnum-1": Mode.TRAIN,
    "IntEnum-0": Mode.TEST,
}
"""Values stored as given by ``set_learning_phase`` and the scopes (``value in {0, 1}``)."""

INVALID_PHASE_MESSAGE: Final = "Expected learning phase to be 0 or 1."

REJECTED_PHASES: Final[dict[str, Any]] = {
    "int-2": 2,
    "int-minus-1": -1,
    "float-0.5": 0.5,
    "nan": math.nan,
    "inf": math.inf,
    "str-1": "1",
    "str-0": "0",
    "bytes-1": b"1",
    "None": None,
    "tuple-1": (1,),
    "np.float32-0.5": np.float32(0.5),
    "np.int64-2": np.int64(2),
    "Fraction-1/2": Fraction(1, 2),
    "Decimal-0.5": Decimal("0.5"),
    "IntEnum-2": Mode.OTHER,
    "set-looked-up-as-frozenset": {1},
}
"""Values refused with ``ValueError(INVALID_PHASE_MESSAGE)`` (eager scope: ``AssertionError``)."""

UNHASHABLE_PHASES: Final[dict[str, tuple[Any, str]]] = {
    "list": ([1], "list"),
    "dict": ({1: 1}, "dict"),
    "0-d-array": (np.array(1), "numpy.ndarray"),
    "1-element-array": (np.array([1]), "numpy.ndarray"),
    "empty-array": (np.array([]), "numpy.ndarray"),
}
"""Values that fail on their hash: ``TypeError: unhashable type: '<name>'``, state unchanged."""


# -- training values: in_train_phase, in_test_phase, the layers -------------------------------

TRAIN_TRAININGS: Final[dict[str, Any]] = {
    "int-1": 1,
    "True": True,
    "float-1.0": 1.0,
    "np.int64-1": np.int64(1),
    "np.uint8-1": np.uint8(1),
    "np.bool-True": np.bool_(True),
    "np.float32-1": np.float32(1),
    "Fraction-1": Fraction(1),
    "Decimal-1": Decimal(1),
    "IntEnum-1": Mode.TRAIN,
    "array-[1]": np.array([1]),
    "array-0-d-1": np.array(1),
    "array-[[True]]": np.array([[True]]),
    "array-[1.0]": np.array([1.0]),
}
"""``training`` values that choose ``x`` (one-element arrays count as their scalar)."""

TEST_TRAININGS: Final[dict[str, Any]] = {
    "int-0": 0,
    "False": False,
    "float-0.0": 0.0,
    "float-minus-0.0": -0.0,
    "np.int64-0": np.int64(0),
    "np.bool-False": np.bool_(False),
    "np.float64-0": np.float64(0),
    "Fraction-0": Fraction(0),
    "Decimal-0": Decimal(0),
    "IntEnum-0": Mode.TEST,
    "array-[0]": np.array([0]),
}
"""``training`` values that choose ``alt``."""

ONE_ELEMENT_ARRAY_TRAININGS: Final[dict[str, Any]] = {
    label: value
    for label, value in {**TRAIN_TRAININGS, **TEST_TRAININGS}.items()
    if isinstance(value, np.ndarray)
}
"""The arrays among them: treated as their scalar, the chosen callable called once."""


def _invalid_training_message(shown: str) -> str:
    return (
        f"Invalid `training` value: {shown}. Expected None, 0, 1, True, False "
        "(or a number or numpy scalar equal to 0 or 1), or a numpy array of 0/1 values."
    )


def _invalid_training(value: Any, tf_keras: str) -> Rejected:
    return Rejected(value, _invalid_training_message(repr(value)), tf_keras)


INVALID_TRAININGS: Final[dict[str, Rejected]] = {
    "int-2": _invalid_training(2, "AttributeError"),
    "int-minus-1": _invalid_training(-1, "AttributeError"),
    "float-0.5": _invalid_training(0.5, "AttributeError"),
    "nan": _invalid_training(math.nan, "AttributeError"),
    "inf": _invalid_training(math.inf, "AttributeError"),
    "str-1": _invalid_training("1", "AttributeError"),
    "list": _invalid_training([1], "AttributeError"),
    "tuple": _invalid_training((1,), "AttributeError"),
    "IntEnum-2": _invalid_training(Mode.OTHER, "AttributeError"),
    "np.float32-0.5": _invalid_training(np.float32(0.5), "returns"),
    "1-element-array-0.5": _invalid_training(np.array([0.5]), "AttributeError"),
    "array-with-2": _invalid_training(np.array([1, 2]), "ValueError"),
    "str-array": _invalid_training(np.array(["1", "0"]), "ValueError"),
    "empty-array": _invalid_training(np.array([]), "ValueError"),
}
"""``ValueError`` naming the value from ``in_train_phase``; tf_keras fails elsewhere, or
(for ``np.float32(0.5)``) returns ``x``."""

ELEMENTWISE_TRAININGS: Final[dict[str, Any]] = {
    "array-[1, 0, 1]": np.array([1, 0, 1]),
    "array-[True, False]": np.array([True, False]),
    "array-[0, 1]": np.array([0, 1]),
}
"""Arrays of several 0/1 elements: an elementwise choice; tf_keras raises numpy's
``ValueError`` ("truth value of an array ... is ambiguous")."""

LAYER_INVALID_TRAININGS: Final[dict[str, Rejected]] = {
    label: INVALID_TRAININGS[label] for label in ("int-2", "float-0.5", "str-1", "nan")
}
"""Invalid ``training`` values given to the reference layers: the same ``ValueError``."""

TF_KERAS_LAYER_INVALID_TRAINING: Final[dict[str, dict[str, str]]] = {
    "Dropout": dict.fromkeys(LAYER_INVALID_TRAININGS, "TypeError"),
    "GaussianNoise": dict.fromkeys(LAYER_INVALID_TRAININGS, "AttributeError"),
    "GaussianDropout": dict.fromkeys(LAYER_INVALID_TRAININGS, "AttributeError"),
    "BatchNormalization": {
        **dict.fromkeys(LAYER_INVALID_TRAININGS, "TypeError"),
        "int-2": "returns",  # tf_keras normalises in training mode
    },
}
"""What each tf_keras layer does with those values instead (exception type, or "returns")."""


# -- how Layer.__call__ resolves training ----------------------------------------------------

EXPLICIT_TRAININGS: Final[dict[str, Any]] = {
    "True": True,
    "False": False,
    "int-1": 1,
    "int-0": 0,
    "float-1.0": 1.0,
    "np.int64-1": np.int64(1),
}
"""``training=`` values that reach ``call`` exactly as given (an int stays an int)."""

ENCLOSING_TRAININGS: Final[dict[str, Any]] = {"True": True, "False": False, "int-1": 1}
"""``training=`` of an outer layer call, seen as given by the layers (and
``in_train_phase``) inside it."""

SET_PHASES_AS_BOOL: Final[dict[str, tuple[Any, bool]]] = {
    "int-1": (1, True),
    "int-0": (0, False),
    "float-1.0": (1.0, True),
    "np.int64-1": (np.int64(1), True),
}
"""A set phase (value) and the ``training`` a layer's ``call`` then receives: ``bool(phase)``."""


# -- the layers in each phase: the spec's table, observed on tf_keras 2.21 --------------------

PHASE_SETUPS: Final = ("unset", "set(0)", "scope(0)", "set(1)", "set(1.0)", "scope(1)", "eager(1)")
"""How the phase is put in place: nothing, ``set_learning_phase``, the scopes."""

NOT_PASSED: Final = object()
"""``training`` not passed to the layer call at all."""

LAYER_TRAININGS: Final[dict[str, Any]] = {
    "none": NOT_PASSED,
    "explicit-None": None,
    "True": True,
    "int-1": 1,
    "False": False,
    "int-0": 0,
}
"""The ``training`` a layer is called with (``none``: not passed)."""

TRAINS_BY_DEFAULT: Final[dict[str, bool]] = {
    "unset": False,
    "set(0)": False,
    "scope(0)": False,
    "set(1)": True,
    "set(1.0)": True,
    "scope(1)": True,
    "eager(1)": True,
}
"""Whether a layer called without ``training`` (or with ``training=None``) trains."""


def layer_trains(phase: str, training_label: str) -> bool:
    """Return whether a layer trains (``Dropout`` drops) in ``phase`` with that ``training``."""
    training = LAYER_TRAININGS[training_label]
    if training is NOT_PASSED or training is None:
        return TRAINS_BY_DEFAULT[phase]
    return bool(training)


def phase_context(backend: Any, phase: str) -> Any:
    """Return a context manager that puts ``backend`` in ``phase`` (no deprecation warning).

    ``backend`` is the reference backend or ``tf_keras.src.backend``: both have the
    internal names used here. A ``set(...)`` phase is set at once and stays set.
    """
    from contextlib import nullcontext

    if phase == "unset":
        return nullcontext()
    if phase == "eager(1)":
        return backend.eager_learning_phase_scope(1)
    value = {"0": 0, "1": 1, "1.0": 1.0}[phase.split("(")[1].rstrip(")")]
    if phase.startswith("set"):
        backend.deprecated_internal_set_learning_phase(value)
        return nullcontext()
    return backend.deprecated_internal_learning_phase_scope(value)


# -- dropout ----------------------------------------------------------------------------------


def _level_out_of_range(level: Any, shown: str, tf_keras: str | None = None) -> Rejected:
    return Rejected(
        level,
        f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={shown}",
        tf_keras,
    )


def _level_not_a_number(level: Any, shown: str) -> Rejected:
    return Rejected(level, f"`rate` must be a scalar or scalar tensor. Received: rate={shown}")


DROPOUT_BAD_LEVELS: Final[dict[str, Rejected]] = {
    "1.0": _level_out_of_range(1.0, "1.0"),
    "-0.1": _level_out_of_range(-0.1, "-0.1"),
    "1.5": _level_out_of_range(1.5, "1.5"),
    "int-1": _level_out_of_range(1, "1"),
    "np.float32-2": _level_out_of_range(np.float32(2), "2.0"),
    "nan": _level_out_of_range(math.nan, "nan", tf_keras="returns"),
    "str-a": _level_not_a_number("a", "a"),
    "None": _level_not_a_number(None, "None"),
    "list-[0.5]": _level_not_a_number([0.5], "[0.5]"),
    "0-d-array": _level_not_a_number(np.array(0.0), "0.0"),
}
"""``dropout(x, level)`` refuses these with ``ValueError`` (tf_keras drops everything at nan)."""

FLOAT_DTYPES: Final[dict[str, Any]] = {
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
}
"""Floating dtypes that ``dropout`` keeps."""

LAYER_INPUT_DTYPES: Final[dict[str, tuple[Any, str]]] = {
    "float16": (np.float16, "float16"),
    "float32": (np.float32, "float32"),
    "float64": (np.float64, "float64"),
    "int64": (np.int64, "float32"),
    "bool": (np.bool_, "float32"),
}
"""Input dtypes of the reference layers, and their output dtype (training or not)."""


def tf_keras_layer_output(layer: str, dtype_label: str, training: bool) -> str:
    """Return what a tf_keras layer gives for an input of that dtype: its dtype, or the error.

    tf_keras casts floating inputs to float32 (``BatchNormalization`` every input);
    the other layers return integer and bool inputs unchanged in inference and
    fail on them in training.
    """
    if dtype_label.startswith("float") or layer == "BatchNormalization":
        return "float32"
    if not training:
        return dtype_label
    return "ValueError" if layer == "Dropout" else "TypeError"


DROPOUT_NON_FLOATING: Final[dict[str, Rejected]] = {
    name: Rejected(
        np.dtype(name),
        "`x.dtype` must be a floating point tensor as `x` will be scaled. "
        f"Received: x_dtype=<dtype: '{name}'>",
    )
    for name in ("int32", "bool", "uint8")
}
"""Dtypes of ``x`` that ``dropout`` refuses with ``ValueError`` (``value`` is the dtype)."""

NOISE_SHAPE_X_SHAPE: Final = (32, 16)
"""The shape of ``x`` for the noise shapes below (big enough that a random mask is
never constant along an axis by chance)."""

NOISE_SHAPES: Final[dict[str, tuple[Any, tuple[bool, bool]]]] = {
    "(None, 1)": ((None, 1), (False, True)),
    "list-[None, 1]": ([None, 1], (False, True)),
    "(32, None)": ((32, None), (False, False)),
    "(None, None)": ((None, None), (False, False)),
    "(1, None)": ((1, None), (True, False)),
    "(None, 16)": ((None, 16), (False, False)),
    "(32, 1)": ((32, 1), (False, True)),
    "(1, 16)": ((1, 16), (True, False)),
    "(16,)": ((16,), (True, False)),
}
"""``noise_shape`` for ``x`` of ``NOISE_SHAPE_X_SHAPE``, and along which axes the output is
constant (the mask is broadcast along an axis of size 1; ``None`` is ``x``'s size)."""


def constant_along(output: np.ndarray[Any, Any]) -> list[bool]:
    """Return, for each axis, whether ``output`` is the same all along it (``NOISE_SHAPES``)."""
    return [bool(np.all(output == output.take([0], axis=axis))) for axis in range(output.ndim)]


def _bad_noise_shape(noise_shape: Any, tf_keras: str) -> Rejected:
    return Rejected(
        noise_shape,
        "`noise_shape` must broadcast to the shape of `x` (2, 3). "
        f"Received: noise_shape={noise_shape}",
        tf_keras,
    )


BAD_NOISE_SHAPES: Final[dict[str, Rejected]] = {
    "(3, 2)": _bad_noise_shape((3, 2), "InvalidArgumentError"),
    "(2, 3, 1)": _bad_noise_shape((2, 3, 1), "InvalidArgumentError"),
    "(4, 1)": _bad_noise_shape((4, 1), "InvalidArgumentError"),
    "(None,)": _bad_noise_shape((None,), "ValueError"),
    "(None, 1, 1)": _bad_noise_shape((None, 1, 1), "ValueError"),
}
"""``noise_shape`` values that do not fit ``x`` of shape (2, 3): ``ValueError``."""


# -- layer arguments -------------------------------------------------------------------------


def _dropout_rate(rate: Any, tf_keras: str | None = None) -> Rejected:
    return Rejected(
        rate,
        f"Invalid value {rate!r} received for `rate`, expected a value between 0 and 1.",
        tf_keras,
    )


DROPOUT_LAYER_BAD_RATES: Final[dict[str, Rejected]] = {
    "1.5": _dropout_rate(1.5),
    "int-minus-1": _dropout_rate(-1),
    "-0.1": _dropout_rate(-0.1),
    "int-2": _dropout_rate(2),
    "nan": _dropout_rate(math.nan),
    "str-0.5": _dropout_rate("0.5", tf_keras="returns"),
    "None": _dropout_rate(None, tf_keras="returns"),
    "True": _dropout_rate(True, tf_keras="returns"),
    "list-[0.5]": _dropout_rate([0.5], tf_keras="returns"),
}
"""``Dropout(rate)`` refuses these at construction with ``ValueError``."""

GAUSSIAN_NOISE_BAD_STDDEVS: Final[dict[str, Rejected]] = {
    label: Rejected(
        value,
        f"Invalid value {value!r} received for `stddev`, expected a number >= 0.",
        "returns",
    )
    for label, value in {
        "-0.1": -0.1,
        "int-minus-1": -1,
        "nan": math.nan,
        "str-1": "1",
        "None": None,
    }.items()
}
"""``GaussianNoise(stddev)`` refuses these at construction; tf_keras accepts them there."""

GAUSSIAN_DROPOUT_BAD_RATES: Final[dict[str, Rejected]] = {
    label: Rejected(
        value,
        f"Invalid value {value!r} received for `rate`, expected a number in [0, 1).",
        "returns",
    )
    for label, value in {
        "1.0": 1.0,
        "1.5": 1.5,
        "-0.1": -0.1,
        "nan": math.nan,
        "str-0.5": "0.5",
        "None": None,
    }.items()
}
"""``GaussianDropout(rate)`` refuses these at construction; tf_keras accepts them there."""

BATCH_NORM_BAD_AXES: Final[dict[str, Rejected]] = {
    label: Rejected(
        value,
        f"Invalid value {value!r} received for `axis`, expected an int or a list/tuple of ints.",
        tf_keras,
    )
    for label, (value, tf_keras) in {
        "str-a": ("a", "TypeError"),
        "float-1.0": (1.0, "TypeError"),
        "None": (None, "TypeError"),
        "True": (True, "returns"),
        "list-[1, a]": ([1, "a"], "returns"),
    }.items()
}
"""``BatchNormalization(axis=...)`` refuses these at construction with ``ValueError``."""

BATCH_NORM_INPUT_SHAPE: Final = (4, 2)
"""The input shape for the axis errors below."""

BATCH_NORM_AXES_OUT_OF_RANGE: Final[dict[str, Rejected]] = {
    label: Rejected(
        axis,
        "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank "
        f"(with inputs.rank=2). Received: axis={shown}",
    )
    for label, (axis, shown) in {
        "2": (2, "(2,)"),
        "-3": (-3, "(-1,)"),
        "[0, 5]": ([0, 5], "(0, 5)"),
    }.items()
} | {"duplicate-[1, -1]": Rejected([1, -1], "Duplicate axis: (1, 1)")}
"""Axes that do not fit an input of ``BATCH_NORM_INPUT_SHAPE``: ``ValueError`` at the first call."""

BATCH_NORM_MOMENTUMS: Final[dict[str, float]] = {"2": 2, "int-minus-1": -1, "1.5": 1.5, "0": 0}
"""Momentums outside (or at the edge of) [0, 1]: accepted, as in tf_keras."""

BATCH_NORM_BAD_ARGUMENTS: Final[dict[str, tuple[str, Rejected]]] = {
    label: (
        argument,
        Rejected(
            value,
            f"Invalid value {value!r} received for `{argument}`, expected {allowed}.",
            "returns",
        ),
    )
    for label, (argument, value, allowed) in {
        "momentum-str": ("momentum", "0.9", "a number"),
        "momentum-None": ("momentum", None, "a number"),
        "epsilon-0": ("epsilon", 0, "a number > 0"),
        "epsilon-negative": ("epsilon", -1e-3, "a number > 0"),
        "epsilon-None": ("epsilon", None, "a number > 0"),
    }.items()
}
"""``BatchNormalization`` arguments refused at construction (tf_keras accepts them there)."""

NON_NUMERIC_INPUTS: Final[dict[str, tuple[Any, str]]] = {
    "str-array": (np.array(["a", "b"]), "<U1"),
    "object-list": ([object()], "object"),
}
"""Layer inputs that are not numbers, and their numpy dtype as the message shows it."""

TF_KERAS_NON_NUMERIC_INPUTS: Final[dict[str, dict[str, str]]] = {
    "Dropout": {"str-array": "ValueError", "object-list": "ValueError"},
    "GaussianNoise": {"str-array": "TypeError", "object-list": "ValueError"},
    "GaussianDropout": {"str-array": "TypeError", "object-list": "ValueError"},
    "BatchNormalization": {"str-array": "UnimplementedError", "object-list": "ValueError"},
}
"""What each tf_keras layer raises for them (its messages are TensorFlow's)."""
