"""Networks trained elsewhere: PyTorch/torchvision state dicts (as ``.npz``) loaded into the zoo, by name.

A user exports a torchvision model's weights once, where PyTorch is::

    import numpy, torchvision
    model = torchvision.models.alexnet(weights="IMAGENET1K_V1")
    numpy.savez("alexnet.npz", **{k: v.numpy() for k, v in model.state_dict().items()})

and v1sim (which never imports torch) builds the matching zoo model from it::

    net = models.build("alexnet-torchvision", weights="alexnet.npz")
    logits = net.eval()(net.input_normalization.apply(images))  # images: (N, 3, 224, 224) RGB in [0, 1]

Each zoo name of :data:`TORCHVISION_MODELS` says which torchvision model it
mirrors and by which rule torchvision's parameter and buffer names become the
zoo's (:data:`NAME_RULES`): rules per family, never a position in the file.
The import is checked both ways before anything is copied: every parameter
and buffer of the zoo model gets exactly one tensor of the same shape, and
every tensor of the file is used (BatchNorm's ``num_batches_tracked``, a
step counter, and GoogLeNet's training-only ``aux1``/``aux2`` heads are read
past, by rule). Anything else is refused by a
:class:`~v1sim.errors.CheckpointError` that names every missing, unexpected
or wrong-shape tensor.

Dtypes: float32 and float64 are loaded as they are (into the model's
float32). float16 is converted to float32 with a warning. bfloat16, which
``Tensor.numpy()`` refuses, is accepted in the two forms numpy can hold it:
a 2-byte void dtype (``ml_dtypes.bfloat16`` arrays, saved by ``np.savez``)
or uint16 bit patterns (``v.view(torch.uint16).numpy()``) where the model
holds floats; both are widened exactly to float32 with a warning.

References
----------
.. [1] torchvision.models (BSD-3-Clause), https://github.com/pytorch/vision:
   the parameter names and ImageNet preprocessing this module mirrors.
.. [2] O. Russakovsky et al., "ImageNet large scale visual recognition
   challenge", IJCV 115, 2015 (the data behind the mean and std).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..._core.validate import as_float_array, describe
from ...errors import CheckpointError, InputError, InputTypeError

__all__ = [
    "IMAGENET_NORMALIZATION",
    "InputNormalization",
    "NAME_RULES",
    "TORCHVISION_MODELS",
    "TorchvisionSource",
    "load_torchvision",
    "normalize_input",
    "read_state_dict",
    "torchvision_names",
]


@dataclass(frozen=True)
class InputNormalization:
    """The preprocessing a set of weights was trained with: ``(x - mean[c]) / std[c]`` per channel.

    Attributes
    ----------
    mean, std : tuple of float
        Per channel, in ``channels`` order, on images scaled to [0, 1].
    channels : str
        The channel order the weights expect ("RGB").
    """

    mean: tuple
    std: tuple
    channels: str = "RGB"

    def apply(self, images) -> np.ndarray:
        """``normalize_input(images, self)``; see :func:`normalize_input`."""
        return normalize_input(images, self)


#: ImageNet's per-channel mean and std in RGB on [0, 1] images, what every torchvision classifier expects [1]_ [2]_.
IMAGENET_NORMALIZATION = InputNormalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def normalize_input(images, normalization=IMAGENET_NORMALIZATION) -> np.ndarray:
    """Normalise images for a network trained elsewhere: ``(x - mean[c]) / std[c]`` for each channel c.

    Parameters
    ----------
    images : array_like, shape (N, C, H, W) or (C, H, W)
        Intensities in [0, 1], channels in ``normalization.channels`` order
        (RGB). Grey images (C = 1) go into every channel before normalising,
        as the V1 benchmark feeds its grey gratings to RGB networks.
    normalization : InputNormalization
        Default :data:`IMAGENET_NORMALIZATION`; a built model's own is its
        ``input_normalization`` attribute.

    Returns
    -------
    ndarray, shape (N, len(mean), H, W) (or without N), float32 or float64 as given (float32 for integers)
    """
    if not isinstance(normalization, InputNormalization):
        raise InputTypeError(
            f"normalization must be an InputNormalization, got {describe(normalization)}", argument="normalization"
        )
    x = as_float_array(images, "images")
    if x.ndim not in (3, 4):
        raise InputError(f"images must be (N, C, H, W) or (C, H, W), got shape {x.shape}", argument="images")
    k, axis = len(normalization.mean), x.ndim - 3
    if x.shape[axis] not in (1, k):
        raise InputError(
            f"images must have 1 (grey) or {k} ({normalization.channels}) channels, got shape {x.shape}",
            argument="images",
        )
    shape = (k, 1, 1)
    mean = np.asarray(normalization.mean, x.dtype).reshape(shape)
    std = np.asarray(normalization.std, x.dtype).reshape(shape)
    return (x - mean) / std  # a grey channel broadcasts to all k


class TorchvisionSource(NamedTuple):
    """The torchvision model a zoo name mirrors and the rule (a key of :data:`NAME_RULES`) that maps its names."""

    name: str  #: torchvision's builder, e.g. "vgg16_bn"
    rule: str  #: "sequential", "resnet" or "same"
    options: tuple = ()  #: (key, value) build options the weights need, e.g. ResNet's stride placement


def _torchvision_models() -> dict:
    m = {"alexnet-torchvision": TorchvisionSource("alexnet", "sequential")}
    for depth in (11, 13, 16, 19):
        m[f"vgg{depth}"] = TorchvisionSource(f"vgg{depth}", "sequential")
        m[f"vgg{depth}-bn"] = TorchvisionSource(f"vgg{depth}_bn", "sequential")
    for depth in (18, 34, 50, 101, 152):
        options = (("stride_on_3x3", True),) if depth >= 50 else ()  # torchvision's "v1.5" bottleneck
        m[f"resnet{depth}"] = TorchvisionSource(f"resnet{depth}", "resnet", options)
    m["googlenet-torchvision"] = TorchvisionSource("googlenet", "same")
    return m


#: zoo name -> :class:`TorchvisionSource`: the models ``build(name, weights=...)`` can load.
TORCHVISION_MODELS = _torchvision_models()

#: rule -> (pattern, replacement) substitutions that turn a zoo key into torchvision's, applied in order.
#: "sequential" is computed instead (:func:`torchvision_names`): torchvision numbers the layers of its
#: ``features`` and ``classifier`` Sequentials, and the zoo builds the same layers in the same order.
NAME_RULES = {
    "resnet": (
        (r"^conv([2-5])_x\.", lambda m: f"layer{int(m[1]) - 1}."),  # conv2_x..conv5_x = layer1..layer4
        (r"\.body\.", "."),  # block.body.conv1 = block.conv1
        (r"\.shortcut\.conv\.", ".downsample.0."),
        (r"\.shortcut\.bn\.", ".downsample.1."),
    ),
    "same": (),  # the zoo's torchvision twin carries torchvision's own names
    "sequential": (),
}

#: torchvision keys read past, by rule: BatchNorm's step counter and GoogLeNet's training-only heads.
_COUNTER = ".num_batches_tracked"
_TRAINING_ONLY = ("aux1.", "aux2.")


def _zoo_keys(model) -> list:
    return [k for k, _ in model.named_parameters()] + [k for k, _ in model.named_buffers()]


def torchvision_names(model, name) -> dict:
    """Zoo key -> torchvision key for every parameter and buffer of ``model``, the zoo model ``name``.

    Parameters
    ----------
    model : v1sim.nn.Module
        Built by ``models.build(name, ...)`` (shape-only models work: only names are read).
    name : str
        A key of :data:`TORCHVISION_MODELS`.

    Returns
    -------
    dict of str to str
        In the model's parameter-then-buffer order.
    """
    from ..module import check_module

    check_module(model)
    source = _source(name)
    keys = _zoo_keys(model)
    if source.rule != "sequential":
        out = {}
        for key in keys:
            new = key
            for pattern, replacement in NAME_RULES[source.rule]:
                new = re.sub(pattern, replacement, new)
            out[key] = new
        return out
    where, segment, position = {}, "features", 0  # the zoo's layers before "flatten" are torchvision's features
    for child in (n for n in dict(model.named_modules()) if n and "." not in n):
        if child == "flatten":  # torchvision's classifier Sequential counts from 0 after it
            segment, position = "classifier", 0
            continue
        where[child], position = f"{segment}.{position}", position + 1
    return {k: where[k.split(".", 1)[0]] + "." + k.split(".", 1)[1] for k in keys}


def _source(name) -> TorchvisionSource:
    if not isinstance(name, str) or name not in TORCHVISION_MODELS:
        raise InputError(
            f"model {name!r} has no torchvision counterpart to load weights into; weights load into: "
            f"{', '.join(TORCHVISION_MODELS)}",
            argument="name",
        )
    return TORCHVISION_MODELS[name]


def _as_bfloat16(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) -> float32, exactly: bfloat16 is float32's upper 16 bits."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def read_state_dict(path) -> dict:
    """Read an ``.npz`` of a PyTorch state dict into float arrays, without pickle (and without torch).

    Parameters
    ----------
    path : str or Path
        Written by ``numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})``.

    Returns
    -------
    dict of str to ndarray
        float16 and bfloat16 (void2 or uint16, see the module docstring)
        widened to float32 with one warning naming the tensors; integer
        arrays (``num_batches_tracked``) and float32/float64 as they are.

    Raises
    ------
    CheckpointError
        If the file is missing, not an ``.npz``, truncated or corrupt, or an
        array cannot be read without pickle (the message names the file and the array).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"weights must be a path to an .npz file, got {describe(path)}", argument="weights")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file {path} does not exist", path=path)
    arrays, key = {}, None
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                arrays[key] = data[key]  # reading a member checks its CRC-32
    except AttributeError:  # np.load gave a bare array: an .npy, not an .npz (no context manager)
        raise CheckpointError(f"weights file {path} is not an .npz of named arrays", path=path) from None
    except Exception as exc:  # a damaged zip raises many types (BadZipFile, EOFError, zlib.error, ValueError, ...)
        where = "" if key is None else f" at array {key!r}"
        raise CheckpointError(
            f"weights file {path} is truncated, corrupt or not an .npz{where} ({type(exc).__name__}: {exc})",
            path=path,
        ) from None
    widened = []
    for key, value in arrays.items():
        if value.dtype == np.float16:
            arrays[key] = value.astype(np.float32)
        elif value.dtype.kind == "V" and value.dtype.itemsize == 2:
            arrays[key] = _as_bfloat16(value.view(np.uint16))
        elif value.dtype == np.uint16 and not key.endswith(_COUNTER):
            arrays[key] = _as_bfloat16(value)
        else:
            continue
        widened.append(f"{key} ({value.dtype})")
    if widened:
        warnings.warn(
            f"weights file {path}: {len(widened)} half-precision tensor(s) converted to float32 (void2 and uint16 "
            f"read as bfloat16 bits): {', '.join(widened[:5])}{', ...' if len(widened) > 5 else ''}",
            stacklevel=2,
        )
    return arrays


def load_torchvision(model, name, weights, *, path=None):
    """Copy a torchvision state dict into ``model``, the zoo model ``name``, checked by name and shape both ways.

    Parameters
    ----------
    model : v1sim.nn.Module
        Built by ``models.build(name, ...)``, materialised or shape-only
        (its placeholders are replaced by the file's tensors, so that no
        random initial weights are drawn only to be overwritten).
    name : str
        A key of :data:`TORCHVISION_MODELS`.
    weights : str, Path or mapping of str to ndarray
        A file for :func:`read_state_dict`, or its result.
    path : str or Path, optional
        The file named in error messages when ``weights`` is a mapping.

    Returns
    -------
    Module
        ``model``, loaded (in place), with ``input_normalization`` set to
        :data:`IMAGENET_NORMALIZATION`.

    Raises
    ------
    CheckpointError
        Naming every torchvision key the file lacks, every key of the file the
        model has no place for, and every tensor of another shape or a
        non-numeric dtype; nothing is copied then.
    """
    if isinstance(weights, (str, os.PathLike)):
        path, state = weights, read_state_dict(weights)
    elif hasattr(weights, "keys"):
        state = dict(weights)
    else:
        raise InputTypeError(
            f"weights must be a path or a mapping of arrays, got {describe(weights)}", argument="weights"
        )
    source = _source(name)
    mapping = torchvision_names(model, name)
    wanted = {tv: zoo for zoo, tv in mapping.items()}
    current = dict(model.named_parameters())
    current = {k: p.data for k, p in current.items()} | dict(model.named_buffers())
    missing = [tv for tv in wanted if tv not in state]
    unexpected, shapes = [], []
    for key, value in state.items():
        if key in wanted:
            want = current[wanted[key]]
            value = np.asarray(value)
            if value.shape != tuple(want.shape) or value.dtype.kind not in "fiu":
                shapes.append(f"{key} ({value.dtype}{list(value.shape)} in the file, {list(want.shape)} in the model)")
        elif key.endswith(_COUNTER) and key[: -len(_COUNTER)] + ".running_mean" in wanted:
            continue
        elif not (source.rule == "same" and key.startswith(_TRAINING_ONLY)):
            unexpected.append(key)
    where = f"weights file {path}" if path is not None else "weights"
    if missing or unexpected or shapes:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(unexpected)}"] if unexpected else []
        parts += [f"wrong shape {', '.join(shapes)}"] if shapes else []
        raise CheckpointError(
            f"{where} does not fit {name!r} (torchvision's {source.name}): " + "; ".join(parts), path=path
        )
    bad = [k for k in wanted if not np.isfinite(state[k]).all()]
    if bad:
        raise CheckpointError(f"{where}: non-finite values in {', '.join(bad)}", path=path)
    params = dict(model.named_parameters())
    owners = {f"{prefix}.{b}" if prefix else b: (m, b) for prefix, m in model.named_modules() for b in m._buffers}
    for tv, zoo in wanted.items():  # new arrays, not copies into the old: a shape-only model is filled too
        if zoo in params:
            params[zoo].data = np.array(state[tv], dtype=params[zoo].data.dtype)
        else:
            owner, buffer = owners[zoo]
            setattr(owner, buffer, np.array(state[tv], dtype=getattr(owner, buffer).dtype))
    model.input_normalization = IMAGENET_NORMALIZATION
    return model
