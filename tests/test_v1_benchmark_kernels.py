"""The V1 benchmark's kernels (grating_batch, gabor_energy, aperture_projections) against plain numpy, and the
measured properties against the per-image route they replaced (v1sim.stimuli.grating per image, float64
projections per unit) and against drawing every image (the quadrature shortcut of grating_drives)."""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import kernels
from v1sim.errors import InputError
from v1sim.physiology.macaque import macaque_population
from v1sim.physiology.population import measure_properties
from v1sim.physiology.population_gratings import grating_projections
from v1sim.physiology.population_stimuli import check_population, draw_gratings
from v1sim.stimuli import grating


@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_grating_batch_draws_the_pixels_of_grating(device):
    theta, f = np.array([0.3, 1.2, 2.9]), np.array([0.05, 0.21, 0.49])
    phase, radius = np.array([0.0, 1.0, 4.0]), np.array([np.inf, 5.3, 20.0])
    out = np.empty((3, 17, 23), np.float32)
    kernels.get("grating_batch", device)(theta, f, phase, radius, 0.8, 0.5, out)
    for n in range(3):
        mask = {} if np.isinf(radius[n]) else {"mask": "circle", "mask_radius": radius[n]}
        ref = grating((17, 23), f[n], theta=theta[n], phase=phase[n], contrast=0.8, **mask)
        # the kernel's separated carrier (cos a cos b - sin a sin b) is within ~1e-14 of grating's direct cosine,
        # so a float32 pixel may round the other way: at most 1 ulp (6e-8 on [0, 1]), well inside 1e-6
        np.testing.assert_allclose(out[n], ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_gabor_energy_is_rectified_projection_or_quadrature_energy(device):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((7, 9)).astype(np.float32)
    pair = np.array([-1, 6, -1, 8, 5], np.int64)
    scale = rng.uniform(0.5, 2.0, 5)
    out = np.empty((7, 5))
    kernels.get("gabor_energy", device)(q, scale, pair, out)
    q64 = q.astype(np.float64)
    ref = np.stack([np.hypot(q64[:, u], q64[:, p]) if p >= 0 else q64[:, u] for u, p in enumerate(pair)], 1)
    np.testing.assert_allclose(out, ref / scale, rtol=1e-12)


class _Reference:
    """The route before the kernel layer: float64 projections of every unit, nonlinearity after."""

    def __init__(self, population):
        self.p, self.ppd, self.image_size, self.n_units = (
            population,
            population.ppd,
            population.image_size,
            population.n_units,
        )

    def responses(self, images):
        p = self.p
        c = (np.asarray(images, np.float64).reshape(len(images), -1) - 0.5) / 0.5
        q = c @ p._even.T
        cx = ~p.simple
        q[:, cx] = np.hypot(q[:, cx], c @ p._odd[cx].T)
        return p.nonlinearity(q / p._unit)


def test_macaque_responses_and_properties_match_the_float64_route():
    population = macaque_population(40, ppd=16, image_size=48, rng=2)
    ref = _Reference(population)
    images = np.stack([grating(48, 0.1 * k + 0.05, theta=0.4 * k, phase=k, mask="circle") for k in range(5)])
    np.testing.assert_allclose(population.responses(images), ref.responses(images), rtol=1e-4, atol=1e-4)
    units = np.array([3, 30, 7])
    np.testing.assert_allclose(
        population.responses(images, units=units), population.responses(images)[:, units], rtol=1e-4, atol=1e-4
    )
    fast, slow = measure_properties(population), measure_properties(ref)
    np.testing.assert_array_equal(fast.responsive, slow.responsive)
    for name in fast.names:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-4, atol=1e-5, equal_nan=True, err_msg=name)


def _plain_patch_projections(gabors, theta, f, radius):
    """The aperture kernel's sums the plain way: draw env cos(phi) and env cos(phi + pi/2), multiply, sum."""
    h, w = gabors.shape[1:]
    y, x = np.mgrid[:h, :w] - np.array([(h - 1) / 2.0, (w - 1) / 2.0])[:, None, None]
    out = np.empty((theta.size, radius.size, 2, len(gabors)))
    for c in range(theta.size):
        phi = 2 * np.pi * f[c] * (x * np.cos(theta[c]) + y * np.sin(theta[c]))
        for r, rad in enumerate(radius):
            env = np.clip(rad - np.hypot(x, y) + 0.5, 0.0, 1.0)  # 1 everywhere for rad = inf
            for p, shift in enumerate((0.0, np.pi / 2)):
                out[c, r, p] = np.einsum("kij,ij->k", gabors.astype(np.float64), env * np.cos(phi + shift))
    return out


@pytest.mark.parametrize("device", ["cpu", "parallel"])
def test_aperture_projections_are_the_sums_over_drawn_patches(device):
    rng = np.random.default_rng(1)
    gabors = rng.standard_normal((5, 16, 13)).astype(np.float32)
    gabors[:, :3] = 0.0  # dropped envelope tails are skipped, not mis-summed
    columns = np.array([4, 1, 2])
    theta, f = np.array([0.0, 0.7, 2.5]), np.array([0.05, 0.13, 0.31])
    radius = np.array([0.0, 0.3, 0.9, 1.4, 2.6, 5.5, 30.0, np.inf])  # the blank, overlapping ramps, full field
    out = np.full((3, radius.size, 2, columns.size), np.nan)
    kernels.get("aperture_projections", device)(gabors, columns, theta, f, radius, out)
    want = _plain_patch_projections(gabors[columns], theta, f, radius)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())
    assert np.all(out[:, 0] == 0.0)  # radius 0 shows no grating


def test_grating_drives_equal_the_drives_of_the_drawn_gratings():
    # the quadrature shortcut (2 images per full-field carrier, none per patch) against drawing every image
    population = macaque_population(30, ppd=16, image_size=40, rng=4)
    geometry = check_population(population)
    rng = np.random.default_rng(2)
    n = 50
    theta = rng.choice([0.0, 15.0, 90.0, 165.0], n)
    cpd = rng.choice([0.0, 1.0, 2.8, 7.9], n)
    phase = rng.uniform(-4.0, 9.0, n)
    radius = rng.choice([np.inf, 0.0, 0.1, 0.45, 1.25, 2.5], n)
    for contrast, units in ((1.0, None), (0.35, np.array([29, 0, 17, 3]))):
        got = population.grating_drives(theta, cpd, phase, radius, contrast, units=units)
        want = population.drives(draw_gratings(geometry, theta, cpd, phase, radius, contrast), units=units)
        # both float32 projections (the drawn route also rounds each pixel to float32): ~1e-6 of the largest
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-6 * np.abs(want).max())
        rates = population.grating_responses(theta, cpd, phase, radius, contrast, units=units)
        np.testing.assert_allclose(rates, population.nonlinearity(got))
    # one full-field image: a unit's own carrier at its best phase drives it at 1 (the drives' unit)
    u = 7
    best = [
        population.grating_drives(np.degrees(population.theta[u]), population.frequency[u], p, np.inf)[0, u]
        for p in np.linspace(0, 2 * np.pi, 720, endpoint=False)
    ]
    assert max(best) == pytest.approx(1.0, abs=1e-4)


class _DrawnOnly:
    """The same population without grating_responses: measure_properties must draw every image."""

    def __init__(self, population):
        self.ppd, self.image_size, self.n_units = population.ppd, population.image_size, population.n_units
        self.responses = population.responses


def test_measure_properties_through_grating_responses_equals_drawing_every_image():
    population = macaque_population(40, ppd=16, image_size=48, rng=5)
    fast, drawn = measure_properties(population), measure_properties(_DrawnOnly(population))
    np.testing.assert_array_equal(fast.responsive, drawn.responsive)
    assert fast.n_images == drawn.n_images
    assert np.isfinite(fast["surround_suppression_index"]).any()  # the patches were shown
    for name in fast.names:
        np.testing.assert_allclose(fast[name], drawn[name], rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=name)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"cpd": 8.0}, "cpd"),  # the Nyquist limit of ppd 16
        ({"cpd": -1.0}, "cpd"),
        ({"radius_deg": np.nan}, "radius_deg"),
        ({"radius_deg": -0.5}, "radius_deg"),
        ({"theta_deg": np.inf}, "theta_deg"),
        ({"phase": [0.0, 1.0, 2.0]}, "phase"),  # does not broadcast with theta_deg's two
        ({"contrast": 1.5}, "contrast"),
        ({"units": [30]}, "units"),
    ],
)
def test_grating_drives_names_the_bad_argument(kwargs, argument):
    population = macaque_population(30, ppd=16, image_size=40, rng=4)
    call = {"theta_deg": [0.0, 90.0], "cpd": 2.0, "phase": 0.0, "radius_deg": np.inf, **kwargs}
    with pytest.raises(InputError) as info:
        population.grating_drives(**call)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"filters": np.zeros((2, 8, 9), np.float32)}, "filters"),
        ({"filters": np.zeros((8, 8), np.float32)}, "filters"),
        ({"rows": [2]}, "rows"),
        ({"ppd": 0.0}, "ppd"),
    ],
)
def test_grating_projections_names_the_bad_argument(kwargs, argument):
    call = {"filters": np.zeros((2, 8, 8), np.float32), "theta_deg": 0.0, "cpd": 1.0, "phase": 0.0}
    call = {**call, "radius_deg": np.inf, "ppd": 4.0, **kwargs}
    with pytest.raises(InputError) as info:
        grating_projections(**call)
    assert info.value.argument == argument
