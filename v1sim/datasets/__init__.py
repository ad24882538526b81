"""Datasets: handwritten digits, Fashion-MNIST, natural images (bundled or from a folder), and augmentation.

Labelled sets for the classifiers. Every loader returns ``(images, labels)``
with images float32 in [0, 1] of shape (N, 1, 28, 28) (NCHW) and labels int64
of shape (N,):

``load_digits(split)``
    A class-balanced subset of real MNIST shipped inside the package
    (``v1sim/data/digits.npz``, about 1 MB): 5000 training images (500 per
    class) from the MNIST training set and 1000 test images (100 per class)
    from the MNIST test set. No download, no network: the default for
    ``v1sim train`` and ``v1sim figures``.
``load_mnist(data_dir, download=..., split=...)``
    The full MNIST (60000 / 10000) from the four original IDX files, gzip or
    raw, found in ``data_dir`` or the cache, or downloaded on request with
    SHA-256 verification and atomic writes.
``load_fashion_mnist(data_dir, download, split)``
    Fashion-MNIST [3]_ (60000 / 10000 images of clothing, ten classes named
    by ``FASHION_CLASSES``), from files of MNIST's names and format, through
    the same reader and the same checksum-verified download.
``load_dataset(name, split, ...)``
    The single entry point the command line uses (``--dataset``).

Natural images, unlabelled, for learning receptive fields (ICA, the
natural-image ConvNets): :func:`natural_images` (scikit-image's bundled grey
photographs, offline, or a folder), :func:`natural_patches` (random
mean-removed patches, deterministic for a seed) and :func:`whiten`
(Olshausen & Field's 1/f whitening). :func:`load_image_folder` reads any
folder of PNG/JPEG files; :func:`load_labelled_folder` reads class subfolders
as a classification set.

Helpers: :func:`read_idx` (the IDX format), :func:`pad_to` (28 -> 32 for
LeNet-5), :func:`batches` (minibatches, deterministic under a seed) and
:func:`augment` (random flips, shifts and crops of a batch).

Modules: ``idx`` (the IDX format), ``download`` (finding IDX files, the
checksum-verified download, shared by ``mnist`` and ``fashion``), ``mnist``,
``fashion``, ``digits`` (the bundled subset and its builder,
``python -m v1sim.datasets --build-embedded SRC_DIR``), ``natural``,
``folder``, ``augment``; the entry point and the training helpers live here.

References
----------
.. [1] Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
   handwritten digits", http://yann.lecun.com/exdb/mnist/ . Derived from NIST
   Special Databases 1 and 3. Made available under the Creative Commons
   Attribution-Share Alike 3.0 license (CC BY-SA 3.0); the embedded subset
   ``v1sim/data/digits.npz`` is a verbatim selection of these images and
   carries the same license and attribution.
.. [2] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
   applied to document recognition", Proc. IEEE 86(11):2278-2324, 1998.
.. [3] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image
   dataset for benchmarking machine learning algorithms", arXiv:1708.07747, 2017.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._core.validate import (
    as_array,
    as_float_array,
    check_allocation,
    check_choice,
    check_int_pair,
    check_ndim,
    check_positive_int,
    check_rng,
)
from ..errors import DownloadError, InputError, InputTypeError
from .augment import augment
from .digits import load_digits
from .download import SPLITS, default_cache_dir
from .fashion import FASHION_CLASSES, FASHION_MIRRORS, FASHION_SHA256, load_fashion_mnist
from .folder import load_image_folder, load_labelled_folder
from .idx import read_idx
from .mnist import MNIST_FILES, MNIST_MIRRORS, MNIST_SHA256, load_mnist
from .natural import NATURAL_IMAGES, natural_images, natural_patches, whiten

__all__ = [
    "DownloadError",
    "FASHION_CLASSES",
    "FASHION_MIRRORS",
    "FASHION_SHA256",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "NATURAL_IMAGES",
    "augment",
    "batches",
    "default_cache_dir",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_labelled_folder",
    "load_mnist",
    "natural_images",
    "natural_patches",
    "pad_to",
    "read_idx",
    "whiten",
]

#: the names ``load_dataset`` (and ``v1sim train --dataset``) accepts
DATASETS = ("digits", "mnist", "fashion-mnist", "images")


def load_dataset(name: str = "digits", split: str = "train", data_dir=None, download: bool = False, *, cache_dir=None):
    """Load a labelled image dataset by name: the entry point of the command line (``--dataset``).

    Parameters
    ----------
    name : {"digits", "mnist", "fashion-mnist", "images"}
        ``"digits"``: the bundled subset (:func:`load_digits`, 5000 / 1000
        images, offline). ``"mnist"``: the full MNIST (:func:`load_mnist`).
        ``"fashion-mnist"``: Fashion-MNIST (:func:`load_fashion_mnist`).
        ``"images"`` is refused here: natural photographs carry no labels
        (see :func:`natural_images`).
    split : {"train", "test"}
    data_dir : str or os.PathLike, optional
        Folder of the IDX files (``"mnist"``, ``"fashion-mnist"``).
    download : bool, default False
        Download missing files (``"mnist"``, ``"fashion-mnist"``).
    cache_dir : str or os.PathLike, optional
        Download directory (``"mnist"``, ``"fashion-mnist"``).

    Returns
    -------
    images : ndarray of float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1].
    labels : ndarray of int64, shape (N,)

    Raises
    ------
    ValueError
        For an unknown ``name`` or ``split``, for ``name="images"`` (no
        labels), or ``data_dir`` / ``download`` / ``cache_dir`` given with
        ``name="digits"`` (they would be ignored).
    """
    name = check_choice(name, "name", DATASETS)
    split = check_choice(split, "split", SPLITS)
    if name == "images":
        raise InputError(
            "--dataset images holds unlabelled photographs: it trains the natural-image models (their first layer "
            "learned from natural-image patches, e.g. v1sim.datasets.natural_patches); classifiers need digits, "
            "mnist or fashion-mnist",
            argument="name",
        )
    if name == "digits":
        given = [k for k, v in (("data_dir", data_dir), ("download", download), ("cache_dir", cache_dir)) if v]
        if given:
            raise InputError(
                f"{', '.join(given)} only apply to name='mnist' or 'fashion-mnist'; the bundled 'digits' need no files "
                f"(got name='digits' with {', '.join(given)})",
                argument=given[0],
            )
        return load_digits(split)
    if name == "fashion-mnist":
        return load_fashion_mnist(data_dir, download, split, cache_dir=cache_dir)
    return load_mnist(data_dir, download=download, cache_dir=cache_dir, split=split)


def pad_to(images, size) -> np.ndarray:
    """Zero-pad images to ``size``, centred (LeNet-5 takes 28x28 digits as 32x32).

    Parameters
    ----------
    images : array_like, shape (H, W), (N, H, W) or (N, C, H, W)
        Integer input is promoted to float32 (values are not rescaled);
        float64 is kept.
    size : int or (int, int)
        Output (rows, cols), each >= the input's. An odd difference puts the
        extra row/column at the bottom/right.

    Returns
    -------
    ndarray, shape (..., size_rows, size_cols)
        A new array; the input is not modified.

    Raises
    ------
    ValueError
        If ``size`` is smaller than the images, or ``images`` has the wrong
        number of dimensions.
    """
    x = as_float_array(images, "images", ndim=(2, 3, 4))
    rows, cols = check_int_pair(size, "size", minimum=1)
    h, w = x.shape[-2:]
    if rows < h or cols < w:
        raise InputError(f"size must be at least the image size ({h}, {w}); got {(rows, cols)}", argument="size")
    check_allocation(x.shape[:-2] + (rows, cols), x.dtype, "size", what=f"padding to size={(rows, cols)}")
    top, left = (rows - h) // 2, (cols - w) // 2
    out = np.zeros(x.shape[:-2] + (rows, cols), dtype=x.dtype)
    out[..., top : top + h, left : left + w] = x
    return out


def batches(images, labels, batch_size: int, *, shuffle: bool = False, rng=None, drop_last: bool = False):
    """Split ``(images, labels)`` into minibatches for one epoch.

    Parameters
    ----------
    images : array_like, shape (N, ...)
        Promoted to float32 if integer; float64 kept.
    labels : array_like of int, shape (N,)
    batch_size : int
        Samples per batch (>= 1). The last batch is smaller when N is not a
        multiple, unless ``drop_last``.
    shuffle : bool, default False
        Visit the samples in a random order drawn from ``rng``.
    rng : None, int or numpy.random.Generator
        Source of the permutation (see ``numpy.random.default_rng``); a fixed
        seed gives the same batches every time. Passing one Generator to
        successive calls gives a new order each epoch.
    drop_last : bool, default False
        Leave out the last, incomplete batch.

    Returns
    -------
    iterator of (ndarray, ndarray)
        ``(images[i], labels[i])`` per batch, every sample exactly once per
        epoch (bar ``drop_last``). Inputs are checked at the call, not at the
        first ``next()``. Batches may be views of ``images`` (when not
        shuffling): do not write into them.

    Raises
    ------
    ValueError
        If ``labels`` is not 1-D or its length differs from ``images``', or
        ``batch_size`` < 1.
    TypeError
        If ``labels`` is not an integer array, or ``rng`` is not a seed or
        Generator.
    """
    x = as_float_array(images, "images", ndim=(1, 2, 3, 4, 5), allow_empty=True)
    y = as_array(labels, "labels")
    check_ndim(y, "labels", 1)
    if len(y) != len(x):
        raise InputError(f"labels must have one entry per image: expected {len(x)}, got {len(y)}", argument="labels")
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = check_rng(rng)
    for flag, flag_name in ((shuffle, "shuffle"), (drop_last, "drop_last")):
        if not isinstance(flag, (bool, np.bool_)):
            raise InputTypeError(f"{flag_name} must be a bool, got {flag!r:.60}", argument=flag_name)
    order = rng.permutation(len(x)) if shuffle else None
    return _iter_batches(x, y, batch_size, order, bool(drop_last))


def _iter_batches(x, y, batch_size, order, drop_last) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n = len(x)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start : start + batch_size], y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            yield x[idx], y[idx]
