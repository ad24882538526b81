"""The lecture-topic figures compute the lecture's numbers.

The figure scripts never type in the lecture's answers; these tests state
them, each with the line of /work/shared/seed/convnets-lecture.txt it comes
from, and check that the scripts' computed tables reproduce them. Where the
lecture file is present, a test also checks that each quoted value really
stands on its line (so a typo here cannot make a test pass).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests import naive
from v1sim.figures import default_scripts_dir

LECTURE = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "convnets-lecture.txt"

# (line, text on that line): the lecture's statements the tests below rely on
QUOTED = (
    (752, "40K hidden units"),
    (754, "~2B parameters"),
    (769, "4M parameters"),
    (886, "10K parameters"),
    (1142, "(7 - 3) / 1 + 1 = 5"),
    (1144, "(7 - 3) / 2 + 1 = 3"),
    (1146, "(7 - 3) / 3 + 1 = 2.33"),
    (1180, "7x7 output!"),
    (1198, "zero-padding with $(F-1)/2$. (will preserve size spatially)"),
    (1209, "(32 -> 28 -> 24 ...)"),
    (1236, "32x32x10"),
    (1261, "each filter has $5*5*3 + 1 = 76$ params"),
    (1265, "76*10 = 760"),
    (1436, "$(227-11)/4+1 = 55$"),
    (1470, "$(11*11*3)*96 = \\mathbf{35K}$"),
    (1485, "Output volume: 27x27x96"),
    (1506, "Parameters: 0!"),
    (1761, "Number of parameters\t133\t133\t134\t138\t144"),
    (1765, "params: (3*3*3)*64 = 1,728"),
    (1767, "params: (3*3*64)*64 = 36,864"),
    (2136, "CONV1: 192 5x5 filters , stride 1, pad 2 => [19x19x192]"),
)


def _script(name):
    path = default_scripts_dir() / f"fig_{name}.py"
    spec = importlib.util.spec_from_file_location(f"fig_{name}_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not LECTURE.is_file(), reason=f"the lecture text is not at {LECTURE}")
def test_quoted_values_stand_in_the_lecture():
    lines = LECTURE.read_text(encoding="utf-8").splitlines()
    for number, text in QUOTED:
        assert text in lines[number - 1], f"line {number} of the lecture does not say {text!r}"


def test_parameter_counts_are_the_lectures():
    counts = _script("parameter_counts").lecture_counts()
    assert {c["units"] for c in counts.values()} == {40_000}  # line 752: 40K hidden units
    assert round(counts["fc"]["weights"], -9) == 2_000_000_000  # line 754: ~2B
    assert counts["lc"]["weights"] == 4_000_000  # line 769: 4M
    assert counts["conv"]["weights"] == 10_000  # line 886: 10K
    for c in counts.values():
        assert c["weights"] + c["biases"] == c["total"]


def test_parameter_counts_scale_as_n4_n2_and_constant():
    grown = _script("parameter_counts").scaling(np.array([20, 40, 80]))
    np.testing.assert_array_equal(grown["fc"][1:] / grown["fc"][:-1], [16, 16])
    np.testing.assert_array_equal(grown["lc"][1:] / grown["lc"][:-1], [4, 4])
    np.testing.assert_array_equal(grown["conv"], [10_000] * 3)


def test_output_sizes_are_the_lectures():
    rows = {r["label"]: r for r in _script("output_size").worked_examples()}
    stride = {s: rows[f"7x7 input, 3x3 filter, stride {s}"] for s in (1, 2, 3)}
    assert stride[1]["out"] == 5 and stride[1]["fits"]  # line 1142
    assert stride[2]["out"] == 3 and stride[2]["fits"]  # line 1144
    assert not stride[3]["fits"] and round(stride[3]["exact"], 2) == 2.33  # line 1146: 2.33, doesn't fit
    assert rows["7x7 input, 3x3 filter, stride 1, pad 1"]["out"] == 7  # line 1180
    for f in (3, 5, 7):  # line 1198-1205: pad (F-1)/2 preserves size
        assert rows[f"32x32 input, {f}x{f} filter, pad (F-1)/2 = {(f - 1) // 2}"]["out"] == 32
    shrinking = [rows[f"{n}x{n} input, 5x5 filter, no padding"]["out"] for n in (32, 28)]
    assert shrinking == [28, 24]  # line 1209: 32 -> 28 -> 24
    ten = rows["32x32x3 input, 10 5x5 filters, stride 1, pad 2"]
    assert ten["out"] == 32 and ten["params"] == 760 and ten["note"].startswith("76 per filter")  # lines 1236-1265
    conv1 = rows["AlexNet CONV1: 96 11x11 filters, stride 4"]
    assert conv1["out"] == 55  # line 1436
    weights = int(conv1["note"].split(" weights")[0].replace(",", ""))
    assert round(weights, -3) == 35_000 and weights == (11 * 11 * 3) * 96  # line 1470: (11*11*3)*96 = 35K
    pool1 = rows["AlexNet POOL1: 3x3, stride 2"]
    assert pool1["out"] == 27 and pool1["params"] == 0  # lines 1485, 1506
    assert rows["AlphaGo CONV1: 5x5, stride 1, pad 2"]["out"] == 19  # line 2136


def test_output_size_geometry_agrees_with_the_windows_drawn():
    fig = _script("output_size")
    for n, f, s, p in ((7, 3, 1, 0), (7, 3, 3, 0), (9, 4, 2, 1), (227, 11, 4, 0)):
        g = fig.window_geometry(n, f, s, p)
        starts = range(0, n + 2 * p - f + 1, s)  # every window that fits, enumerated
        assert g["out"] == len(starts)
        assert g["leftover"] == n + 2 * p - (starts[-1] + f)
        assert g["exact"] == pytest.approx((n - f + 2 * p) / s + 1)


def test_edge_example_matches_an_oracle_and_flips_sign_under_convolution():
    fig = _script("edge_example")
    e = fig.edge_example(quick=True)
    oracle = naive.correlate(e["f"][None, None].astype(float), fig.KERNEL[None, None].astype(float))[0, 0]
    np.testing.assert_allclose(e["g"], oracle)
    assert e["g"].max() == 270 and e["g"].min() == -270  # 3 rows x 90 across the square's vertical edges
    np.testing.assert_allclose(e["conv"], -e["corr"], atol=1e-6)


def test_pooling_slide_example():
    fig = _script("pooling")
    ex = fig.slide_example()
    # CS231n's max-pooling slide (pictured in the lecture after line 1385): 2x2 filters, stride 2 -> [[6, 8], [3, 4]]
    np.testing.assert_array_equal(ex["max"], [[6, 8], [3, 4]])
    np.testing.assert_allclose(ex["avg"], ex["input"].reshape(2, 2, 2, 2).mean(axis=(1, 3)))


def test_pooling_shift_tolerance_is_one_at_no_shift_and_pooling_helps():
    fig = _script("pooling")
    rng = np.random.default_rng(0)
    image = rng.random((32, 48)).astype(np.float32)
    t = fig.shift_tolerance(image, np.arange(0, 4))
    for values in t.values():
        assert values[0] == pytest.approx(1.0)
    assert np.all(t["max"][1:] > t["none"][1:])  # white noise: an unpooled edge map decorrelates at once


def test_layer_diagram_stages_account_for_every_parameter():
    fig = _script("layer_diagrams")
    for name in fig.NAMES:
        info = fig.stages(name)
        boxes, summary = info["stages"], info["summary"]
        assert sum(b["params"] for b in boxes) == summary.total_params
        assert boxes[0]["shape"] == summary.input_shape and boxes[-1]["shape"] == summary.output_shape
    vgg = fig.stages("vgg16")
    assert [b["shape"][1] for b in vgg["stages"][:7]] == [224, 224, 112, 56, 28, 14, 7]
    assert vgg["stages"][1]["params"] == 1_728 + 36_864 + 2 * 64  # lines 1765-1767, plus 64 biases per layer
    assert round(vgg["summary"].total_params / 1e6) == 138  # line 1761, configuration D


def test_orientation_tuning_title_follows_the_half_widths():
    from types import SimpleNamespace

    fig = _script("orientation_tuning")
    widths = lambda *w: [SimpleNamespace(bandwidth_deg=x) for x in w]  # noqa: E731
    text = fig.verdict((0.5, 1, 2, 4), widths(40, 20, 10, 5))
    assert text.startswith("Orientation tuning sharpens") and "^-1.00" in text
    assert "does NOT sharpen" in fig.verdict((0.5, 1, 2), widths(20, 25, 10))
    assert "flat curve" in fig.verdict((0.5, 1), widths(20, None))


def test_f1f0_title_states_only_what_the_coefficients_support():
    fig = _script("f1f0")
    assert "above 5/9: bimodal), more bimodal" in fig.verdict(0.5, 0.6)
    assert "NOT above 5/9" in fig.verdict(0.4, 0.5) and ", more bimodal" in fig.verdict(0.4, 0.5)
    assert "NOT more bimodal" in fig.verdict(0.6, 0.58)


def test_f1f0_population_sets_weights_and_measures_ratios():
    fig = _script("f1f0")
    cells = fig.population(6, np.random.default_rng(0))
    w, r = cells["weights"], cells["ratios"]
    assert w.shape == r.shape == (6,) and np.all((w > 0) & (w < 1)) and np.all(np.isfinite(r))
    # more linear drive, more modulation: F1/F0 rises with the linear weight (Mechler & Ringach 2002)
    assert np.corrcoef(w, r)[0, 1] > 0.5
