"""Reference layers whose behaviour depends on the learning phase: numpy in, numpy out.

:class:`Layer` resolves ``training=None`` the way tf_keras 2.21's
``Layer.__call__`` does (explicit value, else the enclosing layer call's, else
``bool(learning_phase())`` when the phase is set, else the default in the
``call`` signature). :class:`Dropout`, :class:`GaussianNoise`,
:class:`GaussianDropout` and :class:`BatchNormalization` reproduce the
tf_keras layers of the same names; when their ``call`` still receives
``training=None`` they read ``backend.learning_phase()`` themselves.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from pytest_learning_phase import _call_context, _state, backend

__all__ = ["BatchNormalization", "Dropout", "GaussianDropout", "GaussianNoise", "Layer"]

_FloatArray = npt.NDArray[Any]
"""A floating numpy array (float16, float32 or float64)."""


def _copy(array: _FloatArray) -> _FloatArray:
    """Return a copy: a layer's output never aliases its input, as a new tensor would not."""
    copied: _FloatArray = array.copy()
    return copied


def _to_snake_case(name: str) -> str:
    """Return tf_keras's snake case of a class name: ``GaussianNoise`` -> ``gaussian_noise``."""
    intermediate = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if snake[0] != "_" else "private" + snake


def _unique_name(prefix: str) -> str:
    """Return ``prefix``, then ``prefix_1``, ``prefix_2``... until ``clear_session()``."""
    uid = _state.next_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def _is_real(value: object) -> bool:
    """Return whether ``value`` is a real number (numpy scalars included, bools excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


_POSITIONAL_OR_KEYWORD: Final = inspect.Parameter.POSITIONAL_OR_KEYWORD


@dataclass(frozen=True)
class _TrainingParameter:
    """How a ``call`` signature takes ``training``, as tf_keras's ``CallFunctionSpec`` sees it."""

    expected: bool
    """``call`` has a ``training`` parameter, or ``**kwargs``."""
    default: object
    """The default of ``training`` in the signature, ``None`` when it has none."""
    position: int | None
    """Index of ``training`` among the positional arguments that follow ``inputs``."""

    @classmethod
    def of(cls, call: Callable[..., Any]) -> _TrainingParameter:
        """Inspect an unbound ``call(self, inputs, ...)``."""
        parameters = list(inspect.signature(call).parameters.values())[1:]
        accepts_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        positional = [
            p.name
            for p in parameters
            if p.kind
            in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ][1:]
        named = {p.name: p for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}
        training = named.get("training")
        default = None
        if training is not None and training.default is not inspect.Parameter.empty:
            default = training.default
        position = positional.index("training") if "training" in positional else None
        return cls(training is not None or accepts_kwargs, default, position)

    def passed_value(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, object]:
        """Return (whether ``training`` was passed, its value)."""
        if "training" in kwargs:
            return True, kwargs["training"]
        if self.position is not None and self.position < len(args):
            return True, args[self.position]
        return False, None

    def with_value(
        self, value: object, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Return args and kwargs with ``training`` set to ``value``, in place or in kwargs."""
        if "training" not in kwargs and self.position is not None and self.position < len(args):
            return (*args[: self.position], value, *args[self.position + 1 :]), kwargs
        return args, {**kwargs, "training": value}


@functools.cache
def _training_parameter_of(call: Callable[..., Any]) -> _TrainingParameter:
    """Return how ``call`` takes ``training``, worked out once per ``call`` function."""
    return _TrainingParameter.of(call)


def _training_flag(training: object) -> bool:
    """Return the truth of a resolved ``training`` (0 or 1 like); raise ``ValueError`` if other."""
    flag = _call_context.training_flag(training)
    if flag is None:
        raise _call_context.invalid_training(training)
    return flag


def _training_source(
    layer: Layer, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[object, str] | None:
    """Return the ``training`` that ``layer``'s call will resolve, and where it comes from.

    The same order as :meth:`Layer.__call__`, without counting a read of the
    phase (for provenance); ``None`` for a layer whose ``call`` takes no
    ``training``.
    """
    parameter = _training_parameter_of(type(layer).call)
    if not parameter.expected:
        return None
    passed = parameter.passed_value(args, kwargs)[1]
    if passed is not None:
        return passed, f"explicit argument training={passed!r}"
    enclosing = _call_context.enclosing_training()
    if enclosing is not None:
        return enclosing, f"the enclosing layer call's training={enclosing!r}"
    state = _state.THREAD.state
    if state.is_set:
        return state.phase == 1, "the global phase"
    return parameter.default, f"the layer's default (training={parameter.default!r})"


class Layer:
    """Base class: ``__call__`` resolves ``training`` as tf_keras 2.21 does, then runs ``call``.

    ``training`` given and not ``None`` is passed as given (an int stays an
    int). Otherwise: the ``training`` of the enclosing layer call; else, only
    when ``global_learning_phase_is_set()``, ``bool(learning_phase())``; else
    the default of ``training`` in ``call``'s signature (``None`` if it has
    none). A ``call`` without a ``training`` parameter (nor ``**kwargs``) never
    receives it, but a ``training=`` given to it still reaches the layers it
    calls.
    """

    def __init__(self, *, name: str | None = None, trainable: bool = True) -> None:
        self.name = name if name is not None else _unique_name(_to_snake_case(type(self).__name__))
        self.trainable = trainable
        self.built = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Compute the output; the base class returns ``inputs`` unchanged."""
        return inputs

    def build(self, input_shape: Sequence[int]) -> None:
        """Create the layer's weights for inputs of ``input_shape``; the base has none."""
        self.built = True

    def get_weights(self) -> list[npt.NDArray[Any]]:
        """Return copies of the layer's weights, in tf_keras's order (``[]`` before build)."""
        return []

    def set_weights(self, weights: Sequence[npt.ArrayLike]) -> None:
        """Set the weights from a list like the one ``get_weights()`` returns.

        An unbuilt layer has no weights: ``set_weights([])`` is then accepted, as
        in tf_keras (so the round trip ``set_weights(get_weights())`` always is).
        """
        expected = self.get_weights()
        if len(weights) != len(expected):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list '
                f"of length {len(weights)}, but the layer was expecting {len(expected)} weights. "
                f"Provided weights: {str(weights)[:50]}..."
            )

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Resolve ``training`` (see the class docstring) and return ``self.call(inputs, ...)``."""
        parameter = _training_parameter_of(type(self).call)
        training: object
        if parameter.expected:
            _, training = parameter.passed_value(args, kwargs)
            if training is None:
                training = _call_context.enclosing_training()
                if training is None:
                    if backend.global_learning_phase_is_set():
                        phase = backend.learning_phase()
                        training = phase if isinstance(phase, bool) else bool(phase)
                    else:
                        training = parameter.default
                args, kwargs = parameter.with_value(training, args, kwargs)
        elif "training" in kwargs:
            kwargs = dict(kwargs)
            training = kwargs.pop("training")
        else:
            training = _call_context.enclosing_training()
        with _call_context.LayerCall(training):
            return self.call(inputs, *args, **kwargs)

    def _float_inputs(self, inputs: npt.ArrayLike) -> _FloatArray:
        """Return ``inputs`` as a floating array (float dtypes kept, others become float32)."""
        array = np.asarray(inputs)
        if array.dtype.kind == "f":
            return array
        if array.dtype.kind in "biu":
            return array.astype(np.float32)
        raise ValueError(
            f"Layer '{self.name}' ({type(self).__name__}) expects numeric inputs; "
            f"received an array of dtype {array.dtype}."
        )


class Dropout(Layer):
    """Inverted dropout in training (kept values scaled by ``1 / (1 - rate)``), identity otherwise.

    ``rate`` is checked at construction against [0, 1] as tf_keras does; a
    rate of 1 then fails when the layer drops, with ``backend.dropout``'s
    message. ``rate=0`` is the identity whatever ``training`` is.
    ``noise_shape`` may use ``None`` for "the input's size on that axis".
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _is_real(rate) or not 0 <= float(rate) <= 1:
            shown = rate if _is_real(rate) else repr(rate)
            raise ValueError(
                f"Invalid value {shown} received for `rate`, expected a value between 0 and 1."
            )
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator = np.random.default_rng(seed)

    def call(self, inputs: npt.ArrayLike, training: object = None) -> _FloatArray:
        """Drop in training, return a copy of ``inputs`` otherwise."""
        array = self._float_inputs(inputs)
        if self.rate == 0:
            return _copy(array)
        if training is None:
            training = backend.learning_phase()
        if not _training_flag(training):
            return _copy(array)
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(
                array.shape[axis] if size is None else size
                for axis, size in enumerate(self.noise_shape)
            )
        # The layer's own sequence of masks (one per call), not backend.dropout's
        # per-seed one: a layer with a seed is reproducible from its creation.
        seed = int(self._generator.integers(2**63))
        return backend._dropout(array, self.rate, noise_shape, lambda: np.random.default_rng(seed))


class GaussianNoise(Layer):
    """Add zero-centred Gaussian noise of standard deviation ``stddev`` in training only."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not _is_real(stddev) or not float(stddev) >= 0:
            raise ValueError(
                f"Invalid value {stddev!r} received for `stddev`, expected a number >= 0."
            )
        self.stddev = stddev
        self.seed = seed
        self._generator = np.random.default_rng(seed)

    def call(self, inputs: npt.ArrayLike, training: object = None) -> _FloatArray:
        """Return ``inputs`` plus noise in training (``in_train_phase``), a copy otherwise."""
        array = self._float_inputs(inputs)

        def noised() -> _FloatArray:
            noise = self._generator.normal(0.0, float(self.stddev), array.shape)
            noisy: _FloatArray = (array + noise).astype(array.dtype)
            return noisy

        result: _FloatArray = backend.in_train_phase(
            noised, lambda: _copy(array), training=training
        )
        return result


class GaussianDropout(Layer):
    """Multiply by Gaussian noise of mean 1 and stddev ``sqrt(rate / (1 - rate))`` in training.

    ``rate`` must be in [0, 1) (tf_keras accepts anything and is the identity
    outside (0, 1)); ``rate=0`` is the identity.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not _is_real(rate) or not 0 <= float(rate) < 1:
            raise ValueError(
                f"Invalid value {rate!r} received for `rate`, expected a number in [0, 1)."
            )
        self.rate = rate
        self.seed = seed
        self._generator = np.random.default_rng(seed)

    def call(self, inputs: npt.ArrayLike, training: object = None) -> _FloatArray:
        """Return ``inputs`` times noise in training (``in_train_phase``), a copy otherwise."""
        array = self._float_inputs(inputs)
        rate = float(self.rate)
        if not 0 < rate < 1:
            return _copy(array)

        def noised() -> _FloatArray:
            noise = self._generator.normal(1.0, math.sqrt(rate / (1.0 - rate)), array.shape)
            noisy: _FloatArray = (array * noise).astype(array.dtype)
            return noisy

        result: _FloatArray = backend.in_train_phase(
            noised, lambda: _copy(array), training=training
        )
        return result


_Initializer = str | float


def _initial_value(initializer: _Initializer, argument: str) -> float:
    if initializer == "zeros":
        return 0.0
    if initializer == "ones":
        return 1.0
    if _is_real(initializer):
        return float(initializer)
    raise ValueError(
        f"Invalid value {initializer!r} received for `{argument}`, "
        "expected 'zeros', 'ones' or a number."
    )


class BatchNormalization(Layer):
    """Normalise over ``axis``: batch statistics in training, moving statistics in inference.

    In training (and only if ``trainable``), the batch mean and variance
    normalise the input and update ``moving = moving * momentum + batch * (1 -
    momentum)``. The variance that normalises is the biased one; the one that
    updates ``moving_variance`` is biased too, except where tf_keras uses its
    fused kernel (4-D input with axis 1 or 3, 5-D with axis 1 or 4), which
    updates with the unbiased (n / (n - 1)) variance: reproduced here.
    Weights are float32 as in tf_keras; the output keeps the input's floating
    dtype (tf_keras casts it to float32).

    ``momentum`` may be any number, as in tf_keras (outside [0, 1] the moving
    statistics extrapolate); ``epsilon`` must be a number > 0 (tf_keras accepts
    any value and may return ``nan``).
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: _Initializer = "zeros",
        gamma_initializer: _Initializer = "ones",
        moving_mean_initializer: _Initializer = "zeros",
        moving_variance_initializer: _Initializer = "ones",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, int) and not isinstance(axis, bool):
            self.axis: list[int] = [axis]
        elif isinstance(axis, (list, tuple)) and all(
            isinstance(a, int) and not isinstance(a, bool) for a in axis
        ):
            self.axis = list(axis)
        else:
            raise ValueError(
                f"Invalid value {axis!r} received for `axis`, "
                "expected an int or a list/tuple of ints."
            )
        if not _is_real(momentum):
            raise ValueError(
                f"Invalid value {momentum!r} received for `momentum`, expected a number."
            )
        if not _is_real(epsilon) or not float(epsilon) > 0:
            raise ValueError(
                f"Invalid value {epsilon!r} received for `epsilon`, expected a number > 0."
            )
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self._initial = {
            "gamma": _initial_value(gamma_initializer, "gamma_initializer"),
            "beta": _initial_value(beta_initializer, "beta_initializer"),
            "moving_mean": _initial_value(moving_mean_initializer, "moving_mean_initializer"),
            "moving_variance": _initial_value(
                moving_variance_initializer, "moving_variance_initializer"
            ),
        }
        self.gamma: npt.NDArray[np.float32] | None = None
        self.beta: npt.NDArray[np.float32] | None = None
        self.moving_mean: npt.NDArray[np.float32] | None = None
        self.moving_variance: npt.NDArray[np.float32] | None = None
        self._input_shape: tuple[int, ...] = ()

    def build(self, input_shape: Sequence[int]) -> None:
        """Resolve ``axis`` against the input's rank and create the weights."""
        shape = tuple(int(size) for size in input_shape)
        rank = len(shape)
        axes = [a + rank if a < 0 else a for a in self.axis]
        for a in axes:
            if a < 0 or a >= rank:
                raise ValueError(
                    "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank "
                    f"(with inputs.rank={rank}). Received: axis={tuple(axes)}"
                )
        if len(axes) != len(set(axes)):
            raise ValueError(f"Duplicate axis: {tuple(axes)}")
        self.axis = axes
        self._input_shape = shape
        if len(axes) == 1:
            param_shape: tuple[int, ...] = (shape[axes[0]],)
        else:
            param_shape = tuple(shape[i] if i in axes else 1 for i in range(rank))

        def weight(name: str) -> npt.NDArray[np.float32]:
            return np.full(param_shape, self._initial[name], dtype=np.float32)

        self.gamma = weight("gamma") if self.scale else None
        self.beta = weight("beta") if self.center else None
        self.moving_mean = weight("moving_mean")
        self.moving_variance = weight("moving_variance")
        self.built = True

    def _weight_names(self) -> list[str]:
        names = ["gamma"] if self.scale else []
        names += ["beta"] if self.center else []
        return [*names, "moving_mean", "moving_variance"]

    def get_weights(self) -> list[npt.NDArray[Any]]:
        """Return copies of ``[gamma, beta, moving_mean, moving_variance]`` (those that exist)."""
        if not self.built:
            return []
        return [np.array(getattr(self, name)) for name in self._weight_names()]

    def set_weights(self, weights: Sequence[npt.ArrayLike]) -> None:
        """Set ``[gamma, beta, moving_mean, moving_variance]`` (those that exist), as float32.

        As in tf_keras, each weight must have a ``shape`` (an array; a list's
        shape is taken as ``()``) equal to the layer's, and nothing is set
        unless all of them fit.
        """
        super().set_weights(weights)
        names = self._weight_names() if self.built else []
        for name, weight in zip(names, weights, strict=True):
            current = getattr(self, name)
            shape = tuple(weight.shape) if hasattr(weight, "shape") else ()
            if shape != current.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {current.shape} is not compatible "
                    f"with provided weight shape {shape}."
                )
        for name, weight in zip(names, weights, strict=True):
            setattr(self, name, np.array(weight, dtype=np.float32))

    def _check_input_shape(self, shape: tuple[int, ...]) -> None:
        expected = self._input_shape
        if len(shape) != len(expected) or any(shape[a] != expected[a] for a in self.axis):
            raise ValueError(
                f"Input of layer '{self.name}' has shape {shape}, incompatible with the "
                f"shape it was built for, {expected} (axis {tuple(self.axis)} must match)."
            )

    def _broadcast(self, weight: npt.NDArray[np.float32], rank: int) -> npt.NDArray[np.float32]:
        if weight.ndim == rank:
            return weight
        shape = [1] * rank
        shape[self.axis[0]] = weight.shape[0]
        return weight.reshape(shape)

    def _updates_with_unbiased_variance(self, rank: int) -> bool:
        """Return whether tf_keras would use its fused kernel here (see the class docstring)."""
        return (rank == 4 and self.axis in ([1], [3])) or (rank == 5 and self.axis in ([1], [4]))

    def call(self, inputs: npt.ArrayLike, training: object = None) -> _FloatArray:
        """Normalise ``inputs``; in training, also update the moving statistics."""
        array = self._float_inputs(inputs)
        if not self.built:
            self.build(array.shape)
        self._check_input_shape(array.shape)
        if training is None:
            training = backend.learning_phase()
        in_training = _training_flag(training) and self.trainable
        rank = array.ndim
        compute_dtype = np.promote_types(array.dtype, np.float32)
        x = array.astype(compute_dtype, copy=False)
        assert self.moving_mean is not None
        assert self.moving_variance is not None
        if in_training:
            reduction = tuple(i for i in range(rank) if i not in self.axis)
            mean = x.mean(axis=reduction, keepdims=True)
            variance = x.var(axis=reduction, keepdims=True)
            self._update_moving_statistics(mean, variance, array.size // mean.size, rank)
        else:
            mean = self._broadcast(self.moving_mean, rank).astype(compute_dtype)
            variance = self._broadcast(self.moving_variance, rank).astype(compute_dtype)
        # As tf.nn.batch_normalization: fold the statistics, gamma and beta into one
        # scale and one shift per channel, so the whole input is read twice, not five times.
        scale = 1 / np.sqrt(variance + compute_dtype.type(self.epsilon))
        if self.gamma is not None:
            scale = scale * self._broadcast(self.gamma, rank).astype(compute_dtype)
        shift = -mean * scale
        if self.beta is not None:
            shift = shift + self._broadcast(self.beta, rank).astype(compute_dtype)
        normalized = x * scale
        normalized += shift
        result: _FloatArray = normalized.astype(array.dtype, copy=False)
        return result

    def _update_moving_statistics(
        self, mean: _FloatArray, variance: _FloatArray, sample_size: int, rank: int
    ) -> None:
        assert self.moving_mean is not None
        assert self.moving_variance is not None
        if self._updates_with_unbiased_variance(rank) and sample_size > 1:
            variance = variance * (sample_size / (sample_size - 1))
        shape = self.moving_mean.shape
        momentum = self.momentum
        batch_mean = mean.reshape(shape).astype(np.float32)
        batch_variance = variance.reshape(shape).astype(np.float32)
        self.moving_mean = (self.moving_mean * momentum + batch_mean * (1 - momentum)).astype(
            np.float32
        )
        self.moving_variance = (
            self.moving_variance * momentum + batch_variance * (1 - momentum)
        ).astype(np.float32)
