"""Tests for v1sim.filters: kernels, the lecture's kernels, FilterBank and the texture banks.

The LM, RFS (MR8) and Schmid banks are checked against literal re-implementations
of the Oxford VGG MATLAB scripts (makeLMfilters.m, makeRFSfilters.m,
makeSfilters.m and MATLAB's fspecial), written below from their published
definitions: y-up meshgrid, rotated points, separable 1-D Gaussian derivatives,
``normalise`` = zero mean then L1.
"""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from v1sim import filters as F

RNG = np.random.default_rng(20240601)
SQRT2 = math.sqrt(2.0)


# ----------------------------------------------------------------- Oxford reference (test oracle)


def _ox_normalise(f):
    f = f - f.mean()
    return f / np.abs(f).sum()


def _ox_gauss1d(sigma, x, order):
    var = sigma * sigma
    g = np.exp(-x * x / (2 * var)) / np.sqrt(np.pi * 2 * var)
    if order == 1:
        g = -g * (x / var)
    elif order == 2:
        g = g * ((x * x - var) / var**2)
    return g


def _ox_grid(sup):
    h = (sup - 1) // 2
    return np.meshgrid(np.arange(-h, h + 1.0), np.arange(h, -h - 1.0, -1.0))  # y up, as the .m files


def _ox_oriented(sup, scalex):
    """Edges (scale-major x 6 orientations), then bars, as makeLMfilters.m / makeRFSfilters.m."""
    x, y = _ox_grid(sup)
    edges, bars = [], []
    for scale in scalex:
        for orient in range(6):
            a = math.pi * orient / 6
            c, s = math.cos(a), math.sin(a)
            p1, p2 = c * x - s * y, s * x + c * y
            for order, out in ((1, edges), (2, bars)):
                out.append(_ox_normalise(_ox_gauss1d(3 * scale, p1, 0) * _ox_gauss1d(scale, p2, order)))
    return edges + bars


def _fspecial_gaussian(sup, sigma):
    x, y = _ox_grid(sup)
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(float).eps * g.max()] = 0
    return g / g.sum()


def _fspecial_log(sup, sigma):
    x, y = _ox_grid(sup)
    s2 = sigma * sigma
    h = np.exp(-(x * x + y * y) / (2 * s2))
    h[h < np.finfo(float).eps * h.max()] = 0
    h = h / h.sum()
    h1 = h * (x * x + y * y - 2 * s2) / s2**2
    return h1 - h1.sum() / h1.size


def _ox_lm(sup, basic):
    out = _ox_oriented(sup, basic[:3])
    for s in basic:
        out += [
            _ox_normalise(_fspecial_gaussian(sup, s)),
            _ox_normalise(_fspecial_log(sup, s)),
            _ox_normalise(_fspecial_log(sup, 3 * s)),
        ]
    return np.stack(out)


def _ox_rfs(sup):
    out = _ox_oriented(sup, [1, 2, 4])
    out += [_ox_normalise(_fspecial_gaussian(sup, 10)), _ox_normalise(_fspecial_log(sup, 10))]
    return np.stack(out)


def _ox_schmid(sup):
    x, y = _ox_grid(sup)
    r = np.sqrt(x * x + y * y)
    pairs = [(2, 1), (4, 1), (4, 2), (6, 1), (6, 2), (6, 3), (8, 1), (8, 2), (8, 3), (10, 1), (10, 2), (10, 3), (10, 4)]
    return np.stack([_ox_normalise(np.cos(r * math.pi * t / s) * np.exp(-r * r / (2 * s * s))) for s, t in pairs])


# ----------------------------------------------------------------- banks: shapes and definitions


@pytest.mark.parametrize(
    ("make", "count"),
    [(F.leung_malik, 48), (lambda: F.leung_malik(variant="LML"), 48), (F.schmid, 13), (F.mr8, 38)],
)
def test_bank_shapes_dtype_finite(make, count):
    bank = make()
    assert len(bank) == count and bank.kernels.shape == (count, 49, 49)
    assert bank.kernels.dtype == np.float32 and bank.kernels.flags.c_contiguous
    assert np.isfinite(bank.kernels).all()
    assert len(bank.params) == count
    # normalise.m: every filter zero-mean and L1-normalised
    np.testing.assert_allclose(bank.kernels.sum(axis=(1, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.abs(bank.kernels).sum(axis=(1, 2)), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("variant", "basic"), [("LMS", SQRT2 ** np.arange(0, 4)), ("LML", SQRT2 ** np.arange(1, 5))])
def test_leung_malik_matches_oxford_reference(variant, basic):
    bank = F.leung_malik(variant=variant)
    np.testing.assert_allclose(bank.kernels, _ox_lm(49, basic), atol=2e-7, rtol=1e-5)
    kinds = [p["kind"] for p in bank.params]
    assert kinds[:18] == ["edge"] * 18 and kinds[18:36] == ["bar"] * 18
    assert kinds[36:] == ["gaussian", "log", "log"] * 4
    np.testing.assert_allclose([p["sigma"] for p in bank.params[36::3]], basic)
    np.testing.assert_allclose([p["sigma"] for p in bank.params[38::3]], 3 * basic)
    for p in bank.params[:36]:
        assert p["sigma_y"] == pytest.approx(3 * p["sigma_x"])


def test_leung_malik_other_size_matches_reference():
    np.testing.assert_allclose(F.leung_malik(31).kernels, _ox_lm(31, SQRT2 ** np.arange(4)), atol=5e-7, rtol=1e-5)


def test_rfs_matches_oxford_reference():
    np.testing.assert_allclose(F.mr8().kernels, _ox_rfs(49), atol=2e-7, rtol=1e-5)


def test_schmid_matches_definition():
    np.testing.assert_allclose(F.schmid().kernels, _ox_schmid(49), atol=2e-7, rtol=1e-5)
    k = F.schmid().kernels
    np.testing.assert_allclose(k, np.rot90(k, axes=(1, 2)), atol=1e-7)  # rotation invariant


def test_lm_oriented_params_reproduce_kernels():
    """The (sigma_x, sigma_y, theta, order) records are exact in v1sim's own convention."""
    bank = F.leung_malik()
    for i in (0, 4, 13, 20, 35):
        p = bank.params[i]
        k = F.gaussian_derivative_kernel(p["sigma_x"], p["sigma_y"], order=p["order"], theta=p["theta"], size=49)
        np.testing.assert_allclose(bank[i], k, atol=1e-7)


# ----------------------------------------------------------------- MR8 responses


def _mr8_by_hand(r, absolute=False):
    out = np.empty(r.shape[:-3] + (8,) + r.shape[-2:], dtype=r.dtype)
    for group in range(6):  # edges at 3 scales, then bars at 3 scales
        best = None
        for o in range(6):
            v = r[..., group * 6 + o, :, :]
            v = np.abs(v) if absolute else v
            best = v if best is None else np.maximum(best, v)
        out[..., group, :, :] = best
    out[..., 6, :, :] = r[..., 36, :, :]
    out[..., 7, :, :] = r[..., 37, :, :]
    return out


@pytest.mark.parametrize("absolute", [False, True])
def test_mr8_responses_equal_max_over_orientations(absolute):
    r = RNG.standard_normal((2, 38, 5, 7)).astype(np.float32)
    out = F.mr8_responses(r, absolute=absolute)
    assert out.shape == (2, 8, 5, 7) and out.dtype == np.float32
    np.testing.assert_array_equal(out, _mr8_by_hand(r, absolute))
    np.testing.assert_array_equal(F.mr8_responses(r[0]), _mr8_by_hand(r[0]))


def test_mr8_pipeline_on_an_image():
    img = RNG.random((24, 24))
    bank = F.mr8(size=15)
    resp = np.stack([ndimage.correlate(img, k.astype(np.float64), mode="reflect") for k in bank.kernels])
    out = F.mr8_responses(resp)
    assert out.shape == (8, 24, 24) and out.dtype == np.float64
    np.testing.assert_array_equal(out, _mr8_by_hand(resp))


# ----------------------------------------------------------------- isotropic kernels


@settings(max_examples=12, deadline=None)
@given(sigma=st.floats(0.3, 6.0))
def test_gaussian_sums_to_one_and_is_symmetric(sigma):
    k = F.gaussian_kernel(sigma)
    assert k.dtype == np.float32 and k.shape == (2 * math.ceil(3 * sigma) + 1,) * 2
    assert k.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_array_equal(k, k[::-1, ::-1])
    assert np.unravel_index(np.argmax(k), k.shape) == (k.shape[0] // 2,) * 2


def test_gaussian_size_and_dtype():
    k = F.gaussian_kernel(2.0, size=7, dtype=np.float64)
    assert k.shape == (7, 7) and k.dtype == np.float64
    assert k.sum() == pytest.approx(1.0)


def test_dog_balanced_on_off():
    on = F.dog_kernel(1.0, 3.0)
    off = F.dog_kernel(1.0, 3.0, polarity="off")
    c = on.shape[0] // 2
    assert on.shape == (19, 19)
    assert abs(on.sum()) < 1e-6
    assert on[c, c] > 0 and on[c, c + 4] < 0  # ON centre, OFF surround
    np.testing.assert_array_equal(off, -on)
    weak = F.dog_kernel(1.0, 3.0, surround_weight=0.5, dtype=np.float64)
    assert weak.sum() == pytest.approx(0.5)


def test_log_zero_mean_negative_centre():
    k = F.log_kernel(2.0)
    c = k.shape[0] // 2
    assert abs(k.sum()) < 1e-6 and k.shape == (17, 17)
    assert k[c, c] == k.min() < 0 and k[c, c + 4] > 0
    np.testing.assert_allclose(k, k.T, atol=1e-9)
    # a bright blob gives a negative response at its centre
    img = np.zeros((33, 33))
    img[14:19, 14:19] = 1.0
    assert ndimage.correlate(img, k.astype(np.float64))[16, 16] < 0


# ----------------------------------------------------------------- Gabor


def _sigma_from_bandwidth(f, b=1.0):
    """scikit-image's relation between bandwidth (octaves) and sigma (pixels)."""
    return 1.0 / (np.pi * f) * np.sqrt(np.log(2) / 2) * (2.0**b + 1) / (2.0**b - 1)


@settings(max_examples=15, deadline=None)
@given(frequency=st.floats(0.03, 0.5), theta=st.floats(-2 * np.pi, 2 * np.pi), ratio=st.floats(0.3, 3.0))
def test_gabor_size_independent_of_theta(frequency, theta, ratio):
    sx = _sigma_from_bandwidth(frequency)
    ref = F.gabor_kernel(frequency, sigma_y=ratio * sx)
    k = F.gabor_kernel(frequency, theta=theta, sigma_y=ratio * sx)
    assert k.shape == ref.shape == (2 * math.ceil(3 * max(sx, ratio * sx)) + 1,) * 2
    assert abs(float(k.sum())) < 1e-5  # DC-free at every orientation


@pytest.mark.parametrize("theta", [0.0, 0.3, np.pi / 4, 2.0, np.pi])
def test_gabor_even_odd_symmetry(theta):
    even = F.gabor_kernel(0.15, theta=theta, dtype=np.float64)
    odd = F.gabor_kernel(0.15, theta=theta, phase=np.pi / 2, dtype=np.float64)
    np.testing.assert_allclose(even, even[::-1, ::-1], atol=1e-12)
    np.testing.assert_allclose(odd, -odd[::-1, ::-1], atol=1e-12)
    assert abs(even.sum()) < 1e-12 and abs(odd.sum()) < 1e-12


@pytest.mark.parametrize("phase", [0.0, np.pi / 2, 1.0])
def test_gabor_quarter_turn_is_transpose(phase):
    def gab(theta):
        return F.gabor_kernel(0.12, theta=theta, phase=phase, sigma_x=3.0, sigma_y=6.0, dtype=np.float64)

    np.testing.assert_allclose(gab(np.pi / 2), gab(0.0).T, atol=1e-12)  # vertical -> horizontal stripes
    np.testing.assert_allclose(gab(0.4 + np.pi / 2), np.rot90(gab(0.4), -1), atol=1e-12)  # clockwise on screen
    np.testing.assert_allclose(gab(np.pi / 2 - 0.4), gab(0.4).T, atol=1e-12)  # transpose mirrors theta


@pytest.mark.parametrize(("frequency", "theta"), [(0.1, 0.0), (0.2, np.pi / 6), (0.125, np.pi / 2), (0.25, 2.3)])
def test_gabor_spectrum_peaks_at_requested_frequency(frequency, theta):
    n = 256
    k = F.gabor_kernel(frequency, theta=theta, dtype=np.float64)
    mag = np.abs(np.fft.fft2(k, s=(n, n)))
    r, c = np.unravel_index(np.argmax(mag), mag.shape)
    freqs = np.fft.fftfreq(n)
    peak = np.array([freqs[c], freqs[r]])  # (fx along columns, fy along rows)
    want = frequency * np.array([math.cos(theta), math.sin(theta)])
    err = min(np.abs(peak - want).max(), np.abs(peak + want).max())
    assert err <= 1.0 / n + 1e-12


def test_even_gabor_ignores_uniform_light_and_prefers_its_grating():
    f, theta = 0.1, np.pi / 3
    k = F.gabor_kernel(f, theta=theta, dtype=np.float64)
    assert abs(ndimage.correlate(np.full((64, 64), 7.0), k)[32, 32]) < 1e-9
    y, x = np.mgrid[-32:33, -32:33]
    resp = []
    for t in np.linspace(0, np.pi, 8, endpoint=False):
        grating = np.cos(2 * np.pi * f * (x * np.cos(t) + y * np.sin(t)))
        resp.append(ndimage.correlate(grating, k)[32, 32])
    assert np.argmax(resp) == round(theta / (np.pi / 8))


def test_gabor_bandwidth_sets_sigma_and_nyquist():
    for f, b in ((0.1, 1.0), (0.2, 1.5)):
        sigma = _sigma_from_bandwidth(f, b)
        k = F.gabor_kernel(f, bandwidth=b, dtype=np.float64)
        assert k.shape[0] == 2 * math.ceil(3 * sigma) + 1
        same = F.gabor_kernel(f, sigma_x=sigma, sigma_y=sigma, dtype=np.float64)
        np.testing.assert_allclose(k, same, rtol=1e-12, atol=1e-15)
    assert F.gabor_kernel(0.5).shape[0] % 2 == 1
    assert F.gabor_kernel(0.1, size=21, theta=1.0).shape == (21, 21)


# ----------------------------------------------------------------- Gaussian derivatives


@pytest.mark.parametrize("theta", [0.0, 0.7, np.pi / 2, 2.5])
def test_gaussian_derivative_symmetry_and_normalisation(theta):
    d1 = F.gaussian_derivative_kernel(1.5, 4.5, order=1, theta=theta, dtype=np.float64)
    d2 = F.gaussian_derivative_kernel(1.5, 4.5, order=2, theta=theta, dtype=np.float64)
    assert d1.shape == d2.shape == (2 * math.ceil(3 * 4.5) + 1,) * 2  # size independent of theta
    np.testing.assert_allclose(d1, -d1[::-1, ::-1], atol=1e-15)
    np.testing.assert_allclose(d2, d2[::-1, ::-1], atol=1e-15)
    for k in (d1, d2):
        assert abs(k.sum()) < 1e-12 and np.abs(k).sum() == pytest.approx(1.0)
    c = d2.shape[0] // 2
    assert d2[c, c] == d2.min() < 0  # bar filter: negative centre


@pytest.mark.parametrize("phi_index", [0, 2, 3, 4, 6])
def test_first_derivative_prefers_edge_of_its_orientation(phi_index):
    n_orient = 8
    thetas = np.pi * np.arange(n_orient) / n_orient
    phi = thetas[phi_index]
    y, x = np.mgrid[-32:33, -32:33].astype(float)
    step = (x * np.cos(phi) + y * np.sin(phi) > 0).astype(float)  # dark-to-light along the normal phi
    resp = np.array(
        [
            ndimage.correlate(step, F.gaussian_derivative_kernel(2.0, 6.0, theta=t, dtype=np.float64))[32, 32]
            for t in thetas
        ]
    )
    assert np.argmax(np.abs(resp)) == phi_index
    assert resp[phi_index] < 0  # documented sign: the derivative of G, used in correlation


# ----------------------------------------------------------------- the lecture's kernels


def test_identity_and_shift_kernels():
    img = RNG.random((12, 15))
    np.testing.assert_array_equal(ndimage.correlate(img, F.identity_kernel().astype(float)), img)
    np.testing.assert_array_equal(ndimage.correlate(img, F.identity_kernel(5).astype(float)), img)
    k = F.shift_kernel(1, 0)
    assert k[1, 2] == 1 and k.sum() == 1  # the 1 right of the centre
    left = ndimage.correlate(img, k.astype(float))
    np.testing.assert_array_equal(left[:, :-1], np.roll(img, -1, axis=1)[:, :-1])  # shifted LEFT by 1
    down = ndimage.correlate(img, F.shift_kernel(-2, 1, size=5).astype(float))
    np.testing.assert_array_equal(down[:-1, 2:], np.roll(img, (-1, 2), axis=(0, 1))[:-1, 2:])
    np.testing.assert_array_equal(  # convolution shifts the other way
        ndimage.convolve(img, k.astype(float))[:, 1:], np.roll(img, 1, axis=1)[:, 1:]
    )


def test_box_sharpen_edge_kernels():
    img = RNG.random((10, 11))
    box = F.box_kernel()
    assert box.shape == (3, 3) and box.dtype == np.float32
    np.testing.assert_allclose(box, np.full((3, 3), 1 / 9))
    mean3 = ndimage.correlate(img, box.astype(float))
    np.testing.assert_allclose(mean3[4, 5], img[3:6, 4:7].mean())
    np.testing.assert_allclose(F.sharpen_kernel(), 2 * F.identity_kernel() - box, atol=1e-7)
    sharp = ndimage.correlate(img, F.sharpen_kernel(alpha=0.5, dtype=np.float64))
    np.testing.assert_allclose(sharp, 1.5 * img - 0.5 * mean3, atol=1e-6)
    e = F.edge_kernel()
    assert e.shape == (3, 3)
    np.testing.assert_array_equal(e, [[-1, 0, 1]] * 3)
    ramp = np.tile(np.arange(9.0) * 0.5, (6, 1))  # intensity rising to the right
    np.testing.assert_allclose(ndimage.correlate(ramp, e.astype(float))[2, 1:-1], 3 * 2 * 0.5)


# ----------------------------------------------------------------- Gabor and DoG banks


def test_gabor_bank_layout_and_common_size():
    freqs, n_or, phases = (0.05, 0.2), 4, (0.0, np.pi / 2)
    bank = F.gabor_bank(freqs, n_or, phases)
    assert len(bank) == 2 * 4 * 2 and bank.name == "Gabor"
    sigma_max = _sigma_from_bandwidth(0.05)
    assert bank.kernels.shape[1:] == (2 * math.ceil(3 * sigma_max) + 1,) * 2
    i = (1 * n_or + 3) * 2 + 1
    p = bank.params[i]
    assert p["frequency"] == 0.2 and p["theta"] == pytest.approx(3 * np.pi / 4) and p["phase"] == np.pi / 2
    ref = F.gabor_kernel(0.2, theta=p["theta"], phase=p["phase"], size=bank.kernels.shape[1])
    np.testing.assert_allclose(bank[i], ref, atol=1e-7)
    assert len(F.gabor_bank(0.1, 3, 0.0)) == 3


def test_dog_bank():
    bank = F.dog_bank((1.0, 2.0))
    assert len(bank) == 4 and bank.kernels.shape[1] == 2 * math.ceil(3 * 3.2) + 1
    np.testing.assert_allclose(bank[1], -bank[0])
    ref = F.dog_kernel(2.0, 3.2, size=bank.kernels.shape[1])
    np.testing.assert_allclose(bank[2], ref, atol=1e-7)


# ----------------------------------------------------------------- FilterBank


def test_filterbank_immutable_and_copies():
    arr = RNG.standard_normal((3, 5, 5))
    bank = F.FilterBank(arr, name="rand")
    assert bank.kernels.dtype == np.float32 and arr.flags.writeable
    arr[0, 0, 0] = 99.0
    assert bank.kernels[0, 0, 0] != 99.0
    with pytest.raises(ValueError):
        bank.kernels[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        bank[1][0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        bank.name = "other"
    assert bank.params == ({}, {}, {})
    again = pickle.loads(pickle.dumps(bank))
    assert again == bank and not again.kernels.flags.writeable


def test_filterbank_getitem_eq_repr():
    lm = F.leung_malik(size=25)
    assert lm[0].shape == (25, 25) and np.array_equal(lm[-1], lm.kernels[47])
    sub = lm[36:]
    assert isinstance(sub, F.FilterBank) and len(sub) == 12 and sub.params == lm.params[36:]
    assert lm[[0, 47]] == F.FilterBank(lm.kernels[[0, 47]], (lm.params[0], lm.params[47]), lm.name)
    mask = np.array([p["kind"] == "edge" for p in lm.params])
    assert len(lm[mask]) == 18
    assert lm == F.leung_malik(size=25) and lm != F.leung_malik(size=25, variant="LML")
    lm._spectra["x"] = 1  # the cache takes no part in equality
    assert lm == F.leung_malik(size=25)
    assert "n_filters=48" in repr(lm) and "array" not in repr(lm)
    with pytest.raises(IndexError):
        lm[48]
    with pytest.raises(IndexError):
        lm[5:5]
    with pytest.raises(TypeError):
        lm["edge"]


def _reference_bank():
    asym = RNG.standard_normal((2, 5, 5))
    gab = F.gabor_bank((0.2,), 2, (0.0, np.pi / 2), size=5).kernels
    return F.FilterBank(np.concatenate([asym, gab]), name="mix")


@pytest.mark.parametrize("mode", ["reflect", "nearest", "wrap", "constant"])
def test_filterbank_apply_matches_ndimage(mode):
    signal = pytest.importorskip("v1sim.signal")
    if not hasattr(signal, "apply_bank"):
        pytest.skip("v1sim.signal.apply_bank not written yet")
    bank = _reference_bank()
    images = RNG.random((2, 13, 16)).astype(np.float32)
    out = bank.apply(images, mode=mode, cval=0.25)
    assert out.shape == (2, len(bank), 13, 16)
    for n in range(2):
        for k in range(len(bank)):
            want = ndimage.correlate(images[n].astype(np.float64), bank[k].astype(np.float64), mode=mode, cval=0.25)
            np.testing.assert_allclose(out[n, k], want, atol=2e-5)
    single = bank.apply(images[1], mode=mode, cval=0.25)
    assert single.shape == (len(bank), 13, 16)
    np.testing.assert_allclose(single, out[1], atol=2e-5)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: F.gaussian_kernel(-1.0), ValueError, "sigma"),
        (lambda: F.gaussian_kernel("1"), TypeError, "sigma"),
        (lambda: F.gaussian_kernel(1.0, size=4), ValueError, "size"),
        (lambda: F.gaussian_kernel(1.0, dtype=np.int32), TypeError, "dtype"),
        (lambda: F.dog_kernel(2.0, 1.0), ValueError, "sigma_surround"),
        (lambda: F.dog_kernel(1.0, 1.0), ValueError, "sigma_surround"),
        (lambda: F.dog_kernel(1.0, 2.0, polarity="up"), ValueError, "polarity"),
        (lambda: F.dog_kernel(1.0, 2.0, surround_weight=-0.5), ValueError, "surround_weight"),
        (lambda: F.log_kernel(0.0), ValueError, "sigma"),
        (lambda: F.gaussian_derivative_kernel(1.0, 3.0, order=3), ValueError, "order"),
        (lambda: F.gaussian_derivative_kernel(-1.0, 3.0), ValueError, "sigma_x"),
        (lambda: F.gaussian_derivative_kernel(1.0, 3.0, theta=np.nan), ValueError, "theta"),
        (lambda: F.gaussian_derivative_kernel(0.01, 0.01), ValueError, "size"),  # vanishes on the grid
        (lambda: F.gabor_kernel(0.1, bandwidth=0.0), ValueError, "bandwidth"),
        (lambda: F.gabor_kernel(0.5000001), ValueError, "frequency"),
        (lambda: F.gabor_kernel(0.0), ValueError, "frequency"),
        (lambda: F.gabor_kernel(0.1, sigma_x=0.0), ValueError, "sigma_x"),
        (lambda: F.gabor_kernel(0.1, n_stds=-3), ValueError, "n_stds"),
        (lambda: F.box_kernel(4), ValueError, "size"),
        (lambda: F.shift_kernel(2, 0), ValueError, "dx"),
        (lambda: F.shift_kernel(0, 1.5), TypeError, "dy"),
        (lambda: F.sharpen_kernel(alpha=-1.0), ValueError, "alpha"),
        (lambda: F.leung_malik(variant="LMX"), ValueError, "variant"),
        (lambda: F.leung_malik(size=48), ValueError, "size"),
        (lambda: F.leung_malik(size=1), ValueError, "size"),
        (lambda: F.schmid(size=0), ValueError, "size"),
        (lambda: F.gabor_bank(n_orientations=0), ValueError, "n_orientations"),
        (lambda: F.gabor_bank(frequencies=(0.1, 0.7)), ValueError, "frequencies"),
        (lambda: F.gabor_bank(frequencies=()), ValueError, "frequencies"),
        (lambda: F.gabor_bank(phases=(0.0, np.inf)), ValueError, "phases"),
        (lambda: F.dog_bank(surround_ratio=1.0), ValueError, "surround_ratio"),
        (lambda: F.dog_bank(polarities=("on", "of")), ValueError, "polarities"),
        (lambda: F.mr8_responses(np.zeros((37, 4, 4))), ValueError, "responses"),
        (lambda: F.mr8_responses(np.zeros((38, 4, 4)), absolute="yes"), TypeError, "absolute"),
        (lambda: F.FilterBank(np.zeros((2, 3, 3)), params=({},)), ValueError, "params"),
        (lambda: F.FilterBank(np.zeros((3, 3))), ValueError, "kernels"),
        (lambda: F.FilterBank(np.zeros((1, 3, 3)), name=3), TypeError, "name"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_public_api():
    expected = {
        "FilterBank",
        "gaussian_kernel",
        "dog_kernel",
        "log_kernel",
        "gaussian_derivative_kernel",
        "gabor_kernel",
        "box_kernel",
        "identity_kernel",
        "shift_kernel",
        "sharpen_kernel",
        "edge_kernel",
        "leung_malik",
        "schmid",
        "mr8",
        "mr8_responses",
        "gabor_bank",
        "dog_bank",
    }
    assert set(F.__all__) == expected
    assert all(callable(getattr(F, name)) for name in expected)


def test_bank_index_finds_filters_by_parameters():
    lm = F.leung_malik()
    i = lm.index(kind="bar", sigma_x=2.0, theta=0.0)
    p = lm.params[i]
    assert p["kind"] == "bar" and p["sigma_x"] == 2.0 and p["theta"] == 0.0
    with pytest.raises(LookupError, match="no filter"):
        lm.index(kind="bar", sigma_x=123.0)
