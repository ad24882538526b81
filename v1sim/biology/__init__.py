"""Macaque V1 reference data shipped with v1sim, and statistics to compare models with it.

Data
----
:func:`ringach2002_f1f0`
    The modulation ratio F1/F0 of 308 macaque V1 neurons (Ringach, Shapley &
    Hawken 2002): simple cells above 1, complex cells below, with a dip
    between them (Skottun et al. 1991).
:func:`ringach2002_nxny`
    The shapes of 79 simple-cell receptive fields (Ringach 2002, J
    Neurophysiol): the Gabor envelope's width ``nx`` and length ``ny`` in
    carrier periods, as a 5 x 5 histogram.
:func:`devalois1982_orientation`
    Preferred orientations of 246 macaque V1 cells in four 45-degree bins
    (De Valois, Yund & Hepler 1982): more cells prefer the cardinal
    orientations (the oblique effect).

V1 benchmark (Marques, Schrimpf & DiCarlo 2021)
-----------------------------------------------
:func:`v1_property`
    The macaque distribution of one of the 13 single-neuron properties in
    :data:`V1_PROPERTIES` (orientation, spatial frequency, size tuning,
    F1/F0), on the bins Brain-Score's V1 benchmarks score on.
:func:`property_score`
    A model's per-unit values against that distribution: a bootstrapped
    Kolmogorov-Smirnov similarity divided by the data's :func:`ceiling`.
:func:`score_population`
    The benchmark: all 13 properties measured on a unit population and
    scored, averaged to one :class:`V1Score`; :func:`score_many` scores
    models named by :class:`ModelSpec` in-process or on a Dask cluster.

Receptive fields
----------------
:func:`fit_gabor`
    Fit Ringach's Gabor to receptive fields or learned filters, giving the
    same ``nx``, ``ny``, orientation and frequency that describe V1 cells.

Statistics
----------
:func:`bimodality_coefficient`
    Sarle's coefficient ``(g^2 + 1) / (kurtosis + 3 (n-1)^2 / ((n-2)(n-3)))``;
    above 5/9 (the value of a uniform distribution) suggests two modes.
:func:`ks_distance`
    Two-sample Kolmogorov-Smirnov distance between model and data.

Modules: ``data`` (the data sets and their provenance), ``gabor_fit``
(:func:`fit_gabor`, :func:`gabor_model`), ``statistics``, ``properties``
(the V1 benchmark's data, :func:`build_shipped`), ``similarity`` (its scores),
``benchmark`` (the whole benchmark and the models it names).

Provenance
----------
``v1sim/data/ringach2002_nxny.npz`` (under 1 KB) holds the 5 x 5 counts and the
log10 bin edges of ``vonenet_ringach2002_nx_ny_joint_hist.csv`` (SHA-256 in
:data:`RINGACH2002_NXNY`): Ringach's (2002) nx/ny joint histogram as
tabulated in VOneNet (GitHub ``dicarlolab/vonenet``, ``vonenet/params.py``,
``n_joint_dist``; Dapello, Marques et al. 2020). The per-cell values were
never published.

``v1sim/data/devalois1982_orientation.npz`` holds the four counts and bin
centres of ``vonenet_devalois1982a_orientation_hist.csv`` (same VOneNet file;
SHA-256 in :data:`DEVALOIS1982`).

``v1sim/data/ringach2002_f1f0.npz`` (about 7 KB, arrays loadable with
``allow_pickle=False``) holds four columns of
``ringach2002_jneurosci_orientation_db.csv`` as distributed in the project's
``shared/data/v1/`` folder (SHA-256 recorded in the file and in
:data:`RINGACH2002`), copied row by row at full precision: ``neuron``
(0-based row index), ``spont`` (spontaneous rate, spikes/s), ``maxdc``
(mean rate F0 at the preferred orientation, spikes/s) and ``maxfirst``
(first-harmonic amplitude F1 there, spikes/s). That CSV is the struct ``db``
of the original MATLAB file ``ringach_2002_db.mat`` from the Ringach lab
website, as kept in GitHub ``neuroailab/TDANN``
(``spacetorch/datasets/ringach_2002_db.mat``, blob
``b6916376298e46ecb449e8ab198cfe4cf1617469``). No license is stated; the
numbers are reproduced here for scientific comparison with attribution.
The package never reads ``shared/`` at run time.

References
----------
.. [1] Ringach DL, Shapley RM, Hawken MJ (2002). Orientation selectivity in
   macaque V1: diversity and laminar dependence. J Neurosci 22:5639-5651.
.. [2] Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB
   (1991). Classifying simple and complex cells on the basis of response
   modulation. Vision Res 31:1079-1086.
.. [3] Mechler F, Ringach DL (2002). On the classification of simple and
   complex cells. Vision Res 42:1017-1033 (bimodality of F1/F0 from a
   rectifying nonlinearity).
.. [4] Sarle WS, as given by SAS Institute (1990); see Pfister R et al. (2013)
   Good things peak in pairs. Front Psychol 4:700 (bimodality coefficient).
.. [5] Ringach DL (2002). Spatial structure and symmetry of simple-cell
   receptive fields in macaque primary visual cortex. J Neurophysiol
   88:455-463.
.. [7] De Valois RL, Yund EW, Hepler N (1982). The orientation and direction
   selectivity of cells in macaque visual cortex. Vision Res 22:531-544.
.. [6] Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020).
   Simulating a primary visual cortex at the front of CNNs improves
   robustness to image perturbations. NeurIPS 33 (VOneNet).
"""

from .benchmark import ModelSpec, V1Score, build_population, score_many, score_population
from .data import (
    DEVALOIS1982,
    RINGACH2002,
    RINGACH2002_NXNY,
    OrientationCounts,
    RingachF1F0,
    RingachNxNy,
    devalois1982_orientation,
    ringach2002_f1f0,
    ringach2002_nxny,
)
from .gabor_fit import GaborFit, fit_gabor, gabor_model
from .properties import (
    MARQUES2020_PROPERTIES,
    RINGACH2002_ORIENTATION,
    V1_PROPERTIES,
    PropertyData,
    build_shipped,
    v1_property,
)
from .similarity import CEILING_METHODS, PropertyScore, ceiling, property_score
from .statistics import bimodality_coefficient, ks_distance

__all__ = [
    "CEILING_METHODS",
    "DEVALOIS1982",
    "MARQUES2020_PROPERTIES",
    "RINGACH2002",
    "RINGACH2002_NXNY",
    "RINGACH2002_ORIENTATION",
    "V1_PROPERTIES",
    "GaborFit",
    "ModelSpec",
    "OrientationCounts",
    "PropertyData",
    "PropertyScore",
    "RingachF1F0",
    "RingachNxNy",
    "V1Score",
    "bimodality_coefficient",
    "build_population",
    "build_shipped",
    "ceiling",
    "devalois1982_orientation",
    "fit_gabor",
    "gabor_model",
    "ks_distance",
    "property_score",
    "ringach2002_f1f0",
    "ringach2002_nxny",
    "score_many",
    "score_population",
    "v1_property",
]
