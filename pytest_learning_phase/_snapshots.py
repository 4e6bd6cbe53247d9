"""Result snapshots: a helper's result as it was when returned, in values that compare by value.

numpy arrays are copied (object arrays item by item); torch tensors and
TensorFlow tensors and variables become numpy arrays; ragged tensors (a
``tf.RaggedTensor``, a torch nested tensor) become object arrays of their rows;
dicts, lists and tuples are rebuilt around snapshots of their items. A result
that has no value to compare (a generator, a ``meta`` tensor) raises
:class:`UncomparableResult`, which the helpers turn into an error naming
themselves and the phase.

numpy, torch and TensorFlow are never imported here at import: frameworks are
recognised through ``sys.modules``, and numpy is imported by the functions that
build arrays.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator, Mapping
from typing import Any, cast

__all__ = [
    "RETURN_A_LIST",
    "RETURN_FLATTER",
    "RETURN_NO_CYCLE",
    "UncomparableResult",
    "snapshot",
    "torch_to_numpy",
]

RETURN_A_LIST = "a list (list(...)) or a tuple"
RETURN_NO_CYCLE = "a result that does not hold itself (the values to compare)"
RETURN_FLATTER = "a flatter result (an array, or fewer levels of dicts, lists and tuples)"


class UncomparableResult(Exception):
    """A result, or a part of it at ``path``, that has no value to compare."""

    def __init__(self, path: str, what: str, instead: str) -> None:
        super().__init__(path, what, instead)
        self.path = path
        """Where in the result: ``result``, ``result['rows'][0]``."""
        self.what = what
        """What was found there: ``a generator``."""
        self.instead = instead
        """What to return instead: ``a list (list(...)) or a tuple``."""


def snapshot(value: object, path: str = "result") -> object:
    """Return ``value`` as it is now, so that later changes to it do not change the result.

    Anything that is neither an array, a tensor nor a container (numbers,
    strings, objects of the user's) is kept as it is: a deep copy may be costly,
    may fail, and would make objects compared by identity unequal. An eager
    ``tf.SparseTensor`` is immutable and kept as it is too; the comparison reads
    its indices, values and shape.

    :raises UncomparableResult: for an iterator (a generator) or a ``meta``
        tensor, anywhere in ``value``; for a container that holds itself, or
        containers nested deeper than the recursion limit allows.
    """
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    tensorflow = sys.modules.get("tensorflow")
    array_types = _types(numpy, "ndarray")
    torch_types = _types(torch, "Tensor")
    tensorflow_types = _types(tensorflow, "Tensor", "Variable")
    ragged_types = _types(tensorflow, "RaggedTensor")

    holding: set[int] = set()  # the containers around the item being taken

    def take(item: Any, where: str) -> object:
        if isinstance(item, (Mapping, list, tuple)) or (
            isinstance(item, array_types) and cast(Any, item).dtype.hasobject
        ):
            if id(item) in holding:
                what = f"a {type(item).__name__} that holds itself"
                raise UncomparableResult(where, what, RETURN_NO_CYCLE)
            holding.add(id(item))
            try:
                return take_one(item, where)
            finally:
                holding.discard(id(item))
        return take_one(item, where)

    def take_one(item: Any, where: str) -> object:
        if isinstance(item, array_types):
            if cast(Any, item).dtype.hasobject:
                return _object_array(item, where, take)
            return cast(Any, item).copy()
        if isinstance(item, torch_types):
            return torch_to_numpy(item, torch, where)
        if isinstance(item, tensorflow_types):
            return _tensorflow_to_numpy(item)
        if isinstance(item, ragged_types):
            return _ragged_rows(item)
        if isinstance(item, Mapping):
            items = {key: take(entry, f"{where}[{key!r}]") for key, entry in item.items()}
            return _rebuilt_mapping(item, items)
        if isinstance(item, list):
            return _rebuilt_list(
                item, [take(entry, f"{where}[{i}]") for i, entry in enumerate(item)]
            )
        if isinstance(item, tuple):
            entries = [take(entry, f"{where}[{i}]") for i, entry in enumerate(item)]
            return _rebuilt_tuple(item, entries)
        if isinstance(item, (set, bytearray)):
            return item.copy()
        if isinstance(item, Iterator):
            kind = "a generator" if _is_generator(item) else f"an iterator ({type(item).__name__})"
            raise UncomparableResult(where, kind, RETURN_A_LIST)
        return item

    try:
        return take(value, path)
    except RecursionError:
        what = f"a result nested deeper than Python's recursion limit ({sys.getrecursionlimit()})"
        raise UncomparableResult(path, what, RETURN_FLATTER) from None


def _types(module: object, *names: str) -> tuple[type, ...]:
    """Return the classes ``module.<name>`` that exist (none if the module is not loaded)."""
    found = (getattr(module, name, None) for name in names)
    return tuple(cls for cls in found if isinstance(cls, type))


def _is_generator(value: object) -> bool:
    import types

    return isinstance(value, (types.GeneratorType, types.AsyncGeneratorType))


def _object_array(array: Any, path: str, take: Any) -> object:
    """Copy an object array item by item: an array it holds is copied too, not shared."""
    import numpy as np

    copied = np.empty(array.shape, dtype=array.dtype)
    for index in np.ndindex(array.shape):
        copied[index] = take(array[index], f"{path}[{', '.join(map(str, index))}]")
    return copied


def torch_to_numpy(tensor: Any, torch: Any, path: str = "result") -> object:
    """Return a copy of ``tensor`` as a numpy array (detached, on the CPU).

    numpy has no bfloat16 or float8: those become float32, which holds their values exactly.
    A sparse tensor becomes a dense array; a nested tensor an object array of its rows.

    :raises UncomparableResult: for a tensor on the ``meta`` device, which has no values.
    """
    if tensor.is_meta:
        raise UncomparableResult(
            path,
            "a torch tensor on the meta device (it has no values)",
            "a tensor with values (on the CPU or a GPU)",
        )
    if tensor.is_nested:
        import numpy as np

        rows = tensor.unbind()
        array = np.empty(len(rows), dtype=object)
        for index, row in enumerate(rows):
            array[index] = torch_to_numpy(row, torch, f"{path}[{index}]")
        return array
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()
    if tensor.is_floating_point() and tensor.dtype not in (
        torch.float16,
        torch.float32,
        torch.float64,
    ):
        tensor = tensor.detach().to(torch.float32)
    return tensor.numpy(force=True).copy()


def _tensorflow_to_numpy(value: Any) -> object:
    """Return a copy of an eager TensorFlow tensor or variable as a numpy array.

    ``value.numpy()``, not ``numpy.array(value)``: a variable's ``__array__`` takes
    no ``copy`` keyword, which numpy 2 warns about. A symbolic tensor (inside a
    ``tf.function``) has no value yet and is kept as it is.
    """
    import numpy as np

    if not callable(getattr(value, "numpy", None)):
        return value
    try:
        return np.array(value.numpy())
    except (NotImplementedError, AttributeError, ValueError):  # symbolic: no value yet
        return value


def _ragged_rows(ragged: Any) -> object:
    """Return an eager ``tf.RaggedTensor`` as an object array of its rows, each a numpy array.

    Built from its values and row splits (no per-row TensorFlow op): a row of a
    ragged tensor of ragged rank 2 or more is an object array itself. A
    symbolic ragged tensor (inside a ``tf.function``) is kept as it is.
    """
    import numpy as np

    try:
        splits = ragged.row_splits.numpy()
        inner = ragged.values
        values = _ragged_rows(inner) if hasattr(inner, "row_splits") else inner.numpy()
    except (NotImplementedError, AttributeError, ValueError):  # symbolic: no value yet
        return ragged
    rows = np.empty(len(splits) - 1, dtype=object)
    for index in range(len(rows)):
        rows[index] = np.array(cast(Any, values)[splits[index] : splits[index + 1]])
    return rows


def _rebuilt_mapping(original: Mapping[Any, Any], items: dict[Any, Any]) -> Mapping[Any, Any]:
    """Return ``items`` in ``original``'s type when it is a dict subclass, else a dict.

    The copy is emptied and filled key by key: ``update`` would add to a
    ``Counter``'s counts. A subclass that cannot be copied, or whose copy does
    not hold exactly ``items`` once filled, gives a dict.
    """
    if type(original) is dict or not isinstance(original, dict):
        return items
    try:
        rebuilt = copy.copy(original)
        rebuilt.clear()
        for key, entry in items.items():
            rebuilt[key] = entry
    except Exception:  # a subclass that cannot be copied: the items are what is compared
        return items
    if len(rebuilt) != len(items) or any(
        dict.get(rebuilt, key, _MISSING) is not entry for key, entry in items.items()
    ):
        return items
    return rebuilt


def _rebuilt_list(original: list[Any], items: list[Any]) -> list[Any]:
    """Return ``items`` in ``original``'s type (a list subclass is copied, then filled)."""
    if type(original) is list:
        return items
    try:
        rebuilt = copy.copy(original)
        rebuilt[:] = items
    except Exception:
        return items
    return rebuilt if _holds_exactly(rebuilt, items) else items


def _rebuilt_tuple(original: tuple[Any, ...], items: list[Any]) -> tuple[Any, ...]:
    """Return ``items`` in ``original``'s type: a tuple, named tuple or struct sequence."""
    cls = type(original)
    if cls is tuple:
        return tuple(items)
    try:
        make = getattr(cls, "_make", None)  # a named tuple
        rebuilt: tuple[Any, ...] = make(items) if callable(make) else cls(items)
    except Exception:
        return tuple(items)
    return rebuilt if _holds_exactly(rebuilt, items) else tuple(items)


_MISSING: Any = object()


def _holds_exactly(rebuilt: list[Any] | tuple[Any, ...], items: list[Any]) -> bool:
    """Return whether a rebuilt sequence holds ``items`` themselves, in order, and nothing else."""
    return len(rebuilt) == len(items) and all(
        left is right for left, right in zip(rebuilt, items, strict=True)
    )
