"""The structural comparison of two snapshots: one readable line per place where they differ.

Results are walked in parallel through dicts, lists, tuples and object arrays
holding arrays; numeric leaves (numpy arrays, array-likes, Python and numpy
scalars, ``ml_dtypes`` numbers such as TensorFlow's bfloat16 in float32) compare
as :func:`numpy.testing.assert_allclose` does, a ``tf.SparseTensor`` by its
shape, indices and values, anything else with ``==``. numpy is imported by the
functions that compare, never at import.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "EXACT",
    "Tolerance",
    "UncomparableValues",
    "compare_arrays",
    "differences",
    "format_differences",
    "short_repr",
    "shorten",
]

_MAX_DIFFERENCE_LINES: Final = 5
_MAX_REPR_LENGTH: Final = 60


class Tolerance(NamedTuple):
    """How close two numeric leaves must be, as in ``numpy.testing.assert_allclose``."""

    rtol: float
    atol: float
    equal_nan: bool
    shown: bool = True
    """Whether messages end with the tolerances (not for exact comparisons)."""

    def __str__(self) -> str:
        return f"rtol={self.rtol!r}, atol={self.atol!r}"

    def suffix(self) -> str:
        """Return `` (rtol=..., atol=...)`` to end a message with, or nothing."""
        return f" ({self})" if self.shown else ""


EXACT: Final = Tolerance(0, 0, equal_nan=True, shown=False)
"""Equal means equal, NaN included: how state is compared before and after a call."""


class UncomparableValues(Exception):
    """Two values at ``path`` whose ``==`` raised: neither equal nor different."""

    def __init__(self, path: str, error: BaseException) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def shorten(text: str) -> str:
    """Return ``text`` on one line, cut to a readable length."""
    text = re.sub(r"\n\s*", " ", text)
    return text if len(text) <= _MAX_REPR_LENGTH else f"{text[: _MAX_REPR_LENGTH - 3]}..."


def short_repr(value: object) -> str:
    """Return ``repr(value)`` on one line, cut to a readable length."""
    return shorten(repr(value))


def _is_array_like(value: object) -> bool:
    """Return whether ``value`` is compared numerically: scalars, arrays, tensors."""
    return isinstance(value, (int, float, complex)) or hasattr(value, "__array__")


def _is_numeric(array: npt.NDArray[Any]) -> bool:
    return array.dtype.kind in "biufc"


def _element(array: npt.NDArray[Any], index: tuple[int, ...]) -> str:
    """Format one element: numbers as numpy prints them, anything else as its repr."""
    value = array[index]
    if _is_numeric(array):
        return str(value)
    if array.dtype.kind in "mM" or array.dtype.names is not None:
        return shorten(str(value))  # NaT, and NaT in a record: item() gives None
    return short_repr(value.item() if hasattr(value, "item") else value)


def _mixed_dtype_values(
    reference: npt.NDArray[Any],
    other: npt.NDArray[Any],
    index: tuple[int, ...],
    labels: tuple[str, str],
) -> str:
    """Format two numbers of different dtypes in the dtype both convert to, with their dtypes.

    Each number printed in its own dtype's shortest form would hide the difference:
    float16 0.1 and float64 0.1 both print as ``0.1``; in float64 the first is
    ``0.0999755859375``.
    """
    import numpy as np

    common = np.result_type(reference.dtype, other.dtype)
    first, second = labels
    return (
        f"{common.type(reference[index])} ({first}, {reference.dtype}) vs "
        f"{common.type(other[index])} ({second}, {other.dtype})"
    )


def _as_numbers(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return an array of an ``ml_dtypes`` number type (bfloat16, float8, int4) in numpy's own.

    TensorFlow's bfloat16 tensors become such arrays. Their floats become
    float32 and their integers int64, which hold every value exactly: compared
    within the tolerances, NaN equal to NaN, as torch's bfloat16 tensors are.
    """
    ml_dtypes = sys.modules.get("ml_dtypes")
    if ml_dtypes is None or array.dtype.kind != "V" or array.dtype.names is not None:
        return array
    for info, target in ((ml_dtypes.finfo, "float32"), (ml_dtypes.iinfo, "int64")):
        try:
            info(array.dtype)
        except (TypeError, ValueError):
            continue
        return array.astype(target)
    return array


def _mismatch(
    reference: npt.NDArray[Any], other: npt.NDArray[Any], tolerance: Tolerance
) -> npt.NDArray[np.bool_]:
    """Return where two arrays of one shape differ, element by element.

    Numbers differ as ``numpy.isclose`` says. NaT equals NaT when
    ``tolerance.equal_nan``, as NaN equals NaN. A structured array compares
    field by field, each field as an array of its own dtype; an element differs
    where any field does.
    """
    import numpy as np

    if _is_numeric(reference):
        close: npt.NDArray[np.bool_] = np.isclose(
            other,
            reference,
            rtol=tolerance.rtol,
            atol=tolerance.atol,
            equal_nan=tolerance.equal_nan,
        )
        return ~close
    names = reference.dtype.names
    if names is not None and reference.dtype == other.dtype:
        mismatch = np.zeros(reference.shape, dtype=bool)
        for name in names:
            field = _mismatch(reference[name], other[name], tolerance)
            mismatch |= field.any(axis=tuple(range(reference.ndim, field.ndim)))
        return mismatch
    unequal = np.asarray(reference != other, dtype=bool)  # 0-d if not comparable
    if tolerance.equal_nan and reference.dtype.kind in "mM" and other.dtype.kind in "mM":
        unequal = unequal & ~(np.isnat(reference) & np.isnat(other))
    return np.broadcast_to(unequal, reference.shape)


def _format_index(index: tuple[int, ...]) -> str:
    return repr(tuple(int(position) for position in index))


def compare_arrays(
    reference: npt.NDArray[Any],
    other: npt.NDArray[Any],
    labels: tuple[str, str],
    tolerance: Tolerance,
) -> str | None:
    """Describe how ``other`` differs from ``reference`` (same shape), or return None."""
    import numpy as np

    first, second = labels
    reference, other = _as_numbers(reference), _as_numbers(other)
    numeric = _is_numeric(reference), _is_numeric(other)
    if numeric[0] != numeric[1]:
        return f"dtype {reference.dtype} ({first}) vs {other.dtype} ({second})"
    mismatch = _mismatch(reference, other, tolerance)
    count = int(np.count_nonzero(mismatch))
    if count == 0:
        return None
    if not numeric[0]:
        flat_index = int(np.flatnonzero(mismatch)[0])
        index = tuple(int(i) for i in np.unravel_index(flat_index, reference.shape))
        values = f"{_element(reference, index)} ({first}) vs {_element(other, index)} ({second})"
        if reference.ndim == 0:
            return values
        return (
            f"{count} of {reference.size} elements differ, first at index "
            f"{_format_index(index)}: {values}"
        )
    dtype = np.result_type(reference, other, 1.0)
    with np.errstate(all="ignore"):
        difference = np.abs(reference.astype(dtype) - other.astype(dtype))
    # The largest difference among the mismatches; NaN (NaN vs a number) ranks first.
    ranking = np.where(mismatch, np.where(np.isnan(difference), np.inf, difference), -1.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ranking)), reference.shape))
    largest = f"{float(difference[index]):.6g}"
    if reference.dtype == other.dtype:
        values = f"{_element(reference, index)} ({first}) vs {_element(other, index)} ({second})"
    else:
        values = _mixed_dtype_values(reference, other, index, labels)
    if reference.ndim == 0:
        return f"{values}, abs difference {largest}{tolerance.suffix()}"
    return (
        f"max abs difference {largest} at index {_format_index(index)}: {values}; "
        f"{count} of {reference.size} elements differ{tolerance.suffix()}"
    )


def _holds_structures(array: npt.NDArray[Any]) -> bool:
    """Return whether an object array holds arrays or containers (a batch of sequences)."""
    return any(
        (_is_array_like(item) and not isinstance(item, (int, float, complex)))
        or _kind(item) is not None
        for item in array.flat
    )


def _compare_leaves(
    reference: object, other: object, path: str, labels: tuple[str, str], tolerance: Tolerance
) -> list[str]:
    """Describe how two non-container values differ: no lines when they match."""
    import numpy as np

    first, second = labels
    if _is_array_like(reference) and _is_array_like(other):
        reference_array, other_array = np.asarray(reference), np.asarray(other)
        if reference_array.shape != other_array.shape:
            shapes = f"shape {reference_array.shape} ({first}) vs {other_array.shape} ({second})"
            return [f"at {path}: {shapes}"]
        if (reference_array.dtype.hasobject or other_array.dtype.hasobject) and (
            _holds_structures(reference_array) or _holds_structures(other_array)
        ):
            return _object_array_differences(reference_array, other_array, path, labels, tolerance)
        difference = compare_arrays(reference_array, other_array, labels, tolerance)
        return [] if difference is None else [f"at {path}: {difference}"]
    if reference is other:  # the same object is equal, whatever its == does
        return []
    try:
        outcome = reference == other
    except Exception as error:
        raise UncomparableValues(path, error) from error
    try:
        equal = bool(outcome)
    except (TypeError, ValueError):  # == gave something with no truth value (array vs None)
        equal = False
    if equal:
        return []
    return [f"at {path}: {short_repr(reference)} ({first}) vs {short_repr(other)} ({second})"]


def _object_array_differences(
    reference: npt.NDArray[Any],
    other: npt.NDArray[Any],
    path: str,
    labels: tuple[str, str],
    tolerance: Tolerance,
) -> list[str]:
    """Walk two object arrays of one shape item by item: ``result[1]``, ``result[0, 2]``."""
    import numpy as np

    lines: list[str] = []
    for index in np.ndindex(reference.shape):
        where = f"{path}[{', '.join(map(str, index))}]"
        lines += differences(reference[index], other[index], where, labels, tolerance)
    return lines


def _kind(value: object) -> str | None:
    """Return the container kind walked in parallel (``dict``, ``list``, ``tuple``), or None."""
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, list):
        return "list"
    if isinstance(value, tuple):
        return "tuple"
    sparse = _types_in("tensorflow", "SparseTensor")
    if sparse and isinstance(value, sparse):
        return "tf.SparseTensor"
    return None


def _types_in(module_name: str, name: str) -> tuple[type, ...]:
    cls = getattr(sys.modules.get(module_name), name, None)
    return (cls,) if isinstance(cls, type) else ()


def _sparse_parts(value: Any) -> dict[str, object]:
    """Return a ``tf.SparseTensor``'s shape, indices and values, in row-major order."""
    import numpy as np
    import tensorflow as tf

    reordered = tf.sparse.reorder(value)
    return {
        "dense_shape": tuple(int(size) for size in reordered.dense_shape.numpy()),
        "indices": np.asarray(reordered.indices.numpy()),
        "values": np.asarray(reordered.values.numpy()),
    }


def differences(
    reference: object,
    other: object,
    path: str,
    labels: tuple[str, str],
    tolerance: Tolerance,
) -> list[str]:
    """Walk two results in parallel; return one ``at <path>: ...`` line per difference.

    :raises UncomparableValues: where ``==`` raised on two leaves.
    """
    first, second = labels
    kinds = _kind(reference), _kind(other)
    if kinds[0] != kinds[1]:
        return [
            f"at {path}: {type(reference).__name__} ({first}) vs {type(other).__name__} ({second})"
        ]
    if kinds[0] == "tf.SparseTensor":
        try:
            reference_parts, other_parts = _sparse_parts(reference), _sparse_parts(other)
        except Exception as error:  # symbolic (inside a tf.function): no value yet
            raise UncomparableValues(path, error) from error
        if reference_parts["dense_shape"] != other_parts["dense_shape"]:
            return [
                f"at {path}.dense_shape: {reference_parts['dense_shape']} ({first}) vs "
                f"{other_parts['dense_shape']} ({second})"
            ]
        lines: list[str] = []
        for part in ("indices", "values"):
            lines += differences(
                reference_parts[part], other_parts[part], f"{path}.{part}", labels, tolerance
            )
            if lines:  # values at other indices are not comparable
                break
        return lines
    if isinstance(reference, Mapping) and isinstance(other, Mapping):
        if set(reference) != set(other):
            return [f"at {path}: keys {list(reference)} ({first}) vs {list(other)} ({second})"]
        lines = []
        for key in reference:
            lines += differences(reference[key], other[key], f"{path}[{key!r}]", labels, tolerance)
        return lines
    if isinstance(reference, (list, tuple)) and isinstance(other, (list, tuple)):
        if len(reference) != len(other):
            return [f"at {path}: length {len(reference)} ({first}) vs {len(other)} ({second})"]
        lines = []
        for position, (left, right) in enumerate(zip(reference, other, strict=True)):
            lines += differences(left, right, f"{path}[{position}]", labels, tolerance)
        return lines
    return _compare_leaves(reference, other, path, labels, tolerance)


def format_differences(lines: list[str]) -> str:
    """Indent the difference lines, keeping the first few."""
    shown = [f"  {line}" for line in lines[:_MAX_DIFFERENCE_LINES]]
    if len(lines) > _MAX_DIFFERENCE_LINES:
        hidden = len(lines) - _MAX_DIFFERENCE_LINES
        shown.append(f"  ... and {hidden} more difference{'s' if hidden > 1 else ''}")
    return "\n".join(shown)
