"""The V1 benchmark of Marques, Schrimpf & DiCarlo (2021): one score for how V1-like a model's units are.

:func:`score_population` measures the 13 single-neuron properties of a unit population in silico
(:func:`v1sim.physiology.measure_properties`: gratings over orientation, spatial frequency and phase, then
patches of growing size) and scores each property's distribution against the macaque's
(:func:`v1sim.biology.property_score`: a bootstrapped Kolmogorov-Smirnov similarity over the data's bins,
divided by the data's own ceiling). The benchmark's score is the mean of the ceiled property scores, as
Brain-Score's V1 benchmarks average their per-property scores.

:class:`ModelSpec` names a model by strings and numbers only (a zoo name, a run folder, ``"macaque"``, ...),
so that :func:`score_many` can send it to Dask workers, which rebuild the population themselves
(:func:`build_population`); the same spec gives the same score wherever it runs.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
   from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv
   10.1101/2021.03.01.433495.
.. [2] Schrimpf M et al. (2018). Brain-Score: which artificial neural network for object recognition is most
   brain-like? bioRxiv 10.1101/407007.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._core.validate import check_positive_float, check_positive_int, check_rng, describe
from ..errors import InputError, InputTypeError
from ..physiology.population import measure_properties
from .properties import v1_property
from .similarity import PropertyScore, ceiling, property_score

__all__ = ["NAMED_MODELS", "IMAGE_SIZE", "ModelSpec", "V1Score", "build_population", "score_many", "score_population"]

#: models named by the benchmark besides the ConvNet zoo (v1sim.nn.models.MODELS) and run folders
NAMED_MODELS = ("macaque", "v1sim-cells", "pixels", "neocognitron", "hmax")
IMAGE_SIZE = 128  # pixels: 16 pixels/degree over Marques's 8 degrees, the macaque population's Nyquist need
MACAQUE_UNITS = 1000
_ADDRESS = re.compile(r"[\w.\-\[\]]+:\d+")  # host:port (IPv6 in brackets); schemes ("tcp://...") pass as they are


@dataclass(frozen=True)
class V1Score:
    """A unit population's V1 benchmark score (:func:`score_population`).

    Attributes
    ----------
    score : float
        Mean of the ceiled property scores over the properties that could be scored, in [0, 1].
    ceiling : float
        Mean ceiling (the monkey data against itself) over the same properties.
    properties : mapping str -> PropertyScore
        Every requested property. One where no responsive unit has a value (e.g. no unit is orientation
        tuned) has ``n_units == 0`` and NaN ``raw``, ``score`` and ``model_median``; it is left out of the
        means (``to_dict`` writes its score as None).
    n_units, n_responsive : int
        Units of the population, and those driven 5 spikes/s above their blank rate.
    values : mapping str -> (n_units,) ndarray of float64
        The model's per-unit values of each property (NaN where undefined), for histograms.
    seconds : float
        Wall time of the measurement and the scoring.
    """

    score: float
    ceiling: float
    properties: Mapping
    n_units: int
    n_responsive: int
    values: Mapping
    seconds: float

    def to_dict(self) -> dict:
        """JSON-able: ``score``, ``ceiling`` and per property ``score``, ``n_units``, ``model_median``,
        ``monkey_median`` (None for a property no unit could be measured on)."""

        def plain(x):
            return None if x is None or not math.isfinite(x) else float(x)

        props = {
            k: {"score": plain(p.score), "n_units": int(p.n_units), "model_median": plain(p.model_median)}
            | {"monkey_median": plain(p.monkey_median)}
            for k, p in self.properties.items()
        }
        return {"score": plain(self.score), "ceiling": plain(self.ceiling), "properties": props}


def score_population(population, *, properties=None, rng=0) -> V1Score:
    """Score a unit population on Marques et al.'s (2021) V1 benchmark.

    Parameters
    ----------
    population : UnitPopulation
        ``ppd``, ``image_size``, ``n_units`` and ``responses(images)`` (:mod:`v1sim.physiology.units`),
        its units' receptive fields at the image centre; an 8-degree field of view as in the paper.
    properties : str or sequence of str, optional
        Names from :data:`~v1sim.biology.V1_PROPERTIES` (default: all 13).
    rng : None, int or numpy.random.Generator
        Seeds the gratings' phase offset and the bootstrap; an integer gives the same score every call.

    Returns
    -------
    V1Score

    Raises
    ------
    InputError
        Naming ``population`` when no unit responded (a flat or silent model has no distribution to score,
        so it gets an error rather than a NaN score) or no requested property could be measured on any
        unit; what :func:`~v1sim.physiology.measure_properties` raises for a malformed population or
        unknown ``properties``.

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). bioRxiv 10.1101/2021.03.01.433495.
    """
    start = time.perf_counter()
    seed = rng if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    gen = check_rng(rng)
    measured = measure_properties(population, properties=properties, rng=gen if seed is None else seed)
    if measured.n_responsive == 0:
        raise InputError(
            f"no unit of the population responded: none of its {measured.n_units} units was driven 5 spikes/s "
            "above its blank rate by any grating, so there are no V1 properties to score",
            argument="population",
        )
    r = seed if seed is not None else gen
    scores = {  # a property no unit has (e.g. no defined SF bandwidth) is reported, not averaged
        k: _unscored(k, r) if np.isnan(measured[k]).all() else property_score(k, measured[k], rng=r)
        for k in measured.names
    }
    kept = [p for p in scores.values() if p.n_units > 0]
    if not kept:
        raise InputError(f"no unit of the population has a value of any of {', '.join(scores)}", argument="population")
    return V1Score(
        score=float(np.mean([p.score for p in kept])),
        ceiling=float(np.mean([p.ceiling for p in kept])),
        properties=MappingProxyType(scores),
        n_units=measured.n_units,
        n_responsive=measured.n_responsive,
        values=measured.values,
        seconds=time.perf_counter() - start,
    )


def _unscored(name: str, rng) -> PropertyScore:
    nan = float("nan")
    return PropertyScore(name, nan, ceiling(name, rng=rng), nan, 0, nan, v1_property(name).median())


# ------------------------------------------------------------------ models named by strings


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
                  untrained, images at the model's input side over ``fov``
    run folder    :meth:`ConvNetLayer.from_run <v1sim.physiology.ConvNetLayer.from_run>` (best checkpoint)
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

    name = spec.model
    if name in ("neocognitron", "hmax"):
        return physiology.HierarchyStage(hierarchy.make_model(name), spec.layer or "US1", fov=spec.fov)
    if name in models.MODELS:
        c, side, _ = models.MODELS[name].input_shape
        model = models.build(name, rng=spec.seed, weights=spec.weights)
        layer = spec.layer or _first_convolution(model)
        return physiology.ConvNetLayer(model, layer, fov=spec.fov, image_size=side, in_channels=c)
    kind = RunFolder(name).saved_run().get("model")
    if kind in hierarchy.MODELS:
        best = Path(name) / "best.npz"
        model = hierarchy.load_model(best if best.is_file() else Path(name) / "last.npz")
        return physiology.HierarchyStage(model, spec.layer or "US1", fov=spec.fov)
    layer = spec.layer
    if layer is None and kind in models.MODELS:
        layer = _first_convolution(models.build(kind, materialize=False))
    return physiology.ConvNetLayer.from_run(name, layer or "", fov=spec.fov)  # from_run refuses other runs


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


def _score_spec(spec) -> V1Score:
    """Build and score one :class:`ModelSpec` (what a Dask worker runs)."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec(spec)
    return score_population(build_population(spec), rng=spec.seed)


def score_many(specs, *, scheduler=None, progress=False) -> list[V1Score]:
    """Score several models independently, in-process or on a Dask cluster; results in the order of ``specs``.

    Parameters
    ----------
    specs : sequence of ModelSpec or str
        The models (a string is ``ModelSpec(string)``).
    scheduler : str, optional
        Address of a running Dask scheduler (``"tcp://10.0.0.5:8786"``, or the ``scheduler_address`` of a
        ``distributed.LocalCluster``): each model is built and scored on a worker. Default: here, one after
        the other. Each model uses its own spec's seed, so both give the same scores.
    progress : bool
        A progress bar on stderr over the models (in-process runs, when stderr is a terminal).

    Returns
    -------
    list of V1Score

    Raises
    ------
    InputError
        ``specs`` that are not specs, a malformed ``scheduler`` address, one that cannot be reached, or
        dask.distributed not installed (``pip install 'v1sim[distributed]'``); what :func:`score_population`
        and :func:`build_population` raise for a model.

    Notes
    -----
    Dask ships the specs and results with pickle on its own wire; v1sim's files never use pickle.
    """
    if isinstance(specs, (str, bytes)) or not hasattr(specs, "__iter__"):
        raise InputTypeError(
            f"specs must be a sequence of ModelSpec or model names, got {describe(specs)}", argument="specs"
        )
    bad = [s for s in specs if not isinstance(s, (ModelSpec, str))]
    if bad:
        raise InputTypeError(f"specs must hold ModelSpec or model names, got {describe(bad[0])}", argument="specs")
    specs = [s if isinstance(s, ModelSpec) else ModelSpec(s) for s in specs]
    if not isinstance(progress, (bool, np.bool_)):
        raise InputTypeError(f"progress must be True or False, got {describe(progress)}", argument="progress")
    if scheduler is None:
        from tqdm.auto import tqdm

        return [
            _score_spec(s) for s in tqdm(specs, desc="V1 benchmark", unit="model", disable=None if progress else True)
        ]
    if not isinstance(scheduler, str) or not ("://" in scheduler or _ADDRESS.fullmatch(scheduler)):
        raise InputError(
            f"scheduler must be a Dask scheduler address such as 'tcp://host:8786' or 'host:8786', got "
            f"{describe(scheduler)}",
            argument="scheduler",
        )
    return _on_cluster(specs, scheduler, progress)


def _on_cluster(specs: list, address: str, progress: bool) -> list[V1Score]:
    try:  # imported only here: dask is an optional dependency
        from dask.distributed import Client
    except ImportError:
        raise InputError(
            "scheduler needs dask.distributed, which is not installed: pip install 'v1sim[distributed]'",
            argument="scheduler",
        ) from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"scheduler: cannot reach the Dask scheduler at {address}: {exc}", argument="scheduler"
        ) from None
    try:
        return client.gather(client.map(_score_spec, specs, pure=False))  # in order; a worker's error raises here
    finally:
        client.close()
