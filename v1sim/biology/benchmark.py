"""The V1 benchmark of Marques, Schrimpf & DiCarlo (2021): one score for how V1-like a model's units are.

:func:`score_population` measures the 13 single-neuron properties of a unit population in silico
(:func:`v1sim.physiology.measure_properties`: gratings over orientation, spatial frequency and phase, then
patches of growing size) and scores each property's distribution against the macaque's
(:func:`v1sim.biology.property_score`: a bootstrapped Kolmogorov-Smirnov similarity over the data's bins,
divided by the data's own ceiling). The benchmark's score is the mean of the ceiled property scores, as
Brain-Score's V1 benchmarks average their per-property scores; a property none of the model's units has a
value of counts 0 (``V1Score.score_measured`` is the mean over the measured ones).

:class:`ModelSpec` names a model by strings and numbers only (a zoo name, a run folder, ``"macaque"``, ...),
so that :func:`score_many` can send it to Dask workers, which rebuild the population themselves
(:func:`build_population`); the same spec gives the same score wherever it runs. Both live in
:mod:`v1sim.biology.benchmark_models` and are importable from here.

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
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .._core.validate import check_rng, describe
from ..errors import InputError, InputTypeError
from ..physiology.population import measure_properties
from .benchmark_models import IMAGE_SIZE, NAMED_MODELS, ModelSpec, build_population
from .properties import v1_property
from .similarity import PropertyScore, ceiling, property_score

__all__ = ["NAMED_MODELS", "IMAGE_SIZE", "ModelSpec", "V1Score", "build_population", "score_many", "score_population"]

_ADDRESS = re.compile(r"[\w.\-\[\]]+:\d+")  # host:port (IPv6 in brackets); schemes ("tcp://...") pass as they are


@dataclass(frozen=True)
class V1Score:
    """A unit population's V1 benchmark score (:func:`score_population`).

    Attributes
    ----------
    score : float
        Mean of the ceiled property scores over every requested property, in [0, 1]. A property no
        responsive unit has a value of (e.g. no unit is surround-suppressed, so no surround diameter)
        counts 0: a model that never shows a property shares none of the monkeys' distribution of it
        (leaving it out would rank a model above one that shows it imperfectly).
    score_measured : float
        The mean over the properties that could be measured only, for comparison.
    ceiling : float
        Mean ceiling (the monkey data against itself) over every requested property.
    properties : mapping str -> PropertyScore
        Every requested property. One where no responsive unit has a value has ``n_units == 0`` and NaN
        ``raw``, ``score`` and ``model_median`` (``to_dict`` writes its score as None).
    n_units, n_responsive : int
        Units of the population, and those driven 5 spikes/s above their blank rate.
    values : mapping str -> (n_units,) ndarray of float64
        The model's per-unit values of each property (NaN where undefined), for histograms.
    seconds : float
        Wall time of the measurement and the scoring.
    """

    score: float
    score_measured: float
    ceiling: float
    properties: Mapping
    n_units: int
    n_responsive: int
    values: Mapping
    seconds: float

    def to_dict(self) -> dict:
        """JSON-able: ``score``, ``score_measured``, ``ceiling`` and per property ``score``, ``n_units``,
        ``model_median``, ``monkey_median`` (None for a property no unit could be measured on)."""

        def plain(x):
            return None if x is None or not math.isfinite(x) else float(x)

        props = {
            k: {"score": plain(p.score), "n_units": int(p.n_units), "model_median": plain(p.model_median)}
            | {"monkey_median": plain(p.monkey_median)}
            for k, p in self.properties.items()
        }
        return {
            "score": plain(self.score),
            "score_measured": plain(self.score_measured),
            "ceiling": plain(self.ceiling),
            "properties": props,
        }


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
    scores = {  # a property no unit has (e.g. no defined SF bandwidth) is reported, and counts 0
        k: _unscored(k, r) if np.isnan(measured[k]).all() else property_score(k, measured[k], rng=r)
        for k in measured.names
    }
    kept = [p for p in scores.values() if p.n_units > 0]
    if not kept:
        raise InputError(f"no unit of the population has a value of any of {', '.join(scores)}", argument="population")
    return V1Score(
        score=float(np.mean([p.score if p.n_units > 0 else 0.0 for p in scores.values()])),
        score_measured=float(np.mean([p.score for p in kept])),
        ceiling=float(np.mean([p.ceiling for p in scores.values()])),
        properties=MappingProxyType(scores),
        n_units=measured.n_units,
        n_responsive=measured.n_responsive,
        values=measured.values,
        seconds=time.perf_counter() - start,
    )


def _unscored(name: str, rng) -> PropertyScore:
    nan = float("nan")
    return PropertyScore(name, nan, ceiling(name, rng=rng), nan, 0, nan, v1_property(name).median())


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
