"""Behavioural tests for v1sim.stimuli."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v1sim import stimuli as S

FEW = settings(max_examples=8, deadline=None)
BG = 0.5


def _excess(img, bg=BG):
    """Stimulus area in pixels: the summed luminance step divided by its full height."""
    return float(np.sum(np.abs(img.astype(np.float64) - bg)) / bg)


def _check_image(img, shape):
    assert img.shape == shape
    assert img.dtype == np.float32
    assert np.all((img >= 0) & (img <= 1))


# ----------------------------------------------------------------------------- spots, annuli, bars
def test_spot_polarity_shape_and_background():
    light = S.spot((40, 50), 6)
    dark = S.spot((40, 50), 6, polarity="dark")
    for img in (light, dark):
        _check_image(img, (40, 50))
        assert img[0, 0] == img[-1, -1] == np.float32(BG)
    assert light[20, 25] == pytest.approx(1.0) and dark[20, 25] == pytest.approx(0.0)
    np.testing.assert_allclose(light - BG, BG - dark, atol=1e-7)
    half = S.spot((40, 50), 6, contrast=0.5)
    np.testing.assert_allclose(half - BG, 0.5 * (light - BG), atol=1e-7)


@FEW
@given(r=st.floats(2.5, 15.0), cx=st.floats(18.0, 45.0), cy=st.floats(18.0, 45.0))
def test_spot_area_and_center(r, cx, cy):
    img = S.spot(64, r, center=(cx, cy))
    assert _excess(img) == pytest.approx(np.pi * r**2, rel=0.03)
    w = img.astype(np.float64) - BG
    ys, xs = np.indices(img.shape)
    assert (xs * w).sum() / w.sum() == pytest.approx(cx, abs=0.05)
    assert (ys * w).sum() / w.sum() == pytest.approx(cy, abs=0.05)


def test_annulus_area_and_hole():
    ri, ro = 6.0, 14.0
    img = S.annulus(64, ri, ro, polarity="dark", contrast=0.8)
    _check_image(img, (64, 64))
    assert _excess(img) / 0.8 == pytest.approx(np.pi * (ro**2 - ri**2), rel=0.03)
    assert img[32, 32] == np.float32(BG)  # the hole is background
    assert img[32, 32 + 10] == pytest.approx(BG * (1 - 0.8))
    # annulus = outer spot minus inner spot
    diff = (S.spot(64, ro) - BG) - (S.spot(64, ri) - BG)
    np.testing.assert_allclose(S.annulus(64, ri, ro) - BG, diff, atol=1e-6)


@FEW
@given(theta=st.floats(0.0, np.pi), length=st.floats(10.0, 30.0), width=st.floats(1.0, 6.0))
def test_bar_area_any_orientation(theta, length, width):
    img = S.bar(72, length, width, theta=theta)
    _check_image(img, (72, 72))
    # anti-aliased ends of an oblique thin bar add up to about half a pixel of area
    assert _excess(img) == pytest.approx(length * width, rel=0.03, abs=1.0)


def test_bar_orientation_convention():
    vertical = S.bar(41, 21, 3) - BG  # θ = 0: long axis along y
    assert np.count_nonzero(vertical.any(axis=1)) > np.count_nonzero(vertical.any(axis=0))
    horizontal = S.bar(41, 21, 3, theta=np.pi / 2) - BG
    np.testing.assert_allclose(horizontal, vertical.T, atol=1e-6)
    thin = S.bar(41, 21, 0.25, polarity="dark")  # a faint line: total area still length × width
    assert _excess(thin) == pytest.approx(21 * 0.25, rel=0.03)


# ----------------------------------------------------------------------------- edges
def test_edge_sides_and_flip():
    d2l = S.edge((30, 41))
    l2d = S.edge((30, 41), kind="light-to-dark")
    _check_image(d2l, (30, 41))
    assert d2l[:, :20].max() < BG < d2l[:, 21:].min()  # dark on the left for θ = 0
    np.testing.assert_allclose(l2d, 2 * BG - d2l, atol=1e-7)
    np.testing.assert_allclose(S.edge((30, 41), theta=np.pi), l2d, atol=1e-6)
    assert np.all(d2l == d2l[0])  # vertical edge: rows identical


def test_edge_position_moves_along_normal():
    img = S.edge(41, theta=np.pi / 2, position=5.0, contrast=0.6)  # normal points down
    col = img[:, 20]
    assert col[: 20 + 5].max() < BG < col[20 + 6 :].min()
    assert col[25] == pytest.approx(BG)
    assert col.min() == pytest.approx(BG * 0.4) and col.max() == pytest.approx(BG * 1.6)


# ----------------------------------------------------------------------------- gratings
def test_grating_theta0_mean_and_michelson():
    c = 0.7
    img = S.grating((33, 64), 1 / 16, contrast=c, center=(32, 16))
    _check_image(img, (33, 64))
    assert np.all(img == img[0])  # varies along x only
    assert img.mean() == pytest.approx(BG, abs=1e-6)  # 4 whole cycles
    lo, hi = float(img.min()), float(img.max())
    assert (hi - lo) / (hi + lo) == pytest.approx(c, abs=1e-5)
    assert img[0, 32] == pytest.approx(hi)  # phase 0: bright crest at the centre


def _fft_peak(img):
    spec = np.abs(np.fft.fft2(img - img.mean()))
    ky, kx = np.unravel_index(np.argmax(spec), spec.shape)
    h, w = img.shape
    return np.fft.fftfreq(h)[ky] * h, np.fft.fftfreq(w)[kx] * w


def test_grating_fft_peak_exact_bin():
    kx, ky, n = 5, 3, 64
    f, theta = np.hypot(kx, ky) / n, np.arctan2(ky, kx)  # +y is down, rows are axis 0
    py, px = _fft_peak(S.grating(n, f, theta=theta))
    assert (py, px) in {(ky, kx), (-ky, -kx)}


@FEW
@given(f=st.floats(0.06, 0.3), theta=st.floats(0.0, np.pi))
def test_grating_fft_peak_within_a_bin(f, theta):
    n = 64
    py, px = _fft_peak(S.grating(n, f, theta=theta))
    ey, ex = f * np.sin(theta) * n, f * np.cos(theta) * n
    ok = any(abs(s * py - ey) <= 1.0 and abs(s * px - ex) <= 1.0 for s in (1, -1))
    assert ok, ((py, px), (ey, ex))


def test_square_wave_and_masks():
    sine = S.grating(64, 1 / 16)
    square = S.grating(64, 1 / 16, waveform="square")
    _check_image(square, (64, 64))
    assert square.mean() == pytest.approx(BG, abs=1e-6)
    clear = np.abs(sine - BG) > 0.1
    assert np.array_equal(np.sign(square - BG)[clear], np.sign(sine - BG)[clear])
    assert np.mean(np.isclose(square, 0) | np.isclose(square, 1)) > 0.7

    circ = S.grating(64, 1 / 16, mask="circle", mask_radius=10)
    ys, xs = np.indices(circ.shape)
    outside = np.hypot(xs - 31.5, ys - 31.5) > 11
    assert np.all(circ[outside] == np.float32(BG))
    np.testing.assert_allclose(circ[28:36, 28:36], sine[28:36, 28:36], atol=1e-6)
    gauss = S.grating(64, 1 / 16, mask="gaussian")
    assert abs(gauss[0, 0] - BG) < 0.01 and np.abs(gauss - BG).max() > 0.45


def test_drifting_grating_phase_steps_and_direction():
    f, tf, dt = 1 / 16, 4.0, 1 / 64  # 1 pixel per frame
    movie = S.drifting_grating(32, f, tf, 0.25, dt=dt, contrast=0.9)
    assert movie.shape == (16, 32, 32) and movie.dtype == np.float32
    for k in range(movie.shape[0]):
        expected = S.grating(32, f, contrast=0.9, phase=-2 * np.pi * tf * dt * k)
        np.testing.assert_allclose(movie[k], expected, atol=1e-6)
    np.testing.assert_allclose(movie[1:, :, 1:], movie[:-1, :, :-1], atol=1e-6)  # θ = 0 drifts right
    down = S.drifting_grating(32, f, tf, 0.1, dt=dt, theta=np.pi / 2)
    np.testing.assert_allclose(down[1:, 1:, :], down[:-1, :-1, :], atol=1e-6)  # θ = π/2 drifts down


def test_drifting_grating_period_returns_to_start():
    movie = S.drifting_grating(24, 0.1, 5.0, 0.25, dt=0.01, waveform="square")  # period 20 frames
    assert movie.shape[0] == 25
    np.testing.assert_allclose(movie[20], movie[0], atol=1e-5)
    assert not np.allclose(movie[10], movie[0], atol=1e-2)
    static = S.drifting_grating(24, 0.1, 0.0, 0.05)  # tf = 0: a static control
    assert np.all(static == static[0])


def test_counterphase_sign_flipping_amplitude():
    tf, dt = 5.0, 0.01
    movie = S.counterphase_grating(32, 1 / 8, tf, 0.2, dt=dt)
    assert movie.shape == (20, 32, 32)
    base = movie[0].astype(np.float64) - BG
    for k in range(20):
        np.testing.assert_allclose(movie[k] - BG, base * np.cos(2 * np.pi * tf * dt * k), atol=1e-6)
    np.testing.assert_allclose(movie[10] - BG, -base, atol=1e-6)  # half a period: reversed
    assert np.all(np.abs(movie[5] - BG) < 1e-6)  # quarter period: blank


def test_plaid_is_mean_of_components():
    t1, t2 = 0.3, 1.9
    p = S.plaid(48, 0.1, t1, t2, contrast=0.8)
    _check_image(p, (48, 48))
    g = (S.grating(48, 0.1, theta=t1, contrast=0.8).astype(np.float64) + S.grating(48, 0.1, theta=t2, contrast=0.8)) / 2
    np.testing.assert_allclose(p, g, atol=1e-6)


# ----------------------------------------------------------------------------- degrees
def test_ppd_matches_pixel_version():
    ppd = 10.0
    assert S.deg_to_px(1.5, ppd) == 15.0 and S.cpd_to_cpp(2.0, 20.0) == 0.1
    np.testing.assert_allclose(S.deg_to_px([1.0, 2.0], 4.0), [4.0, 8.0])
    pairs = [
        (S.spot(64, 1.5, center=(2.0, 3.0), ppd=ppd), S.spot(64, 15.0, center=(20.0, 30.0))),
        (S.annulus(64, 0.5, 2.0, ppd=ppd), S.annulus(64, 5.0, 20.0)),
        (S.bar(64, 4.0, 0.5, theta=0.4, ppd=ppd), S.bar(64, 40.0, 5.0, theta=0.4)),
        (S.edge(64, position=-0.7, ppd=ppd), S.edge(64, position=-7.0)),
        (
            S.grating(64, 1.0, mask="circle", mask_radius=2.0, ppd=ppd),
            S.grating(64, 0.1, mask="circle", mask_radius=20.0),
        ),
        (S.plaid(64, 1.0, 0.0, 1.0, ppd=ppd), S.plaid(64, 0.1, 0.0, 1.0)),
        (S.drifting_grating(32, 2.0, 3.0, 0.05, ppd=20.0), S.drifting_grating(32, 0.1, 3.0, 0.05)),
    ]
    for deg, px in pairs:
        np.testing.assert_allclose(deg, px, atol=1e-6)


# ----------------------------------------------------------------------------- noise
@pytest.mark.parametrize("kind", ["gaussian", "binary"])
def test_white_noise_seed_and_statistics(kind):
    a = S.white_noise((128, 128), n_frames=4, contrast=0.6, kind=kind, rng=7)
    b = S.white_noise((128, 128), n_frames=4, contrast=0.6, kind=kind, rng=np.random.default_rng(7))
    assert a.shape == (4, 128, 128) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, S.white_noise((128, 128), n_frames=4, contrast=0.6, kind=kind, rng=8))
    assert a.mean() == pytest.approx(BG, abs=0.005)
    std = 0.6 * BG / 3 if kind == "gaussian" else 0.6 * BG
    assert a.std() == pytest.approx(std, rel=0.02)
    if kind == "binary":
        assert set(np.unique(a)) == {np.float32(BG * 0.4), np.float32(BG * 1.6)}


def test_white_noise_full_contrast_clipped_range():
    img = S.white_noise(200, rng=0)
    _check_image(img, (200, 200))
    assert img.std() == pytest.approx(BG / 3, rel=0.02)


# ----------------------------------------------------------------------------- images and movies
@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", S.images.IMAGE_NAMES)
def test_natural_images_offline(name, no_network):
    img = S.natural_image(name)
    assert img.ndim == 2 and img.dtype == np.float32 and img.shape[0] > 100
    assert 0 <= img.min() < img.max() <= 1


def test_natural_image_resize_and_textures():
    img = S.natural_image("camera", size=(40, 60))
    _check_image(img, (40, 60))
    assert S.natural_image(size=32).shape == (32, 32)
    tex = S.textures(size=16)
    assert sorted(tex) == ["brick", "grass", "gravel"]
    assert all(t.shape == (16, 16) and t.dtype == np.float32 for t in tex.values())
    a = S.natural_image("moon")
    a[:] = 0
    assert S.natural_image("moon").max() > 0  # a fresh array each call


def test_natural_image_unknown_name_lists_known():
    with pytest.raises(ValueError, match="name") as info:
        S.natural_image("lena")
    assert "'camera'" in str(info.value) and "'gravel'" in str(info.value)


def test_present_window():
    img = S.spot(9, 3)
    movie = S.present(img, 0.5, onset=0.1, offset=0.3, dt=0.01)
    assert movie.shape == (50, 9, 9) and movie.dtype == np.float32
    on = np.array([np.array_equal(f, img) for f in movie])
    assert on.sum() == 20 and on[10:30].all()
    assert np.all(movie[~on] == np.float32(BG))
    to_end = S.present(img.astype(np.float64), 0.05, onset=0.02, dt=0.01)
    assert to_end.dtype == np.float64 and [np.array_equal(f, img) for f in to_end] == [False] * 2 + [True] * 3


# ----------------------------------------------------------------------------- bad input
BAD = [
    (lambda: S.spot(32, 0), ValueError, "radius"),
    (lambda: S.plaid(32, 0.1, float("nan"), 1.0), ValueError, "theta1"),
    (lambda: S.grating(32, 0.1, phase=float("inf")), ValueError, "phase"),
    (lambda: S.spot(32, "3"), TypeError, "radius"),
    (lambda: S.annulus(32, 5, 5), ValueError, "outer_radius"),
    (lambda: S.annulus(32, -1, 5), ValueError, "inner_radius"),
    (lambda: S.bar(32, 10, -1), ValueError, "width"),
    (lambda: S.grating(32, 0.0), ValueError, "frequency"),
    (lambda: S.grating(32, 0.6), ValueError, "frequency"),
    (lambda: S.grating(32, 1.0, ppd=1.5), ValueError, "frequency"),  # 0.67 cycles/pixel
    (lambda: S.spot(32, 3, contrast=1.5), ValueError, "contrast"),
    (lambda: S.spot(32, 3, background=0.8), ValueError, "contrast"),
    (lambda: S.spot(32, 3, background=1.2, contrast=0.0), ValueError, "background"),
    (lambda: S.spot(32, 3, polarity="bright"), ValueError, "polarity"),
    (lambda: S.edge(32, kind="up"), ValueError, "kind"),
    (lambda: S.grating(32, 0.1, waveform="triangle"), ValueError, "waveform"),
    (lambda: S.grating(32, 0.1, mask="square"), ValueError, "mask"),
    (lambda: S.grating(32, 0.1, mask_radius=5), ValueError, "mask_radius"),
    (lambda: S.grating(32, 0.1, mask="circle", mask_radius=0), ValueError, "mask_radius"),
    (lambda: S.drifting_grating(32, 0.1, 2.0, -1.0), ValueError, "duration"),
    (lambda: S.drifting_grating(32, 0.1, 60.0, 1.0, dt=0.01), ValueError, "temporal_frequency"),
    (lambda: S.counterphase_grating(32, 0.1, 2.0, 1.0, dt=0), ValueError, "dt"),
    (lambda: S.spot((0, 10), 3), ValueError, "shape"),
    (lambda: S.spot((10,), 3), ValueError, "shape"),
    (lambda: S.spot(32, 3, ppd=0), ValueError, "ppd"),
    (lambda: S.deg_to_px(1.0, -2.0), ValueError, "ppd"),
    (lambda: S.spot(32, 3, center=(1, 2, 3)), ValueError, "center"),
    (lambda: S.bar(32, 10, 2, theta=float("nan")), ValueError, "theta"),
    (lambda: S.white_noise(8, n_frames=0), ValueError, "n_frames"),
    (lambda: S.white_noise(8, kind="pink"), ValueError, "kind"),
    (lambda: S.white_noise(8, rng="seed"), TypeError, "rng"),
    (lambda: S.natural_image("camera", size=0), ValueError, "size"),
    (lambda: S.present(np.zeros((4, 4)), 1.0, onset=0.5, offset=0.5), ValueError, "offset"),
    (lambda: S.present(np.zeros((4, 4)), 1.0, onset=1.0), ValueError, "onset"),
    (lambda: S.present(np.zeros(4), 1.0), ValueError, "image"),
]


@pytest.mark.parametrize("call, exc, name", BAD, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD)])
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


def test_inputs_not_mutated():
    img = np.full((4, 4), 0.25)
    before = img.copy()
    S.present(img, 0.01, dt=0.001)
    np.testing.assert_array_equal(img, before)


def test_unit_conversions_name_ragged_and_overflowing_values():
    from v1sim.errors import InputError, InputTypeError

    for fn, name in ((S.deg_to_px, "deg"), (S.cpd_to_cpp, "cpd")):
        with pytest.raises(InputTypeError) as exc:
            fn([[1.0, 2.0], [3.0]], 20.0)
        assert exc.value.argument == name
    with pytest.raises(InputError, match="overflows") as exc:
        S.deg_to_px(1e300, 1e10)
    assert exc.value.argument == "deg"
    assert S.deg_to_px(np.float64(1.5), 20.0) == 30.0 and isinstance(S.cpd_to_cpp(np.array(2.0), 20.0), float)
