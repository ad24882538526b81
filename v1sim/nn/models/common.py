"""Parts the zoo's builders share: Krizhevsky's LRN, the checked class count, the FC classifier head."""

from __future__ import annotations

from ..._core.validate import check_positive_int
from ..activation import ReLU
from ..layers import Flatten, Linear
from ..normalization import Dropout, LocalResponseNorm

__all__ = ["classes", "classifier", "lrn"]


def lrn():
    """Krizhevsky et al.'s LRN (n=5, alpha=1e-4, beta=0.75, k=2); alpha x5 for the core's alpha/n convention."""
    return LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)


def classes(num_classes) -> int:
    """``num_classes`` checked under its own name (else the error would name the last Linear's ``out_features``)."""
    return check_positive_int(num_classes, "num_classes")


def classifier(in_features, hidden, num_classes, p, rng, names=("fc6", "fc7", "fc8")):
    """Flatten, then (Linear, ReLU, Dropout) per hidden width, then the class scores."""
    layers, width = [("flatten", Flatten())], in_features
    for name, h in zip(names, hidden):
        i = name[2:]
        layers += [(name, Linear(width, h, rng=rng)), (f"relu{i}", ReLU()), (f"drop{i}", Dropout(p, rng=rng))]
        width = h
    return layers + [(names[len(hidden)], Linear(width, classes(num_classes), rng=rng))]
