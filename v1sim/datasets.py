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

import contextlib
import functools
import gzip
import hashlib
import http.client
import importlib.resources
import io
import math
import os
import sys
import tempfile
import types
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._validate import (
    as_float_array,
    check_choice,
    check_int_pair,
    check_ndim,
    check_nonnegative_int,
    check_positive_int,
    check_rng,
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

_SPLITS = ("train", "test")
_DATASETS = ("digits", "mnist")
_IDX_MAGIC = {0x00000803: "images", 0x00000801: "labels"}
_IDX_DTYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}
_CHUNK = 1 << 20
_EMBEDDED = "data/digits.npz"
_EMBEDDED_FORMAT = 1
_DOWNLOAD_TIMEOUT_S = 30.0


class DownloadError(OSError):
    """No mirror delivered a file with the expected SHA-256 (network failure or checksum mismatch)."""


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------


def _check_path(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__} {value!r}")
    return Path(value)


def _read_up_to(f, n: int) -> bytes:
    """Read at most ``n`` bytes in chunks, so a corrupt header cannot force a huge allocation."""
    parts = []
    while n > 0:
        block = f.read(min(n, _CHUNK))
        if not block:
            break
        parts.append(block)
        n -= len(block)
    return b"".join(parts)


def read_idx(path) -> np.ndarray:
    """Read an MNIST IDX file (gzip-compressed or raw) into a uint8 array.

    The format: a 4-byte magic number ``0x0000TTDD`` (``TT`` the data type,
    ``0x08`` for unsigned byte; ``DD`` the number of dimensions), then ``DD``
    big-endian int32 sizes, then the row-major payload. MNIST images have magic
    ``0x00000803`` (N, rows, cols) and labels ``0x00000801`` (N,).
    Compression is recognised by the gzip magic bytes ``1f 8b``, not by the
    file name.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    ndarray of uint8, shape (N, rows, cols) or (N,)
        A fresh, writeable array with the sizes given by the header.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For a wrong magic number, a data type other than unsigned byte, a
        number of dimensions other than 1 or 3, a negative size, corrupt or
        truncated gzip data, or a payload that is shorter or longer than the
        header says. Every message names the file.

    See Also
    --------
    load_mnist : the four MNIST files, checked against each other.

    Examples
    --------
    >>> labels = read_idx("mnist/t10k-labels-idx1-ubyte.gz")   # doctest: +SKIP
    >>> labels.shape, labels.dtype
    ((10000,), dtype('uint8'))
    """
    path = _check_path(path, "path")
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(open(path, "rb"))
        is_gzip = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")) if is_gzip else raw
        try:
            return _parse_idx(f, path, is_gzip)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None


def _parse_idx(f, path: Path, is_gzip: bool) -> np.ndarray:
    what = "decompressed " if is_gzip else ""
    head = _read_up_to(f, 4)
    if len(head) < 4:
        raise ValueError(f"{path}: not an IDX file: {len(head)} {what}byte(s), the 4-byte magic number is missing")
    magic = int.from_bytes(head, "big")
    if head[:2] != b"\x00\x00":
        raise ValueError(
            f"{path}: not an IDX file: magic number 0x{magic:08X}, expected 0x00000803 (images) "
            f"or 0x00000801 (labels)"
        )
    dtype_code, ndim = head[2], head[3]
    if dtype_code != 0x08:
        name = _IDX_DTYPES.get(dtype_code, "unknown")
        raise ValueError(
            f"{path}: IDX data type byte 0x{dtype_code:02X} ({name}) is not supported; "
            f"expected 0x08 (unsigned byte) as in MNIST"
        )
    if ndim not in (1, 3):
        raise ValueError(
            f"{path}: IDX file has {ndim} dimension(s) (magic 0x{magic:08X}); expected 3 (images, "
            f"magic 0x00000803) or 1 (labels, magic 0x00000801)"
        )
    dims_bytes = _read_up_to(f, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise ValueError(
            f"{path}: truncated IDX header: expected {4 + 4 * ndim} bytes, received {4 + len(dims_bytes)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">i4"))
    if min(dims) < 0:
        raise ValueError(f"{path}: IDX header has a negative size {dims}")
    expected = math.prod(dims)
    payload = _read_up_to(f, expected)
    if len(payload) < expected:
        raise ValueError(
            f"{path}: truncated IDX {_IDX_MAGIC[magic]} file: header says shape {dims}, so "
            f"{expected} {what}payload bytes were expected, received {len(payload)}"
        )
    extra = 0
    while block := f.read(_CHUNK):
        extra += len(block)
    if extra:
        raise ValueError(
            f"{path}: IDX {_IDX_MAGIC[magic]} file is longer than its header says: expected "
            f"{expected} {what}payload bytes for shape {dims}, received {expected + extra} "
            f"({extra} trailing byte(s))"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims).copy()


# --------------------------------------------------------------------------------------------
# MNIST: finding, downloading, loading
# --------------------------------------------------------------------------------------------


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _download(filename: str, directory: Path, *, timeout: float = _DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``filename`` from the first mirror that delivers the right SHA-256; write atomically."""
    from tqdm.auto import tqdm

    expected = MNIST_SHA256[filename]
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / filename
    failures = []
    for base in MNIST_MIRRORS:
        url = base + filename
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{filename}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            received = 0
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
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
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
                        received += len(block)
                out.flush()
                os.fsync(out.fileno())
            got = h.hexdigest()
            if total is not None and received != total:
                failures.append(f"{url}: incomplete transfer: expected {total} bytes, received {received}")
                continue
            if got != expected:
                failures.append(f"{url}: SHA-256 mismatch: expected {expected}, received {got}")
                continue
            os.chmod(tmp, 0o644)  # mkstemp makes 0600
            os.replace(tmp, dest)
            _fsync_dir(directory)
            return dest
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, HTTPError, timeouts
            failures.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadError(
        f"could not download {filename} into {directory}; no file was written. Tried:\n  " + "\n  ".join(failures)
    )


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


def _load_mnist_uint8(split: str, data_dir, download: bool, cache_dir) -> tuple[np.ndarray, np.ndarray]:
    data_dir = None if data_dir is None else _check_path(data_dir, "data_dir")
    cache_dir = default_cache_dir() if cache_dir is None else _check_path(cache_dir, "cache_dir")
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(f"download must be a bool, got {type(download).__name__} {download!r}")
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
                raise ValueError(f"{src / name}: SHA-256 {digest} differs from the published {MNIST_SHA256[name]}")
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
            raise ValueError(
                f"{', '.join(given)} only apply to name='mnist'; the bundled 'digits' need no files "
                f"(got name='digits' with {', '.join(given)})"
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
        raise ValueError(f"size must be at least the image size ({h}, {w}); got {(rows, cols)}")
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
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array, got dtype {y.dtype}")
    check_ndim(y, "labels", 1)
    if len(y) != len(x):
        raise ValueError(f"labels must have one entry per image: expected {len(x)}, got {len(y)}")
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = check_rng(rng)
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
