"""Atomic, pickle-free files: one-file ``.npz`` checkpoints and JSON / JSON-lines logs.

Every file is written to a temporary ``.NAME.*.tmp`` in its own folder,
flushed and fsynced, renamed over its target with ``os.replace`` (atomic on
POSIX and Windows), and the folder is fsynced so the rename itself is durable.
A reader therefore sees the old file or the new one, never half of one.

A checkpoint is ONE file, ``NAME.npz``: the arrays, plus the JSON metadata as
a uint8 member ``__meta__``. The metadata carries a manifest (dtype and shape
of every array), and every zip member carries a CRC-32, so truncation, flipped
bits and missing arrays are all detected on load. Arrays are plain numeric
arrays, saved and loaded with ``allow_pickle=False``. :func:`load_checkpoint`
also reads the older two-file format (``NAME.npz`` + ``NAME.json`` holding the
npz's SHA-256), so run folders written before keep loading.

``V1SIM_TEST_KILL_AT=POINT:N[:INT]`` makes the process send itself SIGKILL
(or SIGINT with ``:INT``) at the N-th pass through the named write boundary
(see :func:`kill_point`); the crash-consistency tests use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import tempfile
from pathlib import Path

import numpy as np

from ..errors import CheckpointError

__all__ = [
    "FORMAT",
    "atomic_write",
    "checkpoint_path",
    "kill_point",
    "load_checkpoint",
    "remove_stale_temporaries",
    "save_checkpoint",
    "write_json",
    "write_jsonl",
    "write_reproducible_npz",
]

FORMAT = "v1sim-checkpoint/2"  # one file: arrays + "__meta__"
LEGACY_FORMAT = "v1sim-checkpoint/1"  # NAME.npz + NAME.json with the npz's SHA-256
META = "__meta__"
KILL_ENV = "V1SIM_TEST_KILL_AT"
#: the write boundaries a test can stop the process at (``V1SIM_TEST_KILL_AT``)
KILL_POINTS = (
    "run-tmp",
    "start",
    "step",
    "evaluate",
    "checkpoint-tmp",
    "checkpoint-rotated",
    "checkpoint-committed",
    "log-tmp",
)
# Damaged bytes make zipfile, zlib/lzma/bz2 and numpy's header parser fail in many ways (BadZipFile, a CRC
# mismatch, struct.error, NotImplementedError for a flipped compression field, MemoryError for a huge shape, ...):
# a fuzz test flipping every byte found them. Each one means the same thing here: the file is damaged.
_CORRUPT = (Exception,)
_passes: dict[str, int] = {}


def kill_point(name: str) -> None:
    """A named write boundary: with ``V1SIM_TEST_KILL_AT=name:N[:INT]``, signal this process on the N-th pass.

    SIGKILL (the default) stops the process dead, as a power cut or the OOM
    killer would; ``:INT`` sends SIGINT, as Ctrl-C does. Without the
    variable this is a dictionary lookup.
    """
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    point, _, rest = spec.partition(":")
    if point != name:
        return
    count, _, how = rest.partition(":")
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == int(count):
        os.kill(os.getpid(), signal.SIGINT if how.upper() == "INT" else signal.SIGKILL)


def reset_kill_points() -> None:
    """Forget the passes counted by :func:`kill_point` (for tests that run several trainings in one process)."""
    _passes.clear()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, as on Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temporary(path: Path, data: bytes) -> Path:
    """``data`` in a fsynced temporary file beside ``path`` (mode 0644); the caller renames it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path, data: bytes, *, point: str = "log") -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename, fsync of the folder); mode 0644.

    ``point`` names the boundary between the temporary file and the rename
    for :func:`kill_point` (``"log-tmp"`` by default).
    """
    path = Path(path)
    tmp = _write_temporary(path, data)
    try:
        kill_point(f"{point}-tmp")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def write_json(path, obj, *, point: str = "log") -> Path:
    """Write ``obj`` as indented JSON with sorted keys, atomically (``point`` as for :func:`atomic_write`)."""
    return atomic_write(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode(), point=point)


def write_jsonl(path, records) -> Path:
    """Write one JSON object per line, atomically (the whole file each time)."""
    return atomic_write(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode())


def write_reproducible_npz(path, arrays: dict, *, compresslevel: int | None = None) -> Path:
    """Write ``arrays`` as a compressed ``.npz`` that is the same bytes every time, atomically.

    Like ``np.savez_compressed``, but every member has a fixed timestamp and
    mode, so a data file shipped in ``v1sim/data`` can be rebuilt from its
    source and compared byte for byte. No pickle.

    Parameters
    ----------
    path : str or Path
    arrays : dict of str to array_like
    compresslevel : int, optional
        zlib level (None: zlib's default).
    """
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1998, 11, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
    return atomic_write(path, buf.getvalue())


def remove_stale_temporaries(folder) -> list[Path]:
    """Delete the ``.*.tmp`` files a killed writer left in ``folder``; returns them."""
    stale = sorted(Path(folder).glob(".*.tmp")) if Path(folder).is_dir() else []
    for tmp in stale:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return stale


def checkpoint_path(stem) -> Path:
    """``NAME.npz`` for a checkpoint given as ``NAME``, ``NAME.npz`` or (old format) ``NAME.json``."""
    stem = Path(stem)
    if stem.suffix in (".npz", ".json"):
        stem = stem.with_suffix("")
    return stem.parent / f"{stem.name}.npz"


def _plain(name: str, value) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":  # no object, string or structured arrays: nothing that needs pickle
        raise TypeError(f"checkpoint array {name!r} must be numeric (bool, int or float), got dtype {a.dtype}")
    return a


def save_checkpoint(stem, arrays: dict, meta: dict, *, previous=None) -> Path:
    """Save ``arrays`` (name -> numeric ndarray) and JSON-able ``meta`` as ONE file ``stem.npz``, atomically.

    Parameters
    ----------
    stem : str or Path
        The checkpoint without suffix (``run/last``).
    arrays : dict of str to ndarray
        Numeric arrays (object arrays are refused: they would need pickle).
    meta : dict
        JSON-able metadata, stored as the member ``__meta__`` with the
        format and a manifest of the arrays.
    previous : str or Path, optional
        Keep the checkpoint being replaced under this stem (``run/previous``):
        it is renamed there only once the new file is complete and fsynced,
        so a crash at any instant leaves ``stem.npz`` or ``previous.npz``
        (usually both) loadable.

    Returns
    -------
    Path
        The ``.npz`` file.
    """
    target = checkpoint_path(stem)
    plain = {k: _plain(k, v) for k, v in arrays.items()}
    if META in plain:
        raise ValueError(f"checkpoint array name {META!r} is reserved for the metadata")
    manifest = {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in plain.items()}
    record = json.dumps({**meta, "format": FORMAT, "manifest": manifest}, sort_keys=True).encode()
    buf = io.BytesIO()
    np.savez(buf, **{META: np.frombuffer(record, dtype=np.uint8)}, **plain)
    tmp = _write_temporary(target, buf.getvalue())
    try:
        kill_point("checkpoint-tmp")
        if previous is not None and target.exists():
            keep = checkpoint_path(previous)
            old_json, keep_json = target.with_suffix(".json"), keep.with_suffix(".json")
            if old_json.exists():  # an old-format pair travels together
                os.replace(old_json, keep_json)
            else:
                with contextlib.suppress(FileNotFoundError):
                    keep_json.unlink()
            os.replace(target, keep)
            kill_point("checkpoint-rotated")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    kill_point("checkpoint-committed")
    with contextlib.suppress(FileNotFoundError):  # an old-format NAME.json would now describe nothing
        target.with_suffix(".json").unlink()
    return target


def load_checkpoint(stem) -> tuple[dict, dict]:
    """Load a checkpoint written by :func:`save_checkpoint` (or the older two-file format).

    Parameters
    ----------
    stem : str or Path
        ``NAME``, ``NAME.npz`` or ``NAME.json``.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict
        The metadata, with ``format`` (and ``manifest`` in the current format).

    Raises
    ------
    CheckpointError
        If the file is missing, truncated or corrupt (a CRC-32 or SHA-256
        mismatch, a member missing from its manifest or of another shape),
        or not a v1sim checkpoint; the message names the file.
    """
    path = checkpoint_path(stem)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is missing", path=path)
    try:
        blob = path.read_bytes()
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}  # reading a member checks its CRC-32
    except _CORRUPT as exc:
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt ({type(exc).__name__}: {exc})", path=path
        ) from None
    if META not in arrays:
        return arrays, _legacy_meta(path, blob)
    raw = arrays.pop(META)
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path} has unreadable metadata: {exc}", path=path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("manifest"), dict):
        raise CheckpointError(
            f"{path} is not a v1sim checkpoint (format {FORMAT!r} with a manifest expected)", path=path
        )
    _check_manifest(path, arrays, meta["manifest"])
    return arrays, meta


def _check_manifest(path: Path, arrays: dict, manifest: dict) -> None:
    missing = sorted(set(manifest) - set(arrays))
    extra = sorted(set(arrays) - set(manifest))
    if missing or extra:
        raise CheckpointError(
            f"checkpoint {path} does not match its manifest: missing arrays {missing}, unlisted arrays {extra}",
            path=path,
        )
    for name, spec in manifest.items():
        a = arrays[name]
        if not isinstance(spec, dict) or [a.dtype.str, list(a.shape)] != [spec.get("dtype"), spec.get("shape")]:
            raise CheckpointError(
                f"checkpoint {path}: array {name!r} is {a.dtype.str} {list(a.shape)}, its manifest says {spec}",
                path=path,
            )
        if a.dtype.kind not in "biuf":  # save_checkpoint writes numbers only; strings would reach int() and the like
            raise CheckpointError(
                f"checkpoint {path} is corrupt: array {name!r} has dtype {a.dtype}, v1sim writes only numeric arrays",
                path=path,
            )


def _legacy_meta(path: Path, blob: bytes) -> dict:
    """The metadata of an old two-file checkpoint (``NAME.json`` beside ``NAME.npz``), checked against the npz."""
    js = path.with_suffix(".json")
    if not js.is_file():
        raise CheckpointError(f"checkpoint {path} holds no metadata (no {META} member, no {js.name})", path=path)
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint metadata {js} is unreadable: {exc}", path=js) from None
    if not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT:
        raise CheckpointError(f"{js} is not a v1sim checkpoint (format {LEGACY_FORMAT!r} expected)", path=js)
    if hashlib.sha256(blob).hexdigest() != meta.get("arrays_sha256"):
        raise CheckpointError(f"checkpoint {path} is corrupt: its SHA-256 does not match {js.name}", path=path)
    return meta
