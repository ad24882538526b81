"""AlexNet trained elsewhere beside V1: fig_alexnet_v1, `v1sim figures --weights`, `v1sim visualize --weights`.

The weights are synthetic: torchvision's AlexNet architecture built by the zoo
from a seed, with planted conv1 filters (grey Gabors and red-minus-green
blobs), written under torchvision's names as an exported state dict would be.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from v1sim import biology
from v1sim.cli import main
from v1sim.figures import discover
from v1sim.nn import models
from v1sim.nn.models.weights import IMAGENET_NORMALIZATION, torchvision_names
from v1sim.physiology import ConvNetLayer
from v1sim.visualize import layer_outputs, load_network

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fig_alexnet_v1.py"
NAME = "alexnet-torchvision"
GABORS, BLOBS = range(0, 6), range(6, 10)  # planted conv1 filters


@pytest.fixture(scope="module")
def fig():
    spec = importlib.util.spec_from_file_location("fig_alexnet_v1_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gabor(theta, size=11, frequency=0.2, sigma=2.0):
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    across = x * np.cos(theta) + y * np.sin(theta)
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) * np.cos(2 * np.pi * frequency * across)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """An .npz of AlexNet's state dict under torchvision's names, conv1 filters 0-9 planted (over raw pixels)."""
    model = models.build(NAME, rng=3)
    w = model.conv1.weight.data
    std = np.asarray(IMAGENET_NORMALIZATION.std)[:, None, None]
    for i in GABORS:  # the same Gabor in R, G and B: grey
        w[i] = (0.1 * _gabor(np.pi * i / len(GABORS)))[None] * std
    y, x = np.mgrid[:11, :11] - 5.0
    blob = 0.1 * np.exp(-(x**2 + y**2) / 8.0)
    for i in BLOBS:  # red minus green
        w[i] = np.stack([blob, -blob, 0 * blob]) * std
    names = torchvision_names(model, NAME)
    state = {k: p.data for k, p in model.named_parameters()} | dict(model.named_buffers())
    path = tmp_path_factory.mktemp("weights") / "alexnet_planted.npz"
    np.savez(path, **{names[k]: v for k, v in state.items()})
    return path


def test_luminance_is_what_a_grey_stimulus_sees(fig):
    w = np.random.default_rng(0).normal(size=(5, 3, 4, 6))
    grey = np.random.default_rng(1).random((4, 6))  # the same image in R, G and B
    seen = np.einsum("kcij,ij->k", w, grey)  # the filters' responses to it
    np.testing.assert_allclose(3 * np.einsum("kij,ij->k", fig.luminance(w), grey), seen, rtol=1e-12)
    np.testing.assert_allclose(fig.luminance(np.ones((1, 3, 2, 2))), 1.0)  # grey stays grey
    weighted = fig.luminance(w, coefficients=(0.299, 0.587, 0.114))  # other weights on request
    np.testing.assert_allclose(weighted, 0.299 * w[:, 0] + 0.587 * w[:, 1] + 0.114 * w[:, 2], rtol=1e-13)


def test_opponency_index_grey_is_zero_red_minus_green_is_one(fig):
    g = np.random.default_rng(1).normal(size=(4, 7, 7))
    grey = np.stack([g, g, g], axis=1)
    red_green = np.stack([g, -g, 0 * g], axis=1)
    yellow_blue = np.stack([g, g, -2 * g], axis=1)
    np.testing.assert_allclose(fig.opponency_index(grey), 0.0, atol=1e-12)
    np.testing.assert_allclose(fig.opponency_index(red_green), 1.0, rtol=1e-12)
    np.testing.assert_allclose(fig.opponency_index(yellow_blue), 1.0, rtol=1e-12)
    mixed = grey + red_green  # (2, 0, 1) g: achromatic (2 + 0 + 1)/sqrt 3 = sqrt 3, red-green 2/sqrt 2 = sqrt 2
    share = 2.0 / (3.0 + 2.0)
    np.testing.assert_allclose(fig.opponency_index(mixed), share, rtol=1e-12)
    noise = np.random.default_rng(2).normal(size=(400, 3, 11, 11))
    assert abs(fig.opponency_index(noise).mean() - 2 / 3) < 0.01  # two of three axes are chromatic
    assert np.isnan(fig.opponency_index(np.zeros((1, 3, 2, 2))))[0]


def test_benchmark_population_computes_the_whole_images_responses_on_a_crop(fig):
    model = models.build(NAME, rng=0)
    images = np.random.default_rng(4).uniform(0, 1, (2, 224, 224))
    for layer, side in (("conv1", 13), ("conv2", 57)):  # conv1's 11-pixel field, conv2's 51: aligned to the stride
        population = fig.layer_population(model, layer, units=3)
        assert population.population.centre.shape == (side, side) and population.n_units == 3
        whole = ConvNetLayer(model, layer, fov=8.0, image_size=224, in_channels=3, centre_crop=False)
        want = whole.responses(images)[:, population.keep]
        # float32: the crop and the whole image may run different convolution paths (summation orders)
        np.testing.assert_allclose(population.responses(images), want, rtol=2e-6, atol=1e-6)


def test_planted_filters_are_found_from_the_weights_file(fig, weights):
    filters = fig.pixel_filters(models.build(NAME, weights=weights))
    index = fig.opponency_index(filters)
    np.testing.assert_allclose(index[list(GABORS)], 0.0, atol=1e-6)
    np.testing.assert_allclose(index[list(BLOBS)], 1.0, rtol=1e-6)
    fits = biology.fit_gabor(fig.luminance(filters[list(GABORS)]))
    assert (fits.r2 > 0.99).all()
    np.testing.assert_allclose(fits.frequency, 0.2, rtol=0.02)


def test_figure_with_weights_names_them_in_the_title(fig, weights, tmp_path, monkeypatch):
    titles = []
    real = fig.save_figure

    def spy(figure, path):
        titles.append(figure._suptitle.get_text())
        return real(figure, path)

    monkeypatch.setattr(fig, "save_figure", spy)
    path = fig.main(tmp_path, quick=True, weights=weights)
    assert path.is_file() and path.stat().st_size > 5000
    assert weights.name in titles[0] and "UNTRAINED" not in titles[0]
    fig.main(tmp_path, quick=True)
    assert "UNTRAINED" in titles[1]


def test_figures_runner_passes_weights_only_where_taken(tmp_path, capsys):
    takes = {s.name: s.takes_weights for s in discover()}
    assert takes["alexnet_v1"] and not takes["dog"]
    assert main(["figures", "dog", "--weights", str(tmp_path / "w.npz"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alexnet_v1" in err
    assert main(["figures", "alexnet_v1", "--weights", str(tmp_path / "missing.npz"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--weights" in err and "does not exist" in err
    assert not list(tmp_path.glob("*.png"))


def test_visualize_a_zoo_model_with_weights_writes_its_pngs(weights, tmp_path, capsys):
    argv = ["visualize", NAME, "--weights", str(weights), "--out", str(tmp_path), "--layer", "conv1"]
    assert main([*argv, "--units", "1", "--top", "3", "--steps", "2", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dataset"] == "natural-images" and summary["layers"]["conv1"]["size"] == [11, 11]
    names = {Path(p).name for p in summary["files"]}
    assert names == {"filters.png", "activations.png", "top_patches.png", "maximization.png", "receptive_fields.png"}
    assert all((tmp_path / n).stat().st_size > 1000 for n in names)


def test_loaded_network_normalises_its_input_exactly(weights):
    network = load_network(NAME, weights=weights)
    x = np.random.default_rng(5).uniform(0, 1, (2, 3, 224, 224)).astype(np.float32)
    raw = models.build(NAME, weights=weights)
    want = raw.eval()(IMAGENET_NORMALIZATION.apply(x))
    got = layer_outputs(network.model, x, ["fc8"])["fc8"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    layer = network.model.normalize  # its backward against float64 central differences
    x64 = np.random.default_rng(6).uniform(0, 1, (1, 3, 2, 2))
    g = np.random.default_rng(7).normal(size=x64.shape)
    layer.forward(x64)
    analytic = layer.backward(g)
    numeric = np.zeros_like(x64)
    for i in np.ndindex(x64.shape):
        step = np.zeros_like(x64)
        step[i] = 1e-6
        numeric[i] = ((g * layer.forward(x64 + step)).sum() - (g * layer.forward(x64 - step)).sum()) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7)


@pytest.mark.parametrize(
    ("source", "extra", "detail"),
    [
        ("folder", [], "run folder holds its own weights"),
        (NAME, ["missing"], "does not exist"),
        ("lenet5", [], "zoo name of the model they fit"),
    ],
)
def test_visualize_with_weights_usage_errors_are_one_line(weights, tmp_path, capsys, source, extra, detail):
    (tmp_path / "folder").mkdir()
    run_dir = str(tmp_path / "folder") if source == "folder" else source
    path = str(tmp_path / "missing.npz") if extra else str(weights)
    assert main(["visualize", run_dir, "--weights", path, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and detail in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
