"""SSIM / PSNR of an output against its input (domaug.quality)."""

import math

import numpy as np
import pytest

from domaug.quality import PSNR_CAP_DB, compare, data_range, psnr, ssim


def _photo(shape=(96, 128, 3), seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    img = base[..., None] + rng.normal(0, 5, shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_identical_images_score_perfectly():
    a = _photo()
    assert ssim(a, a) == pytest.approx(1.0)
    assert psnr(a, a) == math.inf
    assert compare({"image": a}, {"image": a.copy()}) == {"ssim": 1.0, "psnr": PSNR_CAP_DB}


@pytest.mark.parametrize("sigma", [2.0, 8.0])
def test_psnr_of_known_gaussian_noise_uint8(sigma):
    a = np.full((128, 128), 128, np.uint8)  # mid-grey: no clipping of the noise
    rng = np.random.default_rng(1)
    b = np.rint(a + rng.normal(0, sigma, a.shape)).astype(np.uint8)
    expected = 20 * math.log10(255 / sigma)
    # rounding adds 1/12 of a level of variance
    assert psnr(a, b) == pytest.approx(expected, abs=0.15)


def test_psnr_float_uses_unit_full_scale():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.2, 0.8, (64, 64)).astype(np.float32)
    b = a + rng.normal(0, 0.01, a.shape).astype(np.float32)
    assert psnr(a, b) == pytest.approx(20 * math.log10(1 / 0.01), abs=0.2)


def test_bit_depth_sets_the_scale_of_uint16():
    rng = np.random.default_rng(3)
    a = rng.integers(1000, 3000, (64, 64)).astype(np.uint16)
    b = (a.astype(np.int64) + rng.normal(0, 4, a.shape)).round().astype(np.uint16)
    twelve = psnr(a, b, {"bit_depth": 12})
    sixteen = psnr(a, b)
    assert sixteen - twelve == pytest.approx(20 * math.log10(65535 / 4095), abs=1e-6)
    assert data_range(a, {"bit_depth": 12}) == 4095


def test_signed_ct_uses_observed_range():
    a = np.linspace(-1000, 1000, 64 * 64).reshape(64, 64).astype(np.int16)
    assert data_range(a) == 2000
    assert data_range(a, {"valid_range": [-1024, 3071]}) == 4095


def test_ssim_decreases_with_noise_and_handles_channels_and_volumes():
    a = _photo()
    rng = np.random.default_rng(4)
    light = np.clip(a + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(a + rng.normal(0, 30, a.shape), 0, 255).astype(np.uint8)
    assert 1.0 > ssim(a, light) > ssim(a, heavy) > 0.0
    vol = rng.random((10, 24, 24)).astype(np.float32)
    assert ssim(vol, vol, {"spatial_ndim": 3}) == pytest.approx(1.0)
    assert ssim(vol, vol * 0.5, {"spatial_ndim": 3}) < 0.9


def test_shape_change_gives_none():
    a = _photo()
    assert ssim(a, a[:50]) is None
    assert psnr(a, a[:, :50]) is None
    assert compare({"image": a}, {"image": a[:50]}) == {"ssim": None, "psnr": None}


def test_nodata_pixels_are_ignored():
    a = _photo((64, 64, 3))
    b = a.copy()
    valid = np.ones((64, 64), bool)
    valid[:, :16] = False
    b[:, :16] = 255 - b[:, :16]  # garbage only where nodata
    assert psnr(a, b, valid=valid) == math.inf
    assert ssim(a, b, valid=valid) > 0.999
    assert psnr(a, b) < 20
    # same through meta nodata on the input
    a0 = a.copy()
    a0[:, :16] = 0
    b0 = a0.copy()
    b0[:, :16] = 7
    assert psnr(a0, b0, {"nodata": 0}) == math.inf


def test_tiny_images():
    a = np.zeros((2, 2), np.uint8)
    assert ssim(a, a) is None
    assert psnr(a, a) == math.inf


def test_large_images_use_tiles_that_estimate_the_full_mean(monkeypatch):
    from domaug import quality

    rng = np.random.default_rng(6)
    a = _photo((300, 400, 3), seed=6)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    full = ssim(a, b)
    monkeypatch.setattr(quality, "MAX_SSIM_PIXELS", 40_000)
    monkeypatch.setattr(quality, "SSIM_TILE_2D", 64)
    tiles = quality._tiles((300, 400))
    assert 6 <= len(tiles) <= 16
    assert all(t[0].stop <= 300 and t[1].stop <= 400 for t in tiles)
    assert ssim(a, b) == pytest.approx(full, abs=0.02)
    assert ssim(a, a) == pytest.approx(1.0)
    vol = rng.random((40, 40, 40)).astype(np.float32)
    monkeypatch.setattr(quality, "SSIM_TILE_3D", 16)
    monkeypatch.setattr(quality, "MAX_SSIM_PIXELS", 20_000)
    noisy = vol + rng.normal(0, 0.05, vol.shape).astype(np.float32)
    estimate = ssim(vol, noisy, {"spatial_ndim": 3})
    monkeypatch.setattr(quality, "MAX_SSIM_PIXELS", 10**9)
    assert estimate == pytest.approx(ssim(vol, noisy, {"spatial_ndim": 3}), abs=0.02)


def test_psnr_in_chunks_matches_whole(monkeypatch):
    from domaug import quality

    rng = np.random.default_rng(8)
    a = rng.integers(0, 4096, (50, 60, 2)).astype(np.uint16)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 4095).astype(np.uint16)
    whole = psnr(a, b, {"bit_depth": 12})
    monkeypatch.setattr(quality, "CHUNK_VALUES", 500)
    assert psnr(a, b, {"bit_depth": 12}) == pytest.approx(whole, rel=1e-12)
