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


def supervised_learning(
    features, labels, *, r, max_planes, c_taper, batch_size=256, progress=False, state=None, should_stop=None
) -> dict:
    """Supervised competitive learning of the labelled S4 planes (Fukushima 2003, US4).

    Each training vector (a whole UC3 map) is compared with every prototype
    (c-weighted cosine). If the most similar one has the vector's label and
    a cosine above ``theta = r / (1 + r)``, it is reinforced (``X += x``);
    otherwise a new prototype with that label is born from the vector. At
    most ``max_planes`` prototypes (later misfits are then dropped).

    The cosines with the prototypes that exist at the start of a batch are
    one matrix product (float32 unit vectors in the c-weighted space, BLAS
    through :func:`v1sim.backend.matmul`); the sums ``X`` accumulate in
    float64 and only the prototypes reinforced in a batch are renormalised.

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
    templates = np.zeros((0, d), dtype=np.float32)  # raw sums
    labs = np.zeros(0, dtype=np.int64)
    counts = np.zeros(0, dtype=np.int64)
    if state is not None:
        templates = np.asarray(state["templates"], dtype=np.float32).reshape(-1, d)
        labs = np.asarray(state["labels"], dtype=np.int64)
        counts = np.asarray(state["counts"], dtype=np.int64)
        start = int(state["position"])
    k0 = len(templates)
    # Buffers grown by doubling, never past max_planes (appending to arrays of K x D each batch would
    # copy them every time). The sums are float32 like the features they add up: on full MNIST the
    # buffers hold up to 60,000 x 2,352 values, 1.1 GB in float64.
    cap = min(max(2 * k0, 1024), max(max_planes, k0))
    sums, units = np.zeros((cap, d), dtype=np.float32), np.zeros((cap, d), dtype=np.float32)
    labs, counts = _grow(labs, cap), _grow(counts, cap)
    sums[:k0], units[:k0] = templates, _unit_rows(templates, wvec)
    bar = batched(n, batch_size, progress=progress, desc="learning US4", start=start)
    for b0 in bar:
        fb = features[b0 : b0 + batch_size].reshape(-1, d)
        fw = _unit_rows(fb, wvec)
        sims = matmul(fw, units[:k0].T) if k0 else np.zeros((len(fb), 0), dtype=np.float32)
        kn = 0  # prototypes born in this batch: rows k0 .. k0 + kn of the buffers
        if k0 + len(fb) > cap and cap < max_planes:
            cap = min(max(2 * cap, k0 + len(fb)), max_planes)
            sums, units = _grow(sums, cap), _grow(units, cap)
            labs, counts = _grow(labs, cap), _grow(counts, cap)
        reinforced = set()
        for i in range(len(fb)):
            if not fw[i].any():  # a silent UC3 map teaches nothing
                continue
            s = np.concatenate([sims[i], units[k0 : k0 + kn] @ fw[i]]) if kn else sims[i]
            k = int(s.argmax()) if s.size else -1
            label = labels[b0 + i]
            if k >= 0 and labs[k] == label and s[k] > theta:
                sums[k] += fb[i]
                counts[k] += 1
                if k < k0:
                    reinforced.add(k)  # renormalised at the end of the batch
                else:
                    units[k] = _unit_rows(sums[k : k + 1], wvec)[0]
            elif k0 + kn < max_planes:
                j = k0 + kn
                sums[j] = fb[i]
                units[j] = fw[i]
                labs[j] = label
                counts[j] = 1
                kn += 1
        if reinforced:
            rows = np.fromiter(sorted(reinforced), dtype=np.int64)
            units[rows] = _unit_rows(sums[rows], wvec)
        k0 += kn
        bar.set_postfix(prototypes=k0)
        if should_stop is not None and should_stop() and b0 + batch_size < n:
            bar.close()
            return {
                "templates": sums[:k0].reshape(-1, ch, h, w).copy(),
                "labels": labs[:k0].copy(),
                "counts": counts[:k0].copy(),
                "position": np.int64(b0 + batch_size),
            }
    bar.close()
    return {
        "templates": sums[:k0].reshape(-1, ch, h, w).copy(),
        "labels": labs[:k0].copy(),
        "counts": counts[:k0].copy(),
    }


def _grow(a, cap):
    out = np.zeros((cap,) + a.shape[1:], dtype=a.dtype)
    out[: len(a)] = a
    return out
