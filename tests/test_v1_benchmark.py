"""The V1 benchmark (v1sim.biology.benchmark): a macaque-like population beats degenerate ones, the JSON's
keys, the refusals, and Dask's result equal to the serial one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v1sim import physiology
from v1sim.biology import V1_PROPERTIES, property_score
from v1sim.biology.benchmark import ModelSpec, V1Score, build_population, score_many, score_population
from v1sim.errors import InputError

FAST = ("preferred_orientation", "circular_variance", "peak_spatial_frequency", "f1_f0")  # no size patches


def _macaque(n=80, seed=0):
    return physiology.macaque_population(n, ppd=16.0, image_size=64, rng=seed)


def _clones(n=80):
    """n copies of one vertical simple unit: every distribution a single spike."""
    one = dict(theta=[0.0] * n, frequency=[2.0] * n, phase=[0.0] * n, nx=[0.5] * n, ny=[0.5] * n)
    return physiology.MacaquePopulation(**one, simple=[True] * n, ppd=16.0, image_size=64)


class _Silent:
    ppd, image_size, n_units = 8.0, 32, 5

    def responses(self, images):
        return np.zeros((len(images), self.n_units))


def test_macaque_population_beats_identical_units():
    good, bad = score_population(_macaque(), properties=FAST), score_population(_clones(), properties=FAST)
    assert good.score > bad.score + 0.2
    assert good.properties["preferred_orientation"].score > 0.8  # sampled from De Valois's histogram
    assert bad.properties["preferred_orientation"].score < 0.5
    assert isinstance(good, V1Score) and good.n_units == good.n_responsive == 80


def test_macaque_population_scores_near_the_ceiling_on_what_it_was_sampled_from():
    """The issue's check of the protocol: a population sampled from the monkeys' preferred orientations
    (De Valois 1982a) and peak spatial frequencies (De Valois 1982b) scores >= 0.9 of the ceiling on those two
    properties (the ceiled score is raw / ceiling). The other properties are reported, not tuned."""
    population = physiology.macaque_population(400, ppd=16.0, image_size=128, rng=1)  # 8 degrees, as Marques et al.
    result = score_population(population, properties=("preferred_orientation", "peak_spatial_frequency"))
    for name in ("preferred_orientation", "peak_spatial_frequency"):
        assert result.properties[name].n_units >= 380
        assert result.properties[name].score >= 0.9, (name, result.properties[name])


def test_score_is_the_mean_of_the_property_scores_and_repeats_with_the_seed():
    pop = _macaque(40)
    s = score_population(pop, properties=FAST, rng=3)
    assert s.score == pytest.approx(np.mean([p.score for p in s.properties.values()]))
    assert s.ceiling == pytest.approx(np.mean([p.ceiling for p in s.properties.values()]))
    for name in FAST:  # each property is property_score of the measured values
        assert s.properties[name] == property_score(name, s.values[name], rng=3)
    assert score_population(pop, properties=FAST, rng=3).to_dict() == s.to_dict()


def test_to_dict_has_the_issue_keys_and_is_json():
    d = score_population(_macaque(30), properties=FAST).to_dict()
    assert set(d) == {"score", "score_measured", "ceiling", "properties"} and list(d["properties"]) == list(FAST)
    for p in d["properties"].values():
        assert set(p) == {"score", "n_units", "model_median", "monkey_median"}
    assert json.loads(json.dumps(d)) == d


def test_no_responsive_unit_is_an_error_naming_population():
    with pytest.raises(InputError, match="no unit of the population responded") as info:
        score_population(_Silent())
    assert info.value.argument == "population"


def test_a_property_no_unit_has_is_reported_and_counts_zero_in_the_mean():
    pixels = build_population(ModelSpec("pixels", units=16))  # flat orientation curves: no bandwidth
    s = score_population(pixels, properties=("orientation_bandwidth", "f1_f0"))
    band = s.to_dict()["properties"]["orientation_bandwidth"]
    assert band["score"] is None and band["n_units"] == 0 and band["monkey_median"] > 0
    f1f0 = s.properties["f1_f0"].score
    assert f1f0 > 0
    assert s.score == pytest.approx(f1f0 / 2)  # the unmeasured property counts 0: no model gains by lacking one
    assert s.score_measured == f1f0
    ceilings = [s.properties[k].ceiling for k in ("orientation_bandwidth", "f1_f0")]
    assert s.ceiling == pytest.approx(np.mean(ceilings))


def test_model_specs_build_the_named_populations():
    assert build_population(ModelSpec("macaque", units=7)).n_units == 7
    assert build_population("v1sim-cells").n_units == 144
    assert build_population(ModelSpec("pixels")).n_units == 2 * 16 * 16
    lenet = build_population("lenet5")
    assert (lenet.layer, lenet.read_from, lenet.n_units, lenet.ppd) == ("c1", "tanh1", 6, 4.0)
    assert build_population(ModelSpec("hmax", layer="C1")).stage == "UC1"
    sub = build_population(ModelSpec("pixels", units=10, seed=1))
    assert sub.n_units == 10 and sub.responses(np.full((2, 128, 128), 0.5)).shape == (2, 10)


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        (dict(model="nonsense"), "model"),
        (dict(model="lenet5", layer="conv9"), "layer"),
        (dict(model="hmax", layer="S9"), "stage"),
        (dict(model="macaque", layer="c1"), "layer"),
        (dict(model="macaque", fov=0.0), "fov"),
        (dict(model="macaque", units=0), "units"),
        (dict(model="macaque", seed=-1), "seed"),
    ],
)
def test_bad_specs_are_refused_by_name(spec, argument):
    with pytest.raises(InputError) as info:
        build_population(ModelSpec(**spec))
    assert info.value.argument == argument


def test_score_many_refuses_bad_specs_and_addresses():
    with pytest.raises(InputError) as info:
        score_many("macaque")
    assert info.value.argument == "specs"
    with pytest.raises(InputError, match="address") as info:
        score_many(["pixels"], scheduler="not an address")
    assert info.value.argument == "scheduler"


def test_dask_cluster_gives_the_serial_result():
    distributed = pytest.importorskip("distributed")
    specs = [ModelSpec("pixels", units=12, seed=2), ModelSpec("lenet5", seed=1), "neocognitron"]
    serial = [r.to_dict() for r in score_many(specs)]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = [r.to_dict() for r in score_many(specs, scheduler=cluster.scheduler_address)]
    assert remote == serial
    assert len(serial) == 3 and all(set(V1_PROPERTIES) == set(d["properties"]) for d in serial)
