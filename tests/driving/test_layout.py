"""The pop-up scene layout on real dash-cam frames: cars and trees stand on the road, only sky is sky."""

from __future__ import annotations

import numpy as np
import pytest

from domaug_driving import depth as D
from domaug_driving import radiometry

F_PX, CAM_H = 1151.9, 1.3  # SOURCES.md: fy of the Udacity camera, assumed camera height
# hand-drawn boxes (x0, y0, x1, y1) of the visible cars, from the images; horizon rows from SOURCES.md
FRAMES = {
    "udacity_test6.jpg": (423, [(810, 410, 942, 497), (1012, 405, 1200, 498)]),
    "udacity_straight_lines2.jpg": (420, [(78, 398, 220, 475)]),
}


def _load(shared_data, name):
    from PIL import Image

    path = shared_data / "driving" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return np.asarray(Image.open(path).convert("RGB"))


def _flat_road(row, horizon):
    return F_PX * CAM_H / (row + 0.5 - horizon)


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_cars_stand_on_the_road_and_only_sky_is_sky(shared_data, name):
    img = _load(shared_data, name)
    horizon, cars = FRAMES[name]
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=horizon, camera_height_m=CAM_H)
    lay = D.scene_layout(img, camera=cam)
    for x0, y0, x1, y1 in cars:
        inner = lay.depth[y0 + 5 : y1 - 5, x0 + 5 : x1 - 5]
        expected = _flat_road(y1, horizon)
        assert np.median(inner) == pytest.approx(expected, rel=0.35), (name, (x0, y0, x1, y1))
        assert (lay.labels[y0:y1, x0:x1] != D.SKY).all()
        assert (inner < 0.5 * D.SKY_DEPTH_M).all()
    far = lay.depth >= 0.99 * D.SKY_DEPTH_M
    assert (lay.labels[far] == D.SKY).mean() > 0.995  # sky depth only on sky pixels (edges: one cell)
    assert not (lay.labels[int(horizon) + 10 :] == D.SKY).any()
    # the hood at the bottom is ego, neither ground nor sky
    assert (lay.labels[-15:] == D.EGO).mean() > 0.9
    assert (lay.labels[int(horizon) + 60 : int(horizon) + 200, 500:700] == D.GROUND).mean() > 0.8


def test_roadside_trees_stand_on_their_contact_row(shared_data):
    img = _load(shared_data, "udacity_test6.jpg")
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=423, camera_height_m=CAM_H)
    lay = D.scene_layout(img, camera=cam)
    for x0, y0, x1, y1 in ((300, 300, 330, 420), (880, 230, 960, 380)):  # big tree's trunk, right tree's crown
        assert (lay.labels[y0:y1, x0:x1] == D.VERTICAL).mean() > 0.9
        d = lay.depth[y0:y1, x0:x1]
        assert 8.0 < np.median(d) < 120.0
        # each column's distance is the flat-road one (capped) of a contact row, the nearest ground
        # below, within the documented smoothing window (5 % of the width) around the column
        half = int(0.05 * img.shape[1])
        for x in range(x0, x1, 10):
            zs = []
            for xc in range(x - half, x + half + 1, 4):
                below = np.nonzero(lay.labels[y1:, xc] == D.GROUND)[0]
                zs.append(min(_flat_road(y1 + below[0], 423), D.CAP_M))
            assert 0.65 * min(zs) <= np.median(lay.depth[y0:y1, x]) <= 1.35 * max(zs), x


def test_fog_keeps_a_cars_contrast_as_koschmieder_says(shared_data):
    import domaug

    img = _load(shared_data, "udacity_test6.jpg")
    x0, y0, x1, y1 = 830, 420, 925, 480  # black car body (box 810,410,942,497)
    bottom, airlight, vis = 497, 0.85, 100.0
    fog = domaug.get_transform("driving.Fog", visibility_m=vis, airlight=airlight, density_variation=0.0,
                               focal_length_px=F_PX, horizon_row=423, camera_height_m=CAM_H)
    out = fog(image=img, rng=0)["image"]
    lum = lambda a: radiometry.decode(a) @ np.array([0.2126, 0.7152, 0.0722])  # noqa: E731
    # the car's dark body against the veil it would have at its own distance: Koschmieder's
    # I = J·t + A·(1 − t) gives (A − I) / (A − J) = t (the road at the car's wheels: same t)
    body = lum(img[y0:y1, x0:x1]) < 0.02
    c_in = airlight - lum(img[y0:y1, x0:x1])[body].mean()
    c_out = airlight - lum(out[y0:y1, x0:x1])[body].mean()
    d = _flat_road(bottom, 423)
    assert c_out / c_in == pytest.approx(np.exp(-np.log(20) * d / vis), abs=0.12)
    cam = D.camera_from(img.shape[:2], focal_length_px=F_PX, horizon_row=423)
    lay = D.scene_layout(img, camera=cam)
    from scipy.ndimage import binary_erosion

    sky = binary_erosion(lay.labels == D.SKY, iterations=6)
    assert sky.mean() > 0.1
    expected = radiometry.encode(np.full((1, 1, 3), airlight, np.float32), img)[0, 0]
    assert np.abs(out[sky].astype(int) - expected.astype(int)).max() <= 1
