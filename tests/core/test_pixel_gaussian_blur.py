"""core.GaussianBlur: mean kept, white-noise variance cut by 1/(4πσ²), sigma_mm via spacing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import domaug
from domaug.errors import ParameterError, UnsupportedInputError


def test_blur_keeps_mean_and_cuts_white_noise_variance():
    rng = np.random.default_rng(0)
    img = rng.normal(0.5, 0.1, (200, 200, 3)).astype(np.float32)
    out = domaug.get_transform("core.GaussianBlur", sigma_px=1.5)(image=img, rng=0)["image"]
    assert out.dtype == np.float32
    assert abs(float(out.mean() - img.mean())) < 1e-4
    ratio = float(out[10:-10, 10:-10].var() / img.var())
    assert ratio == pytest.approx(1 / (4 * math.pi * 1.5**2), rel=0.1)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float64])
def test_dtype_preserved_and_constant_image_unchanged(dtype):
    img = np.full((32, 40, 3), 100, dtype=dtype)
    out = domaug.get_transform("core.GaussianBlur")(image=img, rng=1)["image"]
    assert out.dtype == img.dtype
    np.testing.assert_allclose(out, img, rtol=1e-12)


def test_sigma_mm_uses_spacing_per_axis():
    t = domaug.get_transform("core.GaussianBlur", sigma_mm=2.0)
    vol = np.zeros((9, 33, 33), np.float32)
    vol[4, 16, 16] = 1.0
    out = t(image=vol, meta={"spacing": [4.0, 0.5, 1.0]}, rng=0)
    params = out["applied"][0]["params"]
    assert params["sigma_px"] == [0.5, 4.0, 2.0]
    v = out["image"]
    # measured second moments per axis follow σ_px (σ² = Σ w x²)
    z, y, x = np.mgrid[0:9, 0:33, 0:33]
    assert math.sqrt(float((v * (y - 16) ** 2).sum())) == pytest.approx(4.0, rel=0.05)
    assert math.sqrt(float((v * (x - 16) ** 2).sum())) == pytest.approx(2.0, rel=0.05)


def test_sigma_mm_without_spacing_refuses():
    with pytest.raises(UnsupportedInputError, match="spacing"):
        domaug.get_transform("core.GaussianBlur", sigma_mm=1.0)(image=np.zeros((8, 8), np.float32))


def test_bad_sigma():
    with pytest.raises(ParameterError, match="sigma_px"):
        domaug.get_transform("core.GaussianBlur", sigma_px=-1)


def test_nodata_untouched():
    img = np.full((20, 20), 50, np.uint8)
    img[:, :5] = 0
    valid = img > 0
    out = domaug.get_transform("core.GaussianBlur", sigma_px=3)(image=img, valid=valid, meta={"nodata": 0}, rng=0)
    assert np.all(out["image"][:, :5] == 0)
    assert np.all(out["image"][valid] > 0)


def test_nodata_fill_value_does_not_bleed_into_valid_pixels():
    img = np.full((40, 40), 0.5, np.float32)
    img[:, :10] = -9999.0
    valid = img != -9999.0
    for name, kw in [("core.GaussianBlur", {"sigma_px": 3}), ("core.MotionBlur", {"length_px": 15, "angle_deg": 0})]:
        out = domaug.get_transform(name, **kw)(image=img, meta={"nodata": -9999.0}, rng=0)["image"]
        np.testing.assert_allclose(out[valid], 0.5, atol=1e-6)
        assert np.all(out[~valid] == -9999.0)
