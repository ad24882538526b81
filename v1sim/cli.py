"""The ``v1sim`` command line.

Subcommands
-----------
figures   regenerate the figure gallery (the main job)
summary   a model's layers: output shapes, parameters, activation memory, MACs
train     train a ConvNet of the model zoo on digits (checkpoints, resume)
record    virtual electrophysiology on a model cell: rasters, tuning curves, metrics
info      versions, threads, Numba threading layer, CUDA availability
warmup    compile every kernel ahead of use and report first-call times

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

_EPILOG_FIGURES = """\
examples:
  v1sim figures                 every figure into ./figures (of the checkout)
  v1sim figures --list          what there is, with titles
  v1sim figures dog lm_bank     a subset, by name
  v1sim figures --quick --out /tmp/figs   small, fast versions (for tests)
"""

_EPILOG_SUMMARY = """\
examples:
  v1sim summary --list                  the models, with their papers
  v1sim summary vgg16                   the lecture's VGG-16 table: 138M params, 15.2M values/image
  v1sim summary alexnet                 [55x55x96] ... [6x6x256], shown as (C, H, W)
  v1sim summary resnet50 --depth 1      one row per stage; MACs = He et al.'s "FLOPs"
  v1sim summary resnet20 --input 3,64,64    another input size
  v1sim summary fc-vs-conv --variant fc     1.6 billion weights, none allocated
  v1sim summary googlenet --json        one JSON object (totals and every layer)

Nothing is computed on data and no weights are allocated: shapes, sizes and
multiply-accumulates come from each layer's formulas, W2 = (W1 - F + 2P)/S + 1.
Activations count the values a forward pass stores per image (input included,
in-place ReLU/dropout not again); memory is 4 bytes each (float32).
"""


def _summary(args) -> int:
    from .nn import models
    from .nn.summary import parse_shape, summarize

    if args.list:
        for name, info in models.MODELS.items():
            shape = ",".join(map(str, info.input_shape))
            print(f"{name:<15} {shape:<10} {info.description}")
        return 0
    if args.model is None:
        print("v1sim summary: give a MODEL name (or --list); known: " + ", ".join(models.MODELS), file=sys.stderr)
        return 2
    if args.model not in models.MODELS:
        print(f"v1sim summary: unknown model {args.model!r}; known: {', '.join(models.MODELS)}", file=sys.stderr)
        return 2
    options = {} if args.variant is None else {"variant": args.variant}
    try:
        shape = None if args.input is None else parse_shape(args.input)
        result = summarize(args.model, shape, **options)
    except ValueError as exc:
        print(f"v1sim summary: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = result.to_dict()
        if args.depth is not None:
            data["layers"] = [row for row in data["layers"] if row["depth"] <= args.depth]
        print(json.dumps(data))
    else:
        print(result.to_text(depth=2 if args.depth is None else args.depth))
    return 0


def _figures(args) -> int:
    from . import figures

    try:
        scripts = figures.discover(args.scripts)
    except FileNotFoundError as exc:
        print(f"v1sim figures: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for s in scripts:
            print(f"{s.name:<22} {s.title}")
        return 0
    if args.names:
        known = {s.name: s for s in scripts}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            print(
                f"v1sim figures: unknown figure name(s) {', '.join(unknown)}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
        scripts = [known[n] for n in args.names]
    out = Path(args.out) if args.out else (Path(args.scripts).parent if args.scripts else _repo_root()) / "figures"
    records = figures.run(scripts, out, quick=args.quick, progress=not args.json)
    if args.json:
        print(json.dumps({"out": str(out), "figures": records}))
    else:
        total = sum(r["seconds"] for r in records)
        print(f"wrote {len(records)} figure(s) to {out} in {total:.1f} s", file=sys.stderr)
    return 0


def _repo_root() -> Path:
    from .figures import default_scripts_dir

    scripts = default_scripts_dir()
    return scripts.parent if scripts is not None else Path.cwd()


def _info(args) -> int:
    import numba
    import numpy as np
    import scipy

    from . import __version__
    from .backend import cuda_available, resolve_device

    info = {
        "v1sim": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "default_device": resolve_device("auto"),
        "cuda_available": cuda_available(),
    }
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:<22} {value}")
    return 0


def _warmup(args) -> int:
    from . import kernels

    records = kernels.warmup(devices=args.devices, progress=not args.json)
    if args.json:
        print(json.dumps(records))
        return 0
    total = sum(r["first_call_s"] for r in records)
    print(f"{'kernel':<22} {'device':<9} {'dtype':<8} {'first call':>11} {'steady':>10}")
    for r in records:
        print(
            f"{r['kernel']:<22} {r['device']:<9} {r['dtype']:<8} {r['first_call_s'] * 1e3:>9.1f}ms "
            f"{r['steady_s'] * 1e6:>8.1f}us"
        )
    print(f"total first-call time {total:.2f} s (compilation, or loading Numba's cache when warm)")
    return 0


_EPILOG_TRAIN = """\
models: lenet5 (default recipe: 20 epochs, SGD lr 0.05, momentum 0.9, step decay), resnet20..110,
plain20..110 (digits zero-padded to 32x32). The embedded digits (5,000 train / 1,000 test MNIST
images) need no download; --dataset mnist reads --data-dir or downloads with --download.

The run folder gets metrics.jsonl, last.npz/json and best.npz/json (atomic). Ctrl-C finishes the
current step, writes last.* and exits 130; --resume continues exactly where it stopped.

examples:
  v1sim train lenet5                                   offline, a minute or two on 2 cores
  v1sim train lenet5 --dataset mnist --data-dir ~/mnist --out runs/lenet5-mnist
  v1sim train resnet20 --epochs 3 --out runs/r20 --json
  v1sim train lenet5 --out runs/lenet5 --resume        continue an interrupted run
"""


def _train(args) -> int:
    from ._io import CheckpointError
    from .nn import models, train

    if args.model not in models.MODELS:
        print(f"v1sim train: unknown model {args.model!r}; known: {', '.join(models.names())}", file=sys.stderr)
        return 2
    settings = train.recipe(args.model)
    for key in ("epochs", "batch_size", "lr", "momentum", "weight_decay", "lr_step", "lr_gamma", "seed"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    try:
        config = train.TrainConfig(**settings)
        result = train.train_model(
            args.model, dataset=args.dataset, data_dir=args.data_dir, download=args.download, config=config,
            device=args.device, out=args.out or f"runs/{args.model}", resume=args.resume,
            progress=not args.quiet, limit=args.limit,
        )  # fmt: skip
    except train.TrainingInterrupted as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 130
    except (CheckpointError, FileNotFoundError, ValueError, TypeError) as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 2
    except train.TrainingError as exc:
        print(f"v1sim train: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.model} on {args.dataset}: test error {100 * result['test_error']:.2f}% after {result['epochs']} "
            f"epochs ({result['train_seconds']:.0f} s, {result['images_per_second']:.0f} images/s); run in {result['out']}"
        )
    return 0


_RECORD_CELLS = {
    "on-center": "ON-centre ganglion cell: DoG, centre radius 1.5 px, surround 9 px",
    "off-center": "OFF-centre ganglion cell (gets dark bars and spots where there is a choice)",
    "simple": "V1 simple cell: Gabor field, then half-squaring (Jones & Palmer 1987)",
    "complex": "V1 complex cell: energy of a quadrature Gabor pair (Adelson & Bergen 1985)",
    "hypercomplex": "end-stopped: a complex cell minus two end zones (gets short bars, patches)",
}
_RECORD_PROTOCOLS = {
    "spot-annulus": "flashed centre spot, surround spot, annulus, full field: rasters and PSTHs",
    "sweep": "a bar swept across the field: rate vs position",
    "orientation": "drifting gratings, 16 orientations: preferred, bandwidth, CV, F1/F0",
    "spatial-frequency": "drifting gratings over spatial frequency: preferred frequency",
    "drifting-grating": "the optimal drifting grating: raster, PSTH, F1/F0 (simple > 1 > complex)",
    "area": "spots (ganglion) or grating patches (V1), growing radius: suppression index",
    "length": "bars of growing length: end-stopping index, optimal length",
    "reverse-correlation": "white noise (--frames, 32x32 px): spike-triggered average vs the true field",
}


def _listing(items) -> str:
    return "\n".join(f"  {name:<21}{text}" for name, text in items.items())


_EPILOG_RECORD = f"""\
cells (pixel units, receptive field at the centre of a --size x --size screen):
{_listing(_RECORD_CELLS)}

protocols:
{_listing(_RECORD_PROTOCOLS)}

examples:
  v1sim record on-center --protocol spot-annulus        the lecture's ON-cell recordings
  v1sim record simple --protocol orientation --theta 30
  v1sim record complex --protocol drifting-grating --json    F1/F0 < 1: complex
  v1sim record hypercomplex --protocol length --out /tmp/rec
  v1sim record simple --protocol reverse-correlation --frames 40000 --seed 3

Rates are the linear-nonlinear model's expected rates (spikes/s); rasters draw Poisson
spikes (--trials, --seed). Each run writes CELL_PROTOCOL.png into --out and prints the
metrics; --json prints one JSON object instead: cell, protocol, figure, the metrics the
protocol measures (preferred_orientation_deg, bandwidth_deg, circular_variance, f1_f0,
suppression_index, end_stopping_index, sta_correlation, ...; null where undefined, e.g.
no preferred value for a flat curve) and its curve under "data".
"""


def _record_cell(name, theta_deg, frequency):
    import math

    from . import cells

    if name in ("on-center", "off-center"):
        return cells.GanglionCell(polarity=name.split("-")[0], center_radius=1.5)
    kind = {"simple": cells.SimpleCell, "complex": cells.ComplexCell, "hypercomplex": cells.HypercomplexCell}[name]
    return kind(theta=math.radians(theta_deg), frequency=frequency)


def _tuned(rates):
    """False for a flat curve (modulation below 5% of its peak): no preferred value is reported."""
    return bool(rates.max() - rates.min() > 0.05 * rates.max())


def _record_measure(name, cell, protocol, size, args, rng):
    """(metrics, data, result, extra) of one protocol run; rates in spikes/s, sizes in pixels.

    OFF cells get dark bars and spots where a protocol has a polarity (sweep,
    area, length); hypercomplex cells, silent to long bars and full-field
    gratings, get bars two RF radii long (sweep, orientation) and a grating
    patch of one RF radius (drifting-grating).
    """
    import numpy as np

    from . import physiology as P
    from . import spikes

    shape, extra = (size, size), {}
    dark = name == "off-center"
    short = 2.0 * cell.rf_radius if name == "hypercomplex" else None
    if protocol == "spot-annulus":
        res = P.center_surround(cell, shape, n_trials=args.trials, rng=rng)
        metrics = {f"rate_{c.replace(' ', '_')}": float(r) for c, r in zip(res.conditions, res.rates)}
        data = {"conditions": list(res.conditions), "rates": res.rates}
    elif protocol == "sweep":
        width = cell.rf_radius if name.endswith("center") else None  # a bar as wide as the ganglion centre
        res = P.sweep(cell, shape, stimulus="dark bar" if dark else "light bar", length=short, width=width)
        i = int(np.argmax(res.rates))
        metrics = {"peak_rate": float(res.rates[i]), "peak_position_px": float(res.positions[i])}
        data = {"positions_px": res.positions, "rates": res.rates}
    elif protocol == "orientation":
        res = P.orientation_tuning(cell, shape, stimulus="bar" if short else "grating", length=short)
        i, tuned = int(np.argmax(res.rates)), _tuned(res.rates)
        metrics = {"preferred_orientation_deg": res.preferred_deg if tuned else None,
                   "bandwidth_deg": res.bandwidth_deg if tuned else None,
                   "circular_variance": res.circular_variance, "peak_rate": float(res.rates[i]),
                   "f1_f0": float(res.f1[i] / res.rates[i]) if res.stimulus == "grating" and res.rates[i] > 0 else None,
                   "stimulus": res.stimulus}  # fmt: skip
        data = {"orientations_deg": res.orientations_deg, "rates": res.rates, "f1": res.f1}
    elif protocol == "spatial-frequency":
        res = P.spatial_frequency_tuning(cell, shape)
        metrics = {"preferred_frequency_cpp": res.preferred if _tuned(res.rates) else None,
                   "peak_rate": float(res.rates.max())}  # fmt: skip
        data = {"frequencies_cpp": res.frequencies, "rates": res.rates, "f1": res.f1}
    elif protocol == "drifting-grating":
        patch = {"mask": "circle", "mask_radius": cell.rf_radius} if short else {}
        res = P.grating_response(cell, shape, duration=1.0, dt=0.005, **patch)
        extra["counts"] = spikes.poisson_counts(res.rates, 0.005, n_trials=args.trials, rng=rng)
        metrics = {"f0": res.f0, "f1": res.f1, "f1_f0": res.f1_f0, "frequency_cpp": res.frequency,
                   "temporal_frequency_hz": res.temporal_frequency}  # fmt: skip
        data = {"time_s": res.time, "rates": res.rates}
    elif protocol == "area":
        kw = {"stimulus": "spot", "polarity": "dark" if dark else "light"} if name.endswith("center") else {
            "stimulus": "grating"}  # fmt: skip
        res = P.area_summation(cell, shape, **kw)
        metrics = {"suppression_index": res.suppression_index, "optimal_radius_px": res.optimal_radius,
                   "stimulus": res.stimulus}  # fmt: skip
        data = {"radii_px": res.radii, "rates": res.rates}
    elif protocol == "length":
        res = P.length_tuning(cell, shape, polarity="dark" if dark else "light")
        metrics = {"end_stopping_index": res.end_stopping_index, "optimal_length_px": res.optimal_length}
        data = {"lengths_px": res.lengths, "rates": res.rates}
    else:  # reverse-correlation
        res = P.reverse_correlation(cell, (32, 32), n_frames=args.frames, rng=rng)
        metrics = {"sta_correlation": res.correlation, "n_spikes": res.n_spikes, "n_frames": res.n_frames}
        data = {}
    metrics["spontaneous_rate"] = float(cell.spontaneous_rate)
    return metrics, data, res, extra


def _rf_map(cell, shape):
    """A signed map of the cell's field: the linear RF, or the subunits' energy envelopes."""
    import numpy as np

    if hasattr(cell, "receptive_field"):
        return cell.receptive_field(shape), "receptive field"
    k = cell.subunits(shape)
    env = [np.hypot(k[i], k[i + 1]) for i in range(0, k.shape[0], 2)]
    if len(env) == 3:
        return env[0] - cell.end_weight * (env[1] + env[2]), "energy map: centre − end zones"
    return env[0], "energy envelope of the quadrature pair"


def _record_figure(cell, name, protocol, res, extra, size, path):
    import matplotlib.colors
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    from .plotting import paper_style, save_figure, set_frame, show_image

    rf_shape = (32, 32) if protocol == "reverse-correlation" else (size, size)
    with paper_style():
        if protocol == "spot-annulus":
            fig = plt.figure(figsize=(10.5, 4.6))  # fixed margins: constrained layout costs seconds here
            grid = fig.add_gridspec(3, 5, height_ratios=[1.0, 1.1, 0.9], left=0.02, right=0.99, bottom=0.1, top=0.86,
                                    wspace=0.3, hspace=0.25)  # fmt: skip
        else:
            fig = plt.figure(figsize=(5.6 if protocol == "reverse-correlation" else 8.4, 3.3), constrained_layout=True)
            ratios = [1, 1, 0.01] if protocol == "reverse-correlation" else [1, 1.4, 0.05]
            grid = fig.add_gridspec(1, 3, width_ratios=ratios)
        ax = fig.add_subplot(grid[:, 0] if protocol == "spot-annulus" else grid[0, 0])
        rf, what = _rf_map(cell, rf_shape)
        ys, xs = np.nonzero(np.abs(rf) > 0.002 * np.abs(rf).max())  # crop to the field, square, centred
        half = int(max(np.abs(xs - (rf_shape[1] - 1) / 2).max(), np.abs(ys - (rf_shape[0] - 1) / 2).max())) + 2
        half = max(rf_shape) if protocol == "reverse-correlation" else half  # the STA's frame
        cy, cx = rf_shape[0] // 2, rf_shape[1] // 2
        crop = rf[max(cy - half, 0): cy + half + 1, max(cx - half, 0): cx + half + 1]
        lo, hi = float(crop.min()), float(crop.max())
        norm = matplotlib.colors.TwoSlopeNorm(0.0, lo, hi) if lo < 0 < hi else None  # weak surrounds visible
        show_image(ax, crop, symmetric=norm is None, cmap="RdBu_r", norm=norm, title=f"{name} cell\n{what}")
        set_frame(ax)
        ax.set_xlabel(f"{'central ' if crop.shape != rf.shape else ''}{crop.shape[1]} × {crop.shape[0]} px"
                      "\n(red +, blue −, each to its peak)" if norm else "\n(red +, blue −)")  # fmt: skip
        if protocol == "spot-annulus":
            t, dt, width = res.time, res.time[1] - res.time[0], 0.02
            k = max(int(round(width / dt)), 1)
            n = t.size // k
            psth = res.counts[:, :, : n * k].reshape(4, res.counts.shape[1], n, k).sum(3).mean(1) / (k * dt)
            for j, cond in enumerate(res.conditions):
                a = fig.add_subplot(grid[0, j + 1])
                show_image(a, res.stimuli[j], vmin=0, vmax=1, title=f"{cond}\n{res.rates[j]:.0f} spikes/s")
                set_frame(a)
                a = fig.add_subplot(grid[1, j + 1])
                _raster(a, t, res.counts[j])
                a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
                a.set_xlim(0, t[-1] + dt)
                a.set_xticklabels([])
                a.set_ylabel("trial" if j == 0 else "")
                a = fig.add_subplot(grid[2, j + 1])
                a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
                a.bar((np.arange(n) + 0.5) * k * dt, psth[j], width=k * dt, color="0.25", zorder=2)
                a.set_xlim(0, t[-1] + dt)
                a.set_ylim(0, 1.1 * max(psth.max(), 1.0))
                a.set_xlabel("time (s)")
                a.set_ylabel("rate (spikes/s)" if j == 0 else "")
            fig.suptitle(f"{name} cell, flashed stimuli (gold: stimulus on), {res.counts.shape[1]} Poisson trials")
            return save_figure(fig, path)
        if protocol == "reverse-correlation":
            a = fig.add_subplot(grid[0, 1])
            r = f"r = {res.correlation:.2f} with the field" if np.isfinite(res.correlation) else "no linear field"
            show_image(a, res.sta, symmetric=True, title=f"spike-triggered average, {r}\n{res.n_spikes} spikes, "
                       f"{res.n_frames} noise frames")  # fmt: skip
            set_frame(a)
            a.set_xlabel(f"{res.sta.shape[1]} × {res.sta.shape[0]} px")
            return save_figure(fig, path)
        if protocol == "orientation":
            a = fig.add_subplot(grid[0, 1], projection="polar")
            th = np.concatenate([res.orientations, res.orientations + np.pi, res.orientations[:1]])
            r = np.concatenate([res.rates, res.rates, res.rates[:1]])
            a.plot(th, r, "k.-", lw=1.2, ms=4)
            a.plot(np.linspace(0, 2 * np.pi, 100), np.full(100, res.spontaneous), color="0.6", ls=":", lw=0.8)
            a.set_theta_direction(-1)  # theta turns clockwise on screen, as the stimuli
            a.set_rlabel_position(112.5)
            bw = f"{res.bandwidth_deg:.0f}°" if np.isfinite(res.bandwidth_deg) else "n/a"
            what = "bar orientation θ" if res.stimulus == "bar" else "grating θ (0°: vertical, drifting right)"
            a.set_title(f"F0 (spikes/s) vs {what}\npreferred {res.preferred_deg:.0f}°, half-width {bw}, "
                        f"CV {res.circular_variance:.2f}", pad=10)  # fmt: skip
            return save_figure(fig, path)
        a = fig.add_subplot(grid[0, 1:])
        if protocol == "drifting-grating":
            a.remove()
            sub = grid[0, 1:].subgridspec(2, 1, height_ratios=[1, 1])
            a = fig.add_subplot(sub[0])
            counts, t = extra["counts"], res.time
            _raster(a, t, counts)
            a.set_ylabel("trial")
            a.set_xlim(0, t[-1] + t[1])
            a.set_xticklabels([])
            patch = " (patch of one RF radius)" if name == "hypercomplex" else ""
            a.set_title(f"optimal grating{patch} drifting at {res.temporal_frequency:g} Hz:\nF0 {res.f0:.1f}, "
                        f"F1 {res.f1:.1f} spikes/s, F1/F0 = {res.f1_f0:.2f}")  # fmt: skip
            a = fig.add_subplot(sub[1])
            k = 5  # 25 ms PSTH bins
            n = t.size // k
            psth = counts[:, : n * k].reshape(counts.shape[0], n, k).sum(2).mean(0) / (k * (t[1] - t[0]))
            a.stairs(psth, np.arange(n + 1) * k * (t[1] - t[0]), color="0.45", fill=True, alpha=0.5,
                     label=f"PSTH, {counts.shape[0]} trials (25 ms bins)")  # fmt: skip
            a.plot(t, res.rates, color="tab:red", lw=1.2, label="model rate")
            a.set_xlim(0, t[-1] + t[1])
            a.set_xlabel("time (s)")
            a.set_ylabel("rate (spikes/s)")
            a.set_ylim(0, 1.35 * max(psth.max(), res.rates.max(), 1.0))
            a.legend(frameon=False, loc="upper center", ncol=2, fontsize=7)
            return save_figure(fig, path)
        if protocol == "sweep":
            x, xlabel = res.positions, "bar position across the field (px)"
            title = f"{res.stimulus} swept across the field"
        elif protocol == "spatial-frequency":
            x, xlabel = res.frequencies, "spatial frequency (cycles/pixel)"
            title = f"drifting gratings: preferred {res.preferred:.3f} cycles/pixel"
        elif protocol == "area":
            x, xlabel = res.radii, f"{res.stimulus} radius (px)"
            title = f"area summation: suppression index {res.suppression_index:.2f}"
        else:
            x, xlabel = res.lengths, "bar length (px)"
            title = f"length tuning: end-stopping index {res.end_stopping_index:.2f}"
        a.plot(x, res.rates, "k.-", lw=1.2, ms=4, label="mean rate (F0)")
        if protocol == "spatial-frequency":
            a.plot(x, res.f1, color="tab:red", lw=1, label="F1")
            a.set_xscale("log")
            a.set_xticks([t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if x.min() <= t <= x.max()])
            a.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            a.legend(frameon=False, fontsize=7)
        a.axhline(res.spontaneous, color="0.6", ls=":", lw=0.8)
        a.set_xlabel(xlabel)
        a.set_ylabel("rate (spikes/s)")
        a.set_title(title)
        a.set_ylim(bottom=0)
        return save_figure(fig, path)


def _raster(ax, t, counts):
    """Spike rasters: a tick per bin with a spike, one row per trial (trial 1 at the bottom)."""
    import numpy as np

    ax.eventplot([t[row > 0] for row in counts], lineoffsets=np.arange(1, counts.shape[0] + 1), linelengths=0.8,
                 colors="k", linewidths=0.7)  # fmt: skip
    ax.set_ylim(0.4, counts.shape[0] + 0.6)
    ax.set_yticks([1, counts.shape[0]])


def _json_safe(value):
    import math

    import numpy as np

    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_safe(v) for v in np.asarray(value).tolist()] if isinstance(value, np.ndarray) else [
            _json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _record(args) -> int:
    if args.cell not in _RECORD_CELLS:
        print(f"v1sim record: unknown cell {args.cell!r}; known:\n{_listing(_RECORD_CELLS)}", file=sys.stderr)
        return 2
    if args.protocol not in _RECORD_PROTOCOLS:
        print(f"v1sim record: unknown protocol {args.protocol!r}; known:\n{_listing(_RECORD_PROTOCOLS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    import numpy as np

    try:
        cell = _record_cell(args.cell, args.theta, args.frequency)
        if args.size < 16 or args.trials < 1 or args.frames < 1:
            raise ValueError("--size must be >= 16 and --trials, --frames >= 1")
        rng = np.random.default_rng(args.seed)
        metrics, data, res, extra = _record_measure(args.cell, cell, args.protocol, args.size, args, rng)
    except ValueError as exc:
        print(f"v1sim record: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.cell}_{args.protocol}.png"
    path = _record_figure(cell, args.cell, args.protocol, res, extra, args.size, path)
    record = {"cell": args.cell, "protocol": args.protocol, "seed": args.seed, "size_px": args.size,
              "figure": str(path), **metrics}  # fmt: skip
    if args.json:
        print(json.dumps(_json_safe({**record, "data": data})))
    else:
        for key, value in _json_safe(record).items():
            print(f"{key:<26} {value:.4g}" if isinstance(value, float) else f"{key:<26} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``v1sim`` command."""
    parser = argparse.ArgumentParser(
        prog="v1sim",
        description=(
            "v1sim: the visual system from retina to V1 (filters as simple cells, pooling as complex "
            "cells), carried on into ConvNets, on Numba kernels for the CPU and CUDA."
        ),
        epilog="Run 'v1sim COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "figures",
        help="regenerate the figure gallery (the main job)",
        description="Run the figure scripts (scripts/fig_*.py); each writes one PNG.",
        epilog=_EPILOG_FIGURES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", help="figure names to make (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ of the checkout)")
    p.add_argument("--quick", action="store_true", help="small, fast versions (for tests and previews)")
    p.add_argument("--scripts", metavar="DIR", help="folder of fig_*.py scripts (default: scripts/ of the checkout)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the written files")
    p.set_defaults(func=_figures)

    p = sub.add_parser(
        "summary",
        help="a model's layers: shapes, parameters, memory, MACs",
        description=(
            "Print a model of the zoo layer by layer: output shape (C, H, W), parameters (biases\n"
            "included), activations stored per image and their float32 memory, and multiply-accumulates\n"
            "(MACs; FLOPs = 2 x MACs, while He et al.'s ResNet 'FLOPs' are MACs). Containers (residual\n"
            "blocks, Inception modules) show their totals, with their layers indented below them."
        ),
        epilog=_EPILOG_SUMMARY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", nargs="?", metavar="MODEL", help="model name (see --list), e.g. vgg16, resnet50, lenet5")
    p.add_argument("--input", metavar="C,H,W", help="per-sample input shape (default: the model's own, e.g. 3,224,224)")
    p.add_argument("--variant", choices=["fc", "lc", "conv"], help="fc-vs-conv only: which of the three layers")
    p.add_argument(
        "--depth", type=int, metavar="N", help="show rows nested at most N deep (default 2 for the table, all in JSON)"
    )
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object (totals and layers)")
    p.set_defaults(func=_summary)

    p = sub.add_parser(
        "train",
        help="train a ConvNet of the model zoo on handwritten digits",
        description="Train a model with minibatch SGD and softmax cross-entropy; flags override the model's recipe.",
        epilog=_EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model name, e.g. lenet5, resnet20, plain20")
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits",
                   help="embedded offline digits (default) or MNIST")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the MNIST IDX files (gz or raw)")
    p.add_argument("--download", action="store_true", help="download MNIST (checksum-verified) if absent")
    p.add_argument("--epochs", type=int, help="passes over the training set")
    p.add_argument("--batch-size", type=int, help="images per SGD step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay")
    p.add_argument("--lr-step", type=int, help="divide the learning rate every N epochs (0: never)")
    p.add_argument("--lr-gamma", type=float, help="factor applied every --lr-step epochs")
    p.add_argument("--seed", type=int, help="seed of weights, batch order and dropout (default 0)")
    p.add_argument("--device", choices=["auto", "cpu", "parallel", "cuda"], default="auto")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/MODEL)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--limit", type=int, help="use only the first N training images (quick runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the final result as one JSON line")
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "record",
        help="record from a model cell: rasters, tuning curves, metrics",
        description=(
            "Run a virtual electrophysiology experiment on a model neuron, as in the lecture's recording\n"
            "slides: write a raster/PSTH or tuning-curve figure and print the metrics."
        ),
        epilog=_EPILOG_RECORD,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("cell", metavar="CELL", help="on-center, off-center, simple, complex or hypercomplex")
    p.add_argument("--protocol", required=True, metavar="PROTOCOL", help="the experiment (listed below)")
    p.add_argument("--out", metavar="DIR", default="recordings", help="folder for the figure (default: ./recordings)")
    p.add_argument("--seed", type=int, default=0, help="seed of the spikes and the noise (default 0)")
    p.add_argument("--theta", type=float, default=0.0, metavar="DEG",
                   help="V1 cells' preferred orientation, degrees clockwise from vertical (default 0)")  # fmt: skip
    p.add_argument("--frequency", type=float, default=0.125, metavar="CPP",
                   help="V1 cells' carrier frequency, cycles/pixel (default 0.125)")  # fmt: skip
    p.add_argument("--size", type=int, default=64, metavar="PX", help="screen side, pixels (default 64)")
    p.add_argument("--trials", type=int, default=10, metavar="N", help="spike-train repeats in rasters (default 10)")
    p.add_argument("--frames", type=int, default=20000, metavar="N",
                   help="white-noise frames for reverse-correlation (default 20000)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object (metrics and the curve)")
    p.set_defaults(func=_record)

    p = sub.add_parser("info", help="versions, threads and devices", description="Report the runtime environment.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_info)

    p = sub.add_parser(
        "warmup",
        help="compile every kernel now and report first-call times",
        description=(
            "Compile every Numba kernel (serial and parallel, float32 and float64). The machine code is "
            "cached on disk (cache=True), so later processes load it instead of compiling."
        ),
    )
    p.add_argument("--devices", nargs="+", default=["cpu", "parallel"], choices=["cpu", "parallel"])
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    p.set_defaults(func=_warmup)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv=None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
