"""Sizes bounded before memory is touched.

:func:`check_allocation` refuses any array a user-supplied number would make
larger than :func:`memory_limit` (the machine's physical memory, its cgroup
limit, or ``V1SIM_MAX_BYTES``), with the bytes it would need, instead of a
``MemoryError``, a swap storm or a hang. :func:`check_support` turns a
kernel's half-width into a size that cannot overflow. Re-exported by
:mod:`v1sim._core.validate`, the one module public-edge checks import from.
"""

from __future__ import annotations

import decimal
import math
import numbers
import os

import numpy as np

from ..errors import InputError

__all__ = ["MEMORY_ENV", "check_allocation", "check_support", "format_bytes", "memory_limit"]

#: Environment variable that overrides :func:`memory_limit` (bytes; ``"2e9"`` is accepted).
MEMORY_ENV = "V1SIM_MAX_BYTES"
_FALLBACK_BYTES = 8 * 2**30  # where the OS will not say how much memory there is


def _physical_memory() -> int:
    """Physical memory in bytes, lowered to a cgroup (container) limit if one is set."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX, or the name is unknown here
        total = 0
    if total <= 0:
        total = _FALLBACK_BYTES
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:  # "max" or a huge number means no limit
            total = int(text)
        break
    return total


_PHYSICAL: list[int] = []  # computed once, on first use


def memory_limit() -> int:
    """The most bytes one v1sim allocation (with its working copies) may need.

    ``V1SIM_MAX_BYTES`` when set (tests lower it), else the machine's physical
    memory (or its container's limit): a request beyond it cannot succeed
    without swapping the machine to a halt, so it is refused up front. The
    limit is deliberately the *total*, not the free, memory, so the same call
    is not refused one minute and accepted the next.

    Raises
    ------
    InputError
        If ``V1SIM_MAX_BYTES`` is set but is not a positive number (``.argument``
        is ``"V1SIM_MAX_BYTES"``).
    """
    env = os.environ.get(MEMORY_ENV, "").strip()
    if env:
        try:
            value = float(env)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 1):
            raise InputError(
                f"environment variable {MEMORY_ENV} must be a positive number of bytes, got {env!r}",
                argument=MEMORY_ENV,
            )
        return int(value)
    if not _PHYSICAL:
        _PHYSICAL.append(_physical_memory())
    return _PHYSICAL[0]


def _limit_text(cap: int) -> str:
    if os.environ.get(MEMORY_ENV, "").strip():
        return f"the {format_bytes(cap)} allowed by {MEMORY_ENV}"
    return f"the {format_bytes(cap)} this machine has (set {MEMORY_ENV} to change the limit)"


def format_bytes(n: int | float) -> str:
    """``n`` bytes in decimal units, three significant digits (``"1.2 GB"``, ``"8e+06 PB"``)."""
    if n >= 10**21:  # exact: a huge int product does not fit a float
        return f"{decimal.Decimal(int(n)) / 10**15:.3g} PB"
    n = float(n)
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} bytes"


def check_allocation(shape, dtype, name: str, *, copies: float = 1, what: str | None = None) -> int:
    """Refuse, before anything is allocated, an array too large for this machine.

    Parameters
    ----------
    shape : int or sequence of int
        The array's shape, or its number of elements. Python integers are
        multiplied exactly, so a product that would overflow int64 (and wrap
        to a small or negative size in NumPy) is caught too.
    dtype : dtype
        Element type.
    name : str
        The user's argument that set the size, as they wrote it (``"sigma"``,
        ``"padding"``, ``"shape"``); it becomes the error's ``argument``.
    copies : float
        How many arrays of this size the operation holds at once (working
        copies, temporaries), so the bound is on what it really needs.
    what : str, optional
        What the size is for, e.g. ``"sigma=1e9 gives a 6000000001 x
        6000000001 kernel"``; default ``"an array of shape (...)"``.

    Returns
    -------
    int
        The bytes needed.

    Raises
    ------
    InputError
        If the bytes needed exceed :func:`memory_limit`; the message names
        ``name`` and states the bytes needed and the limit.
    """
    dims = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    count = math.prod(int(d) for d in dims)
    dt = np.dtype(dtype)
    need = count * dt.itemsize * copies
    cap = memory_limit()
    if need > cap:
        what = what or f"an array of shape {tuple(int(d) for d in dims)}"
        held = f"{copies:g} {dt.name} arrays of that size at once" if copies != 1 else dt.name
        raise InputError(
            f"{name}: {what}, which would need {format_bytes(need)} of memory ({held}), more than {_limit_text(cap)}",
            argument=name,
        )
    return int(need)


def check_support(extent: float, name: str, *, what: str) -> int:
    """``ceil(extent)`` as an int, or an InputError naming ``name`` when ``extent`` is beyond any memory.

    A kernel's half-width ``n_stds * sigma`` overflows to infinity for huge
    sigmas (``math.ceil(inf)`` would raise OverflowError); above ``2**62``
    pixels the (2h+1)^2 support cannot exist anywhere, and refusing it here
    keeps 300-digit sizes out of messages. NaN is refused the same way.

    Raises
    ------
    InputError
        With ``.argument`` = ``name``.
    """
    if not extent <= 2.0**62:  # inf, NaN, or so wide that squaring it is beyond any memory
        raise InputError(
            f"{name}: {what} has a half-width of {extent:.3g} pixels; a support that wide would need more memory "
            f"than any machine has, more than {_limit_text(memory_limit())}",
            argument=name,
        )
    return int(math.ceil(extent))
