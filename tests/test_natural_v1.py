"""The natural-image ConvNet meets the V1 benchmark: run folders load, the centre unit is read at the field's scale."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from v1sim.biology import ModelSpec, build_population
from v1sim.biology.benchmark import IMAGE_SIZE
from v1sim.cli import main
from v1sim.errors import CheckpointError, InputError
from v1sim.nn import models
from v1sim.physiology import ConvNetLayer
from v1sim.physiology.convnet_units import fully_convolutional, load_run_network


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory):
    """A one-epoch sparse_conv run on 640 patches (well under a second of training)."""
    out = tmp_path_factory.mktemp("runs") / "sparse_conv"
    argv = ["train", "sparse_conv", "--epochs", "1", "--limit", "640", "--out", str(out), "--quiet", "--json"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def five_class_run(tmp_path_factory):
    """LeNet-5 trained on digits 5-9 only: a 5-way classifier."""
    out = tmp_path_factory.mktemp("runs") / "lenet5_59"
    argv = ["train", "lenet5", "--classes", "5-9", "--epochs", "1", "--limit", "200", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    return out


def test_a_sparse_conv_run_loads_with_its_trained_filters(sparse_run):
    assert json.loads((sparse_run / "run.json").read_text())["num_classes"] is None
    model, run = load_run_network(sparse_run)
    assert run["model"] == "sparse_conv" and not model.training and fully_convolutional(model)
    saved = np.load(sparse_run / "best.npz", allow_pickle=False)
    np.testing.assert_array_equal(model.conv1.weight.data, saved["model/conv1.weight"])
    pop = ConvNetLayer.from_run(sparse_run, "conv1")
    assert (pop.n_units, pop.read_from, pop.image_size, pop.crop) == (64, "relu1", 12, None)


def test_load_trained_reads_a_run_without_a_classifier(sparse_run, tmp_path):
    from v1sim.nn.transfer import load_trained

    model, run = load_trained(sparse_run, checkpoint="last")
    saved = np.load(sparse_run / "last.npz", allow_pickle=False)
    assert run["model"] == "sparse_conv" and run["num_classes"] is None and not model.training
    np.testing.assert_array_equal(model.conv1.weight.data, saved["model/conv1.weight"])
    broken = tmp_path / "broken"  # a run.json whose input shape is not three sizes: a checkpoint error, not a crash
    broken.mkdir()
    (broken / "run.json").write_text(json.dumps({**run, "input_shape": [1, "12", 12]}))
    with pytest.raises(CheckpointError, match="input_shape"):
        load_trained(broken)


def test_visualize_shows_a_natural_image_run_on_whitened_patches(sparse_run, tmp_path, capsys):
    out = tmp_path / "vis"
    argv = ["visualize", str(sparse_run), "--layer", "conv1", "--units", "4", "--top", "3", "--steps", "2"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == "sparse_conv" and summary["dataset"].startswith("whitened 12-px patches")
    assert summary["layers"]["conv1"]["size"] == [12, 12] and summary["layers"]["decoder"]["size"] == [23, 23]
    for name in ("filters", "activations", "top_patches", "maximization", "receptive_fields"):
        assert (out / f"{name}.png").stat().st_size > 1000, name


def test_visualize_of_a_run_the_network_does_not_fit_is_one_line(sparse_run, tmp_path, capsys):
    run = json.loads((sparse_run / "run.json").read_text())
    bad = tmp_path / "bad"  # a LeNet-5 run.json over sparse_conv's checkpoint
    bad.mkdir()
    (bad / "run.json").write_text(json.dumps({**run, "model": "lenet5", "input_shape": [1, 32, 32]}))
    (bad / "last.npz").write_bytes((sparse_run / "last.npz").read_bytes())
    assert main(["visualize", str(bad), "--out", str(tmp_path / "vis"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("v1sim visualize:") and err.count("\n") == 1 and "Traceback" not in err


def test_the_centre_unit_of_a_wide_image_is_its_central_patch_through_the_filters(sparse_run):
    """Known answer: at image_size 128 the centre unit reads pixels 58..69 with the unit-norm filters, then ReLU."""
    pop = ConvNetLayer.from_run(sparse_run, "conv1", image_size=IMAGE_SIZE, fov=8.0)
    assert (pop.crop, pop.input_size, pop.ppd) == (12, 12, IMAGE_SIZE / 8.0)
    saved = np.load(sparse_run / "best.npz", allow_pickle=False)
    w = saved["model/conv1.weight"][:, 0].astype(np.float64)
    w /= np.sqrt((w**2).sum(axis=(1, 2), keepdims=True))
    b = saved["model/conv1.bias"].astype(np.float64)
    images = np.random.default_rng(0).random((3, IMAGE_SIZE, IMAGE_SIZE))
    lo = (IMAGE_SIZE - 12 + 1) // 2  # the full map is 117 wide: its centre unit (index 58) starts at pixel 58
    expected = np.maximum(np.einsum("nij,kij->nk", images[:, lo : lo + 12, lo : lo + 12], w) + b, 0)
    np.testing.assert_allclose(pop.responses(images), expected, rtol=1e-4, atol=1e-5)
    whole = ConvNetLayer(pop.model, "conv1", image_size=IMAGE_SIZE, fov=8.0)  # no crop: the 117 x 117 map
    np.testing.assert_allclose(pop.responses(images), whole.responses(images), rtol=1e-4, atol=1e-5)


def test_a_five_class_run_loads_with_its_five_way_classifier(five_class_run):
    model, _ = load_run_network(five_class_run)
    assert model.output.out_features == 5 and not fully_convolutional(model)
    pop = ConvNetLayer.from_run(five_class_run, "c1", image_size=IMAGE_SIZE)  # a classifier is shrunk, not cropped
    assert (pop.n_units, pop.input_size, pop.crop) == (6, 32, None)


def test_the_benchmark_builds_the_natural_net_at_sixteen_pixels_per_degree(sparse_run):
    pop = build_population(ModelSpec(str(sparse_run)))
    assert (pop.image_size, pop.crop, pop.ppd, pop.read_from) == (IMAGE_SIZE, 12, 16.0, "relu1")
    untrained = build_population(ModelSpec("sparse_conv"))
    assert (untrained.image_size, untrained.crop, untrained.n_units) == (IMAGE_SIZE, 12, 64)
    lenet = build_population(ModelSpec("lenet5"))  # unchanged: a classifier sees the field at its input side
    assert (lenet.image_size, lenet.crop) == (32, None)


def test_benchmark_cli_scores_a_sparse_conv_run(sparse_run, tmp_path, capsys):
    assert main(["benchmark", str(sparse_run), "--json", "--out", str(tmp_path)]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert set(record) == {"model", "score", "score_measured", "ceiling", "properties"}
    assert len(record["properties"]) == 13
    assert math.isfinite(record["score"]) and 0 < record["score"] <= 1
    saved = json.loads((tmp_path / "sparse_conv" / "benchmark.json").read_text())
    assert saved["n_units"] == 64 and saved["score"] == record["score"]


@pytest.mark.parametrize(("crop", "input_size"), [(13, None), (12, 10), (0, None)])
def test_a_crop_larger_than_the_image_or_unlike_input_size_is_refused(crop, input_size):
    model = models.build("sparse_conv", rng=0)
    with pytest.raises(InputError) as exc:
        ConvNetLayer(model, "conv1", image_size=12, input_size=input_size, crop=crop)
    assert exc.value.argument == "crop"


def test_a_folder_without_a_run_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError):
        load_run_network(tmp_path)
    with pytest.raises(TypeError):
        fully_convolutional("sparse_conv")


def _script(name):
    import importlib.util
    import sys

    from v1sim.figures import default_scripts_dir

    spec = importlib.util.spec_from_file_location(f"{name}_under_test", default_scripts_dir() / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there, as v1sim.figures arranges
    spec.loader.exec_module(module)
    return module


def test_learned_rf_figure_draws_fits_beyond_the_axes_as_outward_arrows_inside_them():
    fig = _script("fig_learned_rf_vs_v1")
    (xlo, xhi), (ylo, yhi) = fig.X_LIMITS, fig.Y_LIMITS
    nx = np.array([0.0, 0.5, 2 * xhi, 0.5, 0.5])
    ny = np.array([0.5, 0.0, 0.5, 2 * yhi, 0.5])
    px, py, marker = fig._edge_markers(nx, ny)
    assert marker.tolist() == ["<", "v", ">", "^", "o"]
    assert np.all((px > xlo) & (px < xhi) & (py > ylo) & (py < yhi))
    assert (px[4], py[4]) == (0.5, 0.5)


def test_feature_figure_picks_the_grating_like_filters_first():
    fig = _script("fig_feature_visualization")
    y, x = np.mgrid[-5.5:6, -5.5:6]
    grating = np.cos(2 * np.pi * 3 * x / 12)  # all its power at +-3 cycles per 12 pixels
    blob = np.exp(-(x**2 + y**2) / 8)
    noise = np.random.default_rng(0).standard_normal((12, 12))
    bank = np.stack([noise, blob, grating])[:, None]
    assert fig.grating_like_units(bank, n=3).tolist()[0] == 2
    assert fig.grating_like_units(bank, n=3).tolist()[-1] == 0  # white noise spreads its power


def test_codes_and_transfer_flags_refuse_a_natural_image_run_in_one_line(sparse_run, tmp_path, capsys):
    for argv in (
        ["codes", str(sparse_run)],
        ["codes", str(sparse_run), "--layer", "nope"],
        ["train", "sparse_conv", "--classes", "0-4", "--out", str(tmp_path / "a")],
        ["train", "sparse_conv", "--init", str(sparse_run), "--out", str(tmp_path / "b")],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert "without labels" in err, err
