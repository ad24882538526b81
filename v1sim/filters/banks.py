"""Filter banks: :class:`FilterBank`, the Gabor bank and the centre-surround DoG bank.

A bank is an immutable stack of kernels of one size with one parameter record
per filter; it cross-correlates images with every filter through
:func:`v1sim.signal.apply_bank` (:meth:`FilterBank.apply`). The texture banks
(Leung-Malik, Schmid, MR8) are in :mod:`v1sim.filters.texture`; the formulas in
:mod:`v1sim.filters.formulas`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_in_range,
    check_positive_float,
    check_positive_int,
)
from ..errors import InputError, InputTypeError
from . import formulas
from .support import N_STDS, half_size, odd_size

__all__ = ["FilterBank", "dog_bank", "gabor_bank"]

_RECORD_BYTES = 1024  # a bank's per-filter parameter dict and list slots, with margin (sys.getsizeof: ~0.5 kB)


@dataclass(frozen=True, eq=False, repr=False)
class FilterBank:
    """An immutable stack of 2-D kernels with one parameter record per filter.

    Parameters
    ----------
    kernels : (K, kh, kw) array_like
        The filters. Stored as a read-only, C-contiguous float32 copy.
    params : sequence of dict, optional
        One record per filter (e.g. ``{"kind": "edge", "sigma_x": 1.0, ...}``);
        default: K empty dicts. Stored as a tuple of dict copies.
    name : str
        A label (e.g. ``"LMS"``).

    Notes
    -----
    ``_spectra`` is a private cache (kernel FFTs kept by :mod:`v1sim.signal`);
    it takes no part in equality or ``repr``. ``bank[i]`` is a read-only
    (kh, kw) kernel; ``bank[slice]`` or ``bank[list of int / bool mask]`` a
    sub-bank. Banks compare equal when name, params and kernels are equal.
    """

    kernels: np.ndarray
    params: tuple = ()
    name: str = "bank"
    _spectra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        kernels = np.array(as_float_array(self.kernels, "kernels", ndim=3), dtype=np.float32, order="C", copy=True)
        kernels.setflags(write=False)
        n = kernels.shape[0]
        params = tuple(self.params) if self.params is not None else ()
        if not params:
            params = tuple({} for _ in range(n))
        if len(params) != n:
            raise InputError(f"params must hold one record per kernel ({n}), got {len(params)}", argument="params")
        if not all(isinstance(p, Mapping) for p in params):
            raise InputTypeError("params must be a sequence of dicts (one per kernel)", argument="params")
        if not isinstance(self.name, str):
            raise InputTypeError(f"name must be a str, got {type(self.name).__name__}", argument="name")
        object.__setattr__(self, "kernels", kernels)
        object.__setattr__(self, "params", tuple(dict(p) for p in params))

    def __len__(self) -> int:
        return self.kernels.shape[0]

    def __reduce__(self):  # rebuild through __post_init__ (read-only kernels, fresh cache)
        return (FilterBank, (self.kernels, self.params, self.name))

    def __getitem__(self, index):
        if isinstance(index, numbers.Integral) and not isinstance(index, (bool, np.bool_)):
            return self.kernels[int(index)]
        if isinstance(index, slice):
            picks = range(len(self))[index]
        elif isinstance(index, (Sequence, np.ndarray)) and not isinstance(index, str):
            picks = self._picks(np.asarray(index))
        else:
            raise InputTypeError(
                f"FilterBank index must be an int, a slice or a sequence of int, got {index!r}", argument="index"
            )
        picks = list(picks)
        if not picks:
            raise IndexError(f"index {index!r} selects no filter of this bank of {len(self)}")
        return FilterBank(self.kernels[picks], tuple(self.params[i] for i in picks), self.name)

    def index(self, **params) -> int:
        """Position of the first filter whose parameter record matches ``params``.

        Floats match within 1e-9 (angles computed as ``-pi / 2`` and the
        like), everything else by equality.

        Examples
        --------
        >>> lm = leung_malik()
        >>> lm.params[lm.index(kind="bar", sigma_x=2.0, theta=0.0)]["kind"]
        'bar'

        Raises
        ------
        LookupError
            If no filter matches.
        """

        def same(have, want):
            if isinstance(want, float) and isinstance(have, (float, int)):
                return abs(have - want) <= 1e-9 * max(1.0, abs(want))
            return have == want

        for i, p in enumerate(self.params):
            if all(k in p and same(p[k], v) for k, v in params.items()):
                return i
        raise LookupError(f"no filter of {self!r} has parameters {params}")

    def _picks(self, index: np.ndarray):
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise IndexError(f"boolean index must have shape ({len(self)},), got {index.shape}")
            return np.flatnonzero(index).tolist()
        if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
            raise InputTypeError(
                f"FilterBank index must be an int, a slice or a sequence of int, got {index!r}", argument="index"
            )
        return [range(len(self))[int(i)] for i in index]

    def __eq__(self, other):
        if not isinstance(other, FilterBank):
            return NotImplemented
        return (
            self.name == other.name
            and self.params == other.params
            and self.kernels.shape == other.kernels.shape
            and bool(np.array_equal(self.kernels, other.kernels))
        )

    __hash__ = None  # holds arrays

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for p in self.params:
            kind = str(p.get("kind", "?"))
            kinds[kind] = kinds.get(kind, 0) + 1
        return (
            f"FilterBank(name={self.name!r}, n_filters={len(self)}, "
            f"kernel_shape={self.kernels.shape[1:]}, kinds={kinds})"
        )

    def apply(self, images, *, mode="reflect", cval=0.0, method="auto", device="auto"):
        """Cross-correlate images with every filter (``v1sim.signal.apply_bank``).

        Parameters
        ----------
        images : (H, W) or (N, H, W) array_like
        mode : {"reflect", "nearest", "wrap", "constant", ...}
            Border handling, as ``scipy.ndimage.correlate``.
        cval : float
            Fill value for ``mode="constant"``.
        method, device : str
            Passed on to :func:`v1sim.signal.apply_bank`.

        Returns
        -------
        responses : (K, H, W) or (N, K, H, W) ndarray
            Same-size output, origin at each kernel's centre.
        """
        from .. import signal

        return signal.apply_bank(images, self, mode=mode, cval=cval, method=method, device=device)


FilterBank.__module__ = "v1sim.filters"  # its public home (pickling, docs)


def make_bank(built, name: str, size: int) -> FilterBank:
    """A :class:`FilterBank` of ``built = (kernels, params)``; a kernel that vanished (None) is refused naming size."""
    kernels, params = built
    for k, p in zip(kernels, params):
        if k is None:
            raise InputError(
                f"size={size} is too small for the {name} filter {p}: the kernel vanishes", argument="size"
            )
    return FilterBank(np.stack(kernels), tuple(params), name)


def _float_list(values, name: str, check) -> list[float]:
    arr = as_float_array(values, name, ndim=(0, 1), dtype=np.float64).ravel()
    return [check(float(v), f"{name}[{i}]") for i, v in enumerate(arr)]


def gabor_bank(
    frequencies=(0.05, 0.1, 0.2, 0.4),
    n_orientations=8,
    phases=(0.0, np.pi / 2),
    *,
    bandwidth=1.0,
    n_stds=N_STDS,
    size=None,
) -> FilterBank:
    """Gabor kernels over frequencies x orientations x phases, all of one size.

    Orientations are ``theta = k pi / n_orientations``. Order: frequency-major,
    then orientation, then phase (index ``(i_f * n_orientations + i_theta) *
    len(phases) + i_phase``). With ``size=None`` every kernel takes the largest
    size needed, ``2 * ceil(n_stds * sigma(min frequency)) + 1``, so the bank is
    one array. Kernels as :func:`gabor_kernel` (DC-free).

    Parameters
    ----------
    frequencies : float or sequence of float
        Cycles/pixel, each in (0, 0.5].
    n_orientations : int
        Number of orientations in [0, pi), >= 1.
    phases : float or sequence of float
        Carrier phases in radians (0: even, pi/2: odd).
    bandwidth : float
        Octaves (> 0), sets ``sigma`` per frequency.
    n_stds : float
        Half-width in standard deviations when ``size`` is None.
    size : int, optional
        Odd common side length.

    Returns
    -------
    FilterBank
        ``len(frequencies) * n_orientations * len(phases)`` kernels; ``params``
        record ``frequency``, ``theta``, ``phase``, ``sigma_x``, ``sigma_y``,
        ``bandwidth``.
    """
    freqs = _float_list(
        frequencies, "frequencies", lambda v, n: check_in_range(v, n, 0.0, 0.5, inclusive=(False, True))
    )
    n_orientations = check_positive_int(n_orientations, "n_orientations")
    phs = _float_list(phases, "phases", check_finite_float)
    bandwidth = check_positive_float(bandwidth, "bandwidth")
    n_stds = check_positive_float(n_stds, "n_stds")
    sigmas = [formulas.gabor_sigma(f, bandwidth) for f in freqs]
    count = len(freqs) * n_orientations * len(phs)
    name = "bandwidth" if formulas.gabor_sigma_argument(min(freqs), bandwidth)[0] == "bandwidth" else "frequencies"
    check_allocation(
        count * _RECORD_BYTES,
        np.uint8,
        "n_orientations",
        what=f"a bank of {count} filters (about 1 kB of parameters each)",
    )
    value = min(freqs) if name == "frequencies" else bandwidth
    half = half_size(odd_size(size), max(sigmas), n_stds, name, value=value, count=count)
    kernels, params = [], []
    x, y = formulas.grid(half)
    for f, sigma in zip(freqs, sigmas):
        for k in range(n_orientations):
            theta = math.pi * k / n_orientations
            for ph in phs:
                kernels.append(formulas.gabor(x, y, f, theta, ph, sigma, sigma))
                params.append(
                    {
                        "kind": "gabor",
                        "frequency": f,
                        "theta": theta,
                        "phase": ph,
                        "sigma_x": sigma,
                        "sigma_y": sigma,
                        "bandwidth": bandwidth,
                    }
                )
    return FilterBank(np.stack(kernels), tuple(params), "Gabor")


def dog_bank(
    sigma_centers=(1.0, 2.0, 4.0), *, surround_ratio=1.6, surround_weight=1.0, polarities=("on", "off"), size=None
) -> FilterBank:
    """ON and OFF centre-surround DoG kernels at several scales, all of one size.

    Parameters
    ----------
    sigma_centers : float or sequence of float
        Centre standard deviations in pixels, > 0.
    surround_ratio : float
        ``sigma_surround / sigma_center``, > 1 (1.6 approximates the LoG, Marr & Hildreth).
    surround_weight : float
        As in :func:`dog_kernel` (1.0: balanced).
    polarities : sequence of {"on", "off"}
        Polarities per scale.
    size : int, optional
        Odd common side length; default ``2 * ceil(3 * max sigma_surround) + 1``.

    Returns
    -------
    FilterBank
        ``len(sigma_centers) * len(polarities)`` kernels, scale-major.
    """
    centers = _float_list(sigma_centers, "sigma_centers", check_positive_float)
    ratio = check_positive_float(surround_ratio, "surround_ratio")
    if ratio <= 1.0:
        raise InputError(
            f"surround_ratio must be > 1 (surround wider than centre), got {ratio}", argument="surround_ratio"
        )
    if isinstance(polarities, str) or not isinstance(polarities, Sequence) or not polarities:
        raise InputError(
            f"polarities must be a non-empty sequence of 'on'/'off', got {polarities!r}", argument="polarities"
        )
    pols = [check_choice(p, "polarities", ("on", "off")) for p in polarities]
    # the surround's peak is below 1, so this keeps the float32 kernels finite
    weight = check_in_range(surround_weight, "surround_weight", 0.0, float(np.finfo(np.float32).max))
    size = (
        2
        * half_size(
            odd_size(size),
            ratio * max(centers),
            N_STDS,
            "sigma_centers",
            value=max(centers),
            count=len(centers) * len(pols),
        )
        + 1
    )
    kernels, params = [], []
    x, y = formulas.grid(size // 2)
    for s in centers:
        for pol in pols:
            kernels.append(formulas.dog(x, y, s, ratio * s, weight, 1.0 if pol == "on" else -1.0))
            params.append(
                {
                    "kind": "dog",
                    "polarity": pol,
                    "sigma_center": s,
                    "sigma_surround": ratio * s,
                    "surround_weight": weight,
                }
            )
    return FilterBank(np.stack(kernels), tuple(params), "DoG")
