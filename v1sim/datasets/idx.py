"""The IDX file format of MNIST: :func:`read_idx`, and the path check the dataset modules share.

The format: a 4-byte magic number ``0x0000TTDD`` (``TT`` the data type, ``DD``
the number of dimensions), ``DD`` big-endian int32 sizes, then the row-major
payload; gzip-compressed or raw.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputTypeError

__all__ = ["read_idx"]

#: bytes read at a time (IDX payloads, checksums)
CHUNK = 1 << 20
_IDX_MAGIC = {0x00000803: "images", 0x00000801: "labels"}
_IDX_DTYPES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


def check_path(value, name: str) -> Path:
    """``value`` as a Path; an :class:`~v1sim.errors.InputTypeError` naming ``name`` if it is no str or PathLike."""
    if not isinstance(value, (str, os.PathLike)):
        raise InputTypeError(
            f"{name} must be a path (str or os.PathLike), got {type(value).__name__} {value!r}", argument=name
        )
    return Path(value)


def _read_up_to(f, n: int) -> bytes:
    """Read at most ``n`` bytes in chunks, so a corrupt header cannot force a huge allocation."""
    parts = []
    while n > 0:
        block = f.read(min(n, CHUNK))
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
    v1sim.errors.InputTypeError
        If ``path`` is not a str or os.PathLike.
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
    path = check_path(path, "path")
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
            f"{path}: not an IDX file: magic number 0x{magic:08X}, expected 0x00000803 (images) or 0x00000801 (labels)"
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
        raise ValueError(f"{path}: truncated IDX header: expected {4 + 4 * ndim} bytes, received {4 + len(dims_bytes)}")
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
    while block := f.read(CHUNK):
        extra += len(block)
    if extra:
        raise ValueError(
            f"{path}: IDX {_IDX_MAGIC[magic]} file is longer than its header says: expected "
            f"{expected} {what}payload bytes for shape {dims}, received {expected + extra} "
            f"({extra} trailing byte(s))"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims).copy()
