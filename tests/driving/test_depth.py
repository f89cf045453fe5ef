"""Scene geometry: the flat-road prior, sky, boxes as billboards, disparity → depth."""

from __future__ import annotations

import numpy as np
import pytest

from domaug_driving import depth as D


def test_depth_from_disparity_and_invalid_pixels():
    disp = np.array([[10.0, 20.0], [0.0, np.nan]], np.float32)
    z = D.depth_from_disparity(disp, focal_px=1000.0, baseline_m=0.5)
    np.testing.assert_allclose(z[0], [50.0, 25.0])
    assert np.isinf(z[1]).all()
    z2 = D.depth_from_disparity(np.array([10.0]), focal_px=1000.0, baseline_m=0.5, doffs_px=10.0)
    assert z2[0] == pytest.approx(25.0)


def test_ground_plane_rows_follow_f_h_over_row_offset():
    z = D.ground_plane_depth((720, 1280), focal_length_px=1152, horizon_row=420, camera_height_m=1.3, cap_m=300)
    assert z.shape == (720, 1)
    assert z[719, 0] == pytest.approx(1152 * 1.3 / (719.5 - 420))  # ≈ 5 m at the bottom
    assert z[445, 0] == pytest.approx(1152 * 1.3 / 25.5, rel=1e-5)  # ≈ 59 m
    assert np.all(np.diff(z[421:, 0]) <= 0)  # nearer toward the bottom
    assert z[:420].max() == 300 and z[:420].min() == 300  # capped above the horizon


def test_camera_defaults_scale_with_the_image_and_meta_overrides():
    cam = D.camera_from((720, 1280))
    assert cam["focal_length_px"] == pytest.approx(1152) and cam["horizon_row"] == pytest.approx(417.6)
    cam = D.camera_from((720, 1280), {"horizon_row": 423, "camera_height_m": 1.5}, focal_length_px=1000)
    assert cam == {"focal_length_px": 1000.0, "horizon_row": 423.0, "camera_height_m": 1.5}


def _frame():
    h, w = 100, 160
    img = np.zeros((h, w, 3), np.float32)
    img[:58] = (0.4, 0.55, 0.9)  # sky
    img[58:] = 0.05  # road
    img[30:58, 10:40] = (0.05, 0.2, 0.03)  # a tree against the sky
    img[45:70, 90:120] = 0.02  # a car straddling the horizon
    return img


def test_prior_sky_cap_and_box_billboard():
    img = _frame()
    cam = D.camera_from(img.shape[:2])  # f = 144, horizon 58, h = 1.3
    d = D.scene_depth(img.shape[:2], camera=cam, linear_rgb=img)
    assert d[5, 80] == D.SKY_DEPTH_M  # sky
    # the tree stands on the ground at the horizon: the flat-road distance of its contact row, not sky
    assert 100 <= d[40, 20] < 1.2 * D.CAP_M
    assert d[99, 80] < 20  # near road
    # the car straddling the horizon stands on the road at its bottom row (70), even without a box
    assert d[50, 100] == pytest.approx(144 * 1.3 / (70.5 - 58), rel=0.15)
    lay = D.scene_layout(img, camera=cam)
    assert lay.labels[5, 80] == D.SKY and lay.labels[40, 20] == D.VERTICAL and lay.labels[50, 100] == D.VERTICAL
    assert lay.labels[90, 20] == D.GROUND
    boxes = np.array([[90, 45, 120, 70, 1]], float)
    db = D.scene_depth(img.shape[:2], camera=cam, linear_rgb=img, bboxes=boxes)
    expected = 144 * 1.3 / (70 - 58)  # bottom edge of the box on the road
    assert db[50, 100] == pytest.approx(expected, rel=0.05)  # above the horizon, yet near
    assert db[66, 100] == pytest.approx(expected, rel=0.05)


def test_masks_override_and_measured_depth_wins():
    img = _frame()
    shape = img.shape[:2]
    cam = D.camera_from(shape)
    sky = np.zeros(shape, np.uint8)
    sky[:10] = 1
    d = D.scene_depth(shape, camera=cam, sky_mask=sky)
    assert (d[:10] == D.SKY_DEPTH_M).all() and (d[10:58] < D.SKY_DEPTH_M).all()
    measured = np.full(shape, 42.0, np.float32)
    measured[0, 0] = np.inf
    d = D.scene_depth(shape, camera=cam, depth=measured, linear_rgb=img)
    assert d[50, 50] == 42.0 and d[0, 0] == D.SKY_DEPTH_M


def test_sky_estimate_on_real_frames(shared_data):
    from PIL import Image

    from domaug_driving.radiometry import decode

    for name, horizon, lo, hi in (("udacity_test6.jpg", 423, 0.15, 0.35), ("udacity_solidWhiteRight.jpg", 307, 0.25, 0.5)):
        path = shared_data / "driving" / name
        if not path.exists():
            pytest.skip(f"{path} not found")
        img = decode(np.asarray(Image.open(path).convert("RGB")))
        sky = D.estimate_sky(img, horizon)
        assert lo < sky.mean() < hi, (name, sky.mean())
        assert not sky[int(horizon) + 5 :].any()
        assert sky[:20].mean() > 0.4


def test_horizon_estimate_on_real_frames(shared_data):
    from PIL import Image

    for name, horizon in (("udacity_test6.jpg", 423), ("udacity_straight_lines2.jpg", 420),
                          ("udacity_solidWhiteRight.jpg", 307)):
        path = shared_data / "driving" / name
        if not path.exists():
            pytest.skip(f"{path} not found")
        img = np.asarray(Image.open(path).convert("RGB"))
        found = D.estimate_horizon(img)
        assert found is not None
        # straight-line vote on a barrel-distorted lens: measured 2.5–7 px above the lane VP
        assert horizon - 20 <= found <= horizon + 10, (name, found)


def test_horizon_estimate_on_a_synthetic_road_and_recorded_for_replay():
    import json

    import domaug

    from scipy.ndimage import gaussian_filter

    h, w = 240, 320
    img = np.full((h, w, 3), 60.0)
    img[:100] = (150, 180, 230)
    yy, xx = np.mgrid[0:h, 0:w]
    vp_row, vp_col = 110.0, 160.0
    for slope in (-1.2, -0.6, 0.6, 1.2):  # four lane lines converging at (110, 160)
        x_line = vp_col + (yy - vp_row) / slope
        img[(yy > vp_row) & (np.abs(xx - x_line) < 2.5)] = 230
    img = np.rint(gaussian_filter(img, (2, 2, 0))).astype(np.uint8)  # a lens blurs, no jaggies
    found = D.estimate_horizon(img)
    assert found == pytest.approx(vp_row, abs=6)
    fog = domaug.get_transform("driving.Fog", horizon_row="estimate", visibility_m=100.0)
    out = fog(image=img, rng=0)
    recorded = out["applied"][0]["params"]["camera"]["horizon_row"]
    assert recorded == pytest.approx(found)
    again = domaug.replay(json.loads(json.dumps(out["applied"])), image=img)
    np.testing.assert_array_equal(again["image"], out["image"])
    with pytest.raises(domaug.ParameterError, match="horizon_row"):
        domaug.get_transform("driving.Fog", horizon_row="auto")
