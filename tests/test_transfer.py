"""Transfer learning: freezing, learning-rate multipliers, --init, class subsets, CNN codes and retrieval."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v1sim.cli import main
from v1sim.datasets import load_digits
from v1sim.errors import InputError
from v1sim.nn import SGD, Linear, models
from v1sim.nn.codes import code_layer, extract_codes, nearest_neighbours, retrieval_precision
from v1sim.nn.optim import set_layer_rates
from v1sim.nn.recipes import prepare_images
from v1sim.nn.train import TrainConfig, fit
from v1sim.nn.transfer import load_trained, parse_classes, replace_classifier, select_classes


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits("test")
    return prepare_images(x[:96], (1, 32, 32)), y[:96], prepare_images(x[96:160], (1, 32, 32)), y[96:160]


def _fit(tmp_path, digits, name, **layer_settings):
    x, y, xt, yt = digits
    model = models.build("lenet5", rng=0)
    start = {k: v.copy() for k, v in model.state_dict().items()}
    config = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.9, weight_decay=1e-3, **layer_settings)
    fit(model, (x, y), (xt, yt), config, tmp_path / name, progress=False)
    return start, model.state_dict()


def test_frozen_layers_stay_bit_identical_and_the_others_train(tmp_path, digits):
    start, end = _fit(tmp_path, digits, "frozen", freeze=("c1", "c5"))
    for key in ("c1.weight", "c1.bias", "c5.weight", "c5.bias"):
        assert np.array_equal(start[key], end[key]), key
    for key in ("c3.weight", "f6.weight", "output.weight"):
        assert not np.array_equal(start[key], end[key]), key


def test_multiplier_zero_equals_freezing_bit_for_bit(tmp_path, digits):
    _, frozen = _fit(tmp_path, digits, "frozen", freeze=("c1", "c3"))
    _, zero = _fit(tmp_path, digits, "zero", lr_mult=(("c1", 0.0), ("c3", 0.0)))
    assert frozen.keys() == zero.keys()
    for key in frozen:
        assert np.array_equal(frozen[key], zero[key]), key


def test_a_multiplier_scales_the_step_as_the_learning_rate_does():
    """lr 0.1 with every multiplier 0.25 is lr 0.025 (momentum and weight decay included)."""
    rng = np.random.default_rng(1)
    a, b = Linear(4, 3, rng=0), Linear(4, 3, rng=0)
    for p in a.parameters():
        p.lr_mult = 0.25
    opt_a = SGD(a.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    opt_b = SGD(b.parameters(), lr=0.025, momentum=0.9, weight_decay=1e-2)
    for _ in range(3):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        g = rng.standard_normal((5, 3)).astype(np.float32)
        for m, opt in ((a, opt_a), (b, opt_b)):
            m.zero_grad()
            m(x)
            m.backward(g)
            opt.step()
    np.testing.assert_allclose(a.weight.data, b.weight.data, rtol=1e-6)


def test_layer_names_are_prefixes_and_unknown_names_list_the_known_ones():
    net = models.build("resnet20", rng=0)
    set_layer_rates(net, freeze=["stage1"], lr_mult=[("stage2.0", 0.5)])
    params = dict(net.named_parameters())
    assert all(not p.requires_grad for k, p in params.items() if k.startswith("stage1."))
    assert all(p.requires_grad for k, p in params.items() if not k.startswith("stage1."))
    assert {p.lr_mult for k, p in params.items() if k.startswith("stage2.0.")} == {0.5}
    assert {p.lr_mult for k, p in params.items() if not k.startswith("stage2.0.")} == {1.0}
    with pytest.raises(InputError, match="known: conv1, bn1, stage1") as exc:
        set_layer_rates(net, freeze=["stage"])  # a prefix is a whole name, not the start of one
    assert exc.value.argument == "freeze"


def test_replace_classifier_keeps_the_rest():
    net = models.build("lenet5", rng=0)
    before = net.state_dict()
    replace_classifier(net, 5, rng=1)
    after = net.state_dict()
    assert after["output.weight"].shape == (5, 84) and list(after) == list(before)
    assert all(np.array_equal(before[k], after[k]) for k in before if not k.startswith("output."))


def test_classes_are_parsed_and_relabelled():
    assert parse_classes("5-9") == (5, 6, 7, 8, 9)
    assert parse_classes("3,1,7-8") == (3, 1, 7, 8)
    for bad in ("5", "a-b", "1,1", "9-5", "-1,2", "0-1000000000"):  # the last refused before a billion-long list
        with pytest.raises(InputError) as exc:
            parse_classes(bad)
        assert exc.value.argument == "classes"
    x = np.arange(6.0)[:, None]
    xs, ys = select_classes(x, np.array([0, 7, 3, 7, 1, 3]), (7, 3))
    assert xs[:, 0].tolist() == [1.0, 2.0, 3.0, 5.0] and ys.tolist() == [0, 1, 0, 1]
    with pytest.raises(InputError, match=r"\[9\]"):
        select_classes(x, np.array([0, 7, 3, 7, 1, 3]), (7, 9))


# ----------------------------------------------------------------------------- codes and retrieval


def test_nearest_neighbours_on_a_line_are_known():
    points = np.array([[0.0], [1.0], [3.0], [7.0], [7.5]])
    np.testing.assert_array_equal(nearest_neighbours(points, [[2.9], [7.2]], 2), [[2, 1], [3, 4]])
    np.testing.assert_array_equal(nearest_neighbours(points, points, 1, exclude_self=True)[:, 0], [1, 0, 1, 4, 3])
    np.testing.assert_array_equal(nearest_neighbours(points, [[2.0]], 2), [[1, 2]])  # tie: the lower index


def test_nearest_neighbours_match_a_brute_force_oracle():
    rng = np.random.default_rng(3)
    codes, queries = rng.standard_normal((50, 7)), rng.standard_normal((9, 7))
    d = ((queries[:, None, :] - codes[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(nearest_neighbours(codes, queries, 4, chunk=4), np.argsort(d, axis=1)[:, :4])


def test_retrieval_precision_of_clusters_and_of_a_known_mix():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    labels = np.repeat(np.arange(3), 10)
    assert retrieval_precision(centres[labels] + rng.standard_normal((30, 2)), labels, 5) == 1.0
    # labels a a b b at 0, 1, 1.9, 3: the two inner points are nearer each other (0.9) than their partners (1, 1.1)
    assert retrieval_precision([[0.0], [1.0], [1.9], [3.0]], [0, 0, 1, 1], 1) == 0.5


def test_extract_codes_reads_the_penultimate_layer(digits):
    x = digits[0][:10]
    net = models.build("lenet5", rng=0)
    assert code_layer(net) == "tanh6" and code_layer(models.build("resnet20", rng=0)) == "avgpool"
    codes = extract_codes(net, x)
    features = net[:-1](x)  # every layer but the classifier
    np.testing.assert_array_equal(codes, features)
    assert extract_codes(net, x, "s2").shape == (10, 6 * 14 * 14)
    with pytest.raises(InputError, match="the layers are c1, tanh1") as exc:
        extract_codes(net, x, "c9")
    assert exc.value.argument == "layer"


# ----------------------------------------------------------------------------- the command line


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """LeNet-5 trained for one short epoch on digits 0-4 (the source task)."""
    out = tmp_path_factory.mktemp("source") / "src"
    code = main(
        ["train", "lenet5", "--classes", "0-4", "--limit", "256", "--epochs", "1", "--batch-size", "32"]
        + ["--out", str(out), "--quiet", "--json"]
    )
    assert code == 0
    return out


def test_init_loads_the_trained_weights_and_frozen_layers_stay(tmp_path, capsys, source_run):
    out = tmp_path / "target"
    flags = "--classes 5-9 --freeze c1,c3 --lr-mult c5=0.1 --epochs 1 --limit 64 --batch-size 32 --quiet --json"
    code, stdout, _ = _run(capsys, "train", "lenet5", "--init", str(source_run), "--out", str(out), *flags.split())
    assert code == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    assert {"init", "classes", "trainable_parameters", "parameters", "test_accuracy"} <= result.keys()
    assert result["classes"] == [5, 6, 7, 8, 9] and result["init"] == str(source_run)
    assert result["trainable_parameters"] == result["parameters"] - (156 + 2416)
    source, _ = load_trained(source_run)
    target, run = load_trained(out)
    assert target.output.out_features == 5 and source.output.out_features == 5
    assert run["config"]["freeze"] == ["c1", "c3"] and run["config"]["lr_mult"] == [["c5", 0.1]]
    x = prepare_images(load_digits("test")[0][:8], (1, 32, 32))
    np.testing.assert_array_equal(extract_codes(source, x, "tanh3"), extract_codes(target, x, "tanh3"))
    assert not np.array_equal(extract_codes(source, x, "c5"), extract_codes(target, x, "c5"))  # fine-tuned

    # a resume that contradicts the recorded freezing is refused, naming the flag
    code, _, err = _run(capsys, "train", "lenet5", "--out", str(out), "--resume", "--freeze", "c1", "--quiet")
    assert code == 2 and "--freeze" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["resnet20", "--init", "SRC"], ["lenet5", "resnet20"]),
        (["lenet5", "--init", "SRC", "--freeze", "c9"], ["c9", "known: c1, c3, c5, f6, output"]),
        (["lenet5", "--lr-mult", "c1"], ["--lr-mult", "LAYER=FACTOR"]),
        (["lenet5", "--lr-mult", "c1=fast"], ["--lr-mult", "fast"]),
        (["lenet5", "--lr-mult", "c1=-1"], ["--lr-mult", "-1"]),
        (["lenet5", "--classes", "5"], ["--classes"]),
        (["lenet5", "--init", "NOWHERE"], ["run.json"]),
        (["neocognitron", "--freeze", "c1"], ["--freeze", "neocognitron"]),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_2(tmp_path, capsys, source_run, flags, words):
    flags = [str(source_run) if f == "SRC" else str(tmp_path / f) if f == "NOWHERE" else f for f in flags]
    code, _, err = _run(capsys, "train", *flags, "--out", str(tmp_path / "o"), "--epochs", "1", "--quiet")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err


def test_codes_command_writes_codes_and_reports_retrieval(tmp_path, capsys, source_run):
    out = tmp_path / "codes.npz"
    code, stdout, _ = _run(
        capsys, "codes", str(source_run), "--limit", "200", "--neighbours", "3", "--out", str(out), "--json"
    )
    assert code == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    assert {"layer", "n_images", "dimensions", "neighbours", "code_precision", "pixel_precision", "chance", "out"} <= (
        result.keys()
    )
    assert result["layer"] == "tanh6" and result["dimensions"] == 84 and result["n_images"] == 200
    with np.load(out, allow_pickle=False) as saved:
        codes, labels = saved["codes"], saved["labels"]
    assert codes.shape == (200, 84) and labels.shape == (200,)
    assert result["code_precision"] == pytest.approx(retrieval_precision(codes, labels, 3))

    code, _, err = _run(capsys, "codes", str(source_run), "--layer", "c9", "--out", str(out))
    assert code == 2 and "c9" in err and len(err.strip().splitlines()) == 1


def test_codes_shows_a_bar_over_batches_unless_quiet(tmp_path, capsys, source_run):
    argv = ["codes", str(source_run), "--limit", "300", "--out", str(tmp_path / "c.npz")]
    code, _, err = _run(capsys, *argv)  # 300 images: two batches of 256
    assert code == 0 and "codes:" in err and "/2 " in err and "batch" in err
    code, _, err = _run(capsys, *argv, "--quiet")
    assert code == 0 and err == ""
