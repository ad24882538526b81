"""Sizes are bounded before memory is touched, and no kernel or layer returns silent garbage.

Every size a user's number sets (a kernel support from sigma or frequency, a padding, a stimulus, a
layer width, a bank) is compared with the machine's memory first: too large is an InputError naming
the argument and the bytes it would need, raised at once (not a MemoryError, a hang or a swap storm).
"""

from __future__ import annotations

import re
import time
import tracemalloc

import numpy as np
import pytest

import v1sim
from v1sim import cells, datasets, efficient_coding, filters, nn, retinotopy, spikes, stimuli
from v1sim._core.validate import MEMORY_ENV, check_allocation, memory_limit
from v1sim.errors import InputError, InputTypeError
from v1sim.kernels import correlate
from v1sim.nn import models
from v1sim.pooling import pool2d_backward

X = np.ones((1, 2, 6, 6), np.float32)
W = np.ones((3, 2, 3, 3), np.float32)
_BYTES = re.compile(r"would need [\d.]+(e\+\d+)? (bytes|kB|MB|GB|TB|PB)")

# (id, call, the argument blamed): each would need terabytes or more
TOO_BIG = [
    ("correlate_batch-padding", lambda: v1sim.signal.correlate_batch(X, W, padding=10**6), "padding"),
    ("correlate_batch-padding-huge-int", lambda: v1sim.correlate_batch(X, W, padding=10**30), "padding"),
    ("correlate2d-long-thin", lambda: v1sim.correlate2d(np.ones((1, 10**6)), np.ones((10**6, 1))), "in2"),
    # (apply_bank(4x512x512, 2x255x255, method='gemm') ran out of memory with a whole-batch im2col matrix of 69 GB;
    # block by block it needs 1 GB: test_nn_functional.py::test_gemm_correlation_needs_blocks_not_the_column_matrix)
    ("gaussian_kernel-sigma", lambda: filters.gaussian_kernel(sigma=1e9), "sigma"),
    ("gaussian_kernel-sigma-overflow", lambda: filters.gaussian_kernel(1e308), "sigma"),
    ("gaussian_kernel-size", lambda: filters.gaussian_kernel(1.0, size=10**8 + 1), "size"),
    ("log_kernel-n_stds", lambda: filters.log_kernel(1e6, n_stds=1e3), "sigma"),
    ("dog_kernel-surround", lambda: filters.dog_kernel(1.0, 1e9), "sigma_surround"),
    ("gabor_kernel-frequency", lambda: filters.gabor_kernel(frequency=1e-7), "frequency"),
    ("gabor_kernel-bandwidth-sigma", lambda: filters.gabor_kernel(0.1, sigma_y=1e12), "sigma_y"),
    ("gabor_kernel-bandwidth", lambda: filters.gabor_kernel(0.1, bandwidth=1e-300), "bandwidth"),
    ("gabor_bank-bandwidth", lambda: filters.gabor_bank(bandwidth=1e-12), "bandwidth"),
    ("gaussian_derivative-sigma", lambda: filters.gaussian_derivative_kernel(1.0, 1e10), "sigma_y"),
    ("box_kernel-size", lambda: filters.box_kernel(10**7 + 1), "size"),
    ("leung_malik-size", lambda: filters.leung_malik(10**5 + 1), "size"),
    ("gabor_bank-orientations", lambda: filters.gabor_bank(n_orientations=10**10), "n_orientations"),
    ("gabor_bank-frequency", lambda: filters.gabor_bank(frequencies=1e-9), "frequencies"),
    ("dog_bank-sigma", lambda: filters.dog_bank(1e9), "sigma_centers"),
    ("SimpleCell-frequency", lambda: cells.SimpleCell(frequency=1e-7), "frequency"),
    ("SimpleCell-bandwidth", lambda: cells.SimpleCell(bandwidth=1e-300), "bandwidth"),
    ("ComplexCell-sigma-overflow", lambda: cells.ComplexCell(sigma_x=1e308), "sigma_x"),
    ("GanglionCell-radius", lambda: cells.GanglionCell(center_radius=1e9), "center_radius"),
    ("MaxComplexCell-pool", lambda: cells.MaxComplexCell(pool_size=1e7), "pool_size"),
    ("HypercomplexCell-end", lambda: cells.HypercomplexCell(end_offset=1e9), "end_offset"),
    ("HubelWieselCell-units", lambda: cells.HubelWieselCell(n_subunits=10**13), "n_subunits"),
    ("spot-shape", lambda: stimuli.spot(10**6, 3.0), "shape"),
    ("grating-shape", lambda: stimuli.grating(10**6, 0.1), "shape"),  # what `v1sim record --size` draws
    ("bar-shape", lambda: stimuli.bar((10**6, 10**4), 10.0, 2.0), "shape"),
    ("drifting_grating-duration", lambda: stimuli.drifting_grating(64, 0.1, 2.0, 1e9, dt=0.01), "duration"),
    ("drifting_grating-overflow", lambda: stimuli.drifting_grating(64, 0.1, 0.0, 1e300, dt=1e-10), "duration"),
    ("white_noise-frames", lambda: stimuli.white_noise(64, n_frames=10**10), "n_frames"),
    ("natural_image-size", lambda: stimuli.natural_image("camera", size=10**6), "size"),
    ("present-duration", lambda: stimuli.present(np.zeros((64, 64)), 1e9, dt=1e-3), "duration"),
    (
        "pool2d_backward-x_shape",
        lambda: pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 10**6, 10**6), 10**6, kind="avg"),
        "x_shape",
    ),
    ("Linear-widths", lambda: nn.Linear(10**7, 10**7), "out_features"),
    ("Conv2d-channels", lambda: nn.Conv2d(10**5, 10**5, 11), "out_channels"),
    ("LocallyConnected2d-input", lambda: nn.LocallyConnected2d(64, 64, 10**4, 3), "input_size"),
    (
        "Conv2d-padding-forward",
        lambda: nn.Conv2d(1, 4, 3, padding=10**6, rng=0)(np.ones((1, 1, 5, 5), np.float32)),
        "padding",
    ),
    ("conv2d_forward-padding", lambda: nn.functional.conv2d_forward(X, W, padding=10**6), "padding"),
    ("to_cortex-mm_per_pixel", lambda: retinotopy.to_cortex(np.ones((8, 8)), 10.0, mm_per_pixel=1e-9), "mm_per_pixel"),
    ("from_cortex-shape", lambda: retinotopy.from_cortex(np.ones((4, 4)), (0, 1, -1, 1), 10.0, 10**6), "shape"),
    ("poisson_counts-trials", lambda: spikes.poisson_counts(np.ones(1000), 0.001, n_trials=10**12), "n_trials"),
    ("gamma_spikes-trials", lambda: spikes.gamma_spikes(np.ones(10), 0.001, n_trials=10**12), "n_trials"),
    ("bin_counts-duration", lambda: spikes.bin_counts([np.zeros(1)], 1e9, 1e-6), "duration"),
    ("psth-overflow", lambda: spikes.psth([np.zeros(1)], 1e300, 1e-10), "duration"),
    ("natural_patches-n", lambda: efficient_coding.natural_patches(10**12, 16), "n"),
    ("pad_to-size", lambda: datasets.pad_to(np.ones((2, 8, 8)), 10**6), "size"),
    ("Linear-batch-output", lambda: nn.Linear(1, 10**6, rng=0)(np.ones((10**7, 1), np.float32)[:, :]), "x"),
]


@pytest.mark.parametrize("call,argument", [c[1:] for c in TOO_BIG], ids=[c[0] for c in TOO_BIG])
def test_too_big_is_refused_before_allocating(call, argument, monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InputError) as info:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    err = info.value
    assert err.argument == argument
    assert argument in str(err)
    assert _BYTES.search(str(err)) or "more memory than any machine has" in str(err), str(err)
    assert isinstance(err, ValueError) and not isinstance(err, InputTypeError)
    # refused up front: nothing near the size asked for was allocated (the Linear case holds its 40 MB input)
    assert peak < 64e6, f"{peak / 1e6:.0f} MB allocated before the refusal"
    assert elapsed < 5.0


def test_the_cap_is_physical_memory_unless_overridden(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    assert 2**28 <= memory_limit() <= 2**50  # a real machine's memory, not a placeholder
    monkeypatch.setenv(MEMORY_ENV, "1e6")
    assert memory_limit() == 10**6
    filters.gaussian_kernel(2.0)  # 13 x 13: fits
    with pytest.raises(InputError, match=rf"sigma.*would need [\d.]+ MB.*allowed by {MEMORY_ENV}") as info:
        filters.gaussian_kernel(100.0)  # 601 x 601 x 8 B x 10 working grids = 29 MB
    assert info.value.argument == "sigma"
    with pytest.raises(InputError, match="shape"):
        stimuli.spot(512, 3.0)


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan", "inf"])
def test_a_bad_cap_in_the_environment_is_named(value, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, value)
    with pytest.raises(InputError, match=MEMORY_ENV) as info:
        filters.gaussian_kernel(1.0)
    assert info.value.argument == MEMORY_ENV


def test_size_arithmetic_is_exact_python_integers(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    # (2**32)**2 * 8 bytes wraps to 0 in int64; Python ints do not
    with pytest.raises(InputError, match="would need"):
        check_allocation((2**32, 2**32), np.float64, "shape")
    with pytest.raises(InputError, match="PB"):
        check_allocation((10**200, 10**200), np.float32, "shape")
    assert check_allocation((3, 4), np.float32, "shape") == 48


def test_a_huge_bandwidth_is_the_narrowest_envelope_not_an_overflow():
    # (2^b + 1) / (2^b - 1) -> 1: sigma tends to sqrt(ln 2 / 2) / (pi f), no OverflowError from 2**1e300
    np.testing.assert_allclose(filters.gabor_kernel(0.1, bandwidth=1e300), filters.gabor_kernel(0.1, bandwidth=60.0))


def test_auto_method_skips_what_does_not_fit(monkeypatch):
    """With memory for the output but not for im2col or the FFT spectra, "auto" falls back to direct loops."""
    from v1sim import signal

    x, w = np.ones((1, 1, 40, 40)), np.ones((4, 1, 15, 15))
    ref = signal.correlate_batch(x, w, method="direct")
    monkeypatch.setenv(MEMORY_ENV, "60000")  # output 4*26*26*8 = 22 kB fits; im2col 225*676*8 = 1.2 MB does not
    assert correlate.choose_method((1, 1, 40, 40), (4, 1, 15, 15), (1, 1), False, 8) == "direct"
    np.testing.assert_array_equal(signal.correlate_batch(x, w), ref)
    with pytest.raises(InputError, match="method='gemm'") as info:
        signal.correlate_batch(x, w, method="gemm")
    assert info.value.argument == "method"


# --------------------------------------------------------------------------
# No silent garbage
# --------------------------------------------------------------------------

SIZE_ONE = [
    ("dog", lambda: filters.dog_kernel(1.0, 2.0, size=1)),
    ("log", lambda: filters.log_kernel(1.0, size=1)),
    ("gabor", lambda: filters.gabor_kernel(0.1, size=1)),
    ("gabor-odd", lambda: filters.gabor_kernel(0.1, phase=np.pi / 2, size=1)),
    ("gaussian_derivative", lambda: filters.gaussian_derivative_kernel(1.0, 3.0, size=1)),
]


@pytest.mark.parametrize("call", [c[1] for c in SIZE_ONE], ids=[c[0] for c in SIZE_ONE])
def test_size_one_zero_kernels_are_refused(call):
    with pytest.raises(InputError, match=r"size=1.*all zeros") as info:
        call()
    assert info.value.argument == "size"


def test_size_one_kernels_that_are_not_zero_still_work():
    np.testing.assert_array_equal(filters.gaussian_kernel(1.0, size=1), [[1.0]])
    np.testing.assert_allclose(filters.dog_kernel(1.0, 2.0, surround_weight=0.5, size=1), [[0.5]])


UNDERFLOW = [
    ("gaussian", lambda: filters.gaussian_kernel(1e-300), "sigma"),
    ("log", lambda: filters.log_kernel(1e-100), "sigma"),
    ("dog", lambda: filters.dog_kernel(1e-300, 1.0), "sigma_center"),
    ("gabor", lambda: filters.gabor_kernel(0.1, sigma_x=1e-300, sigma_y=1e-300), "sigma_x"),
    ("gaussian_derivative", lambda: filters.gaussian_derivative_kernel(1e-3, 3e-3), "sigma_x"),
]


@pytest.mark.parametrize("call,argument", [c[1:] for c in UNDERFLOW], ids=[c[0] for c in UNDERFLOW])
def test_an_underflowing_sigma_is_refused(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.argument == argument
    assert re.search(rf"{argument}=[\d.e+-]+.*(NaN|all zeros)", str(info.value)), str(info.value)


def test_tiny_but_representable_sigma_is_a_delta():
    k = filters.gaussian_kernel(1e-150)
    assert np.isfinite(k).all() and k[1, 1] == 1.0 and k.sum() == 1.0


@pytest.mark.parametrize(
    "value,kind", [(0, InputError), (-3, InputError), (2.5, InputTypeError), (True, InputTypeError)]
)
@pytest.mark.parametrize("how", ["build", "build-shape-only", "builder"])
def test_num_classes_is_named(value, kind, how):
    call = {
        "build": lambda: models.build("lenet5", num_classes=value),
        "build-shape-only": lambda: models.build("resnet20", num_classes=value, materialize=False),
        "builder": lambda: models.lenet5(num_classes=value),
    }[how]
    with pytest.raises(kind) as info:
        call()
    assert info.value.argument == "num_classes"
    assert "num_classes" in str(info.value) and "out_features" not in str(info.value)


# --------------------------------------------------------------------------
# Zero-length batches: empty in, empty out in the nn engine (as PyTorch); a named error elsewhere
# --------------------------------------------------------------------------

EMPTY_LAYERS = [
    ("Conv2d", lambda: nn.Conv2d(1, 3, 3, padding=1, rng=0), (1, 8, 8), (3, 8, 8)),
    ("Conv2d-groups", lambda: nn.Conv2d(2, 4, 3, groups=2, rng=0), (2, 8, 8), (4, 6, 6)),
    ("LocallyConnected2d", lambda: nn.LocallyConnected2d(1, 2, 8, 3, rng=0), (1, 8, 8), (2, 6, 6)),
    ("Linear", lambda: nn.Linear(5, 3, rng=0), (5,), (3,)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), (2, 8, 8), (2, 4, 4)),
    ("MaxPool2d-overlap", lambda: nn.MaxPool2d(3, 2, 1), (2, 8, 8), (2, 4, 4)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), (2, 8, 8), (2, 4, 4)),
    ("GlobalAvgPool2d", lambda: nn.GlobalAvgPool2d(), (2, 8, 8), (2,)),
    ("Flatten", lambda: nn.Flatten(), (2, 4, 4), (32,)),
    ("ReLU", lambda: nn.ReLU(), (2, 3), (2, 3)),
    ("Tanh", lambda: nn.Tanh(), (2, 3), (2, 3)),
    ("lenet5", lambda: models.build("lenet5", rng=0), (1, 32, 32), (10,)),
]


@pytest.mark.parametrize("make,shape,out_shape", [c[1:] for c in EMPTY_LAYERS], ids=[c[0] for c in EMPTY_LAYERS])
def test_empty_batch_through_the_engine_gives_empty_outputs(make, shape, out_shape):
    layer = make()
    out = layer(np.zeros((0,) + shape, np.float32))
    assert out.shape == (0,) + out_shape
    grad = layer.backward(np.zeros_like(out))
    assert grad.shape == (0,) + shape
    for p in layer.parameters():  # an empty batch contributes nothing
        assert p.grad is None or not np.any(p.grad)


EMPTY_ELSEWHERE = [
    ("correlate_batch", lambda: v1sim.correlate_batch(np.ones((0, 2, 6, 6)), W), "x"),
    ("apply_bank", lambda: v1sim.apply_bank(np.ones((0, 6, 6)), np.ones((2, 3, 3))), "images"),
    ("correlate2d", lambda: v1sim.correlate2d(np.ones((0, 6)), np.ones((3, 3))), "in1"),
    ("pool2d", lambda: v1sim.pool2d(np.ones((0, 2, 6, 6)), 2), "x"),
    ("pool2d_backward", lambda: pool2d_backward(np.ones((0, 2, 3, 3)), (1, 2, 6, 6), 2, kind="avg"), "grad_out"),
    ("simple_cells", lambda: cells.simple_cells(np.ones((0, 16, 16))), "images"),
]


@pytest.mark.parametrize("call,argument", [c[1:] for c in EMPTY_ELSEWHERE], ids=[c[0] for c in EMPTY_ELSEWHERE])
def test_empty_batch_elsewhere_is_a_named_error(call, argument):
    with pytest.raises(InputError, match=rf"^{argument} must not be empty") as info:
        call()
    assert info.value.argument == argument
