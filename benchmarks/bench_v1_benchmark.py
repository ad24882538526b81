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

Identical work on both sides: stimuli + responses over that batch list.

v1sim
    ``draw_gratings`` (the ``grating_batch`` kernel) and
    ``pop.responses(images, units=...)`` (one float32 GEMM via
    ``backend.matmul``, then the fused ``gabor_energy`` read-out).
peer
    The same stimuli drawn with NumPy broadcasting (cos of rotated
    coordinates, a disc mask with the same 1-pixel ramp), and the same
    responses computed the plain way: the contrast images ``@`` the
    population's float64 Gabors (the same units), the drive of simple units
    the projection, of complex units the quadrature energy ``hypot``, then
    the population's nonlinearity (half-wave rectification).

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
    geometry = check_population(pop)
    out = []
    for theta, cpd, phase, radius, units in batches:
        images = draw_gratings(geometry, theta, cpd, phase, radius, contrast)
        out.append(pop.responses(images) if units is None else pop.responses(images, units=units))
    return out


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
    ref = numpy_run(pop, batches, contrast)
    err = max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)) for a, b in zip(ours, ref))
    print(f"check: max relative difference of responses (v1sim float32 GEMM vs NumPy float64) {err:.2e}")
    assert err < 1e-3, f"v1sim and NumPy responses disagree ({err:.2e})"

    t_ours, t_peer = paired_medians(
        lambda: v1sim_run(pop, batches, contrast), lambda: numpy_run(pop, batches, contrast), repeat=repeat
    )
    t_mp = median_time(lambda: measure_properties(pop), repeat=repeat)
    report(
        [
            (f"stimuli + responses, {n} units", t_ours, "numpy broadcast + float64 @", t_peer),
            (f"measure_properties end to end, {n} units", t_mp, "(peer: stimuli + responses only)", t_peer),
        ],
        f"V1 benchmark grating protocol ({n_images} images, median of {repeat})",
    )

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
