r"""Hierarchies of S- and C-cells: the Neocognitron and HMAX on v1sim's kernel layer.

The lecture's "sandwich" (S C S C ...): simple cells with modifiable
weights, complex cells that pool. An S-layer *is* a convolution (one
:func:`v1sim.correlate_batch` of the layer below with the planes' weights)
and a C-layer *is* a pooling (one :func:`v1sim.pool2d`), so these models run
on the same kernels as the ConvNet engine.

Equations (n: position, k: cell plane, kappa: input plane, nu: offset in the
connection area, phi[x] = max(x, 0))
----------------------------------------------------------------------------
Contrast extraction, Fukushima (2003)'s layer UG (``SLayer(tuning="linear")``)::

    u_G(n, k) = phi[ (-1)^k sum_nu a_G(nu) u_0(n + nu) ],  k = ON, OFF

with ``a_G`` a balanced difference of Gaussians (:func:`v1sim.filters.dog_kernel`).

S-cell, Fukushima (1980, 1988) in Fukushima's (2003) notation (``tuning="shunting"``)::

    e(n, k) = sum_kappa sum_nu a(nu, kappa, k) u_C(n + nu, kappa)     excitation
    v(n)    = sqrt( sum_kappa sum_nu c(nu) u_C(n + nu, kappa)^2 )      V-cell
    u_S(n, k) = r phi[ (1 + e(n, k)) / (1 + theta b(k) v(n)) - 1 ],   theta = r / (1 + r)
              = r phi[ e - theta b v ] / (1 + theta b v)

``r`` is the selectivity (Fukushima 1980's r_l; ``r = theta / (1 - theta)``
in the 2003 paper), ``c(nu)`` fixed connection weights decreasing from the
centre (:func:`connection_kernel`). The weights are kept as a template
``X_k`` (the patches the plane learned) with ``a = c X / ||X||_c`` and
``b = sqrt(sum a^2 / c) = 1`` (``||X||_c^2 = sum c X^2``; the relation
between ``b`` and ``a`` that Fukushima (2003) keeps during learning), so ``e / (b v)`` is the c-weighted cosine
``s`` between input patch and template and the cell fires iff ``s > theta``.

C-cell (``CLayer``), Fukushima (1988) with uniform ``d(nu)`` (average pooling)::

    u_C(n, k) = psi[ sum_nu d(nu) u_S(n + nu, k) ],   psi[x] = phi[x] / (alpha + phi[x])

or a max (HMAX) or L2 pool; the windows step by ``stride`` (subsampling).

Learning
--------
US1 is fixed (oriented edges: first Gaussian derivatives split into ON and
OFF lobes). US2, US3: unsupervised competitive learning with winner-take-all
in hypercolumns, one seed per plane per image, weight sharing
(``Delta a = q c u_C`` at the seed, Fukushima 1988/2003) and add-if-silent
generation of new planes from the patch where every S-cell is silent
(Fukushima 2003, 2013), at a higher selectivity ``r_learn`` than in
recognition. US4: supervised competitive learning of labelled prototypes
(reinforce the winner if it has the right label and fires, else a new
prototype). Classification by the most similar prototype, by interpolating
vectors (Fukushima 2007: the most similar line segment between two
prototypes of one class) or by a ridge readout on UC3 (for comparison).

HMAX (:class:`HMAX`) is a configuration of the same layers: S1 Gabor bank
(normalised dot product ``|e| / v``), C1 max over position and pairs of
scales, S2 Gaussian RBF around prototypes imprinted from training images
(``||x - X||_c^2 = v^2 - 2 e + b^2``, from the same two correlations),
C2 global max, ridge readout.

Modules
-------
layers (:class:`SLayer`, :class:`CLayer`), connections (:func:`connection_kernel`,
:func:`vcell`), readout (:class:`PrototypeClassifier`, :class:`RidgeReadout`),
base (what both models share), neocognitron, learning (its learning rules),
hmax, training (:func:`train`, :func:`load_model`, :func:`make_model`,
``MODELS``) and catalog (``CLASSIFIERS``: the classifiers each model offers).

References
----------
.. [1] Fukushima K (1980). Neocognitron: a self-organizing neural network model
   for a mechanism of pattern recognition unaffected by shift in position.
   Biological Cybernetics 36(4):193-202.
.. [2] Fukushima K (1988). Neocognitron: a hierarchical neural network capable
   of visual pattern recognition. Neural Networks 1(2):119-130.
.. [3] Fukushima K (2003). Neocognitron for handwritten digit recognition.
   Neurocomputing 51:161-180.
.. [4] Fukushima K (2007). Interpolating vectors for robust pattern
   recognition. Neural Networks 20(8):904-916.
.. [5] Fukushima K (2013). Artificial vision by multi-layered neural networks:
   neocognitron and its advances. Neural Networks 37:103-119.
.. [6] Riesenhuber M, Poggio T (1999). Hierarchical models of object
   recognition in cortex. Nature Neuroscience 2(11):1019-1025.
.. [7] Serre T, Wolf L, Bileschi S, Riesenhuber M, Poggio T (2007). Robust
   object recognition with cortex-like mechanisms. IEEE TPAMI 29(3):411-426.
"""

from .catalog import CLASSIFIERS
from .connections import connection_kernel, vcell
from .hmax import HMAX, HMAXConfig
from .layers import CLayer, SLayer
from .neocognitron import Neocognitron, NeocognitronConfig
from .readout import PrototypeClassifier, RidgeReadout
from .training import MODELS, load_model, make_model, train

__all__ = [
    "CLASSIFIERS",
    "HMAX",
    "MODELS",
    "CLayer",
    "HMAXConfig",
    "Neocognitron",
    "NeocognitronConfig",
    "PrototypeClassifier",
    "RidgeReadout",
    "SLayer",
    "connection_kernel",
    "load_model",
    "make_model",
    "train",
    "vcell",
]
