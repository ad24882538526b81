"""CPU element-wise kernels: tanh and its gradient (CUDA twins: :mod:`v1sim.kernels.cuda.elementwise`); ReLU's
gradient and the residual add + ReLU (CPU fast paths); the V1 benchmark's grating drawing, aperture projections
and Gabor-energy read-out (CPU only)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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


@twin
def relu_backward(grad_out, y, grad_in):
    """grad_in = grad_out * (y > 0), y = max(x, 0) from the forward pass (flat arrays, one pass, no mask array).

    A multiply by 1 or 0 rather than a select, so a NaN or infinite gradient where ``y <= 0`` gives NaN and
    ``-g * 0`` gives -0.0, bit for bit as ``grad_out * (y > 0)`` in numpy.
    """
    one, zero = grad_in.dtype.type(1), grad_in.dtype.type(0)
    for i in prange(y.size):
        grad_in[i] = grad_out[i] * (one if y[i] > 0 else zero)


@twin
def add(a, b, out):
    """out = a + b (flat arrays, one pass; ``out`` may be ``a``): a residual block's two gradients summed in
    place, on every thread (numpy's ``a + b`` runs on one and allocates its result: 0.5 against 0.23 ms for
    4 MB)."""
    for i in prange(out.size):
        out[i] = a[i] + b[i]


@twin
def add_relu(a, b, out):
    """out = max(a + b, 0) (flat arrays, one pass): a residual block's sum and rectification [1]_.

    Bit for bit ``np.maximum(a + b, 0)``: NaN passes through and -0.0 becomes +0.0, as numpy's maximum gives.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016.
    """
    zero = out.dtype.type(0)
    for i in prange(out.size):
        v = a[i] + b[i]
        out[i] = v if (v > zero or v != v) else zero


# --------------------------------------------------------------------------


# Stimuli and read-outs of the V1 benchmark (CPU only: see kernels.CPU_ONLY)
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def aperture_ramp(radius, d2):
    """The circular aperture's weight at squared distance ``d2`` from its centre: 1 inside ``radius - 0.5``, 0 beyond
    ``radius + 0.5``, linear between (the 1-pixel ramp of :func:`v1sim.stimuli.grating`'s ``mask="circle"``)."""
    return min(max(radius - np.sqrt(d2) + 0.5, 0.0), 1.0)


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
                    env = aperture_ramp(r, d2)
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


@twin
def aperture_projections(gabors, columns, theta, frequency, radius, out):
    """Projections of centred grating patches on Gabors, for every aperture radius at once, drawing no image.

    ``out[c, r, 0, k]`` is ``sum env_r(x, y) g_k(x, y) cos(phi_c(x, y))`` and ``out[c, r, 1, k]`` the same with
    ``cos(phi_c + pi/2)``: the projections of the contrast images of :func:`grating_batch` (background 0.5,
    contrast 1, phases 0 and pi/2) on Gabor ``g_k = gabors[columns[k]]``, where
    ``phi_c = 2 pi frequency[c] (x cos theta[c] + y sin theta[c])`` about the image centre and ``env_r`` is the
    aperture of radius ``radius[r]`` (:func:`aperture_ramp`). Any phase follows from the two:
    ``cos(phi + p) = cos(p) cos(phi) + sin(p) cos(phi + pi/2)``.

    ``gabors`` (K, H, W) float32, ``columns`` (k,) int64, ``theta`` (radians) and ``frequency`` (cycles/pixel)
    (C,) float64, ``radius`` (R,) float64 pixels, ascending (``inf`` for full field); ``out`` (C, R, 2, k)
    float64.

    The apertures are nested, so each pixel is summed once: into the first radius that holds it entirely
    (a running sum over radii then adds it to every larger one), and separately, weighted, into the few radii
    whose 1-pixel ramp it lies on. A (carrier, Gabor) pair costs H W multiply-adds whatever the number of
    radii, against 2 R H W for projecting 2 R drawn images; zero Gabor pixels (the dropped envelope tails)
    are skipped.
    """
    n_car, n_rad, _, n_col = out.shape
    h, w = gabors.shape[1], gabors.shape[2]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    r_in2, r_out2 = np.empty(n_rad), np.empty(n_rad)  # as grating_batch: inside at d2 <= r_in2, outside at >= r_out2
    for r in range(n_rad):
        r_in = radius[r] - 0.5
        r_in2[r] = r_in * r_in if r_in > 0.0 else -1.0
        r_out2[r] = (radius[r] + 0.5) * (radius[r] + 0.5)
    # per pixel: the radii from first_ramp on reach it, those from first_inside on hold it entirely (n_rad: none);
    # the distance is symmetric about both central axes, so one quadrant is searched and mirrored
    first_ramp, first_inside = np.empty((h, w), np.int32), np.empty((h, w), np.int32)
    for i in range((h + 1) // 2):
        for j in range((w + 1) // 2):
            d2 = (i - cy) * (i - cy) + (j - cx) * (j - cx)
            lo, b = 0, n_rad  # bisection: lo = the number of radii with r_out2 <= d2
            while lo < b:
                m = (lo + b) // 2
                if r_out2[m] <= d2:
                    lo = m + 1
                else:
                    b = m
            hi, b = lo, n_rad  # hi = the number with r_in2 < d2
            while hi < b:
                m = (hi + b) // 2
                if r_in2[m] < d2:
                    hi = m + 1
                else:
                    b = m
            for ii in (i, h - 1 - i):
                for jj in (j, w - 1 - j):
                    first_ramp[ii, jj], first_inside[ii, jj] = lo, hi
    reach = np.zeros((h, 2), np.int64)  # per row, the columns [reach[i, 0], reach[i, 1]) some aperture reaches
    for i in range(h):
        reach[i, 0] = w
        for j in range(w):
            if first_ramp[i, j] < n_rad:
                reach[i, 0], reach[i, 1] = min(reach[i, 0], j), j + 1
    for t in prange(n_car * n_col):
        c = t // n_col
        kk = t - c * n_col
        g = gabors[columns[kk]]
        ct, st = np.cos(theta[c]), np.sin(theta[c])
        k = 2.0 * np.pi * frequency[c]
        ca, sa = np.empty(w), np.empty(w)
        for j in range(w):
            a = k * (j - cx) * ct
            ca[j], sa[j] = np.cos(a), np.sin(a)
        inside = np.zeros((n_rad + 1, 2))  # row r: pixels first held entirely by radius r (row n_rad: by none)
        ramp = np.zeros((n_rad, 2))
        for i in range(h):
            if reach[i, 0] >= reach[i, 1]:
                continue
            y = i - cy
            b = k * y * st
            cb, sb = np.cos(b), np.sin(b)
            for j in range(reach[i, 0], reach[i, 1]):
                gv = np.float64(g[i, j])
                if gv == 0.0:  # a dropped envelope tail
                    continue
                even = gv * (ca[j] * cb - sa[j] * sb)  # g cos(phi)
                odd = -gv * (sa[j] * cb + ca[j] * sb)  # g cos(phi + pi/2) = -g sin(phi)
                top = first_inside[i, j]
                inside[top, 0] += even
                inside[top, 1] += odd
                if first_ramp[i, j] < top:
                    x = j - cx
                    d2 = x * x + y * y
                    for r in range(first_ramp[i, j], top):
                        e = aperture_ramp(radius[r], d2)
                        ramp[r, 0] += e * even
                        ramp[r, 1] += e * odd
        s0, s1 = 0.0, 0.0
        for r in range(n_rad):
            s0 += inside[r, 0]
            s1 += inside[r, 1]
            out[c, r, 0, kk] = s0 + ramp[r, 0]
            out[c, r, 1, kk] = s1 + ramp[r, 1]
