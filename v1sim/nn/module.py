"""Module: the base class of every layer and container, PyTorch-shaped.

There is no autograd tape. Every module computes its own gradient by hand, as
the CS231n layers do: ``forward(x)`` keeps what it needs in a cache and
``backward(grad_out)`` returns the gradient with respect to ``x`` and adds
the gradients of its parameters into ``Parameter.grad``. Containers chain
their children's forward passes and run the backward passes in reverse.

Every module also answers, without running anything:

``output_shape(input_shape)``
    The per-sample output shape, ``(C, H, W)`` or ``(F,)`` (no batch axis);
    raises a ValueError naming the layer, with the expected and received
    shapes, when the input does not fit.
``macs(input_shape)``
    Multiply-accumulates per sample.
``num_parameters()``
    Number of parameter entries.

so that a model summary can walk a network layer by layer.

:class:`~v1sim.nn.parameter.Parameter` lives in :mod:`v1sim.nn.parameter`,
:class:`~v1sim.nn.container.Sequential` and ``Identity`` in
:mod:`v1sim.nn.container`.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict, namedtuple

import numpy as np

from .._core.validate import as_float_array, check_allocation, check_float_dtype, describe
from ..backend import resolve_device
from ..errors import InputError, InputTypeError
from ..kernels.ops import out_len
from . import device as _device
from .parameter import Parameter

__all__ = ["Module", "check_module"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _as_batch(x) -> np.ndarray:
    """A float32/float64 ndarray (arrays of those dtypes, and device arrays, pass through untouched)."""
    if isinstance(x, np.ndarray) and x.dtype in _FLOATS or _device.is_device(x):
        return x
    return as_float_array(x, "x", allow_nonfinite=True)


class Module:
    """Base class of every layer and container.

    Subclasses set parameters, buffers and child modules as attributes
    (``self.weight = Parameter(...)``, ``self.register_buffer(...)``,
    ``self.conv1 = Conv2d(...)``); they are registered in assignment order,
    which fixes the order of :meth:`parameters` and the keys of
    :meth:`state_dict` (``"conv1.weight"``, ``"bn1.running_mean"``, ...).

    Subclasses implement ``forward(x)``, ``backward(grad_out)`` and
    ``output_shape(input_shape)``; weighted layers also ``macs``. A
    ``backward`` may take the keyword ``input_grad`` (see :meth:`backward`);
    one written without it still works everywhere.
    """

    _takes_input_grad = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._takes_input_grad = "input_grad" in inspect.signature(cls.backward).parameters

    def backward_without_input_grad(self, grad_out):
        """``backward(grad_out, input_grad=False)`` where supported, else a plain ``backward(grad_out)``."""
        if self._takes_input_grad:
            return self.backward(grad_out, input_grad=False)
        return self.backward(grad_out)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)
        object.__setattr__(self, "_checked", None)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call Module.__init__() before setting attributes")
        for registry, kind in ((self._parameters, Parameter), (self._modules, Module)):
            if isinstance(value, kind):
                registry[name] = value
            else:
                registry.pop(name, None)
        if name in self._buffers:
            if not isinstance(value, np.ndarray) and not _device.is_device(value):
                raise InputTypeError(
                    f"buffer {name!r} must be a numpy (or device) array, got {type(value).__name__}", argument=name
                )
            self._buffers[name] = None
        object.__setattr__(self, name, value)
        object.__setattr__(self, "_checked", None)  # a new parameter or setting may change the output's shape

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Register a non-trainable array saved in :meth:`state_dict` (e.g. BN running stats)."""
        self._buffers[name] = None
        setattr(self, name, np.array(value, copy=True))

    # -- the computation ------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Add parameter gradients from ``grad_out`` (dL/d output) and return dL/d input.

        ``input_grad=False`` says nobody needs dL/d input (the first layer of
        a network being trained): weighted layers then skip that product
        and may return None. Training loops pass it to the whole model.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x) -> np.ndarray:
        """Check that ``x`` (N, ...) fits :meth:`output_shape` and memory, then run :meth:`forward`.

        An empty batch (N = 0) gives an empty output of the right shape, as in PyTorch.

        Raises
        ------
        InputError
            If ``x`` has no batch axis, does not fit the layer, or its output would not fit in memory.
        """
        return self.forward(self._checked_batch(x))

    def _checked_batch(self, x) -> np.ndarray:
        """``x`` as a batch, once it fits :meth:`output_shape` and its output fits memory (:meth:`__call__`'s
        checks; also run by a container that calls a fused forward pass such as ``forward_relu`` directly). The
        shape and dtype that last passed are remembered until an attribute is set (a tenth of a small step)."""
        x = _as_batch(x)
        key = (x.shape, x.dtype)
        if key == getattr(self, "_checked", None):
            return x
        if x.ndim < 2:
            raise InputError(
                f"{self._name()} expects a batch x of shape (N, ...) with a leading batch axis, got shape {x.shape}",
                argument="x",
            )
        out = self.output_shape(x.shape[1:])
        # the output (and, for a training step, its gradient): a batch too large for memory is refused, not swapped
        check_allocation(
            (x.shape[0],) + tuple(out),
            x.dtype,
            self._size_argument(x.shape[1:]),
            copies=2,
            what=f"a batch of {x.shape[0]} through {self._name()} gives an output of per-sample shape {tuple(out)}",
        )
        object.__setattr__(self, "_checked", key)
        return x

    def _size_argument(self, input_shape) -> str:
        """The argument blamed when this layer's output for ``input_shape`` is too big: the batch ``x``."""
        return "x"

    def _take_cache(self):
        """The cache of the last forward pass (freed: backward runs once per forward)."""
        cache = self._cache
        if cache is None:
            raise RuntimeError(f"{self._name()}.backward called without a preceding forward pass")
        object.__setattr__(self, "_cache", None)
        return cache

    def _store(self, cache) -> None:
        object.__setattr__(self, "_cache", cache)

    # -- shapes and sizes -----------------------------------------------------

    def output_shape(self, input_shape: tuple) -> tuple:
        """Per-sample output shape for a per-sample ``input_shape`` (no batch axis)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement output_shape")

    def macs(self, input_shape: tuple) -> int:
        """Multiply-accumulates per sample (0 for element-wise and pooling layers)."""
        self.output_shape(input_shape)
        return 0

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameter entries (only unfrozen ones with ``trainable_only``)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check_ndim(self, shape, axes: str) -> tuple:
        """``shape`` as ints, or a ValueError unless it has one entry per letter of ``axes`` ("CHW", "F")."""
        shape = tuple(int(s) for s in shape)
        if len(shape) != len(axes):
            per = "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")"
            raise InputError(
                f"{self._name()} expects per-sample input of shape {per} (batches (N, {', '.join(axes)})), "
                f"got x with per-sample shape {shape} (batch of {len(shape) + 1}-D arrays)",
                argument="x",
            )
        return shape

    def _check_channels(self, got: int, want: int, shape: tuple, what: str = "input channels") -> None:
        """An InputError blaming ``x`` unless its per-sample ``shape`` has ``want`` channels (features)."""
        if got != want:
            raise InputError(
                f"{self._name()} expects {want} {what}, got {got} in x (per-sample shape {shape})", argument="x"
            )

    def _out_len(self, size: int, f: int, s: int, p: int, axis: str) -> int:
        """Output length of a window over one axis of the input (:func:`v1sim.kernels.ops.out_len`), blaming ``x``."""
        try:
            return out_len(size, f, s, p, argument="x", axis=axis)
        except InputError as exc:  # the layer's name first (formatted only on error: output_shape runs every call)
            raise InputError(f"{self._name()}: {exc}", argument="x") from None

    # -- traversal ------------------------------------------------------------

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix: str = ""):
        """Yield (dotted name, module) for this module and all below it, depth first."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def _named(self, registry: str):
        seen = set()
        for prefix, module in self.named_modules():
            for name in getattr(module, registry):
                value = getattr(module, name)
                if id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self):
        """Yield (dotted name, Parameter), each shared parameter once."""
        return self._named("_parameters")

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        return self._named("_buffers")

    # -- modes ----------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics in BN, dropout on); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics in BN, dropout off); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def freeze(self) -> Module:
        """Stop training every parameter below this module; returns self."""
        for p in self.parameters():
            p.requires_grad = False
        return self

    def unfreeze(self) -> Module:
        for p in self.parameters():
            p.requires_grad = True
        return self

    def to(self, device: str | None = None, dtype=None) -> Module:
        """Move every layer to ``device`` and/or cast parameters and buffers to ``dtype``; returns self.

        ``"cuda"`` moves parameters, gradients and buffers into GPU memory
        (numba device arrays), where training then keeps them; ``"cpu"`` or
        ``"parallel"`` brings them back. ``dtype`` float64 is what the
        gradient checks use.
        """
        if device is not None:
            device = resolve_device(device)
        if dtype is not None:
            dtype = check_float_dtype(dtype)

        def place(a):
            if dtype is not None:
                a = np.asarray(_device.to_host(a)).astype(dtype)
            if device == "cuda":
                return _device.to_device(a)
            return _device.to_host(a) if device is not None else a

        for m in self.modules():
            if device is not None and hasattr(m, "device"):
                object.__setattr__(m, "device", device)
            if dtype is None and device is None:
                continue
            for p in m._parameters.values():
                if p is None:
                    continue
                if device == "cuda" and isinstance(p.data, np.ndarray) and p.data.size > 1 and 0 in p.data.strides:
                    continue  # a shape-only placeholder (v1sim.nn.shape_only) stays a 4-byte view
                p.data = place(p.data)
                p.grad = None if p.grad is None else place(p.grad)
            for name in m._buffers:
                object.__setattr__(m, name, place(getattr(m, name)))
        return self

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    # -- state ----------------------------------------------------------------

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and buffer as plain arrays, by dotted name.

        Suitable for ``np.savez`` and ``np.load(..., allow_pickle=False)``;
        host (numpy) copies also for a model on ``"cuda"``.
        """
        out = OrderedDict((k, _device.host_copy(p.data)) for k, p in self.named_parameters())
        out.update((k, _device.host_copy(b)) for k, b in self.named_buffers())
        return out

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state`` into the parameters and buffers (in place, keeping dtypes).

        Parameters
        ----------
        state : mapping of str to array_like
            As returned by :meth:`state_dict` (or an ``np.load`` of one).
        strict : bool
            Raise on missing or unexpected keys; otherwise load what matches
            and report the rest.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``.

        Raises
        ------
        KeyError
            With ``strict``, for missing or unexpected keys (all listed).
        v1sim.errors.InputError
            For an entry whose shape differs from the model's, or a
            non-finite entry (``argument="state"``).
        """
        targets = OrderedDict((k, ("param", p)) for k, p in self.named_parameters())
        owners = {}
        for prefix, m in self.named_modules():
            for name in m._buffers:
                key = f"{prefix}.{name}" if prefix else name
                targets.setdefault(key, ("buffer", None))
                owners[key] = (m, name)
        keys = list(state.keys())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in keys if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s): {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected key(s): {', '.join(map(str, unexpected))}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        values = {}
        for key in keys:
            if key not in targets:
                continue
            value = np.asarray(state[key])
            kind, p = targets[key]
            current = p.data if kind == "param" else getattr(*owners[key])
            if value.shape != current.shape:
                raise InputError(
                    f"load_state_dict for {type(self).__name__}: {key!r} has shape {value.shape} in the state "
                    f"but {current.shape} in the model",
                    argument="state",
                )
            if value.dtype.kind not in "iuf" or not np.isfinite(value).all():
                raise InputError(
                    f"load_state_dict for {type(self).__name__}: {key!r} of the state must be finite real numbers",
                    argument="state",
                )
            values[key] = (current, value)
        for current, value in values.values():  # all checked first: no half-loaded model
            if _device.is_device(current):
                current.copy_to_device(np.ascontiguousarray(value, dtype=current.dtype))
            else:
                current[...] = value
        return IncompatibleKeys(missing, unexpected)

    # -- printing -------------------------------------------------------------

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        if len(lines) == 1:
            return lines[0] + ")"
        return "\n".join(lines) + "\n)"


def check_module(model, argument: str = "model") -> Module:
    """``model`` itself if it is a :class:`Module`; else an InputTypeError naming ``argument``."""
    if not isinstance(model, Module):
        raise InputTypeError(f"{argument} must be a v1sim.nn.Module, got {describe(model)}", argument=argument)
    return model
