"""Top layers of the hierarchies: labelled S4 prototypes (nearest / IntVec) and a ridge readout.

Public via :mod:`v1sim.hierarchy`.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import (
    as_float_array,
    check_choice,
    check_labels,
    check_positive_float,
    check_positive_int,
)
from ..backend import matmul
from .connections import connection_kernel
from .layers import SLayer

__all__ = ["PrototypeClassifier", "RidgeReadout"]

PROTOTYPE_BLOCK = 4096  # S4 prototypes whose weights are made and multiplied together (38 MB on MNIST)


class PrototypeClassifier:
    """Labelled S4 cells: nearest-prototype and interpolating-vector (IntVec) classification.

    Each prototype is an S-cell plane whose connection area is the whole
    UC3 map (the ``US4`` :class:`SLayer`, valid correlation, 1x1 output).
    Similarity is the c-weighted cosine ``s_k = e_k / (b_k v)`` between the
    UC3 vector ``x`` and prototype ``X_k``: the S4 cell with the largest
    output, whatever its threshold.

    Parameters
    ----------
    templates : (K, C, h, w) array_like
        Prototype sums (any positive scale).
    labels : (K,) array_like of int
        Class of each prototype.
    r : float
        Selectivity of the US4 cells (for the maps; classification uses ``s``).
    c_taper : float
        Connection weights: Gaussian of sigma ``c_taper * h``.

    References
    ----------
    .. [1] Fukushima K (2003). Neocognitron for handwritten digit recognition.
       Neurocomputing 51:161-180 (supervised competitive learning of US4).
    .. [2] Fukushima K (2007). Interpolating vectors for robust pattern
       recognition. Neural Networks 20(8):904-916.
    .. [3] Fukushima K (2010). Neocognitron trained with winner-kill-loser
       rule. Neural Networks 23(7):926-938.
    """

    def __init__(self, templates, labels, *, r=1.0, c_taper=0.5, device="auto"):
        t = as_float_array(templates, "templates", ndim=4)
        self.labels = check_labels(labels, t.shape[0])
        h, w = t.shape[2:]
        c = connection_kernel((h, w), c_taper * max(h, w))
        # The prototypes are held once, as the layer's templates: its weights a_k = c X_k / ||X_k||_c are
        # computed from them a block at a time (full MNIST: 41,500 x 2,352 values, 0.39 GB each way).
        self.layer = SLayer(t, r=r, c=c, padding="valid", device=device, name="US4", keep_weights=False)
        self.n_classes = int(self.labels.max()) + 1
        # The S4 cell's cosine is s_k = x.a_k / ||x||_c (||.||_c: the c-weighted norm), so similarity() is
        # one GEMM (BLAS) per block of prototypes with the layer's own weights, not a correlation per plane.
        self._sqrt_c = np.sqrt(c).astype(np.float32)
        self._members = [np.flatnonzero(self.labels == k) for k in range(self.n_classes)]
        self._gram_blocks = None  # made when IntVec first needs them (not while the model is still learning)

    @property
    def templates(self):
        return self.layer.templates

    @property
    def _gram(self) -> list:
        """IntVec's cosines between prototypes of one class only: one Gram block per class.

        ``sum_k K_k^2`` entries instead of ``K^2``, indexed by the prototype's rank within its class:
        ``a_i . a_j / c``. Computed in float64, kept in float32 (full MNIST: 0.7 GB instead of 1.4), on first
        use: a model that is still learning its readout does not hold them yet.
        """
        if self._gram_blocks is None:
            d = self.layer.templates[0].size
            self._gram_blocks = [
                _class_gram(self.layer.weights(i).reshape(len(i), d), self.layer.c) for i in self._members
            ]
        return self._gram_blocks

    def similarity(self, c3) -> np.ndarray:
        """Cosines (N, K) float32 between UC3 maps (N, C, h, w) and every prototype (0 for a blank input).

        ``s_k = e_k / (b_k v)``, the S4 cell's excitation over its V-cell input,
        computed as matrix products in the c-weighted space, ``PROTOTYPE_BLOCK``
        prototypes at a time.
        """
        x = np.asarray(self.layer._check_input(c3), dtype=np.float32)
        xf = x.reshape(len(x), -1)
        k = self.layer.n_planes
        s = np.empty((len(x), k), dtype=np.float32)
        for lo in range(0, k, PROTOTYPE_BLOCK):
            w = self.layer.weights(slice(lo, lo + PROTOTYPE_BLOCK))
            matmul(xf, w.reshape(len(w), -1).T, out=s[:, lo : lo + len(w)])
        norm = np.linalg.norm((x * self._sqrt_c).reshape(len(x), -1), axis=1)  # ||x||_c
        s /= np.maximum(norm, 1e-12)[:, None]
        return s

    def class_maxima(self, us4) -> np.ndarray:
        """UC4: per class, the largest US4 response among its prototypes, (N, classes, 1, 1)."""
        out = np.zeros((len(us4), self.n_classes) + us4.shape[2:], dtype=us4.dtype)
        for k, sel in enumerate(self._members):
            if sel.size:
                out[:, k] = us4[:, sel].max(axis=1)
        return out

    def predict(self, c3, *, method="intvec", candidates=16, similarity=None) -> np.ndarray:
        """Labels (N,) by the most similar prototype ("nearest") or line segment ("intvec").

        ``similarity`` (N, K) from :meth:`similarity` may be passed to skip computing it.
        """
        check_choice(method, "method", ("intvec", "nearest"))
        candidates = check_positive_int(candidates, "candidates")
        s = self.similarity(c3) if similarity is None else np.asarray(similarity)
        if method == "nearest":
            return self.labels[s.argmax(axis=1)]
        return self.intvec_scores(s, candidates).argmax(axis=1)

    def intvec_scores(self, s, candidates=16) -> np.ndarray:
        """Per-class IntVec similarity (N, classes) from prototype cosines ``s`` (N, K).

        For prototypes ``X_i``, ``X_j`` of one class, the interpolating vectors
        ``(1 - l) X_i + l X_j`` (0 <= l <= 1) span a cone; the best cosine with
        the unit input over it is the length of the input's projection onto
        span(X_i, X_j) when both projection coefficients are positive, else
        ``max(s_i, s_j)``. A class scores its best segment (or single
        prototype). Fukushima (2007) pairs all reference vectors of a class;
        only the ``candidates`` most similar prototypes of each class are
        paired here (an efficiency restriction of ours: on MNIST the test error
        stops falling at about 16, see :class:`NeocognitronConfig`).
        """
        s = np.asarray(s)
        scores = np.full((s.shape[0], self.n_classes), -np.inf)
        for k, idx in enumerate(self._members):
            if idx.size:
                scores[:, k] = _intvec_class(s[:, idx], self._gram[k], candidates)
        return scores

    def class_scores(self, c3, candidates=16, *, batch_size=2000) -> tuple[np.ndarray, np.ndarray]:
        """The labels by the nearest prototype (N,) and the IntVec scores (N, classes), one class at a time.

        The numbers of :meth:`predict` ("nearest") and :meth:`intvec_scores` of :meth:`similarity` (up to
        BLAS's rounding: a dot product's sums may come in another order when a product is cut otherwise;
        ties between classes go to the prototype learned first, as ``argmax`` over all of them does), but
        only one class's prototype weights and Gram block exist at a time, and nothing is kept: on full
        MNIST the Gram blocks of all classes were 0.7 GB, the (1,000, K) cosines of a batch 0.17 GB.
        """
        candidates = check_positive_int(candidates, "candidates")
        x = np.asarray(self.layer._check_input(c3), dtype=np.float32)
        xf = x.reshape(len(x), -1)
        norm = np.maximum(np.linalg.norm((x * self._sqrt_c).reshape(len(x), -1), axis=1), 1e-12)  # ||x||_c
        n = len(x)
        best, best_index = np.full(n, -np.inf, dtype=np.float32), np.full(n, -1, dtype=np.int64)
        scores = np.full((n, self.n_classes), -np.inf)
        for k, idx in enumerate(self._members):
            if idx.size == 0:
                continue
            w = self.layer.weights(idx).reshape(len(idx), -1)
            gram = _class_gram(w, self.layer.c)
            for lo in range(0, n, batch_size):
                sk = matmul(xf[lo : lo + batch_size], w.T)
                sk /= norm[lo : lo + batch_size, None]
                top = sk.argmax(axis=1)  # the first of a class's best: its earliest prototype (idx ascends)
                value, index = sk[np.arange(len(sk)), top], idx[top]
                cur, cur_index = best[lo : lo + batch_size], best_index[lo : lo + batch_size]
                better = (value > cur) | ((value == cur) & (index < cur_index))
                cur[better], cur_index[better] = value[better], index[better]
                scores[lo : lo + batch_size, k] = _intvec_class(sk, gram, candidates)
        return self.labels[best_index], scores


def _class_gram(w, c) -> np.ndarray:
    """Cosines ``a_i . a_j / c`` (K_k, K_k) float32 between one class's weights (K_k, D), computed in float64."""
    inv_c = np.broadcast_to(1.0 / c, (w.shape[1] // c.size,) + c.shape).reshape(-1)
    w = w.astype(np.float64)
    return matmul(w * inv_c, w.T).astype(np.float32)


def _intvec_class(s, gram, candidates) -> np.ndarray:
    """IntVec's score (N,) of one class from the cosines ``s`` (N, K_k) with its prototypes and their Gram block."""
    n = s.shape[0]
    sk = s.astype(np.float64)
    m = min(candidates, sk.shape[1])
    top = np.argpartition(-sk, m - 1, axis=1)[:, :m] if sk.shape[1] > m else np.broadcast_to(np.arange(m), (n, m))
    st = np.take_along_axis(sk, top, axis=1)  # (N, m)
    best = st.max(axis=1)
    if m > 1:
        g = gram[top[:, :, None], top[:, None, :]]  # (N, m, m)
        si, sj = st[:, :, None], st[:, None, :]
        det = 1.0 - g * g
        ok = det > 1e-6  # float32 unit vectors: a pair closer than ~0.06 degrees is one point
        det = np.where(ok, det, 1.0)
        alpha = (si - g * sj) / det
        beta = (sj - g * si) / det
        inside = ok & (alpha > 0) & (beta > 0)
        proj = np.sqrt(np.maximum(alpha * si + beta * sj, 0.0))
        best = np.maximum(best, np.where(inside, proj, -np.inf).max(axis=(1, 2)))
    return best


class RidgeReadout:
    """A linear readout: ridge regression onto one-hot targets, on standardised features.

    ``W = argmin ||Z W - T||^2 + alpha ||W||^2`` with ``Z`` the z-scored
    features and ``T`` one-hot targets centred per class; solved in closed
    form (primal or dual, whichever system is smaller), float64.

    Parameters
    ----------
    alpha : float
        L2 penalty, > 0.
    """

    def __init__(self, alpha=1.0):
        self.alpha = check_positive_float(alpha, "alpha")
        self.weights = self.bias = self.mean = self.scale = self.classes = None

    def fit(self, features, labels, *, chunk=8192) -> RidgeReadout:
        """Fit on features (N, D) and integer labels (N,); sums accumulate in float64, ``chunk`` rows at a time."""
        x = as_float_array(features, "features", ndim=2)
        y = check_labels(labels, len(x))
        self.classes = np.unique(y)
        n, d = x.shape
        self.mean = x.mean(axis=0, dtype=np.float64)
        var = sum((((x[i : i + chunk] - self.mean) ** 2).sum(axis=0) for i in range(0, n, chunk)), np.zeros(d))
        self.scale = np.sqrt(var / n) + 1e-6
        self.bias = np.bincount(np.searchsorted(self.classes, y), minlength=len(self.classes)) / n
        if d <= n:  # primal: (Z'Z + alpha I) W = Z'(T - mean T)
            gram, rhs = self.alpha * np.eye(d), np.zeros((d, len(self.classes)))
            for i in range(0, n, chunk):
                z = (x[i : i + chunk] - self.mean) / self.scale
                gram += z.T @ z
                rhs += z.T @ ((y[i : i + chunk, None] == self.classes[None, :]) - self.bias)
            self.weights = np.linalg.solve(gram, rhs)
        else:  # dual: W = Z' (Z Z' + alpha I)^-1 (T - mean T)
            z = (x - self.mean) / self.scale
            t = (y[:, None] == self.classes[None, :]) - self.bias
            self.weights = z.T @ np.linalg.solve(z @ z.T + self.alpha * np.eye(n), t)
        return self

    def decision_function(self, features, *, chunk=1024) -> np.ndarray:
        """Class scores (N, classes) float64, ``chunk`` rows at a time (full MNIST's 10,000 test maps in float64
        were 0.56 GB of temporaries at once)."""
        if self.weights is None:
            raise RuntimeError("the readout is not fitted yet")
        x = as_float_array(features, "features", ndim=2)
        if x.shape[1] != self.weights.shape[0]:
            raise ValueError(f"features must have {self.weights.shape[0]} columns, got {x.shape[1]}")
        out = np.empty((len(x), self.weights.shape[1]))
        for i in range(0, len(x), chunk):
            z = (x[i : i + chunk].astype(np.float64) - self.mean) / self.scale
            out[i : i + chunk] = z @ self.weights + self.bias
        return out

    def predict(self, features) -> np.ndarray:
        return self.classes[self.decision_function(features).argmax(axis=1)]

    def state_dict(self) -> dict:
        return {
            "weights": self.weights,
            "bias": self.bias,
            "mean": self.mean,
            "scale": self.scale,
            "classes": self.classes,
            "alpha": np.array(self.alpha),
        }

    @classmethod
    def from_state(cls, state: dict) -> RidgeReadout:
        """The readout :meth:`state_dict` saved; ValueError naming the arrays missing from ``state``."""
        missing = [f"readout/{k}" for k in ("alpha", "weights", "bias", "mean", "scale", "classes") if k not in state]
        if missing:
            raise ValueError(f"the readout's arrays {missing} are missing")
        out = cls(float(state["alpha"]))
        for k in ("weights", "bias", "mean", "scale", "classes"):
            setattr(out, k, np.asarray(state[k]))
        return out
