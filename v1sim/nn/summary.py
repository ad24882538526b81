"""Model summaries: per-layer output shapes, parameters, activation memory and multiply-accumulates.

::

    from v1sim.nn.summary import summarize
    s = summarize("vgg16")              # a name builds the model shape-only (no weights allocated)
    print(s)                            # a torchinfo-like table
    s.total_params, s.total_macs        # 138357544, 15470264320
    s.to_dict()                         # for JSON

Nothing runs: every number comes from the modules' ``output_shape``, ``macs``
and ``num_parameters`` (:mod:`v1sim.nn.module`), walked layer by layer.

Rows and containers
-------------------
The first row is the input. Then every module appears, depth first, with its
dotted name: containers (Sequential, residual blocks, Inception modules) are
rows too, followed by their children indented one level deeper. A
container's params, activations and MACs aggregate its subtree, so a table
cut at any ``depth`` still adds up. Children of :class:`~v1sim.nn.Residual`
see the block's input (body, shortcut) or the body's output (the final
ReLU); branches of :class:`~v1sim.nn.Concat` see the module's input. Other
modules with children are shown as single rows.

Counting conventions
--------------------
params
    Every parameter entry, biases and BatchNorm's gamma/beta included (the
    lecture's VGG list counts weights only; compare ``weight.size``).
activations
    Values per image a forward pass stores, the lecture's "memory" column:
    the input plus the output of every layer that makes a new array.
    Elementwise nonlinearities (ReLU, Tanh, Sigmoid), Dropout, Flatten,
    Identity and bias additions count 0, as the lecture counts CONV3-64 once
    and not again for its ReLU (they can run in place or are views). A
    residual block also stores its sum and an Inception module its
    concatenation (the container's own share). ``memory`` is 4 bytes per value
    (float32), forward pass only (training keeps about as much again for the
    backward pass).
macs
    Multiply-accumulates per image (:meth:`v1sim.nn.Module.macs`): for a
    convolution ``K * H2 * W2 * (C/groups) * kh * kw``; pooling and
    elementwise layers 0; BatchNorm one per value. FLOPs are ``2 * MACs`` when
    a multiply and an add are two operations (``total_flops``); He et al.'s
    ResNet table and GoogLeNet's "ops" count multiply-adds, i.e. MACs
    (ResNet-50's "3.8 x 10^9 FLOPs" are 3.87e9 MACs here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._core.validate import check_nonnegative_int, check_positive_int
from ..errors import InputError, InputTypeError
from .activation import ReLU, Sigmoid, Tanh
from .blocks import Concat, Residual
from .container import Identity, Sequential
from .models.misc import PositionBias
from .module import Module
from .normalization import Dropout
from .pooling import Flatten

__all__ = ["LayerRow", "Summary", "summarize", "parse_shape"]

BYTES_PER_VALUE = 4  # float32

_STORES_NOTHING = (ReLU, Tanh, Sigmoid, Dropout, Flatten, Identity, PositionBias)


def _stores_nothing(module) -> bool:
    return isinstance(module, _STORES_NOTHING)


@dataclass(frozen=True)
class LayerRow:
    """One row of a :class:`Summary`.

    Attributes
    ----------
    name : str
        Dotted name in the model ("conv2_x.0.body.conv1"); "input" for the input row.
    type : str
        Class name ("Conv2d", "Bottleneck", ...; "Input").
    depth : int
        Nesting level: 1 for the input and the model's own children.
    input_shape, output_shape : tuple of int
        Per-sample shapes, (C, H, W) or (F,).
    params, activations, macs : int
        As in the module docstring; aggregated over the subtree for containers.
    container : bool
        Whether children rows follow.
    """

    name: str
    type: str
    depth: int
    input_shape: tuple
    output_shape: tuple
    params: int
    activations: int
    macs: int
    container: bool = False

    @property
    def memory(self) -> int:
        """Bytes of stored activations (float32)."""
        return self.activations * BYTES_PER_VALUE

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "activations": self.activations,
            "memory": self.memory,
            "macs": self.macs,
            "container": self.container,
        }


@dataclass(frozen=True)
class Summary:
    """The layer table of a model for one per-sample input shape, with totals.

    Attributes
    ----------
    model : str
        The model's name (or class name).
    input_shape, output_shape : tuple of int
    layers : tuple of LayerRow
        Input row first, then every module depth first.
    total_params, trainable_params : int
    total_macs : int
        Multiply-accumulates per image.
    total_activations : int
        Values stored by a forward pass of one image (input included).
    """

    model: str
    input_shape: tuple
    output_shape: tuple
    layers: tuple
    total_params: int
    trainable_params: int
    total_macs: int
    total_activations: int

    @property
    def total_flops(self) -> int:
        """``2 * total_macs`` (a multiply and an add counted apart)."""
        return 2 * self.total_macs

    @property
    def total_memory(self) -> int:
        """Bytes of forward activations per image (float32)."""
        return self.total_activations * BYTES_PER_VALUE

    @property
    def params_memory(self) -> int:
        """Bytes of the parameters (float32)."""
        return self.total_params * BYTES_PER_VALUE

    def __getitem__(self, name) -> LayerRow:
        """The row of the layer with dotted ``name``."""
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer {name!r} in the summary of {self.model}")

    def to_dict(self, depth=None) -> dict:
        """Everything as JSON-ready plain types (shapes as lists); rows nested deeper than ``depth`` left out.

        Parameters
        ----------
        depth : int >= 0, optional
            None: every row. The totals always cover the whole model.
        """
        rows = self._rows(depth)
        return {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "total_flops": self.total_flops,
            "total_activations": self.total_activations,
            "total_memory": self.total_memory,
            "params_memory": self.params_memory,
            "layers": [row.to_dict() for row in rows],
        }

    def _rows(self, depth):
        if depth is None:
            return list(self.layers)
        depth = check_nonnegative_int(depth, "depth")
        return [r for r in self.layers if r.depth <= depth]

    def to_text(self, depth=None) -> str:
        """The table, rows nested deeper than ``depth`` (an int >= 0, 0: totals only; None: all) left out."""
        rows = self._rows(depth)
        head = ("Layer (type)", "Output shape", "Param #", "Activations", "Memory", "MACs")
        cells = []
        for r in rows:
            label = "  " * (r.depth - 1) + (r.name.rsplit(".", 1)[-1] if r.name else r.name) + f" ({r.type})"
            cells.append(
                (label, _shape(r.output_shape), f"{r.params:,}", f"{r.activations:,}", _bytes(r.memory), f"{r.macs:,}")
            )
        widths = [max(len(c[i]) for c in cells + [head]) for i in range(len(head))]

        def line(c):
            return "  ".join([c[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(c[1:], widths[1:])])

        rule = "=" * len(line(head))
        out = [f"{self.model}, input {_shape(self.input_shape)}", rule, line(head), rule]
        out += [line(c) for c in cells]
        out += [
            rule,
            f"Total params: {self.total_params:,} ({_bytes(self.params_memory)} as float32)",
            f"Trainable params: {self.trainable_params:,}",
            f"Total MACs: {self.total_macs:,} ({_si(self.total_macs)}; FLOPs = 2 x MACs = {_si(self.total_flops)})",
            f"Forward activations: {self.total_activations:,} values ({_bytes(self.total_memory)} per image, float32)",
            rule,
        ]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _si(n) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _bytes(n) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _named_children(module):
    return [(n, m) for n, m in module.named_modules() if n and "." not in n]


def _walk(module, name, input_shape, depth, rows):
    """Append the rows of ``module`` and its subtree; return (output_shape, activations stored)."""
    out = tuple(module.output_shape(input_shape))
    children = _named_children(module) if isinstance(module, (Sequential, Residual, Concat)) else []
    index = len(rows)
    rows.append(None)  # filled once the children are known
    if children:
        stored, shape = 0, tuple(input_shape)
        body_out = None
        for child_name, child in children:
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(module, Sequential):
                shape, acts = _walk(child, full, shape, depth + 1, rows)
            elif isinstance(module, Residual) and child is not module.body and child is not module.shortcut:
                _, acts = _walk(child, full, body_out, depth + 1, rows)  # the final ReLU, on the sum
            else:
                child_out, acts = _walk(child, full, input_shape, depth + 1, rows)
                if isinstance(module, Residual) and child is module.body:
                    body_out = child_out
            stored += acts
        if isinstance(module, (Residual, Concat)):
            stored += math.prod(out)  # the sum or the concatenation is a new array
    else:
        stored = 0 if _stores_nothing(module) else math.prod(out)
    rows[index] = LayerRow(
        name=name or type(module).__name__,
        type=type(module).__name__,
        depth=depth,
        input_shape=tuple(input_shape),
        output_shape=out,
        params=module.num_parameters(),
        activations=stored,
        macs=int(module.macs(input_shape)),
        container=bool(children),
    )
    return out, stored


def parse_shape(text) -> tuple:
    """A per-sample shape from "C,H,W", "CxHxW", "F" or a sequence of ints; InputError (``input_shape``) otherwise."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace("x", ",").replace("X", ",").split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise InputError(
                f"input_shape must be integers such as 3,224,224 (C,H,W), got {text!r}", argument="input_shape"
            ) from None
    else:
        try:
            values = list(text)
        except TypeError:
            raise InputTypeError(
                f"input_shape must be a sequence of ints or a string such as '3,224,224', got {type(text).__name__}",
                argument="input_shape",
            ) from None
    if len(values) not in (1, 3):
        raise InputError(f"input_shape must be (C, H, W) or (F,), got {text!r}", argument="input_shape")
    return tuple(check_positive_int(v, "input_shape") for v in values)


def summarize(model_or_name, input_shape=None, **build_options) -> Summary:
    """Summarise a model layer by layer for one per-sample input shape.

    Parameters
    ----------
    model_or_name : Module or str
        A module, or a name of :data:`v1sim.nn.models.MODELS`, which is then
        built shape-only (``materialize=False``: no weights allocated).
    input_shape : sequence of int or str, optional
        Per-sample (C, H, W) (or (F,)), also as "3,224,224". Defaults to the
        registered model's input; required for a Module.
    **build_options
        Passed to :func:`v1sim.nn.models.build` with a name
        (``variant="lc"``, ``num_classes=10``, ...).

    Returns
    -------
    Summary

    Raises
    ------
    v1sim.errors.InputError
        ``.argument`` names the culprit: ``model_or_name`` (an unknown model
        name, or not a Module), ``build_options`` (an option the model does
        not take, or its value), ``input_shape`` (malformed, or one the model
        cannot take: the message names the layer).
    """
    if isinstance(model_or_name, str):
        from . import models

        name = model_or_name
        if name not in models.MODELS:
            raise InputError(f"unknown model {name!r}; known: {', '.join(models.MODELS)}", argument="model_or_name")
        try:
            model = models.build(name, materialize=False, **build_options)
        except ValueError as exc:  # the name is known: what build() refuses is an option
            raise InputError(str(exc), argument="build_options") from exc
        if input_shape is None:
            input_shape = models.default_input_shape(name, build_options.get("in_channels"))
    elif isinstance(model_or_name, Module):
        if build_options:
            raise InputTypeError(
                f"build options {', '.join(build_options)} need a model name, not a Module", argument="build_options"
            )
        model, name = model_or_name, type(model_or_name).__name__
        if input_shape is None:
            raise InputError(
                "input_shape is required to summarise a Module, e.g. (3, 224, 224)", argument="input_shape"
            )
    else:
        raise InputTypeError(
            f"model_or_name must be a Module or a model name, got {type(model_or_name).__name__}",
            argument="model_or_name",
        )
    shape = parse_shape(input_shape)
    rows = [LayerRow("input", "Input", 1, shape, shape, 0, math.prod(shape), 0)]
    try:
        if isinstance(model, (Sequential, Residual, Concat)):
            below = []
            out, stored = _walk(model, "", shape, 0, below)
            rows += below[1:]  # the model's own row (depth 0) is the totals
        else:
            out, stored = _walk(model, "", shape, 1, rows)
    except ValueError as exc:  # shape arithmetic only: a refusal means this input does not fit the model
        raise InputError(str(exc), argument="input_shape") from exc
    return Summary(
        model=name,
        input_shape=shape,
        output_shape=out,
        layers=tuple(rows),
        total_params=model.num_parameters(),
        trainable_params=model.num_parameters(trainable_only=True),
        total_macs=int(model.macs(shape)),
        total_activations=math.prod(shape) + stored,
    )
