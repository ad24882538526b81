"""Datasets in MNIST's IDX format on disk: finding their files, the checksum-verified download, reading a split.

MNIST and Fashion-MNIST share everything but their names, mirrors and
checksums: both ship as four IDX files (``train-images-idx3-ubyte.gz``, ...),
found in a folder or a per-dataset cache, fetched on request from the first
mirror that serves the published SHA-256, and written atomically. An
:class:`IdxSet` names one such dataset; :func:`load_idx_split` loads a split of it.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.io import atomic_write
from ..errors import DownloadError, InputTypeError
from .idx import CHUNK, check_path, read_idx

__all__ = ["IdxSet", "default_cache_dir", "file_sha256", "load_idx_split", "to_float"]

#: the two splits of the IDX datasets (and of the bundled digits)
SPLITS = ("train", "test")
_DOWNLOAD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class IdxSet:
    """An IDX-format image classification dataset: its files, mirrors and checksums.

    Attributes
    ----------
    title : str
        Its name in messages ("MNIST", "Fashion-MNIST").
    cache_name : str
        Its folder under the download cache (see :func:`default_cache_dir`).
    files : mapping of str to (str, str)
        Split -> (images stem, labels stem), looked up with the suffixes
        ``.gz`` and none and in the dotted spelling (``train-images.idx3-ubyte``).
    mirrors : tuple of str
        Base URLs tried in order (file name appended).
    sha256 : mapping of str to str
        The published SHA-256 of each gzip file, by file name.
    n_classes : int
        Labels run from 0 to ``n_classes - 1``.
    """

    title: str
    cache_name: str
    files: Mapping[str, tuple[str, str]]
    mirrors: tuple[str, ...]
    sha256: Mapping[str, str]
    n_classes: int = 10


def default_cache_dir(dataset: str = "mnist") -> Path:
    """Directory where a downloaded dataset is kept.

    ``$V1SIM_DATA/<dataset>`` when the environment variable ``V1SIM_DATA`` is
    set, else ``$XDG_CACHE_HOME/v1sim/<dataset>`` (``~/.cache/v1sim/mnist``).
    Read at each call, so the variable can be changed at run time.

    Parameters
    ----------
    dataset : str, default "mnist"
        The dataset's folder name ("mnist", "fashion-mnist").

    Returns
    -------
    pathlib.Path
    """
    root = os.environ.get("V1SIM_DATA")
    if root:
        return Path(root).expanduser() / dataset
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "v1sim" / dataset


def _candidates(stem: str) -> tuple[str, ...]:
    dotted = stem.replace("-idx", ".idx", 1)  # train-images-idx3-ubyte -> train-images.idx3-ubyte
    return (f"{stem}.gz", stem, f"{dotted}.gz", dotted)


def _find(stem: str, directory: Path) -> Path | None:
    for name in _candidates(stem):
        p = directory / name
        if p.is_file():
            return p
    return None


def file_sha256(path) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _download(source: IdxSet, filename: str, directory: Path, *, timeout: float = _DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``filename`` from the first mirror that delivers the right SHA-256; write it atomically.

    The bytes are checked in memory (the largest file, Fashion-MNIST's training images, is 26 MB) and only
    then written, by :func:`v1sim._core.io.atomic_write`: a failed or interrupted transfer leaves no file behind.
    """
    from tqdm.auto import tqdm

    expected = source.sha256[filename]
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / filename
    failures = []
    for base in source.mirrors:
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
        f"could not download {source.title}'s {filename} into {directory}; no file was written. Tried:\n  "
        + "\n  ".join(failures)
    )


def _locate(source: IdxSet, split: str, data_dir: Path | None, cache_dir: Path, download: bool) -> tuple[Path, Path]:
    stems = source.files[split]
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
            f"{source.title} {split} files not found: looked for {names} in {where}. Put the four "
            f"{source.title} IDX files (gzip or raw) in a directory and pass it (`--data-dir DIR` on the command "
            f"line, data_dir=DIR in Python), or fetch them with download=True (into {cache_dir}). "
            f"The bundled digits need no files: load_dataset('digits')."
        )
    paths = []
    for stem in stems:
        existing = _find(stem, cache_dir)
        paths.append(existing if existing is not None else _download(source, f"{stem}.gz", cache_dir))
    return paths[0], paths[1]


def load_idx_split(source: IdxSet, split: str, data_dir, download, cache_dir) -> tuple[np.ndarray, np.ndarray]:
    """The ``split`` images (N, rows, cols) and labels (N,) of ``source`` as stored (uint8), checked together.

    Files found locally are checked structurally (header, exact payload length, image/label counts, label
    range), not by checksum; downloaded ones by SHA-256 before they are written.
    """
    data_dir = None if data_dir is None else check_path(data_dir, "data_dir")
    cache_dir = default_cache_dir(source.cache_name) if cache_dir is None else check_path(cache_dir, "cache_dir")
    if not isinstance(download, (bool, np.bool_)):
        raise InputTypeError(
            f"download must be a bool, got {type(download).__name__} {download!r}", argument="download"
        )
    images_path, labels_path = _locate(source, split, data_dir, cache_dir, bool(download))
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected an images file (3-D, magic 0x00000803), got shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected a labels file (1-D, magic 0x00000801), got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{source.title} {split} files disagree: {images_path} holds {len(images)} images, "
            f"{labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= source.n_classes:
        raise ValueError(
            f"{labels_path}: {source.title} labels must be classes 0..{source.n_classes - 1}, found {int(labels.max())}"
        )
    return images, labels


def to_float(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and labels as float32 (N, 1, 28, 28) in [0, 1] and int64 (the loaders' shapes)."""
    x = images.astype(np.float32)[:, None]
    x /= np.float32(255.0)
    return x, labels.astype(np.int64)
