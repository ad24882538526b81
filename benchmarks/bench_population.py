"""Benchmark: orientation and phase tuning of 10,000 model V1 cells, v1sim against plain scipy.ndimage.

Run from the repository root::

    python benchmarks/bench_population.py            # the full case (one to two minutes on 2 cores)
    python benchmarks/bench_population.py --quick    # peer timed on 1/8 of the stimuli and scaled

The experiment: 10,000 cells (half simple, half complex), each at a random
position of a 64x64 px patch of visual field, preferring one of 12
orientations of a 0.15 cycles/px Gabor (1 octave) and, for simple cells, a
random spatial phase. The stimuli are full-field sine gratings at the
preferred frequency, 36 orientations x 8 spatial phases (288 images). Each
cell's rate to each grating gives its orientation tuning (mean over phase)
and phase tuning (at its best orientation): preferred orientation, circular
variance, and phase modulation (F1/F0 over the 8 phases).

v1sim
    The population-map route: the 288 gratings (Weber contrast) go through a
    quadrature Gabor bank (24 filters: 12 orientations x even/odd) as one
    batch with :func:`v1sim.signal.apply_bank` (FFT with the bank's spectra
    cached, or direct, as ``method="auto"`` picks); each cell then reads its
    pair's responses at its position: simple cells ``e cos(phi) + o sin(phi)``
    (any phase from a quadrature pair), complex cells ``sqrt(e^2 + o^2)``,
    then the half-squaring nonlinearity.
peer
    The same computation written plainly: ``scipy.ndimage.correlate`` per
    stimulus and per filter (6,912 calls, same float32 data and boundary),
    then the same read-out.

Both produce identical rates (checked before timing); the tuning metrics are
computed by the same numpy code and are not timed. Medians of repeated runs,
speed-up = peer time / v1sim time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import scipy.ndimage as ndi  # noqa: E402
from _common import machine_report, median_time, report  # noqa: E402

from v1sim import filters, stimuli  # noqa: E402
from v1sim.cells import Nonlinearity  # noqa: E402
from v1sim.signal import apply_bank  # noqa: E402

SIZE = 64  # px
FREQ = 0.15  # cycles/px
N_BANK_ORIENT = 12
N_ORIENT, N_PHASE = 36, 8
N_CELLS = 10_000


def make_population(rng):
    """Cell table: kind (0 simple, 1 complex), pair index, phase, y, x."""
    kind = np.repeat([0, 1], N_CELLS // 2)
    pair = rng.integers(0, N_BANK_ORIENT, N_CELLS)
    phase = rng.uniform(0, 2 * np.pi, N_CELLS)
    y, x = rng.integers(0, SIZE, N_CELLS), rng.integers(0, SIZE, N_CELLS)
    return kind, pair, phase, y, x


def make_gratings():
    thetas = np.arange(N_ORIENT) * np.pi / N_ORIENT
    phases = np.arange(N_PHASE) * 2 * np.pi / N_PHASE
    imgs = [stimuli.grating(SIZE, FREQ, theta=t, phase=p) for t in thetas for p in phases]
    contrast = (np.stack(imgs).astype(np.float32) - 0.5) / 0.5
    return contrast, thetas, phases


def read_out(maps, cells, units, nl):
    """maps (S, 2M, H, W) -> rates (N_CELLS, S), spikes/s."""
    kind, pair, phase, y, x = cells
    e = maps[:, 2 * pair, y, x] / units[pair]  # (S, N)
    o = maps[:, 2 * pair + 1, y, x] / units[pair]
    drive = np.where(kind == 0, e * np.cos(phase) - o * np.sin(phase), np.sqrt(e * e + o * o))
    return nl(drive).T


def v1sim_rates(contrast, bank, cells, units, nl):
    return read_out(apply_bank(contrast, bank, mode="constant"), cells, units, nl)


def scipy_rates(contrast, kernels, cells, units, nl):
    s, k = contrast.shape[0], kernels.shape[0]
    maps = np.empty((s, k) + contrast.shape[1:], np.float32)
    for i in range(s):
        for j in range(k):
            ndi.correlate(contrast[i], kernels[j], output=maps[i, j], mode="constant", cval=0.0)
    return read_out(maps, cells, units, nl)


def tuning_metrics(rates, thetas):
    """Preferred orientation (rad), circular variance and phase F1/F0 per cell (not timed)."""
    r = rates.reshape(rates.shape[0], N_ORIENT, N_PHASE)
    curve = r.mean(axis=2)
    vec = (curve * np.exp(2j * thetas)).sum(axis=1)
    preferred = (np.angle(vec) / 2) % np.pi
    cv = 1 - np.abs(vec) / curve.sum(axis=1)
    best = r[np.arange(r.shape[0]), curve.argmax(axis=1)]  # (N, phases)
    f1 = 2 * np.abs(np.fft.rfft(best, axis=1)[:, 1]) / N_PHASE
    return preferred, cv, f1 / best.mean(axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat each")
    args = parser.parse_args(argv)
    print(machine_report())
    rng = np.random.default_rng(0)
    cells = make_population(rng)
    contrast, thetas, _ = make_gratings()
    bank = filters.gabor_bank(FREQ, N_BANK_ORIENT, (0.0, np.pi / 2))
    kernels = bank.kernels.astype(np.float32)
    spec = np.abs(np.fft.fft2(kernels[0::2].astype(np.float64) + 1j * kernels[1::2], s=(256, 256)))
    units = (spec.reshape(N_BANK_ORIENT, -1).max(axis=1) / 2).astype(np.float32)  # optimal grating's pair amplitude
    nl = Nonlinearity(exponent=2.0)

    ours = v1sim_rates(contrast, bank, cells, units, nl)  # warm-up: compile, bank spectra
    part = slice(None, None, 8) if args.quick else slice(None)  # --quick: the peer on every 8th grating
    start = time.perf_counter()
    theirs = scipy_rates(contrast[part], kernels, cells, units, nl)
    t_once = (time.perf_counter() - start) * (contrast.shape[0] / theirs.shape[1])
    err = float(np.abs(ours[:, part] - theirs).max() / np.abs(theirs).max())
    assert err < 1e-4, f"v1sim and scipy.ndimage disagree (relative error {err:.2e})"

    repeat = 1 if args.quick else 5
    t_ours = median_time(lambda: v1sim_rates(contrast, bank, cells, units, nl), repeat=repeat, warmup=0)
    peer_repeat = 1 if args.quick or t_once > 10 else 3
    t_peer = (
        t_once
        if peer_repeat == 1
        else median_time(lambda: scipy_rates(contrast, kernels, cells, units, nl), repeat=peer_repeat, warmup=0)
    )

    kind, pair = cells[0], cells[1]
    preferred, cv, f1f0 = tuning_metrics(ours, thetas)
    true = pair * np.pi / N_BANK_ORIENT
    err_deg = np.degrees(np.abs((preferred - true + np.pi / 2) % np.pi - np.pi / 2))
    print(
        f"{N_CELLS} cells ({(kind == 0).sum()} simple, {(kind == 1).sum()} complex) on a {SIZE}x{SIZE} px field; "
        f"{contrast.shape[0]} gratings ({N_ORIENT} orientations x {N_PHASE} phases); "
        f"bank of {kernels.shape[0]} Gabors {kernels.shape[1]}x{kernels.shape[2]}"
    )
    print(f"rates agree: max relative difference {err:.1e}")
    print(
        f"preferred orientation within 1 deg of the cell's: {np.mean(err_deg < 1):.1%} (median error "
        f"{np.median(err_deg):.2f} deg); median circular variance {np.median(cv):.2f}"
    )
    print(f"phase F1/F0 median: simple {np.median(f1f0[kind == 0]):.2f}, complex {np.median(f1f0[kind == 1]):.3f}")
    report(
        [
            (
                "10,000 cells x 288 gratings (maps + read-out)",
                t_ours,
                f"ndimage.correlate x{contrast.shape[0] * kernels.shape[0]}"
                + (" (1/8, x8 extrap.)" if args.quick else " (1 run)" if peer_repeat == 1 else ""),
                t_peer,
            )
        ],
        "orientation and phase tuning of a model V1 population",
    )


if __name__ == "__main__":
    main()
