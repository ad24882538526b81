"""Register tiles for filter banks on images (:mod:`.correlate`'s direct method): the filters in the vector
lanes and a few output pixels in the rows, summed over each channel's kernel rows with one broadcast pixel
against one vector of filters per tap (:mod:`.register_tiles`' sum, :func:`.register_tiles._sum_taps`), and
written channel-major by the tile itself, each register's block transposed in registers as it is stored.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .register_tiles import ACCUMULATORS, REGISTER_BYTES, _opaque, _pointer, _sum_taps, whole_registers

__all__ = ["bank_block", "bank_shape"]


def _transposed(builder, vectors):
    """``len(vectors) <= lanes`` vectors (pixels) of lanes (filters) transposed in registers: per lane, a short
    vector of its value in each. The block is padded to a power of two ``span`` of vectors with zeros; each of
    log2(span) rounds of shuffles swaps one bit of the vector's index with the same bit of the lane's, after
    which lane ``j``'s values are lanes ``[j // span * span, + len(vectors))`` of vector ``j % span``."""
    count, vty = len(vectors), vectors[0].type
    lanes, span = vty.count, 1 << (len(vectors) - 1).bit_length()
    i32 = ir.IntType(32)
    v = list(vectors) + [ir.Constant(vty, None)] * (span - count)
    bit = 1
    while bit < span:
        for r in range(span):
            if r & bit:
                continue
            low = [lane if not lane & bit else lanes + lane - bit for lane in range(lanes)]
            high = [lane + bit if not lane & bit else lanes + lane for lane in range(lanes)]
            v[r], v[r | bit] = (
                builder.shuffle_vector(v[r], v[r | bit], ir.Constant(ir.VectorType(i32, lanes), m)) for m in (low, high)
            )
        bit *= 2
    out = []
    for j in range(lanes):
        start = j // span * span
        mask = ir.Constant(ir.VectorType(i32, count), list(range(start, start + count)))
        out.append(builder.shuffle_vector(v[j % span], v[j % span], mask))
    return out


def _bank_tile(rows: int, registers: int):
    """An intrinsic ``tile(wk, k0, woffs, n_k, x, pixel, xoffs, one, stride, n_in, out, obase, plane, valid,
    n_store)``: :func:`.register_tiles._tile`'s sum with the filters in the lanes (``wk``) and ``rows``
    pixels ``stride`` apart broadcast from ``x``, written channel-major: ``out[obase + f*plane + r]`` for
    filters ``f < n_store`` and pixels ``r < valid``. Each register's block of rows (a register's lanes of
    them at a time) is transposed in registers (:func:`_transposed`) and a filter's pixels stored as one short
    vector, or one at a time in a partial tile: no pixel-major scratch, no second pass."""

    @intrinsic
    def tile(typingctx, wk, k0, woffs, n_k, x, pixel, xoffs, one, stride, n_in, out, obase, plane, valid, n_store):
        sig = types.void(wk, k0, woffs, n_k, x, pixel, xoffs, one, stride, n_in, out, obase, plane, valid, n_store)

        def codegen(context, builder, sig, args):
            oa = context.make_array(sig.args[10])(context, builder, args[10])
            obase, plane, valid, n_store = args[11:15]
            accs, vty, lanes = _sum_taps(context, builder, sig, args, rows, registers, unit_rows=True)
            i64 = ir.IntType(64)
            plane = _opaque(builder, plane)  # else LLVM hoists all f*plane out of the loops around the tile

            def pieces():  # per filter: (first pixel, that group's pixels as one short vector) for each group
                found = [[] for _ in range(registers * lanes)]
                for g in range(registers):
                    for r0 in range(0, rows, lanes):
                        group = [builder.load(accs[r][g]) for r in range(r0, min(rows, r0 + lanes))]
                        for j, pixels in enumerate(_transposed(builder, group)):
                            found[g * lanes + j].append((r0, pixels))
                return found

            def address(f, r0):
                return builder.add(obase, builder.add(builder.mul(ir.Constant(i64, f), plane), ir.Constant(i64, r0)))

            whole = builder.and_(
                builder.icmp_signed("==", valid, ir.Constant(valid.type, rows)),
                builder.icmp_signed(">=", n_store, ir.Constant(n_store.type, registers * lanes)),
            )
            # each branch transposes on its own: shared, the edge's element-wise reads had the fast path
            # spill every short vector to the stack first
            with builder.if_else(whole, likely=True) as (fast, edge):
                with fast:  # every filter, every pixel: a short store a group, no branches
                    for f, groups in enumerate(pieces()):
                        for r0, pixels in groups:
                            builder.store(pixels, _pointer(builder, oa.data, address(f, r0), pixels.type), align=1)
                with edge:  # a row's last partial tile, or filters past the bank's end: element by element
                    for f, groups in enumerate(pieces()):
                        with builder.if_then(builder.icmp_signed("<", ir.Constant(i64, f), n_store)):
                            for r0, pixels in groups:
                                left = builder.sub(valid, ir.Constant(valid.type, r0))
                                size = ir.Constant(valid.type, pixels.type.count)
                                count = builder.select(builder.icmp_signed("<", left, size), left, size)
                                with cgutils.for_range(builder, count) as q:  # empty when left <= 0
                                    value = builder.extract_element(pixels, q.index)
                                    at = builder.add(address(f, r0), q.index)
                                    builder.store(value, builder.gep(oa.data, [at]))
            return context.get_dummy_value()

        return sig, codegen

    return tile


#: Tiles for :func:`bank_block` by registers of filters (1, 2 or 4): all the accumulators in rows of pixels, or
#: three quarters of them (rows of 12, 6 or 3 pixels fit outputs 18 or 36 wide that 16, 8 or 4 would not).
_BANK_1, _BANK_1_ALT = _bank_tile(ACCUMULATORS, 1), _bank_tile(3 * ACCUMULATORS // 4, 1)
_BANK_2, _BANK_2_ALT = _bank_tile(ACCUMULATORS // 2, 2), _bank_tile(3 * ACCUMULATORS // 8, 2)
_BANK_4, _BANK_4_ALT = _bank_tile(ACCUMULATORS // 4, 4), _bank_tile(max(1, 3 * ACCUMULATORS // 16), 4)


def bank_shape(n_k, wo, itemsize) -> tuple[int, int, bool]:
    """``(registers, rows, alternative)`` of :func:`bank_block`'s tiles for ``n_k`` filters and outputs ``wo``
    wide, or ``(0, 0, False)`` if the filters do not fill whole registers."""
    registers = whole_registers(n_k, itemsize)
    if registers == 0:
        return 0, 0, False
    full, alt = ACCUMULATORS // registers, max(1, 3 * ACCUMULATORS // (4 * registers))
    waste = lambda rows: -(-wo // rows) * rows  # noqa: E731
    return (registers, alt, True) if waste(alt) < waste(full) else (registers, full, False)


@njit(cache=True, nogil=True)
def bank_block(x, xbase, xoffs, n_taps_row, wk, woffs, shape, strides, out, obase, plane, wo, n_rows, n_store):
    """``n_rows`` rows of ``wo`` output pixels (``strides``: in ``x`` between rows, between pixels; the first
    at ``x[xbase]``) by every filter, in tiles of ``shape = (registers, rows, alternative)`` (:func:`bank_shape`),
    written channel-major: ``out[obase + k*plane + y*wo + p] = sum_i sum_v x[xbase + y*strides[0] +
    p*strides[1] + xoffs[i] + v] * wk[woffs[i] + v*n_k + k]`` for ``k < n_store``, with ``i`` over the kernel's
    rows of every channel (``xoffs``, ``woffs``: their offsets in ``x`` and in the filters ``wk``, (C, kh, kw,
    n_k) flattened; ``n_k`` whole registers, zeros past ``n_store``)."""
    registers, rows, alternative = shape
    row_step, stride = strides
    n_k = wk.shape[0] // (woffs.shape[0] * n_taps_row)
    width = registers * (REGISTER_BYTES // x.itemsize)
    for y in range(n_rows):
        for p in range(0, wo, rows):
            pixel, valid = xbase + y * row_step + p * stride, min(rows, wo - p)
            for k0 in range(0, n_k, width):
                at, left = obase + k0 * plane + y * wo + p, n_store - k0
                args = (wk, k0, woffs, n_k, x, pixel, xoffs, 1, stride, n_taps_row, out, at, plane, valid, left)
                if registers == 4:
                    if alternative:
                        _BANK_4_ALT(*args)
                    else:
                        _BANK_4(*args)
                elif registers == 2:
                    if alternative:
                        _BANK_2_ALT(*args)
                    else:
                        _BANK_2(*args)
                elif alternative:
                    _BANK_1_ALT(*args)
                else:
                    _BANK_1(*args)
