"""v1sim.retinotopy: Schwartz's log-polar map, its inverse, magnification, RF scaling, image warps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v1sim import retinotopy as R


def _field_points(n=400, seed=0):
    rng = np.random.default_rng(seed)
    ecc = np.geomspace(0.01, 60.0, n)
    angle = rng.uniform(-math.pi, math.pi, n)
    return ecc * np.exp(1j * angle)


# ----------------------------------------------------------------- the map


def test_round_trip_of_points():
    z = np.concatenate([_field_points(), [0.0, 1j, -1j, 5.0, -5.0, 3j, -0.0 - 2j]])
    w = R.visual_to_cortex(z)
    back = R.cortex_to_visual(w)
    np.testing.assert_allclose(back, z, atol=1e-9)
    # and from the cortex: points on the sheet
    w2 = R.visual_to_cortex(_field_points(seed=1), k=12.0, a=0.5)
    np.testing.assert_allclose(R.visual_to_cortex(R.cortex_to_visual(w2, k=12.0, a=0.5), k=12.0, a=0.5), w2, atol=1e-9)


def test_map_values_and_hemispheres():
    k, a = R.K_MACAQUE, R.A_MACAQUE
    assert R.visual_to_cortex(0.0) == 0
    assert R.visual_to_cortex(10.0) == pytest.approx(k * math.log(1 + 10 / a))
    # the left hemifield goes to the other hemisphere, mirrored
    assert R.visual_to_cortex(-10.0) == pytest.approx(-k * math.log(1 + 10 / a))
    z = _field_points()
    w = R.visual_to_cortex(z)
    assert np.all(np.sign(w.real[np.abs(z.real) > 1e-6]) == np.sign(z.real[np.abs(z.real) > 1e-6]))
    # upper field -> v > 0, and far out polar angle maps to v = k * angle
    assert np.all(np.sign(w.imag[np.abs(z.imag) > 1e-6]) == np.sign(z.imag[np.abs(z.imag) > 1e-6]))
    far = R.visual_to_cortex(1e4 * np.exp(1j * 0.6))
    assert far.imag == pytest.approx(k * 0.6, rel=1e-3)


def test_log_polar_far_from_the_fovea_and_linear_near_it():
    k, a = 15.0, 0.7
    # doubling eccentricity far out shifts the cortex by k log 2 (scaling -> translation)
    w1, w2 = R.visual_to_cortex([200.0 + 100j, 400.0 + 200j], k=k, a=a)
    assert (w2 - w1).real == pytest.approx(k * math.log(2), rel=1e-2)
    # near the fovea the map is linear with slope k / a
    assert abs(R.visual_to_cortex(0.001 + 0.002j, k=k, a=a)) == pytest.approx(k / a * abs(0.001 + 0.002j), rel=1e-2)


def test_points_off_the_cortical_sheet_are_nan():
    assert np.isnan(R.cortex_to_visual(0.0 + 10.0j))  # u = 0 is only the fovea
    assert np.isnan(R.cortex_to_visual(30.0 + 1.01j * R.K_MACAQUE * math.pi / 2))
    # the vertical meridian lies on the sheet's border exp(|u|/k) cos(v/k) = 1
    w = R.visual_to_cortex(1j * np.linspace(0.1, 40, 50))
    np.testing.assert_allclose(np.exp(w.real / R.K_MACAQUE) * np.cos(w.imag / R.K_MACAQUE), 1.0, atol=1e-9)


def test_magnification_is_the_derivative_of_the_map():
    k, a = 15.0, 0.7
    ecc = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 40.0])
    h = 1e-6
    numeric = (R.cortical_distance(ecc + h, k=k, a=a) - R.cortical_distance(ecc, k=k, a=a)) / h
    np.testing.assert_allclose(numeric, R.magnification(ecc, k=k, a=a), rtol=1e-4)
    step = (R.visual_to_cortex(ecc + h, k=k, a=a) - R.visual_to_cortex(ecc, k=k, a=a)) / h  # horizontal meridian
    np.testing.assert_allclose(np.abs(step), R.magnification(ecc, k=k, a=a), rtol=1e-4)
    # anywhere and in any direction (the map is conformal): |dw| / |dz| = local magnification
    z = _field_points(200)
    z = z[np.abs(z.real) > 1e-3]
    for direction in (1.0, 1j, np.exp(0.7j)):
        dz = 1e-7 * direction
        ratio = np.abs(R.visual_to_cortex(z + dz) - R.visual_to_cortex(z)) / abs(dz)
        np.testing.assert_allclose(ratio, R.local_magnification(z), rtol=1e-4)
    assert isinstance(R.magnification(1), float) and isinstance(R.cortical_distance(2.0), float)
    assert isinstance(R.rf_size(3), float) and isinstance(R.point_image(4.0), float)
    assert R.magnification([[1.0, 2.0]]).shape == (1, 2)
    assert R.magnification(0.0) == pytest.approx(R.K_MACAQUE / R.A_MACAQUE)
    assert R.magnification(10.0) == pytest.approx(R.K_MACAQUE / (10 + R.A_MACAQUE))
    assert np.all(np.diff(R.magnification(ecc)) < 0)


def test_rf_size_grows_with_eccentricity_and_point_image_levels_off():
    ecc = np.linspace(0.0, 40.0, 41)
    d = R.rf_size(ecc)
    assert d[0] == pytest.approx(R.RF_SIZE0)
    assert np.all(np.diff(d) > 0)
    np.testing.assert_allclose(np.diff(d), R.RF_SLOPE, rtol=1e-12)  # linear
    assert R.rf_size(10.0, size0=0.2, slope=0.5) == pytest.approx(5.2)
    p = R.point_image(ecc)
    assert p[-1] == pytest.approx(R.K_MACAQUE * R.RF_SLOPE, rel=0.05)  # -> k s far out
    assert np.ptp(p[ecc >= 10]) < 0.05 * p[-1]


def test_bad_inputs():
    with pytest.raises(ValueError, match="k"):
        R.visual_to_cortex(1.0, k=0.0)
    with pytest.raises(ValueError, match="a"):
        R.magnification(1.0, a=-1.0)
    with pytest.raises(ValueError, match="eccentricity"):
        R.magnification(-1.0)
    with pytest.raises(ValueError, match="finite"):
        R.visual_to_cortex(np.nan)
    with pytest.raises(TypeError):
        R.visual_to_cortex("fovea")
    with pytest.raises(ValueError, match="slope"):
        R.rf_size(1.0, slope=-0.1)
    with pytest.raises(ValueError, match="image"):
        R.to_cortex(np.zeros((4, 4, 4)), 10.0)
    with pytest.raises(ValueError, match="extent"):
        R.from_cortex(np.zeros((4, 4)), (1, 0, 0, 1), 10.0, (8, 8))


# ----------------------------------------------------------------- image warps


def _smooth_pattern(shape):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return 0.5 + 0.3 * np.cos(2 * np.pi * xx / 70.0) * np.sin(2 * np.pi * yy / 90.0 + 0.4)


def test_image_warp_round_trip_of_a_smooth_pattern():
    pattern = _smooth_pattern((121, 160))
    cortex, extent = R.to_cortex(pattern, 6.0, mm_per_pixel=0.15)
    back = R.from_cortex(cortex, extent, 6.0, pattern.shape)
    assert np.isfinite(back).all()
    assert np.abs(back - pattern).max() < 0.02  # 3% of the pattern's range
    # the default resolution (as many columns as the image) still round-trips closely
    cortex, extent = R.to_cortex(pattern, 6.0)
    assert cortex.shape[1] == pytest.approx(max(pattern.shape), abs=2)
    back = R.from_cortex(cortex, extent, 6.0, pattern.shape)
    assert np.abs(back - pattern).mean() < 0.01


def test_a_point_returns_within_a_pixel():
    shape, ppd = (101, 101), 5.0
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for x0, y0 in ((70.0, 30.0), (20.0, 75.0), (52.0, 50.0), (85.0, 88.0)):
        blob = np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.5**2))
        cortex, extent = R.to_cortex(blob, ppd, mm_per_pixel=0.1)
        back = np.nan_to_num(R.from_cortex(cortex, extent, ppd, shape))
        cy, cx = (np.array([(back * yy).sum(), (back * xx).sum()]) / back.sum()).tolist()
        assert math.hypot(cx - x0, cy - y0) < 1.0
        # and it lands where the map says
        z = (x0 - (shape[1] - 1) / 2) / ppd + 1j * ((shape[0] - 1) / 2 - y0) / ppd
        w = R.visual_to_cortex(z)
        v, u = np.nonzero(np.nan_to_num(cortex) == np.nanmax(cortex))
        du = (extent[1] - extent[0]) / cortex.shape[1]
        peak = extent[0] + (u[0] + 0.5) * du + 1j * (extent[3] - (v[0] + 0.5) * du)
        assert abs(peak - w) < 1.5 * du + 0.05 * R.local_magnification(z)


def test_cortical_image_layout():
    image = np.zeros((81, 81))
    image[:, 41:] = 1.0  # right hemifield bright
    image[:40, :] += 0.5  # upper field brighter
    cortex, (u0, u1, v0, v1) = R.to_cortex(image, 4.0, antialias=False)
    assert u0 < 0 < u1 and v0 < 0 < v1
    mid_row, cols = cortex.shape[0] // 2, cortex.shape[1]
    left_hemisphere = cortex[:, cols // 2 + 2 :]  # u > 0: right visual field
    right_hemisphere = cortex[:, : cols // 2 - 2]
    assert np.nanmean(left_hemisphere) > np.nanmean(right_hemisphere) + 0.8
    assert np.nanmean(cortex[: mid_row - 2]) > np.nanmean(cortex[mid_row + 2 :])  # upper field on top
    assert np.isnan(cortex).any() and not np.isnan(cortex).all()  # off the sheet: NaN
    assert np.isnan(cortex[0, cols // 2])  # u = 0, v = v_max: not cortex
    filled, _ = R.to_cortex(image, 4.0, cval=-1.0)
    assert not np.isnan(filled).any() and (filled == -1.0).any()


def test_warps_do_not_modify_inputs_and_extent_matches():
    image = _smooth_pattern((40, 50)).astype(np.float32)
    copy = image.copy()
    cortex, extent = R.to_cortex(image, 3.0)
    np.testing.assert_array_equal(image, copy)
    box = R.cortical_extent(image.shape, 3.0)
    assert extent[0] <= box[0] and extent[1] >= box[1] and extent[2] <= box[2] and extent[3] >= box[3]
    c_copy = cortex.copy()
    R.from_cortex(cortex, extent, 3.0, image.shape)
    np.testing.assert_array_equal(np.isnan(cortex), np.isnan(c_copy))


def test_positions_beyond_the_map_and_degenerate_images_are_named():
    from v1sim.errors import InputError

    with pytest.raises(InputError, match="exp\\(\\|u\\|/k\\) overflows") as exc:
        R.cortex_to_visual(np.array([1e300, 2.0]))
    assert exc.value.argument == "w"
    assert np.isnan(R.cortex_to_visual(1j))  # off the sheet (left of its border): NaN, as documented
    for image, ppd, name in [
        (np.ones((1, 1)), 8.0, "image"),
        (np.ones((8, 8)), 1e300, "ppd"),
        (np.ones((8, 8)), 2.0**63, "ppd"),
    ]:
        with pytest.raises(InputError, match="single point of cortex") as exc:
            R.to_cortex(image, ppd)
        assert exc.value.argument == name
