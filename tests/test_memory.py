"""Peak memory in `v1sim train`'s result, and the thread owners `v1sim info` states (issue 15)."""

from __future__ import annotations

import json
import mmap
import sys

import numpy as np
import pytest

from v1sim.backend import peak_rss_mb, thread_owners
from v1sim.cli import main

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


def _status_mb(field) -> float:
    """A line of /proc/self/status (kB) in MB: the kernel's own count, an oracle that is not getrusage."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024 / 1e6


@linux_only
def test_peak_rss_is_the_kernels_high_water_mark_and_grows_with_touched_memory():
    assert peak_rss_mb() == pytest.approx(_status_mb("VmHWM"), rel=0.02)
    before, resident = peak_rss_mb(), _status_mb("VmRSS")
    # a fresh anonymous mapping, every page touched: 200 MB past the old peak. Not np.ones: the allocator may
    # hand back freed blocks it keeps resident (v1sim.backend.retain_freed_memory), which RSS already counts
    block = mmap.mmap(-1, int((before - resident + 200) * 1e6))
    np.frombuffer(block, dtype=np.uint8)[:: mmap.PAGESIZE] = 1
    after = peak_rss_mb()
    assert after >= before + 0.9 * 200
    block.close()
    assert peak_rss_mb() >= after  # a peak: freeing does not lower it


def test_train_convnet_reports_peak_memory_in_json_and_summary(tmp_path, capsys):
    argv = ["train", "lenet5", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["peak_rss_mb"] > 0
    assert result["peak_rss_mb"] <= peak_rss_mb()  # measured before now, in this process
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("lenet5 on digits: test error") and ", peak memory " in line and " MB)" in line


def test_info_states_which_pool_owns_which_work(capsys):
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    threads = facts["threads"]
    assert threads == json.loads(json.dumps(thread_owners()))  # the same report, JSON-clean
    assert {"owners", "numba_threads", "numba_threading_layer", "blas_threads_in_v1sim", "gemm_workers", "blas"} <= (
        threads.keys()
    )
    assert threads["numba_threads"] == facts["numba_threads"] >= 1
    assert threads["blas_threads_in_v1sim"] == 1
    assert any(owner == "numba" for owner in threads["owners"].values())
    assert any(owner.startswith("BLAS on 1 thread") for owner in threads["owners"].values())
    from threadpoolctl import threadpool_info

    blas = [m for m in threadpool_info() if m["user_api"] == "blas"]
    assert [lib["internal_api"] for lib in threads["blas"]] == [m["internal_api"] for m in blas]
    assert [lib["architecture"] for lib in threads["blas"]] == [m.get("architecture") for m in blas]
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert "one owner at a time" in text and "kernel " in text


# ----------------------------------------------------------------------------- S4 learning in blocks


def _reference_supervised_learning(features, labels, *, r, max_planes, c_taper, batch_size):
    """The S4 rule as it was before its buffers went into blocks: one growing buffer, one product per batch."""
    from v1sim.hierarchy import connection_kernel

    def unit_rows(rows):
        u = np.asarray(rows, dtype=np.float64) * wvec
        u /= np.maximum(np.sqrt((u * u).sum(axis=1, keepdims=True)), 1e-12)
        return u.astype(np.float32)

    n, ch, h, w = features.shape
    d = ch * h * w
    wvec = np.sqrt(np.broadcast_to(connection_kernel((h, w), c_taper * max(h, w)), (ch, h, w))).reshape(-1)
    wvec = wvec.astype(np.float64)
    theta = r / (1.0 + r)
    sums, units = np.zeros((max_planes, d), np.float32), np.zeros((max_planes, d), np.float32)
    labs, counts, k0 = np.zeros(max_planes, np.int64), np.zeros(max_planes, np.int64), 0
    for b0 in range(0, n, batch_size):
        fb = features[b0 : b0 + batch_size].reshape(-1, d)
        fw = unit_rows(fb)
        sims = fw @ units[:k0].T
        kn, reinforced = 0, set()
        for i in range(len(fb)):
            if not fw[i].any():
                continue
            s = np.concatenate([sims[i], units[k0 : k0 + kn] @ fw[i]]) if kn else sims[i]
            k = int(s.argmax()) if s.size else -1
            if k >= 0 and labs[k] == labels[b0 + i] and s[k] > theta:
                sums[k] += fb[i]
                counts[k] += 1
                if k < k0:
                    reinforced.add(k)
                else:
                    units[k] = unit_rows(sums[k : k + 1])[0]
            elif k0 + kn < max_planes:
                sums[k0 + kn], units[k0 + kn], labs[k0 + kn], counts[k0 + kn] = fb[i], fw[i], labels[b0 + i], 1
                kn += 1
        if reinforced:
            rows = np.array(sorted(reinforced))
            units[rows] = unit_rows(sums[rows])
        k0 += kn
    return {"templates": sums[:k0].reshape(-1, ch, h, w), "labels": labs[:k0], "counts": counts[:k0]}


@pytest.mark.parametrize("max_planes", [5000, 150])
def test_s4_learning_in_blocks_equals_one_buffer_bit_for_bit(max_planes):
    from v1sim.hierarchy.learning import supervised_learning

    rng = np.random.default_rng(3)
    centres = rng.random((200, 2, 5, 5)).astype(np.float32)  # clusters: prototypes are born and reinforced
    pick = rng.integers(0, 200, 900)
    feats = np.clip(centres[pick] + 0.15 * rng.standard_normal((900, 2, 5, 5)), 0, None).astype(np.float32)
    feats[17] = 0.0  # a silent map teaches nothing
    labels = pick % 10
    kw = dict(r=10.0, max_planes=max_planes, c_taper=0.5, batch_size=64)
    want = _reference_supervised_learning(feats, labels, **kw)
    assert 64 < len(want["labels"]) <= max_planes and want["counts"].max() > 3  # both rules exercised
    for block_rows in (7, 64, 4096):  # blocks that split batches, one a batch, one for all
        got = supervised_learning(feats, labels, **kw, block_rows=block_rows)
        for key in ("templates", "labels", "counts"):
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{key}, block_rows {block_rows}")
        part = supervised_learning(feats, labels, **kw, block_rows=block_rows, should_stop=lambda: True)
        rest = supervised_learning(feats, labels, **kw, block_rows=block_rows, state=part)
        for key in ("templates", "labels", "counts"):
            np.testing.assert_array_equal(rest[key], want[key], err_msg=f"resumed {key}, block_rows {block_rows}")


def test_class_by_class_scores_equal_the_scores_of_all_prototypes_at_once():
    """Up to BLAS's rounding: the order of a dot product's sums may depend on how a product is cut."""
    from v1sim.hierarchy import PrototypeClassifier

    rng = np.random.default_rng(7)
    templates = rng.random((120, 48, 7, 7)).astype(np.float32)  # UC3's size: 2,352 values
    labels = rng.integers(0, 4, 120)
    labels[labels == 2] = 3  # a class without prototypes
    clf = PrototypeClassifier(templates, labels)
    x = rng.random((53, 48, 7, 7)).astype(np.float32)
    x[3] = templates[5]  # its own prototype: cosine 1
    x[4] = 0.0  # a blank map: every cosine 0, the first prototype's label (as argmax over all)
    s = clf.similarity(x)
    clear = np.sort(s, axis=1)[:, -1] - np.sort(s, axis=1)[:, -2] > 1e-5  # no near-tie between two prototypes
    clear[4] = True
    for candidates, batch in ((5, 9), (1, 100), (16, 20)):
        nearest, scores = clf.class_scores(x, candidates, batch_size=batch)
        np.testing.assert_array_equal(nearest[clear], clf.labels[s.argmax(axis=1)][clear])
        np.testing.assert_allclose(scores, clf.intvec_scores(s, candidates), rtol=1e-6, atol=0)
    assert clear.sum() > 40 and nearest[3] == labels[5] and nearest[4] == labels[0]
    assert np.isneginf(scores[:, 2]).all() and np.isfinite(scores[:, [0, 1, 3]]).all()
