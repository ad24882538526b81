"""v1sim.biology.similarity: Brain-Score's KS similarity of a model's V1 properties to macaque V1, and its ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from v1sim import biology as B
from v1sim.errors import InputError, NonFiniteError


def _sample_from_data(name: str, n: int = 20_000, seed: int = 1) -> np.ndarray:
    """Model values that follow the monkey histogram: a bin by its count, then uniformly inside it."""
    d = B.v1_property(name)
    rng = np.random.default_rng(seed)
    k = rng.choice(d.counts.size, size=n, p=d.counts / d.n)
    return d.bins[k] + (d.bins[k + 1] - d.bins[k]) * rng.random(n)


@pytest.mark.parametrize("name", B.V1_PROPERTIES)
def test_the_monkey_distribution_scores_one(name):
    s = B.property_score(name, _sample_from_data(name))
    assert s.name == name and s.n_units == 20_000
    assert s.raw == pytest.approx(s.ceiling, abs=0.01)  # the same sampling noise on both sides
    assert s.score > 0.985
    assert s.monkey_median == B.v1_property(name).median()


def test_scores_fall_monotonically_with_the_shift():
    base = _sample_from_data("peak_spatial_frequency")
    scores = [B.property_score("peak_spatial_frequency", base * 2.0**octaves).score for octaves in (0, 0.5, 1, 2, 3)]
    assert scores[0] > 0.98 and scores[-1] < 0.3
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    width = _sample_from_data("orientation_bandwidth")
    scores = [B.property_score("orientation_bandwidth", width + d).score for d in (0, 5, 10, 20)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores


def test_all_units_in_one_bin_scores_the_closed_form():
    # every unit above 22.4 cyc/deg falls in the last bin: KS = 1 - q_last against KS_max = 1 - q_first
    d = B.v1_property("peak_spatial_frequency")
    q = d.counts / d.n
    s = B.property_score("peak_spatial_frequency", np.full(50, 40.0))
    assert s.raw == pytest.approx(1.0 - (1.0 - q[-1]) / (1.0 - min(q[0], q[-1])), abs=1e-12)
    assert s.score == pytest.approx(s.raw / s.ceiling) and s.model_median == 40.0


def test_orientations_score_the_same_a_period_apart():
    theta = _sample_from_data("preferred_orientation", n=500)
    a = B.property_score("preferred_orientation", theta)
    b = B.property_score("preferred_orientation", theta + 180.0)
    assert a.raw == b.raw and a.model_median == pytest.approx(b.model_median)


def test_nan_units_are_left_out():
    values = _sample_from_data("f1_f0", n=300)
    with_nan = np.concatenate([values, np.full(40, np.nan)])
    a, b = B.property_score("f1_f0", values), B.property_score("f1_f0", with_nan)
    assert b.n_units == 300 and a.raw == b.raw


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], np.full(7, np.nan)])
def test_a_model_with_no_measurable_unit_is_refused_by_name(values):
    with pytest.raises(InputError, match="no unit") as err:
        B.property_score("circular_variance", values)
    assert err.value.argument == "model_values"


def test_infinite_values_are_refused():
    with pytest.raises(NonFiniteError) as err:
        B.property_score("spatial_frequency_bandwidth", [1.0, np.inf])
    assert err.value.argument == "model_values"


def test_ceiling_is_deterministic_for_a_seed():
    assert B.ceiling("f1_f0", rng=3) == B.ceiling("f1_f0", rng=3)
    assert B.ceiling("f1_f0", rng=3) == B.ceiling("f1_f0", rng=np.random.default_rng(3))  # the cache hides nothing
    assert B.ceiling("f1_f0", rng=3) == pytest.approx(B.ceiling("f1_f0", rng=4), abs=0.005)
    assert B.property_score("f1_f0", [0.3, 1.5], rng=7) == B.property_score("f1_f0", [0.3, 1.5], rng=7)


@pytest.mark.parametrize("name", ["surround_diameter", "peak_spatial_frequency", "spatial_frequency_bandwidth"])
def test_split_half_ceiling_sits_where_sampling_noise_puts_it(name):
    # KS between samples of m and n cells scales as sqrt(1/m + 1/n): two halves (sqrt(4/n)) are twice as far
    # apart as a bootstrap sample of n from the data (sqrt(1/n))
    boot, split = B.ceiling(name), B.ceiling(name, method="split-half")
    assert 0.0 < split < boot < 1.0
    assert 1.6 < (1.0 - split) / (1.0 - boot) < 2.4
    s = B.property_score(name, _sample_from_data(name), method="split-half")
    assert s.ceiling == split and s.score == 1.0  # raw above the split-half ceiling: clipped


def test_unknown_names_and_methods_are_refused():
    with pytest.raises(InputError) as err:
        B.property_score("orientation", [1.0])
    assert err.value.argument == "name"
    with pytest.raises(InputError) as err:
        B.ceiling("f1_f0", method="jackknife")
    assert err.value.argument == "method"
