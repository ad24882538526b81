"""The kernel layer: one registry over the CPU (serial, parallel) and CUDA twins.

Science modules and the ConvNet engine never import a backend module
directly; they ask :func:`get` for a kernel by name and resolved device::

    kern = kernels.get("correlate_valid", "parallel")
    kern(x, w, sy, sx, out)

All twins share one signature and write into preallocated outputs. The CUDA
module is imported only when ``"cuda"`` is asked for (``numba.cuda`` is slow
to import and may be absent).

The CPU kernels live in :mod:`v1sim.kernels.cpu` (one module per topic) and
their CUDA twins in :mod:`v1sim.kernels.cuda` (the same module names);
:data:`CPU_ONLY` names the CPU kernels without a twin, with the reason, and a
test checks that every other kernel has one. :mod:`v1sim.kernels.ops` holds
the unchecked drivers (output size, padding, pooling) shared by the science
modules and the ConvNet engine.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["CPU_ONLY", "PARALLEL_MIN_SIZE", "get", "has", "names", "warmup"]

#: A ``"parallel"`` kernel on fewer elements than this runs its serial twin (:func:`get`'s ``size``): waking
#: Numba's passive OpenMP workers costs up to 70 us per parallel region (a one-pass kernel alone, called
#: again and again: 1,000 float32 72 us parallel against 0.4 serial). Chosen by training steps (2 threads):
#: LeNet-5 at batch 64 8.7 ms with no threshold, 8.3 ms at 2^17. Measured again with every serial twin
#: freshly compiled (a stale disk cache had kept some scalar, see :mod:`.cpu.common`): 2^17, 2^19 and 2^20
#: gave LeNet-5 (batch 64 and 256) and ResNet-20 steps equal within noise.
PARALLEL_MIN_SIZE = 1 << 17

#: CPU kernels with no CUDA twin in the registry, and why.
CPU_ONLY = {
    "channel_sums": "the CPU conv's bias gradient; the device's conv sums its own",
    "bn_stats": "the device runs batch norm as its own fused scheme (kernels.cuda.norm)",
    "bn_affine": "the device runs batch norm as its own fused scheme (kernels.cuda.norm)",
    "bn_backward_sums": "the device runs batch norm as its own fused scheme (kernels.cuda.norm)",
    "bn_backward_dx": "the device runs batch norm as its own fused scheme (kernels.cuda.norm)",
    "bn_affine_relu": "a CPU fast path for batch norm + ReLU (one pass); the device keeps its own scheme",
    "bn_backward_sums_relu": "a CPU fast path for batch norm + ReLU (no mask pass); the device keeps its own scheme",
    "bn_backward_dx_relu": "a CPU fast path for batch norm + ReLU (no mask pass); the device keeps its own scheme",
    "s_cells": "the Neocognitron's S-cells run on the CPU only",
    "s_cells_3": "the Neocognitron's S-cells run on the CPU only (s_cells unrolled for width 3)",
    "s_cells_5": "the Neocognitron's S-cells run on the CPU only (s_cells unrolled for width 5)",
    "s_cells_7": "the Neocognitron's S-cells run on the CPU only (s_cells unrolled for width 7)",
    "spectral_mac": "the FFT method runs on the CPU only (scipy.fft)",
    "max_pool_2x2": "a CPU fast path; the device's max_pool covers it",
    "grating_batch": "the V1 benchmark's stimuli are drawn on the CPU (cheap next to the responses)",
    "gabor_energy": "the V1 benchmark's read-out runs on the CPU next to backend.matmul's BLAS",
    "aperture_projections": "the V1 benchmark's patch projections run on the CPU (a few ms per population)",
    "im2col_block": "the CPU conv's cache-sized blocks; the device keeps whole-batch im2col (kernels.cuda.layout)",
    "col2im_block": "the CPU conv's cache-sized blocks; the device keeps whole-batch col2im (kernels.cuda.layout)",
    "block_to_nchw": "the CPU conv's cache-sized blocks; the device transposes whole batches (swap01)",
    "nchw_to_block": "the CPU conv's cache-sized blocks; the device transposes whole batches (swap01)",
    "relu_backward": "a CPU fast path (one pass, no mask array); the device's relu_backward is its own twin",
    "add_relu": "a CPU fast path for Residual (one pass); the device adds, then rectifies",
    "avg_pool_2x2_backward": "a CPU fast path (one write pass); the device's avg_pool_backward covers it",
    "pad_nchw": "the CPU conv pads its input in parallel, in one pass; the device pads in its own im2col",
    "crop_nchw": "the CPU conv crops its padded input gradient in parallel; the device crops in its own col2im",
}


def get(name: str, device: str, size: int | None = None):
    """Return kernel ``name`` for a resolved ``device`` ("cpu", "parallel" or "cuda").

    ``size``, the elements the call will touch, lets ``"parallel"`` give the serial twin below
    :data:`PARALLEL_MIN_SIZE`: the twins compute the same sums in the same order (a tested rule), so the
    choice never changes a result, only whether a parallel region is worth its start.
    """
    if device == "parallel" and size is not None and size < PARALLEL_MIN_SIZE:
        device = "cpu"
    if device == "cuda":
        module = importlib.import_module(".cuda", __name__)
        try:
            return module.KERNELS[name]
        except KeyError:
            raise NotImplementedError(f"kernel {name!r} has no CUDA twin yet") from None
    if device not in ("cpu", "parallel"):
        raise ValueError(f"device must be a resolved backend, 'cpu', 'parallel' or 'cuda'; got {device!r}")
    cpu = _cpu()
    table = cpu.PARALLEL if device == "parallel" else cpu.SERIAL
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"unknown kernel {name!r}; known: {', '.join(sorted(cpu.SERIAL))}") from None


def _cpu():
    """The CPU backend package, imported on first use (looked up in ``sys.modules`` after that: a training
    step fetches a few dozen kernels, and ``import_module`` cost microseconds each)."""
    return sys.modules.get(f"{__name__}.cpu") or importlib.import_module(".cpu", __name__)


def has(name: str, device: str) -> bool:
    """Whether kernel ``name`` exists for a resolved ``device`` (the CUDA answer comes from :data:`CPU_ONLY`,
    without importing numba.cuda)."""
    if name not in names():
        return False
    return name not in CPU_ONLY if device == "cuda" else device in ("cpu", "parallel")


def names() -> list[str]:
    """Names of the CPU kernels (every kernel has a CPU twin)."""
    return sorted(_cpu().SERIAL)


def _example_args(name: str, dtype):
    """Small, valid arguments for kernel ``name`` (used to compile ahead of use)."""
    import numpy as np

    x = np.ones((1, 2, 6, 6), dtype)
    if name == "correlate_valid":
        return (x, np.ones((3, 2, 3, 3), dtype), 1, 1, np.empty((1, 3, 4, 4), dtype))
    if name == "correlate_valid_bank":
        return (x, np.ones((2, 3, 3, 3), dtype), 1, 1, np.empty((1, 3, 4, 4), dtype))
    if name == "s_cells" or name.startswith("s_cells_"):
        kw = 3 if name == "s_cells" else int(name.rsplit("_", 1)[1])  # s_cells_5: templates 5 wide
        xw = np.ones((1, 2, 6, 3 + kw), dtype)
        return (xw, np.ones((3, 2, 3, kw), dtype), np.ones((3, kw), dtype), 0, 1.0, 0.5, np.empty((1, 3, 4, 4), dtype))
    if name == "channel_sums":
        return (x.reshape(1, 2, 36), np.empty(2, dtype))
    if name == "bn_stats":
        return (x.reshape(1, 2, 36), np.empty(2), np.empty(2))
    if name in ("bn_affine", "bn_affine_relu"):
        return (x.reshape(1, 2, 36), np.ones(2), np.zeros(2), np.empty((1, 2, 36), dtype))
    if name == "bn_backward_sums_relu":  # (g, y, x, ...): the gradient, the rectified output, the input
        x3 = x.reshape(1, 2, 36)
        return (x3, x3, x3, np.zeros(2), np.ones(2), np.empty(2), np.empty(2))
    if name == "bn_backward_dx_relu":
        x3 = x.reshape(1, 2, 36)
        return (x3, x3, x3, np.zeros(2), np.ones(2), np.ones(2), np.zeros((2, 2)), np.empty((1, 2, 36), dtype))
    if name == "bn_backward_sums":
        return (x.reshape(1, 2, 36), x.reshape(1, 2, 36), np.zeros(2), np.ones(2), np.empty(2), np.empty(2))
    if name == "bn_backward_dx":
        return (
            x.reshape(1, 2, 36),
            x.reshape(1, 2, 36),
            np.zeros(2),
            np.ones(2),
            np.ones(2),
            np.zeros((2, 2)),
            np.empty((1, 2, 36), dtype),
        )
    if name == "im2col":
        return (x, 3, 3, 1, 1, np.empty((18, 1, 16), dtype))
    if name == "col2im":
        return (np.ones((18, 1, 16), dtype), 3, 3, 1, 1, np.zeros_like(x))
    if name == "im2col_block":  # one image, all 4 output rows of a 3x3 stride-1 layer on padded x
        return (x, 0, 0, 3, 3, 1, 1, 4, np.empty((18, 1, 16), dtype))
    if name == "col2im_block":
        return (np.ones((18, 1, 16), dtype), 0, 0, 3, 3, 1, 1, 4, np.zeros_like(x))
    if name == "block_to_nchw":
        return (np.ones((3, 1, 16), dtype), np.zeros(3, dtype), 0, 0, 4, np.empty((1, 3, 4, 4), dtype))
    if name == "nchw_to_block":
        return (np.ones((1, 3, 4, 4), dtype), 0, 0, 4, np.empty((3, 1, 16), dtype))
    if name == "tanh_float32":
        return (np.zeros(4, np.float32), np.empty(4, np.float32))
    if name == "tanh_backward":
        return (np.ones(4, dtype), np.zeros(4, dtype), np.empty(4, dtype))
    if name == "relu_backward":
        return (np.ones(4, dtype), np.zeros(4, dtype), np.empty(4, dtype))
    if name in ("add", "add_relu"):
        return (np.ones(4, dtype), np.zeros(4, dtype), np.empty(4, dtype))
    if name == "swap01":
        return (np.ones((2, 3, 4), dtype), np.ones(2, dtype), np.empty((3, 2, 4), dtype))
    if name == "spectral_mac":
        c = np.complex64 if dtype == np.float32 else np.complex128
        return (np.ones((2, 4, 3), c), np.ones((3, 2, 4, 3), c), np.empty((3, 4, 3), c))
    if name == "max_pool":
        return (x, 2, 2, 2, 2, 0, 0, np.empty((1, 2, 3, 3), dtype), np.empty((1, 2, 3, 3), np.int32))
    if name == "max_pool_2x2":
        return (x, np.empty((1, 2, 3, 3), dtype))
    if name == "max_pool_backward":
        return (np.ones((1, 2, 3, 3), dtype), np.zeros((1, 2, 3, 3), np.int32), np.zeros_like(x))
    if name in ("avg_pool", "l2_pool"):
        return (x, 2, 2, 2, 2, 0, 0, np.empty((1, 2, 3, 3), dtype))
    if name == "avg_pool_backward":
        return (np.ones((1, 2, 3, 3), dtype), 2, 2, 2, 2, 0, 0, np.zeros_like(x))
    if name == "pad_nchw":
        return (x, 1, 2, np.empty((1, 2, 8, 10), dtype))
    if name == "crop_nchw":
        return (x, 1, 2, np.empty((1, 2, 4, 2), dtype))
    if name == "avg_pool_2x2_backward":
        return (np.ones((1, 2, 3, 3), dtype), np.empty_like(x))
    if name == "grating_batch":
        v = np.ones(2)
        return (v, 0.1 * v, v, np.full(2, np.inf), 1.0, 0.5, np.empty((2, 5, 7), np.float32))
    if name == "gabor_energy":
        return (np.ones((2, 3), np.float32), np.ones(2), np.array([-1, 2]), np.empty((2, 2)))
    if name == "aperture_projections":
        v = np.ones(2)
        return (np.ones((3, 5, 7), np.float32), np.array([0, 2]), v, 0.1 * v, v, np.empty((2, 2, 2, 2)))
    raise KeyError(f"no example arguments for kernel {name!r}")


def warmup(devices=("cpu", "parallel"), dtypes=("float32", "float64"), progress=False) -> list[dict]:
    """Compile (or load from Numba's on-disk cache) every CPU kernel, timing the first calls.

    The first call of a kernel pays for compilation, or for loading the
    cached machine code when ``cache=True`` already compiled it once on this
    machine; a second call shows the steady-state cost of a tiny problem.

    Parameters
    ----------
    devices : sequence of {"cpu", "parallel"}
    dtypes : sequence of {"float32", "float64"}
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    list of dict
        ``kernel``, ``device``, ``dtype``, ``first_call_s``, ``steady_s``.
    """
    import time

    import numpy as np
    from tqdm.auto import tqdm

    jobs = [(n, d, t) for n in names() for d in devices for t in dtypes if not n.endswith("_float32") or t == "float32"]
    records = []
    for name, device, dtype in tqdm(jobs, desc="compiling kernels", unit="kernel", disable=not progress):
        kern = get(name, device)
        args = _example_args(name, np.dtype(dtype).type)
        start = time.perf_counter()
        kern(*args)
        first = time.perf_counter() - start
        start = time.perf_counter()
        kern(*args)
        steady = time.perf_counter() - start
        records.append({"kernel": name, "device": device, "dtype": dtype, "first_call_s": first, "steady_s": steady})
    if {"cpu", "parallel"} & set(devices):  # BLAS from Numba, register tiles (not in the registry)
        from . import conv_shifted, conv_winograd, correlate, row_tiles

        for module, dtype in ((m, t) for m in (conv_shifted, conv_winograd, correlate, row_tiles) for t in dtypes):
            times = []
            for _ in range(2):
                start = time.perf_counter()
                module.warmup(np.dtype(dtype))
                times.append(time.perf_counter() - start)
            records.append(
                {
                    "kernel": module.__name__.rsplit(".", 1)[1],
                    "device": "cpu",
                    "dtype": dtype,
                    "first_call_s": times[0],
                    "steady_s": times[1],
                }
            )
    return records
