"""A trained network from its ``v1sim train`` run folder, and the images it was trained on, for visualising.

ConvNets of the zoo are rebuilt by :func:`v1sim.nn.transfer.load_trained`
(the one place that reads a ConvNet run back, classifier or not); S/C
hierarchies by :func:`v1sim.hierarchy.load_model`. A run trained on natural
images (``sparse_conv``) is shown on whitened patches drawn as its training
patches were (:func:`v1sim.nn.natural.whitened_patches`). A network trained elsewhere is a zoo name
with ``weights`` (a torchvision state dict, :mod:`v1sim.nn.models.weights`):
it is shown on natural images (:func:`v1sim.datasets.natural_images`), with
its input normalisation as a first layer so that every visualisation works on
images in [0, 1].
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.validate import check_choice
from ..errors import CheckpointError, InputError
from ..nn.module import Module

__all__ = ["NATURAL_IMAGES", "NATURAL_PATCHES", "Network", "load_network", "natural_inputs", "network_images"]

#: the dataset name of a network trained elsewhere, shown on crops of the natural images
NATURAL_IMAGES = "natural-images"
#: whitened patches a natural-image run is shown on (top patches among them)
NATURAL_PATCHES = 2000


@dataclass(frozen=True)
class Network:
    """A trained network and what its run says about it.

    Attributes
    ----------
    model : v1sim.nn.Module or S/C hierarchy
    kind : {"convnet", "hierarchy"}
    name : str
        The model's name in the run (``"lenet5"``, ``"neocognitron"``).
    input_shape : (C, H, W)
    dataset : str
        The dataset the run trained on (``"digits"`` when it does not say).
    path : Path
        The run folder (the weights file for a network trained elsewhere).
    data_dir : str, optional
        The run's ``data_dir`` (a natural-image run's own photographs; None: the bundled ones).
    """

    model: object
    kind: str
    name: str
    input_shape: tuple
    dataset: str
    path: Path
    data_dir: str | None = None


def load_network(run_dir, *, checkpoint="best", weights=None) -> Network:
    """The network of a ``v1sim train`` run folder (a zoo ConvNet or a Neocognitron/HMAX), or one trained elsewhere.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (``v1sim train MODEL --out DIR``); with ``weights``, a
        zoo name of :data:`v1sim.nn.models.weights.TORCHVISION_MODELS` instead
        (``"alexnet-torchvision"``, ``"vgg16"``, ``"resnet50"``, ...).
    checkpoint : {"best", "last"}
        Which checkpoint; a hierarchy falls back to ``last`` while it has no ``best``.
    weights : str or Path, optional
        An ``.npz`` of a torchvision state dict for the zoo model ``run_dir``
        (:func:`v1sim.nn.models.build`). The network returned takes RGB
        images in [0, 1]: a first layer ``normalize`` applies the weights'
        input normalisation (ImageNet's mean and std), and the other layers
        keep their zoo names. Its dataset is ``"natural-images"``.

    Raises
    ------
    v1sim.errors.CheckpointError
        If the folder holds no run (no ``run.json``), a run of another kind,
        or its checkpoint is missing or corrupt; if the weights file is
        missing or does not fit the model (each tensor named).
    v1sim.errors.InputError
        Naming ``weights`` when ``run_dir`` is a run folder (it holds its own
        weights), ``run_dir`` when it is no zoo name that weights load into.
    """
    from .. import hierarchy
    from .._core.runs import RunFolder
    from ..nn import models
    from ..nn.transfer import load_trained

    check_choice(checkpoint, "checkpoint", ("best", "last"))
    if weights is not None:
        return _imported_network(run_dir, weights)
    folder = RunFolder(run_dir)
    if not (folder.path / RunFolder.RUN).is_file():
        hint = (
            " (a network trained elsewhere: give its weights, --weights NPZ)" if str(run_dir) in models.MODELS else ""
        )
        raise CheckpointError(
            f"{folder.path} is not a v1sim train run folder (it has no {RunFolder.RUN}; make one with "
            f"'v1sim train MODEL --out DIR'){hint}",
            path=folder.path,
        )
    run = folder.saved_run()
    name, dataset = run.get("model"), str(run.get("dataset") or "digits")
    if name in hierarchy.MODELS:
        path = folder.path / f"{checkpoint}.npz"
        model = hierarchy.load_model(path if path.is_file() else folder.path / "last.npz")
        side = model.config.image_size
        return Network(model, "hierarchy", name, (1, side, side), dataset, folder.path)
    if name not in models.MODELS:
        raise CheckpointError(f"{folder.path} holds a run of an unknown model {name!r}", path=folder.path)
    model, run = load_trained(folder.path, checkpoint=checkpoint)
    shape = tuple(int(s) for s in run["input_shape"])
    data_dir = run.get("data_dir")
    return Network(model, "convnet", name, shape, dataset, folder.path, None if data_dir is None else str(data_dir))


def _imported_network(name, weights) -> Network:
    """A zoo model loaded from a torchvision state dict, behind a layer that normalises its [0, 1] input."""
    from ..nn import Sequential, models
    from ..nn.models.weights import TORCHVISION_MODELS

    if isinstance(name, os.PathLike) or (isinstance(name, str) and Path(name).is_dir()):
        raise InputError(
            f"weights load into a zoo model named by its name, but {str(name)!r} is a folder: a v1sim train run "
            "folder holds its own weights (leave out --weights)",
            argument="weights",
        )
    if not isinstance(name, str) or name not in TORCHVISION_MODELS:
        raise InputError(
            f"with weights, give the zoo name of the model they fit, one of {', '.join(TORCHVISION_MODELS)}; "
            f"got {name!r}",
            argument="run_dir",
        )
    model = models.build(name, weights=weights)
    children = [(n, m) for n, m in model.named_modules() if n and "." not in n]
    layers = dict(children) if isinstance(model, Sequential) else {"network": model}
    wrapped = Sequential({"normalize": _Normalize(model.input_normalization), **layers}).eval()
    shape = tuple(int(s) for s in models.MODELS[name].input_shape)
    return Network(wrapped, "convnet", name, shape, NATURAL_IMAGES, Path(weights))


class _Normalize(Module):
    """``(x - mean[c]) / std[c]`` per channel, as a layer (backward: ``grad / std``); no parameters."""

    def __init__(self, normalization):
        super().__init__()
        self.mean = np.asarray(normalization.mean, dtype=np.float64).reshape(-1, 1, 1)
        self.std = np.asarray(normalization.std, dtype=np.float64).reshape(-1, 1, 1)

    def forward(self, x):
        return ((x - self.mean.astype(x.dtype)) / self.std.astype(x.dtype)).astype(x.dtype, copy=False)

    def backward(self, grad_out, *, input_grad=True):
        return grad_out / self.std.astype(grad_out.dtype)

    def output_shape(self, input_shape):
        return tuple(int(s) for s in input_shape)


def natural_inputs(input_shape) -> np.ndarray:
    """Crops of the natural images (:func:`v1sim.datasets.natural_images`) shaped as a network takes them.

    Each grey photograph is resized (bilinear) so that it just covers the
    input (H, W), and to 1.5 times that, and cut into input-sized crops half
    an input apart (the whole image at the first scale); grey goes into every
    channel.

    Parameters
    ----------
    input_shape : (C, H, W) tuple of int

    Returns
    -------
    (N, C, H, W) float32 ndarray, values in [0, 1]
    """
    from scipy import ndimage

    from ..datasets import natural_images
    from .receptive_field import check_input_shape

    channels, height, width = check_input_shape(input_shape)
    crops = []
    for image in natural_images():
        for scale in (1.0, 1.5):
            zoom = scale * max(height / image.shape[0], width / image.shape[1])
            big = np.clip(ndimage.zoom(image, zoom, order=1, grid_mode=True, mode="nearest"), 0.0, 1.0)
            rows, cols = _starts(big.shape[0], height), _starts(big.shape[1], width)
            crops += [big[r : r + height, c : c + width] for r in rows for c in cols]
    x = np.stack(crops).astype(np.float32)[:, None]
    return np.ascontiguousarray(np.broadcast_to(x, (len(x), channels, height, width)))


def _starts(length: int, side: int) -> np.ndarray:
    """Crop starts half a side apart, the last flush with the end (one crop when ``length`` is ``side``)."""
    steps = 1 + int(np.ceil(max(length - side, 0) / (side / 2)))
    return np.unique(np.linspace(0, max(length - side, 0), steps).round().astype(int))


def network_images(network: Network, *, split="test", progress=False) -> tuple:
    """The images of the network's dataset (its test split by default), shaped as the model takes them.

    The run's own dataset when it loads offline; otherwise the embedded
    digits, with a note on stderr (``progress``). A natural-image run
    (:data:`v1sim.nn.natural.NATURAL_MODELS`) gets :data:`NATURAL_PATCHES`
    whitened patches of its photographs, cut as its training patches were
    (:func:`v1sim.nn.natural.whitened_patches`, ``split`` seeding the draw).
    Returns ``(images (N, C, H, W) float32, labels (N,), dataset name)``;
    labels are -1 where the images have none.
    """
    from ..datasets import load_dataset
    from ..nn.natural import DATA_SEED, NATURAL_MODELS, whitened_patches
    from ..nn.recipes import prepare_images

    check_choice(split, "split", ("train", "test"))
    dataset = network.dataset
    if dataset == NATURAL_IMAGES:  # a network trained elsewhere: no test split here, photographs instead
        x = natural_inputs(network.input_shape)
        return x, np.full(len(x), -1), dataset
    if network.kind == "convnet" and network.name in NATURAL_MODELS:
        channels, side, _ = network.input_shape
        seed = DATA_SEED + (1 if split == "test" else 0)  # the run's own draw is DATA_SEED's
        x = whitened_patches(NATURAL_PATCHES, side, source=network.data_dir, rng=seed)
        x = np.ascontiguousarray(np.broadcast_to(x, (len(x), channels, side, side)))
        return x, np.full(len(x), -1), f"whitened {side}-px patches of natural images"
    try:
        x, y = load_dataset(dataset, split)
    except (ValueError, OSError) as exc:  # a dataset that needs files or a download: the embedded digits instead
        if progress:
            print(
                f"v1sim visualize: {dataset} not available offline ({exc}); using the embedded digits", file=sys.stderr
            )
        dataset = "digits"
        x, y = load_dataset("digits", split)
    if x.shape[1] == 1 and network.input_shape[0] > 1:
        x = np.repeat(x, network.input_shape[0], axis=1)
    return prepare_images(x, network.input_shape), y, dataset
