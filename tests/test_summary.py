"""v1sim.nn.summary and ``v1sim summary``: per-layer tables, the lecture's VGG-16 memory list, JSON, CLI."""

from __future__ import annotations

import json
import math
import time
import tracemalloc

import pytest

from v1sim import nn
from v1sim.cli import build_parser, main
from v1sim.errors import InputError
from v1sim.nn import models
from v1sim.nn.summary import Summary, parse_shape, summarize

K, M = 1e3, 1e6

# The lecture's VGG-16 list, line by line: [H x W x C], "memory" (values, as the lecture rounds them) and
# "params" (weights, "not counting biases").
VGG16_LECTURE = [
    ("INPUT", (224, 224, 3), 150 * K, 0),
    ("CONV3-64", (224, 224, 64), 3.2 * M, 1_728),
    ("CONV3-64", (224, 224, 64), 3.2 * M, 36_864),
    ("POOL2", (112, 112, 64), 800 * K, 0),
    ("CONV3-128", (112, 112, 128), 1.6 * M, 73_728),
    ("CONV3-128", (112, 112, 128), 1.6 * M, 147_456),
    ("POOL2", (56, 56, 128), 400 * K, 0),
    ("CONV3-256", (56, 56, 256), 800 * K, 294_912),
    ("CONV3-256", (56, 56, 256), 800 * K, 589_824),
    ("CONV3-256", (56, 56, 256), 800 * K, 589_824),
    ("POOL2", (28, 28, 256), 200 * K, 0),
    ("CONV3-512", (28, 28, 512), 400 * K, 1_179_648),
    ("CONV3-512", (28, 28, 512), 400 * K, 2_359_296),
    ("CONV3-512", (28, 28, 512), 400 * K, 2_359_296),
    ("POOL2", (14, 14, 512), 100 * K, 0),
    ("CONV3-512", (14, 14, 512), 100 * K, 2_359_296),
    ("CONV3-512", (14, 14, 512), 100 * K, 2_359_296),
    ("CONV3-512", (14, 14, 512), 100 * K, 2_359_296),
    ("POOL2", (7, 7, 512), 25 * K, 0),
    ("FC", (1, 1, 4096), 4096, 102_760_448),
    ("FC", (1, 1, 4096), 4096, 16_777_216),
    ("FC", (1, 1, 1000), 1000, 4_096_000),
]
LECTURE_TOTAL_MEMORY_VALUES = 24 * M  # "TOTAL memory: 24M * 4 bytes ~= 93MB / image"
LECTURE_TOTAL_MEMORY_MB = 93
LECTURE_TOTAL_PARAMS = 138 * M


@pytest.fixture(scope="module")
def vgg16():
    return summarize("vgg16")


def test_vgg16_memory_and_params_line_by_line(vgg16):
    model = models.build("vgg16", materialize=False)
    stored = [row for row in vgg16.layers if row.activations > 0]  # ReLU, dropout, flatten store nothing new
    assert len(stored) == len(VGG16_LECTURE)
    for row, (what, size, memory, params) in zip(stored, VGG16_LECTURE):
        shape = row.output_shape
        assert ((shape[1], shape[2], shape[0]) if len(shape) == 3 else (1, 1) + shape) == size, what
        assert row.activations == size[0] * size[1] * size[2]
        assert row.activations == pytest.approx(memory, rel=0.005), what  # the lecture's rounding
        layer = None if row.name == "input" else model[row.name]
        assert (layer.weight.size if hasattr(layer, "weight") else 0) == params, what
        assert row.type == {"INPUT": "Input", "POOL2": "MaxPool2d", "FC": "Linear"}.get(what, "Conv2d")


def test_vgg16_total_memory_the_lecture_gets_wrong(vgg16):
    # The sum of the lecture's own list is 15.2 M values = 61 MB per image (float32), not "24M * 4 bytes ~= 93MB"
    # (nor does 24 M * 4 bytes give 93 MB: 96 MB = 91.6 MiB). The code's value stands.
    exact = sum(h * w * c for _, (h, w, c), _, _ in VGG16_LECTURE)
    assert vgg16.total_activations == exact == 15_237_608
    assert vgg16.total_memory == 4 * exact == pytest.approx(61.0e6, rel=0.001)
    assert vgg16.total_activations < 0.65 * LECTURE_TOTAL_MEMORY_VALUES
    assert vgg16.total_memory / 1e6 < 0.66 * LECTURE_TOTAL_MEMORY_MB
    # "Most memory is in early CONV, most params are in late FC":
    first_two = sum(r.activations for r in vgg16.layers if r.name in ("conv1_1", "conv1_2"))
    fcs = sum(r.params for r in vgg16.layers if r.type == "Linear")
    assert first_two > 0.4 * vgg16.total_activations and fcs > 0.89 * vgg16.total_params


def test_vgg16_totals(vgg16):
    assert round(vgg16.total_params / M) == LECTURE_TOTAL_PARAMS / M
    assert vgg16.total_params == 138_357_544
    assert vgg16.total_macs == 15_470_264_320 and vgg16.total_flops == 2 * vgg16.total_macs


@pytest.mark.parametrize("name", ["vgg16", "googlenet", "resnet50", "resnet20", "alexnet-2gpu"])
def test_rows_add_up_at_every_depth(name):
    s = summarize(name)
    model = models.build(name, materialize=False)
    assert s.total_params == model.num_parameters()
    top = [r for r in s.layers if r.depth == 1]
    assert sum(r.params for r in top) == s.total_params
    assert sum(r.macs for r in top) == s.total_macs
    assert sum(r.activations for r in top) == s.total_activations
    for i, row in enumerate(s.layers):  # a container's numbers aggregate its children (plus its own join)
        children = []
        for below in s.layers[i + 1 :]:
            if below.depth <= row.depth:
                break
            if below.depth == row.depth + 1:
                children.append(below)
        assert row.container == bool(children)
        if children:
            assert sum(c.params for c in children) == row.params
            own = row.activations - sum(c.activations for c in children)
            assert own in (0, math.prod(row.output_shape))
            if row.type == "Sequential":
                assert children[-1].output_shape == row.output_shape


def test_containers_are_indented_rows():
    s = summarize("resnet20")
    block = s["stage2.0"]
    assert block.type == "BasicBlock" and block.depth == 2 and block.container
    assert s["stage2.0.body.conv1"].depth == 4 and s["stage2.0.body.conv1"].output_shape == (32, 16, 16)
    assert s["stage2.0.shortcut"].type == "ZeroPadShortcut" and s["stage2.0.shortcut"].input_shape == (16, 32, 32)
    assert s["stage2.0.relu"].input_shape == (32, 16, 16)
    inc = summarize("googlenet")["inception3a"]
    assert inc.type == "Inception" and inc.output_shape == (256, 28, 28)
    text = s.to_text(depth=2)
    assert "stage2 (Sequential)" in text and "  0 (BasicBlock)" in text and "conv1 (Conv2d)" in text
    assert "body" not in text and "body" in s.to_text()


def test_resnet_flops_convention():
    s = summarize("resnet50")
    assert s.total_macs == pytest.approx(3.8e9, rel=0.03)  # He et al.'s "3.8 x 10^9 FLOPs" are multiply-adds
    assert s.total_flops == 2 * s.total_macs


def test_to_dict_is_json_with_the_required_keys(vgg16):
    data = json.loads(json.dumps(vgg16.to_dict()))
    for key in ("total_params", "total_macs", "total_activations", "total_memory", "layers"):
        assert key in data
    for row in data["layers"]:
        assert {"name", "type", "output_shape", "params", "macs"} <= set(row)
    assert data["layers"][0]["name"] == "input" and data["layers"][1]["output_shape"] == [64, 224, 224]


def test_text_table(vgg16):
    text = str(vgg16)
    assert "conv1_1 (Conv2d)" in text and "(64, 224, 224)" in text and "138,357,544" in text
    assert "15,237,608 values" in text and "FLOPs = 2 x MACs" in text


def test_summarize_a_module_and_input_errors():
    net = nn.Sequential(nn.Conv2d(3, 10, 5, 1, 2, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(10 * 32 * 32, 2, rng=0))
    s = summarize(net, (3, 32, 32))
    assert isinstance(s, Summary) and s["0"].params == 760 and s.output_shape == (2,)
    single = summarize(nn.Conv2d(3, 10, 5, rng=0), "3x32x32")
    assert [r.name for r in single.layers] == ["input", "Conv2d"] and single.output_shape == (10, 28, 28)
    for call, argument, message in [
        (lambda: summarize(net), "input_shape", "input_shape is required"),
        (lambda: summarize(net, (1, 32, 32)), "input_shape", "layer '0'.*3 input channels"),
        (lambda: summarize("resnet51"), "model_or_name", "unknown model"),
        (lambda: summarize("lenet5", variant="fc"), "build_options", "takes no option variant"),
        (lambda: summarize(net, (3, 32, 32), variant="fc"), "build_options", "need a model name"),
        (lambda: summarize(3.5), "model_or_name", "Module or a model name"),
    ]:
        with pytest.raises(InputError, match=message) as exc:
            call()
        assert exc.value.argument == argument
    assert summarize("resnet20", "3,64,64")["stage3"].output_shape == (64, 16, 16)
    for bad in ("3,224", "a,b,c", "3,0,4", (3, -1, 2), 7):
        with pytest.raises(InputError) as exc:
            parse_shape(bad)
        assert exc.value.argument == "input_shape"


def test_depth_cuts_rows_in_text_and_json_and_must_be_nonnegative():
    s = summarize("resnet20")
    assert [r["depth"] for r in s.to_dict(depth=1)["layers"]] == [r.depth for r in s.layers if r.depth <= 1]
    assert s.to_dict(depth=1)["total_params"] == s.total_params
    assert "stage1 (Sequential)" in s.to_text(depth=1) and "block" not in s.to_text(depth=1)
    assert "conv1" not in s.to_text(depth=0) and "Total params: 269,722" in s.to_text(depth=0)  # totals only
    for bad in (-1, 1.5):
        with pytest.raises(InputError) as exc:
            s.to_text(depth=bad)
        assert exc.value.argument == "depth"


def test_summary_of_a_big_model_allocates_nothing():
    tracemalloc.start()
    t0 = time.perf_counter()
    s = summarize("vgg19")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert s.total_params == 143_667_240
    assert elapsed < 1.0 and peak < 20e6


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------


def test_cli_summary_json(capsys):
    assert main(["summary", "vgg16", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 138_357_544 and data["total_activations"] == 15_237_608
    assert {"total_macs", "layers"} <= set(data)


def test_cli_summary_text_and_options(capsys):
    assert main(["summary", "alexnet"]) == 0
    out = capsys.readouterr().out
    assert "conv1 (Conv2d)" in out and "(96, 55, 55)" in out and "(256, 6, 6)" in out
    assert main(["summary", "resnet20", "--input", "3,64,64", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "(64, 16, 16)" in out and "BasicBlock" not in out
    assert main(["summary", "fc-vs-conv", "--variant", "fc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == 1_600_040_000
    assert main(["summary", "--list"]) == 0
    assert "alphago-policy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["summary", "resnet51"], "unknown model 'resnet51'; known: lenet5"),
        (["summary"], "give a MODEL"),
        (["summary", "lenet5", "--input", "1,x,32"], "argument --input: input_shape must be integers"),
        (["summary", "lenet5", "--input", "1,8,8"], "does not fit"),
        (["summary", "vgg16", "--variant", "lc"], "takes no option variant"),
    ],
)
def test_cli_summary_usage_errors(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_summary_help_teaches(capsys):
    assert "summary" in build_parser().format_help()
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "v1sim summary vgg16" in text and "FLOPs" in text and "--input C,H,W" in text
