"""The figure of ``v1sim record``: a model cell's field next to its recordings.

:func:`recording_figure` draws what :func:`~v1sim.physiology.recording.write_recording`
measured: the cell's receptive field (or its subunits' energy map) on the
left, and on the right the protocol's rasters and PSTHs, spike-triggered
average, polar orientation tuning or tuning curve. Matplotlib is imported
on first draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["recording_figure"]


def _rf_map(cell, shape):
    """A signed map of the cell's field: the linear RF, or the subunits' energy envelopes."""
    if hasattr(cell, "receptive_field"):
        return cell.receptive_field(shape), "receptive field"
    k = cell.subunits(shape)
    env = [np.hypot(k[i], k[i + 1]) for i in range(0, k.shape[0], 2)]
    if len(env) == 3:
        return env[0] - cell.end_weight * (env[1] + env[2]), "energy map: centre − end zones"
    return env[0], "energy envelope of the quadrature pair"


def recording_figure(cell, name, protocol, res, extra, rf_shape, path):
    """Draw the cell's field (left) and the protocol's recordings or tuning curve (right); save to ``path``.

    ``cell`` is the model neuron called ``name``; ``res`` the result of ``protocol`` (a key of
    :data:`~v1sim.physiology.catalog.PROTOCOLS`) and ``extra`` its drawn spike counts; ``rf_shape`` the
    frame (pixels) the field is drawn on, the stimulus screen or the noise frames. Returns the saved path.
    """
    import matplotlib.pyplot as plt

    from ..plotting import paper_style, save_figure

    with paper_style():
        if protocol == "spot-annulus":
            fig = plt.figure(figsize=(10.5, 4.6))  # fixed margins: constrained layout costs seconds here
            grid = fig.add_gridspec(
                3,
                5,
                height_ratios=[1.0, 1.1, 0.9],
                left=0.02,
                right=0.99,
                bottom=0.1,
                top=0.86,
                wspace=0.3,
                hspace=0.25,
            )
        else:
            fig = plt.figure(figsize=(5.6 if protocol == "reverse-correlation" else 8.4, 3.3), constrained_layout=True)
            ratios = [1, 1, 0.01] if protocol == "reverse-correlation" else [1, 1.4, 0.05]
            grid = fig.add_gridspec(1, 3, width_ratios=ratios)
        ax = fig.add_subplot(grid[:, 0] if protocol == "spot-annulus" else grid[0, 0])
        _field_panel(
            ax,
            cell,
            name,
            rf_shape,
            whole=protocol == "reverse-correlation",
        )
        if protocol == "spot-annulus":
            _spot_annulus_panels(fig, grid, name, res)
        elif protocol == "reverse-correlation":
            _sta_panel(fig.add_subplot(grid[0, 1]), res)
        elif protocol == "orientation":
            _polar_panel(fig.add_subplot(grid[0, 1], projection="polar"), res)
        elif protocol == "drifting-grating":
            _grating_panels(fig, grid[0, 1:], name, res, extra["counts"])
        else:
            _curve_panel(fig.add_subplot(grid[0, 1:]), protocol, res)
        return save_figure(fig, path)


def _field_panel(ax, cell, name, rf_shape, whole):
    """The field, cropped to where it is non-zero (``whole``: the full frame, the STA's)."""
    import matplotlib.colors

    from ..plotting import set_frame, show_image

    rf, what = _rf_map(cell, rf_shape)
    ys, xs = np.nonzero(np.abs(rf) > 0.002 * np.abs(rf).max())  # crop to the field, square, centred
    half = int(max(np.abs(xs - (rf_shape[1] - 1) / 2).max(), np.abs(ys - (rf_shape[0] - 1) / 2).max())) + 2
    half = max(rf_shape) if whole else half
    cy, cx = rf_shape[0] // 2, rf_shape[1] // 2
    crop = rf[max(cy - half, 0) : cy + half + 1, max(cx - half, 0) : cx + half + 1]
    lo, hi = float(crop.min()), float(crop.max())
    norm = matplotlib.colors.TwoSlopeNorm(0.0, lo, hi) if lo < 0 < hi else None  # weak surrounds visible
    show_image(ax, crop, symmetric=norm is None, cmap="RdBu_r", norm=norm, title=f"{name} cell\n{what}")
    set_frame(ax)
    ax.set_xlabel(
        f"{'central ' if crop.shape != rf.shape else ''}{crop.shape[1]} × {crop.shape[0]} px"
        "\n(red +, blue −,\neach to its peak)"
        if norm
        else "\n(red +, blue −)"
    )


def _spot_annulus_panels(fig, grid, name, res):
    """Per condition: the stimulus, the rasters and the PSTH (20 ms bins), stimulus on in gold."""
    from ..plotting import set_frame, show_image, spike_raster
    from ..spikes import count_psth

    t, dt = res.time, res.time[1] - res.time[0]
    edges, psth = count_psth(res.counts, dt, 0.02)
    for j, cond in enumerate(res.conditions):
        a = fig.add_subplot(grid[0, j + 1])
        show_image(a, res.stimuli[j], vmin=0, vmax=1, title=f"{cond}\n{res.rates[j]:.0f} spikes/s")
        set_frame(a)
        a = fig.add_subplot(grid[1, j + 1])
        spike_raster(a, t, res.counts[j])
        a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
        a.set_xlim(0, t[-1] + dt)
        a.set_xticklabels([])
        a.set_ylabel("trial" if j == 0 else "")
        a = fig.add_subplot(grid[2, j + 1])
        a.axvspan(0.1, 0.4, color="gold", alpha=0.3, lw=0, zorder=0)
        a.stairs(psth[j], edges, fill=True, color="0.25", zorder=2)
        a.set_xlim(0, t[-1] + dt)
        a.set_ylim(0, 1.1 * max(psth.max(), 1.0))
        a.set_xlabel("time (s)")
        a.set_ylabel("rate (spikes/s)" if j == 0 else "")
    fig.suptitle(f"{name} cell, flashed stimuli (gold: stimulus on), {res.counts.shape[1]} Poisson trials")


def _sta_panel(a, res):
    from ..plotting import set_frame, show_image

    if getattr(res, "estimate", "sta") == "stc":  # an energy cell: its leading covariance axis, not the (noise) STA
        image, what = res.stc[0], "STC leading axis"
        r = f"match {res.correlation:.2f} with the subunits"
    else:
        image, what = res.sta, "spike-triggered average"
        r = f"r = {res.correlation:.2f} with the field" if np.isfinite(res.correlation) else "no linear field"
    show_image(a, image, symmetric=True, title=f"{what}, {r}\n{res.n_spikes} spikes, {res.n_frames} noise frames")
    set_frame(a)
    a.set_xlabel(f"{image.shape[1]} × {image.shape[0]} px")


def _polar_panel(a, res):
    """Orientation tuning on a polar plot (both directions of each axis), the spontaneous rate dotted."""
    th = np.concatenate([res.orientations, res.orientations + np.pi, res.orientations[:1]])
    r = np.concatenate([res.rates, res.rates, res.rates[:1]])
    a.plot(th, r, "k.-", lw=1.2, ms=4)
    a.plot(np.linspace(0, 2 * np.pi, 100), np.full(100, res.spontaneous), color="0.6", ls=":", lw=0.8)
    a.set_theta_direction(-1)  # theta turns clockwise on screen, as the stimuli
    a.set_rlabel_position(112.5)
    what = "bar orientation θ" if res.stimulus == "bar" else "grating θ (0°: vertical, drifting right)"
    tuned = (
        "untuned"
        if res.preferred_deg is None
        else (f"preferred {res.preferred_deg:.0f}°, half-width {res.bandwidth_deg:.0f}°")
    )
    a.set_title(f"F0 (spikes/s) vs {what}\n{tuned}, CV {res.circular_variance:.2f}", pad=10)


def _grating_panels(fig, spec, name, res, counts):
    """Raster over the PSTH (25 ms bins) and the model rate of the optimal drifting grating."""
    from ..plotting import spike_raster
    from ..spikes import count_psth

    sub = spec.subgridspec(2, 1, height_ratios=[1, 1])
    a = fig.add_subplot(sub[0])
    t, dt = res.time, res.time[1] - res.time[0]
    spike_raster(a, t, counts)
    a.set_ylabel("trial")
    a.set_xlim(0, t[-1] + t[1])
    a.set_xticklabels([])
    patch = " (patch of one RF radius)" if name == "hypercomplex" else ""
    a.set_title(
        f"optimal grating{patch} drifting at {res.temporal_frequency:g} Hz:\nF0 {res.f0:.1f}, "
        f"F1 {res.f1:.1f} spikes/s, F1/F0 = {res.f1_f0:.2f}"
    )
    a = fig.add_subplot(sub[1])
    edges, psth = count_psth(counts, dt, 0.025)
    a.stairs(psth, edges, color="0.45", fill=True, alpha=0.5, label=f"PSTH, {counts.shape[0]} trials (25 ms bins)")
    a.plot(t, res.rates, color="tab:red", lw=1.2, label="model rate")
    a.set_xlim(0, t[-1] + t[1])
    a.set_xlabel("time (s)")
    a.set_ylabel("rate (spikes/s)")
    a.set_ylim(0, 1.35 * max(psth.max(), res.rates.max(), 1.0))
    a.legend(frameon=False, loc="upper center", ncol=2, fontsize=7)


def _curve_panel(a, protocol, res):
    """Rate (F0) against the swept parameter: bar position, spatial frequency, radius or length."""
    import matplotlib.ticker

    if protocol == "sweep":
        x, xlabel = res.positions, "bar position across the field (px)"
        title = f"{res.stimulus} swept across the field"
    elif protocol == "spatial-frequency":
        x, xlabel = res.frequencies, "spatial frequency (cycles/pixel)"
        title = "drifting gratings: " + (
            "untuned" if res.preferred is None else f"preferred {res.preferred:.3f} cycles/pixel"
        )
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
