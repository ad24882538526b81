"""The one place that checks public inputs and raises clear errors.

Every public function of v1sim validates its arguments here, at the edge, so
that kernels below can assume well-formed, contiguous arrays and no raw Numba
typing error ever reaches a user. Messages name the argument and show what was
expected against what was received.

Conventions (:mod:`v1sim.errors`): :class:`~v1sim.errors.InputError` (a
``ValueError``) for shape, range and size, :class:`~v1sim.errors.NonFiniteError`
for NaN and infinity, :class:`~v1sim.errors.InputTypeError` (a ``TypeError``)
for dtypes and Python types; each carries the offending ``argument``.

Sizes are bounded before memory is touched: :func:`check_allocation` refuses
any array a user-supplied number would make larger than :func:`memory_limit`
(the machine's physical memory, or ``V1SIM_MAX_BYTES``), with the bytes it
would need, instead of a ``MemoryError``, a swap storm or a hang.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import InputError, InputTypeError, NonFiniteError
from .memory import MEMORY_ENV, check_allocation, check_support, format_bytes, memory_limit

__all__ = [
    "MEMORY_ENV",
    "as_array",
    "as_float_array",
    "check_allocation",
    "check_axis",
    "check_choice",
    "check_finite_float",
    "check_float_dtype",
    "check_int_pair",
    "check_labels",
    "check_ndim",
    "check_nonnegative_int",
    "check_odd_int",
    "check_positive_float",
    "check_positive_int",
    "check_rng",
    "check_in_range",
    "check_support",
    "describe",
    "float_dtype",
    "format_bytes",
    "memory_limit",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def describe(value) -> str:
    """Short description of a value for error messages (an array's shape and dtype, else a clipped repr)."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """Result dtype of v1sim operations: float64 if any input is float64, else float32."""
    for a in arrays:
        if a.dtype == np.float64:
            return np.dtype(np.float64)
    return np.dtype(np.float32)


def as_float_array(
    value,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    allow_nonfinite: bool = False,
    allow_empty: bool = False,
    dtype=None,
) -> np.ndarray:
    """Coerce ``value`` to a C-contiguous float32/float64 array, or raise.

    Parameters
    ----------
    value : array_like
        The input. Real integer and float dtypes are accepted; integers (and
        float16) are promoted to float32, float64 is kept unless ``dtype``
        says otherwise.
    name : str
        Argument name used in error messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    allow_nonfinite : bool
        Whether NaN and infinity are allowed.
    allow_empty : bool
        Whether an array with a zero-length axis is allowed.
    dtype : dtype, optional
        Force this float dtype (float32 or float64).

    Returns
    -------
    ndarray
        C-contiguous float32 or float64 array. A copy is made only when
        needed; callers never write into it.

    Raises
    ------
    TypeError
        For complex, boolean, object, string or other non-real dtypes.
    ValueError
        For a wrong number of dimensions, empty arrays, or non-finite values.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise InputTypeError(f"{name} must be a real-valued array, got {describe(value)}", argument=name)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise InputTypeError(
            f"{name} must be a real-valued array, got {describe(value)}: {exc}", argument=name
        ) from None
    kind = arr.dtype.kind
    if kind not in "iuf":
        what = {"b": "boolean", "c": "complex", "O": "object", "U": "string", "S": "bytes"}.get(kind, str(arr.dtype))
        raise InputTypeError(
            f"{name} must have a real integer or floating dtype (float32 recommended), got {what} dtype {arr.dtype}",
            argument=name,
        )
    if ndim is not None:
        check_ndim(arr, name, ndim)
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} must not be empty, got an array of shape {arr.shape}", argument=name)
    if dtype is not None:
        target = np.dtype(dtype)
    elif arr.dtype in _FLOAT_DTYPES:
        target = arr.dtype
    else:
        target = np.dtype(np.float32)
    arr = np.ascontiguousarray(arr, dtype=target)
    if not allow_nonfinite and arr.size and not np.isfinite(arr).all():
        n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{name} must be finite, got {n_bad} NaN or infinite value(s)", argument=name)
    return arr


_KIND_NAMES = {
    "b": "boolean",
    "i": "integer",
    "u": "unsigned integer",
    "f": "floating",
    "c": "complex",
    "O": "object",
    "U": "string",
    "S": "bytes",
}
_WANTED = {"iu": "an integer array", "biu": "a boolean or integer array", "biuf": "a real-valued (or boolean) array"}


def as_array(value, name: str, kinds: str = "iu") -> np.ndarray:
    """``np.asarray(value)`` if its dtype kind is one of ``kinds`` (default integers), else an InputTypeError.

    For arrays that are not converted to float (labels, counts): strings, ``None`` and ragged lists are refused
    by name instead of surfacing NumPy's "inhomogeneous shape" ValueError or an object array.
    """
    wanted = _WANTED.get(kinds, f"an array of dtype kind {kinds!r}")
    if isinstance(value, (str, bytes)) or value is None:
        raise InputTypeError(f"{name} must be {wanted}, got {describe(value)}", argument=name)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        raise InputTypeError(f"{name} must be {wanted}, got {describe(value)} (ragged?)", argument=name) from None
    if arr.dtype.kind not in kinds:
        raise InputTypeError(
            f"{name} must be {wanted}, got {_KIND_NAMES.get(arr.dtype.kind, 'a')} dtype {arr.dtype}", argument=name
        )
    return arr


def check_labels(labels, n: int, name: str = "labels") -> np.ndarray:
    """Class labels for ``n`` samples: integers of shape (n,), all >= 0, returned as int64.

    The one rule for labels at every trainer's edge (:func:`v1sim.nn.train.fit`
    and the hierarchy models); strings, ``None``, ragged lists and floats are an
    :class:`~v1sim.errors.InputTypeError`, a wrong length or a negative label an
    :class:`~v1sim.errors.InputError`, each naming ``name``.
    """
    y = as_array(labels, name)
    if y.shape != (n,):
        raise InputError(f"{name} must have shape ({n},) to match the images, got {y.shape}", argument=name)
    if n and y.min() < 0:
        raise InputError(f"{name} must be >= 0, got {y.min()}", argument=name)
    return y.astype(np.int64)


def check_ndim(arr: np.ndarray, name: str, ndim: int | Sequence[int]) -> None:
    """Raise ValueError unless ``arr.ndim`` is one of ``ndim``."""
    allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise InputError(f"{name} must be {want}, got a {arr.ndim}-D array of shape {arr.shape}", argument=name)


def _check_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be an integer, got {describe(value)}", argument=name)
    return int(value)


_MAX_COUNT = 2**62  # sizes, strides and counts above this overflow the kernels' int64 arithmetic


def _check_count(value: int, name: str) -> int:
    """``value`` unless it is beyond any size a machine can hold (and beyond Numba's int64)."""
    if value >= _MAX_COUNT:
        raise InputError(
            f"{name} must be below 2**62, got {value}: a size or count that large would need more "
            f"memory than any machine has (and overflows 64-bit index arithmetic)",
            argument=name,
        )
    return value


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as int, or raise unless it is an integer >= 1."""
    v = _check_int(value, name)
    if v < 1:
        raise InputError(f"{name} must be a positive integer (>= 1), got {v}", argument=name)
    return _check_count(v, name)


def check_nonnegative_int(value, name: str) -> int:
    """Return ``value`` as int, or raise unless it is an integer >= 0."""
    v = _check_int(value, name)
    if v < 0:
        raise InputError(f"{name} must be a non-negative integer (>= 0), got {v}", argument=name)
    return v


def check_int_pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Accept an int or a pair of ints (rows, cols), each >= ``minimum`` and below 2**62."""
    if isinstance(value, np.ndarray) and value.ndim == 0:  # a 0-d array is a scalar, not a pair
        value = value.item()
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = tuple(value)
        if len(items) != 2:
            raise InputError(f"{name} must be an integer or a pair of integers, got {describe(value)}", argument=name)
    else:
        items = (value, value)
    out = tuple(_check_int(v, name) for v in items)
    if min(out) < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value!r}", argument=name)
    for v in out:
        _check_count(v, name)
    return out  # type: ignore[return-value]


def _check_real(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputTypeError(f"{name} must be a real number, got {describe(value)}", argument=name)
    v = float(value)
    if not np.isfinite(v):
        raise NonFiniteError(f"{name} must be finite, got {v}", argument=name)
    return v


def check_finite_float(value, name: str) -> float:
    """Return ``value`` as a finite float, or raise."""
    return _check_real(value, name)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a float > 0, or raise."""
    v = _check_real(value, name)
    if v <= 0:
        raise InputError(f"{name} must be positive (> 0), got {v}", argument=name)
    return v


def check_in_range(value, name: str, low: float, high: float, *, inclusive: tuple[bool, bool] = (True, True)) -> float:
    """Return ``value`` as a float within [low, high] (ends per ``inclusive``), or raise."""
    v = _check_real(value, name)
    lo_ok = v >= low if inclusive[0] else v > low
    hi_ok = v <= high if inclusive[1] else v < high
    if not (lo_ok and hi_ok):
        left = "[" if inclusive[0] else "("
        right = "]" if inclusive[1] else ")"
        raise InputError(f"{name} must lie in {left}{low}, {high}{right}, got {v}", argument=name)
    return v


def check_axis(value, name: str, ndim: int) -> int:
    """Return ``value`` as a non-negative axis of an ``ndim``-D array, or raise unless it lies in [-ndim, ndim)."""
    v = _check_int(value, name)
    if not -ndim <= v < ndim:
        raise InputError(f"{name} must lie in [{-ndim}, {ndim}) for a {ndim}-D array, got {v}", argument=name)
    return v % ndim


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), or raise."""
    if not isinstance(value, str):
        raise InputTypeError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {describe(value)}", argument=name
        )
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}", argument=name)
    return value


def check_rng(rng) -> np.random.Generator:
    """Coerce ``rng`` (None, int seed or Generator) with ``np.random.default_rng``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and rng < 0:
        raise InputError(f"rng must be a non-negative integer seed, got {rng}", argument="rng")
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_))):
        return np.random.default_rng(rng)
    raise InputTypeError(
        f"rng must be None, an integer seed or a numpy.random.Generator, got {describe(rng)}", argument="rng"
    )


def check_odd_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise unless it is an odd integer >= ``minimum`` (kernel sizes)."""
    v = _check_int(value, name)
    if v < minimum or v % 2 == 0:
        raise InputError(f"{name} must be an odd integer >= {minimum}, got {v}", argument=name)
    return _check_count(v, name)


def check_float_dtype(value, name: str = "dtype") -> np.dtype:
    """Return ``value`` as a NumPy dtype, or raise TypeError unless it is float32 or float64."""
    dt = None
    if value is not None:  # np.dtype(None) is float64: refuse it explicitly
        try:
            dt = np.dtype(value)
        except TypeError:
            pass
    if dt is None or not any(dt == ok for ok in _FLOAT_DTYPES):
        raise InputTypeError(f"{name} must be float32 or float64, got {describe(value)}", argument=name)
    return dt
