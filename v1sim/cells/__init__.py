"""Model neurons from retina to V1: ganglion, simple, complex and hypercomplex cells.

Every cell is linear-nonlinear (LN). A stimulus (luminance in [0, 1]) is first
turned into Weber contrast ``C = (L - background) / background`` (the cell is
adapted to the mean grey ``background``; the screen beyond the image is at
``background``, i.e. contrast 0). Linear subunits -- receptive fields
sampled on the image grid -- give raw drives ``sum_xy k_i(x, y) C(x, y)``;
a cell-specific combination of them (identity, energy, max, rectified sum,
centre minus end zones) gives one scalar drive per frame, divided by the
cell's *unit drive*: the combination's response to its optimal full-contrast
sine grating (preferred orientation, spatial frequency and phase). A static
nonlinearity (:class:`Nonlinearity`) maps drive to a firing rate in spikes/s,
so the optimal grating drives a cell at ``peak`` spikes/s.

Cells (single neurons, any receptive-field centre, sub-pixel allowed):

========================  =====================================================
:class:`GanglionCell`     ON/OFF centre-surround DoG (retina / LGN)
:class:`SimpleCell`       Gabor receptive field (Jones & Palmer 1987)
:class:`HubelWieselCell`  a row of centre-surround units summed: line and edge
                          detectors built as in Hubel & Wiesel (1962)
:class:`ComplexCell`      energy model: quadrature pair (Adelson & Bergen 1985)
:class:`MaxComplexCell`   max over positions of simple cells (Neocognitron C-cell)
:class:`HypercomplexCell` complex cell minus displaced end-zone complex cells
========================  =====================================================

Populations over whole images (maps computed through the kernel layer,
:func:`v1sim.signal.apply_bank` and :func:`v1sim.pooling.pool2d`):
:func:`ganglion_cells`, :func:`simple_cells`, :func:`complex_cells`,
:func:`hypercomplex_cells`.

The package: :mod:`.base` (:class:`Nonlinearity`, the LN cell base
:class:`~v1sim.cells.base.Cell`), :mod:`.retina` (:class:`GanglionCell`),
:mod:`.v1` (the Gabor-based V1 cells), :mod:`.hubel_wiesel`
(:class:`HubelWieselCell`), :mod:`.populations` (the maps).

Conventions
-----------
Positions and sizes in pixels, or in degrees when the cell is given ``ppd``
(pixels per degree); spatial frequency in cycles/pixel (cycles/degree with
``ppd``); angles in radians with the house convention (``theta = 0``: the
carrier varies along x, i.e. the cell prefers vertical bars and gratings;
``theta`` turns clockwise on screen). ``center=None`` is the image centre
``((W - 1) / 2, (H - 1) / 2)``, as in :mod:`v1sim.stimuli`. A cell's kernels
equal :func:`v1sim.filters.gabor_kernel` / :func:`v1sim.filters.dog_kernel`
(default sizes) when the centre falls on a pixel.

Single cells compute their drives as one matrix product (BLAS) of the
cropped contrast frames with the stacked subunit kernels: a single neuron is a
handful of dot products, not a convolution.

References
----------
.. [1] Croner LJ, Kaplan E (1995). Receptive fields of P and M ganglion cells
   across the primate retina. Vision Res 35:7-24.
.. [2] Hubel DH, Wiesel TN (1962). Receptive fields, binocular interaction and
   functional architecture in the cat's visual cortex. J Physiol 160:106-154.
.. [3] Jones JP, Palmer LA (1987). J Neurophysiol 58:1233-1258.
.. [4] Adelson EH, Bergen JR (1985). Spatiotemporal energy models for the
   perception of motion. JOSA A 2:284-299.
.. [5] Fukushima K (1980). Neocognitron. Biol Cybern 36:193-202.
.. [6] Heeger DJ (1992). Half-squaring in responses of cat striate cells.
   Visual Neurosci 9:427-443.
"""

from __future__ import annotations

from .base import Nonlinearity
from .hubel_wiesel import HubelWieselCell
from .populations import complex_cells, ganglion_cells, hypercomplex_cells, simple_cells
from .retina import SURROUND_RATIO, SURROUND_WEIGHT, GanglionCell
from .v1 import ComplexCell, HypercomplexCell, MaxComplexCell, SimpleCell

__all__ = [
    "ComplexCell",
    "GanglionCell",
    "HubelWieselCell",
    "HypercomplexCell",
    "MaxComplexCell",
    "Nonlinearity",
    "SimpleCell",
    "SURROUND_RATIO",
    "SURROUND_WEIGHT",
    "complex_cells",
    "ganglion_cells",
    "hypercomplex_cells",
    "simple_cells",
]
