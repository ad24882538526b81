"""Zoo models on handwritten digits: default recipes, padding digits to a model's input, and ``v1sim train``.

:data:`RECIPES` / :func:`recipe`
    The hyper-parameters ``v1sim train MODEL`` uses unless flags override them.
:func:`prepare_images`
    Zero-pad 28x28 digits to a model's (C, H, W) input.
:func:`train_model`
    Load a dataset, build the model and :func:`~v1sim.nn.train.fit` it into a run folder.
:func:`train_steps` / :func:`sgd_steps` / :func:`predict_labels`
    A fixed number of SGD steps in memory (of a zoo model by name, or of any module), and the labels it
    predicts: for figures.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_positive_int
from .device import to_host
from .loss import CrossEntropyLoss
from .optim import SGD
from .train import TrainConfig, check_data, fit

__all__ = ["RECIPES", "predict_labels", "prepare_images", "recipe", "sgd_steps", "train_model", "train_steps"]

# The defaults `v1sim train MODEL` uses (flags override them).
RECIPES = {
    # LeNet-5 (tanh, average pooling): SGD with momentum and a step schedule.
    "lenet5": {
        "epochs": 20,
        "batch_size": 64,
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "lr_step": 8,
        "lr_gamma": 0.2,
    },
    # He et al.'s CIFAR recipe, shortened: lr 0.1 with momentum 0.9, weight decay 1e-4.
    "resnet": {
        "epochs": 6,
        "batch_size": 128,
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "lr_step": 4,
        "lr_gamma": 0.1,
    },
}


def recipe(model_name: str) -> dict:
    """Default hyper-parameters for ``model_name`` (see :data:`RECIPES`; natural-image models: ``NATURAL_RECIPES``)."""
    from .natural import NATURAL_RECIPES

    if model_name in NATURAL_RECIPES:
        return dict(NATURAL_RECIPES[model_name])
    if model_name.startswith(("resnet", "plain")):
        settings = dict(RECIPES["resnet"])
        if model_name in ("resnet110", "plain110"):  # He et al. warm ResNet-110 up at lr 0.01 for ~400 steps
            settings["warmup_steps"] = 400
        return settings
    return dict(RECIPES["lenet5"])


def prepare_images(images, input_shape):
    """Fit (N, C, 28, 28) digits to a model's (C, H, W) input by centred zero padding.

    Raises
    ------
    ValueError
        If the model wants fewer pixels, or far more (ImageNet-sized models
        need real images, not upsampled digits).
    """
    from ..datasets import pad_to

    c, h, w = input_shape
    if images.shape[1] != c:
        raise ValueError(f"the model expects {c} input channel(s), the data has {images.shape[1]}")
    if (h, w) == images.shape[2:]:
        return images
    if h != w or h < images.shape[2] or h > 64:
        raise ValueError(
            f"the model expects {h}x{w} inputs; digits are {images.shape[2]}x{images.shape[3]} and are only "
            "zero-padded up to 64x64 (use lenet5, resnet20..110 or plain20..110 for digits)"
        )
    return pad_to(images, h)


def train_steps(name, images, labels, *, steps, seed=0):
    """Zoo model ``name`` trained for a fixed number of SGD steps, in memory: for figures and quick experiments.

    Uses the :func:`recipe` of ``name`` (batch size, learning rate, momentum,
    weight decay), with the rate multiplied by ``lr_gamma`` once, after three
    quarters of the steps; minibatches walk through seeded permutations. No
    checkpoints, metrics or test passes (use :func:`fit` for those).

    Parameters
    ----------
    name : str
        A model of :mod:`v1sim.nn.models` whose input fits padded digits.
    images : (N, 1, 28, 28) ndarray
        Digits in [0, 1], padded to the model's input by :func:`prepare_images`.
    labels : (N,) int ndarray
    steps : int
        SGD steps (minibatches).
    seed : int
        Seeds the weights and the batch order.

    Returns
    -------
    Module
        The trained model, in eval mode.
    """
    from . import models

    steps = check_positive_int(steps, "steps")
    x, y = check_data(prepare_images(images, models.default_input_shape(name)), labels, "train")
    settings = recipe(name)
    model = models.build(name, rng=seed)
    return sgd_steps(
        model,
        x,
        y,
        steps=steps,
        seed=seed,
        lr=settings["lr"],
        momentum=settings["momentum"],
        weight_decay=settings["weight_decay"],
        batch_size=settings["batch_size"],
        lr_gamma=settings["lr_gamma"],
    )


def sgd_steps(model, x, y, *, steps, seed, lr, momentum, weight_decay, batch_size, lr_gamma=None):
    """``steps`` SGD steps of ``model`` on softmax cross-entropy, in memory; the loop of :func:`train_steps`.

    Minibatches of ``min(batch_size, N)`` walk through permutations drawn
    from ``numpy.random.default_rng(seed)``; with ``lr_gamma`` the rate is
    multiplied by it once, after three quarters of the steps. The optimiser
    honours each parameter's ``requires_grad`` and ``lr_mult`` (frozen and
    fine-tuned layers, :func:`v1sim.nn.optim.set_layer_rates`).

    Parameters
    ----------
    model : Module
    x : (N, C, H, W) float32 ndarray
        Images already fitted to the model's input (:func:`prepare_images`).
    y : (N,) int ndarray
    steps, seed, lr, momentum, weight_decay, batch_size, lr_gamma
        The schedule, as above.

    Returns
    -------
    Module
        ``model``, trained, in eval mode.
    """
    opt = SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    criterion = CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    batch = min(batch_size, len(x))
    order = np.zeros(0, dtype=np.int64)
    model.train()
    for step in range(steps):
        if lr_gamma is not None and step == (3 * steps) // 4:
            opt.lr *= lr_gamma
        if len(order) < batch:
            order = np.concatenate([order, rng.permutation(len(x))])
        idx, order = order[:batch], order[batch:]
        criterion(model(x[idx]), y[idx])
        model.zero_grad()
        model.backward_without_input_grad(criterion.backward())
        opt.step()
    return model.eval()


def predict_labels(model, images, input_shape, *, batch_size=500):
    """Class labels (N,) of a trained model for digits (N, 1, 28, 28), padded to ``input_shape`` (C, H, W)."""
    x = prepare_images(images, input_shape)
    return np.concatenate([to_host(model(x[i : i + batch_size])).argmax(axis=1) for i in range(0, len(x), batch_size)])


def train_model(
    name,
    *,
    dataset="digits",
    data_dir=None,
    download=False,
    config=None,
    device="auto",
    out="runs",
    resume=False,
    progress=True,
    limit=None,
) -> dict:
    """Train zoo model ``name`` on digits from a folder: the engine behind ``v1sim train``.

    Parameters
    ----------
    name : str
        A model of :mod:`v1sim.nn.models` whose input fits padded digits.
    dataset : {"digits", "mnist"}
        The embedded offline digits, or MNIST (``data_dir`` or ``download``).
    data_dir, download
        Where MNIST lies, and whether to download it when absent.
    config : TrainConfig, optional
        Defaults to :func:`recipe` for the model.
    device : {"auto", "cpu", "parallel", "cuda"}
        Backend of the layers.
    out : str or Path
        Run folder (checkpoints, metrics).
    resume : bool
        Continue the run in ``out``.
    progress : bool
        Progress bars and per-epoch lines on stderr.
    limit : int, optional
        Train on the first ``limit`` training images only (quick runs).

    Returns
    -------
    dict
        The result of :func:`fit`, plus ``model``, ``dataset`` and ``parameters``.
    """
    from ..datasets import load_dataset
    from . import models
    from .natural import NATURAL_MODELS, train_natural

    if name in NATURAL_MODELS:  # unlabelled natural images, a reconstruction objective
        return train_natural(
            name,
            dataset=dataset,
            data_dir=data_dir,
            config=config,
            device=device,
            out=out,
            resume=resume,
            progress=progress,
            limit=limit,
        )
    config = config or TrainConfig(**recipe(name))
    input_shape = models.default_input_shape(name, in_channels=1)
    x, y = load_dataset(dataset, "train", data_dir=data_dir, download=download)
    xt, yt = load_dataset(dataset, "test", data_dir=data_dir, download=download)
    if limit is not None:
        x, y = x[: check_positive_int(limit, "limit")], y[:limit]
    x, xt = prepare_images(x, input_shape), prepare_images(xt, input_shape)
    model = models.build(name, num_classes=10, in_channels=1, rng=config.seed, device=device)
    meta = {"model": name, "dataset": dataset, "input_shape": list(input_shape), "limit": limit}
    result = fit(model, (x, y), (xt, yt), config, out, resume=resume, progress=progress, meta=meta)
    return {"model": name, "dataset": dataset, "parameters": model.num_parameters(), **result}
