"""Benchmark: the V1 benchmark's grating protocol on a macaque population, v1sim against plain NumPy.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_v1_benchmark.py          # 1000 units
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_v1_benchmark.py --quick  # 200 units

The population is ``macaque_population(n, ppd=16, image_size=128, rng=0)``.
The protocol is the one :func:`v1sim.physiology.measure_properties` shows:
a blank, full-field gratings (12 orientations x the spatial frequencies
below Nyquist x 8 phases, one batch per frequency), then centred circular
patches (13 diameters x 8 phases) at each (orientation, frequency) pair
that responsive units prefer, each patch batch shown only to those units.
The batch list (and so the pairs) is fixed once, untimed, by running the
same selection measure_properties runs.

Identical work on both sides: the responses to every image of that batch list.

v1sim
    ``pop.grating_responses(theta, cpd, phase, radius, units=...)``, what
    ``measure_properties`` calls: a grating's contrast image is linear in
    cos(phase) and sin(phase), so each distinct (orientation, frequency,
    aperture) is projected only at phases 0 and pi/2 (the protocol's 8
    phases cost 2). Full-field gratings: those two images drawn
    (``grating_batch``) and one float32 GEMM (``backend.matmul``); patches:
    no image drawn, every diameter of a carrier summed in one pass over each
    Gabor (``aperture_projections``); then the ``gabor_energy`` read-out.
peer
    The protocol as written: every image drawn with NumPy broadcasting (cos
    of rotated coordinates, a disc mask with the same 1-pixel ramp), and the
    responses computed the plain way: the contrast images ``@`` the
    population's float64 Gabors (the same units), the drive of simple units
    the projection, of complex units the quadrature energy ``hypot``, then
    the population's nonlinearity (half-wave rectification).
second peer
    The same NumPy code taking v1sim's phase shortcut (two images per
    distinct grating, combined by cos/sin of each phase), so the table also
    shows how much of the speed-up is the shortcut and how much the kernels.

The tuning analysis that follows is the same NumPy code for any population
and is not timed in the paired comparison; ``measure_properties`` end to end
is timed on its own for scale. Responses are checked to agree once. Medians
of alternating runs; speed-up = peer time / v1sim time (> 1: v1sim faster).
The first call (Numba compile, cold and warm cache) is timed apart in fresh
processes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from _common import first_call_seconds, machine_report, median_time, paired_medians, print_first_calls, report  # noqa: E402

from v1sim.physiology import macaque_population, measure_properties  # noqa: E402
from v1sim.physiology.population import RESPONSE_THRESHOLD, rate_map  # noqa: E402
from v1sim.physiology.population_stimuli import (  # noqa: E402
    GratingProtocol,
    check_population,
    draw_gratings,
    grating_phases,
    resolve,
)


def batch_list(pop, rng=0):
    """The protocol's batches as (theta_deg, cpd, phase, radius_deg, units) per-image vectors, as measure_properties."""
    geometry = check_population(pop)
    proto = GratingProtocol()
    phase_offset = np.random.default_rng(rng).uniform(0.0, 2.0 * np.pi)
    ori, sf, diam = resolve(proto, geometry)
    phases = grating_phases(proto.n_phases, phase_offset)
    n = geometry.n_units
    batches = [(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), None)]  # the blank: contrast 0 via radius 0
    for f in sf:
        o, p = np.meshgrid(ori, phases, indexing="ij")
        batches.append((o.ravel(), np.full(o.size, f), p.ravel(), np.full(o.size, np.inf), None))
    # the pairs, selected exactly as measure_properties selects them (untimed)
    blank_raw = pop.responses(np.full((1, geometry.image_size, geometry.image_size), 0.5))[0]
    raw = np.stack([pop.responses(draw_gratings(geometry, *b[:4], proto.contrast)) for b in batches[1:]], axis=1)
    raw = raw.T.reshape(n, sf.size, ori.size, proto.n_phases)  # (units, sf, ori, phase)
    scale, offset = rate_map(raw.mean(axis=3).reshape(n, -1).max(axis=1), blank_raw)
    s, o_ = (scale, offset) if np.isfinite(scale) else (0.0, 0.0)
    f0 = np.maximum(s * raw + o_, 0.0).mean(axis=3)
    blank = np.maximum(s * blank_raw + o_, 0.0)
    best = f0.reshape(n, -1).argmax(axis=1)
    p_sf, p_ori = np.unravel_index(best, f0.shape[1:])
    responsive = f0[np.arange(n), p_sf, p_ori] - blank > RESPONSE_THRESHOLD
    pairs: dict = {}
    for u in np.flatnonzero(responsive):
        pairs.setdefault((float(ori[p_ori[u]]), float(sf[p_sf[u]])), []).append(int(u))
    for (o, f), units in pairs.items():
        d, p = np.meshgrid(diam, phases, indexing="ij")
        batches.append((np.full(d.size, o), np.full(d.size, f), p.ravel(), d.ravel() / 2.0, np.asarray(units)))
    return batches, proto.contrast, len(pairs)


def v1sim_run(pop, batches, contrast):
    """As measure_properties asks: the batches for all units (blank, full field) in one call, as no image is
    drawn; each patch batch in its own, for its units. Returns the responses batch by batch."""
    everyone = [b for b in batches if b[4] is None]  # the first batches of the list
    out = []
    if everyone:
        joined = pop.grating_responses(*(np.concatenate([b[i] for b in everyone]) for i in range(4)), contrast)
        out = np.split(joined, np.cumsum([len(b[0]) for b in everyone])[:-1])
    return out + [pop.grating_responses(t, f, p, r, contrast, units=u) for t, f, p, r, u in batches[len(out) :]]


def numpy_gratings(size, ppd, theta_deg, cpd, phase, radius_deg, contrast, background=0.5):
    """(N, S, S) float32 centred gratings by broadcasting, the formula of v1sim.stimuli.grating."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2.0
    th = np.radians(theta_deg)[:, None, None]
    k = (2.0 * np.pi * np.asarray(cpd) / ppd)[:, None, None]
    r = (np.asarray(radius_deg) * ppd)[:, None, None]
    env = np.clip(r - np.hypot(x, y) + 0.5, 0.0, 1.0)  # disc mask, 1-pixel ramp (1 everywhere for r = inf)
    v = background + contrast * background * env * np.cos(k * (x * np.cos(th) + y * np.sin(th)) + phase[:, None, None])
    return np.clip(v, 0.0, 1.0).astype(np.float32)


def numpy_responses(pop, images, units):
    """Rates the plain way: float64 projections on the Gabors, hypot for complex units, the nonlinearity."""
    c = (images.reshape(len(images), -1).astype(np.float64) - 0.5) / 0.5
    idx = np.arange(pop.n_units) if units is None else units
    drive = c @ pop._even[idx].T
    cx = ~pop.simple[idx]
    drive[:, cx] = np.hypot(drive[:, cx], c @ pop._odd[idx[cx]].T)
    return pop.nonlinearity(drive / pop._unit[idx])


def numpy_run(pop, batches, contrast):
    return [
        numpy_responses(pop, numpy_gratings(pop.image_size, pop.ppd, t, f, p, r, contrast), u)
        for t, f, p, r, u in batches
    ]


def numpy_quadrature_responses(pop, theta, cpd, phase, radius, contrast, units):
    """Rates the plain way, but projecting each distinct grating only at phases 0 and pi/2 (then cos/sin)."""
    keys, which = np.unique(np.stack([theta, cpd, radius], axis=1), axis=0, return_inverse=True)
    twice = np.repeat(keys, 2, axis=0)
    quadrature = np.tile([0.0, np.pi / 2], len(keys))
    images = numpy_gratings(pop.image_size, pop.ppd, twice[:, 0], twice[:, 1], quadrature, twice[:, 2], 1.0)
    c = (images.reshape(len(images), -1).astype(np.float64) - 0.5) / 0.5
    idx = np.arange(pop.n_units) if units is None else units
    which, cos, sin = which.ravel(), contrast * np.cos(phase)[:, None], contrast * np.sin(phase)[:, None]
    even = c @ pop._even[idx].T
    drive = cos * even[0::2][which] + sin * even[1::2][which]
    cx = ~pop.simple[idx]
    odd = c @ pop._odd[idx[cx]].T
    drive[:, cx] = np.hypot(drive[:, cx], cos * odd[0::2][which] + sin * odd[1::2][which])
    return pop.nonlinearity(drive / pop._unit[idx])


def numpy_quadrature_run(pop, batches, contrast):
    return [numpy_quadrature_responses(pop, t, f, p, r, contrast, u) for t, f, p, r, u in batches]


def stage_times(pop, batches, contrast, repeat):
    """Median v1sim times (s) of the full-field batches (blank included) and of the patch batches."""
    full = [b for b in batches if b[4] is None]
    patches = [b for b in batches if b[4] is not None]
    return tuple(median_time(lambda bs=bs: v1sim_run(pop, bs, contrast), repeat=repeat) for bs in (full, patches))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 units and fewer repeats")
    args = parser.parse_args(argv)
    n, repeat = (200, 3) if args.quick else (1000, 5)
    print(machine_report())

    t = time.perf_counter()
    pop = macaque_population(n, ppd=16, image_size=128, rng=0)
    print(f"population: {pop} (built in {time.perf_counter() - t:.2f} s, untimed below)")
    batches, contrast, n_pairs = batch_list(pop)
    n_images = sum(len(b[0]) for b in batches)
    print(
        f"protocol: {len(batches)} batches, {n_images} images of {pop.image_size}x{pop.image_size} "
        f"(blank + {len(batches) - 1 - n_pairs} full-field batches + {n_pairs} patch batches)"
    )
    print("comparison: identical work on both sides = stimuli + responses over that batch list")

    ours = v1sim_run(pop, batches, contrast)
    peers = {"numpy broadcast + float64 @": numpy_run, "numpy, 2 phases per grating": numpy_quadrature_run}
    for name, peer in peers.items():
        ref = peer(pop, batches, contrast)
        err = max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)) for a, b in zip(ours, ref))
        print(f"check: max relative difference of responses, v1sim vs {name} (float64) {err:.2e}")
        assert err < 1e-3, f"v1sim and {name} responses disagree ({err:.2e})"

    rows = []
    for name, peer in peers.items():
        t_ours, t_peer = paired_medians(
            lambda: v1sim_run(pop, batches, contrast), lambda peer=peer: peer(pop, batches, contrast), repeat=repeat
        )
        rows.append((f"stimuli + responses, {n} units", t_ours, name, t_peer))
    t_mp = median_time(lambda: measure_properties(pop), repeat=repeat)
    rows.append((f"measure_properties end to end, {n} units", t_mp, "(peer: stimuli + responses only)", rows[0][3]))
    report(rows, f"V1 benchmark grating protocol ({n_images} images, median of {repeat})")
    t_full, t_patch = stage_times(pop, batches, contrast, repeat)
    print(f"v1sim by stage: blank + full-field batches {t_full * 1e3:.1f} ms, patch batches {t_patch * 1e3:.1f} ms")

    snippet = (
        "from v1sim.physiology import macaque_population, measure_properties\n"
        "pop = macaque_population(200, ppd=16, image_size=128, rng=0)\n"
        "def run():\n"
        "    measure_properties(pop)\n"
    )
    res = first_call_seconds(snippet)
    print_first_calls(res, "first call vs steady state (fresh processes; measure_properties, 200 units)")


if __name__ == "__main__":
    main()
