"""A trained network from its ``v1sim train`` run folder, and the images it was trained on, for visualising.

ConvNets of the zoo are rebuilt by :meth:`v1sim.physiology.ConvNetLayer.from_run`
(the one place that reads a ConvNet run back); S/C hierarchies by
:func:`v1sim.hierarchy.load_model`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.validate import check_choice
from ..errors import CheckpointError

__all__ = ["Network", "load_network", "network_images"]


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
        The run folder.
    """

    model: object
    kind: str
    name: str
    input_shape: tuple
    dataset: str
    path: Path


def load_network(run_dir, *, checkpoint="best") -> Network:
    """The network of a ``v1sim train`` run folder (a zoo ConvNet or a Neocognitron/HMAX).

    Parameters
    ----------
    run_dir : str or Path
        The run folder (``v1sim train MODEL --out DIR``).
    checkpoint : {"best", "last"}
        Which checkpoint; a hierarchy falls back to ``last`` while it has no ``best``.

    Raises
    ------
    v1sim.errors.CheckpointError
        If the folder holds no run (no ``run.json``), a run of another kind,
        or its checkpoint is missing or corrupt.
    """
    from .. import hierarchy, physiology
    from .._core.runs import RunFolder
    from ..nn import models

    check_choice(checkpoint, "checkpoint", ("best", "last"))
    folder = RunFolder(run_dir)
    if not (folder.path / RunFolder.RUN).is_file():
        raise CheckpointError(
            f"{folder.path} is not a v1sim train run folder (it has no {RunFolder.RUN}; make one with "
            "'v1sim train MODEL --out DIR')",
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
    first = next(n for n, _ in models.build(name, materialize=False).named_modules() if n)
    model = physiology.ConvNetLayer.from_run(folder.path, first, checkpoint=checkpoint).model
    shape = tuple(int(s) for s in run["input_shape"])
    return Network(model, "convnet", name, shape, dataset, folder.path)


def network_images(network: Network, *, split="test", progress=False) -> tuple:
    """The images of the network's dataset (its test split by default), shaped as the model takes them.

    The run's own dataset when it loads offline; otherwise the embedded
    digits, with a note on stderr (``progress``). Returns ``(images (N, C, H, W)
    float32, labels (N,), dataset name)``.
    """
    from ..datasets import load_dataset
    from ..nn.recipes import prepare_images

    check_choice(split, "split", ("train", "test"))
    dataset = network.dataset
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
