"""CUDA twins of the functional pairs (private): convolution, locally connected, linear, activations, pooling.

Same arguments, results and gradients as the CPU pairs in
:mod:`v1sim.nn.functional` (which dispatch here for ``device="cuda"`` or
device-array inputs), but outputs, caches and gradients are numba device
arrays; host inputs are copied to the device once. Shapes were checked by
the caller. The arithmetic mirrors the CPU path: im2col into channel-major
patches, one GEMM per group for the whole batch, a swap of the two leading
axes with the bias added on the way, and a gathering col2im for the input
gradient (no padded copies: the patch kernels read and write through the
zero padding).
"""

from __future__ import annotations


import numpy as np

from ..kernels import cuda as kc
from ._device import DeviceCache, is_device
from ._fn_common import _FLOATS, _array

_NO_BIAS = {}


def _none(dtype):
    """An empty device vector (the kernels' "no bias" / "no buffer"), one per dtype."""
    dtype = np.dtype(dtype)
    if dtype not in _NO_BIAS:
        _NO_BIAS[dtype] = kc.empty((0,), dtype)
    return _NO_BIAS[dtype]


def dev(a, name, ndim, dtype=None):
    """``a`` as a C-contiguous float device array of ``ndim`` dimensions (host arrays checked, then copied once)."""
    if not is_device(a):
        a = kc._to_device(_array(a, name, ndim) if dtype is None else _array(a, name, ndim).astype(dtype, copy=False))
    else:
        want = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in want:
            raise ValueError(f"{name} must have {' or '.join(map(str, want))} dimensions, got shape {tuple(a.shape)}")
        if np.dtype(a.dtype) not in _FLOATS:
            raise TypeError(f"{name} must be float32 or float64, got dtype {a.dtype}")
        if not a.is_c_contiguous():
            raise ValueError(f"{name} must be a C-contiguous device array")
    if dtype is not None and np.dtype(a.dtype) != np.dtype(dtype):
        a = kc.elementwise.copy(a, kc.empty(a.shape, dtype))
    return a


def _result_dtype(*arrays):
    return np.dtype(np.float64) if any(np.dtype(a.dtype) == np.float64 for a in arrays) else np.dtype(np.float32)


def _grad(grad_out, shape, dtype):
    g = dev(grad_out, "grad_out", len(shape), dtype)
    if tuple(g.shape) != tuple(shape):
        raise ValueError(f"grad_out must have the forward output's shape {tuple(shape)}, got {tuple(g.shape)}")
    return g


# --------------------------------------------------------------------------
# convolution, locally connected, linear
# --------------------------------------------------------------------------


def conv2d_forward(x, w, b, stride, padding, groups, ho, wo):
    """CUDA twin of :func:`v1sim.nn.functional.conv2d_forward` (geometry checked by it)."""
    dtype = _result_dtype(x, w)
    x, w = dev(x, "x", 4, dtype), dev(w, "weight", 4, dtype)
    b = None if b is None else dev(b, "bias", 1, dtype)
    (n, c, _, _), (k, cg, kh, kw) = x.shape, w.shape
    r, nl, kg, rg = c * kh * kw, n * ho * wo, k // groups, cg * kh * kw
    cols = kc.layout.im2col(x, kh, kw, *stride, *padding, kc.empty((r, n, ho * wo), dtype))
    cols_m, w_m, out_t = cols.reshape(r, nl), w.reshape(k, rg), kc.empty((k, nl), dtype)
    for g in range(groups):
        kc.gemm(w_m[g * kg : (g + 1) * kg], cols_m[g * rg : (g + 1) * rg], out_t[g * kg : (g + 1) * kg])
    out = kc.layout.swap01(out_t.reshape(k, n, ho * wo), _none(dtype) if b is None else b, kc.empty((n, k, ho * wo), dtype))
    return out.reshape(n, k, ho, wo), DeviceCache((tuple(x.shape), cols, w, stride, padding, groups, b is not None))


def conv2d_backward(grad_out, cache, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.conv2d_backward`: ``(dx or None, dw, db or None)``."""
    x_shape, cols, w, stride, padding, groups, has_bias = cache
    (n, c, h, wd), (k, cg, kh, kw) = x_shape, w.shape
    ho, wo = (h + 2 * padding[0] - kh) // stride[0] + 1, (wd + 2 * padding[1] - kw) // stride[1] + 1
    dtype, nl, kg, rg, r = np.dtype(w.dtype), n * ho * wo, k // groups, cg * kh * kw, c * kh * kw
    g = _grad(grad_out, (n, k, ho, wo), dtype)
    go = kc.layout.swap01(g.reshape(n, k, ho * wo), _none(dtype), kc.empty((k, n, ho * wo), dtype)).reshape(k, nl)
    cols_m, w_m = cols.reshape(r, nl), w.reshape(k, rg)
    dw = kc.empty((k, rg), dtype)
    dcols = kc.empty((r, nl), dtype) if input_grad else None
    for i in range(groups):
        gk, gr = slice(i * kg, (i + 1) * kg), slice(i * rg, (i + 1) * rg)
        kc.gemm(go[gk], cols_m[gr], dw[gk], trans_b=True)
        if input_grad:
            kc.gemm(w_m[gk], go[gk], dcols[gr], trans_a=True)
    dx = None
    if input_grad:
        dx = kc.layout.col2im(dcols.reshape(r, n, ho * wo), kh, kw, *stride, *padding, kc.empty(x_shape, dtype))
    db = kc.norm.reduce(go.reshape(1, k, nl), kc.empty((k,), dtype)) if has_bias else None
    return dx, dw.reshape(*w.shape), db


def locally_connected2d_forward(x, w, b, stride, padding):
    """CUDA twin of :func:`v1sim.nn.functional.locally_connected2d_forward` (shapes checked by it)."""
    dtype = _result_dtype(x, w)
    x, w = dev(x, "x", 4, dtype), dev(w, "weight", 6, dtype)
    b = None if b is None else dev(b, "bias", 3, dtype)
    (n, c, _, _), (ho, wo, k, _, kh, kw) = x.shape, w.shape
    r, l = c * kh * kw, ho * wo
    cols = kc.layout.im2col(x, kh, kw, *stride, *padding, kc.empty((r, n, l), dtype))
    cols_t = kc.layout.permute3(cols, (2, 0, 1), kc.empty((l, r, n), dtype))  # (L, R, N)
    out_t = kc.gemm(w.reshape(l, k, r), cols_t, kc.empty((l, k, n), dtype))  # (L, K, N)
    out = kc.layout.permute3(out_t, (2, 1, 0), kc.empty((n, k, l), dtype))
    if b is not None:
        kc.elementwise.add_tiled(out, b, out)
    return out.reshape(n, k, ho, wo), DeviceCache((tuple(x.shape), cols_t, w, stride, padding, b is not None))


def locally_connected2d_backward(grad_out, cache, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.locally_connected2d_backward`."""
    x_shape, cols_t, w, stride, padding, has_bias = cache
    ho, wo, k, c, kh, kw = w.shape
    n, l, r, dtype = x_shape[0], ho * wo, cols_t.shape[1], np.dtype(w.dtype)
    g = _grad(grad_out, (n, k, ho, wo), dtype)
    go_t = kc.layout.permute3(g.reshape(n, k, l), (2, 1, 0), kc.empty((l, k, n), dtype))
    dw = kc.gemm(go_t, cols_t, kc.empty((l, k, r), dtype), trans_b=True)
    dx = None
    if input_grad:
        dcols_t = kc.gemm(w.reshape(l, k, r), go_t, kc.empty((l, r, n), dtype), trans_a=True)
        dcols = kc.layout.permute3(dcols_t, (1, 2, 0), kc.empty((r, n, l), dtype))
        dx = kc.layout.col2im(dcols, kh, kw, *stride, *padding, kc.empty(x_shape, dtype))
    db = None
    if has_bias:
        db = kc.norm.reduce(g.reshape(n, k * l, 1), kc.empty((k * l,), dtype)).reshape(k, ho, wo)
    return dx, dw.reshape(*w.shape), db


def linear_forward(x, w, b):
    """CUDA twin of :func:`v1sim.nn.functional.linear_forward`."""
    dtype = _result_dtype(x, w)
    x, w = dev(x, "x", 2, dtype), dev(w, "weight", 2, dtype)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"weight of shape {tuple(w.shape)} expects {w.shape[1]} input features, x has {x.shape[1]} (shape {tuple(x.shape)})")
    out = kc.gemm(x, w, kc.empty((x.shape[0], w.shape[0]), dtype), trans_b=True)
    if b is not None:
        b = dev(b, "bias", 1, dtype)
        if tuple(b.shape) != (w.shape[0],):
            raise ValueError(f"bias must have shape ({w.shape[0]},) (F_out,), got {tuple(b.shape)}")
        kc.elementwise.add_tiled(out, b, out)
    return out, DeviceCache((x, w, b is not None))


def linear_backward(grad_out, cache, input_grad=True):
    """CUDA twin of :func:`v1sim.nn.functional.linear_backward`."""
    x, w, has_bias = cache
    dtype = np.dtype(w.dtype)
    g = _grad(grad_out, (x.shape[0], w.shape[0]), dtype)
    dx = kc.gemm(g, w, kc.empty(x.shape, dtype)) if input_grad else None
    dw = kc.gemm(g, x, kc.empty(w.shape, dtype), trans_a=True)
    db = kc.norm.reduce(g.reshape(g.shape[0], g.shape[1], 1), kc.empty((w.shape[0],), dtype)) if has_bias else None
    return dx, dw, db


# --------------------------------------------------------------------------
# element-wise non-linearities
# --------------------------------------------------------------------------


def _activation(kernel):
    def forward(x):
        x = dev(x, "x", range(1, 7))
        out = kernel(x, kc.empty(x.shape, x.dtype))
        return out, DeviceCache((out,))

    return forward


def _activation_backward(kernel):
    def backward(grad_out, cache):
        (y,) = cache
        g = _grad(grad_out, y.shape, y.dtype)
        return kernel(g, y, kc.empty(y.shape, y.dtype))

    return backward


relu_forward, relu_backward = _activation(kc.elementwise.relu), _activation_backward(kc.elementwise.relu_backward)
tanh_forward, tanh_backward = _activation(kc.elementwise.tanh), _activation_backward(kc.elementwise.tanh_backward)
sigmoid_forward = _activation(kc.elementwise.sigmoid)
sigmoid_backward = _activation_backward(kc.elementwise.sigmoid_backward)


# --------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------


def pool_forward(x, size, stride, padding, out_hw, kind):
    """Max or average pooling of (N, C, H, W) on the device; max pooling keeps the argmax."""
    x = dev(x, "x", 4)
    out = kc.empty(tuple(x.shape[:2]) + tuple(out_hw), x.dtype)
    idx = None
    if kind == "max":
        idx = kc.empty(out.shape, np.int32)
        kc.max_pool(x, *size, *stride, *padding, out, idx)
    else:
        kc.avg_pool(x, *size, *stride, *padding, out)
    return out, DeviceCache((tuple(x.shape), tuple(out.shape), idx, size, stride, padding, kind))


def pool_backward(grad_out, cache):
    x_shape, out_shape, idx, size, stride, padding, kind = cache
    g = dev(grad_out, "grad_out", 4)
    if tuple(g.shape) != out_shape:
        raise ValueError(f"grad_out must have the forward output's shape {out_shape}, got {tuple(g.shape)}")
    return kc.layout.pool_backward(g, idx, kind, *size, *stride, *padding, kc.empty(x_shape, g.dtype))


def global_avg_pool2d_forward(x):
    x = dev(x, "x", 4)
    n, c, h, w = x.shape
    out = kc.empty((n, c), x.dtype)
    kc.layout.global_avg_pool(x.reshape(n * c, h * w), out.reshape(n * c))
    return out, DeviceCache((tuple(x.shape),))


def global_avg_pool2d_backward(grad_out, cache):
    (shape,) = cache
    n, c, h, w = shape
    g = dev(grad_out, "grad_out", 2)
    if tuple(g.shape) != (n, c):
        raise ValueError(f"grad_out must have the forward output's shape {(n, c)}, got {tuple(g.shape)}")
    dx = kc.empty(shape, g.dtype)
    kc.layout.global_avg_pool_backward(g.reshape(n * c), dx.reshape(n * c, h * w))
    return dx


def zero_pad_shortcut(x, out_channels, stride, before):
    """ResNet option-A shortcut on the device: subsample and zero-pad channels."""
    x = dev(x, "x", 4)
    n, _, h, w = x.shape
    out = kc.empty((n, out_channels, -(-h // stride[0]), -(-w // stride[1])), x.dtype)
    return kc.layout.zero_pad_shortcut(x, stride[0], stride[1], before, out)


def zero_pad_shortcut_backward(grad_out, x_shape, stride, before):
    g = dev(grad_out, "grad_out", 4)
    return kc.layout.zero_pad_shortcut_backward(g, stride[0], stride[1], before, kc.empty(x_shape, g.dtype))


