"""core.HueSaturationValue: hexcone HSV shifts (Smith 1978), neutral stays neutral, 8-bit and float paths."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError
from domaug.ops import opencv


def shift(image, hue_shift_deg=0.0, saturation_shift=0.0, value_shift=0.0, **sample):
    t = domaug.get_transform("core.HueSaturationValue")
    params = {"hue_shift_deg": hue_shift_deg, "saturation_shift": saturation_shift, "value_shift": value_shift}
    return t.apply({"image": image, **sample}, params)["image"]


def scene(dtype=np.uint8, h=24, w=32, seed=0):
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    rng = np.random.default_rng(seed)
    x = np.stack([0.5 + 0.4 * np.sin(rng.uniform(0.1, 0.3) * xx + rng.uniform(0, 6)) * np.cos(0.2 * yy)
                  for _ in range(3)], -1)
    if dtype == np.uint8:
        return np.rint(x * 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.rint(x * 65535).astype(np.uint16)
    return x.astype(dtype)


def full_scale(dtype):
    return {np.uint8: 255.0, np.uint16: 65535.0}.get(dtype, 1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_120_degrees_takes_red_to_green(path, dtype):
    fs = full_scale(dtype)
    img = (np.array([[[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]]) * fs).astype(dtype)
    out = shift(img, hue_shift_deg=120).astype(np.float64) / fs
    np.testing.assert_allclose(out[0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=0.025)
    out = shift(img, hue_shift_deg=-120).astype(np.float64) / fs
    np.testing.assert_allclose(out[0], [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=0.025)


def test_float_shifts_match_stdlib_colorsys(path):
    rng = np.random.default_rng(4)
    x = rng.uniform(0.05, 0.95, (1, 300, 3)).astype(np.float64)
    out = shift(x, hue_shift_deg=45, saturation_shift=-0.2, value_shift=0.1)
    ref = []
    for r, g, b in x[0]:
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        ref.append(colorsys.hsv_to_rgb((h + 45 / 360) % 1, min(max(s - 0.2, 0), 1), min(max(v + 0.1, 0), 1)))
    np.testing.assert_allclose(out[0], ref, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_full_desaturation_gives_grey_at_value(path, dtype):
    img = scene(dtype)
    out = shift(img, saturation_shift=-1.0)
    vmax = img.max(axis=-1)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], vmax)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_value_shift_moves_the_largest_channel_and_keeps_hue(path, dtype):
    fs = full_scale(dtype)
    img = scene(dtype)
    out = shift(img, value_shift=-0.1).astype(np.float64)
    x = img.astype(np.float64)
    np.testing.assert_allclose(out.max(-1), np.clip(x.max(-1) - 0.1 * fs, 0, fs), atol=0.51 * fs / 255)
    # the colour direction is kept: hue (from the float HSV of both) barely moves
    hue_in = np.array([colorsys.rgb_to_hsv(*p)[0] for p in x.reshape(-1, 3) / fs])
    hue_out = np.array([colorsys.rgb_to_hsv(*p)[0] for p in out.reshape(-1, 3) / fs])
    d = np.abs((hue_out - hue_in + 0.5) % 1 - 0.5)
    assert np.median(d) < 0.01


def test_neutral_pixels_stay_neutral(path):
    grey = np.repeat(np.arange(0, 256, 8, dtype=np.uint8)[None, :, None], 3, axis=2)
    out = shift(grey, hue_shift_deg=90, saturation_shift=0.5)
    np.testing.assert_array_equal(out, grey)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_zero_shifts_return_the_input_exactly(path, dtype):
    img = scene(dtype)
    out = domaug.get_transform("core.HueSaturationValue", hue_shift_deg=0, saturation_shift=0,
                               value_shift=0)(image=img, rng=0)["image"]
    assert out.dtype == img.dtype and out is not img
    np.testing.assert_array_equal(out, img)


def test_hue_round_trip(path):
    f = scene(np.float32)
    np.testing.assert_allclose(shift(shift(f, hue_shift_deg=70), hue_shift_deg=-70), f, atol=1e-5)
    u = scene(np.uint8)
    err = np.abs(shift(shift(u, hue_shift_deg=70), hue_shift_deg=-70).astype(int) - u)
    assert err.mean() < 1.0 and err.max() <= 12


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_defaults_keep_dtype_shape_and_nodata(path, dtype):
    img = scene(dtype)
    valid = np.ones(img.shape[:2], bool)
    valid[:4] = False
    img[~valid] = 0
    out = domaug.get_transform("core.HueSaturationValue")(image=img, valid=valid, meta={"nodata": 0}, rng=1)
    new = out["image"]
    assert new.dtype == img.dtype and new.shape == img.shape and (new != img).any()
    np.testing.assert_array_equal(new[~valid], img[~valid])
    assert not (new[valid] == 0).all(axis=-1).any()


def test_both_paths_agree_on_uint8(both_paths):
    img = scene(np.uint8, 48, 64)
    t = domaug.get_transform("core.HueSaturationValue")
    for seed in range(5):
        fast, ref = both_paths(lambda: t(image=img, rng=seed)["image"].astype(int))
        # 8-bit HSV: hue in 1/256 turn is up to ~6 levels of a saturated bright channel per conversion
        assert np.abs(fast - ref).mean() < 1.0 and np.abs(fast - ref).max() <= 12


def test_alpha_untouched(path):
    rgb = scene(np.uint8)
    alpha = (np.arange(rgb.shape[0] * rgb.shape[1]) % 256).reshape(rgb.shape[:2]).astype(np.uint8)
    out = shift(np.dstack([rgb, alpha]), hue_shift_deg=30, saturation_shift=0.1, value_shift=-0.05)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_array_equal(out[..., :3], shift(rgb, hue_shift_deg=30, saturation_shift=0.1, value_shift=-0.05))


def test_twelve_bands_refused():
    with pytest.raises(UnsupportedInputError, match="12 bands"):
        domaug.get_transform("core.HueSaturationValue")(image=np.zeros((8, 8, 12), np.float32), rng=0)


def test_reproducible_from_seed_and_scalar_is_fixed():
    img = scene(np.uint8)
    t = domaug.get_transform("core.HueSaturationValue")
    np.testing.assert_array_equal(t(image=img, rng=5)["image"], t(image=img, rng=5)["image"])
    fixed = domaug.get_transform("core.HueSaturationValue", hue_shift_deg=15, saturation_shift=0.1, value_shift=0)
    assert fixed(image=img, rng=1)["applied"][0]["params"] == {
        "hue_shift_deg": 15.0, "saturation_shift": 0.1, "value_shift": 0.0}


@pytest.mark.parametrize("bad", [{"hue_shift_deg": 200}, {"saturation_shift": (-2, 0)}, {"value_shift": 1.5}])
def test_parameter_validation(bad):
    with pytest.raises(ParameterError, match=next(iter(bad))):
        domaug.get_transform("core.HueSaturationValue", **bad)


def test_opencv_lookup_without_stringzilla_gives_the_same_result(monkeypatch):
    if opencv.cv2_module() is None:
        pytest.skip("OpenCV paths disabled")
    img = scene(np.uint8, 32, 40)
    params = {"hue_shift_deg": 25, "saturation_shift": 0.1, "value_shift": -0.05}
    ref = shift(img, **params)
    monkeypatch.setattr(opencv, "_stringzilla", lambda: None)
    np.testing.assert_array_equal(shift(img, **params), ref)
    cj = domaug.get_transform("core.ColorJitter")
    out = cj(image=img, rng=9)
    monkeypatch.undo()
    np.testing.assert_array_equal(cj(image=img, rng=9)["image"], out["image"])
