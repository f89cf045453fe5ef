"""core.BrightnessContrast: mean shifts by brightness·full scale, contrast scales deviations."""

from __future__ import annotations

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError


def _img(dtype, scale):
    rng = np.random.default_rng(0)
    return (0.3 + 0.4 * rng.random((600, 600, 3))) * scale


@pytest.mark.parametrize("dtype,fs", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_brightness_shifts_mean_by_fraction_of_full_scale(dtype, fs):
    img = _img(dtype, fs).astype(dtype)
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.1, contrast=1.0)(image=img, rng=0)["image"]
    assert out.dtype == img.dtype
    assert float(out.mean()) - float(img.mean()) == pytest.approx(0.1 * fs, rel=0.01)


def test_contrast_scales_std_about_mean():
    img = _img(np.float32, 1.0).astype(np.float32)
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.0, contrast=1.5)(image=img, rng=0)["image"]
    assert float(out.mean()) == pytest.approx(float(img.mean()), abs=1e-5)
    assert float(out.std()) == pytest.approx(1.5 * float(img.std()), rel=1e-4)


def test_mid_pivot_keeps_mid_grey():
    img = np.array([[0.5, 0.25, 0.75]], np.float32)
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.0, contrast=2.0, pivot="mid")(image=img)
    np.testing.assert_allclose(out["image"], [[0.5, 0.0, 1.0]], atol=1e-7)


@pytest.mark.parametrize("dtype,fs", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_black_pivot_is_a_pure_gain(dtype, fs):
    # a linear sensor's gain change: zero signal stays zero, every value scales by the gain
    img = _img(dtype, fs).astype(dtype)
    img[0, 0] = 0
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.0, contrast=0.8, pivot="black")(
        image=img, rng=0)["image"]
    assert out[0, 0].tolist() == [0, 0, 0]
    expect = np.rint(img.astype(np.float64) * 0.8) if fs > 1 else img.astype(np.float64) * 0.8
    np.testing.assert_allclose(out.astype(np.float64), expect, atol=1e-6 if fs == 1 else 0.5 + 1e-9)
    assert float(out.mean()) == pytest.approx(0.8 * float(img.mean()), rel=1e-3)


def test_uint8_lut_equals_float_path():
    img = (np.arange(256, dtype=np.uint8)[None, :].repeat(800, axis=0))  # large → LUT path
    t = domaug.get_transform("core.BrightnessContrast", brightness=0.07, contrast=1.3)
    out = t(image=img, rng=0)["image"]
    x = img.astype(np.float32)
    pivot = float(np.mean(img, dtype=np.float64))
    ref = x * np.float32(1.3) + np.float32(pivot * (1 - 1.3) + 0.07 * 255)
    np.testing.assert_array_equal(out, np.clip(np.rint(ref), 0, 255).astype(np.uint8))


def test_bit_depth_clipping_and_int16():
    img = np.full((10, 10), 4000, np.uint16)
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.5, contrast=1.0)(
        image=img, meta={"bit_depth": 12})["image"]
    assert out.max() == 4095
    ct = np.full((700, 700), -1000, np.int16)  # LUT path on signed data
    ct[0, 0] = 1000
    out = domaug.get_transform("core.BrightnessContrast", brightness=0.0, contrast=2.0, pivot="mid")(image=ct)["image"]
    assert out.dtype == np.int16
    pivot = 32767 / 2
    assert int(out[1, 1]) == int(np.rint((-1000 - pivot) * 2 + pivot))
    assert int(out[0, 0]) == int(np.rint((1000 - pivot) * 2 + pivot))


def test_parameter_errors():
    with pytest.raises(ParameterError, match="contrast"):
        domaug.get_transform("core.BrightnessContrast", contrast=-1)
    with pytest.raises(ParameterError, match="pivot"):
        domaug.get_transform("core.BrightnessContrast", pivot="median")
