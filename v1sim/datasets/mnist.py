"""MNIST on disk: its files and mirrors, finding them, the checksum-verified download, and :func:`load_mnist`."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import sys
import types
import urllib.request
from pathlib import Path

import numpy as np

from .._core.io import atomic_write
from .._core.validate import check_choice
from ..errors import DownloadError, InputTypeError
from .idx import CHUNK, check_path, read_idx

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

#: the two splits of MNIST (and of the bundled digits)
SPLITS = ("train", "test")
_DOWNLOAD_TIMEOUT_S = 30.0


def default_cache_dir() -> Path:
    """Directory where downloaded MNIST files are kept.

    ``$V1SIM_DATA/mnist`` when the environment variable ``V1SIM_DATA`` is set,
    else ``$XDG_CACHE_HOME/v1sim/mnist`` (``~/.cache/v1sim/mnist``). Read at
    each call, so the variable can be changed at run time.

    Returns
    -------
    pathlib.Path
    """
    root = os.environ.get("V1SIM_DATA")
    if root:
        return Path(root).expanduser() / "mnist"
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "v1sim" / "mnist"


def _candidates(stem: str) -> tuple[str, ...]:
    dotted = stem.replace("-idx", ".idx", 1)  # train-images-idx3-ubyte -> train-images.idx3-ubyte
    return (f"{stem}.gz", stem, f"{dotted}.gz", dotted)


def _find(stem: str, directory: Path) -> Path | None:
    for name in _candidates(stem):
        p = directory / name
        if p.is_file():
            return p
    return None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _download(filename: str, directory: Path, *, timeout: float = _DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``filename`` from the first mirror that delivers the right SHA-256; write it atomically.

    The bytes are checked in memory (MNIST's largest file is 9.9 MB) and only then written, by
    :func:`v1sim._core.io.atomic_write`: a failed or interrupted transfer leaves no file behind.
    """
    from tqdm.auto import tqdm

    expected = MNIST_SHA256[filename]
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / filename
    failures = []
    for base in MNIST_MIRRORS:
        url = base + filename
        try:
            h = hashlib.sha256()
            data = io.BytesIO()
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                with tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=filename,
                    file=sys.stderr,
                    leave=False,
                    disable=None,  # no bar when stderr is not a terminal (logs, CI)
                ) as bar:
                    while block := response.read(1 << 16):
                        data.write(block)
                        h.update(block)
                        bar.update(len(block))
            received = data.tell()
            got = h.hexdigest()
            if total is not None and received != total:
                failures.append(f"{url}: incomplete transfer: expected {total} bytes, received {received}")
                continue
            if got != expected:
                failures.append(f"{url}: SHA-256 mismatch: expected {expected}, received {got}")
                continue
            return atomic_write(dest, data.getvalue())  # temporary file, fsync, rename, fsync of the folder
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, HTTPError, timeouts
            failures.append(f"{url}: {exc}")
    raise DownloadError(
        f"could not download {filename} into {directory}; no file was written. Tried:\n  " + "\n  ".join(failures)
    )


def _locate(split: str, data_dir: Path | None, cache_dir: Path, download: bool) -> tuple[Path, Path]:
    stems = MNIST_FILES[split]
    searched = [data_dir] if data_dir is not None else [cache_dir]
    if download and data_dir is not None:
        searched.append(cache_dir)  # an earlier download is reused before fetching again
    for directory in searched:
        found = [_find(stem, directory) for stem in stems]
        if all(found):
            return found[0], found[1]
    if not download:
        names = " and ".join(f"{s}[.gz]" for s in stems)
        where = " or ".join(str(d) for d in searched)
        raise FileNotFoundError(
            f"MNIST {split} files not found: looked for {names} in {where}. Put the four MNIST IDX files "
            f"(gzip or raw) in a directory and pass it (`--data-dir DIR` on the command line, "
            f"data_dir=DIR in Python), or fetch them with download=True (into {cache_dir}). "
            f"The bundled subset needs no files: load_dataset('digits')."
        )
    paths = []
    for stem in stems:
        existing = _find(stem, cache_dir)
        paths.append(existing if existing is not None else _download(f"{stem}.gz", cache_dir))
    return paths[0], paths[1]


def load_mnist_uint8(split: str, data_dir, download: bool, cache_dir) -> tuple[np.ndarray, np.ndarray]:
    """The ``split`` images (N, 28, 28) and labels (N,) as stored (uint8), checked against each other."""
    data_dir = None if data_dir is None else check_path(data_dir, "data_dir")
    cache_dir = default_cache_dir() if cache_dir is None else check_path(cache_dir, "cache_dir")
    if not isinstance(download, (bool, np.bool_)):
        raise InputTypeError(
            f"download must be a bool, got {type(download).__name__} {download!r}", argument="download"
        )
    images_path, labels_path = _locate(split, data_dir, cache_dir, bool(download))
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected an images file (3-D, magic 0x00000803), got shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected a labels file (1-D, magic 0x00000801), got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"MNIST {split} files disagree: {images_path} holds {len(images)} images, "
            f"{labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be digits 0..9, found {int(labels.max())}")
    return images, labels


def to_float(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and labels as float32 (N, 1, 28, 28) in [0, 1] and int64 (the loaders' shapes)."""
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
