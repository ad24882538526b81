"""Containers: Sequential (layers one after another) and Identity (the identity shortcut).

The branching containers of residual and Inception blocks live in
:mod:`v1sim.nn.blocks`.

On the CPU a Sequential runs a batch norm and the ReLU right after it as
one layer (:meth:`~v1sim.nn.normalization.BatchNorm2d.forward_relu`): one
pass over the activations each way instead of two, bit for bit the same
results. Both layers keep their names, parameters, buffers and caches; the
pair runs as two layers on the device, for other arrays, and while
:mod:`v1sim.nn.capture` watches either of them.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..backend import resolve_device
from ..errors import InputError, InputTypeError
from .activation import ReLU
from .capture import is_captured
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = ["Identity", "Sequential"]


class Identity(Module):
    """Pass the input through unchanged (identity shortcuts)."""

    def forward(self, x):
        return x

    def backward(self, grad_out, *, input_grad=True):
        return grad_out

    def output_shape(self, input_shape):
        return tuple(int(s) for s in input_shape)


class Sequential(Module):
    """Apply modules one after another; backward runs them in reverse.

    Parameters
    ----------
    *modules : Module, or one dict of name -> Module
        The layers; named ``"0"``, ``"1"``, ... unless given as a dict.

    Examples
    --------
    >>> from v1sim import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 6, 5, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...                     nn.Linear(6 * 12 * 12, 10, rng=0))
    >>> net.output_shape((1, 28, 28))
    (10,)
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            if not isinstance(m, Module):
                raise InputTypeError(
                    f"Sequential takes Modules, got {type(m).__name__} for entry {name!r} of modules",
                    argument="modules",
                )
            setattr(self, name, m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        if isinstance(index, str):
            return self._modules[index]
        return list(self._modules.values())[index]

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise InputTypeError(f"Sequential.append takes a Module, got {type(module).__name__}", argument="module")
        setattr(self, str(len(self)), module)
        return self

    def forward(self, x):
        modules = list(self._modules.values())
        folded = []  # positions of the ReLUs run inside the batch norm before them, kept as they run
        self._store(folded)
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and _fusable(modules[i], modules[i + 1], x):
                x = _bn_relu(modules[i], modules[i + 1], x)
                folded.append(i + 1)
                i += 2
            else:
                x = modules[i](x)
                i += 1
        return x

    def backward(self, grad_out, *, input_grad=True):
        modules = list(self)
        folded = self._take_cache() if self._cache is not None else ()
        if not modules:
            return grad_out
        for i in range(len(modules) - 1, 0, -1):
            if i in folded:  # the batch norm before it applies the ReLU's mask in its own backward passes
                modules[i]._take_cache()
                continue
            grad_out = modules[i].backward(grad_out)
        first = modules[0]  # only the first module's input may go without a gradient
        return first.backward(grad_out) if input_grad else first.backward_without_input_grad(grad_out)

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for name, m in self._modules.items():
            try:
                shape = m.output_shape(shape)
            except ValueError as exc:  # re-raised with the layer's name; a shape mismatch blames the input x
                kind, argument = (type(exc), exc.argument) if isinstance(exc, InputError) else (InputError, "x")
                raise kind(f"layer {name!r} of {type(self).__name__}: {exc}", argument=argument) from None
        return shape

    def macs(self, input_shape):
        total, shape = 0, tuple(input_shape)
        for m in self:
            total += m.macs(shape)
            shape = m.output_shape(shape)
        return total


def _fusable(bn, relu, x) -> bool:
    """Whether ``relu(bn(x))`` may run as one layer: a host float array of the batch norm's shape, both layers of
    exactly these types with host parameters, neither watched by :mod:`v1sim.nn.capture`, and no device in use."""
    if type(relu) is not ReLU or type(bn) not in (BatchNorm1d, BatchNorm2d):
        return False
    return (
        isinstance(x, np.ndarray)
        and x.dtype in (np.float32, np.float64)
        and x.flags.c_contiguous
        and x.ndim == (4 if type(bn) is BatchNorm2d else 2)
        and x.shape[1] == bn.num_features
        and all(isinstance(a, np.ndarray) for a in (bn.weight.data, bn.bias.data, bn.running_mean, bn.running_var))
        and not (is_captured(bn) or is_captured(relu))
        and resolve_device("auto") != "cuda"
    )


def _bn_relu(bn, relu, x):
    """``relu(bn(x))`` in one pass; each layer's cache ends as the two calls would leave it (the ReLU's: its
    output), and the batch norm's backward applies the ReLU's mask."""
    out = bn.forward_relu(bn._checked_batch(x))  # the checks the batch norm's own call would make
    relu._store(out)
    return out
