"""Softmax cross-entropy, the classification loss of every ConvNet in the lecture."""

from __future__ import annotations

from . import functional as F

__all__ = ["CrossEntropyLoss"]


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

    def __init__(self):
        self._cache = None

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
