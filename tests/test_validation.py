"""Bad inputs at the public edge: the right exception type, naming the argument, never a Numba error."""

from __future__ import annotations

import os

import numba.core.errors
import numpy as np
import pytest

import v1sim
from v1sim import backend, cells, datasets, efficient_coding, filters, nn, retinotopy, spikes, stimuli
from v1sim.errors import InputError, InputTypeError
from v1sim.nn import models
from v1sim.pooling import pool2d_backward

IMG = np.ones((6, 7))
K3 = np.ones((3, 3))
BANK = np.ones((2, 3, 3))
X = np.ones((1, 2, 6, 6))
W = np.ones((3, 2, 3, 3))
G = np.ones((1, 2, 3, 3))  # grad_out for a 2x2 pool of X
IDX = np.zeros((1, 2, 3, 3), np.int32)


def _with(arr, index, value):
    out = np.array(arr, dtype=np.float64)
    out[index] = value
    return out


# (id, call, exception type, regex naming the argument)
CASES = [
    # correlate2d
    ("c2d-in1-3d", lambda: v1sim.correlate2d(np.ones((2, 3, 3)), K3), ValueError, "in1"),
    ("c2d-in2-1d", lambda: v1sim.correlate2d(IMG, np.ones(3)), ValueError, "in2"),
    ("c2d-in1-empty", lambda: v1sim.correlate2d(np.ones((0, 5)), K3), ValueError, "in1"),
    ("c2d-in2-empty", lambda: v1sim.correlate2d(IMG, np.ones((3, 0))), ValueError, "in2"),
    ("c2d-in1-nan", lambda: v1sim.correlate2d(_with(IMG, (1, 1), np.nan), K3), ValueError, "in1"),
    ("c2d-in2-inf", lambda: v1sim.correlate2d(IMG, _with(K3, (0, 0), np.inf)), ValueError, "in2"),
    ("c2d-in1-complex", lambda: v1sim.correlate2d(IMG + 1j, K3), TypeError, "in1"),
    ("c2d-in2-bool", lambda: v1sim.correlate2d(IMG, K3 > 0), TypeError, "in2"),
    ("c2d-in1-object", lambda: v1sim.correlate2d(IMG.astype(object), K3), TypeError, "in1"),
    ("c2d-in1-str", lambda: v1sim.correlate2d("image", K3), TypeError, "in1"),
    ("c2d-in1-str-array", lambda: v1sim.correlate2d(np.array([["a", "b"]]), K3), TypeError, "in1"),
    ("c2d-in1-ragged", lambda: v1sim.correlate2d([[1, 2], [3]], K3), TypeError, "in1"),
    ("c2d-valid-too-big", lambda: v1sim.correlate2d(np.ones((4, 4)), np.ones((5, 3)), mode="valid"), ValueError, "in2"),
    ("c2d-mode", lambda: v1sim.correlate2d(IMG, K3, mode="circular"), ValueError, "mode"),
    ("c2d-boundary", lambda: v1sim.correlate2d(IMG, K3, boundary="reflect"), ValueError, "boundary"),
    ("c2d-fillvalue-nan", lambda: v1sim.correlate2d(IMG, K3, fillvalue=np.nan), ValueError, "fillvalue"),
    ("c2d-fillvalue-str", lambda: v1sim.correlate2d(IMG, K3, fillvalue="0"), TypeError, "fillvalue"),
    ("c2d-device", lambda: v1sim.correlate2d(IMG, K3, device="gpu"), ValueError, "device"),
    # convolve2d
    ("cv2d-in2-3d", lambda: v1sim.convolve2d(IMG, np.ones((1, 3, 3))), ValueError, "in2"),
    ("cv2d-in1-nan", lambda: v1sim.convolve2d(_with(IMG, (0, 0), np.nan), K3, mode="same"), ValueError, "in1"),
    ("cv2d-in1-complex", lambda: v1sim.convolve2d(IMG.astype(complex), K3), TypeError, "in1"),
    ("cv2d-valid-too-big", lambda: v1sim.convolve2d(np.ones((3, 8)), np.ones((4, 2)), mode="valid"), ValueError, "in2"),
    ("cv2d-mode", lambda: v1sim.convolve2d(IMG, K3, mode="Same"), ValueError, "mode"),
    ("cv2d-boundary", lambda: v1sim.convolve2d(IMG, K3, boundary="mirror"), ValueError, "boundary"),
    # apply_bank
    ("bank-images-4d", lambda: v1sim.apply_bank(np.ones((1, 1, 6, 6)), BANK), ValueError, "images"),
    ("bank-images-1d", lambda: v1sim.apply_bank(np.ones(6), BANK), ValueError, "images"),
    ("bank-bank-4d", lambda: v1sim.apply_bank(IMG, np.ones((1, 2, 3, 3))), ValueError, "bank"),
    ("bank-bank-empty", lambda: v1sim.apply_bank(IMG, np.ones((0, 3, 3))), ValueError, "bank"),
    ("bank-images-complex", lambda: v1sim.apply_bank(IMG * 1j, BANK), TypeError, "images"),
    ("bank-bank-bool", lambda: v1sim.apply_bank(IMG, BANK > 0), TypeError, "bank"),
    ("bank-images-inf", lambda: v1sim.apply_bank(_with(IMG, (2, 2), -np.inf), BANK), ValueError, "images"),
    ("bank-mode", lambda: v1sim.apply_bank(IMG, BANK, mode="symm"), ValueError, "mode"),
    ("bank-method", lambda: v1sim.apply_bank(IMG, BANK, method="winograd"), ValueError, "method"),
    ("bank-cval-inf", lambda: v1sim.apply_bank(IMG, BANK, mode="constant", cval=np.inf), ValueError, "cval"),
    ("bank-device", lambda: v1sim.apply_bank(IMG, BANK, device="tpu"), ValueError, "device"),
    # correlate_batch
    ("batch-x-3d", lambda: v1sim.correlate_batch(np.ones((2, 6, 6)), W), ValueError, "^x must"),
    ("batch-weight-2d", lambda: v1sim.correlate_batch(X, K3), ValueError, "weight"),
    ("batch-x-empty", lambda: v1sim.correlate_batch(np.ones((0, 2, 6, 6)), W), ValueError, "^x must"),
    ("batch-x-nan", lambda: v1sim.correlate_batch(_with(X, (0, 1, 2, 3), np.nan), W), ValueError, "^x must"),
    ("batch-weight-str", lambda: v1sim.correlate_batch(X, W.astype(str)), TypeError, "weight"),
    (
        "batch-channels",
        lambda: v1sim.correlate_batch(np.ones((1, 3, 6, 6)), W),
        ValueError,
        "weight expects 2 input channels",
    ),
    ("batch-too-big", lambda: v1sim.correlate_batch(X, np.ones((1, 2, 9, 3)), padding=1), ValueError, "weight height"),
    ("batch-stride-0", lambda: v1sim.correlate_batch(X, W, stride=0), ValueError, "stride"),
    ("batch-stride-neg", lambda: v1sim.correlate_batch(X, W, stride=(1, -2)), ValueError, "stride"),
    ("batch-stride-float", lambda: v1sim.correlate_batch(X, W, stride=1.5), TypeError, "stride"),
    ("batch-stride-triple", lambda: v1sim.correlate_batch(X, W, stride=(1, 1, 1)), ValueError, "stride"),
    ("batch-padding-neg", lambda: v1sim.correlate_batch(X, W, padding=-1), ValueError, "padding"),
    ("batch-bias-shape", lambda: v1sim.correlate_batch(X, W, np.ones(4)), ValueError, "bias"),
    ("batch-bias-2d", lambda: v1sim.correlate_batch(X, W, np.ones((3, 1))), ValueError, "bias"),
    ("batch-bias-nan", lambda: v1sim.correlate_batch(X, W, np.array([0.0, np.nan, 0.0])), ValueError, "bias"),
    ("batch-bias-complex", lambda: v1sim.correlate_batch(X, W, np.ones(3) * 1j), TypeError, "bias"),
    ("batch-method", lambda: v1sim.correlate_batch(X, W, method="im2row"), ValueError, "method"),
    ("batch-fft-stride", lambda: v1sim.correlate_batch(X, W, stride=2, method="fft"), ValueError, "stride"),
    # pool2d
    ("pool-x-5d", lambda: v1sim.pool2d(np.ones((1, 1, 1, 4, 4)), 2), ValueError, "^x must"),
    ("pool-x-1d", lambda: v1sim.pool2d(np.ones(4), 2), ValueError, "^x must"),
    ("pool-x-empty", lambda: v1sim.pool2d(np.ones((0, 4)), 2), ValueError, "^x must"),
    ("pool-x-nan", lambda: v1sim.pool2d(_with(X, (0, 0, 0, 0), np.nan), 2), ValueError, "^x must"),
    ("pool-x-bool", lambda: v1sim.pool2d(X > 0, 2), TypeError, "^x must"),
    ("pool-x-complex", lambda: v1sim.pool2d(X + 0j, 2), TypeError, "^x must"),
    ("pool-size-0", lambda: v1sim.pool2d(X, 0), ValueError, "size"),
    ("pool-size-neg", lambda: v1sim.pool2d(X, (2, -2)), ValueError, "size"),
    ("pool-size-float", lambda: v1sim.pool2d(X, 2.0), TypeError, "size"),
    ("pool-size-too-big", lambda: v1sim.pool2d(X, 7), ValueError, "size"),
    ("pool-stride-0", lambda: v1sim.pool2d(X, 2, 0), ValueError, "stride"),
    ("pool-padding-neg", lambda: v1sim.pool2d(X, 2, 2, -1), ValueError, "padding"),
    ("pool-padding-over-half", lambda: v1sim.pool2d(X, 3, 1, 2), ValueError, "padding"),
    ("pool-kind", lambda: v1sim.pool2d(X, 2, kind="median"), ValueError, "kind"),
    ("pool-indices-avg", lambda: v1sim.pool2d(X, 2, kind="avg", return_indices=True), ValueError, "return_indices"),
    ("pool-device", lambda: v1sim.pool2d(X, 2, device="CUDA"), ValueError, "device"),
    # pool2d_backward
    ("bwd-grad-3d", lambda: pool2d_backward(G[0], X.shape, 2, indices=IDX), ValueError, "grad_out"),
    ("bwd-grad-shape", lambda: pool2d_backward(np.ones((1, 2, 2, 3)), X.shape, 2, indices=IDX), ValueError, "grad_out"),
    (
        "bwd-grad-nan",
        lambda: pool2d_backward(_with(G, (0, 0, 0, 0), np.nan), X.shape, 2, indices=IDX),
        ValueError,
        "grad_out",
    ),
    ("bwd-grad-complex", lambda: pool2d_backward(G * 1j, X.shape, 2, indices=IDX), TypeError, "grad_out"),
    ("bwd-x-shape-len", lambda: pool2d_backward(G, (2, 6, 6), 2, indices=IDX), ValueError, "x_shape"),
    ("bwd-kind-l2", lambda: pool2d_backward(G, X.shape, 2, kind="l2"), ValueError, "kind"),
    ("bwd-no-indices", lambda: pool2d_backward(G, X.shape, 2, kind="max"), ValueError, "indices"),
    ("bwd-indices-shape", lambda: pool2d_backward(G, X.shape, 2, indices=IDX[:, :1]), ValueError, "indices"),
    ("bwd-indices-too-big", lambda: pool2d_backward(G, X.shape, 2, indices=IDX + 36), ValueError, "indices"),
    ("bwd-indices-neg", lambda: pool2d_backward(G, X.shape, 2, indices=IDX - 1), ValueError, "indices"),
    ("bwd-indices-float", lambda: pool2d_backward(G, X.shape, 2, indices=IDX.astype(float)), TypeError, "indices"),
    ("bwd-size-0", lambda: pool2d_backward(G, X.shape, 0, kind="avg"), ValueError, "size"),
    ("bwd-padding-over-half", lambda: pool2d_backward(G, X.shape, 2, 2, 2, kind="avg"), ValueError, "padding"),
    # filters and banks
    ("dog-surround-small", lambda: filters.dog_kernel(2.0, 1.0), ValueError, "sigma_surround"),
    ("gd-order-3", lambda: filters.gaussian_derivative_kernel(1.0, 3.0, order=3), ValueError, "order"),
    ("shift-dx-float", lambda: filters.shift_kernel(0.5, 0), TypeError, "dx"),
    ("shift-dy-range", lambda: filters.shift_kernel(0, 2, 3), ValueError, "dy"),
    ("log-size-1", lambda: filters.log_kernel(1.0, size=1), ValueError, "size"),
    ("gaussian-sigma-underflow", lambda: filters.gaussian_kernel(1e-300), ValueError, "sigma"),
    ("bank-params-count", lambda: filters.FilterBank(np.ones((2, 3, 3)), ({},)), ValueError, "params"),
    ("bank-params-type", lambda: filters.FilterBank(np.ones((1, 3, 3)), (1,)), TypeError, "params"),
    ("bank-name-type", lambda: filters.FilterBank(np.ones((1, 3, 3)), name=3), TypeError, "name"),
    ("bank-index-type", lambda: filters.FilterBank(np.ones((2, 3, 3)))[1.5], TypeError, "index"),
    ("mr8-responses-shape", lambda: filters.mr8_responses(np.ones((37, 4, 4))), ValueError, "responses"),
    ("mr8-absolute", lambda: filters.mr8_responses(np.ones((38, 4, 4)), absolute=1), TypeError, "absolute"),
    ("dog-bank-ratio", lambda: filters.dog_bank(surround_ratio=0.5), ValueError, "surround_ratio"),
    ("dog-bank-polarities", lambda: filters.dog_bank(polarities="on"), ValueError, "polarities"),
    ("lm-size-small", lambda: filters.leung_malik(1), ValueError, "size"),
    # stimuli
    ("spot-center", lambda: stimuli.spot(16, 2.0, center=(1.0,)), ValueError, "center"),
    ("spot-contrast-bright", lambda: stimuli.spot(16, 2.0, background=0.8), ValueError, "contrast"),
    ("grating-nyquist", lambda: stimuli.grating(16, 0.7), ValueError, "frequency"),
    ("grating-mask-radius", lambda: stimuli.grating(16, 0.1, mask_radius=3.0), ValueError, "mask_radius"),
    ("annulus-radii", lambda: stimuli.annulus(16, 4.0, 3.0), ValueError, "outer_radius"),
    (
        "drifting-tf-nyquist",
        lambda: stimuli.drifting_grating(16, 0.1, 60.0, 1.0, dt=0.01),
        ValueError,
        "temporal_frequency",
    ),
    ("present-too-short", lambda: stimuli.present(np.zeros((4, 4)), 0.001, dt=0.01), ValueError, "duration"),
    ("spot-shape-huge", lambda: stimuli.spot(10**6, 2.0), ValueError, "shape"),
    # cells
    (
        "ganglion-radii",
        lambda: cells.GanglionCell(center_radius=2.0, surround_radius=1.0),
        ValueError,
        "surround_radius",
    ),
    ("simple-nyquist", lambda: cells.SimpleCell(frequency=0.8), ValueError, "frequency"),
    ("simple-nonlinearity", lambda: cells.SimpleCell(nonlinearity=lambda g: g), TypeError, "nonlinearity"),
    ("simple-center", lambda: cells.SimpleCell(center=(1.0, 2.0, 3.0)), ValueError, "center"),
    ("nonlinearity-both", lambda: cells.Nonlinearity(spontaneous=1.0, threshold=0.1), ValueError, "threshold"),
    ("hubel-wiesel-rectify", lambda: cells.HubelWieselCell(rectify="yes"), TypeError, "rectify"),
    ("complex-cells-odd", lambda: cells.complex_cells(np.ones((16, 16)), np.ones((3, 5, 5))), ValueError, "bank"),
    ("simple-frequency-tiny", lambda: cells.SimpleCell(frequency=1e-7), ValueError, "frequency"),
    # spikes, retinotopy, efficient coding, datasets
    ("poisson-negative", lambda: spikes.poisson_counts(np.array([1.0, -1.0]), 0.01), ValueError, "rates"),
    ("bin-counts-not-list", lambda: spikes.bin_counts(np.zeros(3), 1.0, 0.1), TypeError, "spikes"),
    ("bin-counts-no-trials", lambda: spikes.bin_counts([], 1.0, 0.1), ValueError, "spikes"),
    ("count-psth-1d", lambda: spikes.count_psth(np.ones(10), 0.01, 0.05), ValueError, "counts"),
    ("spike-times-float", lambda: spikes.spike_times(np.ones((2, 3)), 0.01), TypeError, "raster"),
    ("retinotopy-complex-str", lambda: retinotopy.visual_to_cortex(np.array(["a"])), TypeError, "z"),
    ("retinotopy-nan", lambda: retinotopy.visual_to_cortex(np.array([np.nan])), ValueError, "z"),
    ("retinotopy-ecc-negative", lambda: retinotopy.cortical_distance(-1.0), ValueError, "eccentricity"),
    ("to-cortex-order", lambda: retinotopy.to_cortex(np.ones((8, 8)), 10.0, order=7), ValueError, "order"),
    (
        "to-cortex-extent",
        lambda: retinotopy.to_cortex(np.ones((8, 8)), 10.0, extent=(1, 0, 0, 1)),
        ValueError,
        "extent",
    ),
    ("patches-size-1", lambda: efficient_coding.natural_patches(10, 1), ValueError, "size"),
    ("patches-images-empty", lambda: efficient_coding.natural_patches(10, 4, images=[]), ValueError, "images"),
    ("pad-to-small", lambda: datasets.pad_to(np.ones((8, 8)), 4), ValueError, "size"),
    ("batches-labels-float", lambda: next(datasets.batches(np.ones((4, 2, 2)), np.ones(4), 2)), TypeError, "labels"),
    (
        "batches-labels-count",
        lambda: next(datasets.batches(np.ones((4, 2, 2)), np.ones(3, int), 2)),
        ValueError,
        "labels",
    ),
    ("load-dataset-digits-dir", lambda: datasets.load_dataset("digits", data_dir="/tmp"), ValueError, "data_dir"),
    # nn
    (
        "build-num-classes-0",
        lambda: models.build("lenet5", num_classes=0, materialize=False),
        ValueError,
        "num_classes",
    ),
    ("build-num-classes-float", lambda: models.build("lenet5", num_classes=2.5), TypeError, "num_classes"),
    ("build-unknown", lambda: models.build("lenet6"), ValueError, "name"),
    ("build-option", lambda: models.build("lenet5", depth=3, materialize=False), ValueError, "depth"),
    ("resnet-depth", lambda: models.resnet(depth=51), ValueError, "depth"),
    ("conv-groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "groups"),
    ("conv-input-channels", lambda: nn.Conv2d(3, 4, 3, rng=0)(np.ones((1, 2, 8, 8), np.float32)), ValueError, "x"),
    ("linear-features", lambda: nn.Linear(4, 2, rng=0)(np.ones((1, 5), np.float32)), ValueError, "x"),
    ("linear-no-batch", lambda: nn.Linear(4, 2, rng=0)(np.ones(4, np.float32)), ValueError, "x"),
    ("pool-padding", lambda: nn.MaxPool2d(2, padding=2), ValueError, "padding"),
    ("sequential-entry", lambda: nn.Sequential(nn.ReLU(), 3), TypeError, "modules"),
    ("parameter-lr-mult", lambda: nn.Parameter(np.ones(2), lr_mult=-1.0), ValueError, "lr_mult"),
    ("zero-pad-shortcut", lambda: nn.ZeroPadShortcut(8, 4), ValueError, "out_channels"),
    ("fans-1d", lambda: nn.init.calculate_fans((3,)), ValueError, "shape"),
    ("conv2d-forward-weight", lambda: nn.functional.conv2d_forward(X, W[:, :1], groups=1), ValueError, "weight"),
    ("conv2d-forward-bias", lambda: nn.functional.conv2d_forward(X, W, np.ones(2)), ValueError, "bias"),
    (
        "linear-forward-weight",
        lambda: nn.functional.linear_forward(np.ones((2, 3)), np.ones((4, 5))),
        ValueError,
        "weight",
    ),
    ("rng-negative", lambda: v1sim.stimuli.white_noise(8, rng=-1), ValueError, "rng"),
    ("output-size-str", lambda: v1sim.signal.output_size(28, 5, stride="2"), TypeError, "stride"),
    ("output-size-negative-padding", lambda: v1sim.signal.output_size(28, 5, padding=-1), ValueError, "padding"),
    ("cv2d-mode-array", lambda: v1sim.convolve2d(IMG, K3, mode=np.array([])), TypeError, "mode"),
    ("parameter-lr-mult-str", lambda: nn.Parameter(np.ones(2), lr_mult="fast"), TypeError, "lr_mult"),
    (
        "batches-shuffle-array",
        lambda: datasets.batches(np.ones((4, 2, 2)), np.arange(4), 2, shuffle=np.ones(2)),
        TypeError,
        "shuffle",
    ),
    ("retinotopy-ragged", lambda: retinotopy.visual_to_cortex([[1.0, 2.0], [3.0]]), TypeError, "z"),
    ("nonlinearity-exponent-huge", lambda: cells.Nonlinearity(exponent=2**63), ValueError, "exponent"),
    ("kernel-size-beyond-int64", lambda: filters.box_kernel(2**63 + 1), ValueError, "size"),
    ("pool-stride-beyond-int64", lambda: v1sim.pool2d(X, 2, 2**63), ValueError, "stride"),
    ("patches-images-object", lambda: efficient_coding.natural_patches(10, 4, images=object()), TypeError, "images"),
    # resolve_device
    ("device-unknown", lambda: backend.resolve_device("gpu"), ValueError, "device"),
    ("device-none", lambda: backend.resolve_device(None), TypeError, "device"),
    ("device-int", lambda: backend.resolve_device(0), TypeError, "device"),
]


def test_enough_cases():
    assert len(CASES) >= 140


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(call, exc, match, monkeypatch):
    monkeypatch.delenv("V1SIM_DEVICE", raising=False)
    with pytest.raises(exc, match=match) as info:
        call()
    assert isinstance(info.value, exc)
    # every bad argument raises one of v1sim.errors' types, carrying the argument its message names
    assert isinstance(info.value, InputError), f"{type(info.value).__name__} is not a v1sim.errors.InputError"
    assert info.value.argument and info.value.argument in str(info.value)
    assert isinstance(info.value, InputTypeError) == (exc is TypeError)
    assert not isinstance(info.value, numba.core.errors.NumbaError)
    assert "numba" not in type(info.value).__module__


# --------------------------------------------------------------------------
# Device resolution: the environment and a missing GPU
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["gpu", "auto", "parallel,cpu"])
def test_bad_v1sim_device_env(value, monkeypatch):
    monkeypatch.setenv("V1SIM_DEVICE", value)
    with pytest.raises(ValueError, match="V1SIM_DEVICE") as info:
        backend.resolve_device("auto")
    assert not isinstance(info.value, numba.core.errors.NumbaError)
    # a public function with device="auto" reports the same
    with pytest.raises(ValueError, match="V1SIM_DEVICE"):
        v1sim.pool2d(X, 2)


@pytest.mark.parametrize(
    "value,expected", [(None, "parallel"), ("cpu", "cpu"), (" Parallel ", "parallel"), ("", "parallel")]
)
def test_v1sim_device_env_is_read(value, expected, monkeypatch):
    if value is None:
        monkeypatch.delenv("V1SIM_DEVICE", raising=False)
    else:
        monkeypatch.setenv("V1SIM_DEVICE", value)
    assert backend.resolve_device("auto") == expected
    assert backend.resolve_device("cpu") == "cpu"  # an explicit device wins over the environment


@pytest.fixture
def no_gpu(monkeypatch):
    """Pretend that neither a GPU nor the CUDA simulator is usable."""
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    monkeypatch.setattr(backend, "cuda_available", lambda: False)


CUDA_CALLS = [
    lambda: backend.resolve_device("cuda"),
    lambda: v1sim.correlate2d(IMG, K3, device="cuda"),
    lambda: v1sim.apply_bank(IMG, BANK, device="cuda"),
    lambda: v1sim.correlate_batch(X, W, device="cuda"),
    lambda: v1sim.pool2d(X, 2, device="cuda"),
    lambda: pool2d_backward(G, X.shape, 2, kind="avg", device="cuda"),
]


@pytest.mark.parametrize("call", CUDA_CALLS, ids=["resolve", "correlate2d", "apply_bank", "batch", "pool", "pool_bwd"])
def test_cuda_without_gpu_explains_how_to_get_it(call, no_gpu):
    with pytest.raises(RuntimeError, match="numba-cuda") as info:
        call()
    assert "NUMBA_ENABLE_CUDASIM" in str(info.value)
    assert not isinstance(info.value, numba.core.errors.NumbaError)


def test_cuda_from_environment_without_gpu(no_gpu, monkeypatch):
    monkeypatch.setenv("V1SIM_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="NUMBA_ENABLE_CUDASIM"):
        backend.resolve_device("auto")


def test_validation_happens_before_any_work(monkeypatch):
    """A bad argument is reported even when a kernel would have failed first (no raw Numba error)."""
    from v1sim import kernels

    def boom(*args, **kwargs):
        raise AssertionError("a kernel was fetched before validation finished")

    monkeypatch.setattr(kernels, "get", boom)
    with pytest.raises(ValueError, match="kind"):
        v1sim.pool2d(X, 2, kind="mean")
    with pytest.raises(ValueError, match="weight expects"):
        v1sim.correlate_batch(np.ones((1, 3, 6, 6)), W)
    with pytest.raises(ValueError, match="in2"):
        v1sim.correlate2d(np.ones((2, 2)), K3, mode="valid")


def test_blas_threads_limits_inside_and_restores_after():
    from threadpoolctl import threadpool_info

    from v1sim.backend import blas_threads

    def counts():
        return [m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas"]

    before = counts()
    assert before, "numpy's BLAS should be visible to threadpoolctl"
    with blas_threads(1):
        assert counts() == [1] * len(before)
        np.ones((3, 3)) @ np.ones((3, 3))
    assert counts() == before
    with pytest.raises(RuntimeError), blas_threads(1):
        raise RuntimeError("restored even on errors")
    assert counts() == before


def test_import_sets_a_short_openmp_spin_unless_the_user_chose_one():
    import subprocess
    import sys

    code = "import os, v1sim; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"

    def policy(**chosen):
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        run = subprocess.run([sys.executable, "-c", code], env={**env, **chosen}, capture_output=True, text=True)
        return run.stdout.split()

    assert policy() == ["PASSIVE", "10000"]
    assert policy(OMP_WAIT_POLICY="ACTIVE") == ["ACTIVE", "None"]
    assert policy(GOMP_SPINCOUNT="0") == ["None", "0"]


@pytest.mark.parametrize("shape", [(3, 4, 5), (300, 500, 400), (7, 400, 20000), (20000, 300, 9)])
def test_matmul_equals_numpy_small_and_split(shape, monkeypatch):
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
    monkeypatch.setattr(backend, "SMALL_GEMM_MACS", 1e5)  # force the threaded split on the larger ones
    np.testing.assert_allclose(backend.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4)
    out = np.zeros((m + 2, n), np.float32)
    backend.matmul(a.T.copy().T, b, out=out[1:-1])  # strided operand, view output
    np.testing.assert_allclose(out[1:-1], a @ b, rtol=1e-5, atol=1e-4)
    assert not out[0].any() and not out[-1].any()
    stacked = rng.standard_normal((2, m % 5 + 1, k)).astype(np.float32)
    np.testing.assert_allclose(backend.matmul(stacked, b), stacked @ b, rtol=1e-5, atol=1e-4)


def test_retain_freed_memory_stops_page_faults_of_repeated_large_arrays():
    import subprocess
    import sys

    code = (
        "import resource, sys, numpy as np\n"
        "from v1sim.backend import retain_freed_memory\n"
        "if sys.argv[1] == '1': assert retain_freed_memory()\n"
        "np.ones(40_000_000 // 8)\n"
        "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(5): np.ones(40_000_000 // 8).sum()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)\n"
    )
    faults = [
        int(subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True, check=True).stdout)
        for flag in ("0", "1")
    ]
    if faults[0] < 1000:
        pytest.skip(f"this C library reuses 40 MB blocks by itself ({faults[0]} faults)")
    assert faults[1] < faults[0] / 10
