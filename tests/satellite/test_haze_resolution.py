"""satellite.Haze (Rayleigh + aerosol atmosphere) and satellite.ResolutionChange (Wald protocol, grid)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import domaug
from domaug.ops.fields import smooth_field
from domaug.ops.psf import mtf_sigma
from domaug_satellite import atmosphere


def _scene(h=96, w=96, bands=4, seed=1):
    f = np.stack([smooth_field((h, w), seed=seed + b, correlation_px=6) for b in range(bands)], -1)
    return np.clip(2000 + 600 * f, 1, None).astype(np.float32)


RGBN = {"band_names": ["blue", "green", "red", "nir"]}


def test_rayleigh_and_aerosol_optical_depths():
    assert atmosphere.rayleigh_tau(550) == pytest.approx(0.0973, abs=5e-4)  # Bodhaine et al. 1999
    # λ^-4 (plus the dispersion of air: ≈ λ^-4.08 in the visible)
    slope = math.log(atmosphere.rayleigh_tau(865) / atmosphere.rayleigh_tau(443)) / math.log(865 / 443)
    assert -4.2 < slope < -3.95
    assert atmosphere.rayleigh_tau(550, 800) == pytest.approx(0.0973 * 800 / 1013.25, abs=5e-4)
    assert atmosphere.aerosol_tau(440, 0.5, 1.3) == pytest.approx(0.5 * (440 / 550) ** -1.3)


def test_haze_follows_the_6s_formula_per_band():
    img = _scene().astype(np.float32) / 10000.0  # float reflectance
    t = domaug.get_transform("satellite.Haze", aod_550=0.3, angstrom=1.3, sun_elevation_deg=50, variability=0.0,
                             input_level="surface")
    out = t(image=img, meta=RGBN, rng=1)["image"]
    env = img.reshape(-1, 4).mean(0)
    for b, wl in enumerate((490, 560, 665, 842)):
        atm = atmosphere.band_atmosphere(wl, aod_550=0.3, angstrom=1.3, sun_zenith_deg=40)
        ref = np.vectorize(lambda r: atm.toa(r, env[b]))(img[::7, ::7, b].astype(np.float64))
        np.testing.assert_allclose(out[::7, ::7, b], ref, rtol=2e-5, atol=2e-6)


def test_haze_blue_loses_more_contrast_and_gains_more_path_radiance():
    img = _scene().astype(np.float32) / 10000.0
    out = domaug.get_transform("satellite.Haze", aod_550=0.5, variability=0.0)(
        image=img, meta={**RGBN, "processing_level": "L2A"}, rng=1)
    assert out["applied"][0]["params"]["input_level"] == "surface"
    contrast = out["image"].std(axis=(0, 1)) / img.std(axis=(0, 1))
    assert contrast[0] < contrast[1] < contrast[2] < contrast[3]
    assert 0.35 < contrast[0] < 0.65
    gain = out["image"] - img
    assert (gain.mean(axis=(0, 1))[:3] > 0).all() and gain[..., 0].mean() > gain[..., 2].mean()


def test_top_of_atmosphere_input_is_not_given_a_second_rayleigh_layer():
    img = _scene().astype(np.float32) / 10000.0
    kw = dict(angstrom=1.3, sun_elevation_deg=50, variability=0.0, background_aod_550=0.1)
    same = domaug.get_transform("satellite.Haze", aod_550=0.1, **kw)(image=img, meta=RGBN, rng=1)
    assert same["applied"][0]["params"]["input_level"] == "toa"
    np.testing.assert_allclose(same["image"], img, atol=2e-6)  # the atmosphere it already has: no change
    # more aerosol on TOA = back to the surface through AOD 0.1, up through AOD 0.6
    out = domaug.get_transform("satellite.Haze", aod_550=0.6, **kw)(image=img, meta=RGBN, rng=1)["image"]
    env_toa = img.reshape(-1, 4).mean(0)
    for b, wl in enumerate((490, 560, 665, 842)):
        a0 = atmosphere.band_atmosphere(wl, aod_550=0.1, angstrom=1.3, sun_zenith_deg=40)
        a1 = atmosphere.band_atmosphere(wl, aod_550=0.6, angstrom=1.3, sun_zenith_deg=40)
        env = brentq(lambda e: a0.toa(e, e) - env_toa[b], -0.5, 1.5)
        surface = brentq(lambda r: a0.toa(r, env) - float(img[5, 7, b]), -1.0, 2.0)
        assert out[5, 7, b] == pytest.approx(a1.toa(surface, env), abs=2e-5)


def test_thin_haze_path_radiance_is_rayleigh_steep_and_thick_haze_flatter():
    def slope(aod):
        wl = [482.0, 561.0, 655.0, 865.0]
        path = [atmosphere.band_atmosphere(w, aod_550=aod, angstrom=1.3, sun_zenith_deg=30).path_reflectance()
                for w in wl]
        return np.polyfit(np.log(wl), np.log(path), 1)[0]
    assert slope(0.05) < -3.0          # Rayleigh-dominated
    assert slope(0.05) + 0.5 < slope(0.8) < -1.3   # aerosol (α = 1.3) flattens the spectrum


def test_haze_refuses_bands_of_unknown_wavelength():
    img = _scene(bands=4)
    with pytest.raises(domaug.UnsupportedInputError, match="wavelengths_nm.*band_names") as refused:
        domaug.get_transform("satellite.Haze")(image=img, rng=1)
    assert "\n" not in str(refused.value)  # one line, saying how to declare them
    with pytest.raises(domaug.UnsupportedInputError, match=r"band\(s\) \[2\]"):
        domaug.get_transform("satellite.Haze")(image=img, meta={"band_names": ["blue", "green", "??", "nir"]}, rng=1)
    out = domaug.get_transform("satellite.Haze")(image=img, meta={"wavelengths_nm": [490, 560, 665, 842]}, rng=1)
    assert out["image"].shape == img.shape


def test_deprecated_koschmieder_airlight_still_works():
    img = _scene()
    with pytest.warns(DeprecationWarning):
        t = domaug.get_transform("satellite.Haze", tau_550=1.0, angstrom=0.0, variability=0.0, zenith_deg=0,
                                 airlight=0.3)
    out = t(image=img, meta={"full_scale": 10000, **RGBN}, rng=2)["image"]
    contrast = out.std(axis=(0, 1)) / img.std(axis=(0, 1))
    np.testing.assert_allclose(contrast, math.exp(-1.0), rtol=1e-3)
    t = math.exp(-1.0)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), img.mean(axis=(0, 1)) * t + 3000 * (1 - t), rtol=1e-4)


def test_haze_spatially_varies_smoothly():
    img = np.full((128, 128, 3), 40, np.uint8)
    out = domaug.get_transform("satellite.Haze", aod_550=0.8, variability=0.5)(
        image=img, meta={"band_names": ["red", "green", "blue"]}, rng=3)["image"]
    band = out[..., 2].astype(float)
    assert band.std() > 1.0
    assert np.abs(np.diff(band, axis=1)).mean() < 0.2 * band.std()


def _clear_landsat(shared_data):
    from domaug.formats import registry

    folder = shared_data / "satellite" / "landsat8_l1_cloudy"
    sample = registry.get_format("geotiff").read(sorted(folder.glob("l8_B[2345].tif")))
    qa = registry.get_format("geotiff").read([folder / "l8_BQA.tif"])["image"]
    cloud_conf = (qa >> 14) & 3  # pre-collection BQA bits 14-15: cloud confidence (3 = high)
    return sample, cloud_conf <= 1


def test_haze_on_real_landsat8_and_rgb_byte(shared_data):
    """Acceptance: AOD550 = 0.5 keeps 0.35–0.65 of blue contrast (L1 top-of-atmosphere input, so
    relative to its own clear atmosphere); thin haze path radiance steeper than λ^-2 (Rayleigh)."""
    from domaug.formats import registry

    sample, clear = _clear_landsat(shared_data)
    rgb = registry.get_format("geotiff").read([shared_data / "satellite" / "RGB.byte.tif"])
    for s, where, blue in ((sample, clear, 0), (rgb, rgb["valid"], 2)):
        out = domaug.get_transform("satellite.Haze", aod_550=0.5, variability=0.0)(**s, rng=1)
        assert out["applied"][0]["params"]["input_level"] == "toa"
        kept = out["image"][where].astype(float).std(0) / s["image"][where].astype(float).std(0)
        assert 0.35 < kept[blue] < 0.65
        assert kept[blue] == kept.min()
        thin = domaug.get_transform("satellite.Haze", aod_550=0.05)(**s, rng=1)["applied"][0]["params"]
        slope = np.polyfit(np.log(thin["wavelengths_nm"]), np.log(thin["path_reflectance"]), 1)[0]
        assert slope < -2.0
    # the haze added over the real scene's dark pixels (≈ path radiance change) falls from blue to red
    out = domaug.get_transform("satellite.Haze", aod_550=0.5, variability=0.0)(**sample, rng=1)
    added = (out["image"][clear].astype(float) - sample["image"][clear]).mean(0)
    assert added[0] > added[1] > added[2] > 0


def _geo(h=64, w=80):
    img = _scene(h, w).astype(np.uint16)
    meta = {"transform": [400000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0], "crs": "EPSG:32632"}
    return img, meta


def _bounds(t, h, w):
    x0, dx, _, y0, _, dy = t
    return x0, y0 + h * dy, x0 + w * dx, y0


@pytest.mark.parametrize("r", [2.0, 3.0, 2.5])
def test_resolution_change_grid(r):
    img, meta = _geo()
    out = domaug.get_transform("satellite.ResolutionChange", factor=r)(image=img, meta=meta, rng=1)
    h, w = out["image"].shape[:2]
    t = out["meta"]["transform"]
    assert t[1] == pytest.approx(10.0 * r) and t[5] == pytest.approx(-10.0 * r)
    assert t[0] == 400000.0 and t[3] == 5000000.0
    assert out["meta"]["crs"] == meta["crs"]
    b_in, b_out = _bounds(meta["transform"], 64, 80), _bounds(t, h, w)
    for a, b in zip(b_in, b_out):
        assert abs(a - b) <= 10.0 * r + 1e-6  # within one output pixel
    assert out["image"].dtype == np.uint16 and out["image"].shape[2] == 4


def test_resolution_change_x2_preserves_block_means():
    img = _scene(96, 96).astype(np.float32)
    out = domaug.get_transform("satellite.ResolutionChange", factor=2)(image=img, rng=1)["image"]
    block = img.reshape(48, 2, 48, 2, 4).mean(axis=(1, 3))
    # single pixels: within the contrast the sensor MTF removes; 8×8-block areas: equal
    assert np.abs(out - block)[4:-4, 4:-4].mean() < 0.05 * block.std()
    area_in = block.reshape(6, 8, 6, 8, 4).mean(axis=(1, 3))
    area_out = out.reshape(6, 8, 6, 8, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(area_out[1:-1, 1:-1], area_in[1:-1, 1:-1], rtol=1e-2)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), img.mean(axis=(0, 1)), rtol=1e-3)


def test_resolution_change_psf_matches_mtf_at_nyquist():
    # a cosine at half the new Nyquist frequency keeps the gain of the target Gaussian MTF there
    r, g = 4.0, 0.3
    sigma = mtf_sigma(r, g)
    f = 1.0 / (4 * r)  # half the new Nyquist, well sampled after decimation
    x = np.arange(512)
    img = np.tile(1000 + 500 * np.cos(2 * np.pi * f * (x + 0.5)), (16 * 4, 1)).astype(np.float64)
    out = domaug.get_transform("satellite.ResolutionChange", factor=r, gain_at_nyquist=g)(image=img, rng=0)["image"]
    row = out[4, 8:120]  # 112 output px = 28 whole periods
    xc = (np.arange(8, 120) + 0.5) * r  # output pixel centres in input coordinates
    amp = 2 * abs(np.sum((row - row.mean()) * np.exp(-2j * np.pi * f * xc))) / len(row) / 500
    expected = math.exp(-2 * math.pi**2 * sigma**2 * f**2)
    assert amp == pytest.approx(expected, abs=0.04)


def test_resolution_change_valid_masks_boxes():
    img, meta = _geo(64, 64)
    valid = np.ones((64, 64), bool)
    valid[:5, :] = False
    img[~valid] = 0
    meta = dict(meta, nodata=0)
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 3
    boxes = np.array([[8, 8, 40, 24, 7]], float)
    out = domaug.get_transform("satellite.ResolutionChange", factor=2)(
        image=img, valid=valid, mask=mask, bboxes=boxes, meta=meta, rng=1)
    exp_valid = valid.reshape(32, 2, 32, 2).all(axis=(1, 3))
    np.testing.assert_array_equal(out["valid"], exp_valid)
    assert (out["image"][~out["valid"]] == 0).all()
    assert (out["image"][out["valid"]] != 0).any(axis=-1).all()
    assert set(np.unique(out["mask"])) == {0, 3} and (out["mask"][:, 16:] == 3).all()
    np.testing.assert_allclose(out["bboxes"], [[4, 4, 20, 12, 7]])


def test_resolution_change_same_grid_keeps_grid_and_nodata():
    img, meta = _geo(64, 64)
    img[:, :6] = 0
    meta = dict(meta, nodata=0)
    out = domaug.get_transform("satellite.ResolutionChange", factor=4, same_grid=True)(image=img, meta=meta, rng=1)
    assert out["image"].shape == img.shape and out["meta"]["transform"] == meta["transform"]
    assert (out["image"][:, :6] == 0).all() and (out["image"][:, 6:] != 0).all()
    assert out["image"][:, 8:].astype(float).std() < img[:, 8:].astype(float).std()


def test_resolution_change_requantises():
    img = _scene(64, 64)
    out = domaug.get_transform("satellite.ResolutionChange", factor=2, bit_depth=6)(
        image=img / 5000.0, rng=1)["image"]
    assert len(np.unique(np.round(out * 63, 4))) <= 64
    np.testing.assert_allclose(out * 63, np.round(out * 63), atol=1e-4)


def test_resolution_change_sensor_preset_blurs_nir_more():
    img = _scene(64, 64)
    meta = {"band_names": ["blue", "green", "red", "nir"]}
    out = domaug.get_transform("satellite.ResolutionChange", factor=2, gain_at_nyquist="quickbird")(
        image=img, meta=meta, rng=1)
    assert out["applied"][0]["params"]["gain_at_nyquist"] == [0.34, 0.32, 0.30, 0.22]
    with pytest.raises(domaug.ParameterError, match="gain_at_nyquist"):
        domaug.get_transform("satellite.ResolutionChange", gain_at_nyquist="hubble")


def test_haze_dark_object_airlight_is_brighter_than_the_dark_object():
    img = _scene()
    with pytest.warns(DeprecationWarning, match="airlight"):
        t = domaug.get_transform("satellite.Haze", airlight="dark_object", aod_550=0.3)
    p = t(image=img, meta={"full_scale": 10000, **RGBN}, rng=1)["applied"][0]["params"]
    dark = np.percentile(img.reshape(-1, 4), 0.5, axis=0)
    assert all(a > d for a, d in zip(p["airlight"], dark))
    assert all(a <= 10000 for a in p["airlight"])


def test_resolution_change_adds_sensor_noise_in_reflectance_units():
    img = np.full((128, 128, 2), 0.3, np.float32)
    out = domaug.get_transform("satellite.ResolutionChange", factor=2, noise_std=0.01)(image=img, rng=1)["image"]
    assert out.shape == (64, 64, 2)
    assert out.std() == pytest.approx(0.01, rel=0.05) and out.mean() == pytest.approx(0.3, abs=1e-3)


@pytest.mark.parametrize("shape,factor", [((1, 1), 3.0), ((1, 5, 1), 2.0), ((2, 2, 3), 4.0), ((3, 7, 4), 4.0),
                                          ((2, 9, 4), 2.5)])
def test_resolution_change_factor_larger_than_a_side(shape, factor):
    """A side shorter than r gives one output pixel covering r input pixels (mean of the side)."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0.1, 0.5, shape).astype(np.float32)
    meta = {"transform": [400000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0], "crs": "EPSG:32632"}
    mask = (rng.random(shape[:2]) > 0.5).astype(np.uint8)
    valid = np.ones(shape[:2], bool)
    boxes = np.array([[0.0, 0.0, shape[1], shape[0], 1]])
    t = domaug.get_transform("satellite.ResolutionChange", factor=factor)
    out = t(image=img, mask=mask, valid=valid, bboxes=boxes, meta=meta, rng=1)
    h, w = out["image"].shape[:2]
    assert (h, w) == (max(1, int(shape[0] // factor)), max(1, int(shape[1] // factor)))
    assert out["mask"].shape == out["valid"].shape == (h, w)
    assert out["meta"]["transform"][1] == pytest.approx(10.0 * factor)
    assert out["meta"]["transform"][0] == 400000.0 and out["meta"]["transform"][3] == 5000000.0
    assert np.isfinite(out["image"]).all() and out["image"].dtype == np.float32
    if shape[0] < factor and shape[1] < factor:  # one pixel: the MTF blur keeps the mean
        np.testing.assert_allclose(out["image"].reshape(-1, img.size // (shape[0] * shape[1])).mean(0)
                                   if img.ndim == 3 else out["image"].ravel(),
                                   img.reshape(shape[0] * shape[1], -1).mean(0), rtol=1e-4)
    b = out["bboxes"]
    # boxes end up < 1 output pixel here and are dropped (geometry min_size); none outside
    assert (b[:, [0, 2]] <= w).all() and (b[:, [1, 3]] <= h).all()
