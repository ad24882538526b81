"""numba-cuda twins of the CPU kernels, with the same signatures.

:data:`KERNELS` (the registry behind :func:`v1sim.kernels.get`) holds the
twins of CPU kernels: each takes host (numpy) or device arrays exactly as its
CPU twin in :mod:`v1sim.kernels.cpu` does, writes into the given output, and
copies results back when the output is a host array (device arrays stay on
the device). The modules mirror :mod:`v1sim.kernels.cpu` file for file (:mod:`.conv`,
:mod:`.pool`, :mod:`.layout`, :mod:`.elementwise`, :mod:`.norm`, :mod:`.common`); the
ConvNet engine's device-only launchers live in them too: :func:`gemm` (tiled shared-memory GEMM,
:mod:`.matmul`), :mod:`elementwise` (activations, sums, dropout, fused SGD),
:mod:`layout` (im2col/col2im, axis swaps, channel concat/split, pooling
gradients) and :mod:`norm` (reductions, batch norm, LRN, softmax
cross-entropy). One thread computes one
output element; grid-stride loops cover any size, so odd shapes exercise
partial tail blocks. float32 constants are typed so float32 work stays in
float32.

Import this module only when ``device="cuda"`` is resolved: importing
``numba.cuda`` is slow and fails where numba-cuda is absent. Under
``NUMBA_ENABLE_CUDASIM=1`` the kernels run in Numba's simulator (slow;
tests use small shapes).

See Also
--------
v1sim.kernels.cpu : the CPU twins and reference semantics.
"""

from __future__ import annotations

from . import elementwise, layout, norm
from .common import empty, host_call, is_device, to_device
from .conv import correlate_valid, correlate_valid_bank
from .matmul import gemm
from .pool import avg_pool, avg_pool_backward, l2_pool, max_pool, max_pool_backward

__all__ = ["KERNELS", "gemm", "elementwise", "layout", "norm", "empty", "is_device", "to_device"]


def im2col(x, kh, kw, sy, sx, cols):
    """CUDA twin of :func:`v1sim.kernels.cpu.im2col` (x already padded)."""
    host_call(lambda x, cols: layout.im2col(x, kh, kw, sy, sx, 0, 0, cols), (cols,), x, cols)


def col2im(cols, kh, kw, sy, sx, x):
    """CUDA twin of :func:`v1sim.kernels.cpu.col2im` (adds into the zeroed, padded x)."""
    host_call(lambda cols, x: layout.col2im(cols, kh, kw, sy, sx, 0, 0, x, accumulate=True), (x,), cols, x)


def swap01(a, bias, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.swap01`."""
    host_call(layout.swap01, (out,), a, bias, out)


def add(a, b, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.add` (flat arrays; ``out`` may be ``a``)."""
    host_call(elementwise.add, (out,), a, b, out)


def tanh_float32(x, out):
    """CUDA twin of :func:`v1sim.kernels.cpu.tanh_float32` (flat arrays; CUDA's tanhf, within 4e-7 of it)."""
    host_call(elementwise.tanh, (out,), x, out)


def tanh_backward(grad_out, y, grad_in):
    """CUDA twin of :func:`v1sim.kernels.cpu.tanh_backward` (flat arrays)."""
    host_call(elementwise.tanh_backward, (grad_in,), grad_out, y, grad_in)


KERNELS = {
    "add": add,
    "avg_pool_backward": avg_pool_backward,
    "correlate_valid": correlate_valid,
    "correlate_valid_bank": correlate_valid_bank,
    "max_pool": max_pool,
    "avg_pool": avg_pool,
    "l2_pool": l2_pool,
    "max_pool_backward": max_pool_backward,
    "im2col": im2col,
    "col2im": col2im,
    "swap01": swap01,
    "tanh_float32": tanh_float32,
    "tanh_backward": tanh_backward,
}
