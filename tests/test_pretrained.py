"""Weights trained elsewhere: torchvision state dicts (.npz) loaded into the zoo (v1sim.nn.models.weights).

With torch: torchvision's definitions, written out below with torchvision's module names (torchvision
itself is not needed), get random weights and random BatchNorm statistics, are exported as the README
shows, loaded into v1sim, and must give the same outputs (float64 to 1e-10 relative, float32 to 1e-4).
Without torch: the name mapping is checked on shape-only models against torchvision's names, generated
here from torchvision's rules.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from v1sim.errors import CheckpointError, InputError
from v1sim.nn import models
from v1sim.nn.models import weights as W

# torchvision's configurations (torchvision/models/vgg.py cfgs), its names for the zoo's VGGs
TV_VGG = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
TV_RESNET = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottle", (3, 4, 6, 3))}
TV_RESNET |= {101: ("bottle", (3, 4, 23, 3)), 152: ("bottle", (3, 8, 36, 3))}


# -- torchvision's names, from torchvision's rules (no torch needed) --------------------------------------------


def _bn(prefix):
    return [f"{prefix}.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]


def tv_names(name) -> list:
    """torchvision's state-dict keys of the model the zoo's ``name`` mirrors, written from torchvision's code."""
    if name == "alexnet-torchvision":
        return [
            f"{p}.{i}.{s}"
            for p, idx in (("features", (0, 3, 6, 8, 10)), ("classifier", (1, 4, 6)))
            for i in idx
            for s in ("weight", "bias")
        ]
    if name.startswith("vgg"):
        depth, bn = int(re.findall(r"\d+", name)[0]), name.endswith("-bn")
        keys, i = [], 0
        for v in TV_VGG[depth]:
            if v == "M":
                i += 1
                continue
            keys += [f"features.{i}.weight", f"features.{i}.bias"] + (_bn(f"features.{i + 1}") if bn else [])
            i += 3 if bn else 2
        return keys + [f"classifier.{j}.{s}" for j in (0, 3, 6) for s in ("weight", "bias")]
    if name.startswith("resnet"):
        block, counts = TV_RESNET[int(name[6:])]
        keys = ["conv1.weight"] + _bn("bn1")
        for stage, n in enumerate(counts, 1):
            for b in range(n):
                p = f"layer{stage}.{b}"
                for j in (1, 2, 3) if block == "bottle" else (1, 2):
                    keys += [f"{p}.conv{j}.weight"] + _bn(f"{p}.bn{j}")
                if b == 0 and (stage > 1 or block == "bottle"):
                    keys += [f"{p}.downsample.0.weight"] + _bn(f"{p}.downsample.1")
        return keys + ["fc.weight", "fc.bias"]
    assert name == "googlenet-torchvision"
    keys = []
    for p in ("conv1", "conv2", "conv3"):
        keys += [f"{p}.conv.weight"] + _bn(f"{p}.bn")
    for m in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        for b in ("branch1", "branch2.0", "branch2.1", "branch3.0", "branch3.1", "branch4.1"):
            keys += [f"inception{m}.{b}.conv.weight"] + _bn(f"inception{m}.{b}.bn")
    return keys + ["fc.weight", "fc.bias"]


@pytest.mark.parametrize("name", list(W.TORCHVISION_MODELS))
def test_every_torchvision_name_maps_to_one_zoo_tensor(name):
    model = models.build(name, materialize=False)
    mapping = W.torchvision_names(model, name)
    expected = [k for k in tv_names(name) if not k.endswith("num_batches_tracked")]
    assert sorted(mapping.values()) == sorted(expected)  # onto, and one-to-one (no key twice)
    assert len(set(mapping.values())) == len(mapping)


def _synthetic(name, model):
    """A state dict of torchvision's names with the zoo's shapes and distinct values per tensor."""
    mapping, arrays = W.torchvision_names(model, name), dict(model.state_dict())
    state = {tv: np.full(arrays[zoo].shape, i, np.float32) for i, (zoo, tv) in enumerate(mapping.items())}
    state |= {k: np.array(7) for k in tv_names(name) if k.endswith("num_batches_tracked")}
    return mapping, state


def test_tensors_land_by_name_not_by_position(tmp_path):
    model = models.build("resnet18", rng=0)
    mapping, state = _synthetic("resnet18", model)
    path = tmp_path / "r18.npz"
    np.savez(path, **dict(reversed(list(state.items()))))  # file order reversed: names, not positions, decide
    loaded = models.build("resnet18", weights=path)
    for zoo, value in loaded.state_dict().items():
        np.testing.assert_array_equal(value, state[mapping[zoo]])
    assert loaded.input_normalization == W.IMAGENET_NORMALIZATION


def test_bad_files_are_refused_naming_each_key(tmp_path):
    model = models.build("resnet18", materialize=False)
    _, state = _synthetic("resnet18", model)
    bad = dict(state)
    del bad["layer3.1.bn2.running_var"]
    bad["layer9.0.conv1.weight"] = np.zeros(3, np.float32)
    bad["fc.weight"] = np.zeros((10, 512), np.float32)
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(CheckpointError) as err:
        models.build("resnet18", weights=tmp_path / "bad.npz")
    message = str(err.value)
    for key in ("layer3.1.bn2.running_var", "layer9.0.conv1.weight", "fc.weight (float32[10, 512]"):
        assert key in message
    # another architecture: every key it lacks and every key too many is named
    with pytest.raises(CheckpointError, match="does not fit 'resnet34'.*missing layer1.2.conv1.weight"):
        models.build("resnet34", weights=tmp_path / "bad.npz")
    # truncated, not an .npz, missing
    good = tmp_path / "good.npz"
    np.savez(good, **state)
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cut.npz is truncated"):
        models.build("resnet18", weights=tmp_path / "cut.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="not an .npz"):
        W.read_state_dict(tmp_path / "one.npy")
    with pytest.raises(CheckpointError, match="does not exist"):
        W.read_state_dict(tmp_path / "nothing.npz")
    with pytest.raises(InputError, match="no torchvision counterpart"):
        models.build("lenet5", weights=good)


def test_half_precision_is_widened_with_a_warning(tmp_path):
    x = np.array([1.0, -2.5, 3.140625, 1e-3], np.float32)  # 3.140625 and 1.0 exact in bfloat16
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)  # bfloat16 = float32's upper half (truncated)
    np.savez(tmp_path / "h.npz", half=x.astype(np.float16), bf=bits, bfv=bits.view("V2"), n=np.array(3, np.int64))
    with pytest.warns(UserWarning, match="3 half-precision tensor"):
        state = W.read_state_dict(tmp_path / "h.npz")
    assert all(state[k].dtype == np.float32 for k in ("half", "bf", "bfv"))
    np.testing.assert_array_equal(state["half"], x.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(state["bf"], (bits.astype(np.uint32) << 16).view(np.float32))
    np.testing.assert_array_equal(state["bfv"], state["bf"])
    assert state["bf"][0] == 1.0 and state["bf"][2] == 3.140625
    assert state["n"].dtype == np.int64


def test_normalization():
    rgb = np.random.default_rng(0).random((2, 3, 4, 5))
    out = W.normalize_input(rgb)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out, (rgb - mean[:, None, None]) / std[:, None, None])
    grey = rgb[:, :1]
    np.testing.assert_allclose(W.normalize_input(grey), (grey - mean[:, None, None]) / std[:, None, None])
    with pytest.raises(InputError, match="images"):
        W.normalize_input(np.zeros((2, 2, 4, 4)))


# -- against PyTorch ----------------------------------------------------------------------------------------------


def _torch_models():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            c, r, p = nn.Conv2d, nn.ReLU, nn.MaxPool2d
            self.features = nn.Sequential(
                c(3, 64, 11, 4, 2),
                r(),
                p(3, 2),
                c(64, 192, 5, padding=2),
                r(),
                p(3, 2),
                c(192, 384, 3, padding=1),
                r(),
                c(384, 256, 3, padding=1),
                r(),
                c(256, 256, 3, padding=1),
                r(),
                p(3, 2),
            )
            self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = nn.Sequential(
                nn.Dropout(),
                nn.Linear(9216, 4096),
                r(),
                nn.Dropout(),
                nn.Linear(4096, 4096),
                r(),
                nn.Linear(4096, 1000),
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    class VGG(AlexNet):
        def __init__(self, depth, bn):
            nn.Module.__init__(self)
            layers, c = [], 3
            for v in TV_VGG[depth]:
                if v == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(c, v, 3, padding=1)] + ([nn.BatchNorm2d(v)] if bn else []) + [nn.ReLU()]
                    c = v
            self.features, self.avgpool = nn.Sequential(*layers), nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(25088, 4096),
                nn.ReLU(),
                nn.Dropout(),
                nn.Linear(4096, 4096),
                nn.ReLU(),
                nn.Dropout(),
                nn.Linear(4096, 1000),
            )

    class Block(nn.Module):
        def __init__(self, c_in, planes, stride, bottle):
            super().__init__()
            out = planes * (4 if bottle else 1)
            if bottle:  # torchvision's v1.5: the stride on the 3x3
                self.conv1, self.bn1 = nn.Conv2d(c_in, planes, 1, bias=False), nn.BatchNorm2d(planes)
                self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
                self.conv3, self.bn3 = nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)
            else:
                self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
                self.bn1, self.conv2 = nn.BatchNorm2d(planes), nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2, self.relu, self.bottle = nn.BatchNorm2d(planes), nn.ReLU(), bottle
            self.downsample = None
            if stride != 1 or c_in != out:
                self.downsample = nn.Sequential(nn.Conv2d(c_in, out, 1, stride, bias=False), nn.BatchNorm2d(out))

        def forward(self, x):
            y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            if self.bottle:
                y = self.bn3(self.conv3(self.relu(y)))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self, depth):
            super().__init__()
            kind, counts = TV_RESNET[depth]
            self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
            self.relu, self.maxpool, c = nn.ReLU(), nn.MaxPool2d(3, 2, 1), 64
            for i, (planes, n) in enumerate(zip((64, 128, 256, 512), counts)):
                blocks = []
                for b in range(n):
                    blocks.append(Block(c, planes, 2 if b == 0 and i else 1, kind == "bottle"))
                    c = planes * (4 if kind == "bottle" else 1)
                setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(c, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class Basic(nn.Module):
        def __init__(self, c_in, c_out, k, stride=1):
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
            self.bn = nn.BatchNorm2d(c_out, eps=0.001)

        def forward(self, x):
            return torch.relu(self.bn(self.conv(x)))

    class Inception(nn.Module):
        def __init__(self, c, a, b1, b2, c1, c2, d):
            super().__init__()
            self.branch1 = Basic(c, a, 1)
            self.branch2 = nn.Sequential(Basic(c, b1, 1), Basic(b1, b2, 3))
            self.branch3 = nn.Sequential(Basic(c, c1, 1), Basic(c1, c2, 3))
            self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), Basic(c, d, 1))

        def forward(self, x):
            return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)

    class GoogLeNet(nn.Module):
        rows = {
            "3a": (192, 64, 96, 128, 16, 32, 32),
            "3b": (256, 128, 128, 192, 32, 96, 64),
            "4a": (480, 192, 96, 208, 16, 48, 64),
            "4b": (512, 160, 112, 224, 24, 64, 64),
            "4c": (512, 128, 128, 256, 24, 64, 64),
            "4d": (512, 112, 144, 288, 32, 64, 64),
            "4e": (528, 256, 160, 320, 32, 128, 128),
            "5a": (832, 256, 160, 320, 32, 128, 128),
            "5b": (832, 384, 192, 384, 48, 128, 128),
        }

        def __init__(self):
            super().__init__()
            self.conv1, self.maxpool1 = Basic(3, 64, 7, 2), nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2, self.conv3 = Basic(64, 64, 1), Basic(64, 192, 3)
            self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            for k, row in self.rows.items():
                setattr(self, f"inception{k}", Inception(*row))
            self.maxpool3, self.maxpool4 = nn.MaxPool2d(3, 2, ceil_mode=True), nn.MaxPool2d(2, 2, ceil_mode=True)
            self.aux1 = nn.Sequential(Basic(512, 128, 1), nn.Linear(2048, 1024))  # training only: read past
            self.avgpool, self.dropout, self.fc = nn.AdaptiveAvgPool2d(1), nn.Dropout(0.2), nn.Linear(1024, 1000)

        def forward(self, x):
            m = torch.tensor([0.485, 0.456, 0.406], dtype=x.dtype)[:, None, None]
            s = torch.tensor([0.229, 0.224, 0.225], dtype=x.dtype)[:, None, None]
            x = x * (s / 0.5) + (m - 0.5) / 0.5  # transform_input
            x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
            x = self.maxpool3(self.inception3b(self.inception3a(x)))
            for k in ("4a", "4b", "4c", "4d", "4e"):
                x = getattr(self, f"inception{k}")(x)
            x = self.inception5b(self.inception5a(self.maxpool4(x)))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    def build(name):
        if name == "alexnet-torchvision":
            return AlexNet()
        if name.startswith("vgg"):
            return VGG(int(re.findall(r"\d+", name)[0]), name.endswith("-bn"))
        if name.startswith("resnet"):
            return ResNet(int(name[6:]))
        return GoogLeNet()

    return torch, build


# (zoo name, input side, compare only `features`+`classifier` separately): small inputs where the network takes them
CASES = [
    ("resnet18", 64),
    ("resnet50", 64),
    ("googlenet-torchvision", 64),
    ("alexnet-torchvision", 224),
]
SLOW = [
    ("vgg11-bn", 32),
    ("resnet34", 32),
    ("resnet101", 32),
    ("resnet152", 32),
    ("vgg11", 32),
    ("vgg13", 32),
    ("vgg13-bn", 32),
]
SLOW += [("vgg16", 32), ("vgg16-bn", 32), ("vgg19", 32), ("vgg19-bn", 32)]


def _randomise(torch, net, seed):
    """Random weights and BatchNorm statistics (else BN would be the identity and hide a mapping error)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.is_floating_point():
                fan = t[0].numel() if t.ndim > 1 else 1
                v = torch.randn(t.shape, generator=g) / fan**0.5
                t.copy_(v.abs() + 0.5 if name.endswith("running_var") else v)
    return net.eval()


def _compare(name, side, tmp_path):
    torch, build = _torch_models()
    net = _randomise(torch, build(name), seed=len(name))
    path = tmp_path / f"{name}.npz"
    np.savez(path, **{k: v.numpy() for k, v in net.state_dict().items()})  # as the README shows
    ours = models.build(name, weights=path).eval()
    x = np.random.default_rng(1).random((2 if side < 224 else 1, 3, side, side))
    split = name.startswith("vgg") and side != 224  # the FC head needs 7x7 maps: features and head apart
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        tnet = net.double() if dtype == np.float64 else net.float()
        ours.to(dtype=dtype)
        xs = x.astype(dtype)
        with torch.no_grad():
            if split:
                want = tnet.features(torch.from_numpy(xs)).numpy()
                head = np.random.default_rng(2).random((2, 25088)).astype(dtype)
                want_head = tnet.classifier(torch.from_numpy(head)).numpy()
            else:
                want = tnet(torch.from_numpy(xs)).numpy()
        if split:
            cut = list(dict(ours.named_modules())).index("flatten") - 1
            children = list(ours.children())
            got = xs
            for m in children[:cut]:
                got = m(got)
            got_head = head
            for m in children[cut + 1 :]:
                got_head = m(got_head)
            np.testing.assert_allclose(got_head, want_head, rtol=tol, atol=tol * np.abs(want_head).max())
        else:
            got = ours(xs)
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("name, side", CASES)
def test_outputs_equal_pytorch(name, side, tmp_path):
    _compare(name, side, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name, side", SLOW)
def test_outputs_equal_pytorch_deep(name, side, tmp_path):
    _compare(name, side, tmp_path)


def test_half_precision_file_loads_with_a_note(tmp_path):
    torch, build = _torch_models()
    net = _randomise(torch, build("resnet18"), seed=3)
    path = tmp_path / "half.npz"
    np.savez(path, **{k: v.half().numpy() if v.is_floating_point() else v.numpy() for k, v in net.state_dict().items()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = models.build("resnet18", weights=path)
    assert any("half-precision" in str(w.message) for w in caught)
    np.testing.assert_array_equal(ours.state_dict()["fc.weight"], net.fc.weight.detach().half().float().numpy())


# -- where weights are used: the V1 benchmark's units and v1sim summary ----------------------------------------------


def _resnet18_file(tmp_path):
    model = models.build("resnet18", materialize=False)
    _, state = _synthetic("resnet18", model)
    rng = np.random.default_rng(0)
    state = {k: (rng.standard_normal(v.shape) * 0.1).astype(np.float32) if v.ndim else v for k, v in state.items()}
    state |= {k: np.abs(v) + 0.5 for k, v in state.items() if k.endswith("running_var")}
    np.savez(tmp_path / "r18.npz", **state)
    return tmp_path / "r18.npz"


def test_benchmark_units_see_normalised_rgb(tmp_path):
    from v1sim import biology, physiology

    path = _resnet18_file(tmp_path)
    model = models.build("resnet18", weights=path).eval()
    layer = physiology.ConvNetLayer(model, "conv1", image_size=32, fov=2.0)
    grey = np.random.default_rng(1).random((2, 32, 32)).astype(np.float32)
    x = W.normalize_input(grey[:, None])  # grey into R, G and B, then ImageNet's mean and std
    want = np.maximum(model.bn1(model.conv1(np.ascontiguousarray(x, np.float32))), 0)
    np.testing.assert_allclose(layer.full_output(grey), want, rtol=1e-5, atol=1e-5)
    spec = biology.ModelSpec("resnet18", units=3, weights=str(path))
    assert biology.build_population(spec).n_units == 3
    with pytest.raises(CheckpointError, match="resnet34"):
        biology.build_population(biology.ModelSpec("resnet34", weights=str(path)))


def test_summary_cli_loads_and_reports_the_normalisation(tmp_path, capsys):
    import json

    from v1sim.cli.main import main

    path = _resnet18_file(tmp_path)
    assert main(["summary", "resnet18", "--weights", str(path), "--json", "--depth", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["input_normalization"]["mean"] == list(W.IMAGENET_NORMALIZATION.mean)
    assert main(["summary", "resnet34", "--weights", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "missing layer1.2.conv1.weight" in err
