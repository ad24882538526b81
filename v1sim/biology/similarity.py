"""How close a model's V1 property distribution is to the macaque's: Brain-Score's KS similarity and its ceiling.

For one property, the model's per-unit values are binned on the data's own edges and compared with the
monkeys' histogram by a normalised Kolmogorov-Smirnov similarity, bootstrapped at the data's number of
cells; the ceiling is the same similarity of the monkey data with itself, and the score is their ratio
(Marques, Schrimpf & DiCarlo 2021).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._core.validate import as_float_array, check_choice, check_rng
from ..errors import InputError, NonFiniteError
from .properties import V1_PROPERTIES, PropertyData, bin_index, v1_property

__all__ = ["CEILING_METHODS", "PropertyScore", "ceiling", "property_score"]

N_BOOTSTRAP = 1000  # resamples per estimate, as Brain-Score; the mean moves by < 0.005 between seeds
CEILING_METHODS = ("bootstrap", "split-half")


@dataclass(frozen=True)
class PropertyScore:
    """A model's similarity to macaque V1 on one property.

    Attributes
    ----------
    name : str
        The property (one of :data:`~v1sim.biology.V1_PROPERTIES`).
    raw : float
        Mean KS similarity of the model's distribution to the monkeys', in [0, 1].
    ceiling : float
        The same similarity of the monkey data with itself (:func:`ceiling`).
    score : float
        ``raw / ceiling`` clipped to [0, 1]: 1 is as close as the monkeys' own sampling allows.
    n_units : int
        Model units that had a value (NaN values, units where the property is undefined, are left out).
    model_median, monkey_median : float
        Medians of the model's values and of the monkey cells, in the property's unit.
    """

    name: str
    raw: float
    ceiling: float
    score: float
    n_units: int
    model_median: float
    monkey_median: float


def _ks_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """1 - KS / KS_max of each row of ``p`` (fractions per bin) against ``q``, the data's fractions.

    KS is the largest gap between the cumulative histograms; KS_max is the largest gap any distribution
    could have from ``q`` on these bins (all mass in the first or in the last bin), ``max(1 - q[0], 1 - q[-1])``,
    so 0 is the worst similarity these bins allow, whatever the data's shape (Brain-Score's ``ks_similarity``).
    """
    gap = np.abs(np.cumsum(p, axis=-1) - np.cumsum(q))[..., :-1]  # the last cumulative value is 1 for both
    ks_max = max(1.0 - q[0], 1.0 - q[-1])
    return 1.0 - gap.max(axis=-1, initial=0.0) / ks_max


def _bootstrap_similarity(p: np.ndarray, data: PropertyData, rng: np.random.Generator) -> float:
    """Mean similarity to the data of ``N_BOOTSTRAP`` samples of ``data.n`` cells drawn from the fractions ``p``.

    Resampling n values with replacement and binning them is a multinomial draw of the bin fractions.
    """
    q = data.counts / data.n
    samples = rng.multinomial(data.n, p / p.sum(), size=N_BOOTSTRAP) / data.n
    return float(np.mean(_ks_similarity(samples, q)))


def _split_half_similarity(data: PropertyData, rng: np.random.Generator) -> float:
    """Mean similarity of one random half of the monkey cells to the other half, ``N_BOOTSTRAP`` splits."""
    k, half = data.counts.size, data.n // 2
    cells = np.repeat(np.arange(k), data.counts)
    shuffled = rng.permuted(np.broadcast_to(cells, (N_BOOTSTRAP, cells.size)), axis=1)
    rows = np.arange(N_BOOTSTRAP)[:, None] * k

    def fractions(part: np.ndarray) -> np.ndarray:
        return np.bincount((rows + part).ravel(), minlength=N_BOOTSTRAP * k).reshape(N_BOOTSTRAP, k) / half

    a, b = fractions(shuffled[:, :half]), fractions(shuffled[:, half : 2 * half])
    gap = np.abs(np.cumsum(a, axis=1) - np.cumsum(b, axis=1))[:, :-1].max(axis=1, initial=0.0)
    ks_max = np.maximum(1.0 - b[:, 0], 1.0 - b[:, -1])  # b plays the data
    return float(np.mean(1.0 - gap / ks_max))


def _ceiling_of(data: PropertyData, rng: np.random.Generator, method: str) -> float:
    if method == "split-half":
        return _split_half_similarity(data, rng)
    return _bootstrap_similarity(data.counts / data.n, data, rng)


@lru_cache(maxsize=64)
def _seeded_ceiling(name: str, seed: int, method: str) -> float:
    return _ceiling_of(v1_property(name), np.random.default_rng(seed), method)


def _seed_or_generator(rng) -> tuple[int | None, np.random.Generator]:
    """The integer seed (for the cached ceiling) when ``rng`` is one, and the generator it gives."""
    gen = check_rng(rng)
    seed = int(rng) if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) else None
    return seed, gen


def ceiling(name, *, rng=0, method="bootstrap") -> float:
    """How similar the monkey data is to itself on property ``name``: the best score a model can expect.

    Parameters
    ----------
    name : str
        One of :data:`~v1sim.biology.V1_PROPERTIES`.
    rng : None, int or numpy.random.Generator
        Seed of the resampling; an integer seed gives the same ceiling every call (it is cached).
    method : {"bootstrap", "split-half"}
        ``"bootstrap"`` (Brain-Score's ``NeuronalPropertyCeiling``): samples of n cells drawn with replacement
        from the monkeys' histogram, each compared with that histogram. ``"split-half"``: the cells (drawn
        from the histogram, one per count) shuffled and halved, one half compared with the other.

    Returns
    -------
    float
        Mean similarity over 1000 resamples, in (0, 1].

    Notes
    -----
    The two differ by the sampling noise they include: KS between two samples of sizes m and n scales as
    ``sqrt(1/m + 1/n)``, so a bootstrap sample of n against the data (noise ~ ``sqrt(1/n)``) is closer than
    a model with the monkeys' true distribution sampled at n (``sqrt(2/n)``), which is closer than two
    halves (``sqrt(4/n)``). The bootstrap ceiling is the one the published scores used and matches
    :func:`property_score`'s own resampling, so a model whose units follow the monkey histogram scores 1;
    the split-half ceiling is lower and forgives more (scores above it are clipped to 1).

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that
       bridge from single neurons in the primate primary visual cortex to object recognition behavior.
       bioRxiv 10.1101/2021.03.01.433495.
    .. [2] Schrimpf M et al. (2018). Brain-Score: which artificial neural network for object recognition is
       most brain-like? bioRxiv 10.1101/407007.
    """
    name = check_choice(name, "name", V1_PROPERTIES)
    method = check_choice(method, "method", CEILING_METHODS)
    seed, gen = _seed_or_generator(rng)
    if seed is not None:
        return _seeded_ceiling(name, seed, method)
    return _ceiling_of(v1_property(name), gen, method)


def property_score(name, model_values, *, rng=0, method="bootstrap") -> PropertyScore:
    """Score a model population on one V1 property against macaque V1, as Brain-Score's V1 benchmarks do.

    The model's values are binned on the monkey data's edges (values beyond them count in the outermost
    bins; orientations are wrapped with period 180 deg), ``data.n`` values are resampled with replacement
    1000 times, and each resample's histogram is compared with the monkeys' by the KS similarity
    ``1 - KS / KS_max`` (KS the largest gap between the cumulative histograms, KS_max the largest any
    distribution could have from the data on these bins). ``raw`` is the mean, and ``score = raw / ceiling``.

    Parameters
    ----------
    name : str
        One of :data:`~v1sim.biology.V1_PROPERTIES`.
    model_values : (n,) array_like of float
        The property of each model unit, in the unit of :func:`~v1sim.biology.v1_property` (degrees,
        cycles/degree, octaves, 0/1). NaN marks a unit where the property is undefined (not responsive, not
        tuned) and is left out; infinities are refused.
    rng : None, int or numpy.random.Generator
        Seed of the resampling (model and ceiling); an integer gives the same score every call.
    method : {"bootstrap", "split-half"}
        How the ceiling is estimated (see :func:`ceiling`).

    Returns
    -------
    PropertyScore

    Raises
    ------
    InputError
        When ``model_values`` is empty or all NaN (a model with no responsive unit has no distribution to
        score), names an unknown property, or holds infinities (:class:`~v1sim.errors.NonFiniteError`).

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). bioRxiv 10.1101/2021.03.01.433495.
    """
    name = check_choice(name, "name", V1_PROPERTIES)
    method = check_choice(method, "method", CEILING_METHODS)
    v = as_float_array(model_values, "model_values", ndim=1, allow_nonfinite=True, allow_empty=True, dtype=np.float64)
    if np.isinf(v).any():
        raise NonFiniteError(
            f"model_values must be finite or NaN (NaN for units without a {name}), got {int(np.isinf(v).sum())} "
            "infinite value(s)",
            argument="model_values",
        )
    v = v[~np.isnan(v)]
    if v.size == 0:
        raise InputError(
            f"model_values holds no {name} value (empty or all NaN): the model has no unit where this property "
            "could be measured, e.g. no unit responded above its baseline; there is no distribution to score",
            argument="model_values",
        )
    data = v1_property(name)
    seed, gen = _seed_or_generator(rng)
    v = data.wrap(v)
    p = np.bincount(bin_index(v, data.bins), minlength=data.counts.size).astype(np.float64)
    raw = _bootstrap_similarity(p, data, gen)
    ceil = _seeded_ceiling(name, seed, method) if seed is not None else _ceiling_of(data, gen, method)
    return PropertyScore(
        name=name,
        raw=raw,
        ceiling=ceil,
        score=float(np.clip(raw / ceil, 0.0, 1.0)),
        n_units=int(v.size),
        model_median=float(np.median(v)),
        monkey_median=data.median(),
    )
