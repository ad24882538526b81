"""Unit populations (v1sim.physiology.units, convnet_units, macaque): the interface, the adapters, the sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from v1sim import biology, cells, hierarchy, physiology
from v1sim.errors import CheckpointError, InputError
from v1sim.nn import models
from v1sim.physiology.macaque import devalois1982b_peak_sf

RNG = np.random.default_rng(1)
IMAGES32 = 0.5 + 0.5 * RNG.uniform(-1, 1, (3, 32, 32))
LENET = models.build("lenet5", rng=0)


def grating(size, frequency, theta, phase):
    """Full-contrast sine grating ``0.5 + 0.5 cos(2 pi f x' + phase)`` around the image centre, f in cycles/pixel."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2.0
    return 0.5 + 0.5 * np.cos(2 * math.pi * frequency * (x * math.cos(theta) + y * math.sin(theta)) + phase)


# ------------------------------------------------------------------ the protocol


def test_every_adapter_is_a_unit_population_and_a_bare_object_is_not():
    populations = [
        physiology.CellPopulation([cells.SimpleCell(frequency=0.1)], ppd=4.0, image_size=32),
        physiology.ConvNetLayer(LENET, "c1", image_size=32),
        physiology.HierarchyStage(hierarchy.make_model("hmax"), "C1"),
        physiology.macaque_population(4, ppd=16.0, image_size=32, rng=0),
    ]
    for pop in populations:
        assert isinstance(pop, physiology.UnitPopulation)
        x = np.full((2, pop.image_size, pop.image_size), 0.5)
        r = pop.responses(x)
        assert r.shape == (2, pop.n_units) and np.all(r >= 0)
        assert pop.responses(x[0]).shape == (1, pop.n_units)  # one image is promoted to N = 1
        with pytest.raises(InputError) as err:
            pop.responses(np.full((2, pop.image_size + 1, pop.image_size), 0.5))
        assert err.value.argument == "images"
    assert not isinstance(object(), physiology.UnitPopulation)


# ------------------------------------------------------------------ cells


def test_cell_population_rates_are_the_cells_rates():
    simple, complex_ = cells.SimpleCell(frequency=0.1, theta=0.3), cells.ComplexCell(frequency=0.15)
    pop = physiology.CellPopulation([simple, complex_], ppd=4.0, image_size=32)
    r = pop.responses(IMAGES32)
    np.testing.assert_allclose(r[:, 0], simple.response(IMAGES32))
    np.testing.assert_allclose(r[:, 1], complex_.response(IMAGES32))
    # grey background: the spontaneous rate; the optimal grating (unit drive) at best phase: the peak rate
    np.testing.assert_allclose(pop.responses(np.full((32, 32), 0.5))[0], [simple.spontaneous_rate] * 2)
    wide = physiology.CellPopulation([simple], ppd=4.0, image_size=64)  # room for the whole field
    phases = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    best = wide.responses(np.stack([grating(64, simple.preferred_frequency, 0.3, p) for p in phases])).max()
    assert best == pytest.approx(simple.nonlinearity.peak, rel=2e-3)


def test_cell_population_refuses_offset_cells_and_other_ppd():
    with pytest.raises(InputError) as err:
        physiology.CellPopulation([cells.SimpleCell(center=(3.0, 0.0))], ppd=4.0, image_size=32)
    assert err.value.argument == "cells"
    with pytest.raises(InputError) as err:
        physiology.CellPopulation([cells.SimpleCell(frequency=1.0, ppd=8.0)], ppd=4.0, image_size=32)
    assert err.value.argument == "ppd"
    with pytest.raises(InputError) as err:
        physiology.CellPopulation([], ppd=4.0, image_size=32)
    assert err.value.argument == "cells"


# ------------------------------------------------------------------ ConvNets


def test_convnet_layer_centre_units_are_the_full_forward_pass_centre_column():
    layer = physiology.ConvNetLayer(LENET, "c1", image_size=32)
    assert layer.read_from == "tanh1" and layer.n_units == 6 and layer.ppd == 4.0  # 32 px over 8 degrees
    full = LENET[:2](IMAGES32[:, None].astype(np.float32))  # c1 then its tanh: (3, 6, 28, 28)
    # to float32 rounding: the centre crop is c1's 5x5 field, one matrix product, the full pass sums by rows
    np.testing.assert_allclose(layer.responses(IMAGES32), np.maximum(full[:, :, 14, 14], 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layer.full_output(IMAGES32), full, rtol=1e-6)
    # a non-weighted layer is read as it is; a Linear layer's units are all its features
    assert physiology.ConvNetLayer(LENET, "s2", image_size=32).read_from == "s2"
    assert physiology.ConvNetLayer(LENET, "f6", image_size=32).n_units == 84


def test_convnet_layer_replicates_grey_to_rgb_and_reads_after_batchnorm_and_relu():
    net = models.build("resnet20", rng=0)
    layer = physiology.ConvNetLayer(net, "conv1", image_size=32)
    assert layer.read_from == "relu" and layer.in_channels == 3  # conv1 -> bn1 -> relu
    full = net.eval()[:3](np.repeat(IMAGES32[:, None], 3, axis=1).astype(np.float32))  # BN with running statistics
    net.train()
    np.testing.assert_allclose(layer.responses(IMAGES32), full[:, :, 16, 16], rtol=1e-5, atol=1e-6)
    assert net.training  # the model ran in eval mode and its mode is restored


def test_convnet_layer_resamples_images_to_the_input_size():
    small = physiology.ConvNetLayer(LENET, "c1", image_size=32)
    big = physiology.ConvNetLayer(LENET, "c1", image_size=64, input_size=32)
    assert big.ppd == 8.0 and physiology.ConvNetLayer(LENET, "c1", image_size=64, input_size=32, fov=4).ppd == 16.0
    coarse = IMAGES32[:1]
    fine = np.repeat(np.repeat(coarse, 2, axis=1), 2, axis=2)  # each pixel as a 2 x 2 block: area-aligned halving
    np.testing.assert_allclose(big.responses(fine), small.responses(coarse), rtol=1e-5, atol=1e-6)


def test_convnet_layer_refuses_unknown_layers_fov_and_sizes():
    with pytest.raises(InputError) as err:
        physiology.ConvNetLayer(LENET, "conv9", image_size=32)
    assert err.value.argument == "layer" and "c1, tanh1, s2" in str(err.value)
    with pytest.raises(InputError) as err:
        physiology.ConvNetLayer(LENET, "c1", image_size=32, fov=0.0)
    assert err.value.argument == "fov"
    with pytest.raises(InputError) as err:
        physiology.ConvNetLayer(LENET, "c1")
    assert err.value.argument == "image_size"
    with pytest.raises(InputError) as err:
        physiology.ConvNetLayer(LENET, "f6", image_size=28)  # the Linear after Flatten wants 32 x 32 inputs
    assert err.value.argument == "input_size"


def _alexnet_shaped():
    """AlexNet's first stages, small (99-pixel input): a strided, padded conv, overlapping max-pools, a classifier."""
    from v1sim import nn

    return nn.Sequential(
        {
            "conv1": nn.Conv2d(3, 4, 7, stride=3, padding=2, rng=0),
            "relu1": nn.ReLU(),
            "pool1": nn.MaxPool2d(3, 2),
            "conv2": nn.Conv2d(4, 6, 5, padding=2, rng=1),
            "relu2": nn.ReLU(),
            "pool2": nn.MaxPool2d(3, 2),
            "conv3": nn.Conv2d(6, 5, 3, padding=1, rng=2),
            "relu3": nn.ReLU(),
            "flatten": nn.Flatten(),
            "fc": nn.Linear(5 * 7 * 7, 4, rng=3),
        }
    )


@pytest.mark.parametrize(
    "model, layer, side",
    [
        (LENET, "c3", 32),
        (LENET, "s4", 32),
        (_alexnet_shaped(), "conv2", 99),
        (_alexnet_shaped(), "conv3", 99),
        (models.build("resnet20", rng=0), "stage1.1", 32),  # a residual block: both branches' fields
        (models.build("resnet20", rng=0), "stage2.0", 32),  # a strided block with a zero-padded shortcut
    ],
)
def test_centre_crop_gives_the_whole_images_centre_units(model, layer, side):
    images = 0.5 + 0.5 * np.random.default_rng(3).uniform(-1, 1, (4, side, side))
    cropped = physiology.ConvNetLayer(model, layer, image_size=side)
    whole = physiology.ConvNetLayer(model, layer, image_size=side, centre_crop=False)
    assert whole.centre is None and cropped.centre is not None and max(cropped.centre.shape) < side
    fast, slow = cropped.responses(images), whole.responses(images)
    assert fast.dtype == np.float32 and np.abs(slow).max() > 0.1
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-6)  # float32: equal up to the kernels' summation order


def test_centre_crop_is_the_field_of_the_centre_unit():
    # LeNet-5 c3 (14-pixel field, jump 2, 10 x 10 map on 32 x 32): centre unit (5, 5) sees rows 10..23, the smallest
    # crop that holds it is the field itself, and a 14 x 14 input gives c3 a 1 x 1 map
    assert physiology.ConvNetLayer(LENET, "c3", image_size=32).centre.offset == (10, 10)
    assert physiology.ConvNetLayer(LENET, "c3", image_size=32).centre.shape == (14, 14)
    # no crop: a field as wide as the image (c5), a classifier (f6), a layer inside a residual block
    assert physiology.ConvNetLayer(LENET, "c5", image_size=32).centre is None
    assert physiology.ConvNetLayer(LENET, "f6", image_size=32).centre is None
    inside = physiology.ConvNetLayer(models.build("resnet20", rng=0), "stage1.0.body.conv1", image_size=32)
    assert inside.read_from == "stage1.0.body.relu1" and inside.centre is None
    with pytest.raises(InputError) as err:
        physiology.ConvNetLayer(LENET, "c3", image_size=32, centre_crop="yes")
    assert err.value.argument == "centre_crop"


def test_centre_crop_follows_a_crop_and_a_resampling():
    images = 0.5 + 0.5 * np.random.default_rng(5).uniform(-1, 1, (2, 64, 64))
    for options in ({"crop": 32}, {"input_size": 32}):  # LeNet-5 takes 32 x 32 inputs only (its classifier)
        fast = physiology.ConvNetLayer(LENET, "c3", image_size=64, **options)
        slow = physiology.ConvNetLayer(LENET, "c3", image_size=64, centre_crop=False, **options)
        assert fast.centre is not None
        np.testing.assert_allclose(fast.responses(images), slow.responses(images), rtol=0, atol=1e-6)


def test_convnet_layer_from_run_loads_the_trained_weights(tmp_path):
    from v1sim._core.runs import RunFolder

    trained = models.build("lenet5", rng=7)
    folder = RunFolder(tmp_path / "run")
    folder.start({"model": "lenet5", "input_shape": [1, 32, 32], "dataset": "digits"})
    folder.save_best({f"model/{k}": v for k, v in trained.state_dict().items()}, {"model": "lenet5"})
    loaded = physiology.ConvNetLayer.from_run(tmp_path / "run", "c3")
    direct = physiology.ConvNetLayer(trained, "c3", image_size=32)
    assert loaded.input_size == 32 and loaded.read_from == "tanh3"
    np.testing.assert_allclose(loaded.responses(IMAGES32), direct.responses(IMAGES32), rtol=1e-6)
    with pytest.raises(CheckpointError):
        physiology.ConvNetLayer.from_run(tmp_path / "run", "c3", checkpoint="last")  # no last.npz
    with pytest.raises(CheckpointError):
        physiology.ConvNetLayer.from_run(tmp_path / "nothing", "c3")


# ------------------------------------------------------------------ Neocognitron and HMAX


def test_hierarchy_stage_units_are_the_centre_of_the_stage_maps():
    model = hierarchy.make_model("neocognitron")
    images = 0.5 + 0.5 * RNG.uniform(-1, 1, (2, 28, 28))
    for name, stage in (("US1", "US1"), ("C1", "UC1")):
        pop = physiology.HierarchyStage(model, name)
        maps = model.forward(images, upto=stage)[stage]
        assert pop.stage == stage and pop.n_units == maps.shape[1] and pop.ppd == 28 / 8
        np.testing.assert_allclose(pop.responses(images), maps[:, :, 14, 14])
    with pytest.raises(InputError) as err:
        physiology.HierarchyStage(model, "US2")  # not learned yet
    assert err.value.argument == "stage" and "US1" in str(err.value)
    with pytest.raises(InputError) as err:
        physiology.HierarchyStage(model, "US1", fov=-1.0)
    assert err.value.argument == "fov"


# ------------------------------------------------------------------ macaque population


def test_macaque_population_is_deterministic_for_a_seed():
    a, b = (physiology.macaque_population(20, ppd=16.0, image_size=32, rng=3) for _ in range(2))
    c = physiology.macaque_population(20, ppd=16.0, image_size=32, rng=4)
    np.testing.assert_array_equal(a.responses(IMAGES32), b.responses(IMAGES32))
    assert not np.array_equal(a.frequency, c.frequency)
    assert a.simple.sum() == 10 and physiology.macaque_population(5, ppd=16, image_size=8, simple_fraction=0).n_units


def test_macaque_population_follows_the_shipped_histograms():
    pop = physiology.macaque_population(3000, ppd=16.0, image_size=8, rng=0)
    ori = biology.devalois1982_orientation()
    sf = devalois1982b_peak_sf()
    assert sf.n == 139 and sf.edges_cpd[0] == 0.5 and sf.edges_cpd[-1] == 8.0
    for got, want in ((ori.histogram(pop.theta), ori.counts), (sf.histogram(pop.frequency), sf.counts)):
        assert got.sum() == 3000
        assert stats.chisquare(got, want / want.sum() * got.sum()).pvalue > 0.01
    nxny = biology.ringach2002_nxny()
    assert nxny.distance(pop.nx, pop.ny) < 0.05
    assert np.all((pop.frequency >= 0.5) & (pop.frequency <= 8.0))


def test_macaque_units_give_the_peak_rate_to_their_carrier_grating_and_nothing_to_grey():
    pop = physiology.macaque_population(12, ppd=16.0, image_size=48, rng=2)
    assert np.all(pop.responses(np.full((48, 48), 0.5)) == 0)
    for i in range(pop.n_units):
        phases = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        f = pop.frequency[i] / pop.ppd
        rates = pop.responses(np.stack([grating(48, f, pop.theta[i], p) for p in phases]))[:, i]
        assert rates.max() == pytest.approx(34.0, rel=2e-3)  # drive 1 at the best phase, times the peak rate
        if not pop.simple[i] and pop.nx[i] > 0.4:  # a Gabor pair of several lobes is close to quadrature:
            assert rates.min() > 0.5 * rates.max()  # its energy barely depends on the grating's phase
        if pop.simple[i]:
            assert rates.min() == 0  # half-wave rectified


def test_macaque_population_refuses_frequencies_above_nyquist():
    with pytest.raises(InputError) as err:
        physiology.macaque_population(4, ppd=8.0, image_size=32)
    assert err.value.argument == "ppd"
    pop = physiology.macaque_population(200, ppd=8.0, image_size=16, max_frequency=4.0, rng=0)
    assert pop.frequency.max() <= 4.0
    with pytest.raises(InputError) as err:
        physiology.macaque_population(4, ppd=8.0, image_size=32, max_frequency=0.6)
    assert err.value.argument == "max_frequency"
