"""Atomic, pickle-free files: checkpoints as ``.npz`` of plain arrays plus JSON metadata.

Nothing is lost on a crash or Ctrl-C: every file is written to a temporary
file in the same folder, flushed and fsynced, then renamed over the target
(``os.replace`` is atomic on POSIX and Windows). A checkpoint is a pair
``NAME.npz`` + ``NAME.json``; the JSON records the SHA-256 of the npz, so a
torn or tampered pair is refused instead of silently loaded. Arrays are read
with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import CheckpointError

__all__ = ["CheckpointError", "atomic_write", "load_checkpoint", "save_checkpoint", "write_json", "write_jsonl"]

FORMAT = "v1sim-checkpoint/1"


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); mode 0644."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def write_jsonl(path, records) -> Path:
    """Write one JSON object per line, atomically (the whole file each time)."""
    return atomic_write(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode())


def save_checkpoint(stem, arrays: dict, meta: dict) -> Path:
    """Save ``arrays`` (name -> ndarray) to ``stem.npz`` and ``meta`` to ``stem.json``.

    The npz is written first; the JSON, written last, carries the npz's
    SHA-256, so a reader never pairs new metadata with old arrays.

    Returns
    -------
    Path
        The JSON file.
    """
    stem = Path(stem)
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    blob = buf.getvalue()
    atomic_write(stem.with_suffix(".npz"), blob)
    record = {"format": FORMAT, "arrays_sha256": hashlib.sha256(blob).hexdigest(), **meta}
    return write_json(stem.with_suffix(".json"), record)


def load_checkpoint(stem) -> tuple[dict, dict]:
    """Load a checkpoint pair written by :func:`save_checkpoint`.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict

    Raises
    ------
    CheckpointError
        If a file is missing, the JSON is unreadable or of another format,
        or the npz does not match the checksum recorded in the JSON.
    """
    stem = Path(stem)
    npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
    for f in (npz, js):
        if not f.is_file():
            raise CheckpointError(f"checkpoint file {f} is missing")
    try:
        meta = json.loads(js.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint metadata {js} is unreadable: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{js} is not a v1sim checkpoint (format {FORMAT!r} expected)")
    blob = npz.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("arrays_sha256"):
        raise CheckpointError(f"checkpoint {npz} is corrupt: its SHA-256 does not match {js.name}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {npz} is unreadable: {exc}") from None
    return arrays, meta
