"""MNIST on disk: its files, mirrors and checksums, and :func:`load_mnist` (the download is :mod:`.download`'s)."""

from __future__ import annotations

import types

import numpy as np

from .._core.validate import check_choice
from .download import SPLITS, IdxSet, default_cache_dir, load_idx_split, to_float

__all__ = ["MNIST_FILES", "MNIST_MIRRORS", "MNIST_SHA256", "default_cache_dir", "load_mnist"]

#: Standard MNIST file stems per split: (images, labels). Looked up with the
#: suffixes ``.gz`` and none, and in the dotted spelling (``train-images.idx3-ubyte``).
MNIST_FILES = types.MappingProxyType(
    {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
)

#: Base URLs tried in order for downloads (file name appended).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: SHA-256 of the published gzip files (byte-identical originals; see shared/data/README.md).
MNIST_SHA256 = types.MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }
)


def mnist_source() -> IdxSet:
    """MNIST's files, mirrors and checksums, read from this module's constants at each call."""
    return IdxSet("MNIST", "mnist", MNIST_FILES, MNIST_MIRRORS, MNIST_SHA256)


def load_mnist_uint8(split: str, data_dir, download: bool, cache_dir) -> tuple[np.ndarray, np.ndarray]:
    """The ``split`` images (N, 28, 28) and labels (N,) as stored (uint8), checked against each other."""
    return load_idx_split(mnist_source(), split, data_dir, download, cache_dir)


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
    checked against :data:`MNIST_SHA256` before it is written, then written to
    a temporary file in the same directory, fsynced and renamed into place, so
    an interrupted or corrupt download never leaves a file under the final name.

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
    v1sim.errors.DownloadError
        If no mirror delivered a file with the expected checksum.
    v1sim.errors.InputTypeError
        If ``data_dir`` or ``cache_dir`` is not a path, or ``download`` not a bool.
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
    split = check_choice(split, "split", SPLITS)
    return to_float(*load_mnist_uint8(split, data_dir, download, cache_dir))
