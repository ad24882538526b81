"""v1sim: the visual system from retina to V1, and on into trainable ConvNets.

The public API is re-exported here lazily (``import v1sim`` stays cheap and
never imports Numba or ``numba.cuda`` until a function is used)::

    import v1sim
    lm = v1sim.filters.leung_malik()              # 48 simple-cell-like filters
    responses = v1sim.apply_bank(image, lm)       # (48, H, W)
    g = v1sim.correlate2d(image, kernel, mode="same")

Sub-packages and modules
------------------------
filters
    Gaussian, DoG (ON/OFF), LoG, Gaussian derivatives, Gabor; LM, Schmid, MR8
    and Gabor banks.
stimuli
    Spots, annuli, bars, edges, gratings, plaids, noise and natural textures.
signal
    ``convolve2d``/``correlate2d`` (scipy.signal semantics), ``apply_bank``
    (images x filter bank, direct or FFT) and batched NCHW correlation.
pooling
    Max, average and L2 (energy) pooling with argmax for backward passes.
cells, spikes, physiology, tuning
    Ganglion, simple, complex and hypercomplex model cells; spike trains;
    virtual experiments (rasters, tuning curves, reverse correlation) and
    their metrics.
retinotopy
    The retina-to-V1 map (Schwartz's log-polar model), magnification, RF size.
biology
    Macaque V1 reference data (Ringach 2002 F1/F0 and RF shapes, De Valois
    1982 orientations) and Gabor fits that put model fields beside them.
efficient_coding
    Receptive fields learned from natural images (ICA of image patches).
hierarchy
    S/C hierarchies: the Neocognitron and HMAX.
nn
    The ConvNet engine: layers, optimisers, model zoo, summaries, training.
datasets, plotting
    MNIST and the embedded digits; figure helpers.
errors
    The error types users catch (``InputError`` naming the argument, ...).
kernels
    The Numba kernel layer (CPU serial/parallel and numba-cuda twins).
backend
    ``device`` resolution: ``"auto" | "cpu" | "parallel" | "cuda"``.
"""

from __future__ import annotations

import importlib
import os

# Before Numba starts its OpenMP pool on the first parallel call, whichever
# submodule is imported first: see "Threads" in v1sim.backend.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ["GOMP_SPINCOUNT"] = "10000"

__version__ = "0.1.0"

# name -> submodule that defines it
_EXPORTS = {
    "convolve2d": "signal",
    "correlate2d": "signal",
    "apply_bank": "signal",
    "correlate_batch": "signal",
    "pool2d": "pooling",
    "FilterBank": "filters",
    "resolve_device": "backend",
    "cuda_available": "backend",
}
_SUBMODULES = {
    "filters",
    "stimuli",
    "signal",
    "pooling",
    "kernels",
    "backend",
    "datasets",
    "plotting",
    "nn",
    "cells",
    "spikes",
    "physiology",
    "tuning",
    "retinotopy",
    "biology",
    "hierarchy",
    "efficient_coding",
    "errors",
}

__all__ = sorted(set(_EXPORTS) | _SUBMODULES | {"__version__"})


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'v1sim' has no attribute {name!r}")


def __dir__():
    return __all__
