"""Unit populations: any model's units as one interface for the V1 benchmark.

A *unit population* (:class:`UnitPopulation`) takes square grey images and
returns one non-negative, firing-rate-like response per unit. Marques,
Schrimpf & DiCarlo (2021) measure macaque V1 properties on model units in
this way (Brain-Score's V1 benchmarks: stimuli over an 8-degree field of
view, units at the centre of the model's maps); the adapters here make a
population of every kind of model v1sim has:

=============================  ===============================================
:class:`CellPopulation`        v1sim cells (:mod:`v1sim.cells`), each centred
                               on the image; responses are their rates
:class:`ConvNetLayer`          a layer of a v1sim ConvNet (:mod:`v1sim.nn`),
                               its channels at the centre of its maps
                               (:mod:`v1sim.physiology.convnet_units`)
:class:`HierarchyStage`        a stage of a Neocognitron or HMAX
                               (:mod:`v1sim.hierarchy`), its planes at the
                               centre of its maps
``macaque_population``         a VOneNet-style Gabor population sampled from
                               macaque statistics
                               (:mod:`v1sim.physiology.macaque`)
=============================  ===============================================

Images are float arrays (N, image_size, image_size) with background 0.5 and
values in [0, 1]; a single (image_size, image_size) image is promoted to
N = 1. The field of view is ``image_size / ppd`` degrees.

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical
   neural network models that bridge from single neurons in the primate
   primary visual cortex to object recognition behavior. bioRxiv
   2021.03.01.433495 (Brain-Score's V1 property benchmarks).
.. [2] Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020).
   Simulating a primary visual cortex at the front of CNNs improves
   robustness to image perturbations. NeurIPS 33 (VOneNet).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .._core.validate import (
    as_float_array,
    check_positive_float,
    check_positive_int,
    describe,
)
from ..errors import InputError, InputTypeError

__all__ = [
    "BATCH",
    "CellPopulation",
    "HierarchyStage",
    "UnitPopulation",
    "centre_units",
    "check_images",
    "field_of_view",
]

BATCH = 64  # images per forward pass of a network: bounds the memory of its largest map


@runtime_checkable
class UnitPopulation(Protocol):
    """What the V1 benchmark measures: units that answer square grey images with rates.

    Attributes
    ----------
    ppd : float
        Pixels per degree of visual angle of the images the population takes.
    image_size : int
        Side of those square images, pixels (field of view ``image_size / ppd`` degrees).
    n_units : int
        Number of units.

    Methods
    -------
    responses(images) -> (N, n_units) ndarray
        Non-negative responses to float images (N, image_size, image_size)
        with background 0.5 and values in [0, 1].
    """

    ppd: float
    image_size: int
    n_units: int

    def responses(self, images) -> np.ndarray: ...


def field_of_view(image_size, ppd, fov) -> float:
    """Pixels per degree: ``ppd`` if given, else ``image_size / fov`` (``fov`` is checked either way)."""
    fov = check_positive_float(fov, "fov")
    return image_size / fov if ppd is None else check_positive_float(ppd, "ppd")


def check_images(images, image_size: int) -> np.ndarray:
    """``images`` as finite float (N, image_size, image_size); one (image_size, image_size) image becomes N = 1.

    Raises
    ------
    InputError
        Naming ``images`` for another shape, an empty stack or non-finite values.
    """
    x = as_float_array(images, "images", ndim=(2, 3))
    x = x[None] if x.ndim == 2 else x
    if x.shape[1:] != (image_size, image_size):
        raise InputError(
            f"images must be (N, {image_size}, {image_size}) (the population's image_size), got shape {x.shape}",
            argument="images",
        )
    return x


def centre_units(maps: np.ndarray) -> np.ndarray:
    """(N, K, H, W) -> (N, K) at row H // 2, column W // 2 (for an even side, the pixel right of/below centre)."""
    return maps[:, :, maps.shape[2] // 2, maps.shape[3] // 2]


# ------------------------------------------------------------------ v1sim cells


class CellPopulation:
    """v1sim cells as a unit population: each cell sits at the image centre, its rate is the response.

    Parameters
    ----------
    cells : sequence of v1sim.cells.Cell
        Cells with ``center=None`` (they then centre themselves on the image);
        a cell built with ``ppd`` must have this population's ``ppd``.
    ppd : float
        Pixels per degree of the images (> 0). It only labels the pixels for
        cells built without ``ppd`` (their sizes are in pixels).
    image_size : int
        Side of the square images, pixels.

    Notes
    -----
    ``responses`` are the cells' expected firing rates (spikes/s,
    :meth:`v1sim.cells.Cell.response`): non-negative, with the spontaneous
    rate at the grey background. No spikes, no temporal filtering.
    """

    def __init__(self, cells, *, ppd, image_size):
        from ..cells.base import Cell

        self.ppd = check_positive_float(ppd, "ppd")
        self.image_size = check_positive_int(image_size, "image_size")
        if isinstance(cells, Cell) or not hasattr(cells, "__iter__"):
            raise InputTypeError(f"cells must be a sequence of v1sim cells, got {describe(cells)}", argument="cells")
        self.cells = tuple(cells)
        if not self.cells:
            raise InputError("cells must hold at least one cell", argument="cells")
        for i, cell in enumerate(self.cells):
            if not isinstance(cell, Cell):
                raise InputTypeError(f"cells[{i}] must be a v1sim cell, got {type(cell).__name__}", argument="cells")
            if cell.center is not None:
                raise InputError(
                    f"cells[{i}] has center={cell.center}; build it with center=None so it sits at the image centre",
                    argument="cells",
                )
            if cell.ppd is not None and not np.isclose(cell.ppd, self.ppd):
                raise InputError(f"cells[{i}] has ppd={cell.ppd:g}, the population {self.ppd:g}", argument="ppd")
        self.n_units = len(self.cells)

    def __repr__(self) -> str:
        return f"CellPopulation({self.n_units} cells, image_size={self.image_size}, ppd={self.ppd:g})"

    def responses(self, images) -> np.ndarray:
        """Firing rates (N, n_units) float64, spikes/s, to images (N, image_size, image_size)."""
        x = check_images(images, self.image_size)
        return np.stack([np.atleast_1d(cell.response(x)) for cell in self.cells], axis=1)


# ------------------------------------------------------------------ Neocognitron and HMAX


class HierarchyStage:
    """A stage of a v1sim Neocognitron or HMAX as a unit population: its planes at the centre of its maps.

    Parameters
    ----------
    model : v1sim.hierarchy.Neocognitron or v1sim.hierarchy.HMAX
        From :func:`v1sim.hierarchy.make_model` or :func:`v1sim.hierarchy.load_model`.
    stage : str
        One of the model's ``STAGES`` that is built ("US1", "UC1"; "US2" and
        above once learned); "S1", "C1", ... name "US1", "UC1", ...
    ppd : float, optional
        Pixels per degree; default ``image_size / fov``.
    fov : float
        Field of view, degrees (> 0), used when ``ppd`` is None.

    Notes
    -----
    ``image_size`` is the model's ``config.image_size``. The images are fed
    as they are (background 0.5; the models were made for ink = 1 on 0).
    Units are the planes at row ``H // 2``, column ``W // 2`` of the stage's
    (N, K, H, W) maps, which are non-negative (S- and C-cells rectify).
    """

    def __init__(self, model, stage, *, ppd=None, fov=8.0):
        from ..hierarchy.base import Hierarchy

        if not isinstance(model, Hierarchy):
            raise InputTypeError(f"model must be a v1sim Neocognitron or HMAX, got {describe(model)}", argument="model")
        self.model = model
        built = tuple(s for s in model.STAGES[1:] if s in model.layers)
        if isinstance(stage, str) and f"U{stage}" in built:
            stage = f"U{stage}"
        if not isinstance(stage, str) or stage not in built:
            raise InputError(
                f"stage must be a built stage of the {type(model).__name__}, one of {', '.join(built)}; "
                f"got {describe(stage)}",
                argument="stage",
            )
        self.stage = stage
        self.image_size = int(model.config.image_size)
        self.ppd = field_of_view(self.image_size, ppd, fov)
        probe = model.forward(np.full((1, 1, self.image_size, self.image_size), 0.5, np.float32), upto=stage)
        self.n_units = int(probe[stage].shape[1])

    def __repr__(self) -> str:
        return f"HierarchyStage({type(self.model).__name__} {self.stage}, {self.n_units} units, ppd={self.ppd:g})"

    def responses(self, images) -> np.ndarray:
        """Centre units (N, n_units) float32."""
        x = check_images(images, self.image_size)
        return np.maximum(centre_units(self.model.features(x[:, None], self.stage, batch_size=BATCH)), 0)
