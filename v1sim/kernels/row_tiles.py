"""Register tiles for thin-patch convolutions (:mod:`.conv_rows`): a few filters of a few weights each.

Forward (:data:`correlate`, :func:`filters_tile`): a tile holds :data:`FILTERS` filters by :data:`REGISTERS`
vector registers of one output row's columns and sums every tap and channel into them
(:func:`.register_tiles._sum_taps`: one broadcast weight per filter against the input row's shifted vector),
then stores the row masked to its width.

Weight gradient (:data:`weight_grad`, :func:`products_tile`): for LeNet-5's C1 (1 channel, 6 filters 5x5)
``dW[k, c, u, v] = sum_n sum_y sum_x g[n, k, y, x] * xp[n, c, y + u, x + v]`` has 150 outputs, each a sum
over 50,176 products at batch 64. Summed as dot products along one output row at a time (28 values), every
row paid a reduction across the vector's lanes: 13 GMAC/s a core. A tile here keeps, for a few filters
``k`` and every kernel column ``v``, one vector accumulator per register of output columns, adds the
products of whole rows (``g``'s row times ``xp``'s row shifted by ``v``) over every image and row of a
group, and reduces across the lanes once at the end.

Loads and stores are masked to a row's ``valid`` columns (rows wider than a tile's registers run in
segments), so the tiles never touch a row past its end, and the weight gradient's dropped lanes add zeros.
Every sum runs in a fixed order, so the result does not depend on the threads.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .cpu.common import by_device
from .register_tiles import REGISTER_BYTES, _sum_taps

__all__ = [
    "ACCUMULATORS",
    "FILTERS",
    "REGISTERS",
    "WIDTHS",
    "columns",
    "correlate",
    "filters_per_tile",
    "filters_tile",
    "pack_filters",
    "products_tile",
    "warmup",
    "weight_grad",
]

#: Kernel widths with compiled weight-gradient tiles (the forward tiles take any width).
WIDTHS = (3, 5, 7)

#: Vector registers of output columns a tile covers (32 float32 columns with AVX-512).
REGISTERS = 2

#: At most this many accumulators a tile (filters x kernel columns x registers): three quarters of AVX-512's
#: 32 registers, the rest for the filters' row and the shifted input.
ACCUMULATORS = 24


@njit(cache=True, nogil=True)
def filters_per_tile(kw):
    """Filters a weight-gradient tile holds for kernels ``kw`` wide (at least one)."""
    return max(1, ACCUMULATORS // (kw * REGISTERS))


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
            masks = _masks(builder, valid, lanes)  # lanes below `valid` in each register of columns

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


# the tiles by kernel width and filters (module globals, not closure cells: Numba's cache keys a closure by its
# cells' objects, a new key in every process, and recompiled the drivers each time)
_P3_1, _P3_2, _P3_3, _P3_4 = (products_tile(f, 3) for f in (1, 2, 3, 4))
_P5_1, _P5_2 = (products_tile(f, 5) for f in (1, 2))
_P7_1 = products_tile(1, 7)
assert tuple(map(filters_per_tile.py_func, WIDTHS)) == (4, 2, 1), "the tiles above, by width"  # no compile at import


@njit(inline="always")
def _products(kw, filters, args):
    if kw == 3:
        if filters == 4:
            _P3_4(*args)
        elif filters == 3:
            _P3_3(*args)
        elif filters == 2:
            _P3_2(*args)
        else:
            _P3_1(*args)
    elif kw == 5:
        if filters == 2:
            _P5_2(*args)
        else:
            _P5_1(*args)
    else:
        _P7_1(*args)


def _weight_grad(g, x, parts):
    """``parts[t]`` = the sum over the images of group ``t`` of g (x) x, for w (K, C, kh, kw), ``kw`` in
    :data:`WIDTHS`: x padded and widened (:func:`.conv_rows.forward`), g (N, K, Ho, Wo) contiguous, parts
    (tasks, K, C, kh, kw) written."""
    n_img, n_ch, hp, wp = x.shape
    n_k, ho, wo = g.shape[1], g.shape[2], g.shape[3]
    tasks, kh, kw = parts.shape[0], parts.shape[3], parts.shape[4]
    gf, xf, pf = g.reshape(g.size), x.reshape(x.size), parts.reshape(parts.size)
    width = REGISTERS * (REGISTER_BYTES // g.itemsize)
    most = filters_per_tile(kw)
    per_task = n_k * n_ch * kh * kw
    for t in prange(tasks):  # groups of images fixed by parts.shape[0], not by the threads
        lo, hi = t * n_img // tasks, (t + 1) * n_img // tasks
        for i in range(per_task):
            pf[t * per_task + i] = 0
        for k0 in range(0, n_k, most):
            for c in range(n_ch):
                for u in range(kh):
                    for s in range(0, wo, width):
                        gb = (lo * n_k + k0) * ho * wo + s
                        xb = ((lo * n_ch + c) * hp + u) * wp + s
                        ob = t * per_task + ((k0 * n_ch + c) * kh + u) * kw
                        strides = (n_k * ho * wo, ho * wo, wo, xf, xb, n_ch * hp * wp, wp)
                        args = (gf, gb, *strides, hi - lo, ho, min(width, wo - s), pf, ob, n_ch * kh * kw)
                        _products(kw, min(most, n_k - k0), args)


#: ``weight_grad[device](g, xp, parts)`` (:func:`_weight_grad`) for "cpu" and "parallel".
weight_grad = by_device(_weight_grad)


#: Filters a forward tile holds (its rows; fewer filters are zeros, not stored), each :data:`REGISTERS` registers of
#: output columns wide.
FILTERS = 8


@intrinsic
def filters_tile(typingctx, x, xbase, xoffs, ldx, w, wbase, woffs, ldw, wrow, n_in, out, obase, ldo, valid, stored):
    """:data:`FILTERS` filters by :data:`REGISTERS` registers of one output row's columns:
    ``out[obase + r*ldo + l] = sum_i sum_c w[wbase + woffs[i] + c*ldw + r*wrow] * x[xbase + xoffs[i] + c*ldx + l]``
    (:func:`.register_tiles._sum_taps`) for rows ``r < stored`` and columns ``l < valid``, stored masked: the
    columns past a row's end and the rows past the bank's end are not written."""
    sig = types.void(x, xbase, xoffs, ldx, w, wbase, woffs, ldw, wrow, n_in, out, obase, ldo, valid, stored)

    def codegen(context, builder, sig, args):
        oa = context.make_array(sig.args[10])(context, builder, args[10])
        obase, ldo, valid, stored = args[11:15]
        accs, vty, lanes = _sum_taps(context, builder, sig, args, FILTERS, REGISTERS)
        fty = vty.element
        i1, i32, i64 = ir.IntType(1), ir.IntType(32), ir.IntType(64)
        suffix = f"v{lanes}{'f32' if fty == ir.FloatType() else 'f64'}"
        ptr = ir.PointerType(vty)
        masked_store = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [vty, ptr, i32, ir.VectorType(i1, lanes)]),
            f"llvm.masked.store.{suffix}.p0",
        )
        masks = _masks(builder, valid, lanes)
        for r in range(FILTERS):
            with builder.if_then(builder.icmp_signed("<", ir.Constant(i64, r), stored), likely=True):
                row = builder.add(obase, builder.mul(ir.Constant(i64, r), ldo))
                for g in range(REGISTERS):
                    at = builder.add(row, ir.Constant(i64, g * lanes))
                    target = builder.bitcast(builder.gep(oa.data, [at]), ptr)
                    builder.call(masked_store, [builder.load(accs[r][g]), target, ir.Constant(i32, 1), masks[g]])
        return context.get_dummy_value()

    return sig, codegen


def _correlate(x, wk, taps, bias, out):
    """``out (N, K, Ho, Wo)`` = bias + the valid correlation of ``x`` (N, C, Hp, Wp; rows widened to whole tiles
    of columns past ``Wo + kw - 1``) with the filters packed by :func:`pack_filters` (``wk``, ``taps``: each
    tap's offset in a channel's plane of x and in a group of packed filters)."""
    xoffs, woffs = taps
    n_img, n_ch, hp, wp = x.shape
    n_k, ho, wo = out.shape[1], out.shape[2], out.shape[3]
    xf, of = x.reshape(x.size), out.reshape(out.size)
    width = REGISTERS * (REGISTER_BYTES // x.itemsize)
    group = wk.shape[0] // ((n_k + FILTERS - 1) // FILTERS)  # packed values a group of filters
    for t in prange(n_img * ho):
        n, oy = t // ho, t % ho
        for k0 in range(0, n_k, FILTERS):
            at = ((n * n_k + k0) * ho + oy) * wo
            for s in range(0, wo, width):
                xb = (n * n_ch * hp + oy) * wp + s
                stored = min(FILTERS, n_k - k0)
                wb = (k0 // FILTERS) * group
                filters_tile(
                    xf,
                    xb,
                    xoffs,
                    hp * wp,
                    wk,
                    wb,
                    woffs,
                    FILTERS,
                    1,
                    n_ch,
                    of,
                    at + s,
                    ho * wo,
                    min(width, wo - s),
                    stored,
                )
        if bias.shape[0]:
            for k in range(n_k):
                row = of[((n * n_k + k) * ho + oy) * wo : ((n * n_k + k) * ho + oy + 1) * wo]
                for i in range(wo):
                    row[i] += bias[k]


#: ``correlate[device](x, wk, taps, bias, out)`` (:func:`_correlate`) for "cpu" and "parallel".
correlate = by_device(_correlate)


def pack_filters(w, wp):
    """``(wk, taps)`` for :data:`correlate`: w (K, C, kh, kw) as groups of :data:`FILTERS` filters (zeros past
    the last), each tap- then channel-major with its filters innermost, flattened; and each tap's offset in a
    channel's plane of x rows ``wp`` wide and in a group."""
    k, c, kh, kw = w.shape
    groups = -(-k // FILTERS)
    packed = np.zeros((groups * FILTERS, c, kh, kw), w.dtype)
    packed[:k] = w
    wk = np.ascontiguousarray(packed.reshape(groups, FILTERS, c, kh * kw).transpose(0, 3, 2, 1)).reshape(-1)
    xoffs = (np.arange(kh)[:, None] * wp + np.arange(kw)[None, :]).reshape(-1)
    return wk, (xoffs, np.arange(kh * kw) * c * FILTERS)


def columns(wo: int, itemsize: int) -> int:
    """Output columns the forward tiles read input for: ``wo`` rounded up to whole tiles of columns."""
    width = REGISTERS * (REGISTER_BYTES // itemsize)
    return -(-wo // width) * width


def _masks(builder, valid, lanes):
    """Per register of columns, its lanes below ``valid``."""
    i32, i64 = ir.IntType(32), ir.IntType(64)
    limit = builder.insert_element(ir.Constant(ir.VectorType(i64, lanes), None), valid, ir.Constant(i32, 0))
    limit = builder.shuffle_vector(limit, limit, ir.Constant(ir.VectorType(i32, lanes), [0] * lanes))
    masks = []
    for r in range(REGISTERS):
        column = ir.Constant(ir.VectorType(i64, lanes), [r * lanes + lane for lane in range(lanes)])
        masks.append(builder.icmp_signed("<", column, limit))
    return masks


def warmup(dtype) -> None:
    """Compile (or load from Numba's cache) the forward tiles and the weight gradient for every width, on both
    devices."""
    width = columns(2, np.dtype(dtype).itemsize)
    for kw in WIDTHS:
        g, x = np.ones((1, 1, 2, 2), dtype), np.ones((1, 1, 4, width + kw - 1), dtype)
        wk, taps = pack_filters(np.ones((1, 1, 3, kw), dtype), x.shape[3])
        for device in ("cpu", "parallel"):
            weight_grad[device](g, x, np.empty((1, 1, 1, 3, kw), dtype))
            correlate[device](x, wk, taps, np.empty(0, dtype), np.empty((1, 1, 2, 2), dtype))
