"""Element-wise numba-cuda kernels: activations, sums, dropout and the fused SGD step.

Every kernel takes flat (1-D) device arrays and walks them with a grid-stride
loop; the launchers (plain functions) take C-contiguous device arrays of any
shape, flatten them and write into the given output. Literal constants are
typed float32, so float32 arrays compute in float32 and float64 arrays in
float64. Scalars that multiply arrays (learning rates, dropout scales) are
passed already cast to the arrays' dtype by the launchers.

See Also
--------
v1sim.kernels.cpu.tanh_float32, v1sim.kernels.cpu.tanh_backward : the CPU twins.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32

from .common import SIMULATOR, flat, launch

_jit = cuda.jit(cache=not SIMULATOR)


@_jit
def _fill(out, value):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = value


@_jit
def _copy(src, out):  # also casts between dtypes
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = src[i]


@_jit
def _add(a, b, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = a[i] + b[i]


@_jit
def _add_tiled(a, b, out):
    # b repeats along a's leading axis: per-feature (Linear) or per-position (LocallyConnected) biases
    nb = b.size
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = a[i] + b[i % nb]


@_jit
def _relu(x, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = v if (v > 0 or v != v) else float32(0)  # NaN stays NaN, as in np.maximum


@_jit
def _relu_backward(g, y, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = g[i] if y[i] > 0 else g[i] * float32(0)


@_jit
def _tanh(x, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = math.tanh(x[i])


@_jit
def _tanh_backward(g, y, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        v = y[i]
        out[i] = g[i] * (float32(1) - v * v)


@_jit
def _sigmoid(x, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        # exp(-|x|) in (0, 1]: no overflow, and the lower tail keeps its relative precision (tanh's form hit 0 at -17)
        v = x[i]
        e = math.exp(-abs(v))
        out[i] = (float32(1) if v >= 0 else e) / (float32(1) + e)


@_jit
def _sigmoid_backward(g, y, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        v = y[i]
        out[i] = g[i] * v * (float32(1) - v)


@_jit
def _dropout(x, keep, scale, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = x[i] * scale if keep[i] else x[i] * float32(0)


@_jit
def _sgd(w, g, v, lr, weight_decay, momentum, nesterov, first):
    # PyTorch's SGD (dampening 0) in one pass; momentum == 0 leaves v untouched
    for i in range(cuda.grid(1), w.size, cuda.gridsize(1)):
        d = g[i] + weight_decay * w[i]
        if momentum != 0:
            vi = d if first else momentum * v[i] + d
            v[i] = vi
            d = d + momentum * vi if nesterov else vi
        w[i] -= lr * d


def fill(out, value):
    """``out[...] = value`` (device array)."""
    launch(_fill, out.size, flat(out), out.dtype.type(value))
    return out


def copy(src, out):
    """``out[...] = src`` between device arrays of one size (casting to ``out``'s dtype)."""
    launch(_copy, out.size, flat(src), flat(out))
    return out


def add(a, b, out):
    """``out = a + b`` for device arrays of one shape (``out`` may be ``a``)."""
    launch(_add, out.size, flat(a), flat(b), flat(out))
    return out


def add_tiled(a, b, out):
    """``out = a + b`` with ``b`` repeated over ``a``'s leading axes (``a.size`` a multiple of ``b.size``)."""
    launch(_add_tiled, out.size, flat(a), flat(b), flat(out))
    return out


def _unary(kernel):
    def run(x, out):
        launch(kernel, out.size, flat(x), flat(out))
        return out

    return run


def _binary(kernel):
    def run(g, y, out):
        launch(kernel, out.size, flat(g), flat(y), flat(out))
        return out

    return run


relu, tanh, sigmoid = _unary(_relu), _unary(_tanh), _unary(_sigmoid)
relu_backward, tanh_backward, sigmoid_backward = (
    _binary(_relu_backward),
    _binary(_tanh_backward),
    _binary(_sigmoid_backward),
)
relu.__doc__ = "``out = max(x, 0)`` on device arrays."
tanh.__doc__ = (
    "``out = tanh(x)`` on device arrays (CUDA's tanh, within 1 ulp; the CPU's float32 twin is a 4e-7 approximation)."
)
sigmoid.__doc__ = "``out = 1/(1 + e)`` (x >= 0) or ``e/(1 + e)`` (x < 0), ``e = exp(-|x|)``, on device arrays."
relu_backward.__doc__ = "``out = g * (y > 0)``, y the forward output."
tanh_backward.__doc__ = "``out = g * (1 - y^2)``, y = tanh(x) from the forward pass."
sigmoid_backward.__doc__ = "``out = g * y * (1 - y)``, y the forward output."


def dropout(x, keep, scale, out):
    """``out = x * scale`` where ``keep`` (uint8/bool device array) is set, else 0."""
    launch(_dropout, out.size, flat(x), flat(keep), out.dtype.type(scale), flat(out))
    return out


def sgd_step(w, g, v, lr, weight_decay, momentum, nesterov, first):
    """One fused SGD update of a device parameter ``w`` in place (see :class:`v1sim.nn.SGD`).

    ``v`` is the momentum buffer (updated in place; any array when
    ``momentum`` is 0); ``first`` says it holds nothing yet.
    """
    t = np.dtype(w.dtype).type
    launch(_sgd, w.size, flat(w), flat(g), flat(v), t(lr), t(weight_decay), t(momentum), bool(nesterov), bool(first))
