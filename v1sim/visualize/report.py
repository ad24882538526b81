"""Every visualisation of one trained network, written as PNGs and a JSON summary: ``v1sim visualize``."""

from __future__ import annotations

import numpy as np

from .._core.validate import check_nonnegative_int, check_positive_int
from ..errors import InputError
from .activations import check_layer, layer_names, layer_outputs, top_patches
from .finite_difference import unit_holder
from .maximize import maximize_activation
from .mosaic import layer_weights
from .network import NATURAL_IMAGES, load_network, network_images
from .receptive_field import receptive_fields

__all__ = [
    "CONVNET_STEPS",
    "HIERARCHY_MAX_UNITS",
    "HIERARCHY_STEPS",
    "default_layer",
    "summary_lines",
    "write_visualizations",
]

HIERARCHY_MAX_UNITS = 4  # units maximised by finite differences (2 P forwards a step): a few, not all shown
CONVNET_STEPS = 60  # default ascent steps through the backward pass
HIERARCHY_STEPS = 20  # by finite differences: Neocognitron US3 units had plateaued by 20 (0.245 at 20 and 60 steps)


def default_layer(network) -> str:
    """The layer shown when none is named: a ConvNet's second convolution (its first if it has one), the
    pre-activation so that responses do not saturate; a hierarchy's highest learned S-stage below US4."""
    from ..nn import Conv2d

    if network.kind == "hierarchy":
        built = [s for s in ("US3", "US2", "US1") if s in network.model.layers]
        return built[0]
    convs = [n for n, m in network.model.named_modules() if isinstance(m, Conv2d)]
    return convs[1] if len(convs) > 1 else convs[0] if convs else layer_names(network.model)[0]


def _first_filters(network) -> str:
    """The first layer with filters in the input's space (a ConvNet's first Conv2d; a hierarchy's US1)."""
    from ..nn import Conv2d

    if network.kind == "hierarchy":
        return "US1"
    return next(n for n, m in network.model.named_modules() if isinstance(m, Conv2d))


def write_visualizations(
    run_dir, out_dir, *, layer=None, units=8, image=0, k=9, steps=None, checkpoint="best", progress=False, weights=None
) -> dict:
    """Visualise a trained network into ``out_dir``: filters, activation maps, top patches, maximisation, fields.

        Writes ``filters.png`` (first layer as images; ``layer``'s filters by
        their strongest input channel), ``activations.png`` (test image
        ``image`` through every layer with a map), ``top_patches.png`` (the
        ``k`` test images that drive each of the first ``units`` units of
        ``layer`` hardest, cropped to their receptive field),
        ``maximization.png`` (activation maximisation of those units,
        :func:`maximize_activation` with its defaults and ``steps``, default
    :data:`CONVNET_STEPS` or, for a hierarchy, :data:`HIERARCHY_STEPS`; a hierarchy's
        by finite differences, its first :data:`HIERARCHY_MAX_UNITS` units, when
        ``layer``'s field has at most 40x40 pixels) and
        ``receptive_fields.png``. With ``weights`` (a torchvision state dict),
        ``run_dir`` is a zoo name instead and the images are crops of the natural
        images (:func:`~v1sim.visualize.network.load_network`); RGB first-layer
        filters are shown in colour.

        Returns
        -------
        dict
            The JSON summary: ``run``, ``model``, ``kind``, ``layer``, ``layers``
            (name -> ``size``, ``jump``, ``start``, ``map_shape``), ``units``,
            ``top_patches`` (per unit: ``image_index``, ``values``), ``maximization``
            (per unit: first and final response; None when skipped), ``maximization_note``
            (why it was skipped, or None),
            ``dataset``, ``image``, ``files``.
    """
    from ..plotting import check_out_dir, paper_style, save_figure
    from . import plots

    out = check_out_dir(out_dir, "out_dir")
    units = check_positive_int(units, "units")
    image = check_nonnegative_int(image, "image")
    network = load_network(run_dir, checkpoint=checkpoint, weights=weights)
    model = network.model
    layer = default_layer(network) if layer is None else check_layer(model, layer)
    x, _, dataset = network_images(network, progress=progress)
    if image >= len(x):
        raise InputError(f"image must be below {len(x)} (the {dataset} test images), got {image}", argument="image")
    fields = receptive_fields(model, None if network.kind == "hierarchy" else network.input_shape)
    outputs = layer_outputs(model, x[image : image + 1])
    n_units = outputs[layer].shape[1]
    shown = list(range(min(units, n_units)))
    top = top_patches(model, layer, x, k=k, units=shown, progress=progress)
    maxima, maxima_note = None, None
    if network.kind == "convnet":
        maxima = [
            maximize_activation(
                model,
                layer,
                u,
                input_shape=network.input_shape,
                steps=CONVNET_STEPS if steps is None else steps,
                rng=0,
                progress=progress,
            )
            for u in shown
        ]
    else:  # finite differences over the field: a few units, and only a field of at most 40x40 pixels
        try:
            unit_holder(model, layer)
        except InputError as exc:
            maxima_note = f"no activation maximisation: {exc}"
        else:
            maxima = [
                maximize_activation(
                    model, layer, u, steps=HIERARCHY_STEPS if steps is None else steps, rng=0, progress=progress
                )
                for u in shown[:HIERARCHY_MAX_UNITS]
            ]
    out.mkdir(parents=True, exist_ok=True)
    files = []
    with paper_style():
        import matplotlib.pyplot as plt

        first = _first_filters(network)
        has_filters = _has_filters(model, layer) and layer != first
        fig, axes = plt.subplots(1, 1 + has_filters, figsize=(3.4 * (1 + has_filters), 3.4), squeeze=False)
        first_weights = layer_weights(model, first)
        colour = "rgb" if first_weights.shape[1] == 3 else "strongest"
        plots.plot_filters(first_weights, f"{first}: filters", ax=axes[0, 0], channel=colour)
        if has_filters:
            plots.plot_filters(layer_weights(model, layer), f"{layer}: strongest input channel", ax=axes[0, 1])
        files.append(save_figure(fig, out / "filters.png"))
        ink = dataset != NATURAL_IMAGES  # digits are ink on paper, shown dark; photographs as they are
        fig = plots.plot_activation_maps(x[image], outputs, ink=ink)
        fig.suptitle(f"{network.name}: {dataset} test image {image} through the layers")
        files.append(save_figure(fig, out / "activations.png"))
        fig = plots.plot_top_patches(top, ink=ink)
        fig.suptitle(f"{layer}: top {k} of {len(x)} test images per unit, {top.field.size[0]} px receptive field")
        files.append(save_figure(fig, out / "top_patches.png"))
        if maxima is not None:
            fig = plots.plot_maximizations(maxima, ink=ink, label=layer)
            if network.kind == "convnet":
                fig.suptitle(f"{layer}: activation maximisation (centre unit)", y=1.02)
            else:
                fig.suptitle(
                    f"{layer}: activation maximisation\n(finite differences, {fields[layer].size[0]} px field)", y=1.35
                )
            files.append(save_figure(fig, out / "maximization.png"))
        side = network.input_shape[1]
        files.append(save_figure(plots.plot_receptive_fields(fields, input_side=side), out / "receptive_fields.png"))
    return {
        "run": str(network.path),
        "model": network.name,
        "kind": network.kind,
        "layer": layer,
        "layers": {
            n: {"size": list(f.size), "jump": list(f.jump), "start": list(f.start), "map_shape": list(f.map_shape)}
            for n, f in fields.items()
        },
        "units": shown,
        "top_patches": [
            {"unit": int(u), "image_index": top.image_index[i].tolist(), "values": _floats(top.values[i])}
            for i, u in enumerate(top.units)
        ],
        "maximization": None
        if maxima is None
        else [{"unit": r.unit, "initial": float(r.responses[0]), "final": float(r.responses[-1])} for r in maxima],
        "maximization_note": maxima_note,
        "dataset": dataset,
        "image": image,
        "files": [str(f) for f in files],
    }


def _has_filters(model, layer) -> bool:
    try:
        layer_weights(model, layer)
    except InputError:
        return False
    return True


def _floats(values) -> list:
    return [float(v) for v in np.asarray(values, dtype=np.float64)]


def summary_lines(summary: dict) -> list:
    """The human-readable lines ``v1sim visualize`` prints."""
    f = summary["layers"][summary["layer"]]
    lines = [
        f"{summary['model']} ({summary['run']}): layer {summary['layer']}, receptive field {f['size'][0]}x"
        f"{f['size'][1]} px, jump {f['jump'][0]}, start {f['start'][0]}",
    ]
    for entry in summary["top_patches"]:
        lines.append(f"  unit {entry['unit']:<3} top images {entry['image_index'][:5]} values {entry['values'][0]:.3g}")
    for entry in summary["maximization"] or []:
        lines.append(f"  unit {entry['unit']:<3} maximised {entry['initial']:.3g} -> {entry['final']:.3g}")
    if summary.get("maximization_note"):
        lines.append(f"  {summary['maximization_note']}")
    lines += [f"wrote {p}" for p in summary["files"]]
    return lines
