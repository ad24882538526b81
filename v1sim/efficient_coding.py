"""Receptive fields learned from natural images: independent component analysis (ICA) of image patches.

Efficient coding (Barlow 1961) predicts that V1 simple cells are filters whose
outputs are as independent as natural images allow. Olshausen & Field (1996)
with sparse coding, and Bell & Sejnowski (1997) and van Hateren & van der
Schaaf (1998) with ICA, found that such filters, learned from image patches,
are localised, oriented and band-pass: Gabor-like, as simple cells are.
Ringach (2002) then measured where they differ: fitted with the same Gabor,
the learned filters have more subregions (larger ``nx``) than V1 cells, and
none of V1's blob-like fields. :func:`ica_filters` learns them here from the
grey images bundled with scikit-image (no download; the patches and the
image list live in :mod:`v1sim.datasets.natural` and are re-exported here), so
:func:`v1sim.biology.fit_gabor` can place them beside the macaque data.

Functions
---------
:func:`natural_patches`
    Random patches of log-luminance from natural images, each with its mean removed
    (:func:`v1sim.datasets.natural_patches`, re-exported).
:func:`ica_filters`
    PCA whitening, then symmetric FastICA (``tanh`` contrast), giving the
    filters (what a cell computes) and basis functions (what it explains).

References
----------
.. [1] Bell AJ, Sejnowski TJ (1997). The "independent components" of natural
   scenes are edge filters. Vision Res 37:3327-3338.
.. [2] van Hateren JH, van der Schaaf A (1998). Independent component filters
   of natural images compared with simple cells in primary visual cortex.
   Proc R Soc Lond B 265:359-366.
.. [3] Hyvarinen A, Oja E (2000). Independent component analysis: algorithms
   and applications. Neural Netw 13:411-430 (FastICA).
.. [4] Ringach DL (2002). Spatial structure and symmetry of simple-cell
   receptive fields in macaque primary visual cortex. J Neurophysiol 88:455-463.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core.validate import as_float_array, check_positive_float, check_positive_int, check_rng
from .datasets.natural import NATURAL_IMAGES, natural_patches  # re-exported: the image source has one home
from .errors import InputError

__all__ = ["IcaFilters", "NATURAL_IMAGES", "ica_filters", "natural_patches"]


@dataclass(frozen=True)
class IcaFilters:
    """Result of :func:`ica_filters`.

    Attributes
    ----------
    filters : (k, size, size) ndarray of float64
        Rows of the unmixing matrix in pixel space: component ``i`` of a patch
        ``p`` is ``sum(filters[i] * p)``. The analogue of a receptive field.
    basis : (k, size, size) ndarray of float64
        Columns of the mixing matrix: a patch is approximately
        ``sum_i s_i basis[i]`` (what Olshausen & Field plot).
    n_iter : int
        FastICA iterations run.
    converged : bool
        Whether the largest change of a unit vector fell below ``tol``.
    """

    filters: np.ndarray
    basis: np.ndarray
    n_iter: int
    converged: bool


def _symmetric_decorrelation(w: np.ndarray) -> np.ndarray:
    """``(W W^T)^(-1/2) W``: the orthonormal matrix nearest ``W``, all rows updated at once."""
    u, _, vt = np.linalg.svd(w, full_matrices=False)
    return u @ vt


def ica_filters(patches, n_components, *, max_iter=200, tol=1e-4, rng=None) -> IcaFilters:
    """Learn independent-component filters from image patches (PCA whitening + symmetric FastICA).

    The patches are whitened with their ``n_components`` leading principal
    components (dropping the rest removes the highest, noisiest spatial
    frequencies and the pixel-grid aliasing), then FastICA's fixed point
    ``W <- E[g(W z) z^T] - diag(E[g'(W z)]) W`` with ``g = tanh`` is iterated,
    re-orthonormalising all rows at once, until ``W`` stops turning.

    Parameters
    ----------
    patches : (n, size, size) array_like
        Zero-mean patches, e.g. from :func:`natural_patches`; ``n`` should be
        well above ``size**2`` (tens of thousands for 12 x 12).
    n_components : int
        Number of filters, at most ``size**2``.
    max_iter : int
        Iteration cap (about 100-200 suffice for natural images).
    tol : float
        Stop when ``max_i |1 - |w_i . w_i_old||`` falls below it.
    rng : None, int or numpy.random.Generator
        Seeds the random orthonormal start.

    Returns
    -------
    IcaFilters
        Filters, basis functions, iterations, convergence flag. The order and
        sign of components are arbitrary (as in any ICA).
    """
    x = as_float_array(patches, "patches", ndim=3, dtype=np.float64)
    n, h, w = x.shape
    d = h * w
    k = check_positive_int(n_components, "n_components")
    if k > d:
        raise InputError(f"n_components must be at most size**2 = {d}, got {k}", argument="n_components")
    if n <= d:
        raise InputError(f"patches must hold more patches than pixels per patch ({d}), got {n}", argument="patches")
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive_float(tol, "tol")
    rng = check_rng(rng)

    flat = x.reshape(n, d)
    eigval, eigvec = np.linalg.eigh(flat.T @ flat / n)
    top = np.argsort(eigval)[::-1][:k]
    if eigval[top[-1]] <= 1e-12 * eigval[top[0]]:
        raise InputError(
            f"patches span fewer than n_components={k} dimensions (are they all alike?)", argument="patches"
        )
    whiten = (eigvec[:, top] / np.sqrt(eigval[top])).T  # (k, d)
    dewhiten = eigvec[:, top] * np.sqrt(eigval[top])  # (d, k)
    z = (flat @ whiten.T).astype(np.float32)  # float32: the (n, k) products dominate the time

    unmix = _symmetric_decorrelation(rng.standard_normal((k, k)))
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it, the iteration count, is returned)
        g = np.tanh(z @ unmix.T.astype(np.float32))
        g_prime_mean = (1.0 - g * g).mean(axis=0, dtype=np.float64)
        new = _symmetric_decorrelation((g.T @ z).astype(np.float64) / n - g_prime_mean[:, None] * unmix)
        change = float(np.max(np.abs(1.0 - np.abs(np.einsum("ij,ij->i", new, unmix)))))
        unmix = new
        if change < tol:
            converged = True
            break
    filters = (unmix @ whiten).reshape(k, h, w)
    basis = (dewhiten @ unmix.T).T.reshape(k, h, w)
    return IcaFilters(filters, basis, it, converged)
