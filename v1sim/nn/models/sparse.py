"""A sparse convolutional autoencoder of natural images: a ConvNet first layer that learns V1-like filters.

References
----------
.. [1] B. A. Olshausen, D. J. Field, "Emergence of simple-cell receptive
   field properties by learning a sparse code for natural images", Nature
   381 (1996) 607-609.
.. [2] K. Kavukcuoglu, P. Sermanet, Y.-L. Boureau, K. Gregor, M. Mathieu,
   Y. LeCun, "Learning convolutional feature hierarchies for visual
   recognition", NIPS 2010.
.. [3] K. Gregor, Y. LeCun, "Learning fast approximations of sparse coding", ICML 2010.
"""

from __future__ import annotations

from collections import OrderedDict

from ..._core.validate import check_positive_int, check_rng
from ..activation import ReLU
from ..container import Sequential
from ..sparse import L1Penalty, TiedConvTranspose2d, UnitNormConv2d

__all__ = ["sparse_conv"]


def sparse_conv(filters=64, kernel_size=12, sparsity=0.2, in_channels=1, *, rng=None, device="auto") -> Sequential:
    """Sparse convolutional autoencoder [1]_ [2]_: conv1 (unit-norm filters), ReLU, L1 penalty, tied transpose.

    ``conv1`` computes non-negative codes ``a = ReLU(u * x + b)`` with
    ``filters`` unit-norm ``kernel_size`` filters ``u`` (one ISTA step of
    non-negative sparse coding [3]_), ``sparsity`` weighs the L1 cost of the
    codes, and ``decoder`` paints each code's filter back
    (:class:`~v1sim.nn.sparse.TiedConvTranspose2d`): the filters are both
    the receptive fields and the dictionary. Trained with
    :class:`v1sim.nn.ReconstructionLoss` on whitened natural-image patches
    (``v1sim train sparse_conv``), conv1 becomes localised, oriented and
    band-pass: Gabor-like. On a patch of the kernel's size the code map is
    1 x 1 (Olshausen & Field's patch model); on larger images it is
    convolutional sparse coding [2]_.

    Shapes: (C, H, W) -> codes (filters, H - k + 1, W - k + 1) -> (C, H, W).
    """
    rng = check_rng(rng)
    filters = check_positive_int(filters, "filters")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    conv1 = UnitNormConv2d(in_channels, filters, kernel_size, device=device, rng=rng)
    return Sequential(
        OrderedDict(conv1=conv1, relu1=ReLU(), sparsity=L1Penalty(sparsity), decoder=TiedConvTranspose2d(conv1))
    )
