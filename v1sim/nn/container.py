"""Containers: Sequential (layers one after another) and Identity (the identity shortcut).

The branching containers of residual and Inception blocks live in
:mod:`v1sim.nn.blocks`.
"""

from __future__ import annotations

from collections import OrderedDict

from ..errors import InputError, InputTypeError
from .module import Module

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
        for m in self:
            x = m(x)
        return x

    def backward(self, grad_out, *, input_grad=True):
        modules = list(self)
        if not modules:
            return grad_out
        for m in reversed(modules[1:]):
            grad_out = m.backward(grad_out)
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
