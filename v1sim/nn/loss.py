"""Training objectives: softmax cross-entropy (every classifier of the lecture) and sparse reconstruction.

An objective is what :func:`v1sim.nn.train.fit` minimises: ``criterion(output,
target) -> float`` (the batch mean), ``backward() -> dL/d output``, and for
the logs ``metric`` (a name), ``score(output, target)`` (the batch's sum of a
per-sample score in [0, 1]; the error is 1 - its mean), ``targets(x, y)``
(what the output is compared with) and ``chance_loss(x, y)`` (the loss of a
trivial guess, the scale of the divergence checks).
"""

from __future__ import annotations

import math

import numpy as np

from . import functional as F
from .device import to_host

__all__ = ["CrossEntropyLoss", "ReconstructionLoss"]


class CrossEntropyLoss:
    """Softmax cross-entropy between logits and integer class labels, averaged over the batch.

    ``loss = mean_n( log sum_k exp(z[n, k]) - z[n, y[n]] )``, computed with
    the max-shifted log-sum-exp so large logits do not overflow.

    Call it, then ``backward()`` for the gradient to feed the network::

        loss = criterion(model(x), y)
        model.backward(criterion.backward())

    Shape
    -----
    - logits: (N, K), finite
    - labels: (N,) integers in [0, K)
    - output: float

    Raises
    ------
    TypeError
        Non-integer labels.
    ValueError
        Non-finite logits, or labels of the wrong length or out of range.
    """

    metric = "accuracy"
    chance_name = "ln C"

    def __init__(self):
        self._cache = None

    @staticmethod
    def targets(images, labels):
        """The labels (the images are the input, not the target)."""
        return labels

    @staticmethod
    def chance_loss(images, labels) -> float:
        """``ln C``, the loss of a uniform guess over the ``C = max(labels) + 1`` classes (at least 2)."""
        return math.log(max(2, int(np.max(labels)) + 1))

    @staticmethod
    def score(logits, labels) -> int:
        """The number of images whose largest logit is their label."""
        return int(np.count_nonzero(to_host(logits).argmax(axis=1) == labels))  # device logits: one copy

    def forward(self, logits, labels) -> float:
        loss, self._cache = F.cross_entropy_forward(logits, labels)
        return loss

    __call__ = forward

    def backward(self, grad: float = 1.0):
        """Gradient ``(softmax(z) - onehot(y)) / N`` (times ``grad``) with respect to the logits, (N, K)."""
        if self._cache is None:
            raise RuntimeError("CrossEntropyLoss.backward called without a preceding forward pass")
        cache, self._cache = self._cache, None
        return F.cross_entropy_backward(cache, grad)

    def __repr__(self) -> str:
        return "CrossEntropyLoss()"


class ReconstructionLoss:
    """Squared reconstruction error of images, plus the activity penalties of a network: a sparse-coding objective.

    ``loss = 0.5 * mean_n |x_hat_n - x_n|^2 + sum of the model's L1Penalty penalties``:
    Olshausen & Field's (1996) cost, preserved information plus sparseness
    [1]_. The target is the input image itself (no labels). The penalties
    are those the :class:`~v1sim.nn.sparse.L1Penalty` layers of ``model``
    recorded in the forward pass just run (their backward passes add their
    gradients, so :meth:`backward` returns only the reconstruction's).

    ``score`` is the variance explained per image, ``1 - |x_hat - x|^2 / |x|^2``
    clipped to [0, 1] (images are zero-mean patches); the logged error is
    the unexplained fraction.

    Parameters
    ----------
    model : v1sim.nn.Module, optional
        Whose L1Penalty layers' penalties are added (None: none).

    Shape
    -----
    - output, target: (N, C, H, W), the same shape
    - result: float

    References
    ----------
    .. [1] B. A. Olshausen, D. J. Field, "Emergence of simple-cell receptive
       field properties by learning a sparse code for natural images",
       Nature 381 (1996) 607-609.
    """

    metric = "variance_explained"
    chance_name = "L0"  # the loss of a zero reconstruction

    def __init__(self, model=None):
        from .sparse import L1Penalty

        self._penalties = [] if model is None else [m for m in model.modules() if isinstance(m, L1Penalty)]
        self._cache = None

    @staticmethod
    def targets(images, labels):
        """The images themselves."""
        return images

    @staticmethod
    def chance_loss(images, labels) -> float:
        """``0.5 * mean_n |x_n|^2``, the loss of reconstructing every image as zero (its mean)."""
        x = np.asarray(images, dtype=np.float64)
        return max(0.5 * float(np.sum(x * x)) / max(len(x), 1), 1e-12)

    @staticmethod
    def score(output, images) -> float:
        """Sum over the batch of the clipped variance explained, ``1 - |x_hat - x|^2 / |x|^2``."""
        x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        r = np.asarray(to_host(output), dtype=np.float64).reshape(len(images), -1) - x
        energy = np.maximum(np.sum(x * x, axis=1), 1e-30)
        return float(np.sum(np.clip(1.0 - np.sum(r * r, axis=1) / energy, 0.0, 1.0)))

    def forward(self, output, images) -> float:
        out, x = np.asarray(output), np.asarray(images)
        if out.shape != x.shape:
            raise ValueError(f"output must have the images' shape {x.shape}, got {out.shape}")
        residual = out - x.astype(out.dtype, copy=False)
        self._cache = residual
        n = max(len(x), 1)
        return 0.5 * float(np.sum(residual.astype(np.float64) ** 2)) / n + sum(p.penalty for p in self._penalties)

    __call__ = forward

    def backward(self, grad: float = 1.0):
        """Gradient ``(x_hat - x) / N`` (times ``grad``) with respect to the output."""
        if self._cache is None:
            raise RuntimeError("ReconstructionLoss.backward called without a preceding forward pass")
        residual, self._cache = self._cache, None
        return residual * (grad / max(len(residual), 1))

    def __repr__(self) -> str:
        return f"ReconstructionLoss({len(self._penalties)} penalties)"
