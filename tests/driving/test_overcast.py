"""Overcast light from a sunlit frame (domaug_driving.overcast): shadows lifted, direct sun out, grey sky."""

from __future__ import annotations

import numpy as np
import pytest

from domaug_driving import overcast, radiometry
from domaug_driving.depth import camera_of
from domaug_driving.layout import GROUND, SKY
from domaug_driving.scene import coarse_scene

LUMA = overcast.LUMA


def _sunny_road(h=256, w=256, r0=(0.45, 0.5, 0.62), sky=(0.2, 0.37, 0.6)):
    """Linear planes of a flat grey road under a clear sky, with a cast shadow (ratio r0 per channel)."""
    rng = np.random.default_rng(0)
    vh = int(0.45 * h)
    img = np.empty((h, w, 3), dtype=np.float32)
    img[:vh] = sky
    road = 0.25 * (1 + 0.03 * rng.standard_normal((h - vh, w, 1))).astype(np.float32)
    img[vh:] = road
    shadow = np.zeros((h, w), dtype=bool)
    shadow[int(0.65 * h):int(0.85 * h), int(0.2 * w):int(0.55 * w)] = True
    img[shadow] *= np.asarray(r0, dtype=np.float32)
    return img, shadow, vh


def _coarse(img, vh):
    sample = {"image": img, "meta": {"horizon_row": vh}}
    return coarse_scene(sample, camera_of(sample, {}))


def _planes(img):
    return [np.ascontiguousarray(img[..., c]) for c in range(3)]


def test_remove_sun_measures_the_shadow_ratio_and_lifts_the_shadow():
    img, shadow, vh = _sunny_road()
    coarse = _coarse(img, vh)
    sun = overcast.estimate_sun(coarse)
    assert sun.measured
    np.testing.assert_allclose(sun.r0, (0.45, 0.5, 0.62), atol=0.04)
    planes = _planes(img)
    share = overcast.remove_sun(planes, coarse)
    assert share == pytest.approx(1 - np.dot((0.45, 0.5, 0.62), LUMA), abs=0.04)
    out = np.stack(planes, -1)
    lit = ~shadow
    lit[: vh + 10] = False
    inner = np.zeros_like(shadow)
    inner[int(0.68 * 256):int(0.82 * 256), int(0.23 * 256):int(0.52 * 256)] = True  # away from the penumbra
    for c in range(3):  # the road is one material again: shadow and lit road at the diffuse level
        assert np.median(out[..., c][inner]) == pytest.approx(np.median(out[..., c][lit]), rel=0.06)
    np.testing.assert_array_equal(out[:vh - 8], img[:vh - 8])  # the sky is left alone


def test_a_grey_sky_means_no_sun_and_nothing_changes():
    img, _, vh = _sunny_road(sky=(0.5, 0.52, 0.6))
    coarse = _coarse(img, vh)
    planes = _planes(img)
    assert overcast.remove_sun(planes, coarse) == 0.0
    np.testing.assert_array_equal(np.stack(planes, -1), img)


def test_overcast_sky_is_grey_and_brightens_with_elevation_as_the_cie_sky():
    img, _, vh = _sunny_road()
    coarse = _coarse(img, vh)
    planes = _planes(img)
    overcast.to_overcast(planes, coarse)
    out = np.stack(planes, -1)
    sky = out[2 : vh - 8, 8:-8]
    assert (sky[..., 2] / sky[..., 0]).mean() < 1.35  # was 3.0: grey, a quarter of the camera's tint
    rows = sky @ LUMA
    f = coarse["camera"]["focal_length_px"]
    top, low = rows[:4].mean(), rows[-4:].mean()
    theta_top, theta_low = np.arctan((vh - 4) / f), np.arctan(10.5 / f)
    assert top / low == pytest.approx((1 + 2 * np.sin(theta_top)) / (1 + 2 * np.sin(theta_low)), rel=0.05)
    y_in = (img[2 : vh - 8, 8:-8] @ LUMA).mean()
    assert rows.mean() == pytest.approx(y_in, rel=0.05)  # the sky's mean luminance is kept


def _real(shared_data, name):
    from PIL import Image

    path = shared_data / "driving" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    image = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
    sample = {"image": image}
    return image, coarse_scene(sample, camera_of(sample, {}))


@pytest.mark.parametrize("name", ["udacity_test6.jpg", "udacity_straight_lines2.jpg", "udacity_solidWhiteRight.jpg",
                                  "boreas_camera_toronto_day.png"])
def test_sunny_frames_get_darker_under_an_overcast_sky(shared_data, name):
    image, coarse = _real(shared_data, name)
    planes = [p.copy() for p in radiometry.decode_planes(image)]
    before = sum(float(p.mean()) * w for p, w in zip(planes, LUMA))
    share = overcast.to_overcast(planes, coarse)
    after = sum(float(p.mean()) * w for p, w in zip(planes, LUMA))
    assert share > 0.3  # these frames were filmed in sunshine
    assert after < 0.97 * before
    assert all(np.isfinite(p).all() and (p >= 0).all() for p in planes)


def test_the_overcast_comma2k19_frame_is_left_as_it_is(shared_data):
    image, coarse = _real(shared_data, "comma2k19_rav4_2018-08-02_overcast.png")
    planes = [p.copy() for p in radiometry.decode_planes(image)]
    assert overcast.remove_sun(planes, coarse) == 0.0


def test_the_tree_shadows_on_the_test6_road_fade(shared_data):
    """The road pixels measured as sun shadow vs sunlit (on the coarse grid): their luminance ratio
    rises towards 1 (from ≈ 0.5) once the sun is removed."""
    image, coarse = _real(shared_data, "udacity_test6.jpg")
    k = coarse["k"]
    small = coarse["small"]
    y = small @ LUMA
    ground = coarse["labels"] == GROUND
    hs = y.shape[0]
    body = ground & (np.arange(hs)[:, None] > coarse["camera"]["horizon_row"] / k + 0.1 * hs)
    ref = np.array([np.percentile(y[r][body[r]], 75) if body[r].sum() > 10 else np.nan for r in range(hs)])
    ratio = y / ref[:, None]
    shade, lit = body & (ratio < 0.6) & (ratio > 0.1), body & (ratio > 0.85) & (ratio < 1.25)
    assert shade.sum() > 200
    planes = [p.copy() for p in radiometry.decode_planes(image)]
    overcast.to_overcast(planes, coarse)
    y_out = sum(p[k // 2 :: k, k // 2 :: k][:hs, : y.shape[1]] * w for p, w in zip(planes, LUMA))
    before = np.median(y[shade]) / np.median(y[lit])
    after = np.median(y_out[shade]) / np.median(y_out[lit])
    assert before < 0.6 and after > before + 0.25
    assert not (coarse["labels"] == SKY).all()


@pytest.mark.parametrize("shape", [(256, 256), (255, 257)])
def test_factors_read_only_the_half_rows_they_need_and_get_the_full_answer(shape):
    # the half-size planes are computed only for the rows the factors read (the sky's, the sunlit
    # road's): the factors must equal those from complete half-size planes, odd sizes included
    img, _, vh = _sunny_road(*shape)
    coarse = _coarse(img, vh)
    full = [overcast._half(p, ((shape[0] + 1) // 2, (shape[1] + 1) // 2), f"test_half{c}")
            for c, p in enumerate(_planes(img))]
    sun = overcast.estimate_sun(coarse)
    lo, hi = overcast._rows_needed(coarse, sun, full[0].shape[0], True)
    assert 0 <= lo < hi <= full[0].shape[0]
    part = overcast._halves(_planes(img), (lo, hi))
    for a, b in zip(full, part):
        np.testing.assert_array_equal(a[lo:hi], b[lo:hi])
    for sky_grey in (0.0, 1.0):
        got, _ = overcast.overcast_factors(_planes(img), coarse, exposure=0.8, sky_grey=sky_grey)
        got = [g.copy() for g in got]
        want_half = overcast._halves
        try:  # the same call with complete half-size planes
            overcast._halves = lambda planes, rows=None: want_half(planes)
            want, _ = overcast.overcast_factors(_planes(img), coarse, exposure=0.8, sky_grey=sky_grey)
        finally:
            overcast._halves = want_half
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
