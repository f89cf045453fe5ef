"""satellite.SensorNoise, Striping, BandMisregistration, Illumination."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

import domaug


def test_sensor_noise_variance_is_affine_in_signal():
    levels = np.array([0.05, 0.2, 0.5, 0.8])
    img = np.repeat(levels, 64)[:, None] * np.ones((1, 256))
    img = np.stack([img, img], -1).astype(np.float32)  # float reflectance, 2 bands
    t = domaug.get_transform("satellite.SensorNoise", snr=50, reference_reflectance=0.3, read_noise_fraction=0.3)
    out = t(image=img, rng=1)
    p = out["applied"][0]["params"]
    diff = (out["image"] - img)[..., 0]
    for k, level in enumerate(levels):
        var = diff[k * 64:(k + 1) * 64].var()
        expected = p["a"][0] * level + p["b"][0]
        assert var == pytest.approx(expected, rel=0.06)
    assert (0.3 / 50) ** 2 == pytest.approx(p["a"][0] * 0.3 + p["b"][0])


def test_sensor_noise_requantises_and_is_window_consistent():
    img = np.full((32, 40, 3), 0.3, np.float32)
    t = domaug.get_transform("satellite.SensorNoise", bit_depth=8)
    whole = t(image=img, rng=3)
    np.testing.assert_allclose(whole["image"] * 255, np.round(whole["image"] * 255), atol=1e-3)
    params = whole["applied"][0]["params"]
    part = type(t)().apply({"image": img[10:20, 5:30], "meta": {"window_offset": [10, 5], "full_shape": [32, 40]}},
                           params)
    np.testing.assert_array_equal(part["image"], whole["image"][10:20, 5:30])


def test_striping_column_gains_and_dead_lines():
    img = np.full((200, 120, 4), 3000, np.uint16)
    out = domaug.get_transform("satellite.Striping", gain_std=0.02, offset_std=0.0, dead_line_fraction=0.05)(
        image=img, meta={"full_scale": 10000}, rng=4)["image"].astype(float)
    cols = out[..., 0]
    assert (cols.std(axis=0) == 0).all()                 # constant along each column (push-broom)
    live = cols[0] > 0
    assert 1 <= (~live).sum() <= 20
    assert cols[0, live].std() / 3000 == pytest.approx(0.02, rel=0.35)
    assert not np.array_equal(out[..., 0], out[..., 1])  # detectors differ per band


def test_striping_slc_off_gaps_become_nodata():
    img = np.full((96, 128), 500, np.uint16)
    out = domaug.get_transform("satellite.Striping", slc_off=True)(image=img, rng=1)
    valid = out["valid"]
    assert out["meta"]["nodata"] == 0
    assert (out["image"][~valid] == 0).all() and (out["image"][valid] != 0).all()
    lost = 1 - valid.mean(axis=0)
    assert lost[:5].mean() > 0.25 and lost[60:68].mean() < 0.05  # wedges widen towards the edges


def test_band_misregistration_shifts_bands_but_not_the_reference():
    img = np.zeros((64, 64, 3), np.float32)
    img[28:36, 20:28] = 1.0
    t = domaug.get_transform("satellite.BandMisregistration", max_shift_px=2.0, reference_band=1)
    out = t(image=img, mask=(img[..., 0] > 0).astype(np.uint8), rng=5)
    shifts = out["applied"][0]["params"]["shifts_px"]
    assert shifts[1] == [0.0, 0.0]
    np.testing.assert_array_equal(out["image"][..., 1], img[..., 1])
    np.testing.assert_array_equal(out["mask"], (img[..., 0] > 0).astype(np.uint8))
    c0 = np.array(ndimage.center_of_mass(img[..., 0]))
    for b in (0, 2):
        moved = np.array(ndimage.center_of_mass(out["image"][..., b])) - c0
        np.testing.assert_allclose(moved, shifts[b], atol=0.05)


def test_band_misregistration_needs_bands():
    with pytest.raises(domaug.UnsupportedInputError, match="multi-band"):
        domaug.get_transform("satellite.BandMisregistration")(image=np.zeros((8, 8), np.float32))


def test_illumination_scales_ground_signal_by_sun_elevation():
    rng = np.random.default_rng(0)
    img = (500 + rng.random((64, 64, 4)) * 3000).astype(np.float32)
    t = domaug.get_transform("satellite.Illumination", sun_elevation_deg=30, source_sun_elevation_deg=60,
                             brightness_drift=0.0, offset_drift=0.0)
    out = t(image=img, rng=1)
    dark = np.array(out["applied"][0]["params"]["dark"])
    ratio = (out["image"] - dark) / (img - dark)
    np.testing.assert_allclose(ratio[np.abs(img - dark) > 100], math.sin(math.radians(30)) / math.sin(math.radians(60)),
                               rtol=1e-4)
