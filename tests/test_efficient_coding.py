"""v1sim.efficient_coding: patches of natural images and ICA filters that come out Gabor-like."""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import biology
from v1sim import efficient_coding as ec


def test_patches_are_zero_mean_and_drawn_from_the_images():
    img = np.arange(400, dtype=np.float64).reshape(20, 20) / 400
    p = ec.natural_patches(50, 5, images=[img], log=False, rng=0)
    assert p.shape == (50, 5, 5)
    np.testing.assert_allclose(p.mean(axis=(1, 2)), 0, atol=1e-12)
    # a ramp image: every patch of it is the same ramp once its mean is removed
    np.testing.assert_allclose(p, np.broadcast_to(p[0], p.shape), atol=1e-12)
    a, b = ec.natural_patches(10, 8, rng=5), ec.natural_patches(10, 8, rng=5)
    np.testing.assert_array_equal(a, b)


def test_ica_unmixes_a_known_mixture():
    # sparse (Laplacian) sources mixed by a random matrix: the filters must invert the mixing up to order and sign
    rng = np.random.default_rng(0)
    sources = rng.laplace(size=(20000, 4))
    mixing = rng.standard_normal((4, 4))
    patches = (sources @ mixing.T).reshape(-1, 2, 2)
    result = ec.ica_filters(patches, 4, rng=1)
    assert result.converged
    recovered = patches.reshape(-1, 4) @ result.filters.reshape(4, 4).T
    corr = np.abs(np.corrcoef(recovered.T, sources.T)[:4, 4:])
    assert np.all(corr.max(axis=1) > 0.98)
    assert sorted(corr.argmax(axis=1).tolist()) == [0, 1, 2, 3]
    # basis functions are the pseudo-inverse: filters @ basis^T = identity
    np.testing.assert_allclose(result.filters.reshape(4, 4) @ result.basis.reshape(4, 4).T, np.eye(4), atol=1e-8)


def test_ica_of_natural_images_learns_gabor_like_filters():
    patches = ec.natural_patches(8000, 8, rng=0)
    result = ec.ica_filters(patches, 24, rng=0)
    fits = biology.fit_gabor(result.filters)
    assert np.median(fits.r2) > 0.6  # localised, oriented, band-pass: a Gabor explains most of each
    assert np.median(fits.frequency) > 0.1
    # Ringach (2002): such filters have more subregions than V1 simple cells and are never blob-like
    good = fits.select(fits.r2 > 0.7)
    v1 = biology.ringach2002_nxny()
    v1_below = v1.counts[:3].sum() / v1.n  # share of V1 cells with nx < 0.52
    assert np.mean(good.nx < v1.edges[3]) < v1_below - 0.3
    assert not np.any((good.nx < 0.3) & (good.ny < 0.3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(patches=np.zeros((8, 3, 3)), n_components=4), "more patches than pixels"),
        (dict(patches=np.random.default_rng(0).standard_normal((50, 3, 3)), n_components=10), "at most size"),
        (dict(patches=np.zeros((50, 3, 3)), n_components=2), "fewer than"),
        (dict(patches=np.zeros((50, 9)), n_components=2), "patches"),
    ],
)
def test_ica_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ec.ica_filters(**kwargs)


def test_patches_reject_bad_input():
    with pytest.raises(ValueError, match="larger than size"):
        ec.natural_patches(5, 8, images=[np.zeros((6, 6))])
    with pytest.raises(ValueError, match="sequence"):
        ec.natural_patches(5, 4, images="camera")
    with pytest.raises(ValueError, match="at least 2"):
        ec.natural_patches(5, 1)
