"""Virtual electrophysiology: the classic protocols, run on a model cell.

Each protocol takes a cell from :mod:`v1sim.cells` and the image ``shape``
(pixels), builds its stimuli with :mod:`v1sim.stimuli` centred on the cell's
receptive field, and returns a frozen dataclass of arrays (and the metrics of
:mod:`v1sim.tuning` computed from them). Rates are the LN model's expected
firing rates in spikes/s; :func:`record_spikes` (also called :func:`record`)
and the ``n_trials`` options add Poisson or gamma spike trains
(:mod:`v1sim.spikes`).

Units follow the cell: pixels and cycles/pixel, or degrees and cycles/degree
when the cell was built with ``ppd``. Angles in radians (``*_deg`` fields in
degrees), time in seconds, rates in spikes/s.

=============================  ===========================================
protocol                       what it measures
=============================  ===========================================
:func:`center_surround`        spot on the centre, spot on the surround,
                               annulus, full field (the lecture's slides)
:func:`sweep`                  light/dark bars and edges across the field
:func:`orientation_tuning`     drifting gratings or bars over orientation
:func:`spatial_frequency_tuning`  drifting gratings over spatial frequency
:func:`phase_tuning`           stationary gratings over spatial phase
:func:`grating_response`       one drifting grating: F0, F1, F1/F0
:func:`length_tuning`          bars of growing length: end-stopping
:func:`area_summation`         grating patches (default) or spots of growing
                               radius: surround suppression
:func:`reverse_correlation`    white noise: spike-triggered average
=============================  ===========================================

``PROTOCOLS`` maps these names to the functions; :func:`run_protocol` runs one
by name. Each result (:mod:`v1sim.physiology.results`) gives its classic
numbers by ``metrics()`` and its arrays by ``to_dict()``.

Modules
-------
protocols
    The mapping protocols, :func:`record_spikes`, ``PROTOCOLS`` and :func:`run_protocol`.
gratings
    The grating and size protocols.
results
    The frozen result dataclasses.
recording
    ``v1sim record``'s back end: :func:`~v1sim.physiology.recording.write_recording`
    runs a named protocol on a named model cell and draws it to a figure file.
figures
    The figure of ``v1sim record``: the cell's field next to its recordings
    (:func:`~v1sim.physiology.figures.recording_figure`).
units
    Unit populations for the V1 benchmark: the :class:`UnitPopulation` protocol
    and its adapters for cells (:class:`CellPopulation`) and Neocognitron/HMAX
    stages (:class:`HierarchyStage`).
convnet_units
    :class:`ConvNetLayer`: a layer of a v1sim ConvNet as a unit population.
macaque
    :func:`macaque_population`: a VOneNet-style Gabor population sampled from
    macaque V1 statistics (:class:`MacaquePopulation`).
population
    :func:`measure_properties`: in-silico electrophysiology of a whole unit
    population (gratings over orientation, spatial frequency and phase;
    circular patches for size), the 13 V1 properties of Marques et al. (2021).
population_rc
    :func:`population_reverse_correlation`: every unit's response-weighted average of
    streamed noise frames (the STA of a rate model), optionally ridge-whitened.
catalog
    The cells and protocols of ``v1sim record`` by name (numpy-free, for ``--help``).

The names below load their module on first use, so that ``catalog`` imports
without numpy.
"""

from __future__ import annotations

import importlib

#: public name -> the module of this package that defines it (imported on first use)
_EXPORTS = {
    **dict.fromkeys(
        (
            "PROTOCOLS",
            "SWEEP_STIMULI",
            "center_surround",
            "record",
            "record_spikes",
            "reverse_correlation",
            "run_protocol",
            "sweep",
        ),
        "protocols",
    ),
    **dict.fromkeys(
        (
            "area_summation",
            "grating_response",
            "length_tuning",
            "orientation_tuning",
            "phase_tuning",
            "spatial_frequency_tuning",
        ),
        "gratings",
    ),
    **dict.fromkeys(
        (
            "AreaSummation",
            "CenterSurround",
            "FrequencyTuning",
            "GratingResponse",
            "LengthTuning",
            "OrientationTuning",
            "PhaseTuning",
            "Recording",
            "ReverseCorrelation",
            "Sweep",
        ),
        "results",
    ),
    "SPIKE_MODELS": "common",
    **dict.fromkeys(("CellPopulation", "HierarchyStage", "UnitPopulation"), "units"),
    "ConvNetLayer": "convnet_units",
    **dict.fromkeys(("MacaquePopulation", "macaque_population"), "macaque"),
    **dict.fromkeys(("GratingProtocol", "PopulationProperties", "measure_properties"), "population"),
    **dict.fromkeys(("PopulationReverseCorrelation", "population_reverse_correlation"), "population_rc"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
