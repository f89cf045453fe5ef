"""driving.SunGlare: the sun in sky (or above the frame), angles ↔ pixels, 1/θ² glare, ghosts on the centre line."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError
from domaug_driving.depth import camera_from
from domaug_driving.flare import GLARE_REF_DEG
from domaug_driving.sun_position import pixel_angles, relative_azimuth, sun_pixel

SunGlare = domaug.registry.get_transform_class("driving.SunGlare")

FRAMES = ["udacity_test6.jpg", "udacity_straight_lines2.jpg", "udacity_solidWhiteRight.jpg",
          "comma2k19_rav4_2018-08-02_overcast.png", "boreas_camera_toronto_day.png"]


def _sky_scene(h=240, w=320, sky_rows=100):
    """A blue sky over a grey road, with its sky mask."""
    img = np.full((h, w, 3), 90, np.uint8)
    img[:sky_rows] = (120, 170, 230)
    sky = np.zeros((h, w), np.uint8)
    sky[:sky_rows] = 1
    return img, sky


def test_sun_position_from_angles():
    cam = camera_from((720, 1280), focal_length_px=1152, horizon_row=420)
    assert sun_pixel(0.0, 0.0, cam, 1280) == pytest.approx((420.0, 640.0))
    row, col = sun_pixel(10.0, 0.0, cam, 1280)
    assert row == pytest.approx(420 - 1152 * math.tan(math.radians(10)))
    # azimuth moves the column by f·tan(az); elevation then rises by f·tan(el)/cos(az)
    row, col = sun_pixel(5.0, 20.0, cam, 1280)
    assert col == pytest.approx(640 + 1152 * math.tan(math.radians(20)))
    assert row == pytest.approx(420 - 1152 * math.tan(math.radians(5)) / math.cos(math.radians(20)))
    assert pixel_angles(row, col, cam, 1280) == pytest.approx((5.0, 20.0))
    assert relative_azimuth(350.0, 10.0) == pytest.approx(-20.0)
    assert relative_azimuth(10.0, 350.0) == pytest.approx(20.0)


def test_azimuth_maps_to_the_column_through_the_heading():
    img, sky = _sky_scene()
    meta = {"heading_deg": 200.0, "focal_length_px": 300.0, "horizon_row": 120.0}
    t = SunGlare(sun_azimuth_deg=215.0, sun_elevation_deg=(3.0, 12.0))
    for seed in range(5):
        p = t(image=img, sky_mask=sky, meta=meta, rng=seed)["applied"][0]["params"]
        assert p["sun_col"] == pytest.approx(160 + 300 * math.tan(math.radians(15.0)), abs=1e-6)
        assert p["relative_azimuth_deg"] == pytest.approx(15.0) and p["sun_azimuth_deg"] == pytest.approx(215.0)
        assert sky[int(p["sun_row"]), int(p["sun_col"])] and 3.0 <= p["sun_elevation_deg"] <= 12.0


def test_sun_angles_default_to_the_frames_metadata():
    img, sky = _sky_scene()
    meta = {"heading_deg": 350.0, "sun_azimuth_deg": 5.0, "sun_elevation_deg": 6.0,
            "focal_length_px": 300.0, "horizon_row": 120.0}
    p = SunGlare()(image=img, sky_mask=sky, meta=meta, rng=0)["applied"][0]["params"]
    assert p["relative_azimuth_deg"] == pytest.approx(15.0)
    assert (p["sun_row"], p["sun_col"]) == pytest.approx(sun_pixel(6.0, 15.0, meta, 320))


def test_sun_behind_the_camera_is_refused_in_one_line():
    img, sky = _sky_scene()
    with pytest.raises(ParameterError, match="behind the camera") as err:
        SunGlare(sun_azimuth_deg=120.0)(image=img, sky_mask=sky, meta={"heading_deg": 0.0}, rng=0)
    assert "\n" not in str(err.value)


def test_a_column_without_sky_puts_the_sun_above_the_frame():
    img, sky = _sky_scene()
    sky[:, 200:] = 0  # a wall on the right: no sky there
    t = SunGlare(sun_azimuth_deg=20.0, sun_elevation_deg=(2.0, 8.0), focal_length_px=300.0, horizon_row=120.0)
    res = t(image=img, sky_mask=sky, rng=1)
    p = res["applied"][0]["params"]
    assert p["sun_col"] > 200 and p["sun_row"] < 0 and not p["sun_in_frame"]
    out = res["image"].astype(float).mean(-1)
    assert out[0, 240] > img[0, 240].mean() + 20  # the veil still reaches the frame's top edge
    assert out[0, 240] > out[-1, 240] - img[-1, 240].mean() + img[0, 240].mean()  # and falls off below
    assert (out < 255).all()  # no saturated disc in the frame


def test_sun_is_always_in_sky_or_above_the_frame_on_real_frames(shared_data):
    from PIL import Image

    from domaug_driving.depth import scene_layout
    from domaug_driving.layout import SKY

    for name in FRAMES:
        img = np.asarray(Image.open(shared_data / "driving" / name).convert("RGB"))
        cam = camera_from(img.shape[:2], image=img)
        labels = scene_layout(img, camera=cam).labels
        h, w = labels.shape
        for kw in ({}, {"sun_azimuth_deg": (-30.0, 30.0)}):
            t = SunGlare(respect_scene_light=False, **kw)  # placed on every frame, whatever its light
            for seed in range(12):
                p = t.make_params(np.random.default_rng(seed), {"image": img})
                r, c = p["sun_row"], p["sun_col"]
                if r < 0:
                    continue  # above the frame top
                if 0 <= c < w:
                    assert p["sun_in_frame"] and labels[int(r), int(c)] == SKY, (name, kw, seed, r, c)
                    ys, xs = np.ogrid[:h, :w]  # the whole disc is clear of trees and buildings
                    disc = (ys + 0.5 - r) ** 2 + (xs + 0.5 - c) ** 2 <= p["disc_radius_px"] ** 2
                    assert (labels[disc] == SKY).mean() > 0.95, (name, kw, seed)


def test_glare_falls_off_as_the_inverse_square_of_the_angle():
    img = np.zeros((400, 600, 3), np.float32)
    f = 500.0
    t = SunGlare(sun_position=(0.5, 0.5), ghosts=0, veil=0.0, intensity=0.01, focal_length_px=f, horizon_row=200.0)
    out = t(image=img, rng=0)["image"][..., 0]
    for deg in (10.0, 20.0, 30.0):
        col = int(round(300 + f * math.tan(math.radians(deg)) - 0.5))
        theta = math.degrees(math.atan((col + 0.5 - 300) / f))
        assert out[200, col] == pytest.approx(0.01 * GLARE_REF_DEG**2 / theta**2, rel=0.03)
    assert out[200, 300] == pytest.approx(1.0)  # the disc saturates


def test_veil_lowers_contrast():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    out = SunGlare(sun_position=(1.5, -0.5), ghosts=0, veil=0.1, intensity=0.05)(image=img, rng=0)["image"]
    c = lambda a: a.std() / a.mean()  # noqa: E731
    assert c(out.astype(float)) < 0.8 * c(img.astype(float))


@pytest.mark.parametrize("shape", [(200, 300), (600, 1024)])  # ghosts on pixels; soft ones on the 4-px glare grid
@pytest.mark.parametrize("position", [(0.8, 0.2), (0.3, -0.4)])
def test_ghosts_lie_on_the_line_through_sun_and_centre(position, shape):
    h, w = shape
    img = np.zeros((h, w, 3), np.float32)
    kw = dict(sun_position=position, veil=0.0, intensity=0.05)
    base = SunGlare(ghosts=0, **kw)(image=img, rng=4)["image"]
    res = SunGlare(ghosts=6, **kw)(image=img, rng=4)
    diff = (res["image"] - base).sum(-1)
    rows, cols = np.nonzero(diff > 1e-5)
    assert len(rows) > 0
    sun = np.array([position[1] * h, position[0] * w])
    centre = np.array([h / 2.0, w / 2.0])
    d = (sun - centre) / np.linalg.norm(sun - centre)
    pts = np.stack([rows + 0.5, cols + 0.5], 1) - centre
    dist = np.abs(pts[:, 0] * d[1] - pts[:, 1] * d[0])
    max_radius = max(g["radius"] for g in res["applied"][0]["params"]["ghosts"])
    cell = max(1, min(8, int(0.9 * w / 200)))  # bilinear upsampling spreads a grid ghost by < one cell
    assert dist.max() <= 1.05 * max_radius / math.cos(math.pi / 6) + 2 + cell  # hexagon corners reach R/cos 30°


def test_reproducible_replayable_and_dtype():
    img = np.full((40, 60, 3), 30000, np.uint16)
    t = SunGlare(sun_position=(0.5, 0.2))
    a = t(image=img, rng=1)
    np.testing.assert_array_equal(a["image"], t(image=img, rng=1)["image"])
    np.testing.assert_array_equal(domaug.replay(a["applied"], image=img)["image"], a["image"])
    assert a["image"].dtype == np.uint16 and a["image"].max() == 65535


def test_nodata_stays_nodata():
    img, sky = _sky_scene()
    img[:, :20] = 0
    out = SunGlare()(image=img, meta={"nodata": 0}, rng=2)["image"]
    assert (out[:, :20] == 0).all() and (out[:, 20:] > 0).all()


def test_opencv_and_numpy_paths_agree(both_paths):
    img, sky = _sky_scene()
    t = SunGlare(sun_position=(0.6, 0.2))
    fast, ref = both_paths(lambda: t(image=img, rng=2)["image"].astype(int))
    assert np.abs(fast - ref).max() <= 2


def test_the_sun_never_shines_from_inside_a_box():
    img, sky = _sky_scene()
    boxes = np.array([[0.0, 0.0, 250.0, 100.0, 7]])  # a truck's box over most of the sky (x0 y0 x1 y1 label)
    t = SunGlare(sun_elevation_deg=(0.5, 30.0))
    for seed in range(8):
        p = t(image=img, sky_mask=sky, bboxes=boxes, rng=seed)["applied"][0]["params"]
        assert p["sun_row"] < 0 or p["sun_col"] > 250


# -- the frame's own light: overcast skies and shadows of a sun that is not ahead (issue 16) ----------


def _frame(shared_data, name):
    from PIL import Image

    return np.asarray(Image.open(shared_data / "driving" / name).convert("RGB"))


def test_an_overcast_sky_gets_no_sun_only_a_diffuse_veil(shared_data):
    from domaug.kit import srgb_codes_to_linear

    img = _frame(shared_data, "comma2k19_rav4_2018-08-02_overcast.png")
    lin = srgb_codes_to_linear(img)
    for seed in range(3):
        res = SunGlare()(image=img, rng=seed)
        p = res["applied"][0]["params"]
        assert "overcast" in p["sun_refused"] and not p["sun_in_frame"] and p["ghosts"] == []
        assert "sun_row" not in p and p["intensity"] == 0.0
        added = (srgb_codes_to_linear(res["image"]) - lin)[res["image"] < 255]  # minus what saturates
        # the same light everywhere (within 8-bit rounding): no disc, no 1/θ² hot spot, no ghost
        assert np.abs(added - p["veil"]).max() < 0.006, (seed, np.abs(added - p["veil"]).max())
    forced = SunGlare(respect_scene_light=False).make_params(np.random.default_rng(0), {"image": img})
    assert "sun_refused" not in forced
    img16 = img.astype(np.uint16) * np.uint16(257)  # 16-bit frames: the same veil, through their own codes
    res = SunGlare()(image=img16, rng=0)
    added = (srgb_codes_to_linear(res["image"]) - srgb_codes_to_linear(img16))[res["image"] < 65535]
    assert res["image"].dtype == np.uint16 and np.abs(added - res["applied"][0]["params"]["veil"]).max() < 1e-4


def test_shadows_of_a_sun_high_or_behind_refuse_a_sun_ahead(shared_data):
    img = _frame(shared_data, "udacity_test6.jpg")  # short car shadows, sunlit rear faces: a high sun behind
    for seed in range(3):
        p = SunGlare(sun_azimuth_deg=(-30.0, 30.0))(image=img, rng=seed)["applied"][0]["params"]
        assert "shadows" in p["sun_refused"] and p["ghosts"] == [] and not p["sun_in_frame"]
    # the frame's true sun (meta) is trusted over the shadow estimate: it is placed at its azimuth
    meta = {"sun_azimuth_deg": 12.0, "sun_elevation_deg": 8.0, "heading_deg": 0.0}
    p = SunGlare().make_params(np.random.default_rng(0), {"image": img, "meta": meta})
    assert "sun_refused" not in p
    assert p["sun_col"] == pytest.approx(640 + p["camera"]["focal_length_px"] * math.tan(math.radians(12.0)))


@pytest.mark.parametrize("name", ["udacity_straight_lines2.jpg", "udacity_solidWhiteRight.jpg",
                                  "boreas_camera_toronto_day.png"])
def test_clear_skies_keep_their_sun_at_the_given_azimuth(shared_data, name):
    from domaug_driving.depth import scene_layout
    from domaug_driving.layout import SKY

    img = _frame(shared_data, name)
    h, w = img.shape[:2]
    labels = scene_layout(img, camera=camera_from(img.shape[:2], image=img)).labels
    for az in (-15.0, 0.0, 12.0):
        for seed in range(2):
            p = SunGlare(sun_azimuth_deg=az).make_params(np.random.default_rng(seed), {"image": img})
            assert "sun_refused" not in p, (name, p.get("sun_refused"))
            f = p["camera"]["focal_length_px"]
            assert p["sun_col"] == pytest.approx(w / 2 + f * math.tan(math.radians(az)))  # the azimuth's column
            assert p["relative_azimuth_deg"] == pytest.approx(az)
            r = p["sun_row"]
            assert r < 0 or labels[int(r), int(p["sun_col"])] == SKY  # in sky, or beyond the frame's top


def _road_scene(shadows_ahead: bool) -> dict:
    """A coarse scene (k = 1): blue sky, grey road, three dark cars standing on it, and sun shadows
    either thrown towards the camera from every car (a low sun ahead) or lying across the verges
    away from the cars' fronts (a sun behind)."""
    from domaug_driving.layout import GROUND, SKY, VERTICAL

    hs = ws = 128
    cam = {"focal_length_px": 115.2, "horizon_row": 60.0, "camera_height_m": 1.3}
    labels = np.full((hs, ws), GROUND, np.uint8)
    labels[:60] = SKY
    small = np.empty((hs, ws, 3), np.float32)
    small[:60] = (0.15, 0.3, 0.6)
    small[60:] = (0.2, 0.2, 0.2)
    shade = np.zeros((hs, ws), bool)
    for base, c0 in ((75, 30), (80, 62), (88, 92)):
        z = cam["focal_length_px"] * 1.3 / (base + 0.5 - 60.0)
        width = int(1.8 * cam["focal_length_px"] / z)
        top = base - int(1.5 * cam["focal_length_px"] / z)
        labels[top:base, c0 : c0 + width] = VERTICAL
        small[top:base, c0 : c0 + width] = (0.05, 0.05, 0.06)
        if shadows_ahead:  # 8 m of shadow towards the camera, below the car
            nearer = int(60.0 + cam["focal_length_px"] * 1.3 / max(z - 8.0, 0.5))
            shade[base:nearer, c0 : c0 + width] = True
    if not shadows_ahead:  # tree shadows across the verges
        shade[96:118, :22] = True
        shade[96:118, 120:] = True
    small[shade] = (0.05, 0.055, 0.075)  # skylight only: darker and bluer
    return {"k": 1, "small": small, "labels": labels, "camera": cam}


def test_shadows_thrown_towards_the_camera_allow_a_sun_ahead():
    from domaug_driving.sun_scene import AHEAD_SHARE, front_shadow_share, sun_ruled_out

    ahead = front_shadow_share(_road_scene(shadows_ahead=True))
    behind = front_shadow_share(_road_scene(shadows_ahead=False))
    assert ahead is not None and ahead[0] > 0.8 and sun_ruled_out(_road_scene(True)) is None
    assert behind is not None and behind[0] < AHEAD_SHARE and "behind" in sun_ruled_out(_road_scene(False))


def test_fast_8bit_path_equals_the_float_path():
    from domaug.kit import linear_to_srgb8, srgb_codes_to_linear

    img, _ = _sky_scene()
    img[150:, ::7] = 250  # some structure to round
    kw = dict(sun_position=(0.4, 0.25), focal_length_px=300.0, horizon_row=120.0, respect_scene_light=False)
    t = SunGlare(**kw)
    for seed in range(3):
        fast = t(image=img, rng=seed)["image"].astype(int)
        ref = linear_to_srgb8(t(image=srgb_codes_to_linear(img), rng=seed)["image"]).astype(int)
        assert np.abs(fast - ref).max() <= 1
