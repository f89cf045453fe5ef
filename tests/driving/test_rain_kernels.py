"""The fast kernels behind driving.Rain: 8-bit encode, Wu line splats, fused wet-road composite."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug_driving import radiometry, streaks
from domaug_driving.road import road_texture


def test_planar_and_interleaved_encode_agree_and_round_trip(both_paths):
    img = np.random.default_rng(1).integers(0, 256, (37, 53, 3)).astype(np.uint8)

    def run():
        planes = radiometry.decode_planes(img)
        lin = np.stack([p.copy() for p in planes], -1)
        return radiometry.encode_planes(list(planes), img), radiometry.encode(lin, img)

    (fp, fi), (rp, ri) = both_paths(run)
    for out in (fp, fi, rp, ri):
        np.testing.assert_array_equal(out, img)


def _segment(shape, cx, cy, dx, dy, width, alpha, **kw):
    return streaks.rasterize_segments(shape, np.array([cx]), np.array([cy]), np.array([dx]), np.array([dy]),
                                      np.array([width]), np.array([alpha]), **kw).copy()


def test_wu_lines_weight_each_row_by_its_overlap():
    """A vertical segment on a pixel centre: rows fully crossed get α·width, the end rows their
    overlap fraction, nothing leaks sideways."""
    cov = _segment((30, 30), 15.5, 15.5, 0.0, 10.4, 1.0, 0.5)  # rows 10.3 … 20.7
    col = cov[:, 15]
    assert np.abs(np.delete(cov, 15, axis=1)).max() < 1e-6
    np.testing.assert_allclose(col[11:20], 0.5, rtol=1e-5)
    np.testing.assert_allclose([col[10], col[20]], [0.5 * 0.7, 0.5 * 0.7], rtol=1e-4)
    assert col[:10].max() == 0.0 and col[21:].max() == 0.0


@pytest.mark.parametrize("angle", [0.0, 20.0, 44.0, 46.0, 70.0, 90.0, 135.0, 200.0])
@pytest.mark.parametrize("width", [0.3, 1.0, 2.6])
def test_lines_keep_their_area_at_every_angle(angle, width):
    rng = np.random.default_rng(int(angle * 10 + width * 100))
    for _ in range(5):
        length = rng.uniform(0.2, 25.0)
        dx, dy = length * np.cos(np.radians(angle)), length * np.sin(np.radians(angle))
        cx, cy = rng.uniform(25, 35, 2)
        cov = _segment((60, 60), cx, cy, dx, dy, width, 0.3)
        assert cov.min() >= 0.0
        assert cov.sum() == pytest.approx(0.3 * max(length, 1.0) * max(width, 1.0), rel=1e-4)
        ys, xs = np.nonzero(cov > 1e-7)  # the footprint hugs the segment
        d = np.abs((xs + 0.5 - cx) * dy - (ys + 0.5 - cy) * dx) / max(length, 1e-9)
        assert d.max() <= 0.5 * width + 2.0


def test_lines_crossing_the_border_keep_the_part_inside():
    # horizontal line from x = −20 to 30 on row 7 (a pixel centre): 30 px inside
    cov = _segment((16, 40), 5.0, 7.5, 50.0, 0.0, 1.0, 0.4)
    assert cov[7].sum() == pytest.approx(0.4 * 30.0, rel=1e-4)
    assert cov.sum() == pytest.approx(0.4 * 30.0, rel=1e-4)
    # steep line leaving through the bottom: rows 10 … 15 of 16 inside (5.5 px of 10)
    cov = _segment((16, 20), 9.5, 15.0, 0.0, 10.0, 1.0, 1.0)
    assert cov.sum() == pytest.approx(6.0, rel=1e-4)
    # a slanted line whose taps would leave the frame sideways draws nothing outside
    cov = _segment((20, 20), -3.0, 10.0, 8.0, 16.0, 1.0, 1.0)
    assert 0 < cov.sum() < 1.0 * np.hypot(8, 16)


def test_point_budget_drops_whole_segments():
    n = 50
    args = [np.full(n, 20.0), np.full(n, 20.0), np.zeros(n), np.full(n, 9.5), np.ones(n), np.full(n, 0.1)]
    full = streaks.rasterize_segments((40, 40), *args).sum()
    capped = streaks.rasterize_segments((40, 40), *args, max_points=105).sum()
    assert capped == pytest.approx(full * 10 / n, rel=1e-4)  # 10 rows each: 10 segments fit


def test_road_texture_steps_sample_the_same_ground_field():
    cam = {"focal_length_px": 200.0, "horizon_row": 60.0, "camera_height_m": 1.3}
    z2, _, t2 = road_texture((160, 200), cam, seed=4, grid=128, step=2)
    z4, _, t4 = road_texture((160, 200), cam, seed=4, grid=128, step=4)
    assert t4.shape == (-(-100 // 4), 50) and t2.shape == (50, 100)
    pooled = t2[: 2 * t4.shape[0]].reshape(t4.shape[0], 2, 50, 2).mean(axis=(1, 3))
    near = slice(8, None)  # close to the horizon the ground varies within a block
    assert np.corrcoef(pooled[near].ravel(), t4[near].ravel())[0, 1] > 0.95
    assert z4[0] > z4[-1] > 0  # distance falls towards the bottom of the frame


def _wet_road_alone(wet, plane):
    """The wet road on its own, term by term: plane·gain (darker under the film, 1 off the
    ground) + the blurred mirror · weight, both formed on the half grid and upsampled."""
    from domaug_driving.plane_ops import upsample

    gain = np.ones((wet.h, wet.w), np.float32)
    gain[wet.y0 :] = wet.gain()
    reflected = np.zeros((wet.h, wet.w), np.float32)
    mirror = np.repeat(wet.coarse_mirror(plane), 2, axis=0)[: wet.h - wet.y0]  # every 2nd row, repeated
    reflected[wet.y0 :] = mirror * wet.weight()
    return plane * upsample(gain, plane.shape) + upsample(reflected, plane.shape)


def test_fused_wet_rain_pass_equals_wet_road_then_veil_then_streaks():
    """Rain folds the wet road (darkening + Fresnel mirror) into its one-pass composite; it
    must equal the three steps applied one after the other, the boxed car kept dry."""
    from domaug_driving.atmosphere import rain_extinction_per_m
    from domaug_driving.rain_light import coarse_samples, horizon_sky_radiance
    from domaug_driving.scene import coarse_scene

    rng = np.random.default_rng(5)
    img = rng.uniform(0.05, 0.3, (80, 96, 3)).astype(np.float32)
    img[:30] = (0.6, 0.65, 0.7)  # a bright sky for the mirror to show
    img[50:] = 0.1 + 0.02 * rng.random((30, 96, 1))  # grey road
    depth = np.full((80, 96), 60.0, np.float32)
    boxes = np.array([[10.0, 40.0, 30.5, 70.0, 1]])
    t = domaug.get_transform("driving.Rain", rain_rate_mm_h=20.0, wetness=1.0, overcast=False, horizon_row=46.0)
    out = t(image=img, depth=depth, bboxes=boxes, rng=8)
    p = out["applied"][0]["params"]
    cam = p["camera"]
    h, w = depth.shape
    coarse = coarse_scene({"image": img, "depth": depth, "bboxes": boxes}, cam)
    wet = type(t)._wet_road((h, w), p, coarse, boxes)
    assert wet is not None
    planes = [np.ascontiguousarray(img[..., c]) for c in range(3)]
    weight = wet.weight().copy()
    wet_planes = [_wet_road_alone(wet, q.copy()) for q in planes]
    alpha = np.minimum(streaks.rain_coverage(
        (h, w), seed=int(p["seed"]), rain_rate_mm_h=p["rain_rate_mm_h"], exposure_s=p["exposure_ms"] * 1e-3,
        wind_m_s=p["wind_mps"], ego_speed_m_s=p["speed_kmh"] / 3.6, focal_px=cam["focal_length_px"],
        horizon_row=cam["horizon_row"], aperture_m=p["aperture_mm"] * 1e-3, max_streaks=p["max_streaks"]), 1.0)
    air = horizon_sky_radiance(coarse_samples(planes, coarse["k"], coarse["labels"].shape), coarse["labels"])
    tr = np.exp(-rain_extinction_per_m(p["rain_rate_mm_h"]) * 60.0)
    veiled = (np.stack(wet_planes, -1) - air) * tr + air
    expected = veiled * (1 - alpha[..., None]) + air * p["streak_brightness"] * alpha[..., None]
    assert alpha.max() > 0.05
    np.testing.assert_allclose(out["image"], expected, atol=3e-5)
    y0 = 2 * wet.y0 + 2
    box = (slice(40, 70), slice(10, 31))
    road = np.stack(wet_planes, -1)[y0:]
    assert weight.max() > 0.1 and not np.allclose(road, img[y0:])  # the road did get wet …
    np.testing.assert_array_equal(np.stack(wet_planes, -1)[box], img[box])  # … but not the car


def test_mirror_sources_reflect_about_contact_rows_and_the_horizon():
    """Ground below an object reflects about the object's contact row, ground with sky
    above about the horizon, and a source that lands on road beyond a low object too."""
    from domaug_driving.layout import GROUND, SKY, VERTICAL
    from domaug_driving.wet_road import mirror_sources

    h, w, horizon = 60, 6, 20.0
    labels = np.full((h, w), GROUND, np.uint8)
    labels[:20] = SKY
    labels[10:30, 1] = VERTICAL  # a tall object, contact row 30
    labels[26:30, 2] = VERTICAL  # a low one: its mirror runs out into the road beyond it
    rows = np.array([31, 36, 45])
    src = mirror_sources(labels, 1, horizon, rows, w, h)
    assert (src % w == np.arange(w)).all()
    src_rows = src // w
    np.testing.assert_array_equal(src_rows[:, 0], [8, 3, 0])  # 2·20 − y − 1, clipped at the top
    np.testing.assert_array_equal(src_rows[:, 1], [28, 23, 14])  # 2·30 − y − 1
    np.testing.assert_array_equal(src_rows[:, 2], [28, 3, 14])  # row 23 is road beyond: the horizon's


def test_lane_markings_are_road_for_the_wet_road():
    from domaug_driving.layout import GROUND, VERTICAL
    from domaug_driving.wet_road import road_labels

    labels = np.full((10, 200), GROUND, np.uint8)
    labels[:, 50:52] = VERTICAL  # a painted line the layout took for an object
    labels[:, 120:190] = VERTICAL  # a car
    out = road_labels(labels)
    assert (out[:, 50:52] == GROUND).all() and (out[:, 121:189] == VERTICAL).all()


def test_sky_labelling_is_the_same_with_and_without_opencv(both_paths):
    from domaug_driving import depth

    rng = np.random.default_rng(3)
    for i in range(30):
        small = rng.random((40 + i % 7, 64, 3)).astype(np.float32) ** (1 + i % 3)
        small[: rng.integers(5, 30)] *= 0.2 + rng.random()
        fast, ref = both_paths(lambda: depth.sky_from_small(small, 60, 64, 1))
        np.testing.assert_array_equal(fast, ref)
        mask = rng.random((30, 50)) < rng.uniform(0.2, 0.8)
        for conn in (4, 8):
            (la, na), (lb, nb) = both_paths(lambda: depth.label_components(mask, conn))
            assert na == nb and len(set(zip(la.ravel().tolist(), lb.ravel().tolist()))) == na + 1



def test_the_border_cuts_lines_like_a_larger_canvas_cropped():
    """What falls in the frame does not depend on how much of the segment lies outside."""
    rng = np.random.default_rng(11)
    n = 400
    cx, cy = rng.uniform(-15, 55, n), rng.uniform(-15, 45, n)
    dx, dy = rng.normal(0, 8, n), rng.normal(0, 8, n)
    width, alpha = rng.uniform(0.2, 4.0, n), rng.uniform(0.05, 0.5, n)
    small = streaks.rasterize_segments((30, 40), cx, cy, dx, dy, width, alpha).copy()
    big = streaks.rasterize_segments((90, 100), cx + 30, cy + 30, dx, dy, width, alpha)[30:60, 30:70]
    # taps less than 0.05 px inside the frame edge are dropped (they cannot leave the margin)
    assert np.abs(small - big).max() <= 0.05 * alpha.max() * 2
    assert small.sum() == pytest.approx(big.sum(), rel=0.01)
