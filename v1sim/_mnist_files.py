"""MNIST on disk: the IDX file format, finding the files, and the checksum-verified download.

Private; the public names (:func:`read_idx`, :data:`MNIST_FILES`,
:data:`MNIST_MIRRORS`, :data:`MNIST_SHA256`, :class:`DownloadError`,
:func:`default_cache_dir`) are re-exported by :mod:`v1sim.datasets`.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import math
import os
import sys
import tempfile
import types
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from .errors import DownloadError

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
_IDX_MAGIC = {0x00000803: "images", 0x00000801: "labels"}
_IDX_DTYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}
_CHUNK = 1 << 20
_DOWNLOAD_TIMEOUT_S = 30.0




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
# MNIST: finding, downloading
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
