"""Feature visualisation (v1sim.visualize, ``v1sim visualize``): receptive fields worked out by hand, the
input-gradient support as their oracle, top patches against a brute-force search, monotone activation
maximisation, mosaics, and the command line's files, --json and one-line errors."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest

from v1sim import hierarchy, nn
from v1sim.cli import main
from v1sim.errors import InputError
from v1sim.nn import models
from v1sim.visualize import (
    ReceptiveField,
    filter_images,
    layer_outputs,
    maximize_activation,
    receptive_field,
    receptive_fields,
    tile,
    top_patches,
    unit_gradient,
)
from v1sim.visualize.finite_difference import (
    MAX_FIELD_PIXELS,
    finite_difference_gradient,
    hierarchy_unit_gradient,
    unit_holder,
)


def _support_box(grad):
    """(top, left, bottom, right) of the pixels where a (1, C, H, W) input gradient is non-zero."""
    rows, cols = np.nonzero(np.abs(grad[0]).sum(axis=0))
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


def test_lenet5_receptive_fields_follow_the_papers_layer_table():
    # LeCun et al. (1998), Fig. 2, on a 32x32 input; r: field size, j: jump, u: first input pixel of unit 0.
    # Input: r = 1, j = 1, u = 0. Each window layer: r += (k - 1) j, then j *= s (no padding: u stays 0).
    #   C1 5x5, stride 1:      r = 1 + 4*1 = 5,   j = 1   (28x28 maps: 32 - 5 + 1)
    #   S2 2x2, stride 2:      r = 5 + 1*1 = 6,   j = 2   (14x14)
    #   C3 5x5, stride 1:      r = 6 + 4*2 = 14,  j = 2   (10x10)
    #   S4 2x2, stride 2:      r = 14 + 1*2 = 16, j = 4   (5x5)
    #   C5 5x5 on 5x5 maps:    r = 16 + 4*4 = 32, j = 4   (1x1): the whole input, as the paper says of C5
    want = {"c1": (5, 1, 28), "s2": (6, 2, 14), "c3": (14, 2, 10), "s4": (16, 4, 5), "c5": (32, 4, 1)}
    fields = receptive_fields(models.build("lenet5", rng=0), (1, 32, 32))
    for name, (size, jump, side) in want.items():
        assert fields[name] == ReceptiveField((size, size), (jump, jump), (0, 0), (side, side)), name
    assert fields["tanh3"] == fields["c3"] and fields["output"].size == (32, 32)


def test_lenet5_field_is_where_the_input_gradient_lives():
    # the computed window equals the support of d unit / d input (random weights: no pixel of the field is
    # exactly ignored), the oracle that does not use the formulas
    model = models.build("lenet5", rng=1).double()
    x = np.random.default_rng(0).random((1, 1, 32, 32))
    for layer, (row, col) in (("c3", (3, 6)), ("s4", (2, 1)), ("c1", (27, 0))):
        _, grad, pos = unit_gradient(model, layer, 0, x, position=(row, col))
        assert _support_box(grad) == receptive_field(model, layer, (1, 32, 32)).window(*pos), layer


def test_hand_built_stride_and_padding_stack():
    # conv a: 3x3, stride 2, padding 1:  r = 3,             j = 2, u = 0 - 1*1 = -1
    # pool:   3x3, stride 2, padding 1:  r = 3 + 2*2 = 7,   j = 4, u = -1 - 1*2 = -3
    # conv b: 5x5, stride 1, padding 2:  r = 7 + 4*4 = 23,  j = 4, u = -3 - 2*4 = -11
    # maps on 33x33: (33 + 2 - 3)//2 + 1 = 17, (17 + 2 - 3)//2 + 1 = 9, 9
    net = nn.Sequential(
        OrderedDict(
            a=nn.Conv2d(1, 2, 3, stride=2, padding=1, rng=0),
            relu=nn.ReLU(),
            pool=nn.AvgPool2d(3, stride=2, padding=1),
            b=nn.Conv2d(2, 3, 5, padding=2, rng=1),
        )
    ).double()
    fields = receptive_fields(net, (1, 33, 33))
    assert fields["a"] == ReceptiveField((3, 3), (2, 2), (-1, -1), (17, 17))
    assert fields["pool"] == ReceptiveField((7, 7), (4, 4), (-3, -3), (9, 9))
    assert fields["b"] == ReceptiveField((23, 23), (4, 4), (-11, -11), (9, 9))
    x = np.random.default_rng(2).random((1, 1, 33, 33)) + 0.5  # positive: every ReLU of the field passes
    _, grad, _ = unit_gradient(net, "b", 1, x, position=(4, 5))
    assert _support_box(grad) == (5, 9, 28, 32) == fields["b"].window(4, 5)
    # dilation (no v1sim layer has it yet): the effective kernel is d (k - 1) + 1
    assert ReceptiveField((1, 1), (1, 1), (0, 0), (9, 9)).after(3, 1, 2, 2).size == (5, 5)


def test_residual_branches_take_the_union_and_neocognitron_stages_their_windows():
    fields = receptive_fields(models.build("resnet20", rng=0), (3, 32, 32))
    # stage1.0: body conv1 3x3 + conv2 3x3 on the stem's 3x3 field (r 3 -> 5 -> 7), shortcut identity (3)
    assert fields["stage1.0"].size == (7, 7) and fields["stage1.0.shortcut"].size == (3, 3)
    model = hierarchy.make_model("neocognitron")
    cfg = model.config
    f = receptive_fields(model)
    # UG, US1 ("same" padding, stride 1) and UC1 (c1_size at stride 1) add their windows less one pixel each
    assert f["UG"].size == (cfg.ug_size,) * 2 and f["US1"].size == (cfg.ug_size + cfg.s1_size - 1,) * 2
    assert f["UC1"].size == (cfg.ug_size + cfg.s1_size + cfg.c1_size - 2,) * 2
    assert f["UC1"].start == (-(cfg.ug_size // 2) - cfg.s1_size // 2 - cfg.c1_padding,) * 2


def test_unknown_layer_lists_the_names():
    with pytest.raises(InputError, match="c1, tanh1") as exc:
        receptive_field(models.build("lenet5", rng=0), "conv9", (1, 32, 32))
    assert exc.value.argument == "layer"


def _small_net():
    # c: 3x3 pad 1 -> r 3, j 1, u -1; pool 2x2 -> r 4, j 2, u -1; d: 3x3 pad 1 -> r 8, j 2, u -3
    return nn.Sequential(
        OrderedDict(
            c=nn.Conv2d(1, 3, 3, padding=1, rng=0),
            relu=nn.ReLU(),
            pool=nn.AvgPool2d(2),
            d=nn.Conv2d(3, 4, 3, padding=1, rng=1),
        )
    )


def test_top_patches_are_the_k_highest_responses_and_the_field_under_them():
    model = _small_net()
    rng = np.random.default_rng(3)
    x = rng.random((23, 1, 12, 12)).astype(np.float32)
    x[5] = x[4]  # a tie: the lower index ranks first
    k = 5
    top = top_patches(model, "d", x, k=k, batch_size=7)
    maps = layer_outputs(model, x, ["d"])["d"]  # (N, 4, 6, 6)
    padded = np.pad(x, ((0, 0), (0, 0), (8, 8), (8, 8)))
    for u in range(4):
        best = []  # brute force: every image's peak, found by scanning positions in row-major order
        for n in range(len(x)):
            value, where = -np.inf, None
            for i in range(6):
                for j in range(6):
                    if maps[n, u, i, j] > value:
                        value, where = maps[n, u, i, j], (i, j)
            best.append((-value, n, where))
        best.sort(key=lambda t: (t[0], t[1]))
        assert top.image_index[u].tolist() == [n for _, n, _ in best[:k]]
        np.testing.assert_array_equal(top.values[u], [-v for v, _, _ in best[:k]])
        for slot, (_, n, (i, j)) in enumerate(best[:k]):
            assert tuple(top.position[u, slot]) == (i, j)
            top_row, left = -3 + 2 * i + 8, -3 + 2 * j + 8  # u + i j, shifted into the padded image
            np.testing.assert_array_equal(top.crops[u, slot], padded[n, :, top_row : top_row + 8, left : left + 8])
    assert top.field.size == (8, 8)


def test_top_patches_refuses_more_patches_than_images():
    with pytest.raises(InputError) as exc:
        top_patches(_small_net(), "d", np.zeros((3, 1, 12, 12), np.float32), k=4)
    assert exc.value.argument == "k"


def test_unit_gradient_equals_central_differences():
    model = models.build("lenet5", rng=2).double()
    x = np.random.default_rng(4).random((1, 1, 32, 32))
    a, grad, pos = unit_gradient(model, "tanh3", 5, x)
    assert pos == (5, 5)
    eps = 1e-6
    for r, c in ((10, 12), (14, 14), (20, 9)):  # inside the 14x14 field at rows/cols 10..23
        up, down = x.copy(), x.copy()
        up[0, 0, r, c] += eps
        down[0, 0, r, c] -= eps
        numeric = (unit_gradient(model, "tanh3", 5, up)[0] - unit_gradient(model, "tanh3", 5, down)[0]) / (2 * eps)
        assert numeric[0] == pytest.approx(grad[0, 0, r, c], rel=1e-6, abs=1e-10)


def test_activation_maximisation_climbs_monotonically():
    model = models.build("lenet5", rng=3).double()
    # without the blur every accepted step raises J = a - (l2/2)||x||^2 (steps that would not are halved)
    run = maximize_activation(model, "c3", 2, input_shape=(1, 32, 32), steps=25, lr=0.05, blur_every=0, rng=0)
    assert np.all(np.diff(run.objective) >= 0)
    assert run.responses[-1] > run.responses[0] + 1.0
    assert run.image.shape == (1, 32, 32) and run.image.min() >= 0 and run.image.max() <= 1
    # no penalty: the response itself never falls
    plain = maximize_activation(model, "c3", 2, input_shape=(1, 32, 32), steps=10, l2=0.0, blur_every=0, rng=0)
    assert np.all(np.diff(plain.responses) >= 0)
    # the default regulariser (blur every 4 steps) may dip, but the ascent still wins
    blurred = maximize_activation(model, "c3", 2, input_shape=(1, 32, 32), steps=12, rng=0)
    assert blurred.responses[-1] > blurred.responses[0] + 0.5


def test_maximisation_refuses_a_layer_inside_a_block_and_a_missing_unit():
    with pytest.raises(InputError, match="inside") as exc:
        maximize_activation(models.build("resnet20", rng=0), "stage1.0.body.conv1", 0, input_shape=(3, 32, 32))
    assert exc.value.argument == "layer"
    with pytest.raises(InputError) as exc:
        maximize_activation(models.build("lenet5", rng=0), "c1", 6, input_shape=(1, 32, 32), steps=1)
    assert exc.value.argument == "unit"


def test_finite_differences_equal_the_backward_pass_on_a_convnet():
    # the same function: the one-batch central differences of the response, against Module.backward (float64)
    model = models.build("lenet5", rng=5).double()
    x = np.random.default_rng(6).random((2, 1, 32, 32))
    a, grad, pos = unit_gradient(model, "tanh3", 3, x)

    def response(batch):
        return unit_gradient(model, "tanh3", 3, batch, pos)[0]

    value, numeric = finite_difference_gradient(response, x, step=1e-5)
    np.testing.assert_allclose(value, a, rtol=1e-12)
    assert np.abs(grad).max() > 1e-3  # a live unit: the comparison is not between zeros
    np.testing.assert_allclose(numeric, grad, rtol=1e-6, atol=1e-6 * np.abs(grad).max())


@pytest.mark.parametrize(("name", "stage"), [("neocognitron", "US1"), ("neocognitron", "UC1"), ("hmax", "UC1")])
def test_hierarchy_unit_on_its_small_holder_is_the_unit_on_the_full_image(name, stage):
    # the oracle: the full-size forward with the field image pasted under a unit whose window lies inside
    model = hierarchy.make_model(name)
    field = receptive_field(model, stage)
    crops = np.random.default_rng(1).random((3, 1) + field.size).astype(np.float32)
    value, grad, _ = hierarchy_unit_gradient(model, stage, 1, crops)
    row = col = -(field.start[0] // field.jump[0]) + 1  # the second unit whose window is inside the image
    top, left, bottom, right = field.window(row, col)
    full = np.zeros((3, 1, model.config.image_size, model.config.image_size), np.float32)
    full[:, :, top:bottom, left:right] = crops
    np.testing.assert_allclose(value, model.forward(full, upto=stage)[stage][:, 1, row, col], rtol=1e-5, atol=1e-7)
    assert grad.shape == crops.shape and np.isfinite(grad).all() and np.abs(grad).max() > 0


def test_neocognitron_ascent_by_finite_differences_climbs_monotonically():
    model = hierarchy.make_model("neocognitron")
    for stage in ("US1", "UC1"):
        side = receptive_field(model, stage).size[0]
        run = maximize_activation(model, stage, 2, steps=15, l2=0.0, blur_every=0, rng=0)
        assert run.image.shape == (1, side, side) and run.image.min() >= 0 and run.image.max() <= 1
        assert np.all(np.diff(run.responses) >= 0), stage  # no penalty, no blur: accepted steps never fall
        assert run.responses[-1] > run.responses[0] + 0.05, stage
        penalised = maximize_activation(model, stage, 2, steps=8, l2=0.01, blur_every=0, rng=0)
        assert np.all(np.diff(penalised.objective) >= 0), stage


@pytest.fixture(scope="module")
def neocognitron_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "neocognitron"
    assert main(["train", "neocognitron", "--limit", "150", "--out", str(out), "--quiet", "--json"]) == 0
    return out


def test_a_stage_too_large_for_finite_differences_gets_a_clear_message(neocognitron_run, tmp_path, capsys):
    from v1sim.visualize import load_network

    model = load_network(neocognitron_run).model
    side = receptive_field(model, "US4").size[0]
    assert side * side > MAX_FIELD_PIXELS
    with pytest.raises(InputError, match=f"{side}x{side} = {side * side} pixels.*at most {MAX_FIELD_PIXELS}") as exc:
        maximize_activation(model, "US4", 0, steps=1)
    assert exc.value.argument == "layer"
    with pytest.raises(InputError, match="at most"):
        unit_holder(model, "UC4")
    capsys.readouterr()
    argv = ["visualize", str(neocognitron_run), "--layer", "US4", "--units", "2", "--top", "2", "--json"]
    assert main([*argv, "--out", str(tmp_path)]) == 0  # the other figures are still written
    summary = json.loads(capsys.readouterr().out)
    assert summary["maximization"] is None and "at most 1600" in summary["maximization_note"]
    assert not (tmp_path / "maximization.png").exists() and (tmp_path / "top_patches.png").exists()


def test_cli_maximises_a_few_neocognitron_units(neocognitron_run, tmp_path, capsys):
    capsys.readouterr()
    argv = ["visualize", str(neocognitron_run), "--layer", "UC1", "--units", "6", "--top", "2", "--steps", "4"]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [m["unit"] for m in summary["maximization"]] == [0, 1, 2, 3]  # HIERARCHY_MAX_UNITS of the 6 shown
    assert all(m["final"] >= m["initial"] for m in summary["maximization"]) and summary["maximization_note"] is None
    assert (tmp_path / "maximization.png").read_bytes()[:4] == b"\x89PNG"


def test_filter_images_show_the_strongest_channel_and_tiles_keep_zero_grey():
    w = np.zeros((2, 3, 2, 2))
    w[0, 1] = [[1, -2], [0, 0]]
    w[0, 2] = 0.5
    w[1, 0] = -3
    images, channels = filter_images(w)
    assert channels.tolist() == [1, 0]
    np.testing.assert_array_equal(images[0], w[0, 1])
    mosaic = tile(images, columns=2, pad=1, fill=1.0)
    assert mosaic.shape == (2, 5)
    np.testing.assert_allclose(mosaic[:, :2], [[0.75, 0.0], [0.5, 0.5]])  # 0.5 + x / (2 * 2)
    assert np.all(mosaic[:, 2] == 1.0) and np.all(mosaic[:, 3:] == 0.0)


def test_hierarchy_layer_outputs_are_its_stage_maps():
    model = hierarchy.make_model("neocognitron")
    x = np.random.default_rng(0).random((2, 28, 28)).astype(np.float32)
    maps = model.forward(x)
    outs = layer_outputs(model, x)
    assert list(outs) == ["UG", "US1", "UC1"]
    for name, value in outs.items():
        np.testing.assert_array_equal(value, maps[name])


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "lenet5"
    argv = ["train", "lenet5", "--epochs", "1", "--limit", "128", "--out", str(out), "--quiet", "--json"]
    assert main(argv) == 0
    return out


def test_cli_writes_the_figures_and_json(lenet_run, tmp_path, capsys):
    capsys.readouterr()
    argv = ["visualize", str(lenet_run), "--out", str(tmp_path), "--units", "2", "--top", "3", "--steps", "3"]
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {
        "run",
        "model",
        "kind",
        "layer",
        "layers",
        "units",
        "top_patches",
        "maximization",
        "maximization_note",
        "dataset",
        "image",
        "files",
    }
    assert summary["layer"] == "c3" and summary["units"] == [0, 1] and summary["kind"] == "convnet"
    assert summary["layers"]["c3"] == {"size": [14, 14], "jump": [2, 2], "start": [0, 0], "map_shape": [10, 10]}
    assert len(summary["top_patches"][0]["image_index"]) == 3 and len(summary["maximization"]) == 2
    names = sorted(p.rsplit("/", 1)[-1] for p in summary["files"])
    assert names == ["activations.png", "filters.png", "maximization.png", "receptive_fields.png", "top_patches.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("extra", "flag", "detail"),
    [(["--layer", "conv9"], "--layer", "c1, tanh1, s2"), (["--image", "5000"], "--image", "below 1000")],
)
def test_cli_usage_errors_are_one_line(lenet_run, tmp_path, capsys, extra, flag, detail):
    assert main(["visualize", str(lenet_run), "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err and detail in err and "Traceback" not in err


def test_cli_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["visualize", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a v1sim train run folder" in err
    assert not (tmp_path / "o").exists()
