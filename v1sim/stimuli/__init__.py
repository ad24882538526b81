"""Visual stimuli for virtual electrophysiology (Hubel & Wiesel style).

Conventions
-----------
Images
    float32 luminance in [0, 1], shape (H, W), on a uniform mean-grey
    ``background`` (0.5 by default). Movies put time first: (T, H, W), frame
    ``k`` shown at ``t = k * dt`` seconds.
Contrast
    One definition for every stimulus: the luminance swings by
    ``contrast * background`` about the background. Gratings, plaids and edges
    span ``background * (1 ± contrast)``, so their Michelson contrast is
    ``contrast``; a "light" spot/annulus/bar is ``background * (1 + contrast)``
    and a "dark" one ``background * (1 - contrast)`` (Weber contrast
    ``±contrast``). A stimulus that would leave [0, 1] raises an InputError
    instead of being clipped (only Gaussian noise is clipped, see
    `white_noise`).
Coordinates
    ``x`` is the column index (rightwards), ``y`` the row index (downwards),
    with the origin at the centre of pixel (0, 0). ``center=(x, y)``;
    ``None`` is the image centre ``((W - 1) / 2, (H - 1) / 2)``. ``shape``
    (int or (H, W)) is always in pixels.
Angles
    Radians, measured from +x towards +y (clockwise on screen when shown with
    ``imshow``'s default ``origin="upper"``), as in ``skimage.filters.gabor``
    and ``v1sim.filters``: the rotated coordinates are
    ``x' = x cos θ + y sin θ`` and ``y' = -x sin θ + y cos θ``. A grating
    with θ = 0 varies along x (vertical stripes); a bar with θ = 0 is vertical
    (long axis along y); an edge with θ = 0 is a vertical boundary.
Units
    Pixels and cycles/pixel by default. With ``ppd`` (pixels per degree)
    every size, position and centre is in degrees of visual angle and every
    spatial frequency in cycles/degree (see `deg_to_px`, `cpd_to_cpp`).
    Temporal frequencies are in Hz, ``dt`` and durations in seconds.
Anti-aliasing
    Edges are area-sampled with a 1-pixel linear ramp (the fraction of each
    pixel on the stimulus side of the edge, exact for straight axis-aligned
    edges), so areas, positions and tuning curves vary smoothly with the
    parameters; square-wave gratings use the same ramp.
Randomness
    ``rng`` may be None, an int seed or a ``numpy.random.Generator``.

The package: :mod:`.units`, :mod:`.shapes` (spot, annulus, bar, edge),
:mod:`.gratings` (grating, drifting, counterphase, plaid), :mod:`.noise`,
:mod:`.images` (natural images, textures, ``present``) and :mod:`.canvas`
(the validation and pixel geometry they share).
"""

from __future__ import annotations

from .gratings import counterphase_grating, drifting_grating, grating, plaid
from .images import natural_image, present, textures
from .noise import white_noise
from .shapes import annulus, bar, edge, spot
from .units import cpd_to_cpp, deg_to_px

__all__ = [
    "annulus",
    "bar",
    "counterphase_grating",
    "cpd_to_cpp",
    "deg_to_px",
    "drifting_grating",
    "edge",
    "grating",
    "natural_image",
    "plaid",
    "present",
    "spot",
    "textures",
    "white_noise",
]
