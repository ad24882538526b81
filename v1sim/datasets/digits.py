"""The bundled digits: a class-balanced subset of real MNIST shipped as ``v1sim/data/digits.npz``, and its builder."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import numpy as np

from .._core.io import write_reproducible_npz
from .._core.validate import check_choice, check_nonnegative_int, check_positive_int
from ..errors import InputError
from .download import SPLITS, file_sha256, to_float
from .idx import check_path
from .mnist import MNIST_FILES, MNIST_SHA256, load_mnist_uint8

__all__ = ["load_digits"]

_EMBEDDED = "data/digits.npz"  # inside the v1sim package
_EMBEDDED_FORMAT = 1


@functools.lru_cache(maxsize=1)
def _embedded() -> dict[str, np.ndarray]:
    """The arrays of digits.npz, read once and made read-only (loaders hand out fresh copies)."""
    resource = importlib.resources.files("v1sim").joinpath(_EMBEDDED)
    with resource.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        out = {k: npz[k] for k in npz.files}
    for arr in out.values():
        arr.flags.writeable = False
    return out


def load_digits(split: str = "train"):
    """Load the bundled class-balanced MNIST subset (no download, no network).

    ``v1sim/data/digits.npz`` holds 5000 training images (500 of each digit)
    drawn from the MNIST training set and 1000 test images (100 of each digit)
    drawn from the MNIST test set [1]_, chosen per class without replacement
    with ``numpy.random.default_rng(seed)`` and kept in their MNIST order. The
    file records its provenance: the SHA-256 of the four source files, the
    seed, and the MNIST index of every image (``train_indices``,
    ``test_indices``); it is rebuilt with
    ``python -m v1sim.datasets --build-embedded SRC_DIR``.

    MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges and is
    made available under CC BY-SA 3.0; this subset carries the same license.

    Parameters
    ----------
    split : {"train", "test"}

    Returns
    -------
    images : ndarray of float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1]; N = 5000 (train) or 1000 (test).
    labels : ndarray of int64, shape (N,)
        Digits 0..9, N / 10 of each.

    See Also
    --------
    load_mnist : the full 60000 / 10000 images.
    load_dataset : the entry point of the command line.
    """
    split = check_choice(split, "split", SPLITS)
    data = _embedded()
    return to_float(data[f"{split}_images"], data[f"{split}_labels"])


def build_embedded(
    src_dir,
    out=None,
    *,
    n_train_per_class: int = 500,
    n_test_per_class: int = 100,
    seed: int = 20240,
) -> Path:
    """Build ``digits.npz`` from the four original MNIST files in ``src_dir``.

    Parameters
    ----------
    src_dir : str or os.PathLike
        Directory with the original gzip files (checked against MNIST_SHA256).
    out : str or os.PathLike, optional
        Output file; the package's ``v1sim/data/digits.npz`` by default.
    n_train_per_class, n_test_per_class : int
        Images per digit drawn from the training and test sets.
    seed : int
        Seed of ``numpy.random.default_rng`` for the per-class draws.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    src = check_path(src_dir, "src_dir")
    out = Path(__file__).resolve().parent.parent / _EMBEDDED if out is None else check_path(out, "out")
    n_train = check_positive_int(n_train_per_class, "n_train_per_class")
    n_test = check_positive_int(n_test_per_class, "n_test_per_class")
    seed = check_nonnegative_int(seed, "seed")
    names, digests = [], []
    for split in SPLITS:
        for stem in MNIST_FILES[split]:
            name = f"{stem}.gz"
            digest = file_sha256(src / name)
            if digest != MNIST_SHA256[name]:
                raise InputError(
                    f"src_dir: {src / name} has SHA-256 {digest}, not the published {MNIST_SHA256[name]}",
                    argument="src_dir",
                )
            names.append(name)
            digests.append(digest)
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split, per_class in (("train", n_train), ("test", n_test)):
        images, labels = load_mnist_uint8(split, src, False, src)
        picks = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in range(10)]
        idx = np.sort(np.concatenate(picks)).astype(np.int32)
        arrays[f"{split}_images"] = images[idx]
        arrays[f"{split}_labels"] = labels[idx]
        arrays[f"{split}_indices"] = idx
    arrays.update(
        seed=np.int64(seed),
        format_version=np.int64(_EMBEDDED_FORMAT),
        source_files=np.array(names),
        source_sha256=np.array(digests),
        selection=np.array(
            "per class c in 0..9, in this order, train then test: "
            "rng.choice(np.flatnonzero(labels == c), size=n_per_class, replace=False) with "
            "rng = numpy.random.default_rng(seed); indices sorted; *_indices index the MNIST files"
        ),
        citation=np.array(
            "MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits, "
            "http://yann.lecun.com/exdb/mnist/ . License: CC BY-SA 3.0."
        ),
    )
    write_reproducible_npz(out, arrays, compresslevel=9)
    return out
