"""The default horizon on real frames from three cameras: estimated from the lane vanishing point."""

from __future__ import annotations

import numpy as np
import pytest

from domaug_driving import depth as D

# SOURCES.md rows (Udacity: lane vanishing point; comma2k19: ≈ (585, 400)); Boreas by eye ≈ 490
HORIZONS = {
    "udacity_test6.jpg": 423,
    "udacity_straight_lines2.jpg": 420,
    "udacity_solidWhiteRight.jpg": 307,
    "comma2k19_rav4_2018-08-02_overcast.png": 400,
    "boreas_camera_toronto_day.png": 490,
}


@pytest.mark.parametrize("name", sorted(HORIZONS))
def test_default_horizon_is_the_cameras_own(shared_data, name):
    from PIL import Image

    path = shared_data / "driving" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    img = np.asarray(Image.open(path).convert("RGB"))
    h = img.shape[0]
    cam = D.camera_from(img.shape[:2], None, image=img)
    assert abs(cam["horizon_row"] - HORIZONS[name]) <= 0.06 * h
    # explicit parameters and meta still win; no image: the size-scaled default
    assert D.camera_from(img.shape[:2], {"horizon_row": 100}, image=img)["horizon_row"] == 100
    assert D.camera_from(img.shape[:2], None, horizon_row=123, image=img)["horizon_row"] == 123
    assert D.camera_from(img.shape[:2], None)["horizon_row"] == pytest.approx(D.HORIZON_PER_HEIGHT * h)


def test_no_vanishing_point_in_noise_falls_back_to_the_default():
    img = np.random.default_rng(0).uniform(0.05, 0.9, (256, 384, 3)).astype(np.float32)
    assert D.estimate_horizon(img) is None
    assert D.camera_from(img.shape[:2], None, image=img)["horizon_row"] == pytest.approx(0.58 * 256)
