"""driving.MotionBlur (ego zoom / pan) and driving.Exposure (sensor saturation in linear light)."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug_driving import radiometry

MotionBlur = domaug.registry.get_transform_class("driving.MotionBlur")
Exposure = domaug.registry.get_transform_class("driving.Exposure")


def test_radial_blur_smears_near_more_than_far():
    rng = np.random.default_rng(0)
    h, w = 120, 160
    img = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
    depth = np.full((h, w), 200.0, np.float32)
    depth[:, :40] = 3.0  # a near wall on the left
    out = MotionBlur(speed_kmh=100.0, exposure_ms=20.0)(image=img, depth=depth, rng=0)["image"]
    change = np.abs(out - img).mean(-1)
    assert change[:, 5:35].mean() > 5 * change[:, 100:150].mean()
    # the focus of expansion (horizon row, image centre) does not move
    fr, fc = int(0.58 * h), w // 2
    np.testing.assert_allclose(out[fr, fc], img[fr, fc], atol=0.02)


def test_no_speed_is_identity_and_sky_is_still():
    img = np.random.default_rng(1).integers(0, 256, (50, 70, 3)).astype(np.uint8)
    out = MotionBlur(speed_kmh=0.0)(image=img, rng=0)["image"]
    np.testing.assert_array_equal(out, img)
    depth = np.full((50, 70), 1e9, np.float32)
    np.testing.assert_array_equal(MotionBlur(speed_kmh=120.0)(image=img, depth=depth, rng=0)["image"], img)


def test_lateral_blur_is_horizontal():
    h, w = 40, 60
    vertical = np.zeros((h, w, 3), np.float32)
    vertical[:, ::4] = 1.0  # vertical stripes: smeared by a pan
    horizontal = np.transpose(vertical, (1, 0, 2))[:h, :w].copy()
    horizontal[:] = 0
    horizontal[::4] = 1.0  # horizontal stripes: unchanged by a pan
    t = MotionBlur(mode="lateral", yaw_rate_deg_s=30.0, exposure_ms=20.0, focal_length_px=1000.0)  # ≈ 10 px
    assert t(image=vertical, rng=0)["image"].std() < 0.5 * vertical.std()
    np.testing.assert_allclose(t(image=horizontal, rng=0)["image"], horizontal, atol=1e-6)


def test_uint8_round_trip_through_linear_light_is_exact():
    codes = np.arange(256, dtype=np.uint8)
    img = np.stack([codes] * 3, -1)[None].repeat(2, 0)
    np.testing.assert_array_equal(Exposure(ev=0.0)(image=img, rng=0)["image"], img)
    lin = radiometry.decode(img)
    np.testing.assert_array_equal(radiometry.encode(lin.copy(), img), img)


def test_exposure_scales_linear_light_and_saturates():
    img = np.array([[[0.1, 0.3, 0.7]]], np.float32)
    up = Exposure(ev=1.0)(image=img, rng=0)["image"]
    np.testing.assert_allclose(up, [[[0.2, 0.6, 1.0]]], rtol=1e-6)  # 1.4 clipped at full scale
    down = Exposure(ev=-2.0)(image=img, rng=0)["image"]
    np.testing.assert_allclose(down, img / 4, rtol=1e-6)
    u8 = np.full((4, 4, 3), 200, np.uint8)
    assert (Exposure(ev=3.0)(image=u8, rng=0)["image"] == 255).all()
    lin_in = radiometry.decode(np.full((1, 1, 3), 120, np.uint8))[0, 0, 0]
    half = Exposure(ev=-1.0)(image=np.full((1, 1, 3), 120, np.uint8), rng=0)["image"]
    assert radiometry.decode(half)[0, 0, 0] == pytest.approx(lin_in / 2, rel=0.02)


@pytest.mark.parametrize("meta", [None, {"bit_depth": 12}, {"transfer": "linear"}])
def test_exposure_16bit_lookup_equals_per_pixel_light(meta):
    # 16-bit frames take a per-code table: it must give exactly what decoding every
    # pixel, scaling, clipping at the full well and re-encoding gives
    from domaug.dtypes import restore_dtype

    hi = 4096 if meta and meta.get("bit_depth") else 65536
    img = np.random.default_rng(2).integers(0, hi, (300, 700, 3), dtype=np.uint16)  # ≥ 200k px: table path
    params = {"ev": 0.7, "saturation": 0.8}
    out = domaug.get_transform("driving.Exposure").apply({"image": img, "meta": meta} if meta else {"image": img},
                                                         params)["image"]
    lin = radiometry.decode(img, meta) * np.float32(2.0**0.7)
    np.minimum(lin, np.float32(0.8), out=lin)
    lin *= np.float32(1.0) / np.float32(0.8)
    ref = restore_dtype(radiometry.encode(lin, img, meta), np.uint16, meta)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, ref)


def test_the_ego_hood_moves_with_the_camera_and_stays_sharp(shared_data):
    """The hood is fixed to the camera: the radial ego-motion blur smears the road in front of it,
    never the hood itself (the layout's EGO label)."""
    from PIL import Image

    from domaug_driving.depth import camera_from, scene_layout
    from domaug_driving.layout import EGO

    img = np.asarray(Image.open(shared_data / "driving" / "udacity_test6.jpg").convert("RGB"))
    labels = scene_layout(img, camera=camera_from(img.shape[:2], image=img)).labels
    out = domaug.get_transform("driving.MotionBlur", speed_kmh=120.0, exposure_ms=30.0)(image=img, rng=0)["image"]
    hood = labels == EGO
    inner = hood & np.roll(hood, 12, axis=0) & np.roll(hood, -12, axis=0)  # away from its edge
    assert inner.sum() > 5000
    diff = np.abs(out.astype(int) - img.astype(int)).max(-1)
    assert np.percentile(diff[inner], 99) <= 2
    road = (labels == 2) & (np.arange(img.shape[0])[:, None] > 550)
    assert diff[road].mean() > 3 * max(diff[inner].mean(), 0.5)  # the near road does smear


def _polar_pattern(h, w, foe, radial):
    """Stripes along the rays from ``foe`` (``radial``) or rings around it, 0.2/0.8 in linear light."""
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    dy, dx = yy - foe[0], xx - foe[1]
    phase = np.arctan2(dy, dx) * 24 / np.pi if radial else np.hypot(dy, dx) / 2.0  # rings 4 px apart
    stripes = np.where(np.floor(phase) % 2 == 0, 0.8, 0.2).astype(np.float32)
    return np.repeat(stripes[..., None], 3, axis=2)


def test_radial_blur_keeps_edges_along_the_rays_and_smears_across():
    """A zoom blur moves every point along its ray from the focus of expansion: stripes along the
    rays (lane lines) keep their edges, rings around the focus are averaged away."""
    h, w = 200, 240
    foe = (0.58 * h, w / 2)
    depth = np.full((h, w), 3.0, np.float32)  # near: a = v·T/Z ≈ 0.19, 11–20 px of smear at these radii
    t = MotionBlur(speed_kmh=100.0, exposure_ms=20.0)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    r = np.hypot(yy - foe[0], xx - foe[1])
    ring = (r > 60) & (r < 110) & (yy < foe[0])  # above the focus (the layout may call the bottom the hood)
    contrast = {}
    for radial in (True, False):
        img = _polar_pattern(h, w, foe, radial)
        out = t(image=img, depth=depth, rng=0)["image"][..., 1]
        contrast[radial] = out[ring].std() / img[..., 1][ring].std()
    assert contrast[True] > 0.6  # edges along the rays survive (the half-size pass costs a little)
    assert contrast[False] < 0.25  # rings 4 px apart, smeared over ≥ 11 px


def test_radial_blur_leaves_still_pixels_exactly_unchanged():
    """Where nothing moves (sky at infinity) the frame comes back bit for bit, also next to moving parts."""
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 1, (96, 128, 3)).astype(np.float32)
    depth = np.full((96, 128), 1e9, np.float32)
    depth[:, :40] = 4.0  # a near wall on the left, sky elsewhere
    out = MotionBlur(speed_kmh=120.0, exposure_ms=25.0)(image=img, depth=depth, rng=0)["image"]
    np.testing.assert_array_equal(out[:, 48:], img[:, 48:])  # the upsampled change reaches ≤ a few px
    assert np.abs(out[:, :30] - img[:, :30]).mean() > 0.05
