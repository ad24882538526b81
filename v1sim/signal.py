"""Filtering: 2-D correlation and convolution, filter banks over image batches.

Three entry points, one engine underneath:

:func:`correlate2d`, :func:`convolve2d`
    scipy.signal semantics for two 2-D arrays (modes ``full``/``same``/
    ``valid``, boundaries ``fill``/``wrap``/``symm``).
:func:`apply_bank`
    A batch of images through a filter bank, same-size output, with
    scipy.ndimage boundary modes (``reflect``/``nearest``/``mirror``/
    ``wrap``/``constant``). This is how simple-cell populations are computed.
:func:`correlate_batch`
    The ConvNet layer's forward pass: (N, C, H, W) x (K, C, kh, kw) with
    stride and zero padding, ``W2 = (W1 - F + 2P)/S + 1``.

All three pad the input in Python (the boundary rule lives there, nowhere
else) and then run one *valid* cross-correlation, computed by whichever of
four methods the cost model expects to be fastest:

``"direct"``
    Numba loops; row-vectorised for few filters, filter-vectorised for many.
``"gemm"``
    The ConvNet engine's CPU convolution (:mod:`v1sim.kernels.conv_blocks`): shifted BLAS products
    for banks of many weights, Winograd's F(2x2, 3x3) for wide 3x3 layers, im2col blocks, or direct
    sums along rows for thin patches.
``"fft"``
    One real FFT per image channel shared by the whole bank; the bank's
    spectra are cached on a :class:`v1sim.filters.FilterBank` and reused
    across calls (stride 1 only).

Correlation vs convolution: :func:`correlate2d`, :func:`apply_bank` and
:func:`correlate_batch` cross-correlate (no kernel flip, as ConvNets and
scipy.ndimage.correlate do); :func:`convolve2d` flips the kernel, as the
lecture's formula ``g[x,y] = sum f[n1,n2] h[x-n1, y-n2]`` and scipy do.
"""

from __future__ import annotations

import numpy as np

from ._core.validate import (
    as_float_array,
    check_allocation,
    check_choice,
    check_finite_float,
    check_int_pair,
    check_nonnegative_int,
    check_positive_int,
    float_dtype,
)
from .backend import resolve_device
from .errors import InputError
from .kernels.correlate import correlate_valid
from .kernels.ops import out_len, pad

__all__ = ["apply_bank", "convolve2d", "correlate2d", "correlate_batch", "output_size"]

METHODS = ("auto", "direct", "gemm", "fft")
BANK_MODES = ("reflect", "nearest", "mirror", "wrap", "constant")
_NDIMAGE_TO_NUMPY = {"reflect": "symmetric", "nearest": "edge", "mirror": "reflect", "wrap": "wrap"}
_SCIPY_BOUNDARY = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}


def output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a correlation: ``(n - f + 2 p) // s + 1`` (checked; the formula's home is
    :func:`v1sim.kernels.ops.out_len`).

    Parameters
    ----------
    n, f : int
        Input and filter length.
    stride, padding : int
        Stride S and zero padding P on each side.

    Returns
    -------
    int
        ``(N - F + 2P) / S + 1``, rounded down (the last partial window is
        dropped, as in PyTorch).

    Raises
    ------
    InputError
        If the filter does not fit the padded input (``.argument`` is ``"f"``),
        or an argument is not a positive (``padding``: non-negative) integer.
    InputTypeError
        If an argument is not an integer.
    """
    n, f = check_positive_int(n, "n"), check_positive_int(f, "f")
    stride, padding = check_positive_int(stride, "stride"), check_nonnegative_int(padding, "padding")
    return out_len(n, f, stride, padding, argument="f")


# --------------------------------------------------------------------------
# scipy.signal idiom
# --------------------------------------------------------------------------


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, device="auto"):
    """Cross-correlate two 2-D arrays, with scipy.signal.correlate2d's semantics.

    ``out[i, j] = sum_{u,v} in1[i + u - o_y, j + v - o_x] * in2[u, v]``: the
    kernel slides over the image without flipping ("elementwise
    multiplication and sum of a filter and the signal").

    Parameters
    ----------
    in1 : (H, W) array_like
        The image.
    in2 : (kh, kw) array_like
        The kernel.
    mode : {"full", "same", "valid"}
        Output size: ``full`` (H+kh-1, W+kw-1); ``same`` (H, W), centred on
        the full output; ``valid`` (H-kh+1, W-kw+1), only where the kernel
        fits, so it must not be larger than the image.
    boundary : {"fill", "wrap", "symm"}
        How the image continues past its border: ``fillvalue``, periodic, or
        mirrored with the edge pixel repeated.
    fillvalue : float
        Value outside the image for ``boundary="fill"``.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend (see :mod:`v1sim.backend`).

    Returns
    -------
    ndarray, float32 or float64
        float64 if either input is float64, else float32.

    See Also
    --------
    convolve2d : the same with the kernel flipped.
    apply_bank : many images through many kernels.
    scipy.signal.correlate2d : the reference semantics.

    Examples
    --------
    The lecture's worked example: a 3x3 mean filter over a 10x10 image gives
    an 8x8 valid output.

    >>> import numpy as np, v1sim
    >>> f = np.zeros((10, 10)); f[2:7, 3:8] = 90; f[5, 4] = 0; f[8, 2] = 90
    >>> g = v1sim.correlate2d(f, np.ones((3, 3)) / 9, mode="valid")
    >>> g.shape, round(float(g[0, 1]))
    ((8, 8), 10)
    """
    image = as_float_array(in1, "in1", ndim=2)
    kern = as_float_array(in2, "in2", ndim=2)
    check_choice(mode, "mode", ("full", "same", "valid"))
    check_choice(boundary, "boundary", tuple(_SCIPY_BOUNDARY))
    fill = check_finite_float(fillvalue, "fillvalue")
    device = resolve_device(device)
    dtype = float_dtype(image, kern)
    image, kern = image.astype(dtype, copy=False), kern.astype(dtype, copy=False)
    (h, w), (kh, kw) = image.shape, kern.shape
    if mode == "valid":
        if kh > h or kw > w:
            raise InputError(
                f"in2 must not be larger than in1 in 'valid' mode: in1 has shape {image.shape}, "
                f"in2 has shape {kern.shape}",
                argument="in2",
            )
        padded = image
    else:
        # full/same pad by the kernel on every side: a long thin image and a tall thin kernel multiply
        hp, wp = h + 2 * (kh - 1), w + 2 * (kw - 1)
        check_allocation(
            (hp, wp),
            dtype,
            "in2",
            copies=2,
            what=f"in2 of shape {kern.shape} pads in1 of shape {image.shape} to {hp} x {wp}",
        )
        padded = pad(image, (kh - 1, kh - 1, kw - 1, kw - 1), _SCIPY_BOUNDARY[boundary], fill)
    full = correlate_valid(padded[None, None], kern[None, None], (1, 1), "auto", device)[0, 0]
    if mode == "same":
        # scipy centres 'same' on the full output; for correlation the offset
        # rounds the other way than for convolution (the kernel is not flipped).
        top, left = kh // 2, kw // 2
        return np.ascontiguousarray(full[top : top + h, left : left + w])
    return full


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, device="auto"):
    """Convolve two 2-D arrays, with scipy.signal.convolve2d's semantics.

    ``g[x, y] = sum_{n1, n2} f[n1, n2] h[x - n1, y - n2]``: correlation with
    the kernel flipped in both axes.

    Parameters
    ----------
    in1 : (H, W) array_like
        The image.
    in2 : (kh, kw) array_like
        The kernel.
    mode : {"full", "same", "valid"}
        Output size, as in :func:`correlate2d`.
    boundary : {"fill", "wrap", "symm"}
        How the image continues past its border.
    fillvalue : float
        Value outside the image for ``boundary="fill"``.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend.

    Returns
    -------
    ndarray, float32 or float64

    See Also
    --------
    correlate2d : no flip.
    scipy.signal.convolve2d : the reference semantics.
    """
    kern = as_float_array(in2, "in2", ndim=2)
    check_choice(mode, "mode", ("full", "same", "valid"))  # before it is compared below
    flipped = kern[::-1, ::-1]
    if mode == "same":
        # Re-centre: convolution's 'same' window starts at (kh-1)//2, correlation's at kh//2.
        image = as_float_array(in1, "in1", ndim=2)
        full = correlate2d(image, flipped, "full", boundary, fillvalue, device=device)
        kh, kw = kern.shape
        top, left = (kh - 1) // 2, (kw - 1) // 2
        return np.ascontiguousarray(full[top : top + image.shape[0], left : left + image.shape[1]])
    return correlate2d(in1, flipped, mode, boundary, fillvalue, device=device)


# --------------------------------------------------------------------------
# Filter banks over image batches
# --------------------------------------------------------------------------


def _bank_array(bank):
    """(K, kh, kw) kernels and the spectrum cache of a FilterBank-like object."""
    kernels_ = getattr(bank, "kernels", bank)
    cache = getattr(bank, "_spectra", None)
    arr = as_float_array(kernels_, "bank", ndim=(2, 3))
    if arr.ndim == 2:
        arr = arr[None]
    return arr, cache


def apply_bank(images, bank, *, mode="reflect", cval=0.0, method="auto", device="auto"):
    """Correlate every image with every filter of a bank (same-size output).

    The population response of a bank of simple cells: output ``[n, k]`` is
    ``scipy.ndimage.correlate(images[n], bank[k], mode=mode, cval=cval)``,
    the filter centred at ``(kh // 2, kw // 2)``.

    Parameters
    ----------
    images : (H, W) or (N, H, W) array_like
        One image or a batch of grey images.
    bank : FilterBank or (K, kh, kw) or (kh, kw) array_like
        The filters. A :class:`v1sim.filters.FilterBank` caches its FFTs,
        so repeated calls on same-sized images skip the bank's transforms.
    mode : {"reflect", "nearest", "mirror", "wrap", "constant"}
        How images extend past their border, as in scipy.ndimage:
        ``reflect`` (d c b a | a b c d | d c b a), ``nearest`` (edge value),
        ``mirror`` (d c b | a b c d | c b a), ``wrap`` (periodic),
        ``constant`` (``cval``).
    cval : float
        Fill value for ``mode="constant"``.
    method : {"auto", "direct", "gemm", "fft"}
        How to compute; ``auto`` picks by estimated cost (FFT for large
        kernels, direct loops for small ones).
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend (``cuda`` always computes directly).

    Returns
    -------
    ndarray
        (K, H, W) for one image, (N, K, H, W) for a batch; float32 unless an
        input is float64.

    See Also
    --------
    v1sim.filters.FilterBank.apply : the same, as a method.
    scipy.ndimage.correlate : the reference for one image and one filter.
    """
    imgs = as_float_array(images, "images", ndim=(2, 3))
    w, cache = _bank_array(bank)
    check_choice(mode, "mode", BANK_MODES)
    check_choice(method, "method", METHODS)
    cval = check_finite_float(cval, "cval")
    device = resolve_device(device)
    dtype = float_dtype(imgs, w)
    single = imgs.ndim == 2
    x = imgs[None] if single else imgs
    x = x.astype(dtype, copy=False)[:, None]  # (N, 1, H, W)
    w = w.astype(dtype, copy=False)
    kh, kw = w.shape[1:]
    n, h, wd = x.shape[0], x.shape[2], x.shape[3]
    check_allocation(
        (n * (h + kh - 1) * (wd + kw - 1) + n * w.shape[0] * h * wd),
        dtype,
        "bank",
        what=f"{w.shape[0]} filters of {kh} x {kw} on {n} image(s) of {h} x {wd} (padded input and "
        f"(N, K, H, W) output)",
    )
    pads = (kh // 2, kh - 1 - kh // 2, kw // 2, kw - 1 - kw // 2)
    padded = pad(x, pads, _NDIMAGE_TO_NUMPY.get(mode, "constant"), cval)
    out = correlate_valid(padded, w[:, None], (1, 1), method, device, cache=cache)
    return out[0] if single else out


def correlate_batch(x, weight, bias=None, *, stride=1, padding=0, method="auto", device="auto"):
    """Cross-correlate an image batch with a filter bank, ConvNet style.

    ``out[n, k] = bias[k] + sum_c correlate(x[n, c], weight[k, c])`` with
    zero padding and stride; the output size is
    ``H2 = (H1 - F + 2P) / S + 1`` (rounded down). Filters always extend
    the full depth of the input volume.

    Parameters
    ----------
    x : (N, C, H, W) array_like
        Input batch (NCHW).
    weight : (K, C, kh, kw) array_like
        K filters.
    bias : (K,) array_like, optional
        One bias per filter.
    stride : int or (int, int)
        Step between windows (S).
    padding : int or (int, int)
        Zero padding on each side (P).
    method : {"auto", "direct", "gemm", "fft"}
        How to compute (``fft`` needs stride 1).
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend.

    Returns
    -------
    (N, K, H2, W2) ndarray
        float32 unless an input is float64.

    Raises
    ------
    InputError
        If channels disagree, the filter does not fit the padded input, or
        the padded input or the output would not fit in memory (``padding``
        or ``weight`` is named).
    InputTypeError
        For non-real dtypes or non-integer stride/padding.
    NonFiniteError
        For NaN or infinity in ``x``, ``weight`` or ``bias``.
    """
    xs = as_float_array(x, "x", ndim=4)
    w = as_float_array(weight, "weight", ndim=4)
    stride = check_int_pair(stride, "stride", minimum=1)
    padding = check_int_pair(padding, "padding", minimum=0)
    check_choice(method, "method", METHODS)
    device = resolve_device(device)
    if w.shape[1] != xs.shape[1]:
        raise InputError(
            f"weight expects {w.shape[1]} input channels (shape {w.shape}) but x has {xs.shape[1]} (shape {xs.shape})",
            argument="weight",
        )
    for axis, name in ((2, "height"), (3, "width")):
        if w.shape[axis] > xs.shape[axis] + 2 * padding[axis - 2]:
            raise InputError(
                f"weight {name} {w.shape[axis]} is larger than the padded input {name} "
                f"{xs.shape[axis]} + 2*{padding[axis - 2]}",
                argument="weight",
            )
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias", ndim=1)
        if b.shape[0] != w.shape[0]:
            raise InputError(f"bias must have shape ({w.shape[0]},) to match weight, got {b.shape}", argument="bias")
    dtype = float_dtype(xs, w)
    (n, c, h, wd), (k, _, kh, kw) = xs.shape, w.shape
    hp, wp = h + 2 * padding[0], wd + 2 * padding[1]
    ho, wo = out_len(hp, kh, stride[0]), out_len(wp, kw, stride[1])
    if any(padding):  # Python ints: a padding of 10**30 is measured, not wrapped around
        check_allocation(
            (n, c, hp, wp), dtype, "padding", what=f"padding={padding} makes a padded input of shape {(n, c, hp, wp)}"
        )
    check_allocation(
        (n, k, ho, wo),
        dtype,
        "padding" if any(padding) else "weight",
        what=f"an output of shape {(n, k, ho, wo)} ({k} filters of x's {n} images)",
    )
    xs, w = xs.astype(dtype, copy=False), w.astype(dtype, copy=False)
    padded = pad(xs, (padding[0], padding[0], padding[1], padding[1]), "constant")
    out = correlate_valid(padded, w, stride, method, device)
    if b is not None:
        out += b.astype(dtype, copy=False)[None, :, None, None]
    return out
