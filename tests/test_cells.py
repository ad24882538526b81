"""v1sim.cells: model neurons against closed forms, the filters they are built from, and the physiology.

The DoG check derives the spatial-frequency response from the Fourier transform
of Gaussians (Einevoll & Plesser 2005): a unit-volume Gaussian
``G(r) = exp(-r^2 / 2 s^2) / (2 pi s^2)`` has the transform ``exp(-2 pi^2 s^2 f^2)``,
so the response of ``k = G_c - w G_s`` to a full-contrast grating
``cos(2 pi f x)`` centred on the field is

    R(f) = exp(-2 (pi f s_c)^2) - w exp(-2 (pi f s_s)^2)

(``A_c = 1``, ``A_s = w`` in their notation; with Croner & Kaplan radii
``r = sqrt(2) s`` this is ``exp(-(pi f r)^2)``). For a grating patch of radius
``a`` the same integral restricted to the disc is
``R(f, a) = int_0^a 2 pi r k(r) J0(2 pi f r) dr`` (evaluated by quadrature).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, special

from v1sim import cells, filters, stimuli

SHAPE = (48, 48)
IMAGE = stimuli.natural_image("camera", size=SHAPE)


# ----------------------------------------------------------------- nonlinearity


def test_nonlinearity_maps_zero_to_spontaneous_and_unit_to_peak():
    for n in (1.0, 2.0, 3.0):
        nl = cells.Nonlinearity(peak=34.0, spontaneous=0.8, exponent=n)
        assert nl(0.0) == pytest.approx(0.8)
        assert nl(1.0) == pytest.approx(34.0)
        g = np.linspace(-1, 2, 50)
        r = nl(g)
        assert np.all(np.diff(r) >= 0) and r.min() == 0.0


def test_nonlinearity_threshold_form():
    nl = cells.Nonlinearity(threshold=0.2, exponent=2.0)
    assert nl.rest_rate == 0.0 and nl(0.2) == 0.0 and nl(1.0) == pytest.approx(nl.peak)
    assert dataclasses.replace(nl, peak=50.0)(1.0) == pytest.approx(50.0)
    v1 = cells.Nonlinearity()
    assert dataclasses.replace(v1, peak=50.0).rest_rate == pytest.approx(0.8) and v1.cutoff < 0
    with pytest.raises(ValueError, match="spontaneous or threshold"):
        cells.Nonlinearity(threshold=0.1, spontaneous=1.0)
    with pytest.raises(ValueError, match="spontaneous"):
        cells.Nonlinearity(peak=10.0, spontaneous=10.0)
    with pytest.raises(ValueError, match="exponent"):
        cells.Nonlinearity(exponent=0)


# ----------------------------------------------------------------- ganglion cells


def test_on_center_fires_to_centre_spot_and_is_suppressed_by_annulus_off_reverse():
    on = cells.GanglionCell(center_radius=1.5, surround_radius=6.0)
    off = cells.GanglionCell(polarity="off", center_radius=1.5, surround_radius=6.0)
    r0 = on.rf_radius
    spot = stimuli.spot(SHAPE, r0)
    ring = stimuli.annulus(SHAPE, r0, 20.0)
    spont = on.spontaneous_rate
    assert on.response(spot) > 3 * spont
    assert on.response(ring) < 0.5 * spont
    assert off.response(spot) < 0.5 * spont
    assert off.response(ring) > 2 * spont
    # a dark spot is the OFF cell's preferred stimulus
    assert off.response(stimuli.spot(SHAPE, r0, polarity="dark")) == pytest.approx(on.response(spot))


@pytest.mark.parametrize("f", [0.005, 0.02, 0.04, 0.06, 0.1, 0.15, 0.2, 0.3])
def test_dog_grating_response_matches_einevoll_plesser(f):
    cell = cells.GanglionCell(center_radius=2.0, surround_radius=6.0)  # surround weight 0.55
    sc, ss = cell.sigmas
    closed = math.exp(-2 * (math.pi * f * sc) ** 2) - 0.55 * math.exp(-2 * (math.pi * f * ss) ** 2)
    model = cell.raw_drives(stimuli.grating((64, 64), f))[0, 0]  # contrast 1, crest on the centre
    assert model == pytest.approx(closed, abs=2e-3)
    # the same, in units of the optimal grating, is what the nonlinearity sees
    assert cell.drive(stimuli.grating((64, 64), f)) == pytest.approx(closed / cell.unit_drive, abs=5e-3)


@pytest.mark.parametrize("f, a", [(0.0, 4.0), (0.02, 4.0), (0.06, 6.0), (0.1, 6.0), (0.15, 10.0)])
def test_dog_grating_patch_response_matches_disc_integral(f, a):
    cell = cells.GanglionCell(center_radius=2.0, surround_radius=6.0)
    sc, ss = cell.sigmas

    def k(r):
        return math.exp(-r * r / (2 * sc * sc)) / (2 * math.pi * sc * sc) - 0.55 * math.exp(-r * r / (2 * ss * ss)) / (
            2 * math.pi * ss * ss
        )

    closed = integrate.quad(lambda r: 2 * math.pi * r * k(r) * special.j0(2 * math.pi * f * r), 0, a)[0]
    patch = stimuli.spot((64, 64), a) if f == 0 else stimuli.grating((64, 64), f, mask="circle", mask_radius=a)
    model = cell.raw_drives(patch)[0, 0]  # f = 0: a light spot, the area-summation limit
    assert model == pytest.approx(closed, rel=0.01, abs=2e-3)  # the disc is area-sampled on pixels


def test_ganglion_kernel_is_filters_dog_kernel_at_a_pixel_centre():
    cell = cells.GanglionCell(center_radius=math.sqrt(2), surround_radius=4 * math.sqrt(2), center=(20, 22))
    k = filters.dog_kernel(1.0, 4.0, surround_weight=0.55, dtype=np.float64)
    h = k.shape[0] // 2
    rf = cell.receptive_field(SHAPE) * cell.unit_drive
    np.testing.assert_allclose(rf[22 - h : 22 + h + 1, 20 - h : 20 + h + 1], k, atol=1e-12)
    assert cell.preferred_orientation == 0.0


# ----------------------------------------------------------------- Gabor-based cells


def test_simple_cell_kernel_is_filters_gabor_kernel_at_a_pixel_centre():
    cell = cells.SimpleCell(theta=0.3, frequency=0.1, phase=0.7, center=(24, 24))
    k = filters.gabor_kernel(0.1, theta=0.3, phase=0.7, dtype=np.float64)
    h = k.shape[0] // 2
    rf = cell.receptive_field(SHAPE) * cell.unit_drive
    np.testing.assert_allclose(rf[24 - h : 24 + h + 1, 24 - h : 24 + h + 1], k, atol=1e-12)


@pytest.mark.parametrize(
    "cell",
    [
        cells.SimpleCell(theta=0.5, frequency=0.15),
        cells.ComplexCell(theta=0.5, frequency=0.15),
        cells.ComplexCell(theta=0.5, frequency=0.15, energy="squared"),
        cells.MaxComplexCell(theta=0.5, frequency=0.15),
        cells.GanglionCell(center_radius=2.0, surround_radius=6.0),
    ],
    ids=["simple", "energy", "energy-squared", "max", "ganglion"],
)
def test_optimal_grating_drives_the_cell_at_its_peak_rate(cell):
    f, th = cell.preferred_frequency, cell.preferred_orientation
    best = max(cell.response(stimuli.grating((64, 64), f, theta=th, phase=p)) for p in np.linspace(0, 2 * np.pi, 64))
    assert best == pytest.approx(cell.nonlinearity.peak, rel=0.01)
    assert abs(cell.preferred_frequency - 0.15) < 0.02 or isinstance(cell, cells.GanglionCell)


def test_ppd_gives_the_same_cell_in_degrees():
    px = cells.SimpleCell(theta=0.2, frequency=0.15, sigma_x=4.0, sigma_y=6.0, center=(20.0, 26.0))
    deg = cells.SimpleCell(theta=0.2, frequency=3.0, sigma_x=0.2, sigma_y=0.3, center=(1.0, 1.3), ppd=20.0)
    assert deg.response(IMAGE) == pytest.approx(px.response(IMAGE), rel=1e-9)
    assert deg.preferred_frequency == pytest.approx(20.0 * px.preferred_frequency)


def test_subpixel_centre_is_symmetric():
    cell = cells.ComplexCell(theta=0.0, frequency=0.12)  # centre (23.5, 23.5) of a 48x48 image
    r = [cell.response(stimuli.grating(SHAPE, 0.12, theta=t)) for t in (0.3, -0.3, np.pi - 0.3)]
    assert r[0] == pytest.approx(r[1], rel=1e-6) and r[0] == pytest.approx(r[2], rel=1e-6)


def test_response_shapes_and_input_untouched():
    cell = cells.SimpleCell()
    movie = stimuli.drifting_grating(SHAPE, 0.1, 4.0, 0.2, dt=0.01)
    before = movie.copy()
    r = cell.response(movie)
    assert r.shape == (20,) and r.dtype == np.float64
    assert isinstance(cell.response(movie[0]), float)
    np.testing.assert_array_equal(movie, before)
    # a receptive field partly off the image sees the mean grey beyond it
    edge_cell = cells.SimpleCell(center=(0.0, 0.0))
    assert np.isfinite(edge_cell.response(IMAGE))
    assert cells.SimpleCell(center=(500.0, 500.0)).response(IMAGE) == pytest.approx(cell.spontaneous_rate)


# ----------------------------------------------------------------- Hubel & Wiesel's construction


@pytest.mark.parametrize("theta", [0.0, np.pi / 4, 1.2])
def test_line_detector_from_centre_surround_units_prefers_its_orientation(theta):
    cell = cells.HubelWieselCell(theta=theta, center_radius=1.5, surround_radius=5.0, n_subunits=7)
    angles = np.arange(16) * np.pi / 16
    bars = np.stack([stimuli.bar(SHAPE, 24, 2.0, theta=t) for t in angles])
    rates = cell.response(bars)
    best = angles[np.argmax(rates)]
    assert min(abs(best - theta), np.pi - abs(best - theta)) <= np.pi / 16 + 1e-9
    orth = cell.response(stimuli.bar(SHAPE, 24, 2.0, theta=theta + np.pi / 2))
    assert cell.response(stimuli.bar(SHAPE, 24, 2.0, theta=theta)) > 2 * orth


def test_edge_detectors_from_offset_on_and_off_rows():
    d2l = cells.HubelWieselCell(kind="dark-to-light", center_radius=1.5, surround_radius=5.0)
    l2d = cells.HubelWieselCell(kind="light-to-dark", center_radius=1.5, surround_radius=5.0)
    up = stimuli.edge(SHAPE, kind="dark-to-light")
    down = stimuli.edge(SHAPE, kind="light-to-dark")
    assert d2l.response(up) > 5 * d2l.response(down)
    assert l2d.response(down) > 5 * l2d.response(up)
    dark = cells.HubelWieselCell(kind="dark-line", center_radius=1.5, surround_radius=5.0)
    assert dark.response(stimuli.bar(SHAPE, 30, 2, polarity="dark")) > 5 * dark.response(stimuli.bar(SHAPE, 30, 2))


def test_linear_hubel_wiesel_cell_is_its_summed_field():
    cell = cells.HubelWieselCell(theta=0.4, rectify=False, nonlinearity=cells.Nonlinearity(spontaneous=0.0))
    rf = cell.receptive_field(SHAPE)
    c = (IMAGE.astype(np.float64) - 0.5) / 0.5
    assert cell.drive(IMAGE) == pytest.approx(float((rf * c).sum()), rel=1e-9)


# ----------------------------------------------------------------- populations (kernel layer)


def test_population_maps_agree_with_single_cells():
    bank = filters.gabor_bank((0.15,), 4, (0.0, np.pi / 2))
    x, y = 24, 20
    p = bank.params[2]  # theta = pi/4, phase 0
    single = dict(theta=p["theta"], frequency=0.15, center=(x, y))
    maps = cells.simple_cells(IMAGE, bank, output="drive")
    assert maps[2, y, x] == pytest.approx(cells.SimpleCell(**single).drive(IMAGE), rel=2e-3, abs=1e-4)
    energy = cells.complex_cells(IMAGE, bank, output="drive")
    assert energy[1, y, x] == pytest.approx(cells.ComplexCell(**single).drive(IMAGE), rel=2e-3)
    pooled = cells.complex_cells(IMAGE, bank, model="max", pool_size=7, output="drive")
    assert pooled[1, y, x] == pytest.approx(cells.MaxComplexCell(pool_size=6, **single).drive(IMAGE), rel=2e-3)
    hyper = cells.hypercomplex_cells(IMAGE, bank, output="drive")
    assert hyper[1, y, x] == pytest.approx(cells.HypercomplexCell(**single).drive(IMAGE), rel=2e-2)
    dogs = filters.dog_bank((1.0,), surround_ratio=4.0, surround_weight=0.55)
    gmap = cells.ganglion_cells(IMAGE, dogs, output="drive")
    g = cells.GanglionCell(center_radius=math.sqrt(2), surround_radius=4 * math.sqrt(2), center=(x, y))
    assert gmap[0, y, x] == pytest.approx(g.drive(IMAGE), rel=1e-3)
    assert gmap[1, y, x] == pytest.approx(-g.drive(IMAGE), rel=1e-3)


def test_population_shapes_dtypes_and_rates():
    batch = np.stack([IMAGE, IMAGE[::-1]])
    s = cells.simple_cells(batch)
    assert s.shape == (2, 32, 48, 48) and s.dtype == np.float32 and s.min() >= 0
    assert cells.simple_cells(IMAGE).shape == (32, 48, 48)
    assert cells.complex_cells(batch).shape == (2, 16, 48, 48)
    assert cells.complex_cells(batch, model="max").shape == (2, 16, 48, 48)
    assert cells.hypercomplex_cells(IMAGE.astype(np.float64)).dtype == np.float64
    grey = np.full(SHAPE, 0.5, np.float32)
    np.testing.assert_allclose(cells.ganglion_cells(grey), 20.0, rtol=1e-6)  # spontaneous everywhere


# ----------------------------------------------------------------- errors


def test_bad_inputs_raise_clear_errors():
    cell = cells.SimpleCell()
    with pytest.raises(ValueError, match="stimulus must be 2-D or 3-D"):
        cell.response(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="stimulus"):
        cell.response(np.zeros(8))
    with pytest.raises(TypeError, match="stimulus"):
        cell.response("image")
    with pytest.raises(ValueError, match="polarity"):
        cells.GanglionCell(polarity="both")
    with pytest.raises(ValueError, match="surround_radius"):
        cells.GanglionCell(center_radius=3.0, surround_radius=2.0)
    with pytest.raises(ValueError, match="center_radius"):
        cells.GanglionCell(center_radius=-1.0)
    with pytest.raises(ValueError, match="frequency"):
        cells.SimpleCell(frequency=0.7)
    with pytest.raises(ValueError, match="kind"):
        cells.HubelWieselCell(kind="corner")
    with pytest.raises(ValueError, match="energy"):
        cells.ComplexCell(energy="cubed")
    with pytest.raises(TypeError, match="nonlinearity"):
        cells.SimpleCell(nonlinearity=np.sqrt)
    with pytest.raises(ValueError, match="center"):
        cells.SimpleCell(center=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="quadrature pairs"):
        cells.complex_cells(IMAGE, filters.gabor_bank((0.1,), 3, (0.0,)))
    with pytest.raises(ValueError, match="model"):
        cells.complex_cells(IMAGE, model="mean")
    with pytest.raises(ValueError, match="images"):
        cells.simple_cells(np.zeros((1, 2, 8, 8)))


def test_subunit_centres_lie_on_the_line_through_the_centre():
    cell = cells.HubelWieselCell(theta=0.0, center_radius=1.5, surround_radius=5.0, n_subunits=5)
    centres = cell.subunit_centres((41, 41))
    assert len(centres) == 5
    dx, dy, sign = np.array(centres).T
    assert np.all(sign == 1)  # light-line: ON-centre units
    assert np.ptp(dy) > 4 * np.ptp(dx) or np.ptp(dx) > 4 * np.ptp(dy)  # collinear along one axis
    assert abs(np.mean(dx)) <= 0.5 and abs(np.mean(dy)) <= 0.5  # the row is centred
    off = cells.HubelWieselCell(kind="dark-line", center_radius=1.5, surround_radius=5.0, n_subunits=3)
    assert {s for _, _, s in off.subunit_centres((41, 41))} == {-1.0}
