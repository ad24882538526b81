"""Property tests over the public API: every argument of every public function, fed wrong values.

For each public function (and class constructor) this file knows one valid
call. Hypothesis then replaces one argument at a time with a wrong value: a
wrong Python type, a wrong dtype, a wrong shape, an empty array, NaN or
infinity, zero, a negative number, or a size far beyond the machine's memory.
The call must then either

* raise a ``ValueError`` or ``TypeError`` subclass whose message names the
  argument (or whose ``.argument``, for :class:`v1sim.errors.InputError`, is
  it), or
* succeed with a result that holds no NaN or infinity (a wrong value that
  happens to be meaningful, such as a negative orientation, is fine; silent
  garbage is not).

Anything else fails the test: ``MemoryError``, ``ZeroDivisionError``,
``IndexError``, ``KeyError``, ``OverflowError``, a Numba typing error, or an
error that does not say which argument was wrong.
"""

from __future__ import annotations

import inspect
import warnings

import numba.core.errors
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v1sim import (
    biology,
    cells,
    datasets,
    efficient_coding,
    filters,
    hierarchy,
    nn,
    physiology,
    pooling,
    retinotopy,
    signal,
    spikes,
    stimuli,
    tuning,
    visualize,
)
from v1sim.datasets import augment, batches, natural_patches, pad_to, whiten
from v1sim.errors import InputError
from v1sim.nn import codes as nn_codes
from v1sim.nn import functional as F
from v1sim.nn import models
from v1sim.nn import natural as nn_natural
from v1sim.nn import receptive_field as nn_receptive_field
from v1sim.nn import transfer as nn_transfer
from v1sim.nn.models import weights as nn_weights
from v1sim.physiology.population import measure_properties

RNG = np.random.default_rng(0)
IMG = RNG.random((12, 13))
STACK = RNG.random((3, 12, 13))
K3 = RNG.random((3, 3))
BANK = RNG.random((2, 3, 3))
X4 = RNG.random((2, 3, 8, 8)).astype(np.float32)
W4 = RNG.random((4, 3, 3, 3)).astype(np.float32)
ORI = np.linspace(0, np.pi, 8, endpoint=False)
ORI_RATES = 5 + 20 * np.cos(ORI - 0.5) ** 2
SIZES = np.array([1.0, 2.0, 4.0, 8.0])
SIZE_RATES = np.array([5.0, 10.0, 8.0, 6.0])
TRACE = 10 + 5 * np.sin(2 * np.pi * 4 * np.arange(100) * 0.01)
SPIKE_TRAIN = [np.array([0.01, 0.2, 0.5])]
SMALL_CELL = cells.SimpleCell(frequency=0.15)
SHAPE = (21, 21)
LENET = models.build("lenet5", rng=0)
HMAX_MODEL = hierarchy.make_model("hmax")


def _fwd(fn, *args, **kwargs):
    """A forward function's cache, for the backward functions' valid calls."""
    return fn(*args, **kwargs)[1]


# name -> (callable, valid keyword arguments). Functions with side effects on the file system or
# the network (datasets.load_*, hierarchy.train/load_model, read_idx), plotting and the data
# loaders without arguments are covered by their own tests.
CASES: dict = {
    # signal and pooling
    "signal.correlate2d": (signal.correlate2d, dict(in1=IMG, in2=K3, mode="same")),
    "signal.convolve2d": (signal.convolve2d, dict(in1=IMG, in2=K3, mode="valid", boundary="fill", fillvalue=0)),
    "signal.apply_bank": (signal.apply_bank, dict(images=STACK, bank=BANK, mode="reflect", cval=0.0)),
    "signal.correlate_batch": (signal.correlate_batch, dict(x=X4, weight=W4, bias=None, stride=1, padding=1)),
    "signal.output_size": (signal.output_size, dict(n=28, f=5, stride=1, padding=2)),
    "pooling.pool2d": (pooling.pool2d, dict(x=X4, size=2, stride=2, padding=0, kind="max")),
    "pooling.pool2d_backward": (
        pooling.pool2d_backward,
        dict(grad_out=np.ones((2, 3, 4, 4), np.float32), x_shape=X4.shape, size=2, stride=2, kind="avg"),
    ),
    # filters
    "filters.box_kernel": (filters.box_kernel, dict(size=3)),
    "filters.identity_kernel": (filters.identity_kernel, dict(size=3)),
    "filters.sharpen_kernel": (filters.sharpen_kernel, dict(size=3, alpha=1.0)),
    "filters.shift_kernel": (filters.shift_kernel, dict(dx=1, dy=0, size=3)),
    "filters.gaussian_kernel": (filters.gaussian_kernel, dict(sigma=1.5, size=None)),
    "filters.dog_kernel": (filters.dog_kernel, dict(sigma_center=1.0, sigma_surround=2.0, surround_weight=1.0)),
    "filters.log_kernel": (filters.log_kernel, dict(sigma=1.5, n_stds=4.0)),
    "filters.gabor_kernel": (filters.gabor_kernel, dict(frequency=0.2, theta=0.3, phase=0.0, bandwidth=1.0)),
    "filters.gaussian_derivative_kernel": (
        filters.gaussian_derivative_kernel,
        dict(sigma_x=1.0, sigma_y=2.0, order=1, theta=0.0, n_stds=3.0),
    ),
    "filters.gabor_bank": (filters.gabor_bank, dict(frequencies=(0.2,), n_orientations=2, bandwidth=1.0)),
    "filters.dog_bank": (filters.dog_bank, dict(sigma_centers=(1.0,), surround_ratio=1.6, surround_weight=1.0)),
    "filters.leung_malik": (filters.leung_malik, dict(size=15, variant="LMS")),
    "filters.schmid": (filters.schmid, dict(size=15)),
    "filters.mr8": (filters.mr8, dict(size=15)),
    "filters.mr8_responses": (filters.mr8_responses, dict(responses=RNG.random((38, 6, 6)), absolute=False)),
    "filters.edge_kernel": (filters.edge_kernel, dict(dtype=np.float64)),
    "filters.FilterBank": (filters.FilterBank, dict(kernels=BANK, name="bank")),
    # stimuli
    "stimuli.grating": (stimuli.grating, dict(shape=SHAPE, frequency=0.1, theta=0.2, phase=0.0, contrast=0.5)),
    "stimuli.drifting_grating": (
        stimuli.drifting_grating,
        dict(shape=(9, 9), frequency=0.1, temporal_frequency=4.0, duration=0.1, dt=0.01),
    ),
    "stimuli.counterphase_grating": (
        stimuli.counterphase_grating,
        dict(shape=(9, 9), frequency=0.1, temporal_frequency=4.0, duration=0.1, dt=0.01),
    ),
    "stimuli.plaid": (stimuli.plaid, dict(shape=SHAPE, frequency=0.1, theta1=0.0, theta2=1.0)),
    "stimuli.spot": (stimuli.spot, dict(shape=SHAPE, radius=3.0, contrast=1.0, background=0.5)),
    "stimuli.annulus": (stimuli.annulus, dict(shape=SHAPE, inner_radius=2.0, outer_radius=5.0)),
    "stimuli.bar": (stimuli.bar, dict(shape=SHAPE, length=8.0, width=2.0, theta=0.3)),
    "stimuli.edge": (stimuli.edge, dict(shape=SHAPE, theta=0.0, position=0.0)),
    "stimuli.white_noise": (stimuli.white_noise, dict(shape=(8, 8), n_frames=3, contrast=1.0, rng=0)),
    "stimuli.present": (stimuli.present, dict(image=IMG, duration=0.05, dt=0.01)),
    "stimuli.deg_to_px": (stimuli.deg_to_px, dict(deg=1.5, ppd=20.0)),
    "stimuli.cpd_to_cpp": (stimuli.cpd_to_cpp, dict(cpd=2.0, ppd=20.0)),
    "stimuli.textures": (stimuli.textures, dict(size=16)),
    "stimuli.natural_image": (stimuli.natural_image, dict(name="camera", size=32)),
    # cells
    "cells.SimpleCell": (cells.SimpleCell, dict(theta=0.2, frequency=0.1, phase=0.0, bandwidth=1.0)),
    "cells.ComplexCell": (cells.ComplexCell, dict(theta=0.2, frequency=0.1, bandwidth=1.0)),
    "cells.MaxComplexCell": (cells.MaxComplexCell, dict(theta=0.2, frequency=0.1, pool_step=1.0)),
    "cells.HypercomplexCell": (cells.HypercomplexCell, dict(theta=0.2, frequency=0.1, end_weight=0.5)),
    "cells.GanglionCell": (cells.GanglionCell, dict(polarity="on", center_radius=2.0, surround_weight=0.55)),
    "cells.HubelWieselCell": (cells.HubelWieselCell, dict(theta=0.0, n_subunits=3, center_radius=2.0)),
    "cells.Nonlinearity": (cells.Nonlinearity, dict(peak=30.0, exponent=1.0)),
    "cells.simple_cells": (cells.simple_cells, dict(images=STACK, bank=filters.gabor_bank((0.2,), 2))),
    "cells.complex_cells": (cells.complex_cells, dict(images=STACK, bank=filters.gabor_bank((0.2,), 2))),
    "cells.ganglion_cells": (cells.ganglion_cells, dict(images=STACK, bank=filters.dog_bank((1.0,)))),
    "cells.hypercomplex_cells": (cells.hypercomplex_cells, dict(images=STACK, bank=filters.gabor_bank((0.2,), 2))),
    # physiology: a model cell in a small visual field
    "physiology.orientation_tuning": (
        physiology.orientation_tuning,
        dict(cell=SMALL_CELL, shape=SHAPE, orientations=ORI[:4], duration=0.25, dt=0.05),
    ),
    "physiology.spatial_frequency_tuning": (
        physiology.spatial_frequency_tuning,
        dict(cell=SMALL_CELL, shape=SHAPE, frequencies=(0.05, 0.1, 0.2), duration=0.25, dt=0.05),
    ),
    "physiology.grating_response": (
        physiology.grating_response,
        dict(cell=SMALL_CELL, shape=SHAPE, frequency=0.1, duration=0.25, dt=0.05),
    ),
    "physiology.area_summation": (physiology.area_summation, dict(cell=SMALL_CELL, shape=SHAPE, radii=(1.0, 3.0, 6.0))),
    "physiology.length_tuning": (physiology.length_tuning, dict(cell=SMALL_CELL, shape=SHAPE, lengths=(2.0, 6.0))),
    "physiology.phase_tuning": (physiology.phase_tuning, dict(cell=SMALL_CELL, shape=SHAPE, phases=(0.0, 1.0, 2.0))),
    "physiology.sweep": (physiology.sweep, dict(cell=SMALL_CELL, shape=SHAPE, positions=(-2.0, 0.0, 2.0))),
    "physiology.reverse_correlation": (
        physiology.reverse_correlation,
        dict(cell=SMALL_CELL, shape=(9, 9), n_frames=200, dt=0.05, rng=0),
    ),
    "physiology.center_surround": (
        physiology.center_surround,
        dict(cell=cells.GanglionCell(), shape=SHAPE, duration=0.1, onset=0.02, offset=0.08, dt=0.01),
    ),
    "physiology.run_protocol": (
        physiology.run_protocol,
        dict(protocol="phase_tuning", cell=SMALL_CELL, shape=SHAPE, phases=(0.0, 1.0)),
    ),
    "physiology.record_spikes": (
        physiology.record_spikes,
        dict(cell=SMALL_CELL, stimulus=np.full((5, 21, 21), 0.5), dt=0.01, n_trials=2, rng=0),
    ),
    "physiology.record": (
        physiology.record,
        dict(cell=SMALL_CELL, stimulus=np.full((5, 21, 21), 0.5), dt=0.01, n_trials=2, rng=0),
    ),
    # unit populations of the V1 benchmark (physiology.units, convnet_units, macaque)
    "physiology.CellPopulation": (physiology.CellPopulation, dict(cells=[SMALL_CELL], ppd=4.0, image_size=16)),
    "physiology.ConvNetLayer": (
        physiology.ConvNetLayer,
        dict(model=LENET, layer="c1", ppd=None, fov=8.0, image_size=32, input_size=32, in_channels=1, centre_crop=True),
    ),
    "physiology.HierarchyStage": (physiology.HierarchyStage, dict(model=HMAX_MODEL, stage="C1", ppd=None, fov=8.0)),
    "physiology.macaque_population": (
        physiology.macaque_population,
        dict(n_units=4, ppd=16.0, image_size=16, rng=0, simple_fraction=0.5, max_frequency=8.0),
    ),
    "physiology.MacaquePopulation": (
        physiology.MacaquePopulation,
        dict(
            theta=[0.0, 1.0],
            frequency=[2.0, 4.0],
            phase=[0.0, 0.5],
            nx=[0.3, 0.5],
            ny=[0.4, 0.6],
            simple=[True, False],
            ppd=16.0,
            image_size=16,
        ),
    ),
    "physiology.population_reverse_correlation": (
        physiology.population_reverse_correlation,
        dict(
            population=physiology.macaque_population(n_units=3, ppd=4.0, image_size=16, rng=0, max_frequency=1.5),
            n_frames=64,
            grain=0.0,
            contrast=1.0,
            kind="binary",
            ridge=None,
            rng=0,
            batch=32,
        ),
    ),
    # the V1 benchmark's in-silico electrophysiology of a whole population (physiology.population)
    "physiology.measure_properties": (
        measure_properties,
        dict(
            population=physiology.macaque_population(n_units=3, ppd=4.0, image_size=16, rng=0, max_frequency=1.5),
            properties=None,
            rng=0,
            protocol=None,
        ),
    ),
    # tuning metrics
    "tuning.circular_variance": (tuning.circular_variance, dict(orientations=ORI, rates=ORI_RATES)),
    "tuning.preferred_orientation": (tuning.preferred_orientation, dict(orientations=ORI, rates=ORI_RATES)),
    "tuning.orientation_bandwidth": (tuning.orientation_bandwidth, dict(orientations=ORI, rates=ORI_RATES, level=0.5)),
    "tuning.preferred_frequency": (tuning.preferred_frequency, dict(frequencies=SIZES / 10, rates=SIZE_RATES)),
    "tuning.is_tuned": (tuning.is_tuned, dict(rates=ORI_RATES)),
    "tuning.optimal_size": (tuning.optimal_size, dict(sizes=SIZES, rates=SIZE_RATES)),
    "tuning.surround_suppression_index": (tuning.surround_suppression_index, dict(rates=SIZE_RATES)),
    "tuning.end_stopping_index": (tuning.end_stopping_index, dict(rates=SIZE_RATES)),
    "tuning.f1_f0": (tuning.f1_f0, dict(rates=TRACE, dt=0.01, temporal_frequency=4.0)),
    "tuning.fourier_components": (tuning.fourier_components, dict(rates=TRACE, dt=0.01, temporal_frequency=4.0)),
    "tuning.rf_correlation": (tuning.rf_correlation, dict(a=IMG, b=IMG + 0.1 * IMG**2)),
    "tuning.spike_triggered_average": (
        tuning.spike_triggered_average,
        dict(stimulus=RNG.random((50, 6, 6)), counts=RNG.poisson(1.0, 50)),
    ),
    "tuning.spike_triggered_covariance": (
        tuning.spike_triggered_covariance,
        dict(stimulus=RNG.random((50, 6, 6)), counts=RNG.poisson(1.0, 50)),
    ),
    # spikes
    "spikes.poisson_counts": (spikes.poisson_counts, dict(rates=TRACE, dt=0.01, n_trials=2, rng=0)),
    "spikes.poisson_spikes": (spikes.poisson_spikes, dict(rates=TRACE, dt=0.01, n_trials=2, rng=0)),
    "spikes.gamma_spikes": (spikes.gamma_spikes, dict(rates=TRACE, dt=0.01, order=2.0, n_trials=2, rng=0)),
    "spikes.bin_counts": (spikes.bin_counts, dict(spikes=SPIKE_TRAIN, duration=1.0, bin_width=0.1)),
    "spikes.psth": (spikes.psth, dict(spikes=SPIKE_TRAIN, duration=1.0, bin_width=0.1)),
    "spikes.raster": (spikes.raster, dict(spikes=SPIKE_TRAIN, duration=1.0, dt=0.01)),
    "spikes.mean_rate": (spikes.mean_rate, dict(spikes=SPIKE_TRAIN, duration=1.0)),
    "spikes.count_psth": (spikes.count_psth, dict(counts=RNG.poisson(1.0, (3, 100)), dt=0.01, bin_width=0.05)),
    "spikes.spike_times": (spikes.spike_times, dict(raster_=np.eye(4, 10, dtype=np.int64), dt=0.01)),
    # retinotopy
    "retinotopy.magnification": (retinotopy.magnification, dict(eccentricity=np.array([0.5, 2.0]), k=15.0, a=0.7)),
    "retinotopy.cortical_distance": (retinotopy.cortical_distance, dict(eccentricity=np.array([0.5, 2.0]))),
    "retinotopy.rf_size": (retinotopy.rf_size, dict(eccentricity=np.array([0.5, 2.0]), size0=0.1, slope=0.25)),
    "retinotopy.point_image": (retinotopy.point_image, dict(eccentricity=np.array([0.5, 2.0]))),
    "retinotopy.visual_to_cortex": (retinotopy.visual_to_cortex, dict(z=np.array([1 + 1j, 2 - 0.5j]))),
    "retinotopy.cortex_to_visual": (retinotopy.cortex_to_visual, dict(w=np.array([1 + 0.1j, 5 - 0.5j]))),
    "retinotopy.local_magnification": (retinotopy.local_magnification, dict(z=np.array([1 + 1j, 2 - 0.5j]))),
    "retinotopy.to_cortex": (retinotopy.to_cortex, dict(image=RNG.random((32, 32)), ppd=8.0, order=1)),
    "retinotopy.from_cortex": (
        retinotopy.from_cortex,
        dict(cortex=RNG.random((16, 16)), extent=(0.0, 40.0, -20.0, 20.0), ppd=8.0, shape=(24, 24)),
    ),
    "retinotopy.cortical_extent": (retinotopy.cortical_extent, dict(shape=(32, 32), ppd=8.0)),
    # biology
    "biology.fit_gabor": (biology.fit_gabor, dict(fields=filters.gabor_kernel(0.2, theta=0.4, size=15))),
    "biology.gabor_model": (
        biology.gabor_model,
        dict(params=np.array([1.0, 7.0, 7.0, 0.3, 0.2, 0.0, 2.0, 3.0]), shape=(15, 15)),
    ),
    "biology.ks_distance": (biology.ks_distance, dict(a=RNG.random(20), b=RNG.random(30))),
    "biology.bimodality_coefficient": (biology.bimodality_coefficient, dict(values=RNG.random(30))),
    "biology.ringach2002_f1f0": (biology.ringach2002_f1f0, dict(min_evoked=1.0)),
    "biology.v1_property": (biology.v1_property, dict(name="f1_f0")),
    "biology.ceiling": (biology.ceiling, dict(name="surround_diameter", rng=0, method="split-half")),
    "biology.property_score": (
        biology.property_score,
        dict(name="f1_f0", model_values=RNG.random(50), rng=0, method="bootstrap"),
    ),
    # the whole V1 benchmark (biology.benchmark)
    "biology.score_population": (
        biology.score_population,
        dict(population=physiology.macaque_population(4, ppd=16.0, image_size=32, rng=0), properties="f1_f0", rng=0),
    ),
    "biology.ModelSpec": (biology.ModelSpec, dict(model="pixels", layer=None, fov=8.0, units=4, seed=0)),
    "biology.build_population": (biology.build_population, dict(spec=biology.ModelSpec("pixels", units=4))),
    "biology.score_many": (
        biology.score_many,
        dict(specs=[biology.ModelSpec("neocognitron", units=2)], scheduler=None, progress=False),
    ),
    # efficient coding
    "efficient_coding.natural_patches": (
        efficient_coding.natural_patches,
        dict(n=20, size=6, images=("camera",), rng=0),
    ),
    "efficient_coding.ica_filters": (
        efficient_coding.ica_filters,
        dict(patches=RNG.laplace(size=(300, 4, 4)), n_components=4, max_iter=50, rng=0),
    ),
    # hierarchy
    "hierarchy.connection_kernel": (hierarchy.connection_kernel, dict(size=5, sigma=1.0)),
    "hierarchy.vcell": (hierarchy.vcell, dict(x=X4[:, :2], c=RNG.random((3, 3)), padding=(1, 1))),
    "hierarchy.HMAXConfig": (hierarchy.HMAXConfig, dict(image_size=28, s1_orientations=4, s2_prototypes=10)),
    "hierarchy.NeocognitronConfig": (hierarchy.NeocognitronConfig, dict(image_size=28, s2_planes=4, s4_planes=100)),
    "hierarchy.HMAX": (hierarchy.HMAX, dict(config=hierarchy.HMAXConfig(s2_prototypes=10))),
    "hierarchy.Neocognitron": (hierarchy.Neocognitron, dict(config=hierarchy.NeocognitronConfig(s2_planes=4))),
    "hierarchy.SLayer": (hierarchy.SLayer, dict(templates=RNG.random((4, 1, 3, 3)), tuning="shunting", r=0.8)),
    "hierarchy.CLayer": (hierarchy.CLayer, dict(size=3, stride=2, padding=1, kind="avg")),
    "hierarchy.RidgeReadout": (hierarchy.RidgeReadout, dict(alpha=1.0)),
    "hierarchy.make_model": (hierarchy.make_model, dict(model_name="hmax")),
    "hierarchy.PrototypeClassifier": (
        hierarchy.PrototypeClassifier,
        dict(templates=RNG.random((6, 2, 3, 3)), labels=np.arange(6) % 3, r=1.0),
    ),
    # datasets
    "datasets.pad_to": (pad_to, dict(images=RNG.random((2, 1, 28, 28)), size=32)),
    "datasets.batches": (
        lambda **kw: list(batches(**kw)),
        dict(images=RNG.random((10, 1, 4, 4)), labels=np.arange(10), batch_size=3, shuffle=True, rng=0),
    ),
    "datasets.augment": (augment, dict(images=X4, rng=0, flip=True, crop=6, shift=1)),
    "datasets.natural_patches": (natural_patches, dict(n=20, size=6, images=(IMG[:10, :10] + 0.1,), rng=0)),
    "datasets.whiten": (whiten, dict(images=STACK, cutoff=0.4)),
    # nn: layers, functional, models
    "nn.Conv2d": (nn.Conv2d, dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=1, groups=1, rng=0)),
    "nn.LocallyConnected2d": (
        nn.LocallyConnected2d,
        dict(in_channels=2, out_channels=3, input_size=6, kernel_size=3, stride=1, padding=0, rng=0),
    ),
    "nn.Linear": (nn.Linear, dict(in_features=5, out_features=3, rng=0)),
    "nn.MaxPool2d": (nn.MaxPool2d, dict(kernel_size=2, stride=2, padding=0)),
    "nn.AvgPool2d": (nn.AvgPool2d, dict(kernel_size=2, stride=2, padding=0)),
    "nn.LocalResponseNorm": (nn.LocalResponseNorm, dict(size=5, alpha=1e-4, beta=0.75, k=2.0)),
    "nn.BatchNorm2d": (nn.BatchNorm2d, dict(num_features=3, eps=1e-5, momentum=0.1)),
    "nn.BatchNorm1d": (nn.BatchNorm1d, dict(num_features=3, eps=1e-5, momentum=0.1)),
    "nn.Dropout": (nn.Dropout, dict(p=0.5, rng=0)),
    "nn.ZeroPadShortcut": (nn.ZeroPadShortcut, dict(in_channels=2, out_channels=4, stride=2)),
    "nn.BasicBlock": (nn.BasicBlock, dict(in_channels=2, out_channels=4, stride=2, shortcut="B", rng=0)),
    "nn.Bottleneck": (nn.Bottleneck, dict(in_channels=4, planes=2, stride=1, shortcut="B", rng=0)),
    "nn.Parameter": (nn.Parameter, dict(data=K3, lr_mult=1.0)),
    "nn.SGD": (
        lambda lr, momentum, weight_decay: nn.SGD(nn.Linear(3, 2, rng=0).parameters(), lr, momentum, weight_decay),
        dict(lr=0.1, momentum=0.9, weight_decay=1e-4),
    ),
    "nn.StepLR": (
        lambda step_size, gamma: nn.StepLR(nn.SGD(nn.Linear(3, 2, rng=0).parameters(), 0.1), step_size, gamma),
        dict(step_size=2, gamma=0.1),
    ),
    "nn.ReduceLROnPlateau": (
        lambda **kw: nn.ReduceLROnPlateau(nn.SGD(nn.Linear(3, 2, rng=0).parameters(), 0.1), **kw),
        dict(mode="min", factor=0.1, patience=2, threshold=1e-4, cooldown=0, min_lr=0.0),
    ),
    "F.conv2d_forward": (F.conv2d_forward, dict(x=X4, weight=W4, bias=np.zeros(4, np.float32), stride=1, padding=1)),
    "F.conv2d_backward": (
        F.conv2d_backward,
        dict(grad_out=np.ones((2, 4, 8, 8), np.float32), cache=_fwd(F.conv2d_forward, X4, W4, None, 1, 1)),
    ),
    "F.linear_forward": (
        F.linear_forward,
        dict(x=RNG.random((4, 5)).astype(np.float32), weight=RNG.random((3, 5)).astype(np.float32)),
    ),
    "F.relu_forward": (F.relu_forward, dict(x=X4)),
    "F.tanh_forward": (F.tanh_forward, dict(x=X4)),
    "F.sigmoid_forward": (F.sigmoid_forward, dict(x=X4)),
    "F.max_pool2d_forward": (F.max_pool2d_forward, dict(x=X4, kernel_size=2, stride=2, padding=0)),
    "F.avg_pool2d_forward": (F.avg_pool2d_forward, dict(x=X4, kernel_size=2, stride=2, padding=0)),
    "F.max_pool2d_backward": (
        F.max_pool2d_backward,
        dict(grad_out=np.ones((2, 3, 4, 4), np.float32), cache=_fwd(F.max_pool2d_forward, X4, 2)),
    ),
    "F.global_avg_pool2d_forward": (F.global_avg_pool2d_forward, dict(x=X4)),
    "F.local_response_norm_forward": (F.local_response_norm_forward, dict(x=X4, size=3, alpha=1e-4, beta=0.75, k=2.0)),
    "F.batch_norm_forward": (
        F.batch_norm_forward,
        dict(x=X4, gamma=np.ones(3, np.float32), beta=np.zeros(3, np.float32), momentum=0.1, eps=1e-5),
    ),
    "F.dropout_forward": (F.dropout_forward, dict(x=X4, p=0.5, rng=0)),
    "F.softmax": (F.softmax, dict(logits=RNG.random((4, 3)), axis=-1)),
    "F.log_softmax": (F.log_softmax, dict(logits=RNG.random((4, 3)), axis=-1)),
    "F.cross_entropy_forward": (
        F.cross_entropy_forward,
        dict(logits=RNG.random((4, 3)), labels=np.array([0, 1, 2, 0])),
    ),
    "F.locally_connected2d_forward": (
        F.locally_connected2d_forward,
        dict(x=X4, weight=RNG.random((6, 6, 2, 3, 3, 3)).astype(np.float32), bias=None, stride=1, padding=0),
    ),
    "F.locally_connected2d_backward": (
        F.locally_connected2d_backward,
        dict(
            grad_out=np.ones((2, 2, 6, 6), np.float32),
            cache=_fwd(F.locally_connected2d_forward, X4, RNG.random((6, 6, 2, 3, 3, 3)).astype(np.float32)),
        ),
    ),
    "F.linear_backward": (
        F.linear_backward,
        dict(
            grad_out=np.ones((4, 3), np.float32),
            cache=_fwd(F.linear_forward, RNG.random((4, 5)).astype(np.float32), RNG.random((3, 5)).astype(np.float32)),
        ),
    ),
    "F.relu_backward": (F.relu_backward, dict(grad_out=np.ones_like(X4), cache=_fwd(F.relu_forward, X4))),
    "F.tanh_backward": (F.tanh_backward, dict(grad_out=np.ones_like(X4), cache=_fwd(F.tanh_forward, X4))),
    "F.sigmoid_backward": (F.sigmoid_backward, dict(grad_out=np.ones_like(X4), cache=_fwd(F.sigmoid_forward, X4))),
    "F.avg_pool2d_backward": (
        F.avg_pool2d_backward,
        dict(grad_out=np.ones((2, 3, 4, 4), np.float32), cache=_fwd(F.avg_pool2d_forward, X4, 2)),
    ),
    "F.global_avg_pool2d_backward": (
        F.global_avg_pool2d_backward,
        dict(grad_out=np.ones((2, 3), np.float32), cache=_fwd(F.global_avg_pool2d_forward, X4)),
    ),
    "F.local_response_norm_backward": (
        F.local_response_norm_backward,
        dict(grad_out=np.ones_like(X4), cache=_fwd(F.local_response_norm_forward, X4, 3)),
    ),
    "F.batch_norm_backward": (
        F.batch_norm_backward,
        dict(
            grad_out=np.ones_like(X4),
            cache=_fwd(F.batch_norm_forward, X4, np.ones(3, np.float32), np.zeros(3, np.float32)),
        ),
    ),
    "F.batch_norm_relu_forward": (
        F.batch_norm_relu_forward,
        dict(x=X4, gamma=np.ones(3, np.float32), beta=np.zeros(3, np.float32), momentum=0.1, eps=1e-5),
    ),
    "F.batch_norm_relu_backward": (
        F.batch_norm_relu_backward,
        dict(
            grad_out=np.ones_like(X4),
            cache=_fwd(F.batch_norm_relu_forward, X4, np.ones(3, np.float32), np.zeros(3, np.float32)),
        ),
    ),
    "F.dropout_backward": (
        F.dropout_backward,
        dict(grad_out=np.ones_like(X4), cache=_fwd(F.dropout_forward, X4, 0.5, rng=0)),
    ),
    "F.cross_entropy_backward": (
        F.cross_entropy_backward,
        dict(cache=_fwd(F.cross_entropy_forward, RNG.random((4, 3)), np.array([0, 1, 2, 0])), grad=1.0),
    ),
    "models.build": (models.build, dict(name="lenet5", num_classes=10, in_channels=1, rng=0)),
    "models.default_input_shape": (models.default_input_shape, dict(name="lenet5", in_channels=1)),
    "models.lenet5": (models.lenet5, dict(num_classes=10, in_channels=1, rng=0)),
    "models.cifar_resnet": (models.cifar_resnet, dict(depth=8, num_classes=10, in_channels=3, rng=0)),
    "models.fc_vs_conv": (models.fc_vs_conv, dict(variant="conv", in_channels=1, rng=0)),
    # feature visualisation (v1sim.visualize) on an untrained LeNet-5 and 32x32 inputs
    # the ConvNet engine's analysis helpers (v1sim.nn's codes, transfer, natural, receptive_field, models.weights)
    "nn.codes.extract_codes": (
        nn_codes.extract_codes,
        dict(model=LENET, images=RNG.random((3, 1, 32, 32)), layer="s4"),
    ),
    "nn.codes.nearest_neighbours": (
        nn_codes.nearest_neighbours,
        dict(codes=RNG.random((6, 4)), queries=RNG.random((2, 4)), k=2, exclude_self=False),
    ),
    "nn.codes.retrieval_precision": (
        nn_codes.retrieval_precision,
        dict(codes=RNG.random((6, 4)), labels=np.array([0, 1, 0, 1, 0, 1]), k=2),
    ),
    "nn.codes.code_layer": (nn_codes.code_layer, dict(model=LENET)),
    "nn.codes.code_layers": (nn_codes.code_layers, dict(model=LENET)),
    "nn.transfer.classifier_name": (nn_transfer.classifier_name, dict(model=LENET)),
    "nn.transfer.parse_classes": (nn_transfer.parse_classes, dict(text="5-9")),
    "nn.transfer.select_classes": (
        nn_transfer.select_classes,
        dict(images=RNG.random((6, 1, 4, 4)), labels=np.array([0, 1, 2, 0, 1, 2]), classes=(2, 0)),
    ),
    "nn.natural.gabor_fraction": (nn_natural.gabor_fraction, dict(filters=RNG.random((3, 1, 8, 8)))),
    "nn.natural.whitened_patches": (nn_natural.whitened_patches, dict(n=8, size=6, cutoff=0.4, rng=0)),
    "nn.receptive_field.receptive_fields": (
        nn_receptive_field.receptive_fields,
        dict(model=LENET, input_shape=(1, 32, 32)),
    ),
    "nn.receptive_field.centre_crop": (
        nn_receptive_field.centre_crop,
        dict(model=LENET, layer="c3", input_shape=(1, 32, 32)),
    ),
    "nn.receptive_field.prefix_network": (nn_receptive_field.prefix_network, dict(model=LENET, layer="c3")),
    "nn.receptive_field.check_input_shape": (nn_receptive_field.check_input_shape, dict(input_shape=(1, 32, 32))),
    "nn.weights.normalize_input": (nn_weights.normalize_input, dict(images=RNG.random((2, 3, 4, 4)))),
    "nn.weights.torchvision_names": (
        nn_weights.torchvision_names,
        dict(model=models.build("alexnet-torchvision", materialize=False), name="alexnet-torchvision"),
    ),
    "visualize.receptive_fields": (visualize.receptive_fields, dict(model=LENET, input_shape=(1, 32, 32))),
    "visualize.receptive_field": (
        visualize.receptive_field,
        dict(model=LENET, layer="c3", input_shape=(1, 32, 32)),
    ),
    "visualize.layer_outputs": (visualize.layer_outputs, dict(model=LENET, images=RNG.random((2, 1, 32, 32)))),
    "visualize.top_patches": (
        visualize.top_patches,
        dict(model=LENET, layer="c3", images=RNG.random((4, 1, 32, 32)), k=2, units=[0, 3], batch_size=3),
    ),
    "visualize.unit_gradient": (
        visualize.unit_gradient,
        dict(model=LENET, layer="c3", unit=1, x=RNG.random((1, 1, 32, 32)).astype(np.float32), position=(2, 3)),
    ),
    "visualize.maximize_activation": (
        visualize.maximize_activation,
        dict(model=LENET, layer="c3", unit=1, input_shape=(1, 32, 32), steps=2, lr=0.05, l2=0.01, blur_every=1),
    ),
    "visualize.finite_difference_gradient": (
        visualize.finite_difference_gradient,
        dict(response=lambda b: np.tanh(b.reshape(len(b), -1)).sum(axis=1), x=RNG.random((1, 1, 4, 4)), step=0.01),
    ),
    "visualize.hierarchy_unit_gradient": (
        visualize.hierarchy_unit_gradient,
        dict(model=HMAX_MODEL, layer="UC1", unit=1, x=RNG.random((1, 1, 11, 11)).astype(np.float32), step=0.01),
    ),
    "visualize.layer_weights": (visualize.layer_weights, dict(model=LENET, layer="c3")),
    "visualize.filter_images": (visualize.filter_images, dict(weights=W4, channel="strongest")),
    "visualize.tile": (visualize.tile, dict(images=RNG.random((5, 4, 3)), columns=2, pad=1, scale="each", fill=1.0)),
}

#: results that may hold NaN by design (cval=nan marks the pixels outside the mapped field; cortex_to_visual
#: documents nan + nan j for points off the cortical sheet, such as w = 1j, left of the sheet's border)
NAN_BY_DESIGN = {
    "retinotopy.from_cortex",
    "retinotopy.to_cortex",
    "retinotopy.cortex_to_visual",
    "physiology.measure_properties",  # NaN marks unresponsive units and properties a curve leaves undefined
    "physiology.population_reverse_correlation",  # NaN rows mark the units `responsive` flags as silent
}

#: the ConvNet engine's functional ops, which do not scan float arrays for NaN/inf on every call (speed; the
#: training loop checks the loss and activations): NaN/inf in an input float array propagates IEEE-style, as in
#: PyTorch (see the v1sim.nn.functional docstring). Only the bad value being such an array excuses a non-finite
#: result; hyper-parameters, caches and shapes are still validated by name.
PROPAGATES_NONFINITE = {
    "F.conv2d_forward",
    "F.conv2d_backward",
    "F.linear_forward",
    "F.relu_forward",
    "F.tanh_forward",
    "F.sigmoid_forward",
    "F.max_pool2d_forward",
    "F.avg_pool2d_forward",
    "F.max_pool2d_backward",
    "F.global_avg_pool2d_forward",
    "F.local_response_norm_forward",
    "F.batch_norm_forward",
    "F.dropout_forward",
    "F.softmax",
    "F.log_softmax",
    "F.locally_connected2d_forward",
    "F.locally_connected2d_backward",
    "F.linear_backward",
    "F.relu_backward",
    "F.tanh_backward",
    "F.sigmoid_backward",
    "F.avg_pool2d_backward",
    "F.global_avg_pool2d_backward",
    "F.local_response_norm_backward",
    "F.batch_norm_backward",
    "F.batch_norm_relu_forward",
    "F.batch_norm_relu_backward",
    "F.dropout_backward",
}

_HUGE = 10**12  # elements: terabytes, beyond any machine this runs on
BAD_VALUES = [
    "a string",
    b"bytes",
    object(),
    1j,
    [],
    {},
    [[1.0, 2.0], [3.0]],  # ragged
    True,
    float("nan"),
    float("inf"),
    -float("inf"),
    0,
    0.0,
    -1,
    -2.5,
    1e-300,
    1e300,
    _HUGE,
    -_HUGE,
    2**63,
    (0, 0),
    (_HUGE, _HUGE),
    (-3, 5),
    np.array([]),
    np.zeros((0, 4)),
    np.zeros((0, 3, 8, 8), np.float32),
    np.array(np.nan),
    np.full((4, 4), np.nan),
    np.full((2, 3, 8, 8), np.inf, np.float32),
    np.ones((2, 2, 2, 2, 2)),
    np.ones(3, dtype=bool),
    np.array(["a", "b"]),
    np.array([1 + 1j, 2]),
    np.ones((3, 3), dtype=np.float16),
    np.arange(6).reshape(2, 3),
]

#: what a wrong value may raise: the documented types, not the accidents of the implementation
ALLOWED = (ValueError, TypeError)
FORBIDDEN = (MemoryError, ZeroDivisionError, IndexError, KeyError, OverflowError, AttributeError)


def _finite(value, depth=0) -> bool:
    """No NaN or infinity anywhere in a result (arrays, numbers, tuples and dataclass fields)."""
    if depth > 3 or value is None or isinstance(value, (str, bytes, bool)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.isfinite(value).all())
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return bool(np.isfinite(value))
    if isinstance(value, (tuple, list)):
        return all(_finite(v, depth + 1) for v in value[:50])
    fields = getattr(value, "__dataclass_fields__", None)
    if fields:
        return all(_finite(getattr(value, f), depth + 1) for f in fields)
    return True


def _nonfinite_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and not bool(np.isfinite(value).all())


def _names_argument(exc: BaseException, name: str) -> bool:
    if isinstance(exc, InputError) and exc.argument is not None:
        return exc.argument == name or name in exc.argument or exc.argument in str(exc)
    return name in str(exc)


def _call(fn, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a RuntimeWarning is not what is judged here
        with np.errstate(all="ignore"):
            return fn(**kwargs)


@pytest.fixture(autouse=True, scope="module")
def bounded_memory():
    """Cap this process's address space while wrong values fly, so a size that slips past v1sim's checks
    fails here as a MemoryError instead of swapping the machine (v1sim's own cap is lowered to match)."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:  # current virtual size, pages
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = used + (6 << 30)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    before = os.environ.get("V1SIM_MAX_BYTES")
    os.environ["V1SIM_MAX_BYTES"] = str(2 << 30)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if before is None:
            del os.environ["V1SIM_MAX_BYTES"]
        else:
            os.environ["V1SIM_MAX_BYTES"] = before


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_call_works(name):
    """The harness's valid call succeeds, so a refusal below is the wrong value's doing."""
    fn, kwargs = CASES[name]
    result = _call(fn, kwargs)
    assert name in NAN_BY_DESIGN or _finite(result)


def _arguments(name):
    return sorted(CASES[name][1])


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wrong_value_is_refused_by_name_or_harmless(name, data):
    fn, valid = CASES[name]
    argument = data.draw(st.sampled_from(_arguments(name)), label="argument")
    bad = data.draw(st.sampled_from(BAD_VALUES), label="bad value")
    kwargs = dict(valid, **{argument: bad})
    try:
        result = _call(fn, kwargs)
    except FORBIDDEN as exc:
        pytest.fail(f"{name}({argument}={bad!r}) raised {type(exc).__name__}: {exc}")
    except numba.core.errors.NumbaError as exc:
        pytest.fail(f"{name}({argument}={bad!r}) leaked a Numba error: {exc}")
    except ALLOWED as exc:
        assert _names_argument(exc, argument), (
            f"{name}({argument}={bad!r}) raised {type(exc).__name__} without naming {argument!r}: {exc}"
        )
    else:
        propagated = name in PROPAGATES_NONFINITE and _nonfinite_float_array(bad)
        assert name in NAN_BY_DESIGN or propagated or _finite(result), (
            f"{name}({argument}={bad!r}) returned NaN or infinity"
        )


def test_every_public_function_is_covered_or_excused():
    """A public function added later gets a valid call here, or a stated reason to be left out."""
    excused = {
        # file system, network or long training: tested in their own files
        "datasets.load_dataset",
        "datasets.load_digits",
        "datasets.load_mnist",
        "datasets.read_idx",
        "datasets.default_cache_dir",
        "datasets.load_fashion_mnist",
        "datasets.load_image_folder",
        "datasets.load_labelled_folder",
        "datasets.natural_images",  # reads scikit-image's files or a folder
        "hierarchy.train",
        "hierarchy.load_model",
        "biology.build_shipped",  # writes v1sim/data from the shared CSVs; tests/test_v1_properties.py
        # data loaders and result containers without user arguments worth fuzzing
        "biology.devalois1982_orientation",
        "biology.ringach2002_nxny",
        "models.names",
        # run folders, weight files and training: their own tests (test_transfer, test_pretrained, ...)
        "nn.transfer.load_trained",
        "nn.transfer.train_transfer",
        "nn.transfer.transfer_model",
        "nn.transfer.replace_classifier",  # changes the model it is given: a fuzzed call would change LENET
        "nn.natural.train_natural",
        "nn.weights.read_state_dict",
        "nn.weights.load_torchvision",
        "nn.weights.TorchvisionSource",  # a NamedTuple row of TORCHVISION_MODELS, data not a function
        # a typing.Protocol: a description of unit populations, never called
        "physiology.UnitPopulation",
        # read run folders and write figures: tests/test_visualize.py
        "visualize.load_network",
        "visualize.network_images",
        "visualize.write_visualizations",
    }
    modules = {
        "signal": signal,
        "pooling": pooling,
        "filters": filters,
        "stimuli": stimuli,
        "cells": cells,
        "physiology": physiology,
        "tuning": tuning,
        "spikes": spikes,
        "retinotopy": retinotopy,
        "biology": biology,
        "efficient_coding": efficient_coding,
        "datasets": datasets,
        "hierarchy": hierarchy,
        "visualize": visualize,
        "nn.codes": nn_codes,
        "nn.transfer": nn_transfer,
        "nn.natural": nn_natural,
        "nn.receptive_field": nn_receptive_field,
        "nn.weights": nn_weights,
        "F": F,  # v1sim.nn.functional
    }
    missing = []
    for prefix, module in modules.items():
        for attr in module.__all__:
            obj = getattr(module, attr)
            if not callable(obj) or (inspect.isclass(obj) and attr[0].isupper() and _is_result(obj)):
                continue
            key = f"{prefix}.{attr}"
            if key not in CASES and key not in excused:
                missing.append(key)
    assert not missing, f"public functions without a fuzz case: {missing}"


def _is_result(cls) -> bool:
    """Frozen result dataclasses and exceptions are built by v1sim, not by users."""
    params = getattr(cls, "__dataclass_params__", None)
    return (params is not None and params.frozen and not cls.__name__.endswith("Config")) or issubclass(
        cls, BaseException
    )
