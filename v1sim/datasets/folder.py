"""Images from a folder: any tree of PNG/JPEG files as grey (or colour) float arrays, optionally labelled by subfolder.

:func:`load_image_folder`
    Every readable PNG/JPEG under a folder (recursively, in sorted path
    order), grey by Rec. 601 luminance or colour, float64 in [0, 1]: a user's
    own van Hateren or ImageNet photographs for the natural-image models.
:func:`load_labelled_folder`
    A folder of class subfolders (``root/cat/*.jpg``, ``root/dog/*.png``) as
    a classification dataset: images centre-cropped and resized to one size,
    labels numbered by sorted subfolder name (the ImageFolder convention).

Files are read with Pillow (a dependency of matplotlib). Files that cannot be
read are skipped with one :class:`UserWarning` naming them; a folder with no
readable image at all is an :class:`~v1sim.errors.InputError`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .._core.validate import check_int_pair, check_positive_int
from ..errors import InputError, InputTypeError
from .idx import check_path

__all__ = ["IMAGE_SUFFIXES", "REC601", "load_image_folder", "load_labelled_folder"]

#: file name endings read as images (compared case-insensitively)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: luminance weights of R, G, B (ITU-R BT.601, as PIL's "L" conversion and MATLAB's rgb2gray)
REC601 = (0.299, 0.587, 0.114)

_LOOKED_FOR = "*.png, *.jpg or *.jpeg files (any case), searched recursively"
_MAX_NAMED = 10  # unreadable files named in the warning before "and N more"


def _image_files(folder: Path) -> list[Path]:
    """Image files under ``folder``, in sorted relative-path order; hidden files and folders left out."""
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.suffix.lower() in IMAGE_SUFFIXES and not any(part.startswith(".") for part in rel.parts) and p.is_file():
            found.append(p)
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def _read(path: Path, grey: bool) -> np.ndarray:
    """One image as float64 in [0, 1]: (H, W) when ``grey``, else (3, H, W); alpha is dropped."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey PNG
            rgb = np.asarray(im, dtype=np.float64) / 65535.0
        elif im.mode == "F":
            rgb = np.asarray(im, dtype=np.float64)
        elif im.mode in ("1", "L", "LA"):
            rgb = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
        else:  # RGB, RGBA, P, CMYK, YCbCr, ...: to 8-bit RGB
            rgb = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    if rgb.ndim == 2:
        img = rgb if grey else np.repeat(rgb[None], 3, axis=0)
    else:
        img = rgb @ np.asarray(REC601) if grey else np.moveaxis(rgb, -1, 0)
    if min(img.shape[-2:]) < 1 or not np.isfinite(img).all():
        raise ValueError(f"an empty or non-finite image of shape {img.shape}")
    return np.ascontiguousarray(np.clip(img, 0.0, 1.0))


def _check_folder(path) -> Path:
    folder = check_path(path, "data_dir")
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is a file, not a folder"
        raise InputError(
            f"data_dir: the image folder {folder} {what} (expected a folder of {_LOOKED_FOR})", argument="data_dir"
        )
    return folder


def _read_all(folder: Path, files: list[Path], grey: bool, limit: int | None) -> list[tuple[Path, np.ndarray]]:
    out, broken = [], []
    for p in files:
        if limit is not None and len(out) >= limit:
            break
        try:
            out.append((p, _read(p, grey)))
        except Exception as exc:  # noqa: BLE001 (any file Pillow cannot decode is skipped, and named below)
            broken.append(f"{p.relative_to(folder)} ({type(exc).__name__}: {str(exc)[:80]})")
    if broken:
        more = f" and {len(broken) - _MAX_NAMED} more" if len(broken) > _MAX_NAMED else ""
        warnings.warn(
            f"skipped {len(broken)} unreadable image file(s) in {folder}: {'; '.join(broken[:_MAX_NAMED])}{more}",
            UserWarning,
            stacklevel=3,
        )
    return out


def load_image_folder(path, *, grey: bool = True, max_images: int | None = None) -> list[np.ndarray]:
    """Read every PNG/JPEG image under a folder.

    Parameters
    ----------
    path : str or os.PathLike
        The folder (``--data-dir`` on the command line). Searched recursively
        for files ending in ``.png``, ``.jpg`` or ``.jpeg`` (any case); hidden
        files and folders (a leading dot) are left out. Images are returned in
        sorted order of their path relative to ``path``, so a run is repeatable.
    grey : bool, default True
        Convert colour to luminance with the Rec. 601 weights
        ``0.299 R + 0.587 G + 0.114 B`` (:data:`REC601`). ``False`` keeps
        three channels, channels first as everywhere in v1sim (grey files are
        repeated into R, G and B).
    max_images : int, optional
        Stop after this many readable images.

    Returns
    -------
    list of ndarray of float64
        One array per image, (H, W) when ``grey`` else (3, H, W), values in
        [0, 1] (8-bit files divided by 255, 16-bit ones by 65535); sizes
        differ between images. An alpha channel is dropped.

    Raises
    ------
    v1sim.errors.InputError
        With ``argument="data_dir"``, if ``path`` is not a folder or holds no
        readable image; the message names the folder and what was looked for.
    v1sim.errors.InputTypeError
        If ``path`` is not a path or ``grey`` not a bool.

    Warns
    -----
    UserWarning
        Once, naming the files that could not be read (they are skipped).
    """
    folder = _check_folder(path)
    if not isinstance(grey, (bool, np.bool_)):
        raise InputTypeError(f"grey must be a bool, got {type(grey).__name__} {grey!r}", argument="grey")
    limit = None if max_images is None else check_positive_int(max_images, "max_images")
    files = _image_files(folder)
    images = [img for _, img in _read_all(folder, files, bool(grey), limit)]
    if not images:
        found = f"{len(files)} candidate file(s), none readable" if files else "no such files"
        raise InputError(
            f"data_dir: no readable images in {folder}: looked for {_LOOKED_FOR}, found {found}", argument="data_dir"
        )
    return images


def _centre_square_resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop to the aspect ratio of ``size``, then resize (anti-aliased) to ``size``."""
    import skimage.transform

    h, w = img.shape[-2:]
    rows, cols = size
    if h * cols > w * rows:  # too tall: crop rows
        keep = max(1, round(w * rows / cols))
        top = (h - keep) // 2
        img = img[..., top : top + keep, :]
    else:
        keep = max(1, round(h * cols / rows))
        left = (w - keep) // 2
        img = img[..., :, left : left + keep]
    out_shape = img.shape[:-2] + (rows, cols)
    return skimage.transform.resize(img, out_shape, anti_aliasing=True, preserve_range=True)


def load_labelled_folder(path, size, *, grey: bool = True, max_per_class: int | None = None):
    """Read a folder of class subfolders as a classification dataset (the ImageFolder layout).

    ``path/<class>/**/*.png|jpg|jpeg``: each immediate subfolder is a class,
    numbered 0, 1, ... in sorted order of the subfolder names; its images
    (found as by :func:`load_image_folder`) are centre-cropped to the aspect
    ratio of ``size`` and resized, anti-aliased, to ``size``.

    Parameters
    ----------
    path : str or os.PathLike
        The root folder.
    size : int or (int, int)
        Output (rows, cols) of every image.
    grey : bool, default True
        One luminance channel (Rec. 601) or three colour channels.
    max_per_class : int, optional
        Keep at most this many readable images of each class.

    Returns
    -------
    images : ndarray of float32, shape (N, C, rows, cols)
        C = 1 when ``grey`` else 3; values in [0, 1]; classes in order.
    labels : ndarray of int64, shape (N,)
    classes : list of str
        The subfolder name of each label.

    Raises
    ------
    v1sim.errors.InputError
        With ``argument="data_dir"``, if ``path`` has no subfolder holding a
        readable image.
    """
    folder = _check_folder(path)
    rows, cols = check_int_pair(size, "size", minimum=1)
    if not isinstance(grey, (bool, np.bool_)):
        raise InputTypeError(f"grey must be a bool, got {type(grey).__name__} {grey!r}", argument="grey")
    limit = None if max_per_class is None else check_positive_int(max_per_class, "max_per_class")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, labels, classes = [], [], []
    for sub in subfolders:
        read = _read_all(folder, _image_files(sub), bool(grey), limit)
        if not read:
            continue
        for _, img in read:
            resized = _centre_square_resize(img, (rows, cols))
            images.append(resized[None] if grey else resized)
            labels.append(len(classes))
        classes.append(sub.name)
    if not images:
        raise InputError(
            f"data_dir: no class subfolder of {folder} holds a readable image: expected {folder}/<class>/ "
            f"folders of {_LOOKED_FOR}, found {len(subfolders)} subfolder(s)",
            argument="data_dir",
        )
    return np.stack(images).astype(np.float32), np.asarray(labels, dtype=np.int64), classes
