"""Private machinery behind :mod:`v1sim.filters`: samplers, :class:`FilterBank` and the banks.

:mod:`v1sim.filters` is the public namespace; it re-exports ``FilterBank`` and
the bank constructors defined here (split out to keep modules small). The
samplers below do not validate: public functions check inputs at the edge.
Everything is sampled in float64 on a square ``(2*half + 1, 2*half + 1)`` grid;
the caller casts once, at the end.

Grid convention (the same as :mod:`v1sim.stimuli`): ``x`` is the column offset
(right) and ``y`` the row offset (*down*, array order) from the centre. The
rotated frame is ``x' = x cos(theta) + y sin(theta)``,
``y' = -x sin(theta) + y cos(theta)``: ``theta = 0`` makes a carrier or
derivative vary along ``x``, and ``theta`` turns clockwise on screen as
``imshow`` draws the array (towards increasing row index).

References
----------
.. [1] Leung T, Malik J (2001). Representing and recognizing the visual appearance
   of materials using three-dimensional textons. IJCV 43(1):29-44.
.. [2] Schmid C (2001). Constructing models for content-based image retrieval.
   CVPR 2:39-45.
.. [3] Varma M, Zisserman A (2005). A statistical approach to texture
   classification from single images. IJCV 62(1-2):61-81.
.. [4] Oxford VGG filter banks (makeLMfilters.m, makeSfilters.m, makeRFSfilters.m),
   http://www.robots.ox.ac.uk/~vgg/research/texclass/filters.html
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_in_range,
    check_odd_int,
    check_positive_float,
    check_positive_int,
    check_support,
)
from .errors import InputError, InputTypeError

# Leung-Malik basic scales (VGG texclass page; makeLMfilters.m ships the LML set).
LM_SCALES = {
    "LMS": (1.0, math.sqrt(2.0), 2.0, 2.0 * math.sqrt(2.0)),
    "LML": (math.sqrt(2.0), 2.0, 2.0 * math.sqrt(2.0), 4.0),
}
ELONGATION = 3.0  # sigma along the edge / bar = 3 x sigma across it (LM and RFS)
N_ORIENT = 6  # LM and RFS: angles k*pi/6, k = 0..5
RFS_SCALES = (1.0, 2.0, 4.0)
RFS_ISOTROPIC_SIGMA = 10.0
# (sigma, tau) of the 13 Schmid filters, in the order of makeSfilters.m.
SCHMID_PAIRS = (
    (2, 1), (4, 1), (4, 2), (6, 1), (6, 2), (6, 3), (8, 1), (8, 2), (8, 3),
    (10, 1), (10, 2), (10, 3), (10, 4),
)  # fmt: skip


#: float64 grids of one kernel's size alive at once while it is sampled (x, y, x', y', envelope, carrier, ...)
SAMPLE_COPIES = 8
_RECORD_BYTES = 1024  # a bank's per-filter parameter dict and list slots, with margin (sys.getsizeof: ~0.5 kB)


def odd_size(size) -> int | None:
    """Validate an optional kernel ``size`` (odd int >= 1)."""
    return None if size is None else check_odd_int(size, "size")


def half_size(size: int | None, sigma_max: float, n_stds: float, name: str = "sigma", *, value=None,
              count: int = 1) -> int:
    """Half-width of a kernel: ``size // 2``, or ``ceil(n_stds * sigma_max)``; refused if it cannot fit in memory.

    Parameters
    ----------
    size : int or None
        A validated odd size (it wins over the sigma).
    sigma_max, n_stds : float
        The largest standard deviation (pixels) and the half-width in standard deviations.
    name : str
        The user's argument that set ``sigma_max`` (``"sigma"``, ``"frequency"``, ...), blamed when
        the support is too large; ``size`` is blamed when it was given.
    value : float, optional
        That argument's value, for the message (default ``sigma_max``).
    count : int
        Kernels of this size built together (a bank), all held at once.

    Raises
    ------
    InputError
        If the kernels and their sampling grids would need more memory than the machine has,
        or the half-width overflows to infinity (a huge sigma); ``.argument`` is ``size`` or ``name``.
    """
    if size is not None:
        half, arg, why = size // 2, "size", f"size={size} asks for"
    else:
        shown = f"{name}={sigma_max if value is None else value:g}"
        half = check_support(n_stds * sigma_max, name, what=f"{shown} (sigma {sigma_max:.4g} px x {n_stds:g})")
        arg, why = name, f"{shown} (half-width {n_stds:g} x {sigma_max:.4g} px) asks for"
    side = 2 * half + 1
    kernels = f"{count} kernels" if count > 1 else "a kernel"
    # Python ints: side * side cannot overflow here, whatever sigma was
    check_allocation((side, side), np.float64, arg, copies=2 * count + SAMPLE_COPIES,
                     what=f"{why} {kernels} of {side} x {side} pixels")  # fmt: skip
    return half


def grid(half: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (column, right) and ``y`` (row, down) offsets, each (2h+1, 2h+1) float64."""
    r = np.arange(-half, half + 1, dtype=np.float64)
    return np.meshgrid(r, r)


def rotated_grid(half: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(x', y')`` of the frame rotated by ``theta`` (from +x towards +y)."""
    x, y = grid(half)
    c, s = math.cos(theta), math.sin(theta)
    return x * c + y * s, -x * s + y * c


def gaussian(sigma: float, half: int) -> np.ndarray:
    """Isotropic Gaussian normalised to sum 1 on the grid."""
    x, y = grid(half)
    g = np.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    return g / g.sum()


def laplacian_of_gaussian(sigma: float, half: int) -> np.ndarray:
    """Zero-mean LoG (negative centre): grid-normalised G times (r^2 - 2 s^2) / s^4."""
    x, y = grid(half)
    r2 = x * x + y * y
    k = gaussian(sigma, half) * (r2 - 2.0 * sigma * sigma) / sigma**4
    return k - k.mean()


def gaussian_derivative(sigma_x: float, sigma_y: float, order: int, theta: float, half: int) -> np.ndarray:
    """``d^order/dx'^order`` of the anisotropic Gaussian, not normalised."""
    xr, yr = rotated_grid(half, theta)
    vx = sigma_x * sigma_x
    g = np.exp(-xr * xr / (2.0 * vx) - yr * yr / (2.0 * sigma_y * sigma_y))
    if order == 1:
        return -xr / vx * g
    return (xr * xr - vx) / (vx * vx) * g


def zero_mean_l1(k: np.ndarray) -> np.ndarray | None:
    """``normalise.m``: subtract the mean, divide by sum |k|; None if nothing is left."""
    k = k - k.mean()
    total = np.abs(k).sum()
    if not total > 0.0:
        return None
    return k / total


def gabor_sigma(frequency: float, bandwidth: float) -> float:
    """Gaussian sigma (pixels) of a Gabor with a spatial-frequency ``bandwidth`` in octaves.

    ``(2^b + 1) / (2^b - 1)`` is computed as ``coth(b ln2 / 2)``: the same value, without
    ``2^b`` overflowing for a huge ``b`` or ``2^b - 1`` cancelling to 0 for a tiny one (a tiny
    bandwidth gives a huge or infinite sigma, which the support check then refuses).
    """
    return math.sqrt(math.log(2.0) / 2.0) / math.pi / math.tanh(bandwidth * math.log(2.0) / 2.0) / frequency


def gabor_sigma_argument(frequency: float, bandwidth: float) -> tuple[str, float]:
    """Which argument made a default Gabor sigma large: a narrow ``bandwidth``, else the ``frequency``."""
    if gabor_sigma(frequency, bandwidth) > 4.0 * gabor_sigma(frequency, 1.0):
        return "bandwidth", bandwidth
    return "frequency", frequency


def gabor(frequency: float, theta: float, phase: float, sigma_x: float, sigma_y: float, half: int) -> np.ndarray:
    """DC-free real Gabor: envelope x cos(2 pi f x' + phase) minus c x envelope."""
    xr, yr = rotated_grid(half, theta)
    env = np.exp(-xr * xr / (2.0 * sigma_x**2) - yr * yr / (2.0 * sigma_y**2)) / (2.0 * math.pi * sigma_x * sigma_y)
    k = env * np.cos(2.0 * math.pi * frequency * xr + phase)
    return k - (k.sum() / env.sum()) * env


def schmid_filter(sigma: float, tau: float, half: int) -> np.ndarray:
    """Schmid's F(r, sigma, tau) = cos(pi tau r / sigma) exp(-r^2 / 2 sigma^2), raw."""
    x, y = grid(half)
    r = np.hypot(x, y)
    return np.cos(math.pi * tau * r / sigma) * np.exp(-r * r / (2.0 * sigma * sigma))


# ---------------------------------------------------------------------------- banks
# Each builder returns (list of float64 kernels, list of param dicts); kernels can be
# None where the grid was too small to hold them (the caller raises, naming ``size``).


def oriented_set(scales, half: int):
    """Edges (order 1) then bars (order 2), scale-major, 6 orientations each (LM/RFS)."""
    kernels, params = [], []
    for order, kind in ((1, "edge"), (2, "bar")):
        for s in scales:
            for k in range(N_ORIENT):
                # The reference differentiates along its rotated y axis (y up, angle
                # a = k*pi/6): the direction (sin a, cos a) with y up, i.e. (sin a, -cos a)
                # in v1sim's y-down frame, which is theta = a - pi/2.
                theta = math.pi * k / N_ORIENT - math.pi / 2.0
                sx, sy = float(s), ELONGATION * float(s)
                kernels.append(zero_mean_l1(gaussian_derivative(sx, sy, order, theta, half)))
                params.append({"kind": kind, "order": order, "sigma_x": sx, "sigma_y": sy, "theta": theta})
    return kernels, params


def isotropic(kind: str, sigma: float, half: int):
    """A zero-mean, L1-normalised Gaussian or LoG, as the reference's ``normalise(fspecial(...))``."""
    raw = gaussian(sigma, half) if kind == "gaussian" else laplacian_of_gaussian(sigma, half)
    return zero_mean_l1(raw), {"kind": kind, "sigma": float(sigma)}


def lm_set(variant: str, half: int):
    """36 oriented filters, then per basic scale: Gaussian, LoG(s), LoG(3s)."""
    scales = LM_SCALES[variant]
    kernels, params = oriented_set(scales[:3], half)
    for s in scales:
        for kind, sigma in (("gaussian", s), ("log", s), ("log", 3.0 * s)):
            k, p = isotropic(kind, sigma, half)
            kernels.append(k)
            params.append(p)
    return kernels, params


def rfs_set(half: int):
    """The 38 RFS filters: 36 oriented, then Gaussian and LoG at sigma = 10."""
    kernels, params = oriented_set(RFS_SCALES, half)
    for kind in ("gaussian", "log"):
        k, p = isotropic(kind, RFS_ISOTROPIC_SIGMA, half)
        kernels.append(k)
        params.append(p)
    return kernels, params


def schmid_set(half: int):
    """The 13 Schmid filters, zero-mean and L1-normalised."""
    kernels = [zero_mean_l1(schmid_filter(s, t, half)) for s, t in SCHMID_PAIRS]
    params = [{"kind": "schmid", "sigma": float(s), "tau": float(t)} for s, t in SCHMID_PAIRS]
    return kernels, params


def mr8_max(responses: np.ndarray, absolute: bool) -> np.ndarray:
    """(..., 38, H, W) -> (..., 8, H, W): max over orientations, then the isotropic two."""
    oriented = responses[..., :36, :, :]
    if absolute:
        oriented = np.abs(oriented)
    lead, (h, w) = responses.shape[:-3], responses.shape[-2:]
    grouped = oriented.reshape(*lead, 6, N_ORIENT, h, w)
    return np.concatenate([grouped.max(axis=-3), responses[..., 36:, :, :]], axis=-3)


# ------------------------------------------------------------------ FilterBank (public via v1sim.filters)


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
            raise InputTypeError(f"FilterBank index must be an int, a slice or a sequence of int, got {index!r}",
                                 argument="index")  # fmt: skip
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
            raise InputTypeError(f"FilterBank index must be an int, a slice or a sequence of int, got {index!r}",
                                 argument="index")  # fmt: skip
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
        from . import signal

        return signal.apply_bank(images, self, mode=mode, cval=cval, method=method, device=device)


FilterBank.__module__ = "v1sim.filters"  # its public home (pickling, docs)


def _bank(built, name: str, size: int) -> FilterBank:
    kernels, params = built
    for k, p in zip(kernels, params):
        if k is None:
            raise InputError(f"size={size} is too small for the {name} filter {p}: the kernel vanishes",
                             argument="size")
    return FilterBank(np.stack(kernels), tuple(params), name)


# ------------------------------------------------------------------ banks (public via v1sim.filters)


def leung_malik(size=49, variant="LMS") -> FilterBank:
    """The Leung-Malik (LM) bank of 48 filters, as the Oxford VGG ``makeLMfilters.m``.

    Order (0-based): 0-17 first-derivative (edge) filters, 18-35 second-derivative
    (bar) filters, each scale-major over 3 scales ``s`` x 6 orientations
    (``sigma_x = s`` across, ``sigma_y = 3 s`` along the edge); then for each of the
    4 basic scales ``s``: Gaussian(s), LoG(s), LoG(3 s). Basic scales: LMS
    ``1, sqrt2, 2, 2 sqrt2``; LML ``sqrt2, 2, 2 sqrt2, 4`` (the oriented filters use
    the first three). The reference's angle ``a = k pi / 6`` rotates the derivative
    axis from *vertical*; ``params["theta"]`` is v1sim's ``a - pi/2``. As in the
    reference, every filter, the Gaussians included, is zero-mean and
    L1-normalised (so the "Gaussians" are Gaussians minus their mean).

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).
    variant : {"LMS", "LML"}
        Small or large scales.

    Returns
    -------
    FilterBank
        48 kernels of (size, size); ``params`` with ``kind`` in
        {"edge", "bar", "gaussian", "log"} and the sigmas/theta.

    References
    ----------
    .. [1] Leung T, Malik J (2001). IJCV 43(1):29-44.
    """
    size = check_odd_int(size, "size")
    variant = check_choice(variant, "variant", ("LMS", "LML"))
    half_size(size, 0.0, 0.0, count=48)  # refuse a size beyond memory before sampling
    return _bank(lm_set(variant, size // 2), variant, size)


def schmid(size=49) -> FilterBank:
    """The 13 rotation-invariant Schmid filters ``cos(pi tau r / sigma) exp(-r^2 / 2 sigma^2)``.

    ``(sigma, tau)`` = (2,1), (4,1), (4,2), (6,1), (6,2), (6,3), (8,1), (8,2),
    (8,3), (10,1), (10,2), (10,3), (10,4), each zero-mean and L1-normalised
    (Oxford VGG ``makeSfilters.m``).

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).

    Returns
    -------
    FilterBank
        13 kernels of (size, size); ``params`` record ``sigma`` and ``tau``.

    References
    ----------
    .. [1] Schmid C (2001). Constructing models for content-based image retrieval.
       CVPR 2:39-45.
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0, count=len(SCHMID_PAIRS))
    return _bank(schmid_set(size // 2), "Schmid", size)


def mr8(size=49) -> FilterBank:
    """The 38 RFS filters from which the MR8 responses are taken (``makeRFSfilters.m``).

    Order (0-based): 0-17 edges, 18-35 bars, each over scales
    ``(sigma_x, sigma_y) = (1, 3), (2, 6), (4, 12)`` x 6 orientations (scale-major,
    orientation convention as :func:`leung_malik`); 36 Gaussian and 37 LoG at
    ``sigma = 10``. All zero-mean and L1-normalised. Reduce the 38 responses to
    8 with :func:`mr8_responses`.

    Parameters
    ----------
    size : int
        Odd support in pixels (49 in the reference).

    Returns
    -------
    FilterBank
        38 kernels of (size, size).

    References
    ----------
    .. [1] Varma M, Zisserman A (2005). IJCV 62(1-2):61-81.
    """
    size = check_odd_int(size, "size")
    half_size(size, 0.0, 0.0, count=38)
    return _bank(rfs_set(size // 2), "MR8", size)


def mr8_responses(responses, *, absolute=False) -> np.ndarray:
    """Maximum responses: reduce the 38 RFS responses to the 8 rotation-invariant MR8 ones.

    Parameters
    ----------
    responses : (..., 38, H, W) array_like
        Responses to the :func:`mr8` bank, in its order.
    absolute : bool
        Take the maximum of ``|response|`` over orientations (contrast-polarity
        invariant edges, as some MR8 implementations do) instead of the plain max.

    Returns
    -------
    (..., 8, H, W) ndarray, float32 (float64 kept)
        Max over the 6 orientations for edges at scales 1, 2, 4, then bars at
        scales 1, 2, 4, then the Gaussian and LoG responses unchanged.
    """
    r = as_float_array(responses, "responses")
    if r.ndim < 3 or r.shape[-3] != 38:
        raise InputError(f"responses must have shape (..., 38, H, W), got {r.shape}", argument="responses")
    if not isinstance(absolute, (bool, np.bool_)):
        raise InputTypeError(f"absolute must be a bool, got {absolute!r}", argument="absolute")
    return mr8_max(r, bool(absolute))


def _float_list(values, name: str, check) -> list[float]:
    arr = as_float_array(values, name, ndim=(0, 1), dtype=np.float64).ravel()
    return [check(float(v), f"{name}[{i}]") for i, v in enumerate(arr)]


def gabor_bank(
    frequencies=(0.05, 0.1, 0.2, 0.4),
    n_orientations=8,
    phases=(0.0, np.pi / 2),
    *,
    bandwidth=1.0,
    n_stds=3.0,
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
    sigmas = [gabor_sigma(f, bandwidth) for f in freqs]
    count = len(freqs) * n_orientations * len(phs)
    name = "bandwidth" if gabor_sigma_argument(min(freqs), bandwidth)[0] == "bandwidth" else "frequencies"
    check_allocation(count * _RECORD_BYTES, np.uint8, "n_orientations",
                     what=f"a bank of {count} filters (about 1 kB of parameters each)")  # fmt: skip
    value = min(freqs) if name == "frequencies" else bandwidth
    half = half_size(odd_size(size), max(sigmas), n_stds, name, value=value, count=count)
    kernels, params = [], []
    for f, sigma in zip(freqs, sigmas):
        for k in range(n_orientations):
            theta = math.pi * k / n_orientations
            for ph in phs:
                kernels.append(gabor(f, theta, ph, sigma, sigma, half))
                params.append(
                    {"kind": "gabor", "frequency": f, "theta": theta, "phase": ph,
                     "sigma_x": sigma, "sigma_y": sigma, "bandwidth": bandwidth}
                )  # fmt: skip
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
        raise InputError(f"surround_ratio must be > 1 (surround wider than centre), got {ratio}",
                         argument="surround_ratio")  # fmt: skip
    if isinstance(polarities, str) or not isinstance(polarities, Sequence) or not polarities:
        raise InputError(f"polarities must be a non-empty sequence of 'on'/'off', got {polarities!r}",
                         argument="polarities")  # fmt: skip
    pols = [check_choice(p, "polarities", ("on", "off")) for p in polarities]
    # the surround's peak is below 1, so this keeps the float32 kernels finite
    weight = check_in_range(surround_weight, "surround_weight", 0.0, float(np.finfo(np.float32).max))
    size = 2 * half_size(odd_size(size), ratio * max(centers), 3.0, "sigma_centers", value=max(centers),
                         count=len(centers) * len(pols)) + 1  # fmt: skip
    kernels, params = [], []
    for s in centers:
        for pol in pols:
            on = gaussian(s, size // 2) - weight * gaussian(ratio * s, size // 2)
            kernels.append(on if pol == "on" else -on)
            params.append({"kind": "dog", "polarity": pol, "sigma_center": s, "sigma_surround": ratio * s,
                           "surround_weight": weight})  # fmt: skip
    return FilterBank(np.stack(kernels), tuple(params), "DoG")
