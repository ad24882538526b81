"""Handwritten digits: the MNIST IDX reader and downloader, and the bundled offline digits.

Two sources, one shape. Every loader returns ``(images, labels)`` with images
float32 in [0, 1] of shape (N, 1, 28, 28) (NCHW, ink = 1) and labels int64 of
shape (N,):

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
``load_dataset(name, split, ...)``
    The single entry point the command line uses.

Helpers: :func:`read_idx` (the IDX format), :func:`pad_to` (28 -> 32 for
LeNet-5) and :func:`batches` (minibatches, deterministic under a seed).

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
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._core.validate import (
    as_array,
    as_float_array,
    check_allocation,
    check_choice,
    check_int_pair,
    check_ndim,
    check_nonnegative_int,
    check_positive_int,
    check_rng,
)
from .errors import InputError, InputTypeError
from ._mnist_files import (
    MNIST_FILES,
    MNIST_MIRRORS,
    MNIST_SHA256,
    DownloadError,
    _check_path,
    _load_mnist_uint8,
    _sha256,
    default_cache_dir,
    read_idx,
)

__all__ = [
    "DownloadError",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "batches",
    "default_cache_dir",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "pad_to",
    "read_idx",
]

_SPLITS = ("train", "test")
_DATASETS = ("digits", "mnist")
_EMBEDDED = "data/digits.npz"
_EMBEDDED_FORMAT = 1


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def _to_float(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = images.astype(np.float32)[:, None]
    x /= np.float32(255.0)
    return x, labels.astype(np.int64)


def load_mnist(data_dir=None, *, download: bool = False, cache_dir=None, split: str = "train"):
    """Load MNIST [1]_ from the original IDX files.

    Looks for the two files of ``split`` in ``data_dir`` under their standard
    names (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``), gzip-compressed
    (``.gz``) or raw, also in the dotted spelling (``train-images.idx3-ubyte``).
    Without ``data_dir`` it looks in ``cache_dir``. With ``download=True``,
    files that are missing are fetched into ``cache_dir`` from
    :data:`MNIST_MIRRORS` (in order; a mirror that fails or serves a file with
    the wrong SHA-256 is skipped), with a progress bar on stderr. Each file is
    written to a temporary file in the same directory, checked against
    :data:`MNIST_SHA256`, fsynced and renamed into place, so an interrupted or
    corrupt download never leaves a file under the final name.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Directory holding the IDX files.
    download : bool, default False
        Download missing files into ``cache_dir``.
    cache_dir : str or os.PathLike, optional
        Download directory; :func:`default_cache_dir` by default
        (``$V1SIM_DATA/mnist`` or ``~/.cache/v1sim/mnist``).
    split : {"train", "test"}
        The 60000 training or the 10000 test images.

    Returns
    -------
    images : ndarray of float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1] (0 background, 1 ink).
    labels : ndarray of int64, shape (N,)
        Digits 0..9.

    Raises
    ------
    FileNotFoundError
        If the files are missing and ``download`` is False; the message says
        how to get them.
    DownloadError
        If no mirror delivered a file with the expected checksum.
    ValueError
        For a bad ``split`` or a malformed file (see :func:`read_idx`), or
        image and label files of different lengths.

    See Also
    --------
    load_digits : 6000 real MNIST digits bundled with v1sim, no download.
    load_dataset : the entry point of the command line.

    Notes
    -----
    Files found locally are checked structurally (header, exact payload
    length, image/label counts), not by checksum; downloaded ones by SHA-256.
    """
    split = check_choice(split, "split", _SPLITS)
    return _to_float(*_load_mnist_uint8(split, data_dir, download, cache_dir))


# --------------------------------------------------------------------------------------------
# The embedded subset
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _embedded() -> dict[str, np.ndarray]:
    """The arrays of digits.npz, read once and made read-only (loaders hand out fresh copies)."""
    resource = importlib.resources.files(__package__).joinpath(_EMBEDDED)
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
    split = check_choice(split, "split", _SPLITS)
    data = _embedded()
    return _to_float(data[f"{split}_images"], data[f"{split}_labels"])


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed timestamps) and atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                for key, arr in arrays.items():
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
                    info = zipfile.ZipInfo(f"{key}.npy", date_time=(1998, 11, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _build_embedded(
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
    src = _check_path(src_dir, "src_dir")
    out = Path(__file__).resolve().parent / _EMBEDDED if out is None else _check_path(out, "out")
    n_train = check_positive_int(n_train_per_class, "n_train_per_class")
    n_test = check_positive_int(n_test_per_class, "n_test_per_class")
    seed = check_nonnegative_int(seed, "seed")
    names, digests = [], []
    for split in _SPLITS:
        for stem in MNIST_FILES[split]:
            name = f"{stem}.gz"
            digest = _sha256(src / name)
            if digest != MNIST_SHA256[name]:
                raise InputError(f"src_dir: {src / name} has SHA-256 {digest}, not the published "
                                 f"{MNIST_SHA256[name]}", argument="src_dir")  # fmt: skip
            names.append(name)
            digests.append(digest)
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for split, per_class in (("train", n_train), ("test", n_test)):
        images, labels = _load_mnist_uint8(split, src, False, src)
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
    _write_npz(out, arrays)
    return out


# --------------------------------------------------------------------------------------------
# The entry point and helpers for training
# --------------------------------------------------------------------------------------------


def load_dataset(name: str = "digits", split: str = "train", data_dir=None, download: bool = False, *, cache_dir=None):
    """Load a digit dataset by name: the entry point of the command line.

    Parameters
    ----------
    name : {"digits", "mnist"}
        ``"digits"``: the bundled subset (:func:`load_digits`, 5000 / 1000
        images, offline). ``"mnist"``: the full MNIST (:func:`load_mnist`).
    split : {"train", "test"}
    data_dir : str or os.PathLike, optional
        MNIST directory (``"mnist"`` only).
    download : bool, default False
        Download missing MNIST files (``"mnist"`` only).
    cache_dir : str or os.PathLike, optional
        Download directory (``"mnist"`` only).

    Returns
    -------
    images : ndarray of float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1].
    labels : ndarray of int64, shape (N,)

    Raises
    ------
    ValueError
        For an unknown ``name`` or ``split``, or ``data_dir`` / ``download``
        / ``cache_dir`` given with ``name="digits"`` (they would be ignored).
    """
    name = check_choice(name, "name", _DATASETS)
    split = check_choice(split, "split", _SPLITS)
    if name == "digits":
        given = [k for k, v in (("data_dir", data_dir), ("download", download), ("cache_dir", cache_dir)) if v]
        if given:
            raise InputError(
                f"{', '.join(given)} only apply to name='mnist'; the bundled 'digits' need no files "
                f"(got name='digits' with {', '.join(given)})",
                argument=given[0],
            )
        return load_digits(split)
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


def _main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m v1sim.datasets", description="Maintenance of the bundled digits (v1sim/data/digits.npz)."
    )
    parser.add_argument("--build-embedded", metavar="SRC_DIR", required=True, help="directory with the 4 MNIST .gz files")
    parser.add_argument("--out", help="output file (default: the package's data/digits.npz)")
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20240)
    args = parser.parse_args(argv)
    path = _build_embedded(
        args.build_embedded,
        args.out,
        n_train_per_class=args.train_per_class,
        n_test_per_class=args.test_per_class,
        seed=args.seed,
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
