"""The fast building blocks of the driving transforms: planar codec, splats, scratch reuse, coarse fields."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.kit import linear_to_srgb, linear_to_srgb16_in_place
from domaug_driving import radiometry, streaks
from domaug_driving.fields import value_noise
from domaug_driving.plane_ops import upsample
from domaug_driving.scene import upsample_mask


def test_planar_codec_round_trips_every_code_and_matches_the_transfer_function():
    img = np.stack(np.meshgrid(np.arange(256), np.arange(256)), -1)[..., [0, 1, 0]].astype(np.uint8)
    planes = radiometry.decode_planes(img)
    np.testing.assert_array_equal(np.stack(planes, -1), radiometry.decode(img))
    np.testing.assert_array_equal(radiometry.encode_planes([p.copy() for p in planes], img), img)
    np.testing.assert_array_equal(radiometry.encode(radiometry.decode(img), img), img)
    x = np.random.default_rng(0).uniform(-0.2, 1.3, (64, 64, 3)).astype(np.float32)
    exact = np.rint(linear_to_srgb(np.clip(x, 0, 1).astype(np.float64)) * 255)
    fast = radiometry.encode_planes([np.ascontiguousarray(x[..., c]) for c in range(3)], img[:64, :64]).astype(float)
    assert np.abs(fast - exact).max() <= 1 and (fast != exact).mean() < 0.01
    np.testing.assert_array_equal(radiometry.encode(x.copy(), img[:64, :64]), fast)


def test_16bit_codec_gives_the_codes_of_the_float32_transfer_function(both_paths):
    """16-bit sRGB is decoded by table and encoded in place: the codes are those of
    ``linear_to_srgb`` ×65535 rounded half to even, on every path (zeros, the toe, the
    knee, out of range)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.2, 1.3, (48, 64, 3)).astype(np.float32)
    x[0, :, 0] = 0.0  # black (powf's slow case)
    x[1, :, :] = np.linspace(0.0029, 0.0033, 192, dtype=np.float32).reshape(64, 3)  # around the knee
    ref = np.rint(linear_to_srgb(x) * np.float32(65535)).astype(np.uint16)
    image = np.zeros(x.shape, np.uint16)
    fast, numpy_path = both_paths(lambda: radiometry.encode(x.copy(), image))
    for out in (fast, numpy_path):
        assert out.dtype == np.uint16
        np.testing.assert_array_equal(out, ref)
    strided = np.repeat(x, 2, axis=1)[:, ::2]  # a strided view is encoded like its copy
    np.testing.assert_array_equal(linear_to_srgb16_in_place(strided), ref)
    codes = np.arange(65536, dtype=np.uint16).reshape(256, 256, 1).repeat(3, axis=2)
    dec_fast, dec_numpy = both_paths(lambda: radiometry.decode(codes).copy())
    np.testing.assert_array_equal(dec_fast, dec_numpy)
    np.testing.assert_array_equal(radiometry.encode(dec_fast, codes), codes)  # every code round-trips
    planes = radiometry.decode_planes(codes)
    np.testing.assert_array_equal(np.stack(planes, -1), dec_numpy)
    np.testing.assert_array_equal(radiometry.encode_planes(planes, codes), codes)


@pytest.mark.parametrize("dx, dy, width", [(0.0, 18.0, 1.0), (14.0, 6.0, 1.0), (7.0, 9.0, 3.5), (0.0, 0.0, 0.5)])
def test_two_tap_splats_keep_the_segment_area(dx, dy, width):
    cov = streaks.rasterize_segments((60, 60), np.array([30.2]), np.array([29.7]), np.array([dx]), np.array([dy]),
                                     np.array([width]), np.array([0.5]))
    assert cov.sum() == pytest.approx(0.5 * max(np.hypot(dx, dy), 1.0) * max(width, 1.0), rel=1e-4)
    ys, xs = np.nonzero(cov > 1e-6)
    # the footprint spans the segment (± a pixel and its width)
    assert np.ptp(xs) + 1 <= abs(dx) + width + 3 and np.ptp(ys) + 1 <= abs(dy) + width + 3
    assert np.ptp(xs) + 1 >= abs(dx) and np.ptp(ys) + 1 >= abs(dy)


def test_segments_outside_the_frame_leave_no_trace_on_the_border():
    cov = streaks.rasterize_segments((40, 40), np.array([-20.0, 70.0]), np.array([20.0, 20.0]), np.array([0.0, 0.0]),
                                     np.array([10.0, 10.0]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    assert cov.sum() == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("name", ["Rain", "Snow", "Night", "Fog", "SunGlare", "MotionBlur", "LensDroplets"])
def test_scratch_buffers_never_leak_between_calls(name, dtype):
    t = domaug.get_transform(f"driving.{name}")
    rng = np.random.default_rng(0)
    top = np.iinfo(dtype).max + 1
    a = rng.integers(0, top, (96, 128, 3)).astype(dtype)
    b = rng.integers(0, top, (96, 128, 3)).astype(dtype)
    first = t(image=a, rng=5)["image"]
    t(image=b, rng=6)
    t(image=a[:64, :80].copy(), rng=7)  # another shape in between
    np.testing.assert_array_equal(t(image=a, rng=5)["image"], first)


def test_value_noise_is_smooth_normalised_and_seeded():
    a = value_noise((128, 128), seed=3, scale_px=16.0)
    assert a.dtype == np.float32 and abs(a.mean()) < 1e-4 and a.std() == pytest.approx(1.0, rel=1e-3)
    assert np.abs(np.diff(a, axis=1)).mean() < 0.35  # neighbours are correlated
    np.testing.assert_array_equal(a, value_noise((128, 128), seed=3, scale_px=16.0))
    assert not np.array_equal(a, value_noise((128, 128), seed=4, scale_px=16.0))


def test_coarse_fields_upsample_to_full_size():
    small = np.arange(12, dtype=np.float32).reshape(3, 4)
    up = upsample(small, (30, 40))
    assert up.shape == (30, 40) and up.min() >= 0 and up.max() <= 11
    assert up[0, 0] == pytest.approx(0.0) and up[-1, -1] == pytest.approx(11.0)
    m = upsample_mask(np.array([[True, False], [False, False]]), (8, 8))
    assert m.dtype == bool and m[:4, :4].all() and not m[4:].any() and not m[:, 4:].any()


def test_fused_rain_pass_equals_veil_then_streaks():
    """Rain's one-pass planar formula is Koschmieder's veil followed by the streak blend (the
    airlight and the drops' radiance: the sky at the horizon, :mod:`domaug_driving.rain_light`)."""
    from domaug_driving.atmosphere import rain_extinction_per_m
    from domaug_driving.rain_light import coarse_samples, horizon_sky_radiance
    from domaug_driving.scene import coarse_scene

    img = np.random.default_rng(2).uniform(0.1, 0.6, (60, 80, 3)).astype(np.float32)
    depth = np.full((60, 80), 50.0, np.float32)
    out = domaug.get_transform("driving.Rain", rain_rate_mm_h=30.0, wetness=0.0, overcast=False)(
        image=img, depth=depth, rng=3)
    p = out["applied"][0]["params"]
    cam = p["camera"]
    alpha = np.minimum(streaks.rain_coverage(
        (60, 80), seed=int(p["seed"]), rain_rate_mm_h=p["rain_rate_mm_h"], exposure_s=p["exposure_ms"] * 1e-3,
        wind_m_s=p["wind_mps"], ego_speed_m_s=p["speed_kmh"] / 3.6, focal_px=cam["focal_length_px"],
        horizon_row=cam["horizon_row"], aperture_m=p["aperture_mm"] * 1e-3, max_streaks=p["max_streaks"]), 1.0)
    coarse = coarse_scene({"image": img, "depth": depth}, cam)
    air = horizon_sky_radiance(coarse_samples([img[..., c] for c in range(3)], coarse["k"], coarse["labels"].shape),
                               coarse["labels"])
    t = np.exp(-rain_extinction_per_m(p["rain_rate_mm_h"]) * 50.0)
    veiled = (img - air) * t + air
    expected = veiled * (1 - alpha[..., None]) + air * p["streak_brightness"] * alpha[..., None]
    assert alpha.max() > 0.05
    np.testing.assert_allclose(out["image"], expected, atol=2e-5)
