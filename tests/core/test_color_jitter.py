"""core.ColorJitter: BT.601 luma contrast/saturation, HSV hue rotation, random recorded order."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError
from domaug.ops import hsv

STEPS = ["brightness", "contrast", "saturation", "hue"]
LUMA = np.array([0.299, 0.587, 0.114])


def jitter(image, brightness=1.0, contrast=1.0, saturation=1.0, hue=0.0, order=STEPS, **sample):
    """Apply fixed factors in a fixed order (the deterministic half of the transform)."""
    t = domaug.get_transform("core.ColorJitter")
    params = {"brightness": brightness, "contrast": contrast, "saturation": saturation, "hue": hue,
              "order": list(order)}
    return t.apply({"image": image, **sample}, params)["image"]


def scene(dtype=np.uint8, h=24, w=32, seed=0):
    """A smooth colourful image in mid-range values (no clipping at factor 0.8–1.2)."""
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    rng = np.random.default_rng(seed)
    bands = [0.5 + 0.3 * np.sin(rng.uniform(0.1, 0.3) * xx + rng.uniform(0, 6)) * np.cos(0.2 * yy) for _ in range(3)]
    x = np.stack(bands, -1)
    if dtype == np.uint8:
        return np.rint(x * 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.rint(x * 65535).astype(np.uint16)
    return x.astype(dtype)


def full_scale(dtype):
    return {np.uint8: 255.0, np.uint16: 65535.0}.get(dtype, 1.0)


PRIMARIES = np.array([[[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_third_of_a_turn_takes_red_to_green_to_blue(path, dtype):
    fs = full_scale(dtype)
    img = (PRIMARIES * fs).astype(dtype)
    out = jitter(img, hue=1 / 3).astype(np.float64) / fs
    # red → green, green → blue, blue → red (within 8-bit hue quantisation: 1/256 turn)
    np.testing.assert_allclose(out[0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=0.025)
    back = jitter(img, hue=-1 / 3).astype(np.float64) / fs
    np.testing.assert_allclose(back[0], [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=0.025)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_saturation_zero_gives_grey_at_bt601_luma(path, dtype):
    img = scene(dtype)
    out = jitter(img, saturation=0.0).astype(np.float64)
    luma = img.astype(np.float64) @ LUMA
    step = 1.0 if dtype != np.float32 else 1e-6
    for c in range(3):
        np.testing.assert_allclose(out[..., c], luma, atol=step)
    assert np.abs(out[..., 0] - out[..., 1]).max() <= step


def test_greys_stay_grey_under_saturation(path):
    grey = np.repeat(np.arange(0, 256, 8, dtype=np.uint8)[None, :, None], 3, axis=2)
    np.testing.assert_array_equal(jitter(grey, saturation=1.8), grey)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_brightness_scales_and_clips(path, dtype):
    fs = full_scale(dtype)
    img = scene(dtype)
    out = jitter(img, brightness=1.5).astype(np.float64)
    expected = np.clip(img.astype(np.float64) * 1.5, 0, fs)
    np.testing.assert_allclose(out, expected, atol=0.5 if fs > 1 else 1e-6)
    assert out.max() == fs  # some pixels hit white and were clipped


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_contrast_keeps_mean_luma_and_scales_deviations(path, dtype):
    fs = full_scale(dtype)
    img = scene(dtype)
    x = img.astype(np.float64)
    out = jitter(img, contrast=0.5).astype(np.float64)
    mean_in, mean_out = (x @ LUMA).mean(), (out @ LUMA).mean()
    assert abs(mean_out - mean_in) <= 0.5 * fs / 255
    np.testing.assert_allclose(out - mean_in, 0.5 * (x - mean_in), atol=0.51 * fs / 255)
    flat = jitter(img, contrast=0.0).astype(np.float64)
    np.testing.assert_allclose(flat, mean_in, atol=0.5 * fs / 255)


def test_contrast_pivot_is_the_mean_of_valid_pixels_only(path):
    img = scene(np.uint8)
    img[:, :8] = 255  # nodata collar at white
    valid = np.ones(img.shape[:2], bool)
    valid[:, :8] = False
    out = jitter(img, contrast=0.0, valid=valid)
    mean_valid = (img[valid].astype(np.float64) @ LUMA).mean()
    assert np.abs(out[valid].astype(np.float64) - mean_valid).max() <= 0.5
    np.testing.assert_array_equal(out[~valid], img[~valid])  # nodata untouched


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_identity_parameters_return_the_input_exactly(path, dtype):
    img = scene(dtype)
    out = domaug.get_transform("core.ColorJitter", brightness=(1, 1), contrast=(1, 1), saturation=(1, 1),
                               hue=0)(image=img, rng=3)["image"]
    assert out.dtype == img.dtype and out is not img
    np.testing.assert_array_equal(out, img)


def test_hue_round_trip(path):
    f = scene(np.float32)
    np.testing.assert_allclose(jitter(jitter(f, hue=0.2), hue=-0.2), f, atol=1e-5)
    u = scene(np.uint8)
    err = np.abs(jitter(jitter(u, hue=0.2), hue=-0.2).astype(int) - u)
    assert err.mean() < 1.0 and err.max() <= 12  # 8-bit HSV: hue in 1/256 turn


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_defaults_keep_dtype_shape_and_range(path, dtype):
    img = scene(dtype)
    out = domaug.get_transform("core.ColorJitter")(image=img, rng=0)["image"]
    assert out.dtype == img.dtype and out.shape == img.shape
    assert (out != img).any()
    if dtype == np.float32:
        assert out.min() >= 0 and out.max() <= 1


def test_both_paths_agree_on_uint8(both_paths):
    img = scene(np.uint8, 48, 64)
    t = domaug.get_transform("core.ColorJitter", hue=0.1)
    for seed in range(5):
        fast, ref = both_paths(lambda: t(image=img, rng=seed)["image"].astype(int))
        # the 8-bit path rounds after every step and quantises hue to 1/256 turn
        assert np.abs(fast - ref).mean() < 1.0 and np.abs(fast - ref).max() <= 8


def test_alpha_untouched_and_band_names_respected(path):
    rgb = scene(np.uint8)
    alpha = np.linspace(0, 255, rgb.shape[0] * rgb.shape[1]).reshape(rgb.shape[:2]).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    params = {"brightness": 1.1, "contrast": 0.9, "saturation": 1.3, "hue": 0.1, "order": STEPS}
    ref = jitter(rgb, **params)
    out = jitter(rgba, **params)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[..., :3], ref)
    # blue-green-red storage with band names: the same colours come out, in the same storage order
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    out_bgr = jitter(bgr, **params, meta={"band_names": ["blue", "green", "red"]})
    np.testing.assert_array_equal(out_bgr[..., ::-1], ref)


@pytest.mark.parametrize("image, meta, match", [
    (np.zeros((8, 8, 12), np.float32), None, "12 bands"),
    (np.zeros((8, 8), np.uint8), None, "single-band"),
    (np.zeros((8, 8, 4), np.uint16), {"band_names": ["blue", "green", "red", "nir"]}, "nir"),
])
def test_non_rgb_inputs_are_refused_with_the_reason(image, meta, match):
    t = domaug.get_transform("core.ColorJitter")
    with pytest.raises(UnsupportedInputError, match=match):
        t(image=image, meta=meta or {}, rng=0)


def test_reproducible_and_order_is_a_recorded_permutation():
    img = scene(np.uint8)
    t = domaug.get_transform("core.ColorJitter")
    a, b = t(image=img, rng=11), t(image=img, rng=11)
    np.testing.assert_array_equal(a["image"], b["image"])
    orders = {tuple(t(image=img, rng=s)["applied"][0]["params"]["order"]) for s in range(40)}
    assert all(sorted(o) == sorted(STEPS) for o in orders) and len(orders) > 5
    replayed = domaug.replay(a["applied"], image=img)
    np.testing.assert_array_equal(replayed["image"], a["image"])


def test_the_recorded_order_is_the_order_applied():
    x = np.array([[[0.9, 0.5, 0.1]]], np.float32)
    # saturation 0 then brightness 1.5: the grey is brightened; the other way the colour clips first
    grey_first = jitter(x, brightness=1.5, saturation=0.0, order=["saturation", "brightness", "contrast", "hue"])
    bright_first = jitter(x, brightness=1.5, saturation=0.0, order=["brightness", "saturation", "contrast", "hue"])
    luma = float(x[0, 0] @ LUMA)
    np.testing.assert_allclose(grey_first[0, 0], 1.5 * luma, rtol=1e-6)
    np.testing.assert_allclose(bright_first[0, 0], np.clip(1.5 * x[0, 0], 0, 1) @ LUMA, rtol=1e-6)


def test_parameters_follow_torchvision_conventions():
    t = domaug.get_transform("core.ColorJitter", brightness=0.3, contrast=2.0, saturation=(0.5, 1.5), hue=0.1)
    assert t.brightness == pytest.approx((0.7, 1.3))
    assert t.contrast == (0.0, 3.0)
    assert t.saturation == (0.5, 1.5)
    assert t.hue == (-0.1, 0.1)
    for bad in ({"brightness": -0.1}, {"saturation": (-1, 1)}, {"hue": 0.6}, {"hue": (-0.7, 0.1)}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            domaug.get_transform("core.ColorJitter", **bad)


def test_kernels_match_stdlib_colorsys():
    import colorsys

    rng = np.random.default_rng(1)
    x = rng.random((200, 3))
    h, s, v = hsv.rgb_to_hsv(x)
    ref = np.array([colorsys.rgb_to_hsv(*p) for p in x])
    np.testing.assert_allclose(np.stack([h, s, v], -1), ref, atol=1e-9)
    back = np.array([colorsys.hsv_to_rgb((a + 0.3) % 1, b, c) for a, b, c in ref])
    np.testing.assert_allclose(hsv.shift_hsv(x, hue_turns=0.3), back, atol=1e-9)
