"""scripts/fig_v1_benchmark.py: the title is computed from the scores (no scoring here, fast)."""

import importlib.util
import sys
from types import SimpleNamespace

import pytest

from v1sim.figures import default_scripts_dir


@pytest.fixture(scope="module")
def fig():
    path = default_scripts_dir() / "fig_v1_benchmark.py"
    spec = importlib.util.spec_from_file_location("fig_v1_benchmark_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there, as v1sim.figures arranges
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _entry(fig, model, layer, kind, score):
    return fig.Entry(model, layer, kind, SimpleNamespace(score=score, ceiling=0.96))


def test_title_names_the_best_model_the_best_network_and_the_floor(fig):
    entries = [
        _entry(fig, "pixels", "-", "floor", 0.30),
        _entry(fig, "HMAX", "S1", "network", 0.46),
        _entry(fig, "macaque sample", "-", "data", 0.63),
        _entry(fig, "Neocognitron", "US1", "network", 0.33),
    ]
    title = fig.title(entries)
    assert "macaque sample scores best, 0.63" in title
    assert "best network HMAX S1 0.46" in title
    assert "raw pixels 0.30" in title


def test_title_follows_the_numbers_when_a_network_wins(fig):
    entries = [_entry(fig, "pixels", "-", "floor", 0.30), _entry(fig, "LeNet-5, trained", "c3", "network", 0.71)]
    entries.append(_entry(fig, "macaque sample", "-", "data", 0.65))
    title = fig.title(entries)
    assert "LeNet-5, trained c3 scores best, 0.71" in title
    assert "best network" not in title  # the best model is the best network
