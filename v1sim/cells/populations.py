"""Cell populations over whole images: ganglion, simple, complex and hypercomplex cell maps.

Every map is computed through the kernel layer: the linear stage is
:func:`v1sim.signal.apply_bank` (cross-correlation, same-size output, the
screen beyond the image at the background: ``mode="constant"``, contrast 0),
max pooling is :func:`v1sim.pooling.pool2d`, and the end-zone inhibition of
hypercomplex cells is a sparse correlation, again through ``apply_bank``.

As for single cells, images are converted to Weber contrast and each
filter's (or quadrature pair's) drive is divided by its response to its
optimal full-contrast sine grating, the largest value of its discrete
Fourier amplitude (zero-padded FFT); the nonlinearity then gives rates in
spikes/s. A single cell whose centre falls on a pixel agrees with the map
at that pixel (for kernels of the same size, away from the border).
"""

from __future__ import annotations

import math

import numpy as np

from .. import filters, pooling, signal
from .._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_in_range,
    check_odd_int,
    check_positive_float,
    check_support,
)
from ..errors import InputError, InputTypeError
from .base import Nonlinearity, pair_amplitude
from .retina import GANGLION_NONLINEARITY, SURROUND_RATIO, SURROUND_WEIGHT
from .v1 import V1_EXPONENT

__all__ = ["complex_cells", "ganglion_cells", "hypercomplex_cells", "simple_cells"]

_OUTPUTS = ("rate", "drive")
_HALF_SQUARING = Nonlinearity(exponent=V1_EXPONENT)  # default of the simple, complex and hypercomplex maps


def _images(images, background):
    imgs = as_float_array(images, "images", ndim=(2, 3))
    bg = check_in_range(background, "background", 0.0, 1.0, inclusive=(False, True))
    return (imgs - imgs.dtype.type(bg)) / imgs.dtype.type(bg)


def _bank(bank, default):
    """(bank object for apply_bank, float64 kernels (K, kh, kw), params tuple or None)."""
    if bank is None:
        bank = default()
    if isinstance(bank, filters.FilterBank):
        return bank, bank.kernels.astype(np.float64), bank.params
    arr = as_float_array(bank, "bank", ndim=(2, 3), dtype=np.float64)
    arr = arr[None] if arr.ndim == 2 else arr
    return arr, arr, None


def _spectra(kernels):
    """Zero-padded 2-D DFT amplitudes' complex values, (K, n, n) with n >= 8x the kernel."""
    n = max(256, 8 * max(kernels.shape[1:]))
    check_allocation(
        (kernels.shape[0], n, n),
        np.complex128,
        "bank",
        copies=3,
        what=f"the spectra of {kernels.shape[0]} kernels of {kernels.shape[1:]} zero-padded to {n} x {n}",
    )
    return np.fft.fft2(kernels, s=(n, n))


def _linear_units(kernels):
    units = np.abs(_spectra(kernels)).reshape(kernels.shape[0], -1).max(axis=1)
    if not np.all(units > 0):
        raise InputError("bank holds a kernel that responds to no grating (all zeros)", argument="bank")
    return units


def _pair_units(kernels, squared=False):
    spec = _spectra(kernels)
    amp = pair_amplitude(spec[0::2], spec[1::2]).reshape(kernels.shape[0] // 2, -1).max(axis=1)
    return amp * amp if squared else amp


def _nonlinearity(nonlinearity, default: Nonlinearity) -> Nonlinearity:
    if nonlinearity is None:
        return default
    if not isinstance(nonlinearity, Nonlinearity):
        raise InputTypeError(
            f"nonlinearity must be a v1sim.cells.Nonlinearity, got {type(nonlinearity).__name__}",
            argument="nonlinearity",
        )
    return nonlinearity


def _finish(drive, output, nl):
    out = drive if output == "drive" else nl(drive)
    return out.astype(drive.dtype, copy=False)


def _scale(maps, units):
    return maps / units.astype(maps.dtype)[:, None, None]


def ganglion_cells(
    images, bank=None, *, background=0.5, nonlinearity=None, output="rate", method="auto", device="auto"
):
    """Maps of ON and OFF ganglion cells: DoG filtering of contrast, then the nonlinearity.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
        Luminance in [0, 1].
    bank : FilterBank or (K, kh, kw) array_like, optional
        Centre-surround kernels; default :func:`v1sim.filters.dog_bank` with
        centre sigmas 1 and 2 px, surround radius ratio 6 and weight 0.55
        (Croner & Kaplan 1995), ON and OFF.
    background : float in (0, 1]
        Adapting mean luminance (contrast 0).
    nonlinearity : Nonlinearity, optional
        Default: linear-rectified, spontaneous 20 and peak 100 spikes/s (as
        :class:`v1sim.cells.GanglionCell`).
    output : {"rate", "drive"}
        Rates in spikes/s, or drives in units of each kernel's optimal grating.
    method, device : str
        Passed to :func:`v1sim.signal.apply_bank`.

    Returns
    -------
    (K, H, W) or (N, K, H, W) ndarray
        float32 unless ``images`` is float64; cell ``[n, k, y, x]`` has its
        centre on pixel ``(x, y)``.
    """
    c = _images(images, background)
    obj, kernels, _ = _bank(
        bank, lambda: filters.dog_bank((1.0, 2.0), surround_ratio=SURROUND_RATIO, surround_weight=SURROUND_WEIGHT)
    )
    check_choice(output, "output", _OUTPUTS)
    nl = _nonlinearity(nonlinearity, GANGLION_NONLINEARITY)
    maps = signal.apply_bank(c, obj, mode="constant", method=method, device=device)
    return _finish(_scale(maps, _linear_units(kernels)), output, nl)


def _default_gabors():
    return filters.gabor_bank((0.1, 0.2), 8, (0.0, np.pi / 2))


def simple_cells(images, bank=None, *, background=0.5, nonlinearity=None, output="rate", method="auto", device="auto"):
    """Maps of simple cells: each filter of ``bank`` is one cell type, at every pixel.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
        Luminance in [0, 1].
    bank : FilterBank or (K, kh, kw) array_like, optional
        Default :func:`v1sim.filters.gabor_bank` at 0.1 and 0.2 cycles/pixel,
        8 orientations, phases 0 and pi/2 (32 filters).
    background, output, method, device
        As :func:`ganglion_cells`.
    nonlinearity : Nonlinearity, optional
        Default: peak 34, spontaneous 0.8 spikes/s, exponent 2 (half-squaring).

    Returns
    -------
    (K, H, W) or (N, K, H, W) ndarray
    """
    c = _images(images, background)
    obj, kernels, _ = _bank(bank, _default_gabors)
    check_choice(output, "output", _OUTPUTS)
    nl = _nonlinearity(nonlinearity, _HALF_SQUARING)
    maps = signal.apply_bank(c, obj, mode="constant", method=method, device=device)
    return _finish(_scale(maps, _linear_units(kernels)), output, nl)


def _pairs(kernels, name="bank"):
    if kernels.shape[0] % 2:
        raise InputError(
            f"{name} must hold quadrature pairs (even, odd) next to each other, e.g. "
            f"gabor_bank(..., phases=(0, pi/2)); got an odd number of kernels ({kernels.shape[0]})",
            argument=name,
        )


def _energy(c, obj, kernels, energy, method, device):
    """Normalised pair energies (..., K/2, H, W)."""
    _pairs(kernels)
    maps = signal.apply_bank(c, obj, mode="constant", method=method, device=device)
    e, o = maps[..., 0::2, :, :], maps[..., 1::2, :, :]
    amp = np.sqrt(e * e + o * o)
    units = _pair_units(kernels, squared=False)
    amp = _scale(amp, units)
    return amp * amp if energy == "squared" else amp


def complex_cells(
    images,
    bank=None,
    *,
    model="energy",
    energy="amplitude",
    pool_size=None,
    background=0.5,
    nonlinearity=None,
    output="rate",
    method="auto",
    device="auto",
):
    """Maps of complex cells, by the energy model or by max pooling of simple cells.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
        Luminance in [0, 1].
    bank : FilterBank or (2M, kh, kw) array_like, optional
        Quadrature pairs next to each other (even then odd), as
        ``gabor_bank(..., phases=(0, pi/2))`` (the default, as
        :func:`simple_cells`).
    model : {"energy", "max"}
        ``"energy"``: ``sqrt(e^2 + o^2)`` per pair and pixel (Adelson & Bergen
        1985; ``energy="squared"`` gives ``e^2 + o^2``). ``"max"``: the
        Neocognitron C-cell / HMAX C1: ``max(|e|, |o|)`` (rectified simple
        cells of four phases), then :func:`v1sim.pooling.pool2d` max pooling
        over ``pool_size`` x ``pool_size`` positions, stride 1, same size.
    energy : {"amplitude", "squared"}
        Only for ``model="energy"``.
    pool_size : int, optional
        Odd pooling window in pixels (``model="max"``); default the smallest
        odd size >= one period of the bank's lowest ``frequency`` parameter.
    background, nonlinearity, output, method, device
        As :func:`simple_cells` (default exponent 2).

    Returns
    -------
    (M, H, W) or (N, M, H, W) ndarray
        One map per pair.
    """
    c = _images(images, background)
    obj, kernels, params = _bank(bank, _default_gabors)
    model = check_choice(model, "model", ("energy", "max"))
    check_choice(energy, "energy", ("amplitude", "squared"))
    check_choice(output, "output", _OUTPUTS)
    nl = _nonlinearity(nonlinearity, _HALF_SQUARING)
    if model == "energy":
        return _finish(_energy(c, obj, kernels, energy, method, device), output, nl)
    _pairs(kernels)
    if pool_size is None:
        freqs = [p.get("frequency") for p in (params or ()) if "frequency" in p]
        if not freqs:
            raise InputError("pool_size is required when the bank has no 'frequency' parameters", argument="pool_size")
        pool_size = 2 * int(math.ceil(1.0 / min(freqs) / 2.0)) + 1
    pool_size = check_odd_int(pool_size, "pool_size")
    maps = signal.apply_bank(c, obj, mode="constant", method=method, device=device)
    best = np.maximum(np.abs(maps[..., 0::2, :, :]), np.abs(maps[..., 1::2, :, :]))
    units = np.maximum(_linear_units(kernels[0::2]), _linear_units(kernels[1::2]))
    best = _scale(best, units)
    if pool_size > 1:
        best = pooling.pool2d(best, pool_size, 1, pool_size // 2, kind="max", device=device)
    return _finish(best, output, nl)


def _shift_kernel(dx, dy, weight):
    """Correlation kernel: 1 at the centre, -weight bilinearly at +-(dx, dy)."""
    half = int(math.ceil(max(abs(dx), abs(dy)))) + 1
    k = np.zeros((2 * half + 1, 2 * half + 1))
    k[half, half] = 1.0
    for s in (1.0, -1.0):
        x, y = half + s * dx, half + s * dy
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        for yy, wy in ((y0, 1 - fy), (y0 + 1, fy)):
            for xx, wx in ((x0, 1 - fx), (x0 + 1, fx)):
                if wx * wy > 0:
                    k[yy, xx] -= weight * wx * wy
    return k


def hypercomplex_cells(
    images,
    bank=None,
    *,
    end_offset=None,
    end_weight=0.5,
    energy="amplitude",
    thetas=None,
    background=0.5,
    nonlinearity=None,
    output="rate",
    method="auto",
    device="auto",
):
    """Maps of end-stopped cells: energy minus the energies at the two end zones.

    ``H(x) = E(x) - end_weight * (E(x + d u) + E(x - d u))`` per pair, with
    ``u = (-sin theta, cos theta)`` the long axis of the pair's preferred bar
    (sub-pixel shifts interpolated bilinearly), computed as a sparse
    correlation through :func:`v1sim.signal.apply_bank`.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
    bank : FilterBank or (2M, kh, kw) array_like, optional
        Quadrature pairs, as :func:`complex_cells`.
    end_offset : float, optional
        ``d`` in pixels; default ``4 * sigma_y`` from each pair's parameters.
    end_weight : float
        Inhibitory weight of each end zone, >= 0.
    energy : {"amplitude", "squared"}
    thetas : sequence of float, optional
        Orientation of each pair (radians); default the bank's ``theta`` parameters.
    background, nonlinearity, output, method, device
        As :func:`complex_cells`.

    Returns
    -------
    (M, H, W) or (N, M, H, W) ndarray
    """
    c = _images(images, background)
    obj, kernels, params = _bank(bank, _default_gabors)
    check_choice(energy, "energy", ("amplitude", "squared"))
    check_choice(output, "output", _OUTPUTS)
    weight = check_in_range(end_weight, "end_weight", 0.0, math.inf)
    nl = _nonlinearity(nonlinearity, _HALF_SQUARING)
    _pairs(kernels)
    m = kernels.shape[0] // 2
    pair_params = list(params[0::2]) if params else [{}] * m
    if thetas is None:
        if not all("theta" in p for p in pair_params):
            raise InputError("thetas is required when the bank has no 'theta' parameters", argument="thetas")
        thetas = [p["theta"] for p in pair_params]
    thetas = as_float_array(thetas, "thetas", ndim=1, dtype=np.float64)
    if thetas.size != m:
        raise InputError(f"thetas must hold one orientation per pair ({m}), got {thetas.size}", argument="thetas")
    if end_offset is None:
        if not all("sigma_y" in p for p in pair_params):
            raise InputError("end_offset is required when the bank has no 'sigma_y' parameters", argument="end_offset")
        offsets = [4.0 * p["sigma_y"] for p in pair_params]
    else:
        offsets = [check_positive_float(end_offset, "end_offset")] * m
    # the end zones are a correlation kernel reaching +-end_offset: bound it before the energies are computed
    half = check_support(max(offsets) + 1.0, "end_offset", what=f"end_offset={max(offsets):g}")
    check_allocation(
        (2 * half + 1, 2 * half + 1),
        np.float64,
        "end_offset",
        copies=4,
        what=f"end_offset={max(offsets):g} asks for a {2 * half + 1} x {2 * half + 1} end-zone kernel",
    )
    e = _energy(c, obj, kernels, energy, method, device)
    single = e.ndim == 3
    e4 = e[None] if single else e
    out = np.empty_like(e4)
    for k in range(m):
        d, t = offsets[k], thetas[k]
        kern = _shift_kernel(-d * math.sin(t), d * math.cos(t), weight)
        out[:, k] = signal.apply_bank(e4[:, k], kern, mode="constant", method=method, device=device)[:, 0]
    return _finish(out[0] if single else out, output, nl)
