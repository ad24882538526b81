"""Benchmark: filter banks, batched correlation and pooling, v1sim against its peers.

Run from the repository root::

    python benchmarks/bench_filtering.py            # everything (a few minutes)
    python benchmarks/bench_filtering.py --quick    # fewer repeats

Each case runs v1sim and its peer on the same float32 data in the same run
and prints medians and the speed-up (peer time / v1sim time; > 1 means v1sim
is faster). Slow peers (scipy.ndimage.correlate, skimage.filters.gabor) are
timed on a subset of the bank and scaled to the whole bank, as marked.
Results are checked to agree before anything is timed.

Cases
-----
(a) Leung-Malik bank (48 x 49x49) on a 512x512 image; and on a batch of 16.
(b) 32-filter Gabor bank on a 512x512 image; and on a batch of 16.
(c) 256 digits of 28x28 through 32 filters of 11x11 (valid), against torch (in its own process,
    alternating with v1sim: ``_common.TorchPeer``).
(d) 2x2 max pooling of a 48x512x512 stack.
(e) First-call (compile) time with a cold and a warm Numba cache.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402
import scipy.ndimage as ndi  # noqa: E402
import scipy.signal as ss  # noqa: E402
from _common import (  # noqa: E402
    TorchPeer,
    first_call_seconds,
    machine_report,
    median_time,
    paired_medians,
    print_first_calls,
    report,
)

import v1sim  # noqa: E402
from v1sim import filters, stimuli  # noqa: E402

WORKERS = os.cpu_count() or 1


def _fftconvolve_bank(image, kernels):
    # The fastest scipy route: one call over the whole bank (broadcast), 'same' output,
    # with reflect padding done the same way v1sim does it (so outputs agree).
    kh, kw = kernels.shape[1:]
    pad = ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2))
    padded = np.pad(image, pad, mode="symmetric")
    with scipy.fft.set_workers(WORKERS):
        return ss.fftconvolve(padded[None], kernels[:, ::-1, ::-1], mode="valid", axes=(1, 2))


def _oaconvolve_bank(image, kernels):
    kh, kw = kernels.shape[1:]
    pad = ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2))
    padded = np.pad(image, pad, mode="symmetric")
    with scipy.fft.set_workers(WORKERS):
        return ss.oaconvolve(padded[None], kernels[:, ::-1, ::-1], mode="valid", axes=(1, 2))


def bank_case(label, bank, image, batch, repeat, slow_peer=None):
    kernels = bank.kernels
    ours = v1sim.apply_bank(image, bank)
    ref = _fftconvolve_bank(image, kernels)
    err = float(np.abs(ours - ref).max() / np.abs(ref).max())
    assert err < 1e-4, f"{label}: v1sim and scipy disagree (relative error {err:.2e})"
    rows = []
    fresh = filters.FilterBank(kernels=kernels, params=bank.params, name=bank.name)
    t_first_bank = median_time(
        lambda: v1sim.apply_bank(image, filters.FilterBank(kernels, bank.params, bank.name)), repeat=repeat, warmup=0
    )
    t_cached = median_time(lambda: v1sim.apply_bank(image, fresh), repeat=repeat)
    t_fft = median_time(lambda: _fftconvolve_bank(image, kernels), repeat=repeat)
    t_oa = median_time(lambda: _oaconvolve_bank(image, kernels), repeat=repeat)
    best_name, best = min(
        (("signal.fftconvolve (bank)", t_fft), ("signal.oaconvolve (bank)", t_oa)), key=lambda p: p[1]
    )
    rows.append((f"{label}, 1 image, new bank", t_first_bank, best_name, best))
    rows.append((f"{label}, 1 image, bank spectra cached", t_cached, best_name, best))
    if slow_peer is not None:
        name, fn, n_sub = slow_peer
        t_sub = median_time(lambda: fn(image, n_sub), repeat=1, warmup=0)
        rows.append(
            (
                f"{label}, 1 image",
                t_cached,
                f"{name} (x{len(kernels) / n_sub:.0f} extrap.)",
                t_sub * len(kernels) / n_sub,
            )
        )
    t_batch = median_time(lambda: v1sim.apply_bank(batch, fresh), repeat=max(1, repeat // 2))
    t_loop = median_time(lambda: [_fftconvolve_bank(im, kernels) for im in batch], repeat=max(1, repeat // 2))
    rows.append((f"{label}, batch of {len(batch)}", t_batch, "fftconvolve per image", t_loop))
    report(rows, label)


def ndimage_subset(image, n, bank):
    return [ndi.correlate(image, k, mode="reflect") for k in bank.kernels[:n]]


def _digits_batch():
    """Case (c)'s digits and bank, the same in both processes."""
    rng = np.random.default_rng(0)
    return rng.random((256, 1, 28, 28), dtype=np.float32), rng.standard_normal((32, 1, 11, 11), dtype=np.float32)


def torch_digits_conv(torch):
    """Case (c) in PyTorch (its own process: :class:`_common.TorchPeer`)."""
    tx, tw = (torch.from_numpy(a) for a in _digits_batch())

    def run():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw)

    return run


def torch_digits_agree(torch) -> bool:
    """Whether v1sim and PyTorch give the same correlations of case (c)."""
    x, w = _digits_batch()
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    return bool(np.allclose(v1sim.correlate_batch(x, w), ref, atol=1e-3))


def correlation_case(peer, repeat):
    x, w = _digits_batch()
    rows = []
    v1sim.correlate_batch(x, w)
    if peer.version:
        assert peer.call("torch_digits_agree"), "v1sim and torch disagree"
        theirs = peer.case("torch_digits_conv")
        t_ours, t_torch = paired_medians(lambda: v1sim.correlate_batch(x, w), theirs, repeat=repeat)
        rows.append(("256x1x28x28 * 32x11x11 (auto)", t_ours, f"torch conv2d ({peer.threads} thr)", t_torch))
        for method in ("direct", "gemm"):
            t_m, t_torch = paired_medians(lambda: v1sim.correlate_batch(x, w, method=method), theirs, repeat=repeat)
            rows.append((f"  method={method}", t_m, "torch conv2d", t_torch))
    else:
        print("\n(torch not installed: pip install 'v1sim[bench]' for case (c))")
    report(rows, "(c) batched correlation of digits")


def torch_max_pool(torch):
    """Case (d)'s PyTorch row."""
    tx = torch.from_numpy(np.random.default_rng(0).random((48, 512, 512), dtype=np.float32))
    return lambda: torch.nn.functional.max_pool2d(tx, 2)


def pooling_case(peer, repeat):
    from skimage.measure import block_reduce

    rng = np.random.default_rng(0)
    x = rng.random((48, 512, 512), dtype=np.float32)
    ours = v1sim.pool2d(x, 2)
    assert np.array_equal(ours, block_reduce(x, (1, 2, 2), np.max))
    t_ours = median_time(lambda: v1sim.pool2d(x, 2), repeat=repeat * 2)
    rows = [
        (
            "2x2 max, 48x512x512",
            t_ours,
            "skimage block_reduce",
            median_time(lambda: block_reduce(x, (1, 2, 2), np.max), repeat=max(1, repeat // 2)),
        )
    ]
    if peer.version:
        t_ours, t_torch = paired_medians(lambda: v1sim.pool2d(x, 2), peer.case("torch_max_pool"), repeat=repeat * 2)
        rows.append(("2x2 max, 48x512x512", t_ours, "torch max_pool2d", t_torch))
    t_copy = median_time(lambda: x.copy(), repeat=repeat * 2)
    rows.append(("2x2 max, 48x512x512", t_ours, "numpy copy of the input", t_copy))
    report(rows, "(d) pooling (memory-bound; copy shown for scale)")


def compile_case():
    snippet = (
        "import numpy as np, v1sim\n"
        "x = np.random.rand(4, 3, 32, 32).astype(np.float32); w = np.random.rand(8, 3, 5, 5).astype(np.float32)\n"
        "img = np.random.rand(64, 64).astype(np.float32); bank = np.random.rand(4, 7, 7).astype(np.float32)\n"
        "def run():\n"
        "    v1sim.correlate_batch(x, w, method='direct'); v1sim.correlate_batch(x, w, method='gemm')\n"
        "    v1sim.apply_bank(img, bank, method='fft'); v1sim.pool2d(x, 2); v1sim.pool2d(x, 3, 2, kind='avg')\n"
    )
    res = first_call_seconds(snippet)
    print_first_calls(res, "(e) first call vs steady state (fresh processes; correlation, FFT bank, pooling)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    print(machine_report())
    repeat = 3 if args.quick else 7
    import numba

    print(
        f"v1sim {v1sim.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads), "
        f"scipy.fft workers {WORKERS}"
    )
    image = stimuli.natural_image("camera")
    batch = np.stack([stimuli.natural_image(n) for n in ("camera", "brick", "grass", "gravel")] * 4)

    lm = filters.leung_malik()
    bank_case(
        "(a) LM bank 48x49x49 on 512x512",
        lm,
        image,
        batch,
        repeat,
        slow_peer=("ndimage.correlate", lambda im, n: ndimage_subset(im, n, lm), 2),
    )

    gabor = filters.gabor_bank(frequencies=(0.05, 0.1, 0.2, 0.4), n_orientations=8, phases=(0.0,))
    from skimage.filters import gabor as sk_gabor

    def skimage_subset(im, n):
        return [sk_gabor(im, p["frequency"], theta=p["theta"]) for p in gabor.params[:n]]

    bank_case(
        f"(b) Gabor bank {len(gabor)}x{gabor.kernels.shape[1]}x{gabor.kernels.shape[2]} on 512x512",
        gabor,
        image,
        batch,
        repeat,
        slow_peer=("skimage.filters.gabor", skimage_subset, 2),
    )
    peer = TorchPeer("bench_filtering")  # PyTorch in its own process, with its own OpenMP settings
    correlation_case(peer, repeat)
    pooling_case(peer, repeat)
    peer.close()
    compile_case()


if __name__ == "__main__":
    main()
