"""driving.Rain: streak statistics follow rain rate and wind; veil; wet road; reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.kit import luminance
from domaug_driving import radiometry, streaks

Rain = domaug.registry.get_transform_class("driving.Rain")
STREAKS_ONLY = dict(wetness=0.0, veil=False, exposure_ms=5.0, streak_brightness=2.0)


def _grey(h=120, w=160, v=50):
    return np.full((h, w, 3), v, np.uint8)


def test_streak_coverage_grows_with_rain_rate():
    img = _grey(240, 320, 30)
    frac, mean = [], []
    for r in (1.0, 5.0, 25.0, 100.0):
        out = Rain(rain_rate_mm_h=r, wind_mps=0.0, **STREAKS_ONLY)(image=img, rng=1)["image"]
        d = np.abs(out.astype(int) - img.astype(int)).max(axis=-1)
        frac.append(float((d >= 1).mean()))
        mean.append(float(d.mean()))
    assert all(np.diff(frac) > 0), frac
    assert all(np.diff(mean) > 0), mean
    assert frac[0] > 0 and frac[-1] > 20 * frac[0]


def test_contrast_loss_grows_with_rain_rate():
    yy, xx = np.mgrid[0:96, 0:128]
    img = np.where(((xx // 8 + yy // 8) % 2)[..., None] == 0, 40, 200).astype(np.uint8).repeat(3, 2)
    depth = np.full((96, 128), 150.0, np.float32)
    contrast = []
    for r in (2.0, 10.0, 50.0, 150.0):
        out = Rain(rain_rate_mm_h=r, wetness=0.0, wind_mps=0.0)(image=img, depth=depth, rng=3)["image"]
        y = luminance(radiometry.decode(out))
        contrast.append(float(y.std() / y.mean()))
    assert all(np.diff(contrast) < 0), contrast


def _streak_angle_deg(diff):
    """Direction of the streaks (deg from vertical, + = leaning right at the bottom) via the structure tensor."""
    gy, gx = np.gradient(diff)
    jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    grad_angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # dominant gradient direction (from +x)
    # streaks run perpendicular to their gradient; express as angle from the vertical (image y down)
    return float(np.degrees(-grad_angle))


@pytest.mark.parametrize("wind", [-6.0, 6.0])
def test_streak_orientation_follows_wind(wind):
    img = _grey(160, 160, 30)
    out = Rain(rain_rate_mm_h=30.0, wind_mps=wind, **STREAKS_ONLY)(image=img, rng=5)["image"]
    diff = luminance(radiometry.decode(out) - radiometry.decode(img))
    angle = _streak_angle_deg(diff)
    # drops fall at ≈ 4–9 m/s: a 6 m/s wind tilts them by ≈ 35–55° toward the wind
    assert np.sign(angle) == np.sign(wind), angle
    assert 15 < abs(angle) < 70, angle
    calm = Rain(rain_rate_mm_h=30.0, wind_mps=0.0, **STREAKS_ONLY)(image=img, rng=5)["image"]
    calm_angle = _streak_angle_deg(luminance(radiometry.decode(calm) - radiometry.decode(img)))
    assert abs(calm_angle) < 8, calm_angle


def test_streak_length_follows_exposure_and_depth():
    """Garg & Nayar: length ≈ f·v·T/Z; a drop of radius 1 mm at 2 m, f = 1152 px, T = 5 ms → ≈ 18 px."""
    v = float(streaks.terminal_speed_m_s(np.array(1e-3)))  # radius 1 mm: 6.3 m/s
    assert 1152 * v * 0.005 / 2.0 == pytest.approx(18.0, rel=0.05)
    cov = streaks.rasterize_segments((40, 40), np.array([20.0]), np.array([20.0]), np.array([0.0]),
                                     np.array([18.0]), np.array([1.0]), np.array([0.5]))
    assert cov.sum() == pytest.approx(0.5 * 18.0 * 1.0, rel=1e-4)
    rows = np.nonzero(cov.sum(axis=1) > 1e-6)[0]
    assert 18 <= np.ptp(rows) + 1 <= 21


def test_rain_extinction_numbers():
    from domaug_driving.atmosphere import rain_extinction_per_m, visibility_from_beta

    assert visibility_from_beta(rain_extinction_per_m(5.0)) == pytest.approx(3300, rel=0.05)
    assert visibility_from_beta(rain_extinction_per_m(200.0)) == pytest.approx(280, rel=0.05)


def test_wet_road_darkens_and_reflects():
    h, w = 80, 100
    img = np.zeros((h, w, 3), np.uint8)
    img[:46] = 230  # bright sky above the horizon (0.58·H)
    img[46:] = 90
    dry = Rain(rain_rate_mm_h=10.0, wetness=0.0, veil=False, max_streaks=1)(image=img, rng=0)["image"]
    wet = Rain(rain_rate_mm_h=10.0, wetness=1.0, veil=False, max_streaks=1)(image=img, rng=0)["image"]
    road_dry, road_wet = dry[50:].astype(float), wet[50:].astype(float)
    assert road_wet.min() < road_dry.mean() - 10  # darker asphalt somewhere
    assert road_wet.max() > road_dry.mean() + 10  # sky reflected in puddles somewhere


def test_reproducible_input_untouched_targets_kept():
    img = np.random.default_rng(0).integers(0, 256, (60, 80, 3)).astype(np.uint8)
    boxes = np.array([[5, 5, 30, 40, 1]], float)
    before = img.copy()
    a = Rain()(image=img, bboxes=boxes, rng=21)
    b = Rain()(image=img, bboxes=boxes, rng=21)
    c = Rain()(image=img, bboxes=boxes, rng=22)
    np.testing.assert_array_equal(a["image"], b["image"])
    assert not np.array_equal(a["image"], c["image"])
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(a["bboxes"], boxes)


def test_float_and_uint16_inputs():
    f = np.full((40, 50, 3), 0.2, np.float32)
    out = Rain(rain_rate_mm_h=50.0)(image=f, rng=1)["image"]
    assert out.dtype == np.float32 and np.isfinite(out).all() and not np.array_equal(out, f)
    u = np.full((40, 50, 3), 20000, np.uint16)
    assert Rain()(image=u, rng=1)["image"].dtype == np.uint16


def test_optional_lens_drops_are_recorded_and_drawn():
    img = np.tile(np.linspace(20, 230, 80, dtype=np.float32)[:, None, None], (1, 100, 3)).astype(np.uint8)
    kw = dict(rain_rate_mm_h=5.0, veil=False, wetness=0.0, max_streaks=1)
    plain = Rain(**kw)(image=img, rng=4)
    dropped = Rain(lens_drops=5, **kw)(image=img, rng=4)
    assert len(dropped["applied"][0]["params"]["lens_drops"]) == 5
    assert np.abs(dropped["image"].astype(int) - plain["image"].astype(int)).max() > 20
