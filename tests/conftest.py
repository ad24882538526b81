"""Test-suite settings.

Hypothesis runs derandomized by default, so CI sees the same examples on every
run (a property test must not pass or fail by luck); set
``HYPOTHESIS_PROFILE=explore`` to search fresh random examples locally.

Tests marked ``cuda`` (the CUDA twins, ``tests/cuda/``) need a GPU or Numba's
CUDA simulator, which is switched on by ``NUMBA_ENABLE_CUDASIM=1`` in the
environment *before* Numba is imported, so it cannot be turned on from here.
When neither is usable they are skipped with the reason and the command that
runs them::

    NUMBA_ENABLE_CUDASIM=1 python3 -m pytest -m cuda
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

RUN_CUDA_TESTS = "NUMBA_ENABLE_CUDASIM=1 python3 -m pytest -m cuda"


def cuda_unavailable_reason() -> str | None:
    """None when numba.cuda can run kernels (a GPU, or the simulator), else why not."""
    try:
        from numba import cuda

        if cuda.is_available():
            return None
        detail = "numba.cuda.is_available() is False"
    except Exception as exc:  # noqa: BLE001 -- numba-cuda absent or broken (any error): skip, do not error
        detail = f"numba.cuda cannot be imported ({type(exc).__name__}: {exc})"
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return f"NUMBA_ENABLE_CUDASIM=1 is set but the simulator is unusable: {detail}"
    return f"no CUDA GPU ({detail}); run them in Numba's simulator with: {RUN_CUDA_TESTS}"


@pytest.hookimpl(trylast=True)  # after -m has deselected: `-m "not cuda"` never imports numba.cuda
def pytest_collection_modifyitems(config, items):
    cuda_items = [item for item in items if item.get_closest_marker("cuda")]
    reason = cuda_unavailable_reason() if cuda_items else None
    if reason:
        for item in cuda_items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def lenet5_curve():
    """``curve()``: 30 float32 SGD steps of LeNet-5 on 32 random images, as ``(losses, parameters)``, to compare
    two convolution paths (the test monkeypatches one off between two calls)."""
    import numpy as np

    from v1sim import nn
    from v1sim.nn import models

    def curve(steps=30):
        rng = np.random.default_rng(0)
        x, y = rng.random((32, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 32)
        model, crit = models.build("lenet5", rng=0), nn.CrossEntropyLoss()
        opt = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for _ in range(steps):
            losses.append(crit(model(x), y))
            model.zero_grad()
            model.backward(crit.backward(), input_grad=False)
            opt.step()
        return np.array(losses), [p.data.copy() for p in model.parameters()]

    return curve
