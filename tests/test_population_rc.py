"""Reverse correlation of a whole unit population (v1sim.physiology.population_rc).

Measured (seed 0, 8000 binary white-noise frames of 32 x 32): 12 macaque simple units, median r 0.92 with their
own Gabors (noise of grain 0.6 px: STA 0.91, ridge-whitened 0.96); the 6 channels of an untrained LeNet-5 c1
(read after tanh, rectified), median r 0.93 with their 5 x 5 filters placed at the centre unit's window.
"""

from __future__ import annotations

import numpy as np
import pytest

from v1sim.errors import InputError
from v1sim.filters import formulas
from v1sim.nn import models
from v1sim.physiology import ConvNetLayer, macaque_population, population_reverse_correlation
from v1sim.tuning import rf_correlation


def _gabors(pop) -> np.ndarray:
    """Each unit's true field, from the population's own parameters (pixels from the image centre)."""
    s = pop.image_size
    y, x = np.mgrid[:s, :s] - (s - 1) / 2.0
    f = pop.frequency / pop.ppd
    return np.stack(
        [
            formulas.gabor(x, y, f[i], pop.theta[i], pop.phase[i], pop.nx[i] / f[i], pop.ny[i] / f[i])
            for i in range(pop.n_units)
        ]
    )


@pytest.fixture(scope="module")
def simple_units():
    return macaque_population(12, ppd=8.0, image_size=32, rng=0, simple_fraction=1.0, max_frequency=2.0)


def test_macaque_simple_units_fields_match_their_gabors(simple_units):
    res = population_reverse_correlation(simple_units, n_frames=8000, rng=0)
    assert res.sta.shape == (12, 32, 32) and res.responsive.all() and res.whitened is None
    r = [rf_correlation(res.sta[i], g) for i, g in enumerate(_gabors(simple_units))]
    print(f"macaque simple units: median r {np.median(r):.3f}, min {min(r):.3f}")
    assert np.median(r) >= 0.9, r


def test_ridge_whitening_undoes_correlated_noise(simple_units):
    res = population_reverse_correlation(simple_units, n_frames=8000, grain=0.6, ridge=0.1, rng=0)
    true = _gabors(simple_units)
    blurred = np.median([rf_correlation(res.sta[i], g) for i, g in enumerate(true)])
    whitened = np.median([rf_correlation(res.whitened[i], g) for i, g in enumerate(true)])
    print(f"grain 0.6 px: STA median r {blurred:.3f}, whitened {whitened:.3f}")
    assert whitened >= 0.9 and whitened > blurred, (whitened, blurred)


def test_deterministic_for_a_seed(simple_units):
    a = population_reverse_correlation(simple_units, n_frames=300, rng=3, batch=100)
    b = population_reverse_correlation(simple_units, n_frames=300, rng=3, batch=100)
    c = population_reverse_correlation(simple_units, n_frames=300, rng=4, batch=100)
    np.testing.assert_array_equal(a.sta, b.sta)
    np.testing.assert_array_equal(a.totals, b.totals)
    assert not np.array_equal(a.sta, c.sta)


def test_convnet_layer_maps_match_its_filters_at_the_centre_unit():
    net = models.build("lenet5", rng=0)
    w = np.asarray(dict(net.named_modules())["c1"].weight.data)[:, 0]  # (6, 5, 5), cross-correlated, no padding
    pop = ConvNetLayer(net, "c1", image_size=32)
    res = population_reverse_correlation(pop, n_frames=8000, rng=0)
    assert np.isfinite(res.sta).all() and res.responsive.all()
    # the centre unit (row 28 // 2 = 14 of the 28 x 28 map) sees input rows and columns 14..18
    r = []
    for u in range(pop.n_units):
        placed = np.zeros((32, 32))
        placed[14:19, 14:19] = w[u]
        r.append(rf_correlation(res.sta[u], placed))
        peak = np.unravel_index(np.argmax(np.abs(res.sta[u])), (32, 32))
        assert 14 <= peak[0] <= 18 and 14 <= peak[1] <= 18
    print(f"lenet5 c1: median r {np.median(r):.3f}, min {min(r):.3f}")
    assert np.median(r) >= 0.85, r


class _Silent:
    ppd, image_size, n_units = 4.0, 16, 3

    def responses(self, images):
        return np.zeros((len(images), self.n_units))


class _HalfSilent(_Silent):
    def responses(self, images):
        c = images.reshape(len(images), -1).mean(axis=1) - 0.5
        return np.stack([np.maximum(c, 0) * 0 + 1.0, np.zeros(len(images)), np.maximum(c, 0)], axis=1)


def test_all_silent_population_is_refused_by_name():
    with pytest.raises(InputError) as info:
        population_reverse_correlation(_Silent(), n_frames=50)
    assert info.value.argument == "population" and "population" in str(info.value)


def test_silent_units_are_flagged_not_silently_nan():
    res = population_reverse_correlation(_HalfSilent(), n_frames=200)
    np.testing.assert_array_equal(res.responsive, [True, False, True])
    assert np.isnan(res.sta[1]).all() and np.isfinite(res.sta[[0, 2]]).all()
    assert res.totals[1] == 0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(population="not a population"), "population"),
        (dict(n_frames=0), "n_frames"),
        (dict(n_frames=10**12), "n_frames"),
        (dict(grain=-1.0), "grain"),
        (dict(contrast=0.0), "contrast"),
        (dict(kind="pink"), "kind"),
        (dict(ridge=-1.0), "ridge"),
        (dict(batch=0), "batch"),
        (dict(batch=10**9, n_frames=10**9), "batch"),
        (dict(rng="seed"), "rng"),
    ],
)
def test_bad_arguments_are_named(simple_units, kwargs, argument):
    kwargs = dict(dict(population=simple_units, n_frames=20), **kwargs)
    with pytest.raises((InputError, TypeError, ValueError)) as info:
        population_reverse_correlation(**kwargs)
    exc = info.value
    assert getattr(exc, "argument", None) == argument or argument in str(exc)
