"""Learning rules of the Neocognitron: competitive learning with add-if-silent, and labelled S4.

Both rules present the images in one seeded order, a batch at a time: the
responses of the cell planes that exist at the start of a batch come from
one :class:`~v1sim.hierarchy.SLayer` call (the kernel layer); the images of
the batch are then processed one after another, and planes born inside the
batch are checked exactly, in patch space (``sqrt(c)``-weighted patch
vectors, where the S-cell's cosine is a dot product). Only reinforcements of
pre-existing planes take effect at the end of the batch (mini-batch
staleness, as in any batched competitive learning).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._core.validate import check_labels
from ..backend import matmul
from ..kernels.ops import pad_zero
from .base import as_images, batched
from .connections import connection_kernel, vcell_unchecked
from .layers import SLayer
from .readout import RidgeReadout

__all__ = ["learn_stage"]


def learn_stage(net, stage, images, labels, *, seed, progress=False, state=None, should_stop=None, cache=None):
    """Learn ``stage`` of ``net`` in place; None when done, else a partial state (see Neocognitron.learn_stage)."""
    cfg = net.config
    if stage not in ("S2", "S3", "S4", "readout"):
        raise ValueError(f"stage must be 'S2', 'S3', 'S4' or 'readout'; got {stage!r}")
    below = {"S2": (), "S3": ("S2",), "S4": ("S2", "S3"), "readout": ("S2", "S3")}[stage]
    missing = [s for s in below if s not in net.learned]
    if missing:
        raise RuntimeError(f"learn {', '.join(missing)} before {stage}")
    x = as_images(images, "images", cfg.image_size)
    y = check_labels(labels, len(x))
    cache = {} if cache is None else cache
    order = np.random.default_rng([seed, 0]).permutation(len(x))  # the presentation order of every stage
    if stage in ("S2", "S3"):
        spec = cfg.stages[int(stage[1]) - 1]
        level = spec.level
        key = f"UC{level - 1}"
        maps = cache.get(key)
        if maps is None:
            subset = x[order[: cfg.n_unsupervised]]
            maps = net.features(subset, key, progress=progress, desc=f"{key} of the learning set")
        result = competitive_learning(
            maps,
            size=spec.s_size,
            max_planes=spec.planes,
            r=spec.s_r_learn,
            c=net.connection_weights(spec.s_size),
            min_input=cfg.ais_min_input,
            batch_size=cfg.batch_size,
            device=net.device,
            name=f"US{level}",
            progress=progress,
            state=state,
            should_stop=should_stop,
        )
        if "position" in result:
            return result
        net.set_planes(stage, result["templates"], result["counts"])
        cache[f"UC{level}"] = np.concatenate(
            [net.layers[f"UC{level}"](net.layers[f"US{level}"](maps[i : i + 500])) for i in range(0, len(maps), 500)]
        )
        return None
    feats = cache.get("UC3/all")
    if feats is None:
        feats = cache["UC3/all"] = net.features(x[order], "UC3", progress=progress, desc="UC3 of the training set")
    if stage == "S4":
        result = supervised_learning(
            feats,
            y[order],
            r=cfg.s4_r_learn,
            max_planes=cfg.s4_planes,
            c_taper=cfg.c_taper,
            batch_size=4 * cfg.batch_size,
            progress=progress,
            state=state,
            should_stop=should_stop,
        )
        if "position" in result:
            return result
        net.set_planes("S4", result["templates"], result["counts"], result["labels"])
        return None
    net.readout = RidgeReadout(cfg.ridge_alpha).fit(feats.reshape(len(feats), -1), y[order])
    return None


def _patches(xp, i, size):
    """(H*W, C*size*size) patch vectors of padded image i (C, H+2p, W+2p), in SLayer weight order."""
    win = sliding_window_view(xp[i], (size, size), axis=(1, 2))  # (C, H, W, s, s)
    c, h, w = win.shape[:3]
    return np.ascontiguousarray(win.transpose(1, 2, 0, 3, 4)).reshape(h * w, c * size * size)


def competitive_learning(
    maps,
    *,
    size,
    max_planes,
    r,
    c,
    min_input,
    batch_size=64,
    device="auto",
    name="S",
    progress=False,
    state=None,
    should_stop=None,
) -> dict:
    """Unsupervised learning of one S-layer: winner-take-all in hypercolumns, add-if-silent.

    For every image, in order (Fukushima 2003, Sec. 3; 2013 for the name):

    1. Responses ``u(n, k)`` of all planes at the learning selectivity ``r``.
    2. Each hypercolumn (position n) elects its most active cell; for every
       plane k, the strongest of the positions it won is its seed ``n_k``,
       and the plane, shared by all positions, is reinforced with the input
       patch there: ``X_k += x(n_k)`` (``Delta a = q c x`` with the
       normalisation ``a = c X / ||X||_c``, so ``q`` cancels).
    3. Add-if-silent: while some hypercolumn has all its S-cells silent
       although its input is not (``v(n) >= min_input * max v``), a new plane
       is born from the patch of the strongest such position, ``X = x(n)``;
       the positions it now answers (cosine > theta) are no longer silent.
       At most ``max_planes`` planes.

    Returns
    -------
    dict
        ``templates`` (K, C, size, size) float32 (patch sums) and ``counts``
        (K,) int64 (how many patches each plane learned); with ``position``
        (next image) when ``should_stop()`` interrupted between batches.
    """
    m, ch, h, w = maps.shape
    pad = size // 2
    d = ch * size * size
    wvec = np.sqrt(np.broadcast_to(c, (ch, size, size))).reshape(-1).astype(np.float64)
    theta = r / (1.0 + r)
    templates = np.zeros((0, d))
    counts = np.zeros(0, dtype=np.int64)
    start = 0
    if state is not None:
        templates = np.asarray(state["templates"], dtype=np.float64).reshape(-1, d)
        counts = np.asarray(state["counts"], dtype=np.int64)
        start = int(state["position"])
    bar = batched(m, batch_size, progress=progress, desc=f"learning {name}", start=start)
    for b0 in bar:
        xb = maps[b0 : b0 + batch_size]
        k0 = len(templates)
        u_all = None
        if k0:
            layer = SLayer(templates.reshape(k0, ch, size, size), r=r, c=c, device=device, name=name)
            u_all = layer(xb).reshape(len(xb), k0, h * w)
        v_all = vcell_unchecked(xb, c, (pad, pad), device=device).reshape(len(xb), h * w).astype(np.float64)
        xp = pad_zero(xb, pad, pad)
        for i in range(len(xb)):
            v = v_all[i]
            pw = None  # sqrt(c)-weighted patches, made on demand
            u = u_all[i].T.astype(np.float64) if k0 else np.zeros((h * w, 0))
            if len(templates) > k0:  # planes born earlier in this batch
                pw = _patches(xp, i, size) * wvec
                tw = templates[k0:] * wvec
                e = pw @ (tw / np.linalg.norm(tw, axis=1, keepdims=True)).T
                hh = theta * v[:, None]
                u = np.hstack([u, r * np.maximum(e - hh, 0.0) / (1.0 + hh)])
            best = u.max(axis=1) if u.shape[1] else np.zeros(h * w)
            active = best > 0
            if active.any():
                winner = u.argmax(axis=1)
                pos = np.flatnonzero(active)
                pos = pos[np.argsort(-best[pos], kind="stable")]
                planes, first = np.unique(winner[pos], return_index=True)
                if pw is None:
                    pw = _patches(xp, i, size) * wvec
                templates[planes] += pw[pos[first]] / wvec
                counts[planes] += 1
            vmax = v.max()
            if len(templates) >= max_planes or vmax <= 0:
                continue
            cand = np.flatnonzero(~active & (v >= min_input * vmax) & (v > 0))
            if cand.size and pw is None:
                pw = _patches(xp, i, size) * wvec
            new = []
            while cand.size and len(templates) + len(new) < max_planes:
                j = cand[np.argmax(v[cand])]
                new.append(pw[j] / wvec)
                unit = pw[j] / np.linalg.norm(pw[j])
                cos = (pw[cand] @ unit) / np.maximum(v[cand], 1e-12)
                cand = cand[(cos <= theta) & (cand != j)]
            if new:
                templates = np.vstack([templates, np.asarray(new)])
                counts = np.concatenate([counts, np.ones(len(new), dtype=np.int64)])
        bar.set_postfix(planes=len(templates))
        if should_stop is not None and should_stop() and b0 + batch_size < m:
            bar.close()
            return {
                "templates": templates.reshape(-1, ch, size, size),
                "counts": counts,
                "position": np.int64(b0 + batch_size),
            }
    bar.close()
    if not len(templates):
        raise RuntimeError(f"{name} learned no cell plane: its inputs were silent (lower ais_min_input?)")
    return {"templates": templates.reshape(-1, ch, size, size).astype(np.float32), "counts": counts}


def _unit_rows(rows, wvec):
    """Rows (M, D) in the c-weighted space (times ``wvec``), scaled to unit length (0 stays 0), float32."""
    u = np.asarray(rows, dtype=np.float64) * wvec
    u /= np.maximum(np.sqrt((u * u).sum(axis=1, keepdims=True)), 1e-12)
    return u.astype(np.float32)


#: prototypes per block of the S4 learning buffers (38 MB of float32 sums per block at 2,352 values a prototype)
S4_BLOCK_ROWS = 4096


class _PrototypeRows:
    """The S4 prototypes while they are learned: sums ``X`` and c-weighted unit rows in fixed blocks.

    Blocks of ``block_rows`` rows are added as prototypes are born, never copied to grow (a doubling buffer
    held its old and new copies at once and up to twice the rows needed: 2.5 GB of the 3.0 GB peak on full
    MNIST). The cosines with every prototype are one :func:`v1sim.backend.matmul` per block, written into
    column blocks of one output: those of one product over all rows up to BLAS's rounding (the order of a dot
    product's sums can depend on how a product is cut). On 5,000 MNIST digits the prototypes, the readout and
    the errors are bit for bit those of the one-buffer version; on all 60,000, the errors.
    """

    def __init__(self, d, block_rows):
        self.d, self.block_rows, self.count = d, block_rows, 0
        self.sums: list[np.ndarray] = []
        self.units: list[np.ndarray] = []
        self.labels, self.counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)

    def append(self, sums, units, labels, counts) -> None:
        """Add rows (sums and unit rows (M, d) float32, labels and counts (M,))."""
        self.labels, self.counts = np.concatenate([self.labels, labels]), np.concatenate([self.counts, counts])
        done = 0
        while done < len(sums):
            if self.count == len(self.sums) * self.block_rows:
                self.sums.append(np.empty((self.block_rows, self.d), dtype=np.float32))
                self.units.append(np.empty((self.block_rows, self.d), dtype=np.float32))
            b, row = divmod(self.count, self.block_rows)
            m = min(len(sums) - done, self.block_rows - row)
            self.sums[b][row : row + m] = sums[done : done + m]
            self.units[b][row : row + m] = units[done : done + m]
            done, self.count = done + m, self.count + m

    def blocks(self):
        """(first row, sums block, units block) of the rows in use, each block cut to them."""
        for b in range(len(self.sums)):
            m = min(self.block_rows, self.count - b * self.block_rows)
            yield b * self.block_rows, self.sums[b][:m], self.units[b][:m]

    def cosines(self, fw) -> np.ndarray:
        """``fw @ units.T`` (N, count) float32: the cosines of unit rows ``fw`` (N, d) with every prototype."""
        out = np.empty((len(fw), self.count), dtype=np.float32)
        for lo, _, units in self.blocks():
            matmul(fw, units.T, out=out[:, lo : lo + len(units)])
        return out

    def reinforce(self, k, x) -> None:
        b, row = divmod(k, self.block_rows)
        self.sums[b][row] += x
        self.counts[k] += 1

    def renormalise(self, rows, wvec) -> None:
        """Recompute the unit rows of prototypes ``rows`` (sorted) from their sums, in one call."""
        where = [divmod(int(k), self.block_rows) for k in rows]
        units = _unit_rows(np.stack([self.sums[b][i] for b, i in where]), wvec)
        for (b, i), u in zip(where, units):
            self.units[b][i] = u

    def take(self, shape) -> np.ndarray:
        """The sums as one (count, *shape) array, freeing the blocks as they are copied (the rows are gone)."""
        self.units.clear()
        out = np.empty((self.count, self.d), dtype=np.float32)  # its pages are taken as the blocks are copied
        for b in range(len(self.sums)):
            lo = b * self.block_rows
            m = min(self.block_rows, self.count - lo)
            out[lo : lo + m] = self.sums[b][:m]
            self.sums[b] = None  # given back before the next block is copied
        self.sums.clear()
        return out.reshape((self.count,) + shape)


def supervised_learning(
    features,
    labels,
    *,
    r,
    max_planes,
    c_taper,
    batch_size=256,
    progress=False,
    state=None,
    should_stop=None,
    block_rows=S4_BLOCK_ROWS,
) -> dict:
    """Supervised competitive learning of the labelled S4 planes (Fukushima 2003, US4).

    Each training vector (a whole UC3 map) is compared with every prototype
    (c-weighted cosine). If the most similar one has the vector's label and
    a cosine above ``theta = r / (1 + r)``, it is reinforced (``X += x``);
    otherwise a new prototype with that label is born from the vector. At
    most ``max_planes`` prototypes (later misfits are then dropped).

    The cosines with the prototypes that exist at the start of a batch are
    matrix products (float32 unit vectors in the c-weighted space, BLAS
    through :func:`v1sim.backend.matmul`, ``block_rows`` prototypes at a
    time); the sums ``X`` accumulate in float32 (like the features) and only
    the prototypes reinforced in a batch are renormalised. The prototypes
    born in a batch are compared in a buffer of their own until it ends.

    Returns
    -------
    dict
        ``templates`` (K, C, h, w) float32, ``labels`` (K,), ``counts`` (K,);
        with ``position`` when interrupted.
    """
    n, ch, h, w = features.shape
    d = ch * h * w
    c = connection_kernel((h, w), c_taper * max(h, w))
    wvec = np.sqrt(np.broadcast_to(c, (ch, h, w))).reshape(-1).astype(np.float64)
    theta = r / (1.0 + r)
    start = 0
    protos = _PrototypeRows(d, block_rows)
    if state is not None:
        sums = np.asarray(state["templates"], dtype=np.float32).reshape(-1, d)
        protos.append(
            sums, _unit_rows(sums, wvec), np.asarray(state["labels"], dtype=np.int64), np.asarray(state["counts"])
        )
        start = int(state["position"])
    # the prototypes born in the batch in hand (at most one per vector)
    new_sums, new_units = np.zeros((batch_size, d), dtype=np.float32), np.zeros((batch_size, d), dtype=np.float32)
    new_labels, new_counts = np.zeros(batch_size, dtype=np.int64), np.zeros(batch_size, dtype=np.int64)
    bar = batched(n, batch_size, progress=progress, desc="learning US4", start=start)
    for b0 in bar:
        k0 = protos.count
        fb = features[b0 : b0 + batch_size].reshape(-1, d)
        fw = _unit_rows(fb, wvec)
        sims = protos.cosines(fw) if k0 else np.zeros((len(fb), 0), dtype=np.float32)
        kn = 0  # prototypes born in this batch: rows k0 .. k0 + kn, in new_* until the batch ends
        reinforced = set()
        for i in range(len(fb)):
            if not fw[i].any():  # a silent UC3 map teaches nothing
                continue
            s = np.concatenate([sims[i], new_units[:kn] @ fw[i]]) if kn else sims[i]
            k = int(s.argmax()) if s.size else -1
            label = labels[b0 + i]
            if k >= 0 and (protos.labels[k] if k < k0 else new_labels[k - k0]) == label and s[k] > theta:
                if k < k0:
                    protos.reinforce(k, fb[i])
                    reinforced.add(k)  # renormalised at the end of the batch
                else:
                    j = k - k0
                    new_sums[j] += fb[i]
                    new_counts[j] += 1
                    new_units[j] = _unit_rows(new_sums[j : j + 1], wvec)[0]
            elif k0 + kn < max_planes:
                new_sums[kn], new_units[kn], new_labels[kn], new_counts[kn] = fb[i], fw[i], label, 1
                kn += 1
        if reinforced:
            protos.renormalise(sorted(reinforced), wvec)
        protos.append(new_sums[:kn], new_units[:kn], new_labels[:kn], new_counts[:kn])
        bar.set_postfix(prototypes=protos.count)
        if should_stop is not None and should_stop() and b0 + batch_size < n:
            bar.close()
            return {
                "labels": protos.labels.copy(),
                "counts": protos.counts.copy(),
                "templates": protos.take((ch, h, w)),
                "position": np.int64(b0 + batch_size),
            }
    bar.close()
    return {"labels": protos.labels.copy(), "counts": protos.counts.copy(), "templates": protos.take((ch, h, w))}
