"""CPU element-wise kernels: tanh and its gradient (CUDA twins: :mod:`v1sim.kernels.cuda.elementwise`); the V1
benchmark's grating drawing and Gabor-energy read-out (CPU only)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .common import twin

# Activations
# --------------------------------------------------------------------------


@twin
def tanh_float32(x, out):
    """out = tanh(x) for float32 (flat arrays), within 4e-7 absolute of the exact value.

    A rational approximation ``x P(x^2) / Q(x^2)`` (degrees 13/6, argument
    clamped to |x| <= 7.9053, beyond which tanh rounds to +-1 in float32)
    with the coefficients of Eigen's ``generic_fast_tanh_float``. Unlike a
    libm call it has no branches and vectorises: about 4x faster than
    ``np.tanh`` on LeNet's activations. float64 callers use ``np.tanh``.
    """
    lim = np.float32(7.90531110763549805)
    for i in prange(x.size):
        v = min(max(x[i], -lim), lim)
        z = v * v
        p = z * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
        p = z * p + np.float32(-8.60467152213735e-11)
        p = z * p + np.float32(5.12229709037114e-08)
        p = z * p + np.float32(1.48572235717979e-05)
        p = z * p + np.float32(6.37261928875436e-04)
        p = z * p + np.float32(4.89352455891786e-03)
        q = z * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
        q = z * q + np.float32(2.26843463243900e-03)
        q = z * q + np.float32(4.89352518554385e-03)
        out[i] = v * p / q


@twin
def tanh_backward(grad_out, y, grad_in):
    """grad_in = grad_out * (1 - y^2), y = tanh(x) from the forward pass (flat arrays, one pass)."""
    for i in prange(y.size):
        v = y[i]
        grad_in[i] = grad_out[i] * (1 - v * v)


# --------------------------------------------------------------------------


# Stimuli and read-outs of the V1 benchmark (CPU only: see kernels.CPU_ONLY)
# --------------------------------------------------------------------------


@twin
def grating_batch(theta, frequency, phase, radius, contrast, background, out):
    """out[n] = the sine grating ``n`` on an (H, W) float32 canvas, as :func:`v1sim.stimuli.grating` draws it.

    Per image: ``theta`` (radians), ``frequency`` (cycles/pixel), ``phase`` (radians) and ``radius``
    (pixels, circular aperture with a 1-pixel ramp; ``inf`` for full field), float64 (N,); ``contrast``
    and ``background`` scalars. Centred on the image; each pixel is ``bg + c bg env cos(2 pi f x' + phase)``
    clipped to [0, 1], in float64, rounded once to float32.

    The carrier separates: with ``a_j = 2 pi f x_j cos(theta)`` and ``b_i = 2 pi f y_i sin(theta) + phase``,
    ``cos(a_j + b_i) = cos a_j cos b_i - sin a_j sin b_i``, so an image costs H + W sines and cosines and one
    multiply-add per pixel (within ~1e-14 of ``grating``'s direct cosine, far below float32 rounding). The
    aperture compares squared distances; the square root is taken only on the 1-pixel ramp.
    """
    n_img, h, w = out.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    cb = contrast * background
    for n in prange(n_img):
        c, s = np.cos(theta[n]), np.sin(theta[n])
        k, ph, r = 2.0 * np.pi * frequency[n], phase[n], radius[n]
        ca, sa, xx = np.empty(w), np.empty(w), np.empty(w)
        for j in range(w):
            x = j - cx
            a = k * x * c
            ca[j], sa[j], xx[j] = np.cos(a), np.sin(a), x * x
        r_in = r - 0.5  # env = 1 for distances <= r_in, 0 for >= r + 0.5, the ramp between
        r_in2 = r_in * r_in if r_in > 0.0 else -1.0
        r_out2 = (r + 0.5) * (r + 0.5)
        for i in range(h):
            y = i - cy
            b = k * y * s + ph
            cbi, sbi, yy = cb * np.cos(b), cb * np.sin(b), y * y
            for j in range(w):
                d2 = xx[j] + yy
                if d2 <= r_in2:
                    env = 1.0
                elif d2 >= r_out2:
                    env = 0.0
                else:
                    env = min(max(r - np.sqrt(d2) + 0.5, 0.0), 1.0)
                v = background + env * (ca[j] * cbi - sa[j] * sbi)
                out[n, i, j] = min(max(v, 0.0), 1.0)


@twin
def gabor_energy(q, scale, pair, out):
    """Drives of Gabor units from projections: simple ``q[:, u]``, complex ``hypot(q[:, u], q[:, pair[u]])``.

    ``q`` (N, K) float32 projections of the images on the stacked Gabors, ``scale`` (U,) float64
    (divides each unit's drive), ``pair`` (U,) int64: the column of unit ``u``'s quadrature Gabor, or
    -1 for a simple unit; ``out`` (N, U) float64.
    """
    n_img, n_units = out.shape
    for n in prange(n_img):
        for u in range(n_units):
            a = np.float64(q[n, u])
            p = pair[u]
            if p >= 0:
                b = np.float64(q[n, p])
                a = np.hypot(a, b)
            out[n, u] = a / scale[u]
