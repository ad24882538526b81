"""The V1 benchmark's kernels (grating_batch, gabor_energy) against plain numpy, and the measured properties
against the per-image route they replaced (v1sim.stimuli.grating per image, float64 projections per unit)."""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import kernels
from v1sim.physiology.macaque import macaque_population
from v1sim.physiology.population import measure_properties
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
