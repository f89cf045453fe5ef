"""driving.Snow: flakes follow visibility, snow lies on the road not in the sky, haze by distance."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug_driving import streaks

Snow = domaug.registry.get_transform_class("driving.Snow")


def test_flake_opacity_grows_as_visibility_drops():
    totals = []
    for v in (2000.0, 800.0, 300.0, 100.0):
        cov = streaks.snow_coverage((120, 160), seed=1, extinction_per_m=np.log(20) / v, mean_diameter_mm=4.0,
                                    exposure_s=0.005, fall_m_s=1.0, wind_m_s=0.0, ego_speed_m_s=0.0,
                                    focal_px=144.0, horizon_row=70.0)
        totals.append(float(np.minimum(cov, 1).sum()))
    assert all(np.diff(totals) > 0), totals


def test_near_flakes_are_big_soft_blobs_far_ones_fine():
    cov = streaks.snow_coverage((200, 200), seed=3, extinction_per_m=0.01, mean_diameter_mm=5.0, exposure_s=0.005,
                                fall_m_s=1.0, wind_m_s=0.0, ego_speed_m_s=0.0, focal_px=180.0, horizon_row=116.0,
                                near_m=0.3, far_m=15.0)
    assert cov.max() > 0 and (cov > 0).mean() > 0.05


def _road(h=90, w=120):
    img = np.zeros((h, w, 3), np.uint8)
    img[:52] = (140, 175, 230)
    img[52:] = 70
    return img


def test_ground_cover_whitens_road_but_not_sky():
    img = _road()
    depth = np.where(np.arange(90)[:, None] < 52, 1e9, 20.0).astype(np.float32) * np.ones((1, 120), np.float32)
    kw = dict(visibility_m=5000.0, max_flakes=1, exposure_ms=5.0)
    bare = Snow(ground_cover=0.0, **kw)(image=img, depth=depth, rng=2)["image"].astype(float)
    white = Snow(ground_cover=0.9, **kw)(image=img, depth=depth, rng=2)["image"].astype(float)
    assert white[60:].mean() > bare[60:].mean() + 40
    np.testing.assert_allclose(white[:50], bare[:50], atol=1)


def test_lower_visibility_lowers_contrast():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    depth = np.full((60, 80), 100.0, np.float32)
    stds = [Snow(visibility_m=v, ground_cover=0.0)(image=img, depth=depth, rng=1)["image"].std() for v in (2000, 500, 150)]
    assert stds[0] > stds[1] > stds[2]


def test_reproducible_and_untouched():
    img = _road()
    before = img.copy()
    boxes = np.array([[40, 40, 70, 70, 1]], float)
    a = Snow()(image=img, bboxes=boxes, rng=8)
    b = Snow()(image=img, bboxes=boxes, rng=8)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(a["bboxes"], boxes)


def test_refuses_volume():
    with pytest.raises(domaug.UnsupportedInputError):
        Snow()(image=np.zeros((3, 8, 8), np.float32), meta={"spatial_ndim": 3})
