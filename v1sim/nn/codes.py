"""CNN codes: a trained network's features before its classifier, and nearest-neighbour retrieval in them.

The lecture's "CNN code" is the 4096-D vector AlexNet feeds its classifier:
classes separate there, so images whose codes are close look alike to the
network even where their pixels differ [1]_ [2]_. :func:`extract_codes` reads
any layer reachable through the model's :class:`~v1sim.nn.Sequential`
containers (by default :func:`code_layer`, the input of the classifier);
:func:`nearest_neighbours` and :func:`retrieval_precision` measure retrieval
by Euclidean distance, in code space as in pixel space.

References
----------
.. [1] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012 (Fig. 4: neighbours by the
   last hidden layer's Euclidean distance).
.. [2] J. Donahue et al., "DeCAF: a deep convolutional activation feature for
   generic visual recognition", ICML 2014.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import as_float_array, check_labels, check_positive_int
from ..errors import InputError, InputTypeError
from .container import Sequential
from .device import to_host
from .module import check_module
from .receptive_field import prefix_network
from .transfer import classifier_name

__all__ = ["code_layer", "code_layers", "extract_codes", "nearest_neighbours", "retrieval_precision"]


def code_layers(model) -> list[str]:
    """The layer names :func:`extract_codes` can read: every module reached through Sequential containers."""
    check_module(model)
    out = []

    def walk(module, prefix):
        for name, child in module._modules.items():
            full = f"{prefix}.{name}" if prefix else name
            out.append(full)
            if isinstance(child, Sequential):
                walk(child, full)

    if isinstance(model, Sequential):
        walk(model, "")
    return out


def code_layer(model) -> str:
    """The layer whose output the classifier (the last Linear) reads: the "CNN code" of the lecture."""
    head = classifier_name(model)
    names = code_layers(model)
    if head not in names or names.index(head) == 0:
        raise InputError(f"no layer before the classifier {head!r} can be read", argument="model")
    before = names[: names.index(head)]
    parent = head.rpartition(".")[0]
    # the sibling just before the classifier, or (first in its container) what feeds the container
    siblings = [n for n in before if n.rpartition(".")[0] == parent]
    if siblings:
        return siblings[-1]
    return _code_layer_before(names, parent)


def _code_layer_before(names, container) -> str:
    """The layer before ``container`` at its own level (the container's input comes from there)."""
    parent = container.rpartition(".")[0]
    before = [n for n in names[: names.index(container)] if n.rpartition(".")[0] == parent]
    if not before:
        raise InputError(f"no layer before {container!r} can be read", argument="model")
    return before[-1]


def extract_codes(model, images, layer=None, *, batch_size=256, progress=False) -> np.ndarray:
    """The output of ``layer`` for every image, flattened: (N, D) float32.

    Parameters
    ----------
    model : Module
        Run in eval mode (restored afterwards).
    images : (N, C, H, W) array_like
        Already in the model's input shape (see
        :func:`v1sim.nn.recipes.prepare_images`).
    layer : str, optional
        A name of :func:`code_layers`; default :func:`code_layer`.
    batch_size : int
    progress : bool
        A progress bar over the batches on stderr.

    Raises
    ------
    v1sim.errors.InputError
        For a layer that cannot be read (listing those that can), or
        images that do not fit the model.
    """
    check_module(model)
    x = as_float_array(images, "images")
    if x.ndim != 4:
        raise InputError(f"images must be (N, C, H, W), got shape {x.shape}", argument="images")
    batch_size = check_positive_int(batch_size, "batch_size")
    names = code_layers(model)
    if layer is None:
        layer = code_layer(model)
    if not isinstance(layer, str):
        raise InputTypeError(f"layer must be a layer name (str), got {type(layer).__name__}", argument="layer")
    if layer not in names:
        raise InputError(f"layer {layer!r} cannot be read; the layers are {', '.join(names)}", argument="layer")
    upto = prefix_network(model, layer)  # the model's own modules, as far as the layer
    was_training = model.training
    model.eval()
    try:
        from tqdm.auto import tqdm

        starts = tqdm(range(0, len(x), batch_size), desc="codes", unit="batch", leave=False, disable=not progress)
        parts = [to_host(upto(x[i : i + batch_size])).reshape(len(x[i : i + batch_size]), -1) for i in starts]
    finally:
        model.train(was_training)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _squared_distances(queries, codes):
    """(Q, N) squared Euclidean distances in float64 (|q|^2 - 2 q.c + |c|^2, clipped at 0)."""
    q, c = queries.astype(np.float64), codes.astype(np.float64)
    d = (q * q).sum(1)[:, None] - 2.0 * (q @ c.T) + (c * c).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _check_points(a, name, dim=None):
    a = as_float_array(a, name)
    if a.ndim != 2 or a.shape[0] == 0:
        raise InputError(f"{name} must be a non-empty (N, D) array, got shape {a.shape}", argument=name)
    if dim is not None and a.shape[1] != dim:
        raise InputError(f"{name} must have {dim} columns like codes, got {a.shape[1]}", argument=name)
    return a


def nearest_neighbours(codes, queries, k, *, exclude_self=False, chunk=1024) -> np.ndarray:
    """Indices (Q, k) of the ``k`` rows of ``codes`` nearest to each query (Euclidean), nearest first.

    Ties go to the lower index.

    Parameters
    ----------
    codes : (N, D) array_like
    queries : (Q, D) array_like
    k : int
        At most N (N - 1 with ``exclude_self``).
    exclude_self : bool
        ``queries`` are ``codes`` themselves (Q = N): a row is not its own
        neighbour (leave-one-out retrieval).
    chunk : int
        Queries per distance block (bounds memory at chunk x N floats).
    """
    codes = _check_points(codes, "codes")
    queries = _check_points(queries, "queries", codes.shape[1])
    n = codes.shape[0]
    if not isinstance(exclude_self, (bool, np.bool_)):
        raise InputTypeError(f"exclude_self must be True or False, got {exclude_self!r}", argument="exclude_self")
    if exclude_self and queries.shape[0] != n:
        raise InputError(f"exclude_self needs queries to be codes ({n} rows), got {len(queries)}", argument="queries")
    k = check_positive_int(k, "k")
    if k > n - bool(exclude_self):
        raise InputError(
            f"k must be at most {n - bool(exclude_self)} (the rows that can be neighbours), got {k}", argument="k"
        )
    chunk = check_positive_int(chunk, "chunk")
    out = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], chunk):
        d = _squared_distances(queries[start : start + chunk], codes)
        if exclude_self:
            d[np.arange(d.shape[0]), np.arange(start, start + d.shape[0])] = np.inf
        out[start : start + chunk] = np.argsort(d, axis=1, kind="stable")[:, :k]
    return out


def retrieval_precision(codes, labels, k) -> float:
    """Mean share of each row's ``k`` nearest other rows (leave-one-out) that have its label.

    Chance is the share of same-label pairs; 1 when every class is a tight cluster.
    """
    codes = _check_points(codes, "codes")
    labels = check_labels(labels, codes.shape[0], "labels")
    neighbours = nearest_neighbours(codes, codes, k, exclude_self=True)
    return float(np.mean(labels[neighbours] == labels[:, None]))
