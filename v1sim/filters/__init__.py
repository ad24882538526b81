"""Linear filters that play simple cells, and the classic texture filter banks.

Kernels are float32 by default (``dtype=np.float64`` is accepted), square and of
odd size, with the origin at the centre ``size // 2``. Units: sizes and sigmas in
pixels, spatial frequency in cycles/pixel, angles in radians.

Orientation (as :mod:`v1sim.stimuli`): ``x`` is the column offset (right) and
``y`` the row offset (down, array order) from the kernel centre; the rotated
axis is ``x' = x cos(theta) + y sin(theta)``. At ``theta = 0`` the carrier or
derivative varies along ``x`` (a detector of vertical lines and edges);
increasing ``theta`` turns ``x'`` towards +y, i.e. clockwise on screen as
``imshow`` draws the kernel; ``theta = pi/2`` gives the transposed kernel.
Kernel size never depends on ``theta``: the half-width is
``ceil(n_stds * max(sigma_x, sigma_y))`` unless ``size`` is given.

Filter banks (:class:`FilterBank`) cross-correlate, as ConvNets do: output
``(H, W)`` per filter, ``W2 = (W1 - F + 2P)/S + 1`` with ``P = (F - 1)/2``,
``S = 1``.

The package:

========================  =====================================================
:mod:`.formulas`          the one home of the Gaussian, DoG, LoG, Gaussian
                          derivative, Gabor and Schmid formulas (also sampled
                          by :mod:`v1sim.cells`), and Gabor bandwidth -> sigma
:mod:`.support`           kernel sizes: odd ``size``, half-widths bounded by memory
:mod:`.kernels`           single kernels: Gaussian, DoG, LoG, Gaussian derivative, Gabor
:mod:`.basic`             the lecture's kernels: box, identity, shift, sharpen, edge
:mod:`.banks`             :class:`FilterBank`, the Gabor and DoG banks
:mod:`.texture`           the Leung-Malik, Schmid and MR8 texture banks
========================  =====================================================

References
----------
.. [1] Leung T, Malik J (2001). Representing and recognizing the visual appearance
   of materials using three-dimensional textons. IJCV 43(1):29-44.
.. [2] Schmid C (2001). Constructing models for content-based image retrieval.
   CVPR 2:39-45.
.. [3] Varma M, Zisserman A (2005). A statistical approach to texture
   classification from single images. IJCV 62(1-2):61-81.
.. [4] Oxford VGG filter banks, http://www.robots.ox.ac.uk/~vgg/research/texclass/filters.html
"""

from __future__ import annotations

from .banks import FilterBank, dog_bank, gabor_bank
from .basic import box_kernel, edge_kernel, identity_kernel, sharpen_kernel, shift_kernel
from .kernels import dog_kernel, gabor_kernel, gaussian_derivative_kernel, gaussian_kernel, log_kernel
from .texture import leung_malik, mr8, mr8_responses, schmid

__all__ = [
    "FilterBank",
    "box_kernel",
    "dog_bank",
    "dog_kernel",
    "edge_kernel",
    "gabor_bank",
    "gabor_kernel",
    "gaussian_derivative_kernel",
    "gaussian_kernel",
    "identity_kernel",
    "leung_malik",
    "log_kernel",
    "mr8",
    "mr8_responses",
    "schmid",
    "sharpen_kernel",
    "shift_kernel",
]
