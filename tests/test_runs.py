"""The run folder shared by every trainer: one-file checkpoints, rotation, fallback, refusal of damaged runs."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from v1sim import nn
from v1sim._core.io import load_checkpoint, save_checkpoint
from v1sim._core.runs import RunFolder
from v1sim.datasets import load_digits
from v1sim.errors import CheckpointError, InputError, NonFiniteError, TrainingError
from v1sim.nn.train import TrainConfig, fit


def tiny_net(seed=0):
    return nn.Sequential(
        nn.Conv2d(1, 2, 5, rng=seed), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(2 * 6 * 6, 10, rng=seed + 1)
    )


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    return (x[:96], y[:96]), (xt[:48], yt[:48])


CFG = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.9, seed=1, log_every=0)


@pytest.fixture(scope="module")
def finished(digits, tmp_path_factory):
    """A finished two-epoch run: last.npz (epoch 2), previous.npz (epoch 1), best.npz."""
    out = tmp_path_factory.mktemp("run")
    fit(tiny_net(), *digits, CFG, out, progress=False)
    return out


def copy_run(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


# ----------------------------------------------------------------------------- the file format


def test_a_checkpoint_is_one_file_with_its_metadata_and_no_pickle(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3)}
    path = save_checkpoint(tmp_path / "ck", arrays, {"note": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    with np.load(path, allow_pickle=False) as data:  # loads without pickle: no object arrays inside
        assert sorted(data.files) == ["__meta__", "n", "w"] and data["__meta__"].dtype == np.uint8
    got, meta = load_checkpoint(tmp_path / "ck.npz")
    np.testing.assert_array_equal(got["w"], arrays["w"])
    assert meta["note"] == "x" and meta["manifest"]["w"] == {"dtype": "<f4", "shape": [2, 3]}
    with pytest.raises(TypeError, match="'bad'.*numeric"):
        save_checkpoint(tmp_path / "obj", {"bad": np.array([{"a": 1}], dtype=object)}, {})
    assert not (tmp_path / "obj.npz").exists() and not list(tmp_path.glob(".*.tmp"))


def test_rotation_keeps_the_previous_checkpoint(tmp_path):
    for i in range(3):
        save_checkpoint(tmp_path / "last", {"i": np.array(i)}, {}, previous=tmp_path / "previous")
    assert int(load_checkpoint(tmp_path / "last")[0]["i"]) == 2
    assert int(load_checkpoint(tmp_path / "previous")[0]["i"]) == 1


def test_the_old_two_file_format_still_loads(tmp_path):
    import hashlib

    buf = io.BytesIO()
    np.savez(buf, w=np.ones(3))
    (tmp_path / "last.npz").write_bytes(buf.getvalue())
    meta = {"format": "v1sim-checkpoint/1", "arrays_sha256": hashlib.sha256(buf.getvalue()).hexdigest(), "k": 1}
    (tmp_path / "last.json").write_text(json.dumps(meta))
    arrays, got = load_checkpoint(tmp_path / "last")
    assert got["k"] == 1 and arrays["w"].tolist() == [1, 1, 1]
    (tmp_path / "last.json").write_text(json.dumps({**meta, "arrays_sha256": "0" * 64}))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(tmp_path / "last")


def test_every_truncation_and_flipped_byte_is_a_checkpoint_error(tmp_path):
    path = save_checkpoint(tmp_path / "ck", {"w": np.linspace(0, 1, 50, dtype=np.float32)}, {"k": 1})
    blob = path.read_bytes()
    damaged = [blob[:n] for n in range(0, len(blob), 7)]
    damaged += [blob[:i] + bytes([blob[i] ^ 0x5A]) + blob[i + 1 :] for i in range(0, len(blob), 5)]
    loaded = 0
    for data in damaged:
        path.write_bytes(data)
        try:
            arrays, meta = load_checkpoint(path)
        except CheckpointError as exc:
            assert str(path) in str(exc)
        else:  # a flipped byte in a zip field nobody reads: the content must still be intact
            loaded += 1
            np.testing.assert_array_equal(arrays["w"], np.linspace(0, 1, 50, dtype=np.float32))
    assert loaded < len(damaged) // 4


# ----------------------------------------------------------------------------- the run folder


def test_a_new_run_refuses_a_folder_holding_one_and_a_file(finished, tmp_path, digits):
    with pytest.raises(CheckpointError, match="already holds a run.*--resume"):
        fit(tiny_net(), *digits, CFG, finished, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is an existing file, not a folder"):
        fit(tiny_net(), *digits, CFG, tmp_path / "file", progress=False)


def test_resume_falls_back_to_previous_and_says_so(finished, tmp_path, digits, capsys):
    out = copy_run(finished, tmp_path / "run")
    (out / "last.npz").write_bytes((out / "last.npz").read_bytes()[:-100])
    (out / ".last.npz.abc.tmp").write_bytes(b"half a checkpoint")
    run_json = (out / "run.json").read_bytes()
    result = fit(tiny_net(), *digits, CFG, out, resume=True, progress=False)  # epoch 2 again, from previous.npz
    err = capsys.readouterr().err
    assert f"resuming from {out / 'previous.npz'}" in err and "last.npz is truncated or corrupt" in err
    assert not list(out.glob(".*.tmp")) and (out / "run.json").read_bytes() == run_json
    want, _ = load_checkpoint(finished / "last")
    got, _ = load_checkpoint(out / "last")
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    assert not result["already_finished"] and result["epochs"] == 2


def test_resume_of_a_finished_run_reports_it(finished, digits):
    result = fit(tiny_net(), *digits, CFG, finished, resume=True, progress=False)
    assert result["already_finished"] and result["epochs"] == 2
    with pytest.raises(InputError, match="epochs=1 is fewer than the 2 epoch"):
        fit(tiny_net(), *digits, TrainConfig(**{**CFG.__dict__, "epochs": 1}), finished, resume=True, progress=False)


def _edit_meta(path, change):
    arrays, meta = load_checkpoint(path)
    change(meta, arrays)
    meta.pop("manifest")
    save_checkpoint(path, arrays, meta)


def _drop_velocity(meta, arrays):
    for k in [k for k in arrays if k.startswith("optim/")]:
        del arrays[k]


CORRUPTIONS = {
    "truncated": (None, "truncated or corrupt"),
    "no config": (lambda m, a: m.pop("config"), "no 'config'"),
    "no progress": (lambda m, a: m.pop("progress"), "no 'progress'"),
    "no optimizer": (lambda m, a: m.pop("optimizer"), "no 'optimizer'"),
    "null history": (lambda m, a: m.update(history=None), "'history' is null"),
    "negative epoch": (lambda m, a: m["progress"].update(epoch=-1), "epoch -1 is outside"),
    "epoch beyond config": (lambda m, a: m["progress"].update(epoch=5), "epoch 5 is outside 0..2"),
    "batch beyond epoch": (lambda m, a: m["progress"].update(epoch=1, batch=9), "batch 9 is beyond the 3 batches"),
    "string counter": (lambda m, a: m["progress"].update(seen="many"), "'seen' is \"many\""),
    "wrong shape": (lambda m, a: a.update({"model/0.weight": np.zeros((3, 1, 5, 5), np.float32)}), "shape"),
    "non-finite": (lambda m, a: a["model/4.bias"].__setitem__(0, np.nan), "'model/4.bias' holds NaN"),
    "no momentum": (_drop_velocity, "momentum buffers"),
    "other run": (lambda m, a: m["config"].update(batch_size=16), "another run.*batch_size: 16"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damaged_checkpoints_are_refused_by_name(finished, tmp_path, digits, name):
    change, match = CORRUPTIONS[name]
    out = copy_run(finished, tmp_path / "run")
    (out / "previous.npz").unlink()  # nothing to fall back to
    if change is None:
        (out / "last.npz").write_bytes((out / "last.npz").read_bytes()[:1000])
    else:
        _edit_meta(out / "last.npz", change)
    with pytest.raises(CheckpointError, match=match) as exc:
        fit(tiny_net(), *digits, TrainConfig(**{**CFG.__dict__, "epochs": 3}), out, resume=True, progress=False)
    assert str(out / "last.npz") in str(exc.value)


def test_both_checkpoints_damaged_is_one_error_naming_both(finished, tmp_path, digits):
    out = copy_run(finished, tmp_path / "run")
    for name in ("last.npz", "previous.npz"):
        (out / name).write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CheckpointError) as exc:
        fit(tiny_net(), *digits, CFG, out, resume=True, progress=False)
    assert "last.npz" in str(exc.value) and "previous.npz" in str(exc.value)


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_the_start(digits, tmp_path):
    out = tmp_path / "run"
    RunFolder(out).start({"config": CFG.__dict__, "n_train": 96, "n_test": 48})
    result = fit(tiny_net(), *digits, CFG, out, resume=True, progress=False)
    assert result["epochs"] == 2 and (out / "last.npz").is_file()


# ----------------------------------------------------------------------------- data and divergence


def test_non_finite_images_are_named_before_training(digits, tmp_path):
    (x, y), (xt, yt) = digits
    bad = x.copy()
    bad[3, 0, 4, 4] = np.inf
    with pytest.raises(NonFiniteError, match="train images must be finite, got 1 NaN") as exc:
        fit(tiny_net(), (bad, y), (xt, yt), CFG, tmp_path / "a", progress=False)
    assert exc.value.argument == "train images"
    with pytest.raises(NonFiniteError, match="test images"):
        fit(tiny_net(), (x, y), (xt * np.nan, yt), CFG, tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_loss_that_explodes_without_nan_stops_naming_the_epoch(digits, tmp_path):
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e4, momentum=0.9, weight_decay=0.0)
    with pytest.raises(TrainingError, match=r"loss reached .* \(> 100 ln C = 230\) at epoch 1, batch \d") as exc:
        fit(tiny_net(), *digits, cfg, tmp_path, progress=False)
    assert "lower the learning rate" in str(exc.value)


def test_a_trained_run_writes_no_object_arrays(finished):
    for name in ("last.npz", "previous.npz", "best.npz"):
        with zipfile.ZipFile(finished / name) as z:  # every member is a plain .npy, none with dtype object
            assert all(
                z.read(i.filename)[:6] == b"\x93NUMPY" and b"'|O'" not in z.read(i.filename)[:128] for i in z.infolist()
            )
        with np.load(finished / name, allow_pickle=False) as data:
            assert all(data[k].dtype.kind in "biuf" for k in data.files)


# ----------------------------------------------------------------------------- hierarchy checkpoints


@pytest.fixture(scope="module")
def hierarchy_run(digits, tmp_path_factory):
    """A finished Neocognitron run on 40 digits (under a second): last.npz holds every stage and the test."""
    from v1sim import hierarchy

    (x, y), (xt, yt) = digits
    out = tmp_path_factory.mktemp("neocognitron")
    hierarchy.train("neocognitron", (x[:40], y[:40]), (xt[:20], yt[:20]), out_dir=out, progress=False)
    return out


def _edit_raw(path, change):
    """As :func:`_edit_meta`, but written without save_checkpoint's dtype check, to plant arrays v1sim never writes."""
    arrays, meta = load_checkpoint(path)
    change(meta, arrays)
    meta["manifest"] = {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()}
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)


HIERARCHY_CORRUPTIONS = {
    "truncated": (None, "truncated or corrupt"),
    "no done": (lambda m, a: m.pop("done"), "no 'done'"),
    "no history": (lambda m, a: m.pop("history"), "no 'history'"),
    "no config": (lambda m, a: m.pop("config"), "no 'config'"),
    "null history": (lambda m, a: m.update(history=None), "'history' is null"),
    "string seconds": (lambda m, a: m.update(train_seconds="long"), "'train_seconds' is \"long\""),
    "negative seconds": (lambda m, a: m.update(train_seconds=-1.0), "train_seconds is -1.0"),
    "other run": (lambda m, a: m.update(seed=7), "another run.*seed"),
    "missing tensor": (lambda m, a: a.pop("S3/templates"), "S3"),
    "wrong-shape tensor": (lambda m, a: a.update({"S3/templates": np.zeros((48, 24, 5, 5), np.float32)}), "fit"),
    "wrong-rank tensor": (lambda m, a: a.update({"S2/templates": np.zeros(7, np.float32)}), "S2/templates|fit"),
    "string tensor": (lambda m, a: a.update({"S2/counts": np.array(["a", "b"])}), "'S2/counts' has dtype <U1"),
    "non-finite tensor": (lambda m, a: a["S4/templates"].__setitem__((0, 0, 0, 0), np.nan), "'S4/templates' holds NaN"),
    "stages out of order": (lambda m, a: m.update(done=["S2", "S4", "S3", "readout"]), "not the first stages"),
    "history and stages disagree": (lambda m, a: m["history"].pop(1), "history records the stages"),
    "history of non-records": (lambda m, a: m.update(history=[1, [2], None]), "history records the stages"),
    "stage done without arrays": (lambda m, a: [a.pop(k) for k in list(a) if k.startswith("readout/")], "readout"),
    "bogus partial stage": (lambda m, a: m.update(partial_stage="S9"), "partial stage 'S9'"),
}


@pytest.mark.parametrize("name", list(HIERARCHY_CORRUPTIONS))
def test_damaged_hierarchy_checkpoints_are_refused_by_name(hierarchy_run, tmp_path, digits, name):
    """Each damage of a hierarchy's last.npz is one CheckpointError naming the file (never a KeyError, TypeError...)."""
    from v1sim import hierarchy

    change, match = HIERARCHY_CORRUPTIONS[name]
    out = copy_run(hierarchy_run, tmp_path / "run")
    (out / "previous.npz").unlink()  # nothing to fall back to
    if change is None:
        (out / "last.npz").write_bytes((out / "last.npz").read_bytes()[:1000])
    else:
        _edit_raw(out / "last.npz", change)
    (x, y), (xt, yt) = digits
    with pytest.raises(CheckpointError, match=match) as exc:
        hierarchy.train("neocognitron", (x[:40], y[:40]), (xt[:20], yt[:20]), out_dir=out, progress=False, resume=True)
    assert str(out / "last.npz") in str(exc.value)


MODEL_CORRUPTIONS = {
    "truncated": (None, "truncated or corrupt"),
    "no model": (lambda m, a: m.pop("model"), "does not hold a hierarchy model"),
    "config not a record": (lambda m, a: m.update(config=[1, 2]), "does not hold a hierarchy model"),
    "bad config value": (lambda m, a: m["config"].update(s2_size=-3), "invalid neocognitron configuration: s2_size"),
    "config of another type": (lambda m, a: m["config"].update(s1_orientations="eight"), "config.*s1_orientations"),
    "wrong-shape tensor": (lambda m, a: a.update({"S3/templates": np.zeros((48, 24, 5, 5), np.float32)}), "stage S3"),
    "missing tensor": (lambda m, a: a.pop("readout/weights"), r"'readout/weights'\] are missing"),
    "non-finite tensor": (lambda m, a: a["S2/templates"].__setitem__((0, 0, 0, 0), np.inf), "'S2/templates' holds NaN"),
    "string tensor": (lambda m, a: a.update({"S4/labels": np.array(["x"] * 40)}), "'S4/labels' has dtype"),
}


@pytest.mark.parametrize("name", list(MODEL_CORRUPTIONS))
def test_damaged_hierarchy_models_are_refused_by_name(hierarchy_run, tmp_path, name):
    """load_model of a damaged best.npz: one CheckpointError naming the file."""
    from v1sim import hierarchy

    change, match = MODEL_CORRUPTIONS[name]
    path = tmp_path / "best.npz"
    path.write_bytes((hierarchy_run / "best.npz").read_bytes())
    if change is None:
        path.write_bytes(path.read_bytes()[:1000])
    else:
        _edit_raw(path, change)
    with pytest.raises(CheckpointError, match=match) as exc:
        hierarchy.load_model(path)
    assert str(path) in str(exc.value)
    assert isinstance(hierarchy.load_model(hierarchy_run / "best.npz"), hierarchy.Neocognitron)
