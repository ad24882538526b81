"""Transfer learning as the lecture teaches it: start from a trained run, swap the classifier, freeze or fine-tune.

A ConvNet trained on one task is a feature extractor for another [1]_ [2]_:

1. :func:`load_trained` rebuilds a ``v1sim train`` run's network from its
   run folder (``best.npz``, else ``last.npz``; the keys load as saved).
2. :func:`replace_classifier` swaps its last :class:`~v1sim.nn.Linear` for a
   fresh one with the new task's number of classes ("swap the softmax layer").
3. :func:`~v1sim.nn.optim.set_layer_rates` freezes layers (a fixed feature extractor: only the
   classifier learns, for a small target set) or scales their learning rates
   (fine-tuning at a tenth of the rate, for a medium-sized one). Layers are
   named as ``v1sim summary`` prints them; a name also selects every layer
   below it (``"stage1"``, ``"features"``).

:func:`train_transfer` is the engine behind ``v1sim train MODEL --init RUN_DIR
--freeze ... --lr-mult ... --classes ...``; :func:`select_classes` and
:func:`parse_classes` make a target task from a class subset ("digits 0-4 ->
5-9").

References
----------
.. [1] J. Donahue et al., "DeCAF: a deep convolutional activation feature for
   generic visual recognition", ICML 2014.
.. [2] J. Yosinski, J. Clune, Y. Bengio, H. Lipson, "How transferable are
   features in deep neural networks?", NIPS 2014.
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_choice, check_labels, check_positive_int
from ..errors import CheckpointError, InputError, InputTypeError
from .config import TrainConfig
from .layers import Linear
from .module import check_module

__all__ = [
    "classifier_name",
    "load_trained",
    "parse_classes",
    "replace_classifier",
    "select_classes",
    "train_transfer",
    "transfer_model",
]

MAX_CLASSES = 100_000  # more labels than any dataset here has: a longer range is a typo, not a task


def classifier_name(model) -> str:
    """Dotted name of the model's classifier: its last :class:`~v1sim.nn.Linear` module."""
    linear = [name for name, m in check_module(model).named_modules() if isinstance(m, Linear)]
    if not linear:
        raise InputError(f"{type(model).__name__} has no Linear layer to replace", argument="model")
    return linear[-1]


def replace_classifier(model, num_classes, *, rng=None):
    """Swap the classifier (last Linear) for a fresh one with ``num_classes`` outputs, in place; returns ``model``.

    The new layer has the old one's inputs and bias setting, Xavier-initialised
    weights drawn from ``rng``, and lives where the model lives.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    name = classifier_name(model)
    parent_name, _, child = name.rpartition(".")
    parent = dict(model.named_modules())[parent_name]
    old = getattr(parent, child)
    new = Linear(old.in_features, num_classes, bias=old.bias is not None, init="xavier", rng=rng, device=old.device)
    setattr(parent, child, new)
    return model


def load_trained(run_dir, *, checkpoint="best", device="auto"):
    """The network of a ``v1sim train`` run of a zoo ConvNet, with its trained weights: the one loader of a run.

    A classifier (a model with a :class:`~v1sim.nn.Linear` layer) is rebuilt
    with the class count its checkpoint holds, so a ``--classes 5-9`` run
    loads; a network without one (the natural-image ``sparse_conv``, whose
    ``run.json`` has ``num_classes`` null) from its name and input channels.
    :func:`v1sim.physiology.load_run_network` and
    :func:`v1sim.visualize.load_network` read runs through it.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by :func:`v1sim.nn.train.fit` through ``v1sim train``.
    checkpoint : {"best", "last"}
        Which checkpoint; ``"best"`` falls back to ``last.npz`` when the run
        has no ``best.npz``.
    device : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    model : Module
        In eval mode; its classifier, if it has one, has the run's number of classes.
    run : dict
        The run's ``run.json``.

    Raises
    ------
    v1sim.errors.CheckpointError
        If the folder holds no ``v1sim train`` run of a zoo ConvNet, or the
        checkpoint is missing, corrupt or does not fit the model.
    """
    from .._core.io import load_checkpoint
    from .._core.runs import RunFolder, check_finite
    from . import models

    check_choice(checkpoint, "checkpoint", ("best", "last"))
    folder = RunFolder(run_dir)
    if not (folder.path / folder.RUN).is_file():  # saved_run's wording is about resuming
        raise CheckpointError(f"{folder.path} holds no v1sim train run ({folder.RUN} is missing)", path=folder.path)
    run = folder.saved_run()
    name, shape = run.get("model"), run.get("input_shape")
    if name not in models.MODELS or not (isinstance(shape, list) and len(shape) == 3):
        raise CheckpointError(
            f"{folder.path} does not hold a v1sim train run of a zoo ConvNet (model {name!r})", path=folder.path
        )
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape):
        raise CheckpointError(
            f"{folder.path / folder.RUN} has input_shape {shape!r}: three positive sizes (C, H, W) expected",
            path=folder.path,
        )
    path = folder.path / f"{checkpoint}.npz"
    if checkpoint == "best" and not path.is_file():
        path = folder.path / "last.npz"
    arrays, _ = load_checkpoint(path)
    check_finite(path, arrays)
    state = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    shell = models.build(name, in_channels=int(shape[0]), materialize=False)
    options = {}
    if any(isinstance(m, Linear) for _, m in shell.named_modules()):  # a classifier: its class count as saved
        head = f"{classifier_name(shell)}.weight"
        if head not in state:
            raise CheckpointError(f"checkpoint {path} has no {head!r}: it is not a {name} checkpoint", path=path)
        options["num_classes"] = int(state[head].shape[0])
    model = models.build(name, in_channels=int(shape[0]), device=device, **options)
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit model {name!r}: {exc}", path=path) from None
    return model.eval(), run


def transfer_model(name, run_dir, num_classes, *, checkpoint="best", rng=None, device="auto"):
    """Zoo model ``name`` initialised from the run in ``run_dir``, with a fresh ``num_classes`` classifier.

    Raises
    ------
    v1sim.errors.InputError
        If the run trained another architecture (``argument="init"``, both
        names given).
    v1sim.errors.CheckpointError
        As :func:`load_trained`.
    """
    model, run = load_trained(run_dir, checkpoint=checkpoint, device=device)
    if run["model"] != name:
        raise InputError(
            f"--init {run_dir} holds a {run['model']} run; it cannot initialise {name} (another architecture)",
            argument="init",
        )
    return replace_classifier(model, num_classes, rng=rng).train()


def parse_classes(text) -> tuple:
    """Class labels from ``"5-9"``, ``"0,2,4"`` or ``"0-2,7"`` (ranges inclusive), in the order written.

    Raises
    ------
    v1sim.errors.InputError
        For anything else, a repeated class, or fewer than two classes
        (``argument="classes"``).
    """
    if not isinstance(text, str):
        raise InputTypeError(f"classes must be a string such as '5-9' or '0,2,4', got {text!r}", argument="classes")
    out = []
    try:
        for part in text.split(","):
            low, sep, high = part.strip().partition("-")
            span = range(int(low), int(high) + 1) if sep else [int(low)]
            if len(out) + len(span) > MAX_CLASSES:  # checked before the list is built: "0-1000000000" is a typo
                raise InputError(f"classes must name at most {MAX_CLASSES:,} labels, got {text!r}", argument="classes")
            out += span
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"classes must look like '5-9' or '0,2,4', got {text!r}", argument="classes") from None
    if len(out) < 2 or len(set(out)) != len(out) or min(out) < 0:
        shown = out if len(out) <= 12 else [*out[:12], "..."]
        raise InputError(
            f"classes must name two or more different labels >= 0, got {text!r} ({shown})", argument="classes"
        )
    return tuple(out)


def select_classes(images, labels, classes):
    """The images of ``classes`` only, labels renumbered ``0..k-1`` in the order of ``classes``.

    Raises
    ------
    v1sim.errors.InputError
        If a class has no image (``argument="classes"``).
    """
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise InputTypeError(f"images must be an array of images, got {type(images).__name__}", argument="images")
    try:
        images = np.asarray(images)
    except (ValueError, TypeError):  # ragged nested lists
        raise InputTypeError("images must be an array of images, got a ragged sequence", argument="images") from None
    if images.ndim == 0:
        raise InputError("images must hold one image per label, got a scalar", argument="images")
    labels = check_labels(labels, len(images))
    try:
        classes = tuple(int(c) for c in classes)
    except (TypeError, ValueError):
        raise InputTypeError(f"classes must be integer labels, got {classes!r}", argument="classes") from None
    absent = [c for c in classes if not np.any(labels == c)]
    if absent:
        raise InputError(
            f"classes {absent} have no images (the labels hold {sorted(set(labels.tolist()))})", argument="classes"
        )
    keep = np.isin(labels, classes)
    remap = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
    remap[list(classes)] = np.arange(len(classes))
    return images[keep], remap[labels[keep]]


def train_transfer(
    name,
    *,
    init=None,
    checkpoint="best",
    classes=None,
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
    """Train zoo model ``name`` on a class subset and/or from a trained run: ``v1sim train --init/--classes``.

    As :func:`v1sim.nn.recipes.train_model`, plus:

    Parameters
    ----------
    init : str or Path, optional
        Run folder whose ``checkpoint`` initialises every layer but the
        classifier (:func:`transfer_model`); None trains from scratch.
    checkpoint : {"best", "last"}
    classes : sequence of int, optional
        Train and test on these labels only, renumbered ``0..k-1``
        (:func:`select_classes`); ``limit`` then counts their images.

    ``config.freeze`` and ``config.lr_mult`` say what trains (applied by
    :func:`~v1sim.nn.train.fit`). ``run.json`` records ``init``,
    ``checkpoint`` and ``classes``; a resume must give the same.

    Returns
    -------
    dict
        :func:`~v1sim.nn.train.fit`'s result plus ``model``, ``dataset``,
        ``parameters``, ``trainable_parameters``, ``init``, ``classes``.
    """
    from ..datasets import load_dataset
    from . import models
    from .recipes import prepare_images, recipe
    from .train import fit

    config = config or TrainConfig(**recipe(name))
    input_shape = models.default_input_shape(name, in_channels=1)
    x, y = load_dataset(dataset, "train", data_dir=data_dir, download=download)
    xt, yt = load_dataset(dataset, "test", data_dir=data_dir, download=download)
    if classes is not None:
        (x, y), (xt, yt) = select_classes(x, y, classes), select_classes(xt, yt, classes)
    if limit is not None:
        x, y = x[: check_positive_int(limit, "limit")], y[:limit]
    x, xt = prepare_images(x, input_shape), prepare_images(xt, input_shape)
    k = 10 if classes is None else len(classes)
    if init is None:
        model = models.build(name, num_classes=k, in_channels=1, rng=config.seed, device=device)
    else:
        model = transfer_model(name, init, k, checkpoint=checkpoint, rng=config.seed, device=device)
    meta = {
        "model": name,
        "dataset": dataset,
        "input_shape": list(input_shape),
        "limit": limit,
        "init": None if init is None else str(init),
        "init_checkpoint": None if init is None else checkpoint,
        "classes": None if classes is None else list(classes),
    }
    result = fit(model, (x, y), (xt, yt), config, out, resume=resume, progress=progress, meta=meta)
    extra = {"init": meta["init"], "classes": meta["classes"]}
    trainable = sum(p.size for p in model.parameters() if p.requires_grad and p.lr_mult > 0)
    return {
        "model": name,
        "dataset": dataset,
        "parameters": model.num_parameters(),
        "trainable_parameters": trainable,
        **extra,
        **result,
    }
