"""The grating stimuli of Marques et al. (2021), shown to a whole unit population in bounded batches.

A unit population is any object with ``ppd`` (pixels per degree), ``image_size``
(side of its square images, pixels), ``n_units`` and ``responses(images)``
mapping float images (N, image_size, image_size) on a 0.5 background to
non-negative responses (N, n_units) (the ``UnitPopulation`` protocol of
:mod:`v1sim.physiology.units`; duck-typed here). Every stimulus is drawn by
:func:`v1sim.stimuli.grating` (one home for the grating formula), centred on
the image, where the protocol places the units' receptive fields. A population may
also offer ``grating_responses(theta_deg, cpd, phase, radius_deg, contrast, units=None)``,
returning what ``responses(draw_gratings(...))`` would for those per-image vectors;
:func:`show_gratings` then asks it and draws no image (the Gabor population of
:mod:`v1sim.physiology.macaque` projects two quadrature phases per grating instead of eight).

Orientations follow :mod:`v1sim.stimuli`: theta = 0 varies along x (vertical
stripes); degrees here, as Marques et al. and the data tables use.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical neural
   network models that bridge from single neurons in the primate primary visual
   cortex to object recognition behavior. bioRxiv 2021.03.01.433495.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from .. import kernels
from .._core.validate import check_allocation, check_in_range, check_positive_float, check_positive_int, describe
from ..errors import InputError, InputTypeError

__all__ = [
    "GratingProtocol",
    "PopulationGeometry",
    "check_population",
    "checked_responses",
    "grating_phases",
    "record",
    "record_gratings",
    "record_patches",
    "resolve",
    "show_gratings",
]

#: Marques et al.'s spatial frequencies, cycles/degree (0.5 to 11.2 in half-octave steps)
MARQUES_SPATIAL_FREQUENCIES = tuple(round(0.5 * 2 ** (k / 2), 3) for k in range(10))


@dataclass(frozen=True)
class GratingProtocol:
    """The stimulus set: full-field sine gratings, then centred grating patches.

    Parameters
    ----------
    n_orientations : int
        Orientations evenly spaced over [0, 180) degrees, even (the orthogonal
        orientation must be one of them); 12 (0-165 in 15 degree steps) as Marques et al.
    spatial_frequencies : tuple of float, optional
        Cycles/degree, increasing, at least 3. Default: Marques et al.'s
        0.5-11.2 cpd in half-octave steps, less those at or above the image's
        Nyquist limit ``ppd / 2``.
    n_phases : int
        Spatial phases evenly spaced over one cycle (>= 4): the phase mean is
        the F0 of a drifting grating, the first harmonic over phase its F1.
    diameters : tuple of float, optional
        Patch diameters in degrees, increasing, at least 3. Default: the field
        of view ``image_size / ppd`` times 2**(-k/2), k = 12..0 (13 half-octave steps).
    contrast : float in (0, 1]
        Michelson contrast of every grating.
    """

    n_orientations: int = 12
    spatial_frequencies: tuple | None = None
    n_phases: int = 8
    diameters: tuple | None = None
    contrast: float = 1.0

    def __post_init__(self):
        n = check_positive_int(self.n_orientations, "n_orientations")
        if n < 4 or n % 2:
            raise InputError(f"n_orientations must be even and >= 4, got {n}", argument="n_orientations")
        if check_positive_int(self.n_phases, "n_phases") < 4:
            raise InputError(f"n_phases must be >= 4, got {self.n_phases}", argument="n_phases")
        check_in_range(self.contrast, "contrast", 0.0, 1.0, inclusive=(False, True))
        for name in ("spatial_frequencies", "diameters"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _increasing(value, name))


def _increasing(value, name: str) -> tuple:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must be a sequence of numbers, got {describe(value)}", argument=name) from None
    if arr.ndim != 1 or arr.size < 3 or not np.isfinite(arr).all() or arr[0] <= 0 or (np.diff(arr) <= 0).any():
        raise InputError(
            f"{name} must be >= 3 positive, increasing, finite values, got {describe(value)}", argument=name
        )
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class PopulationGeometry:
    """What a population tells about its images: pixels per degree, image side (pixels), unit count."""

    ppd: float
    image_size: int
    n_units: int

    @property
    def field_of_view(self) -> float:
        """Side of the images in degrees of visual angle."""
        return self.image_size / self.ppd


def check_population(population) -> PopulationGeometry:
    """The population's geometry, or an InputError naming ``population`` when it is not a unit population."""
    missing = [a for a in ("ppd", "image_size", "n_units", "responses") if not hasattr(population, a)]
    if missing or not callable(population.responses):
        lacks = ", ".join(missing) if missing else "a callable responses"
        raise InputTypeError(
            "population must be a unit population (ppd, image_size, n_units and responses(images)); "
            f"got {describe(population)}, which lacks {lacks}",
            argument="population",
        )
    ppd = check_positive_float(population.ppd, "population.ppd")
    size = check_positive_int(population.image_size, "population.image_size")
    if size < 8:
        raise InputError(f"population.image_size must be >= 8 pixels, got {size}", argument="population.image_size")
    return PopulationGeometry(ppd, size, check_positive_int(population.n_units, "population.n_units"))


def resolve(protocol, geometry: PopulationGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(orientations in degrees, spatial frequencies in cpd, diameters in degrees) for this population."""
    if protocol is None:
        protocol = GratingProtocol()
    if not isinstance(protocol, GratingProtocol):
        raise InputTypeError(
            f"protocol must be a GratingProtocol or None, got {describe(protocol)}", argument="protocol"
        )
    nyquist = geometry.ppd / 2.0
    if protocol.spatial_frequencies is None:
        sf = np.array([f for f in MARQUES_SPATIAL_FREQUENCIES if f < nyquist])
    else:
        sf = np.asarray(protocol.spatial_frequencies)
        if sf[-1] >= nyquist:
            raise InputError(
                f"protocol.spatial_frequencies must stay below the Nyquist limit ppd / 2 = {nyquist:.4g} cpd of "
                f"population.ppd = {geometry.ppd:.4g}, got up to {sf[-1]:.4g}",
                argument="protocol",
            )
    if sf.size < 3:
        raise InputError(
            f"protocol: fewer than 3 of Marques's spatial frequencies lie below the Nyquist limit {nyquist:.4g} cpd "
            f"at population.ppd = {geometry.ppd:.4g}; pass spatial_frequencies or use a finer population",
            argument="protocol",
        )
    fov = geometry.field_of_view
    diam = fov * 2.0 ** (-np.arange(12, -1, -1) / 2.0) if protocol.diameters is None else np.asarray(protocol.diameters)
    ori = np.arange(protocol.n_orientations) * (180.0 / protocol.n_orientations)
    return ori, sf, diam


def record(population, images: np.ndarray, n_units: int, units=None) -> np.ndarray:
    """``population.responses(images)`` as float64 (N, n_units), checked against the protocol's promise.

    With ``units``, ``population.responses(images, units=units)``, (N, len(units)).
    """
    out = population.responses(images) if units is None else population.responses(images, units=units)
    return checked_responses(out, images.shape[0], n_units if units is None else len(units))


def checked_responses(out, n_images: int, n_units: int) -> np.ndarray:
    """A population's responses ``out`` as float64 (n_images, n_units), or an InputError naming ``population``."""
    try:
        r = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"population.responses must return numbers, got {describe(out)}", argument="population"
        ) from None
    if r.shape != (n_images, n_units):
        raise InputError(
            f"population.responses must return shape (N, n_units) = ({n_images}, {n_units}), got {r.shape}",
            argument="population",
        )
    if not np.isfinite(r).all() or (r < 0).any():
        raise InputError("population.responses must return finite, non-negative responses", argument="population")
    return r


def grating_phases(n_phases: int, offset: float) -> np.ndarray:
    """The protocol's ``n_phases`` evenly spaced grating phases from ``offset`` (radians)."""
    return offset + 2.0 * np.pi * np.arange(n_phases) / n_phases


def draw_gratings(geometry, theta_deg, cpd, phase, radius_deg, contrast) -> np.ndarray:
    """(N, S, S) float32 centred sine gratings from per-image vectors (degrees, cycles/degree, radians, degrees).

    ``radius_deg`` is ``inf`` for a full-field grating, else a circular aperture (``mask="circle"``).
    """
    theta, f, ph, r = np.broadcast_arrays(
        np.radians(np.asarray(theta_deg, np.float64)),
        np.asarray(cpd, np.float64) / geometry.ppd,
        np.asarray(phase, np.float64),
        np.asarray(radius_deg, np.float64) * geometry.ppd,
    )
    s = geometry.image_size
    out = np.empty((theta.size, s, s), np.float32)
    kernels.get("grating_batch", "parallel")(
        *(np.ascontiguousarray(v, np.float64).ravel() for v in (theta, f, ph, r)), float(contrast), 0.5, out
    )
    return out


def show_gratings(population, geometry, theta_deg, cpd, phase, radius_deg, contrast, units=None) -> np.ndarray:
    """Checked responses (N, n_units) to the gratings these per-image vectors describe (see :func:`draw_gratings`).

    A population with a ``grating_responses(theta_deg, cpd, phase, radius_deg, contrast, units=None)`` method
    (e.g. :class:`~v1sim.physiology.MacaquePopulation`, which needs only two quadrature phases per grating) is
    asked through it, and no images are drawn; any other is shown ``draw_gratings``' images. With ``units``
    the result is (N, len(units)).
    """
    fast = getattr(population, "grating_responses", None)
    if callable(fast):
        args = (theta_deg, cpd, phase, radius_deg, contrast)
        out = fast(*args) if units is None else fast(*args, units=units)
        n = np.broadcast(*(np.asarray(v) for v in args[:4])).size
        return checked_responses(out, n, geometry.n_units if units is None else len(units))
    batch = draw_gratings(geometry, theta_deg, cpd, phase, radius_deg, contrast)
    if units is None or _takes_units(population):
        return record(population, batch, geometry.n_units, units=units)
    return record(population, batch, geometry.n_units)[:, units]


def _takes_units(population) -> bool:
    try:
        return "units" in inspect.signature(population.responses).parameters
    except (TypeError, ValueError):
        return False


def record_gratings(population, geometry, ori, sf, protocol, phase_offset) -> tuple[np.ndarray, int]:
    """Full-field gratings: responses (n_units, n_sf, n_ori, n_phases) and the number of images shown.

    One batch per spatial frequency (n_ori * n_phases images), so memory stays at one batch of images; one
    batch for all of them when the population answers through ``grating_responses`` (no image is drawn).
    """
    n_ph = protocol.n_phases
    check_allocation((geometry.n_units, sf.size, ori.size, n_ph), np.float64, "population", copies=3)
    out = np.empty((geometry.n_units, sf.size, ori.size, n_ph))
    phases = grating_phases(n_ph, phase_offset)
    step = sf.size if callable(getattr(population, "grating_responses", None)) else 1
    for i in range(0, sf.size, step):
        f, o, p = np.meshgrid(sf[i : i + step], ori, phases, indexing="ij")
        r = show_gratings(population, geometry, o.ravel(), f.ravel(), p.ravel(), np.inf, protocol.contrast)
        out[:, i : i + step] = r.T.reshape(geometry.n_units, -1, ori.size, n_ph)
    return out, sf.size * ori.size * n_ph


def record_patches(population, geometry, pairs, diam, protocol, phase_offset) -> tuple[np.ndarray, int]:
    """Centred circular grating patches at each unit's own (orientation, cpd).

    ``pairs`` maps (orientation in degrees, cpd) to the indices of the units that prefer it; one batch
    (n_diameters * n_phases images) per pair. Returns responses (n_units, n_diameters, n_phases), NaN for
    units in no pair, and the number of images shown.
    """
    n_ph = protocol.n_phases
    check_allocation((geometry.n_units, diam.size, n_ph), np.float64, "population", copies=2)
    out = np.full((geometry.n_units, diam.size, n_ph), np.nan)
    phases = grating_phases(n_ph, phase_offset)
    for (o, f), units in pairs.items():  # each batch shown only to the units it is for
        d, p = np.meshgrid(diam, phases, indexing="ij")
        r = show_gratings(population, geometry, o, f, p.ravel(), d.ravel() / 2.0, protocol.contrast, np.asarray(units))
        out[units] = r.T.reshape(len(units), diam.size, n_ph)
    return out, len(pairs) * diam.size * n_ph
