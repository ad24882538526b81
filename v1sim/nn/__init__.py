"""v1sim.nn: a small ConvNet engine on the kernel layer, with PyTorch's names.

Modules with hand-written backward passes (CS231n style, no autograd)::

    from v1sim import nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(6 * 14 * 14, 10, rng=0),
    )
    criterion = nn.CrossEntropyLoss()
    opt = nn.SGD(model.parameters(), lr=0.01, momentum=0.9)

    loss = criterion(model(x), y)       # x (N, 1, 28, 28) float32, y (N,) int
    model.zero_grad()
    model.backward(criterion.backward())
    opt.step()

Contents
--------
parameter, module, container
    ``Parameter``; ``Module`` (parameters, train/eval, state_dict, freeze,
    ``output_shape``/``macs``/``num_parameters``); ``Sequential``, ``Identity``.
layers, activation, pooling
    Conv2d, LocallyConnected2d, Linear (and ``shape_only``); ReLU, Tanh,
    Sigmoid; MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten.
normalization
    LocalResponseNorm, BatchNorm2d, BatchNorm1d, Dropout.
blocks
    Residual, BasicBlock, Bottleneck, ZeroPadShortcut, Concat, Inception.
loss
    CrossEntropyLoss.
functional
    The forward/backward pairs the layers are made of.
init
    He ("Xavier/2") and Xavier initialisation.
optim
    SGD (momentum, Nesterov, weight decay, per-parameter ``lr_mult``),
    StepLR, ReduceLROnPlateau.
models, summary
    The model zoo (LeNet-5 to ResNet-152) and per-layer architecture tables.
train, checkpoints, runlog
    ``fit``: the training loop with metrics, atomic checkpoints and exact
    resume (``TrainConfig``); what a checkpoint holds and the checks a resume
    makes; ``load_run`` reads a run folder's logs.
recipes
    Default hyper-parameters per model, digits padded to a model's input,
    ``train_model`` (the engine of ``v1sim train``) and ``train_steps``.

Importing this package imports numpy and the kernel registry only (Numba
compiles or loads kernels on first use; ``numba.cuda`` only for
``device="cuda"``). Devices: layers take ``device="auto" | "cpu" |
"parallel" | "cuda"``; on "cuda" (``models.build(..., device="cuda")`` or
``model.to("cuda")``) parameters, activations, caches, gradients and SGD
state live in GPU memory and every layer's forward and backward pass runs
there; only the input batch, the labels and the per-row losses cross to
and from the host, and ``state_dict()`` returns host copies.
"""

from __future__ import annotations

from . import functional, init, optim
from .activation import ReLU, Sigmoid, Tanh
from .blocks import BasicBlock, Bottleneck, Concat, Inception, Residual, ZeroPadShortcut
from .container import Identity, Sequential
from .layers import Conv2d, Linear, LocallyConnected2d, shape_only
from .loss import CrossEntropyLoss, ReconstructionLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, Dropout, LocalResponseNorm
from .optim import SGD, ReduceLROnPlateau, StepLR
from .parameter import Parameter
from .pooling import AvgPool2d, Flatten, GlobalAvgPool2d, MaxPool2d
from .sparse import L1Penalty, TiedConvTranspose2d, UnitNormConv2d

__all__ = [
    "functional",
    "init",
    "optim",
    "Parameter",
    "Module",
    "Sequential",
    "Identity",
    "Conv2d",
    "LocallyConnected2d",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "Flatten",
    "LocalResponseNorm",
    "BatchNorm2d",
    "BatchNorm1d",
    "Dropout",
    "Residual",
    "Concat",
    "ZeroPadShortcut",
    "BasicBlock",
    "Bottleneck",
    "Inception",
    "CrossEntropyLoss",
    "ReconstructionLoss",
    "UnitNormConv2d",
    "TiedConvTranspose2d",
    "L1Penalty",
    "SGD",
    "StepLR",
    "ReduceLROnPlateau",
    "shape_only",
]
