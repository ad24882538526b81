"""The retina-to-V1 map: Schwartz's complex-logarithm model, magnification, RF scaling.

Positions in the visual field are complex numbers ``z = x + i y`` in degrees
(``x`` rightwards, ``y`` *upwards*, the fixation point at 0); positions on
the flattened cortex are ``w = u + i v`` in millimetres. Each hemifield
projects to the opposite hemisphere through the monopole map

    ``w = k [log(z + a) - log(a)]``                      (right hemifield, x >= 0)

(Schwartz 1977, 1980), translated so that the fovea sits at ``w = 0``. The
left hemifield uses the mirror image, ``w = -conj(f(-conj(z)))``, so the two
hemispheres are drawn back to back at the foveal representation: the left
hemisphere (right hemifield) at ``u >= 0``, the right hemisphere at
``u <= 0``; the vertical meridian (``x = 0``) belongs to the right hemifield.
``v > 0`` is the upper visual field (in the brain the map is inverted: the
upper field lies on the lower bank of the calcarine sulcus). Neither half of
the map reaches ``u = 0`` except at the fovea: the vertical meridian maps to
the curve ``exp(|u| / k) cos(v / k) = 1``, the border of the cortical sheet.

Far from the fovea (``|z| >> a``) the map is log-polar -- eccentricity to
``u = k log(E / a)``, polar angle to ``v = k phi`` -- so scaling and rotation
about fixation become translations of the cortical image; near the fovea
(``|z| << a``) it is linear with slope ``k / a`` mm/deg.

Units: degrees, millimetres, pixels per degree (``ppd``) for images.

==============================  ==================================================
:func:`visual_to_cortex`        z (deg) -> w (mm)
:func:`cortex_to_visual`        w (mm) -> z (deg); NaN off the cortical sheet
:func:`magnification`           M(E) = k / (E + a) mm/deg (linear)
:func:`local_magnification`     |dw/dz| = k / |z + a| at any position
:func:`cortical_distance`       k log(1 + E / a) mm, the integral of M
:func:`rf_size`                 receptive-field diameter d(E) = d0 + s E, deg
:func:`point_image`             M(E) d(E): the cortex one RF spans, mm
:func:`cortical_extent`         bounding box of an image's cortical image, mm
:func:`to_cortex`               warp an image (centred on fixation) into the cortex
:func:`from_cortex`             and back
==============================  ==================================================

References
----------
.. [1] Schwartz EL (1977). Spatial mapping in the primate sensory projection:
   analytic structure and relevance to perception. Biol Cybern 25:181-194.
.. [2] Schwartz EL (1980). Computational anatomy and functional architecture
   of striate cortex: a spatial mapping approach to perceptual coding.
   Vision Res 20:645-669.
.. [3] Polimeni JR, Balasubramanian M, Schwartz EL (2006). Multi-area
   visuotopic map complexes in macaque striate and extra-striate cortex.
   Vision Res 46:3336-3359 (macaque fits of the monopole/dipole maps).
.. [4] Horton JC, Hoyt WF (1991). The representation of the visual field in
   human striate cortex. Arch Ophthalmol 109:816-824 (human V1:
   M = 17.3 / (E + 0.75) mm/deg).
.. [5] Freeman J, Simoncelli EP (2011). Metamers of the ventral stream.
   Nat Neurosci 14:1195-1201 (receptive-field diameter proportional to
   eccentricity; V2 about twice V1's slope).
.. [6] Hubel DH, Wiesel TN (1974). Uniformity of monkey striate cortex: a
   parallel relationship between field size, scatter, and magnification
   factor. J Comp Neurol 158:295-306 (the point image).

The package: :mod:`.mapping` (the map, its inverse, magnification, RF size)
and :mod:`.warp` (images into and out of the cortex).
"""

from __future__ import annotations

from .mapping import (
    A_MACAQUE,
    K_MACAQUE,
    RF_SIZE0,
    RF_SLOPE,
    cortex_to_visual,
    cortical_distance,
    local_magnification,
    magnification,
    point_image,
    rf_size,
    visual_to_cortex,
)
from .warp import cortical_extent, from_cortex, to_cortex

__all__ = [
    "A_MACAQUE",
    "K_MACAQUE",
    "RF_SIZE0",
    "RF_SLOPE",
    "cortex_to_visual",
    "cortical_distance",
    "cortical_extent",
    "from_cortex",
    "local_magnification",
    "magnification",
    "point_image",
    "rf_size",
    "to_cortex",
    "visual_to_cortex",
]
