"""A convolution path's gradients against float64 central differences, through ``nn.functional`` (shared by the
test files of each CPU convolution path)."""

from __future__ import annotations

import numpy as np
from naive import assert_grad

from v1sim.nn import functional as F


def assert_conv2d_gradients(x_shape, w_shape, stride, padding, seed, on_path):
    """dx, dw and db of ``F.conv2d_backward`` for random x, w and bias against central differences;
    ``on_path(blocks)`` must hold for the plan the convolution ran, so the check covers the path it names."""
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out, cache = F.conv2d_forward(x, w, b, stride, padding)
    assert on_path(cache.blocks)
    g = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(g, cache)

    def loss():
        return float(np.sum(F.conv2d_forward(x, w, b, stride, padding)[0] * g))

    assert_grad(dx, loss, x, rng, name="x")
    assert_grad(dw, loss, w, rng, name="weight")
    assert_grad(db, loss, b, rng, name="bias")
