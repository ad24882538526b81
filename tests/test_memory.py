"""Peak memory in `v1sim train`'s result, and the thread owners `v1sim info` states (issue 15)."""

from __future__ import annotations

import json
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
    block = np.ones(int((before - resident + 200) * 1e6) // 8)  # every page touched: 200 MB past the old peak
    after = peak_rss_mb()
    assert after >= before + 0.9 * 200
    del block
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
