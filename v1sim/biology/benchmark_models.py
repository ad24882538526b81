"""Models the V1 benchmark names by strings: :class:`ModelSpec` and the unit populations it builds.

:class:`ModelSpec` names a model by strings and numbers only (a zoo name, a run folder, ``"macaque"``, ...),
so that :func:`v1sim.biology.score_many` can send it to Dask workers, which rebuild the population themselves
(:func:`build_population`); the same spec gives the same score wherever it runs.

A fully convolutional network (no Linear layer, such as ``sparse_conv``, trained on 12-pixel patches of
natural images) takes images of any size: it sees the benchmark's own images (:data:`IMAGE_SIZE` pixels over
the field of view, 16 pixels/degree at 8 degrees, so its 12-pixel filters span 0.75 degree, the size of
parafoveal V1 receptive fields) rather than the whole field shrunk onto its training input; its centre
unit is computed on the central crop that holds its receptive field.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
   from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv
   10.1101/2021.03.01.433495.
.. [2] Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020). Simulating a primary visual
   cortex at the front of CNNs improves robustness to image perturbations. NeurIPS 33 (VOneNet).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.validate import check_positive_float, check_positive_int, describe
from ..errors import InputError, InputTypeError

__all__ = ["NAMED_MODELS", "IMAGE_SIZE", "ModelSpec", "build_population"]

#: models named by the benchmark besides the ConvNet zoo (v1sim.nn.models.MODELS) and run folders
NAMED_MODELS = ("macaque", "v1sim-cells", "pixels", "neocognitron", "hmax")
IMAGE_SIZE = 128  # pixels: 16 pixels/degree over Marques's 8 degrees, the macaque population's Nyquist need
MACAQUE_UNITS = 1000


@dataclass(frozen=True)
class ModelSpec:
    """A model to benchmark, named by strings and numbers only (Dask workers rebuild it from this).

    Parameters
    ----------
    model : str or path
        A ConvNet zoo name (``"lenet5"``, ``"alexnet"``, ...; built untrained from ``seed``), a run folder of
        ``v1sim train`` (a ConvNet, or a Neocognitron/HMAX run), ``"neocognitron"`` or ``"hmax"``
        (untrained: their fixed first stages), ``"macaque"``, ``"v1sim-cells"`` or ``"pixels"``
        (see :func:`build_population`).
    layer : str, optional
        The layer or stage read: default the first convolution (read after its activation) of a ConvNet,
        ``US1`` (S1) of a hierarchy. Not used by the three populations without layers.
    fov : float
        Field of view, degrees (> 0); 8 as Marques et al.
    units : int, optional
        Keep this many units, drawn from ``seed`` (the macaque population samples exactly this many;
        default 1000 there, all units elsewhere).
    seed : int
        Seeds the model's weights or draws, the unit subsample and :func:`score_population`.
    """

    model: str
    layer: str | None = None
    fov: float = 8.0
    units: int | None = None
    seed: int = 0
    weights: str | None = None  #: a zoo name's torchvision weights (.npz), v1sim.nn.models.build(weights=)

    def __post_init__(self):
        model = os.fspath(self.model) if isinstance(self.model, os.PathLike) else self.model
        if not isinstance(model, str) or not model:
            raise InputTypeError(f"model must be a model name or a run folder, got {describe(model)}", argument="model")
        object.__setattr__(self, "model", model)
        if self.layer is not None and not isinstance(self.layer, str):
            raise InputTypeError(f"layer must be a layer name, got {describe(self.layer)}", argument="layer")
        object.__setattr__(self, "fov", check_positive_float(self.fov, "fov"))
        if self.units is not None:
            object.__setattr__(self, "units", check_positive_int(self.units, "units"))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(f"seed must be an integer >= 0, got {describe(self.seed)}", argument="seed")

    @property
    def label(self) -> str:
        """A short name for tables and folders: the model (a run folder's name) and its layer."""
        name = Path(self.model).name if os.sep in self.model or Path(self.model).is_dir() else self.model
        return name if self.layer is None else f"{name}-{self.layer}"


def build_population(spec):
    """The unit population a :class:`ModelSpec` (or a model name) describes.

    ============  =======================================================================================
    zoo name      :class:`~v1sim.physiology.ConvNetLayer` of ``v1sim.nn.models.build(name, rng=seed)``,
                  untrained, images at the model's input side over ``fov``; a fully convolutional
                  network sees :data:`IMAGE_SIZE`-pixel images at its own scale instead (its centre unit
                  on the central crop of its input side, ``ConvNetLayer(crop=)``)
    run folder    :meth:`ConvNetLayer.from_run <v1sim.physiology.ConvNetLayer.from_run>` (best checkpoint;
                  a fully convolutional run likewise at :data:`IMAGE_SIZE` pixels)
                  or :class:`~v1sim.physiology.HierarchyStage` of ``v1sim.hierarchy.load_model``
    neocognitron  the default model's stage (US1 unless ``layer``), images at its ``image_size``
    hmax          likewise (S1)
    macaque       :func:`~v1sim.physiology.macaque_population`: ``units`` (1000) Gabor units from
                  macaque statistics, 128-pixel images
    v1sim-cells   v1sim's model V1 cells (:mod:`v1sim.cells`): for each of 12 orientations and
                  spatial frequencies 0.5, 1, 2 and 4 cycles/degree (those under Nyquist), an even and an
                  odd simple cell and an energy complex cell, 1-octave bandwidth (144 units)
    pixels        the floor: the pixels of the central square (side 1/8 of the field, 1 degree at 8),
                  each as an ON unit ``max(I - 0.5, 0)`` and an OFF unit ``max(0.5 - I, 0)``: raw pixels
                  averaged over a grating's phases equal the blank, so none would count as responsive
    ============  =======================================================================================

    Raises
    ------
    InputError
        Naming ``model`` for a name that is none of these, ``layer`` (or ``stage``) for a layer the model
        lacks (the message lists its layers), ``fov`` for a field whose pixels per degree put every
        stimulus above Nyquist. :class:`~v1sim.errors.CheckpointError` for an unreadable run folder.
    """
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec(spec)
    from .. import physiology
    from ..nn import models

    name, ppd = spec.model, IMAGE_SIZE / spec.fov
    if name in models.MODELS or name in ("neocognitron", "hmax") or Path(name).is_dir():
        population = _network(spec)
    elif name in NAMED_MODELS and spec.layer is not None:
        raise InputError(f"layer does not apply to {name!r}, which has no layers", argument="layer")
    elif name == "macaque":
        top = None if ppd >= 16.0 else ppd / 2.0  # VOneNet's sf_max: frequencies the pixels can carry
        return physiology.macaque_population(
            spec.units or MACAQUE_UNITS, ppd=ppd, image_size=IMAGE_SIZE, rng=spec.seed, max_frequency=top
        )
    elif name == "v1sim-cells":  # subsampled as cells, not as responses: each cell costs its own pass
        population = _v1sim_cells(ppd, spec.units, spec.seed)
        return population
    elif name == "pixels":
        population = _Pixels(IMAGE_SIZE, ppd, max(IMAGE_SIZE // 8, 1))
    else:
        known = ", ".join((*NAMED_MODELS, *models.MODELS))
        raise InputError(f"unknown model {name!r}: not a run folder nor one of {known}", argument="model")
    return population if spec.units is None else _Subsample(population, spec.units, spec.seed)


def _network(spec: ModelSpec):
    from .. import hierarchy, physiology
    from .._core.runs import RunFolder
    from ..nn import models
    from ..physiology.convnet_units import fully_convolutional

    name = spec.model
    if name in ("neocognitron", "hmax"):
        return physiology.HierarchyStage(hierarchy.make_model(name), spec.layer or "US1", fov=spec.fov)
    if name in models.MODELS:
        c, side, _ = models.MODELS[name].input_shape
        model = models.build(name, rng=spec.seed, weights=spec.weights)
        layer = spec.layer or _first_convolution(model)
        if fully_convolutional(model):  # the benchmark's images at the network's own scale, not shrunk to `side`
            return physiology.ConvNetLayer(model, layer, fov=spec.fov, image_size=IMAGE_SIZE, crop=side, in_channels=c)
        return physiology.ConvNetLayer(model, layer, fov=spec.fov, image_size=side, in_channels=c)
    kind = RunFolder(name).saved_run().get("model")
    if kind in hierarchy.MODELS:
        best = Path(name) / "best.npz"
        model = hierarchy.load_model(best if best.is_file() else Path(name) / "last.npz")
        return physiology.HierarchyStage(model, spec.layer or "US1", fov=spec.fov)
    layer, options = spec.layer, {"fov": spec.fov}
    if kind in models.MODELS:
        shell = models.build(kind, materialize=False)
        layer = layer or _first_convolution(shell)
        if fully_convolutional(shell):  # from_run crops rather than shrinks
            options["image_size"] = IMAGE_SIZE
    return physiology.ConvNetLayer.from_run(name, layer or "", **options)  # from_run refuses other runs


def _first_convolution(model) -> str:
    from ..nn import Conv2d

    return next((k for k, m in model.named_modules() if isinstance(m, Conv2d)), "")


def _v1sim_cells(ppd: float, n_units, seed: int):
    from .. import cells, physiology

    frequencies = [f for f in (0.5, 1.0, 2.0, 4.0) if f < ppd / 2.0]
    if not frequencies:
        raise InputError(f"fov gives {ppd:g} pixels/degree, too few for a 0.5 cycles/degree cell", argument="fov")
    units = []
    for theta in np.radians(np.arange(0.0, 180.0, 15.0)):
        for f in frequencies:
            common = dict(theta=float(theta), frequency=f, ppd=ppd)
            units += [cells.SimpleCell(**common), cells.SimpleCell(phase=math.pi / 2, **common)]
            units.append(cells.ComplexCell(**common))
    if n_units is not None and n_units < len(units):
        units = [units[i] for i in np.sort(np.random.default_rng(seed).choice(len(units), n_units, replace=False))]
    return physiology.CellPopulation(units, ppd=ppd, image_size=IMAGE_SIZE)


class _Pixels:
    """ON and OFF halves of the pixel contrast in the central ``side`` x ``side`` square (see build_population)."""

    def __init__(self, image_size: int, ppd: float, side: int):
        self.image_size, self.ppd, self.n_units = image_size, ppd, 2 * side * side
        self._lo, self._hi = (image_size - side) // 2, (image_size - side) // 2 + side

    def responses(self, images) -> np.ndarray:
        from ..physiology.units import check_images

        x = check_images(images, self.image_size)
        c = x[:, self._lo : self._hi, self._lo : self._hi].reshape(len(x), -1) - 0.5
        return np.concatenate([np.maximum(c, 0.0), np.maximum(-c, 0.0)], axis=1)


class _Subsample:
    """``units`` of a population's units, drawn without replacement from ``seed`` (all when it has fewer)."""

    def __init__(self, population, units: int, seed: int):
        self.population, self.ppd, self.image_size, n = (
            population,
            population.ppd,
            population.image_size,
            population.n_units,
        )
        self._keep = np.sort(np.random.default_rng(seed).choice(n, min(units, n), replace=False))
        self.n_units = int(self._keep.size)

    def responses(self, images) -> np.ndarray:
        return self.population.responses(images)[:, self._keep]
