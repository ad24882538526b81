"""In-silico electrophysiology of a whole unit population: the V1 properties of Marques et al. (2021).

:func:`measure_properties` shows a unit population (the ``UnitPopulation`` protocol of
:mod:`v1sim.physiology.units`: ``ppd``, ``image_size``, ``n_units`` and ``responses(images)``) a blank
image, full-field sine gratings over orientation x spatial frequency x phase, and centred grating patches
of growing diameter at each unit's preferred orientation and spatial frequency, and measures each unit the
way the macaque papers measured their neurons, so that the distributions can be compared with the data.

The pipeline follows Brain-Score's ``marques2020`` benchmarks (Marques et al.'s own code):

1. **Rates.** Model responses are mapped to firing rates by one affine map for the whole population that
   puts the median response to the best grating at 33.8 spikes/s and the median response to the blank at
   0.82 spikes/s (the medians of Ringach et al. 2002), over the units whose best evoked response exceeds
   5/243.1 of the population's largest; rates below 0 are set to 0.
2. **Responsive units.** A unit is kept when its rate to the best full-field grating (phase mean) exceeds
   its blank rate by more than 5 spikes/s (Marques's ``RESPONSE_THRESHOLD``); the others get NaN in every
   property. (Marques's receptive-field-position filter is not applied: the units' fields are taken to be
   centred, where the stimuli are.)
3. **Preferred stimulus.** The (spatial frequency, orientation) of the largest phase-mean rate.
4. **Properties** (:mod:`.population_tuning` for the formulas): orientation from the phase-mean curve at
   the preferred SF (Ringach 2002, De Valois et al. 1982a); ``f1_f0`` is the first harmonic over phase
   divided by the mean, at the preferred grating (Ringach's modulation ratio, Skottun et al. 1991); SF
   bandwidth and selectivity from the phase-mean curve at the preferred orientation (Schiller et al. 1976);
   the peak SF and the size curve from whichever of the evoked mean (F0 - blank) and F1 holds the unit's
   largest response (De Valois et al. 1982b, Cavanaugh et al. 2002), as Marques.

Units: degrees for orientations, bandwidths and sizes (degrees of visual angle), cycles/degree for spatial
frequency, octaves for the SF bandwidth, ratios unitless, binary properties 0/1.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that bridge
   from single neurons in the primate primary visual cortex to object recognition behavior. bioRxiv
   2021.03.01.433495.
.. [2] Ringach DL, Shapley RM, Hawken MJ (2002). J Neurosci 22:5639-5651.
.. [3] Skottun BC et al. (1991). Classifying simple and complex cells on the basis of response modulation.
   Vision Res 31:1079-1086.
.. [4] Cavanaugh JR, Bair W, Movshon JA (2002). J Neurophysiol 88:2530-2546.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .._core.validate import check_rng, describe
from ..errors import InputError, InputTypeError
from .population_stimuli import (
    GratingProtocol,
    check_population,
    grating_phases,
    record,
    record_gratings,
    record_patches,
    resolve,
)
from .population_tuning import orientation_properties, size_properties, spatial_frequency_properties

__all__ = ["PROPERTY_NAMES", "GratingProtocol", "PopulationProperties", "measure_properties"]

#: the property names of Marques et al. (2021), in their order
PROPERTY_NAMES = (
    "preferred_orientation",
    "circular_variance",
    "orientation_bandwidth",
    "orthogonal_preferred_ratio",
    "peak_spatial_frequency",
    "spatial_frequency_bandwidth",
    "spatial_frequency_selective",
    "grating_summation_field",
    "surround_diameter",
    "surround_grating_summation_field_ratio",
    "surround_suppression_index",
    "strongly_suppressed",
    "f1_f0",
)
SIZE_PROPERTIES = frozenset(PROPERTY_NAMES[7:12])

# Brain-Score's firing_rates_affine constants for V1 (spikes/s): the median peak and spontaneous rates of
# Ringach et al. 2002, the largest single-neuron rate, and the responsiveness threshold.
MEDIAN_PEAK_RATE = 33.8
MEDIAN_SPONTANEOUS_RATE = 0.82
MAX_SINGLE_RATE = 243.1
RESPONSE_THRESHOLD = 5.0


@dataclass(frozen=True, eq=False)
class PopulationProperties:
    """What :func:`measure_properties` measured, unit by unit.

    Attributes
    ----------
    values : mapping str -> (n_units,) ndarray of float64
        Each requested property (``result["circular_variance"]`` reads it); NaN for unresponsive units and
        where a unit's curve does not define the property.
    responsive : (n_units,) ndarray of bool
        Units whose best grating drove them more than 5 spikes/s above their blank rate.
    baseline, peak_rate : (n_units,) ndarray of float64
        Rates (spikes/s) to the blank and to the best full-field grating (phase mean).
    rate_scale, rate_offset : float
        The affine map from model responses to rates (``rate = max(scale * response + offset, 0)``);
        NaN when no unit responded at all.
    orientations, spatial_frequencies, phases, diameters : ndarray of float64
        The stimulus parameters: degrees, cycles/degree, radians, degrees of visual angle.
    contrast : float
        Michelson contrast of the gratings.
    n_images : int
        Images shown, the blank included.
    """

    values: Mapping
    responsive: np.ndarray
    baseline: np.ndarray
    peak_rate: np.ndarray
    rate_scale: float
    rate_offset: float
    orientations: np.ndarray
    spatial_frequencies: np.ndarray
    phases: np.ndarray
    diameters: np.ndarray
    contrast: float
    n_images: int

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @property
    def names(self) -> tuple[str, ...]:
        """The measured properties, in Marques's order."""
        return tuple(self.values)

    @property
    def n_units(self) -> int:
        return int(self.responsive.size)

    @property
    def n_responsive(self) -> int:
        return int(self.responsive.sum())

    def to_dict(self) -> dict:
        """Plain arrays and numbers (for ``np.savez`` or JSON): the properties under their names."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "values"}
        return {**out, **self.values}


def check_properties(properties) -> tuple[str, ...]:
    """The requested names in Marques's order (all for None); InputError naming ``properties`` otherwise."""
    if properties is None:
        return PROPERTY_NAMES
    names = [properties] if isinstance(properties, str) else properties
    try:
        names = list(names)
    except TypeError:
        raise InputTypeError(
            f"properties must be a property name or a sequence of them, got {describe(properties)}",
            argument="properties",
        ) from None
    unknown = [n for n in names if not isinstance(n, str) or n not in PROPERTY_NAMES]
    if unknown or not names:
        raise InputError(
            f"properties must name some of {', '.join(PROPERTY_NAMES)}; got {describe(properties)}",
            argument="properties",
        )
    return tuple(n for n in PROPERTY_NAMES if n in names)


def measure_properties(population, *, properties=None, rng=0, protocol=None) -> PopulationProperties:
    """Measure Marques et al.'s (2021) V1 properties of every unit of a population, in silico.

    Parameters
    ----------
    population : UnitPopulation
        Any object with ``ppd`` (float, pixels per degree), ``image_size`` (int, pixels), ``n_units`` (int)
        and ``responses(images)``: float images (N, image_size, image_size) on a 0.5 background, values in
        [0, 1], to finite non-negative responses (N, n_units). Its units' receptive fields are taken to be
        centred in the image. A ``grating_responses`` method, where it has one, answers for the gratings
        without their images being drawn (:func:`~v1sim.physiology.population_stimuli.show_gratings`).
    properties : str or sequence of str, optional
        Names from ``PROPERTY_NAMES`` (default: all). The size patches are shown only when a size property
        (grating_summation_field, surround_diameter, their ratio, surround_suppression_index,
        strongly_suppressed) is asked for.
    rng : None, int or numpy.random.Generator
        Draws the spatial phase of the first grating phase, so no unit sits at a special alignment with
        the phase samples; F0 and F1 over evenly spaced phases do not depend on it for a sinusoidally
        modulated response.
    protocol : GratingProtocol, optional
        The stimulus set (default: Marques's 12 orientations, SFs 0.5-11.2 cpd below the image's Nyquist
        limit, 8 phases, 13 half-octave patch diameters up to the field of view, full contrast).

    Returns
    -------
    PopulationProperties
        Per property an (n_units,) array, NaN for unresponsive units; see the module docstring for the
        rules.

    Raises
    ------
    InputTypeError
        ``population`` lacks the protocol's attributes, or ``properties``/``protocol``/``rng`` are of the
        wrong type.
    InputError
        An unknown property name (``properties``); a population whose responses have the wrong shape, are
        negative or non-finite (``population``); spatial frequencies at or above the Nyquist limit.

    Notes
    -----
    Images: 1 blank + n_sf * n_orientations * n_phases full-field gratings (960 with the defaults at
    >= 22.4 pixels/degree) + n_diameters * n_phases patches per distinct preferred (orientation, SF) among the
    responsive units (104 each by default), one batch per spatial frequency or pair, so memory holds one
    batch of images and the (n_units, n_sf, n_orientations, n_phases) responses.

    References
    ----------
    .. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural network models that
       bridge from single neurons in the primate primary visual cortex to object recognition behavior.
       bioRxiv 2021.03.01.433495.
    """
    geometry = check_population(population)
    names = check_properties(properties)
    phase_offset = check_rng(rng).uniform(0.0, 2.0 * np.pi)
    proto = GratingProtocol() if protocol is None else protocol
    ori, sf, diam = resolve(proto, geometry)
    n = geometry.n_units

    blank_raw = record(population, np.full((1, geometry.image_size, geometry.image_size), 0.5), n)[0]
    raw, n_images = record_gratings(population, geometry, ori, sf, proto, phase_offset)
    scale, offset = rate_map(raw.mean(axis=3).reshape(n, -1).max(axis=1), blank_raw)
    s, o = (scale, offset) if np.isfinite(scale) else (0.0, 0.0)  # nothing responds: all rates 0
    rates = np.maximum(s * raw + o, 0.0)
    blank = np.maximum(s * blank_raw + o, 0.0)

    f0 = rates.mean(axis=3)  # (n, n_sf, n_ori)
    f1 = 2.0 * np.abs(np.fft.rfft(rates, axis=3)[..., 1]) / proto.n_phases
    rows = np.arange(n)
    best = f0.reshape(n, -1).argmax(axis=1)
    p_sf, p_ori = np.unravel_index(best, f0.shape[1:])
    peak = f0[rows, p_sf, p_ori]
    with np.errstate(invalid="ignore"):
        responsive = peak - blank > RESPONSE_THRESHOLD

    values = {
        **orientation_properties(f0[rows, p_sf], ori),
        **_sf_properties(f0, f1, blank, p_ori, sf),
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        values["f1_f0"] = f1[rows, p_sf, p_ori] / peak
    if SIZE_PROPERTIES & set(names):
        pairs: dict = {}
        for u in np.flatnonzero(responsive):
            pairs.setdefault((float(ori[p_ori[u]]), float(sf[p_sf[u]])), []).append(int(u))
        patches, shown = record_patches(population, geometry, pairs, diam, proto, phase_offset)
        n_images += shown
        kept = np.flatnonzero(responsive)
        patches = np.maximum(s * patches[kept] + o, 0.0)
        evoked = patches.mean(axis=2) - blank[kept, None]
        mod = 2.0 * np.abs(np.fft.rfft(patches, axis=2)[..., 1]) / proto.n_phases
        for k, v in size_properties(_best_component(evoked, mod), diam).items():
            values[k] = np.full(n, np.nan)
            values[k][kept] = v

    out = {k: np.where(responsive, values[k], np.nan) for k in names}
    for v in out.values():
        v.flags.writeable = False
    return PopulationProperties(
        values=MappingProxyType(out),
        responsive=responsive,
        baseline=blank,
        peak_rate=peak,
        rate_scale=scale,
        rate_offset=offset,
        orientations=ori,
        spatial_frequencies=sf,
        phases=grating_phases(proto.n_phases, phase_offset),
        diameters=diam,
        contrast=float(proto.contrast),
        n_images=n_images + 1,
    )


def rate_map(best_raw, blank_raw) -> tuple[float, float]:
    """Brain-Score's firing_rates_affine: (scale, offset) putting the medians at macaque V1's rates."""
    evoked = best_raw - blank_raw
    top = evoked.max()
    pre = evoked > max(top, 0.0) * (RESPONSE_THRESHOLD / MAX_SINGLE_RATE)
    if top <= 0 or not pre.any():
        return float("nan"), float("nan")  # nothing responds: every unit is unresponsive
    # each pre-selected unit's best exceeds its blank, so the medians' difference is positive
    scale = (MEDIAN_PEAK_RATE - MEDIAN_SPONTANEOUS_RATE) / (np.median(best_raw[pre]) - np.median(blank_raw[pre]))
    return float(scale), float(MEDIAN_SPONTANEOUS_RATE - scale * np.median(blank_raw[pre]))


def _best_component(evoked, modulation):
    """Per unit, the curve (evoked mean or F1, along the last axis) that holds its largest value (Marques)."""
    use_f1 = modulation.max(axis=-1) > evoked.max(axis=-1)
    return np.where(use_f1[..., None], modulation, evoked)


def _sf_properties(f0, f1, blank, p_ori, sf) -> dict:
    """Schiller's bandwidth and selectivity (phase-mean curve at the preferred orientation) and De Valois's
    peak SF (the evoked-mean or F1 curve, whichever holds the unit's largest response, at its best orientation)."""
    n, rows = f0.shape[0], np.arange(f0.shape[0])
    schiller = spatial_frequency_properties(f0[rows, :, p_ori], sf)
    evoked = f0 - blank[:, None, None]
    comp = _best_component(evoked.reshape(n, -1), f1.reshape(n, -1))
    ori_dv = comp.argmax(axis=1) % f0.shape[2]
    curves = comp.reshape(f0.shape)[rows, :, ori_dv]
    devalois = spatial_frequency_properties(curves, sf)
    return {**schiller, "peak_spatial_frequency": devalois["peak_spatial_frequency"]}
