"""Model zoo: the lecture's ConvNets, from LeNet-5 to ResNet-152, built from :mod:`v1sim.nn` layers.

One call builds any of them::

    from v1sim.nn import models
    net = models.build("resnet20", rng=0)                 # weights drawn, ready to train
    big = models.build("vgg16", materialize=False)         # shape-only: no 550 MB of weights
    big.num_parameters(), big.macs((3, 224, 224))           # (138357544, 15470264320)

Every architecture is written once, as data where the paper gives a table
(VGG configurations, GoogLeNet's Inception table, ResNet depths, rows with
named fields), and the same builder serves training and
:mod:`v1sim.nn.summary`. One module per family: ``lenet``, ``alexnet``,
``vgg``, ``googlenet``, ``resnet``, ``misc`` (AlphaGo's policy network, the
200x200 comparison), sharing ``common`` (LRN, classifier head); this package
holds the registry (:data:`MODELS`, :func:`build`).

Shape-only models
-----------------
``materialize=False`` builds the real module tree, but every weight and bias
of a Conv2d, LocallyConnected2d or Linear is a read-only zero-stride view
(``np.broadcast_to``) of the right shape: shapes, ``output_shape``, ``macs``
and ``num_parameters`` are exact and nothing is allocated (BatchNorm's small
vectors excepted). Such a model is for counting, not for running: its forward
pass computes with zero weights and an optimiser step fails on the read-only
arrays. ``materialize=True`` (the default) refuses models whose float32
weights would pass 4 GiB (the lecture's 200x200 fully connected layer needs
6.4 GB) with a ValueError that points to ``materialize=False``.

Conventions: inputs are per-sample ``(C, H, W)``; every classifier returns
logits (softmax lives in :class:`v1sim.nn.CrossEntropyLoss` and
:func:`v1sim.nn.functional.softmax`); weighted layers have biases unless the
paper's design puts a BatchNorm after them (ResNets).

References
----------
.. [1] Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
   applied to document recognition", Proc. IEEE 86(11), 1998.
.. [2] A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet classification with
   deep convolutional neural networks", NIPS 2012.
.. [3] K. Simonyan, A. Zisserman, "Very deep convolutional networks for
   large-scale image recognition", ICLR 2015 (arXiv 1409.1556).
.. [4] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
   (arXiv 1409.4842).
.. [5] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
   recognition", CVPR 2016 (arXiv 1512.03385).
.. [6] D. Silver et al., "Mastering the game of Go with deep neural networks
   and tree search", Nature 529, 2016 (policy network, Methods).
.. [7] M. Ranzato, "Deep learning for vision" tutorial, CVPR 2014 (the 200x200
   fully connected / locally connected / convolutional comparison).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

from ..._core.validate import check_positive_int
from ...backend import resolve_device
from ...errors import InputError
from ..layers import shape_only
from ..module import Module
from .alexnet import alexnet, alexnet_torchvision
from .googlenet import GOOGLENET_INCEPTION, InceptionSpec, googlenet, googlenet_torchvision
from .lenet import lenet5
from .misc import PositionBias, alphago_policy, fc_vs_conv
from .resnet import RESNET_DEPTHS, ResNetDepth, cifar_resnet, resnet
from .sparse import sparse_conv
from .vgg import VGG_CONFIGS, VGGConv, vgg
from .weights import TORCHVISION_MODELS, load_torchvision

__all__ = [
    "MODELS",
    "ModelInfo",
    "build",
    "names",
    "default_input_shape",
    "PositionBias",
    "lenet5",
    "alexnet",
    "alexnet_torchvision",
    "vgg",
    "VGG_CONFIGS",
    "VGGConv",
    "googlenet",
    "googlenet_torchvision",
    "GOOGLENET_INCEPTION",
    "InceptionSpec",
    "resnet",
    "RESNET_DEPTHS",
    "ResNetDepth",
    "cifar_resnet",
    "alphago_policy",
    "fc_vs_conv",
    "sparse_conv",
]

_MATERIALIZE_LIMIT_BYTES = 4 * 2**30


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: ``builder(**options) -> Module``, its per-sample input shape, one line on it."""

    builder: object
    input_shape: tuple
    description: str


def _register():
    he, m = "(He et al. 2015)", OrderedDict()
    m["lenet5"] = ModelInfo(lenet5, (1, 32, 32), "LeNet-5, tanh + average pooling (LeCun et al. 1998)")
    m["alexnet"] = ModelInfo(alexnet, (3, 227, 227), "AlexNet, the lecture's one-tower table (Krizhevsky 2012)")
    m["alexnet-2gpu"] = ModelInfo(
        partial(alexnet, towers=2), (3, 227, 227), "AlexNet, the paper's two towers (groups=2) (Krizhevsky 2012)"
    )
    for name, config, what in (
        ("vgg11", "A", "A, 11 weight layers"),
        ("vgg11-lrn", "A-LRN", "A-LRN, with LRN"),
        ("vgg13", "B", "B, 13 weight layers"),
        ("vgg16-c", "C", "C, 16 layers with 1x1 convs"),
        ("vgg16", "D", "D, 16 weight layers"),
        ("vgg19", "E", "E, 19 weight layers"),
    ):
        m[name] = ModelInfo(partial(vgg, config), (3, 224, 224), f"VGG config {what} (Simonyan & Zisserman 2014)")
    m["googlenet"] = ModelInfo(googlenet, (3, 224, 224), "GoogLeNet, no auxiliary heads (Szegedy et al. 2014)")
    for d in RESNET_DEPTHS:
        m[f"resnet{d}"] = ModelInfo(partial(resnet, d), (3, 224, 224), f"ResNet-{d}, ImageNet {he}")
    for d in (20, 32, 44, 56, 110):
        m[f"resnet{d}"] = ModelInfo(partial(cifar_resnet, d), (3, 32, 32), f"ResNet-{d}, CIFAR-10, 6n+2 layers {he}")
    for d in (20, 32, 44, 56, 110):
        plain = partial(cifar_resnet, d, shortcuts=False)
        m[f"plain{d}"] = ModelInfo(plain, (3, 32, 32), f"plain-{d}: ResNet-{d} without shortcuts, CIFAR-10 {he}")
    m["alexnet-torchvision"] = ModelInfo(
        alexnet_torchvision, (3, 224, 224), "AlexNet as torchvision ships it, 64/192/384/256/256 (Krizhevsky 2014)"
    )
    for d in (11, 13, 16, 19):
        bn = partial(vgg, "ABDE"[(11, 13, 16, 19).index(d)], batch_norm=True)
        m[f"vgg{d}-bn"] = ModelInfo(bn, (3, 224, 224), f"VGG-{d} with BatchNorm, torchvision's vgg{d}_bn")
    m["googlenet-torchvision"] = ModelInfo(
        googlenet_torchvision, (3, 224, 224), "GoogLeNet as torchvision ships it, BatchNorm (Ioffe & Szegedy 2015)"
    )
    m["alphago-policy"] = ModelInfo(alphago_policy, (48, 19, 19), "AlphaGo's policy network (Silver et al. 2016)")
    m["fc-vs-conv"] = ModelInfo(
        fc_vs_conv, (1, 200, 200), "200x200 image to 40K units: variant=fc | lc | conv (Ranzato 2014, in the lecture)"
    )
    m["sparse_conv"] = ModelInfo(
        sparse_conv, (1, 12, 12), "sparse convolutional autoencoder of natural images (Olshausen & Field 1996)"
    )
    return m


#: name -> :class:`ModelInfo`, in the lecture's order.
MODELS = _register()


def names() -> list:
    """The registered model names."""
    return list(MODELS)


def _info(name) -> ModelInfo:
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"unknown model {name!r}; name must be one of: {', '.join(MODELS)}", argument="name")
    return MODELS[name]


def default_input_shape(name, in_channels=None) -> tuple:
    """The per-sample input shape (C, H, W) of model ``name`` (C replaced by ``in_channels`` if given)."""
    shape = _info(name).input_shape
    return shape if in_channels is None else (check_positive_int(in_channels, "in_channels"),) + shape[1:]


def build(
    name, *, num_classes=None, in_channels=None, rng=None, device="auto", materialize=True, weights=None, **options
) -> Module:
    """Build model ``name`` of :data:`MODELS`.

    Parameters
    ----------
    name : str
        One of :func:`names` ("lenet5", "alexnet", "vgg16", "resnet50", ...).
    num_classes, in_channels : int, optional
        Override the model's defaults (models without a classifier, such as
        "alphago-policy" and "fc-vs-conv", take no ``num_classes``).
    rng : None, int or numpy.random.Generator
        Source of the initial weights (one generator threads through all layers).
    device : {"auto", "cpu", "parallel", "cuda"}
        Passed to every layer that takes one; "cuda" then moves the whole
        model (BatchNorm and Linear layers included) into GPU memory, where
        it trains (weights are drawn on the host first: the same on every
        device for one ``rng``).
    materialize : bool
        False builds a shape-only model (see the module docstring): exact
        shapes, sizes and MACs, no weight memory, cheap for VGG-19 or the
        1.6-billion-weight FC layer.
    **options
        Builder options, e.g. ``variant="fc"`` for "fc-vs-conv",
        ``filters=128`` for "alphago-policy", ``stride_on_3x3=True`` for the
        ImageNet ResNets.
    weights : str or Path, optional
        An ``.npz`` of a torchvision state dict, loaded by name with every
        tensor checked (:func:`v1sim.nn.models.weights.load_torchvision`;
        the names that take one: :data:`~v1sim.nn.models.weights.TORCHVISION_MODELS`).
        The model then carries ``input_normalization`` (ImageNet's mean and
        std in RGB). ResNet-50/101/152 get ``stride_on_3x3=True``, where
        torchvision strides, unless the option is given.

    Returns
    -------
    Module
        A :class:`v1sim.nn.Sequential`; ``MODELS[name].input_shape`` is what it takes.

    Raises
    ------
    InputError
        For an unknown ``name`` or option, a ``num_classes`` or ``in_channels``
        below 1 (named as such), or when materialising would pass 4 GiB of
        float32 weights (``materialize``).
    InputTypeError
        For a non-integer ``num_classes`` or ``in_channels``.
    """
    info = _info(name)
    params = inspect.signature(info.builder).parameters
    for key, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if value is not None:  # checked here, so the error names the caller's argument, not a layer's
            options[key] = check_positive_int(value, key)
    unknown = [k for k in options if k not in params]
    if unknown:
        known = [k for k in params if k not in ("rng", "device")]
        raise InputError(
            f"model {name!r} takes no option {', '.join(unknown)}; its options: {', '.join(known)}", argument=unknown[0]
        )
    if weights is not None:
        if not materialize:
            raise InputError("weights need a materialised model; drop materialize=False", argument="materialize")
        options = dict(TORCHVISION_MODELS[name].options) | options if name in TORCHVISION_MODELS else options
    with shape_only():
        model = info.builder(rng=None, device=device, **options)
    if not materialize:
        return model
    size = 4 * model.num_parameters()
    if size > _MATERIALIZE_LIMIT_BYTES:
        raise InputError(
            f"model {name!r} has {size // 4:,} parameters ({size / 1e9:.1f} GB as float32), more than the "
            f"{_MATERIALIZE_LIMIT_BYTES / 2**30:.0f} GiB build() materialises; use materialize=False for its "
            "shapes and sizes",
            argument="materialize",
        )
    if weights is None:
        model = info.builder(rng=rng, device=device, **options)
    else:  # the placeholders get the file's tensors: no random weights drawn to be overwritten
        with shape_only():
            model = info.builder(rng=rng, device=device, **options)
        load_torchvision(model, name, weights)
    if resolve_device(device) == "cuda":
        model.to("cuda")
    return model
