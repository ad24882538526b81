"""A layer of a v1sim ConvNet as a unit population (:class:`ConvNetLayer`), for the V1 benchmark.

See :mod:`v1sim.physiology.units` for the interface (:class:`~v1sim.physiology.units.UnitPopulation`).

References
----------
.. [1] Marques T, Schrimpf M, DiCarlo JJ (2021). Multi-scale hierarchical
   neural network models that bridge from single neurons in the primate
   primary visual cortex to object recognition behavior. bioRxiv
   2021.03.01.433495 (model units at the centre of a layer's maps).
"""

from __future__ import annotations

import numpy as np

from .._core.validate import check_allocation, check_positive_int, describe
from ..errors import InputError, InputTypeError
from .units import BATCH, centre_units, check_images, field_of_view

__all__ = ["ConvNetLayer", "fully_convolutional", "load_run_network"]


class ConvNetLayer:
    """A layer of a v1sim ConvNet as a unit population: its channels at the centre of its output map.

    Parameters
    ----------
    model : v1sim.nn.Module
        Any v1sim network, e.g. ``v1sim.nn.models.build("resnet20", rng=0)``;
        :meth:`from_run` loads a trained one.
    layer : str
        A name of ``model.named_modules()`` ("c1", "stage1.0.body.conv1", ...).
        A weighted layer (Conv2d, LocallyConnected2d, Linear) followed in its
        Sequential by an activation (ReLU, Tanh, Sigmoid; BatchNorm layers in
        between are passed through) is read after that activation, the
        layer's nonlinearity; ``read_from`` says which module is read.
    ppd : float, optional
        Pixels per degree of the images; default ``image_size / fov``.
    fov : float
        Field of view, degrees (> 0), used when ``ppd`` is None. 8 in
        Marques et al. (2021).
    image_size : int, optional
        Side of the images the population takes; default ``input_size``.
    input_size : int, optional
        Side of the square input the network is run at; default
        ``image_size``. One of the two is needed. Images are resampled
        (bilinear, pixel-area aligned) from ``image_size`` to ``input_size``,
        so the field of view spans the network's whole input.
    in_channels : int, optional
        Input channels; default the ``in_channels`` of the model's first
        convolution. Grey images are replicated to every channel.
    crop : int, optional
        Feed the network the central ``crop`` x ``crop`` pixels of the
        images at their own scale, not resampled (``input_size`` is then
        ``crop``). For a convolutional network (:func:`fully_convolutional`)
        whose centre unit's receptive field lies inside the crop, the
        responses equal those of the whole image, at a fraction of the cost:
        a 12-pixel filter bank reads the same 12 x 12 central pixels of a
        128-pixel image either way. ``centre_crop`` gives that speed to
        any network; ``crop`` also sets the network's input size.
    centre_crop : bool
        Compute the centre units on the smallest central crop of the
        network's input that holds their receptive field
        (:func:`v1sim.nn.receptive_field.centre_crop`, through the model's
        prefix up to ``read_from``), where one exists: a layer whose centre
        unit's field lies inside the image, no padding on the way, no Linear
        or global layer before it, reachable through Sequential containers.
        The responses equal those of the whole input up to float32 rounding
        (the kernels' summation order; the tests allow 1e-6), at a fraction
        of the cost (AlexNet's conv3 on 224-pixel images: a 113-pixel crop).
        ``centre`` holds the crop, or None. False: always the whole input.

    Notes
    -----
    The images are fed as they are, in [0, 1] with background 0.5: no mean
    subtraction or scaling (v1sim's zoo models are trained on [0, 1]
    digits), unless the model carries ``input_normalization`` (weights
    trained elsewhere, :mod:`v1sim.nn.models.weights`): then the grey
    images go into every (RGB) channel and are normalised with it. The
    units are the channels at row ``H // 2`` and column ``W // 2`` of the
    layer's (N, K, H, W) output, or every feature of a (N, F) output.
    Responses are half-wave rectified (``max(r, 0)``) so that they are
    firing-rate-like: a no-op after a ReLU, the negative half of a tanh or
    of a layer without nonlinearity is cut. The model runs in
    eval mode (its mode is restored afterwards) and only up to the layer.
    """

    def __init__(
        self,
        model,
        layer,
        *,
        ppd=None,
        fov=8.0,
        image_size=None,
        input_size=None,
        in_channels=None,
        crop=None,
        centre_crop=True,
    ):
        from ..nn.module import check_module

        check_module(model)
        self.model = model
        modules = dict(model.named_modules())
        names = [n for n in modules if n]
        if not isinstance(layer, str) or layer not in names:
            raise InputError(
                f"layer must name one of the model's modules, got {describe(layer)}; the names: {', '.join(names)}",
                argument="layer",
            )
        self.layer = layer
        self.read_from = _with_nonlinearity(model, layer)
        if image_size is None and input_size is None:
            raise InputError("give image_size or input_size (the side of the network's input)", argument="image_size")
        self.image_size = check_positive_int(image_size if image_size is not None else input_size, "image_size")
        self.crop = None if crop is None else check_positive_int(crop, "crop")
        if self.crop is not None and (self.crop > self.image_size or input_size not in (None, self.crop)):
            raise InputError(
                f"crop must be at most image_size ({self.image_size}) and equal input_size when both are given, "
                f"got crop={crop!r}, input_size={input_size!r}",
                argument="crop",
            )
        input_size = self.crop if self.crop is not None else input_size
        self.input_size = check_positive_int(input_size if input_size is not None else image_size, "input_size")
        self.ppd = field_of_view(self.image_size, ppd, fov)
        if in_channels is None:
            first = next((m for m in modules.values() if hasattr(m, "in_channels")), None)
            in_channels = 1 if first is None else first.in_channels
        self.in_channels = check_positive_int(in_channels, "in_channels")
        for name, side, copies in (
            ("image_size", self.image_size, 1),
            ("input_size", self.input_size, self.in_channels),
        ):
            check_allocation((BATCH, side, side), np.float32, name, copies=copies, what=f"a batch of {side}^2 images")
        try:  # the layer's output shape tells the unit count, and refuses an input the network cannot take
            probe = self._forward(np.full((1, self.image_size, self.image_size), 0.5, np.float32))
        except InputError as exc:
            raise InputError(
                f"the model cannot take inputs of in_channels={self.in_channels}, input_size={self.input_size} "
                f"up to layer {layer!r}: {exc}",
                argument="input_size",
            ) from None
        self.n_units = int(probe.shape[1])
        if not isinstance(centre_crop, (bool, np.bool_)):
            raise InputTypeError(
                f"centre_crop must be True or False, got {describe(centre_crop)}", argument="centre_crop"
            )
        self.centre = None
        if centre_crop and probe.ndim == 4:
            from ..nn.receptive_field import centre_crop as find_crop

            self.centre = find_crop(model, self.read_from, (self.in_channels, self.input_size, self.input_size))

    @classmethod
    def from_run(cls, run_dir, layer, *, checkpoint="best", device="auto", **options) -> ConvNetLayer:
        """The layer of a network trained by ``v1sim train`` (:func:`v1sim.nn.train.fit`), from its run folder.

        The model is rebuilt from ``run.json`` and the checkpoint
        (:func:`load_run_network`: a classifier's class count is read from
        the checkpoint, so a ``--classes 5-9`` run loads; ``sparse_conv``
        has none). ``input_size`` defaults to the run's input side; but a
        fully convolutional network (:func:`fully_convolutional`) given a
        larger ``image_size`` sees the images at their own scale, its centre
        unit computed on the central crop of the run's input side (``crop``),
        instead of the whole field shrunk onto its training input.
        ``options`` go to :class:`ConvNetLayer`.

        Raises
        ------
        v1sim.errors.CheckpointError
            If the folder holds no ``v1sim train`` run of a zoo model, or the
            checkpoint is missing, corrupt or of another model.
        """
        model, run = load_run_network(run_dir, checkpoint=checkpoint, device=device)
        side = int(run["input_shape"][1])
        wide = options.get("image_size") is not None and options["image_size"] > side
        if fully_convolutional(model) and wide and options.get("input_size") is None:
            options.setdefault("crop", side)
        else:
            options.setdefault("input_size", side)
        return cls(model, layer, **options)

    def __repr__(self) -> str:
        return (
            f"ConvNetLayer({self.layer!r} read at {self.read_from!r}, {self.n_units} units, "
            f"image_size={self.image_size}, input_size={self.input_size}, crop={self.crop}, ppd={self.ppd:g}, "
            f"centre={None if self.centre is None else (self.centre.offset, self.centre.shape)})"
        )

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        """(N, S, S) images -> (N, C, input_size, input_size) float32: cropped or resampled, grey to C channels."""
        if self.crop is not None:
            lo = (self.image_size - self.crop) // 2
            x = x[:, lo : lo + self.crop, lo : lo + self.crop]
        elif self.input_size != self.image_size:
            from scipy import ndimage

            z = self.input_size / self.image_size
            x = ndimage.zoom(x, (1.0, z, z), order=1, mode="nearest", grid_mode=True)
        x = np.ascontiguousarray(x, dtype=np.float32)[:, None]
        x = np.ascontiguousarray(np.broadcast_to(x, (x.shape[0], self.in_channels) + x.shape[2:]))
        norm = getattr(self.model, "input_normalization", None)  # ImageNet's mean and std, for imported weights
        return x if norm is None else np.ascontiguousarray(norm.apply(x), dtype=np.float32)

    def _centre_forward(self, images: np.ndarray) -> np.ndarray:
        """Raw outputs of ``read_from`` on the centre crop (:attr:`centre`) of the inputs, (N, K, h, w) host arrays."""
        from ..nn.device import to_host

        x = np.ascontiguousarray(self.centre.apply(self._inputs(images)))
        was_training = self.model.training
        self.model.eval()
        try:
            return np.asarray(to_host(self.centre.network(x)))
        finally:
            self.model.train(was_training)

    def _forward(self, images: np.ndarray) -> np.ndarray:
        """Raw outputs of ``read_from`` for (N, S, S) images, as (N, K, H, W) or (N, F) host arrays."""
        from ..nn.capture import capture_outputs

        captured = capture_outputs(self.model, self._inputs(images), [self.read_from])
        if not captured:
            raise InputError(f"layer {self.layer!r} did not run in the model's forward pass", argument="layer")
        return captured[self.read_from]

    def full_output(self, images) -> np.ndarray:
        """The whole output of ``read_from`` (not rectified), (N, K, H, W) or (N, F), for checks and figures."""
        return self._forward(check_images(images, self.image_size))

    def responses(self, images) -> np.ndarray:
        """Centre units (N, n_units), half-wave rectified, in the model's float dtype."""
        x = check_images(images, self.image_size)
        parts = []
        forward = self._forward if self.centre is None else self._centre_forward
        for i in range(0, len(x), BATCH):
            out = forward(x[i : i + BATCH])
            parts.append(centre_units(out) if out.ndim == 4 else out.reshape(len(out), -1))
        return np.maximum(np.concatenate(parts), 0)


def fully_convolutional(model) -> bool:
    """True when ``model`` has no Linear or LocallyConnected2d layer: it takes inputs of any size."""
    from ..nn import Linear, LocallyConnected2d
    from ..nn.module import check_module

    check_module(model)
    return not any(isinstance(m, (Linear, LocallyConnected2d)) for _, m in model.named_modules())


def load_run_network(run_dir, *, checkpoint="best", device="auto"):
    """The trained network of a ``v1sim train`` run of a zoo model and its ``run.json``, the network in eval mode.

    :func:`v1sim.nn.transfer.load_trained`, the one loader of a run (a
    classifier's class count read from the checkpoint; a network without one,
    such as ``sparse_conv``, from its name and input channels); ``"best"``
    falls back to ``last.npz`` when the run has no ``best.npz``.

    Raises
    ------
    v1sim.errors.CheckpointError
        As :func:`~v1sim.nn.transfer.load_trained`.
    """
    from ..nn.transfer import load_trained

    return load_trained(run_dir, checkpoint=checkpoint, device=device)


def _with_nonlinearity(model, layer: str) -> str:
    """``layer``, or the activation that follows it in its Sequential when ``layer`` is a weighted layer."""
    from ..nn import BatchNorm1d, BatchNorm2d, Conv2d, Linear, LocallyConnected2d, ReLU, Sequential, Sigmoid, Tanh

    modules = dict(model.named_modules())
    if not isinstance(modules[layer], (Conv2d, LocallyConnected2d, Linear)):
        return layer
    parent_name, _, own = layer.rpartition(".")
    parent = modules[parent_name]
    if not isinstance(parent, Sequential):
        return layer
    siblings = [(n, m) for n, m in parent.named_modules() if n and "." not in n]  # its direct children
    after = [n for n, _ in siblings].index(own) + 1
    for name, module in siblings[after:]:
        if isinstance(module, (ReLU, Tanh, Sigmoid)):
            return f"{parent_name}.{name}" if parent_name else name
        if not isinstance(module, (BatchNorm1d, BatchNorm2d)):
            break
    return layer
