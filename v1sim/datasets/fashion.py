"""Fashion-MNIST: Zalando's ten classes of clothing in MNIST's format, and :func:`load_fashion_mnist`.

Fashion-MNIST [1]_ is a drop-in replacement for MNIST: 60000 training and
10000 test grey 28 x 28 images of articles of clothing in ten classes, in the
same four IDX files under the same names. It is read, found and downloaded
(checksum-verified, atomically) by the same code as MNIST (:mod:`.download`);
only the mirrors, the checksums and the cache folder differ.

References
----------
.. [1] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image
   dataset for benchmarking machine learning algorithms", arXiv:1708.07747,
   2017. https://github.com/zalandoresearch/fashion-mnist (MIT license).
"""

from __future__ import annotations

import types

from .._core.validate import check_choice
from .download import SPLITS, IdxSet, load_idx_split, to_float
from .mnist import MNIST_FILES

__all__ = ["FASHION_CLASSES", "FASHION_MIRRORS", "FASHION_SHA256", "load_fashion_mnist"]

#: Class names of labels 0..9 (the order of the Fashion-MNIST README).
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Base URLs tried in order for downloads (file name appended): Zalando's own S3 bucket, then its GitHub repository.
FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: SHA-256 of the published gzip files, from TensorFlow Datasets' checksum list
#: (tensorflow/datasets, tensorflow_datasets/url_checksums/fashion_mnist.txt; sizes 26421880, 29515,
#: 4422102 and 5148 bytes). The Zalando README lists the same files' MD5s (8d4fb7e6..., 25c81989...,
#: bef4ecab..., bb300cfd...).
FASHION_SHA256 = types.MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    }
)


def fashion_source() -> IdxSet:
    """Fashion-MNIST's files (MNIST's names), mirrors and checksums, read from this module at each call."""
    return IdxSet("Fashion-MNIST", "fashion-mnist", MNIST_FILES, FASHION_MIRRORS, FASHION_SHA256)


def load_fashion_mnist(data_dir=None, download: bool = False, split: str = "train", *, cache_dir=None):
    """Load Fashion-MNIST [1]_ from its four IDX files.

    The files carry MNIST's names (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``), gzip-compressed or raw, and are looked for in
    ``data_dir``, else in ``cache_dir``. With ``download=True`` the missing
    ones are fetched into ``cache_dir`` from :data:`FASHION_MIRRORS`, checked
    against :data:`FASHION_SHA256` before anything is written, and written
    atomically (a temporary file, fsynced, renamed), exactly as
    :func:`~v1sim.datasets.load_mnist` does.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Directory holding the IDX files.
    download : bool, default False
        Download missing files into ``cache_dir``.
    split : {"train", "test"}
        The 60000 training or the 10000 test images.
    cache_dir : str or os.PathLike, optional
        Download directory; ``default_cache_dir("fashion-mnist")`` by default
        (``$V1SIM_DATA/fashion-mnist`` or ``~/.cache/v1sim/fashion-mnist``).

    Returns
    -------
    images : ndarray of float32, shape (N, 1, 28, 28)
        Pixel values in [0, 1] (0 background).
    labels : ndarray of int64, shape (N,)
        Classes 0..9, named by :data:`FASHION_CLASSES`.

    Raises
    ------
    FileNotFoundError
        If the files are missing and ``download`` is False; the message says
        how to get them.
    v1sim.errors.DownloadError
        If no mirror delivered a file with the expected checksum (no file is
        written then).
    v1sim.errors.InputTypeError
        If ``data_dir`` or ``cache_dir`` is not a path, or ``download`` not a bool.
    ValueError
        For a bad ``split`` or a malformed file (see :func:`~v1sim.datasets.read_idx`).

    See Also
    --------
    load_mnist : the handwritten digits, from files of the same names.
    load_dataset : the entry point of the command line (``--dataset fashion-mnist``).

    Notes
    -----
    Files found locally are checked structurally (header, payload length,
    image/label counts, labels 0..9), not by checksum; downloaded ones by SHA-256.
    """
    split = check_choice(split, "split", SPLITS)
    return to_float(*load_idx_split(fashion_source(), split, data_dir, download, cache_dir))
