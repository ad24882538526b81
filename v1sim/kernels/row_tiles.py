"""The weight gradient of a thin-patch convolution (:mod:`.conv_rows`) as products of whole rows, in registers.

For LeNet-5's C1 (1 channel, 6 filters 5x5) the gradient ``dW[k, c, u, v] = sum_n sum_y sum_x g[n, k, y, x] *
xp[n, c, y + u, x + v]`` has 150 outputs, each a sum over 50,176 products at batch 64. Summed as dot products
along one output row at a time (28 values), every row paid a reduction across the vector's lanes: 13 GMAC/s
a core. A tile here keeps, for a few filters ``k`` and every kernel column ``v``, one vector accumulator per
register of output columns, adds the products of whole rows (``g``'s row times ``xp``'s row shifted by ``v``)
over every image and row of a group, and reduces across the lanes once at the end.

Loads are masked to the row's ``valid`` columns (rows wider than a tile's registers run in segments), so the
tile never reads past a row into the next image or past the arrays' ends, and the lanes it drops add zeros.
Every sum runs in a fixed order (images, rows, then lanes), so the result does not depend on the threads.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .cpu.common import by_device
from .register_tiles import REGISTER_BYTES

__all__ = ["ACCUMULATORS", "REGISTERS", "filters_per_tile", "products_tile", "warmup", "weight_grad"]

#: Vector registers of output columns a tile covers (32 float32 columns with AVX-512).
REGISTERS = 2

#: At most this many accumulators a tile (filters x kernel columns x registers): three quarters of AVX-512's
#: 32 registers, the rest for the filters' row and the shifted input.
ACCUMULATORS = 24


def filters_per_tile(kw: int) -> int:
    """Filters a tile holds for kernels ``kw`` wide (at least one)."""
    return max(1, ACCUMULATORS // (kw * REGISTERS))


@functools.cache
def products_tile(filters: int, kw: int):
    """An intrinsic ``tile(g, gbase, ldg_n, ldg_k, ldg_y, x, xbase, ldx_n, ldx_y, n_img, n_rows, valid, out, obase,
    ldo)``::

        out[obase + a*ldo + v] += sum_n sum_y sum_l g[gbase + n*ldg_n + a*ldg_k + y*ldg_y + l]
                                                   * x[xbase + n*ldx_n + y*ldx_y + v + l]

    for ``a < filters``, ``v < kw``, ``n < n_img``, ``y < n_rows`` and ``l < valid`` (at most
    :data:`REGISTERS` registers of lanes); 1-D contiguous arrays, no bounds checks beyond the masked lanes."""

    @intrinsic
    def tile(typingctx, g, gbase, ldg_n, ldg_k, ldg_y, x, xbase, ldx_n, ldx_y, n_img, n_rows, valid, out, obase, ldo):
        sig = types.void(g, gbase, ldg_n, ldg_k, ldg_y, x, xbase, ldx_n, ldx_y, n_img, n_rows, valid, out, obase, ldo)

        def codegen(context, builder, sig, args):
            ga, xa, oa = (context.make_array(sig.args[i])(context, builder, args[i]) for i in (0, 5, 12))
            gbase, ldg_n, ldg_k, ldg_y, _, xbase, ldx_n, ldx_y, n_img, n_rows, valid, _, obase, ldo = args[1:]
            fty = context.get_value_type(sig.args[0].dtype)
            lanes = REGISTER_BYTES * 8 // sig.args[0].dtype.bitwidth
            vty, i1, i32, i64 = ir.VectorType(fty, lanes), ir.IntType(1), ir.IntType(32), ir.IntType(64)
            suffix = f"v{lanes}{'f32' if fty == ir.FloatType() else 'f64'}"
            ptr = ir.PointerType(vty)
            module = builder.module
            fma = cgutils.get_or_insert_function(module, ir.FunctionType(vty, [vty] * 3), f"llvm.fma.{suffix}")
            masked_load = cgutils.get_or_insert_function(
                module, ir.FunctionType(vty, [ptr, i32, ir.VectorType(i1, lanes), vty]), f"llvm.masked.load.{suffix}.p0"
            )
            zero = ir.Constant(vty, None)
            masks = []  # lanes below `valid` in each register of columns
            for r in range(REGISTERS):
                column = ir.Constant(ir.VectorType(i64, lanes), [r * lanes + lane for lane in range(lanes)])
                limit = builder.insert_element(ir.Constant(ir.VectorType(i64, lanes), None), valid, ir.Constant(i32, 0))
                limit = builder.shuffle_vector(limit, limit, ir.Constant(ir.VectorType(i32, lanes), [0] * lanes))
                masks.append(builder.icmp_signed("<", column, limit))

            def load(array, at, r):
                address = builder.bitcast(builder.gep(array.data, [builder.add(at, ir.Constant(i64, r * lanes))]), ptr)
                return builder.call(masked_load, [address, ir.Constant(i32, 1), masks[r], zero])

            accs = [
                [[cgutils.alloca_once_value(builder, zero) for _ in range(REGISTERS)] for _ in range(kw)]
                for _ in range(filters)
            ]
            with cgutils.for_range(builder, n_img) as image:
                g_image = builder.add(gbase, builder.mul(image.index, ldg_n))
                x_image = builder.add(xbase, builder.mul(image.index, ldx_n))
                with cgutils.for_range(builder, n_rows) as row:
                    g_row = builder.add(g_image, builder.mul(row.index, ldg_y))
                    x_row = builder.add(x_image, builder.mul(row.index, ldx_y))
                    grads = [
                        [
                            load(ga, builder.add(g_row, builder.mul(ir.Constant(i64, a), ldg_k)), r)
                            for r in range(REGISTERS)
                        ]
                        for a in range(filters)
                    ]
                    for v in range(kw):
                        for r in range(REGISTERS):
                            shifted = load(xa, builder.add(x_row, ir.Constant(i64, v)), r)
                            for a in range(filters):
                                acc = accs[a][v][r]
                                builder.store(builder.call(fma, [grads[a][r], shifted, builder.load(acc)]), acc)
            reduce = cgutils.get_or_insert_function(
                module, ir.FunctionType(fty, [fty, vty]), f"llvm.vector.reduce.fadd.{suffix}"
            )
            for a in range(filters):
                for v in range(kw):
                    total = ir.Constant(fty, 0.0)
                    for r in range(REGISTERS):  # in order: registers, then lanes (no reassociation)
                        total = builder.call(reduce, [total, builder.load(accs[a][v][r])])
                    at = builder.add(obase, builder.add(builder.mul(ir.Constant(i64, a), ldo), ir.Constant(i64, v)))
                    target = builder.gep(oa.data, [at])
                    builder.store(builder.fadd(builder.load(target), total), target)
            return context.get_dummy_value()

        return sig, codegen

    return tile


def _driver(kw: int):
    """``weight_grad`` for kernels ``kw`` wide (tiles of :func:`filters_per_tile` filters, fewer for the last)."""
    most = filters_per_tile(kw)
    tile_1, tile_2, tile_3, tile_4 = (products_tile(min(f, most), kw) for f in (1, 2, 3, 4))

    def weight_grad(g, x, parts):
        n_img, n_ch, hp, wp = x.shape
        n_k, ho, wo = g.shape[1], g.shape[2], g.shape[3]
        tasks, kh = parts.shape[0], parts.shape[3]
        gf, xf, pf = g.reshape(g.size), x.reshape(x.size), parts.reshape(parts.size)
        width = REGISTERS * (REGISTER_BYTES // g.itemsize)
        per_task = n_k * n_ch * kh * kw
        for t in prange(tasks):  # groups of images fixed by parts.shape[0], not by the threads
            lo, hi = t * n_img // tasks, (t + 1) * n_img // tasks
            for i in range(per_task):
                pf[t * per_task + i] = 0
            for k0 in range(0, n_k, most):
                filters = min(most, n_k - k0)
                for c in range(n_ch):
                    for u in range(kh):
                        for s in range(0, wo, width):
                            gb = (lo * n_k + k0) * ho * wo + s
                            xb = ((lo * n_ch + c) * hp + u) * wp + s
                            ob = t * per_task + ((k0 * n_ch + c) * kh + u) * kw
                            ldg, ldx, ldo, valid = n_k * ho * wo, n_ch * hp * wp, n_ch * kh * kw, min(width, wo - s)
                            if filters >= 4:
                                tile_4(gf, gb, ldg, ho * wo, wo, xf, xb, ldx, wp, hi - lo, ho, valid, pf, ob, ldo)
                            elif filters == 3:
                                tile_3(gf, gb, ldg, ho * wo, wo, xf, xb, ldx, wp, hi - lo, ho, valid, pf, ob, ldo)
                            elif filters == 2:
                                tile_2(gf, gb, ldg, ho * wo, wo, xf, xb, ldx, wp, hi - lo, ho, valid, pf, ob, ldo)
                            else:
                                tile_1(gf, gb, ldg, ho * wo, wo, xf, xb, ldx, wp, hi - lo, ho, valid, pf, ob, ldo)

    # a name of its own per width: Numba's cache key (which ignores closure values)
    weight_grad.__name__ = weight_grad.__qualname__ = f"weight_grad_rows_{kw}"
    weight_grad.__doc__ = (
        f"parts[t] = sum over the images of group t of g (x) x, for w (K, C, kh, {kw}): x padded and widened"
        " (:func:`.conv_rows.forward`), g (N, K, Ho, Wo) contiguous, parts (tasks, K, C, kh, kw) written."
    )
    return by_device(weight_grad)


#: ``weight_grad[kw][device](g, xp, parts)`` for each compiled kernel width and "cpu" or "parallel".
weight_grad = {kw: _driver(kw) for kw in (3, 5, 7)}


def warmup(dtype) -> None:
    """Compile (or load from Numba's cache) the weight gradient for every width, on both devices."""
    for kw, devices in weight_grad.items():
        g, x = np.ones((1, 1, 2, 2), dtype), np.ones((1, 1, 4, 4 + kw), dtype)
        for fn in devices.values():
            fn(g, x, np.empty((1, 1, 1, 3, kw), dtype))
