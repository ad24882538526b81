"""The cells and protocols of ``v1sim record``, by name: kept free of numpy so ``v1sim --help`` starts fast."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CELLS", "PROTOCOLS", "RecordProtocol", "listing"]

#: cell name -> one-line description (pixel units; the field sits at the centre of the screen)
CELLS = {
    "on-center": "ON-centre ganglion cell: DoG, centre radius 1.5 px, surround 9 px",
    "off-center": "OFF-centre ganglion cell (gets dark bars and spots where there is a choice)",
    "simple": "V1 simple cell: Gabor field, then half-squaring (Jones & Palmer 1987)",
    "complex": "V1 complex cell: energy of a quadrature Gabor pair (Adelson & Bergen 1985)",
    "hypercomplex": "end-stopped: a complex cell minus two end zones (gets short bars, patches)",
}


@dataclass(frozen=True)
class RecordProtocol:
    """A protocol of ``v1sim record``: the :mod:`v1sim.physiology` protocol it runs, and its one-line description."""

    runs: str  # a key of v1sim.physiology.PROTOCOLS
    description: str


#: protocol name -> what it runs and shows
PROTOCOLS = {
    "spot-annulus": RecordProtocol(
        "center_surround", "flashed centre spot, surround spot, annulus, full field: rasters and PSTHs"
    ),
    "sweep": RecordProtocol("sweep", "a bar swept across the field: rate vs position"),
    "orientation": RecordProtocol(
        "orientation_tuning", "drifting gratings, 16 orientations: preferred, bandwidth, CV, F1/F0"
    ),
    "spatial-frequency": RecordProtocol(
        "spatial_frequency_tuning", "drifting gratings over spatial frequency: preferred frequency"
    ),
    "drifting-grating": RecordProtocol(
        "grating_response", "the optimal drifting grating: raster, PSTH, F1/F0 (simple > 1 > complex)"
    ),
    "area": RecordProtocol(
        "area_summation", "spots (ganglion) or grating patches (V1), growing radius: suppression index"
    ),
    "length": RecordProtocol("length_tuning", "bars of growing length: end-stopping index, optimal length"),
    "reverse-correlation": RecordProtocol(
        "reverse_correlation",
        "noise at the field's grain (--frames, 32x32 px): STA vs the true field; complex cells: STC axes",
    ),
}


def listing(items) -> str:
    """``name  description`` lines, indented, for help texts and error messages (descriptions or RecordProtocols)."""
    return "\n".join(f"  {name:<21}{getattr(text, 'description', text)}" for name, text in items.items())
