"""Training a ConvNet's first layer on natural images: whitened patches, the sparse-coding run, the Gabor share.

:func:`whitened_patches`
    Patches of natural images whitened as Olshausen & Field whitened theirs.
:func:`gabor_fraction`
    The share of filters that a Gabor fits (Ringach's model, r^2 >= 0.7).
:func:`train_natural`
    ``v1sim train sparse_conv``: the model of :mod:`v1sim.nn.models` trained by
    :func:`~v1sim.nn.train.fit` with :class:`~v1sim.nn.ReconstructionLoss`
    into a run folder, reporting ``gabor_fraction`` beside ``train_seconds``.

References
----------
.. [1] B. A. Olshausen, D. J. Field, "Emergence of simple-cell receptive
   field properties by learning a sparse code for natural images", Nature
   381 (1996) 607-609.
.. [2] D. L. Ringach, "Spatial structure and symmetry of simple-cell
   receptive fields in macaque primary visual cortex", J Neurophysiol 88
   (2002) 455-463 (the Gabor fits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._core.validate import as_float_array, check_in_range, check_positive_int
from ..errors import InputError

__all__ = ["NATURAL_MODELS", "NATURAL_RECIPES", "gabor_fraction", "train_natural", "whitened_patches"]

#: the zoo models trained on natural images, not digits
NATURAL_MODELS = ("sparse_conv",)

#: ``v1sim train sparse_conv``'s defaults (flags override the SGD ones): 20 epochs of 1,000 steps. Measured on
#: 2 shared cores, seed 0: 8 epochs 10 s, 75% of conv1 Gabor-like; 20 epochs 32 s, 86%
NATURAL_RECIPES = {
    "sparse_conv": {
        "epochs": 20,
        "batch_size": 64,
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 0.0,  # the filters' norm is fixed by the layer; decay would only shrink the biases
        "log_every": 100,
    }
}
TRAIN_PATCHES, TEST_PATCHES = 64_000, 4_000
MIN_R2 = 0.7  # a filter counts as Gabor-like when Ringach's Gabor explains this much of its variance
DATA_SEED = 1996  # the patches do not depend on --seed (which seeds the weights and the batch order)


def whitened_patches(n, size, *, source=None, cutoff=0.4, rng=None) -> np.ndarray:
    """``n`` random ``size`` x ``size`` patches of whitened natural images, (n, 1, size, size) float32.

    Each image is log-transformed (``log(1 + 255 I)``), whitened by
    :func:`v1sim.datasets.whiten` (``f exp(-(f/f0)^4)``, Olshausen & Field's
    filter, on the whole image) and scaled to pixel variance ``1 / size^2``,
    so that a patch carries unit energy on average; patches are cut by
    :func:`v1sim.datasets.natural_patches` (each with its mean removed).

    Parameters
    ----------
    n, size : int
        Number of patches and their side (pixels, >= 2).
    source : None or path
        None: the photographs bundled with scikit-image; a folder: its PNG/JPEG images.
    cutoff : float
        ``f0`` of the whitening filter, cycles/pixel in (0, 0.5].
    rng : None, int or numpy.random.Generator
    """
    from ..datasets import natural_images, natural_patches, whiten

    size = check_positive_int(size, "size")
    grey = [whiten(np.log1p(255.0 * img), cutoff=cutoff) / size for img in natural_images(source)]
    usable = [g for g in grey if min(g.shape) > size]
    if not usable:
        raise InputError(f"no image is larger than the {size}-pixel patches", argument="data_dir")
    return natural_patches(n, size, images=usable, log=False, rng=rng)[:, None].astype(np.float32)


def gabor_fraction(filters, *, min_r2=MIN_R2) -> float:
    """The share of ``filters`` (K, h, w) (or (K, 1, h, w)) whose Gabor fit reaches ``r2 >= min_r2``.

    Each filter is fitted with Ringach's Gabor (:func:`v1sim.biology.fit_gabor`);
    an all-zero filter counts as not Gabor-like.
    """
    from ..biology import fit_gabor

    w = as_float_array(filters, "filters", ndim=(3, 4), dtype=np.float64)
    if w.ndim == 4:
        if w.shape[1] != 1:
            raise InputError(f"filters must have one input channel, got shape {w.shape}", argument="filters")
        w = w[:, 0]
    if len(w) == 0 or min(w.shape[1:]) < 3:
        raise InputError(f"filters must be at least one filter of 3 x 3 pixels, got shape {w.shape}", "filters")
    min_r2 = check_in_range(min_r2, "min_r2", 0.0, 1.0)
    live = np.any(w != 0, axis=(1, 2))
    if not live.any():
        return 0.0
    return float(np.sum(fit_gabor(w[live]).r2 >= min_r2)) / len(w)


def conv1_filters(run_dir) -> np.ndarray:
    """conv1's filters (K, 1, h, w) in the newest checkpoint (``last.npz``) of a run folder."""
    from .._core.io import load_checkpoint

    arrays, _ = load_checkpoint(Path(run_dir) / "last.npz")
    return arrays["model/conv1.weight"]


def train_natural(
    name,
    *,
    dataset="images",
    data_dir=None,
    config=None,
    device="auto",
    out="runs",
    resume=False,
    progress=True,
    limit=None,
) -> dict:
    """Train natural-image model ``name`` (:data:`NATURAL_MODELS`) on whitened patches into a run folder.

    ``dataset`` must be "images": the bundled photographs, or the PNG/JPEG
    images under ``data_dir``; 64,000 training and 4,000 test patches of the
    model's input size (``limit`` fewer training patches), drawn with a fixed
    seed. The result is :func:`~v1sim.nn.train.fit`'s, plus ``model``,
    ``dataset``, ``parameters`` and ``gabor_fraction`` (of conv1's filters
    in ``last.npz``, :func:`gabor_fraction`).

    Raises
    ------
    InputError
        For another ``dataset`` (naming it), or a folder with no usable image.
    """
    from . import models
    from .loss import ReconstructionLoss
    from .train import TrainConfig, fit

    if name not in NATURAL_MODELS:
        raise InputError(f"{name!r} is not a natural-image model ({', '.join(NATURAL_MODELS)})", argument="name")
    if dataset != "images":
        raise InputError(
            f"{name} learns from natural images: use --dataset images (the default; --data-dir DIR for your own "
            f"photographs), not {dataset}",
            argument="dataset",
        )
    config = config or TrainConfig(**NATURAL_RECIPES[name])
    c, size, _ = models.default_input_shape(name)
    n_train = TRAIN_PATCHES if limit is None else min(check_positive_int(limit, "limit"), TRAIN_PATCHES)
    source = None if data_dir is None else str(data_dir)
    patches = whitened_patches(n_train + TEST_PATCHES, size, source=source, rng=DATA_SEED)
    model = models.build(name, rng=config.seed, device=device)
    meta = {
        "model": name,
        "dataset": dataset,
        "data_dir": source,
        "input_shape": [c, size, size],
        "num_classes": None,
        "limit": limit,
    }
    train, test = (patches[:n_train], None), (patches[n_train:], None)
    criterion = ReconstructionLoss(model)
    result = fit(model, train, test, config, out, resume=resume, progress=progress, meta=meta, criterion=criterion)
    return {
        "model": name,
        "dataset": dataset,
        "parameters": model.num_parameters(),
        **result,
        "gabor_fraction": gabor_fraction(conv1_filters(result["out"])),
    }
