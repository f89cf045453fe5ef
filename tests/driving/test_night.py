"""driving.Night: exposure drop in linear light, illuminant tint, Poisson–Gaussian noise."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.kit import luminance
from domaug_driving import radiometry, sensor

Night = domaug.registry.get_transform_class("driving.Night")
QUIET = dict(shot_noise=0.0, read_noise=0.0, sky_factor=1.0, street_lights=0, vehicle_lights=False)


@pytest.mark.parametrize("stops", [1.0, 3.0, 5.5])
def test_mean_linear_luminance_drops_by_two_to_the_stops(stops):
    img = np.random.default_rng(1).uniform(0.05, 0.9, (32, 48, 3)).astype(np.float32)
    out = Night(stops=stops, white_balance_shift=0.7, illuminant="sodium", **QUIET)(image=img, rng=0)["image"]
    ratio = luminance(img).mean() / luminance(out).mean()
    assert ratio == pytest.approx(2.0**stops, rel=0.02)


def test_uint8_luminance_drop_measured_in_linear_light():
    img = np.random.default_rng(2).integers(40, 256, (40, 40, 3)).astype(np.uint8)
    out = Night(stops=2.0, white_balance_shift=0.0, **QUIET)(image=img, rng=0)["image"]
    y = lambda a: luminance(radiometry.decode(a)).mean()  # noqa: E731
    assert y(img) / y(out) == pytest.approx(4.0, rel=0.05)


def test_sodium_light_is_orange():
    img = np.full((16, 16, 3), 0.5, np.float32)
    out = Night(stops=1.0, white_balance_shift=1.0, illuminant="sodium", **QUIET)(image=img, rng=0)["image"]
    r, g, b = out[0, 0]
    assert r > g > b


def test_noise_variance_is_affine_in_signal():
    shot, read = 0.004, 2e-4
    levels = np.array([0.4, 0.8, 1.2, 1.6, 2.0], np.float32)  # input linear; × 2^-2 → 0.1 … 0.5
    img = np.repeat(levels, 160)[None, :, None].repeat(160, 0).repeat(3, 2).astype(np.float32)
    t = Night(stops=2.0, white_balance_shift=0.0, shot_noise=shot, read_noise=read,
              sky_factor=1.0, street_lights=0, vehicle_lights=False)
    out = t(image=img, rng=11)["image"]
    signal, var = [], []
    for i, lv in enumerate(levels):
        patch = out[:, i * 160 : (i + 1) * 160]
        signal.append(lv / 4.0)
        var.append(patch.var())
    slope, intercept = np.polyfit(signal, var, 1)
    assert slope == pytest.approx(shot, rel=0.05)
    assert intercept == pytest.approx(read, abs=1e-4)


def test_fast_normal_is_standard_and_seeded():
    a = sensor.fast_normal((200_000,), seed=3)
    assert abs(a.mean()) < 0.01 and a.std() == pytest.approx(1.0, abs=0.01)
    np.testing.assert_array_equal(a, sensor.fast_normal((200_000,), seed=3))
    assert not np.array_equal(a, sensor.fast_normal((200_000,), seed=4))


def test_lights_and_sky_darkening_on_a_road_frame():
    h, w = 60, 80
    img = np.zeros((h, w, 3), np.uint8)
    img[:30] = (150, 190, 240)  # sky
    img[30:] = (90, 90, 90)
    boxes = np.array([[30, 32, 50, 45, 1]], float)
    dark = Night(stops=3, street_lights=0, vehicle_lights=False, sky_factor=0.1, shot_noise=0.0, read_noise=0.0)
    lit = Night(stops=3, street_lights=3, vehicle_lights=True, sky_factor=0.1, shot_noise=0.0, read_noise=0.0)
    a = dark(image=img, bboxes=boxes, rng=4)["image"].astype(float)
    b = lit(image=img, bboxes=boxes, rng=4)["image"].astype(float)
    assert a[5:25].mean() < a[35:].mean()  # the bright day sky is darker than the road at night
    flat = np.full((h, w, 3), 0.5, np.float32)
    flat[:30] = (0.3, 0.5, 0.9)
    quiet = dict(stops=3, street_lights=0, vehicle_lights=False, shot_noise=0.0, read_noise=0.0, white_balance_shift=0)
    dim = Night(sky_factor=0.1, **quiet)(image=flat, rng=0)["image"]
    ref = Night(sky_factor=1.0, **quiet)(image=flat, rng=0)["image"]
    assert dim[5:25].mean() / ref[5:25].mean() == pytest.approx(0.1, rel=1e-3)
    np.testing.assert_allclose(dim[35:], ref[35:])
    assert b.sum() > a.sum()  # lamps add light
    car = b[32:45, 30:50]
    assert (car[..., 0] - car[..., 2]).max() > 20  # red tail lights


def test_reproducible_and_input_untouched():
    img = np.random.default_rng(0).integers(0, 256, (30, 40, 3)).astype(np.uint8)
    before = img.copy()
    a = Night()(image=img, rng=9)
    b = Night()(image=img, rng=9)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(img, before)
    assert a["image"].mean() < img.mean()


def test_refuses_grayscale():
    with pytest.raises(domaug.UnsupportedInputError, match="RGB"):
        Night()(image=np.zeros((8, 8), np.float32))


def test_vehicle_labels_choose_which_boxes_get_tail_lights():
    img = np.full((60, 80, 3), 60, np.uint8)
    boxes = np.array([[5, 30, 35, 50, 1], [45, 30, 75, 50, 7]], float)  # label 1 = car, 7 = pedestrian
    t = Night(stops=3, street_lights=0, shot_noise=0.0, read_noise=0.0, sky_factor=1.0, white_balance_shift=0.0,
              vehicle_labels=[1])
    out = t(image=img, bboxes=boxes, rng=0)
    assert out["applied"][0]["params"]["vehicle_lights"] == [0]
    o = out["image"].astype(int)
    redness = lambda a: (a[..., 0] - a[..., 2]).max()  # noqa: E731
    assert redness(o[30:50, 5:35]) > 20 and redness(o[30:50, 45:75]) < 5
    with pytest.raises(domaug.ParameterError, match="vehicle_labels"):
        Night(vehicle_labels="cars")


def test_daylight_between_twigs_at_the_sky_line_is_darkened_like_the_sky():
    # a fringe of 1-px twigs along the tree line (finer than the coarse sky grid, and not
    # smooth): the sky seen between them must be darkened much like the sky (no bright rim)
    h, w = 512, 512
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (0.05, 0.08, 0.04)  # dark ground and foliage
    img[:200] = (0.35, 0.55, 0.95)  # open sky
    twigs = np.random.default_rng(0).random((8, w)) < 0.4
    img[200:208][~twigs] = (0.35, 0.55, 0.95)  # daylight between the twigs
    quiet = dict(stops=3, street_lights=0, vehicle_lights=False, shot_noise=0.0, read_noise=0.0,
                 white_balance_shift=0, horizon_row=300.0)
    dim = Night(sky_factor=0.1, **quiet)(image=img, rng=0)["image"]
    ref = Night(sky_factor=1.0, **quiet)(image=img, rng=0)["image"]
    ratio_gaps = dim[200:208][~twigs].mean() / ref[200:208][~twigs].mean()
    assert dim[20:120].mean() / ref[20:120].mean() == pytest.approx(0.1, rel=1e-3)
    assert ratio_gaps < 0.7  # the sky grown through the fringe (without: 0.89, a bright rim)
    np.testing.assert_allclose(dim[240:290], ref[240:290])  # the ground is not darkened
