"""Register-blocked tiles: the innermost loops of a direct convolution, written in LLVM's vector IR.

A convolution on :mod:`.conv_shifted`'s wide grid is, per block of columns, a sum over taps of small
products ``W_s (K, C) @ X[:, j + off_s]``. Handed to BLAS one tap at a time, each product reads and writes
the whole output block again and packs its thin operands (16-64 channels): about half the machine's speed.
A *tile* keeps a few output rows by one or more vector registers of columns in registers for the whole sum
over taps and channels: per channel and tap it loads the input's vectors and broadcasts one weight per row,
``rows * registers`` fused multiply-adds, and writes the output once (a ResNet-20 forward pass at 16
channels: 160 GF/s on one core against BLAS's products' 60-90).

Numba's own loops do not keep such accumulators in registers (LLVM's SLP vectoriser did not fire on a
hand-unrolled kernel), so the tiles are :func:`numba.extending.intrinsic` functions that emit the vector
operations themselves: accumulators of ``<lanes x float>`` in allocas (promoted to registers by LLVM's
mem2reg), ``llvm.fma`` on them, unaligned vector loads and stores. LLVM lowers the vector type to whatever
the host has; :data:`REGISTER_BYTES` sizes the tiles so that the accumulators fill half the register file.

- :func:`correlate_block` (:func:`correlate_tile`): ``out[r, j] = sum_i sum_c W[r, i, c] * x[c, j + off_i]``,
  the forward pass and, with the transposed kernel gathering the spread gradient, the input gradient;
- :func:`gradient_block`: ``dW[i, c, :] += sum_j x[c, j + off_i] * Gᵀ[j, :]``, the weight gradient with the
  output channels in the registers' lanes (no reduction across lanes);
- :mod:`.bank_tiles`: a filter bank on images, the filters in the lanes (built on :func:`_sum_taps`).

Every sum runs in a fixed order (taps, then channels or columns), so a tile's bits depend on neither the
threads nor the blocking around it.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic

__all__ = [
    "ACCUMULATORS",
    "CHUNK",
    "FEW_ROWS",
    "LANES_BYTES",
    "REGISTER_BYTES",
    "ROWS",
    "correlate_block",
    "correlate_tile",
    "gradient_block",
    "gradient_eligible",
    "pack_rows",
    "whole_registers",
    "whole_rows",
]


def _register_bytes() -> int:
    """Bytes of the widest vector register Numba compiles for: 64 with AVX-512, 32 with AVX, else 16."""
    named = config.CPU_NAME not in (None, "host")
    if named and config.CPU_FEATURES is None:  # a named target (e.g. generic, for portable caches): assume SSE
        return 16
    features = config.CPU_FEATURES
    if features is None:
        try:
            features = llvm.get_host_cpu_features().flatten()
        except RuntimeError:  # LLVM cannot read this host's features (Numba then compiles without them too)
            features = ""
    enabled = {f[1:] for f in features.split(",") if f.startswith("+")}
    return 64 if "avx512f" in enabled else 32 if "avx" in enabled else 16


#: Bytes of one vector register on this machine's Numba target.
REGISTER_BYTES = _register_bytes()

#: Accumulator registers per tile: half of AVX-512's 32 registers (of AVX's 16), the rest for operands.
ACCUMULATORS = 16 if REGISTER_BYTES == 64 else 8

#: Bytes of a :func:`correlate_tile` row: two registers (two independent chains per weight broadcast) ...
LANES_BYTES = 2 * REGISTER_BYTES

#: ... and its rows.
ROWS = ACCUMULATORS // 2

#: Tiles of columns that :func:`correlate_block` runs for every group of rows before moving on: their input
#: window stays in the L1/L2 cache while all the weights pass over it.
CHUNK = 4


def _vector(context, dtype, lanes):
    fty = context.get_value_type(dtype)
    suffix = f"v{lanes}{'f32' if fty == ir.FloatType() else 'f64'}"
    return ir.VectorType(fty, lanes), suffix


def _pointer(builder, array, index, vty):
    return builder.bitcast(builder.gep(array, [index]), vty.as_pointer())


def _opaque(builder, value):
    """``value`` through an empty inline assembly block: LLVM cannot see that it is loop-invariant, so the
    products computed from it stay where they are used (hoisted before a tile's loops, a store's 32 offsets
    held 32 registers across the multiply-adds and spilled them: 3.7 against 2.7 ms on the digits bank)."""
    fnty = ir.FunctionType(value.type, [value.type])
    return builder.asm(fnty, "", "=r,0", [value], side_effect=True)


def _sum_taps(context, builder, sig, args, rows: int, registers: int, unit_rows: bool = False, chain_rows=False):
    """The accumulators of :func:`_tile`'s sum (``rows`` lists of ``registers`` allocas), its vector type and
    lanes; ``args`` as :func:`_tile`'s first ten. ``chain_rows``: each row's operand address is the last one's
    plus ``wrow`` through :func:`_opaque`, a plain register operand. ``unit_rows``: a second copy of the loops
    for ``wrow == 1``, whose rows' operands are then constant offsets from one address (with a runtime ``wrow``
    LLVM ran out of registers for the rows' addresses and chained adds: 31 instructions a step against 25 on
    the digits bank)."""
    xa, xoffs_a, wa, woffs_a = (context.make_array(sig.args[i])(context, builder, args[i]) for i in (0, 2, 4, 6))
    xbase, ldx, wbase, ldw, wrow, n_in = (args[i] for i in (1, 3, 5, 7, 8, 9))
    lanes = REGISTER_BYTES * 8 // sig.args[0].dtype.bitwidth
    vty, suffix = _vector(context, sig.args[0].dtype, lanes)
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vty, [vty] * 3), f"llvm.fma.{suffix}")
    i32, i64 = ir.IntType(32), ir.IntType(64)
    broadcast = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
    undef = ir.Constant(vty, ir.Undefined)
    zero = ir.Constant(vty, None)
    accs = [[cgutils.alloca_once_value(builder, zero) for _ in range(registers)] for _ in range(rows)]
    n_taps = builder.extract_value(xoffs_a.shape, 0)

    def loops(wrow):
        with cgutils.for_range(builder, n_taps) as tap:
            xs = builder.add(xbase, builder.load(builder.gep(xoffs_a.data, [tap.index])))
            ws = builder.add(wbase, builder.load(builder.gep(woffs_a.data, [tap.index])))
            with cgutils.for_range(builder, n_in) as channel:
                at = builder.add(xs, builder.mul(channel.index, ldx))
                xv = [
                    builder.load(_pointer(builder, xa.data, builder.add(at, ir.Constant(i64, g * lanes)), vty), align=1)
                    for g in range(registers)
                ]
                wat = builder.add(ws, builder.mul(channel.index, ldw))
                row_at = builder.gep(wa.data, [wat])
                for r in range(rows):
                    if chain_rows:  # each row's address from the last through a barrier: a plain [register] operand
                        row_at = row_at if r == 0 else _opaque(builder, builder.gep(row_at, [wrow]))
                        weight = builder.load(row_at)
                    else:
                        wr = builder.add(wat, builder.mul(ir.Constant(i64, r), wrow))
                        weight = builder.load(builder.gep(wa.data, [wr]))
                    splat = builder.shuffle_vector(
                        builder.insert_element(undef, weight, ir.Constant(i32, 0)), undef, broadcast
                    )
                    for g in range(registers):
                        builder.store(builder.call(fma, [splat, xv[g], builder.load(accs[r][g])]), accs[r][g])

    if unit_rows:
        with builder.if_else(builder.icmp_signed("==", wrow, ir.Constant(wrow.type, 1)), likely=True) as (unit, other):
            with unit:
                loops(ir.Constant(wrow.type, 1))
            with other:
                loops(wrow)
    else:
        loops(wrow)
    return accs, vty, lanes


def _tile(rows: int, registers: int, accumulate: bool, chain_rows: bool = False):
    """An intrinsic ``tile(x, xbase, xoffs, ldx, w, wbase, woffs, ldw, wrow, n_in, out, obase, ldo)``::

        out[obase + r*ldo + l] (+)= sum_i sum_c w[wbase + woffs[i] + c*ldw + r*wrow] * x[xbase + xoffs[i] + c*ldx + l]

    for ``r < rows`` and ``l`` over ``registers`` vector registers of lanes; ``i`` over the taps (``xoffs``,
    ``woffs``), ``c < n_in``; ``+=`` if ``accumulate``. Arrays 1-D and contiguous, no bounds checks (callers
    pad their buffers)."""

    @intrinsic
    def tile(typingctx, x, xbase, xoffs, ldx, w, wbase, woffs, ldw, wrow, n_in, out, obase, ldo):
        sig = types.void(x, xbase, xoffs, ldx, w, wbase, woffs, ldw, wrow, n_in, out, obase, ldo)

        def codegen(context, builder, sig, args):
            oa = context.make_array(sig.args[10])(context, builder, args[10])
            obase, ldo = args[11], args[12]
            accs, vty, lanes = _sum_taps(context, builder, sig, args, rows, registers, chain_rows=chain_rows)
            i64 = ir.IntType(64)
            for r in range(rows):
                row = builder.add(obase, builder.mul(ir.Constant(i64, r), ldo))
                for g in range(registers):
                    target = _pointer(builder, oa.data, builder.add(row, ir.Constant(i64, g * lanes)), vty)
                    value = builder.load(accs[r][g])
                    if accumulate:
                        value = builder.fadd(builder.load(target, align=1), value)
                    builder.store(value, target, align=1)
            return context.get_dummy_value()

        return sig, codegen

    return tile


#: The forward pass's and the input gradient's tile: :data:`ROWS` rows of two registers, written.
correlate_tile = _tile(ROWS, 2, False)

#: The weight gradient's tiles, by the registers a row of output channels takes (``ACCUMULATORS`` in all). With
#: one register, the 16 rows' broadcast addresses are chained through barriers (``chain_rows``): LLVM had folded
#: ``r * wrow`` into indexed operands, which the core splits in two (16 channels: 60-62 -> 64-68 GMAC/s a core;
#: with 8 and 4 rows the plain addresses were 3-4% faster).
_GRADIENT_1 = _tile(ACCUMULATORS, 1, True, chain_rows=True)

#: Rows of the weight gradient's smaller tiles with one register of output channels (LeNet-5's C3: 6 input
#: channels against 16 filters, which BLAS's products ran at 15 GMAC/s a core); at least 6 accumulators
#: keep the FMA units three quarters busy.
FEW_ROWS = tuple(rows for rows in (6, 8, 12) if rows < ACCUMULATORS)
_GRADIENT_6, _GRADIENT_8, _GRADIENT_12 = (_tile(rows, 1, True, chain_rows=True) for rows in (6, 8, 12))
_GRADIENT_2, _GRADIENT_4 = (_tile(ACCUMULATORS // g, g, True) for g in (2, 4))


@njit(cache=True, nogil=True)
def correlate_block(x, xbase, xoffs, ldx, weights, n_in, out, first, length):
    """:func:`correlate_tile` over the rows of ``out`` (2-D, a multiple of :data:`ROWS` rows) and ``length``
    columns from ``first``, rounded up to whole tiles; ``weights`` are :func:`pack_rows`'s ``(w, wblock)`` and
    each tap's offset ``woffs`` into a group: ``out[r, first + j] = sum_i sum_c W[r, woffs[i] + c] *
    x[xbase + xoffs[i] + c*ldx + j]``."""
    w, wblock, woffs = weights
    n_out, ldo = out.shape
    flat = out.reshape(out.size)
    lanes = LANES_BYTES // x.itemsize
    tiles = (length + lanes - 1) // lanes
    for t0 in range(0, tiles, CHUNK):
        for r0 in range(0, n_out, ROWS):
            wbase = (r0 // ROWS) * wblock
            for t in range(t0, min(t0 + CHUNK, tiles)):
                j = t * lanes
                correlate_tile(
                    x, xbase + j, xoffs, ldx, w, wbase, woffs, ROWS, 1, n_in, flat, r0 * ldo + first + j, ldo
                )


def pack_rows(w):
    """``w`` (rows, taps * inputs) as :func:`correlate_block` reads it: groups of :data:`ROWS` rows (zeros past
    the last), each group's weights tap- and input-major with its rows innermost, flattened; and the values a
    group (``wblock``). Tap ``i``'s weights then start at ``woffs[i] = i * inputs * ROWS`` in each group."""
    rows, size = w.shape
    packed = np.zeros((whole_rows(rows), size), w.dtype)
    packed[:rows] = w
    return np.ascontiguousarray(packed.reshape(-1, ROWS, size).transpose(0, 2, 1)).reshape(-1), size * ROWS


def whole_rows(rows) -> int:
    """``rows`` rounded up to whole :data:`ROWS` (:func:`pack_rows` fills the rest with zero rows)."""
    return -(-rows // ROWS) * ROWS


@njit(cache=True, nogil=True)
def whole_registers(n_g, itemsize):
    """The most vector registers (4, 2 or 1) that ``n_g`` values fill exactly, or 0."""
    lanes = REGISTER_BYTES // itemsize
    for registers in (4, 2, 1):
        if n_g % (registers * lanes) == 0:
            return registers
    return 0


#: The one offset of a tile whose operand has no taps (the gradient's rows, pixel-major).
_NO_TAPS = np.zeros(1, np.int64)


def gradient_eligible(n_x, n_g, itemsize) -> bool:
    """Whether :func:`gradient_block` takes ``n_x`` rows against ``n_g`` columns: whole registers of columns
    (1, 2 or 4 a tile) and whole tiles of rows, or with one register of columns one tile of
    :data:`FEW_ROWS` rows."""
    registers = whole_registers(n_g, itemsize)
    return registers > 0 and (n_x % (ACCUMULATORS // registers) == 0 or registers == 1 and n_x in FEW_ROWS)


@njit(cache=True, nogil=True)
def gradient_block(x, xbase, xoffs, ldx, n_x, gt, length, out):
    """``out[i, a, :] += sum_j x[xbase + xoffs[i] + a*ldx + j] * gt[j, :]`` for ``j < length``: ``out`` (taps,
    n_x, n_g) flattened, ``gt`` (columns, n_g) pixel-major (:func:`gradient_eligible` sizes)."""
    n_g = gt.shape[1]
    registers = whole_registers(n_g, x.itemsize)
    rows, width = ACCUMULATORS // registers, registers * (REGISTER_BYTES // x.itemsize)
    if registers == 1 and n_x < rows:  # one of the FEW_ROWS tiles
        rows = n_x
    flat, one = gt.reshape(gt.size), _NO_TAPS
    for i in range(xoffs.shape[0]):
        for a0 in range(0, n_x, rows):
            xs = xbase + xoffs[i] + a0 * ldx
            for b0 in range(0, n_g, width):
                args = (flat, b0, one, n_g, x, xs, one, 1, ldx, length, out, (i * n_x + a0) * n_g + b0, n_g)
                if registers == 4:
                    _GRADIENT_4(*args)
                elif registers == 2:
                    _GRADIENT_2(*args)
                elif rows == ACCUMULATORS:
                    _GRADIENT_1(*args)
                elif rows == 12:
                    _GRADIENT_12(*args)
                elif rows == 8:
                    _GRADIENT_8(*args)
                else:
                    _GRADIENT_6(*args)
